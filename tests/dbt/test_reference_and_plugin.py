"""Reference data preparation and the language-ID plugin, without dbt."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest

from discourse.transform import dbt_plugin
from discourse.transform.reference import (
    ReferenceError,
    parse_vader_emoji,
    parse_vader_lexicon,
    prepare_reference,
)


def test_prepare_reference_writes_vader_lexicon_once(settings):
    first = prepare_reference(settings)
    lexicon = first["vader_lexicon"]
    assert lexicon["status"] == "written"
    assert lexicon["rows"] > 7000
    table = pq.read_table(lexicon["path"]).to_pydict()
    weights = dict(zip(table["term"], table["weight"], strict=True))
    assert weights["good"] == pytest.approx(1.9)
    assert weights[":("] < 0
    assert first["vader_emoji"]["rows"] > 3000
    again = prepare_reference(settings)
    assert again["vader_lexicon"]["status"] == "unchanged"
    assert again["vader_emoji"]["status"] == "unchanged"
    assert not list(settings.reference_dir.glob(".*.tmp"))


def test_prepare_reference_rewrites_a_damaged_file(settings):
    info = prepare_reference(settings)["vader_lexicon"]
    sidecar = settings.reference_dir / "vader_lexicon.parquet.sha256"
    sidecar.write_text("stale\n")
    assert prepare_reference(settings)["vader_lexicon"]["status"] == "written"
    assert pq.read_table(info["path"]).num_rows == info["rows"]


def test_malformed_lexicon_lines_are_reported():
    with pytest.raises(ReferenceError, match="line 2"):
        parse_vader_lexicon("good\t1.9\t0.9\t[2]\nbad\tnot-a-number\t1\t[]\n")
    with pytest.raises(ReferenceError, match="line 1"):
        parse_vader_emoji("😀\n")


def test_detect_languages_top_two_with_scores():
    got = dbt_plugin.detect_languages(
        ["saya suka makan nasi goreng di warung dekat rumah", "the weather is lovely today", None, "   "]
    )
    assert got[0]["lang"] == "id" and 0 < got[0]["score"] <= 1
    assert got[0]["alt_lang"] and got[0]["alt_score"] <= got[0]["score"]
    assert got[1]["lang"] == "en"
    assert got[2] is None and got[3] is None


def test_registered_udf_is_vectorised_and_visible_to_cursors():
    con = duckdb.connect()
    try:
        dbt_plugin.register(con)
        cur = con.cursor()
        rows = cur.execute(
            "select t, detect_lang(t).lang from (values ('ini adalah kalimat bahasa indonesia'), "
            "('this is an english sentence'), (null)) v(t) order by t nulls last"
        ).fetchall()
        assert rows == [
            ("ini adalah kalimat bahasa indonesia", "id"),
            ("this is an english sentence", "en"),
            (None, None),
        ]
        n = cur.execute("select count(detect_lang('kalimat nomor ' || i)) from range(5000) r(i)").fetchone()[
            0
        ]
        assert n == 5000
    finally:
        con.close()
