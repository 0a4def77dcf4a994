"""dbt build of the marts over a tiny lake written here (Hive layout, POST_SCHEMA Parquet)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt_lake import post, write_lake

from discourse.settings import load_settings
from discourse.transform import TransformError, build_marts
from ingest.schema import QUARANTINE_SCHEMA

pytestmark = pytest.mark.integration

OLD = datetime(2026, 2, 21, 1, 0, tzinfo=UTC)
NEW = datetime(2026, 2, 22, 1, 0, tzinfo=UTC)

POSTS = [
    # The same post exported twice: the newer batch wins.
    post("dup", "versi lama dari postingan ini", batch_id="batch-a", ingested_at=OLD),
    post("dup", "Versi baru: pelayanan kurir ini cepat dan ramah", batch_id="batch-b", ingested_at=NEW),
    # Same ingest time in two batches: the greater batch_id wins.
    post("tie", "salinan pertama", batch_id="batch-a", ingested_at=NEW),
    post("tie", "salinan kedua", batch_id="batch-c", ingested_at=NEW),
    post("id_neg", "Pelayanannya tidak bagus, saya kecewa banget sama kurirnya"),
    post(
        "en_pos",
        "Really great service, the delivery was fast and the staff were friendly :)",
        platform="reddit",
    ),
    post(
        "mixed",
        "Personal branding itu penting banget buat karier, literally harus mulai dari LinkedIn",
        platform="bluesky",
    ),
    post("declared_in", "Timnas main bagus banget semalam, mantap!", lang_declared="in"),
    post("contrast", "Makanannya enak tapi mahal banget dan pelayanannya lambat", platform="mastodon"),
    post(
        "hoax",
        "BREAKING!!! Sebarkan sebelum dihapus: vaksin berbahaya, dokter tidak mau anda tahu",
        links=["https://www.infowars.com/vaccine-truth", "https://bit.ly/3xYz"],
        platform="telegram",
    ),
    post(
        "debunk",
        "Ini hoaks, jangan disebarkan. Cek fakta lengkapnya di turnbackhoax.id",
        links=["https://turnbackhoax.id/2026/02/20/salah-vaksin/"],
    ),
    post("emoji_only", "😍😍🔥", platform="mastodon"),
    post(
        "careers",
        "Recruiter sekarang cek media sosial kandidat sebelum interview kerja",
        created_at=datetime(2026, 2, 19, 23, 30, tzinfo=UTC),
    ),
]


def _settings(home: Path):
    return load_settings(env={}, home=home)


def _write_quarantine(settings) -> None:
    path = settings.quarantine_dir / "platform=x" / "batch-a.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(
        [
            {
                "source_file": "batch-a.jsonl",
                "source_record": 7,
                "raw": "{not json",
                "error": "invalid JSON",
                "platform": "x",
                "export_format": "test",
                "batch_id": "batch-a",
                "ingested_at": OLD,
            },
        ],
        schema=QUARANTINE_SCHEMA,
    )
    pq.write_table(table, path)


def _write_manifest(settings, batch_id: str, loaded: int) -> None:
    settings.manifest_dir.mkdir(parents=True, exist_ok=True)
    entry = {
        "batch_id": batch_id,
        "source_file": f"{batch_id}.jsonl",
        "export_format": "test",
        "platform": "x",
        "records_in": loaded + 1,
        "loaded": loaded,
        "quarantined": 1,
        "duplicates_within_batch": 0,
        "skipped": {"api_error": 2},
        "skipped_total": 2,
        "ingested_at": OLD.isoformat(),
        "some_future_field": [1, 2],
    }
    (settings.manifest_dir / f"{batch_id}.json").write_text(json.dumps(entry), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    settings = _settings(home)
    write_lake(settings.posts_dir, POSTS)
    _write_quarantine(settings)
    _write_manifest(settings, "batch-a", 12)
    _write_manifest(settings, "batch-b", 1)
    summary = build_marts(settings, unit_tests=True)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    rows = con.execute("select * from marts.posts").fetchall()
    cols = [d[0] for d in con.execute("select * from marts.posts limit 0").description]
    posts = {r[cols.index("post_id")]: dict(zip(cols, r, strict=True)) for r in rows}
    yield settings, summary, con, posts
    con.close()


def test_build_ran_every_test_and_unit_test(built):
    _, summary, _, _ = built
    assert summary["success"]
    assert summary["failures"] == []
    by_type = summary["by_type"]
    assert by_type["unit_test"] == {"pass": by_type["unit_test"]["pass"]}
    assert by_type["unit_test"]["pass"] >= 9
    assert by_type["test"] == {"pass": by_type["test"]["pass"]}
    assert by_type["test"]["pass"] > 100
    assert set(by_type["model"]) == {"success"} and by_type["model"]["success"] >= 27
    assert summary["reference"]["vader_lexicon"]["rows"] > 7000


def test_nothing_written_into_the_repo(built):
    settings, summary, _, _ = built
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    assert not (project / "target").exists()
    assert not (project / "logs").exists()
    assert (Path(settings.home) / "dbt" / "target" / "run_results.json").is_file()


def test_one_row_per_post_and_newest_copy_wins(built):
    _, _, con, posts = built
    distinct = len({p["post_uid"] for p in POSTS})
    assert con.execute("select count(*), count(distinct post_uid) from marts.posts").fetchone() == (
        distinct,
        distinct,
    )
    assert posts["dup"]["batch_id"] == "batch-b"
    assert posts["dup"]["text"].startswith("Versi baru")
    assert posts["tie"]["batch_id"] == "batch-c"
    assert "raw" not in posts["dup"]


def test_schema_and_partition_columns(built):
    _, _, con, posts = built
    schemas = {
        r[0]
        for r in con.execute(
            "select distinct table_schema from information_schema.tables "
            "where table_name in ('posts', 'topics')"
        ).fetchall()
    }
    assert schemas == {"marts"}
    # created_date comes from the partition (UTC date), platform from the partition too
    assert str(posts["careers"]["created_date"]) == "2026-02-19"
    assert posts["en_pos"]["platform"] == "reddit"
    assert con.execute("select count(*) from marts.topics where topic_id = 'other'").fetchone() == (1,)


def test_languages(built):
    _, _, _, posts = built
    assert posts["id_neg"]["lang"] == "id"
    assert posts["en_pos"]["lang"] == "en"
    assert posts["mixed"]["lang"] == "mixed"
    assert posts["declared_in"]["lang"] == "id"
    assert posts["declared_in"]["lang_method"] == "declared"
    assert posts["emoji_only"]["lang"] == "und"
    assert posts["id_neg"]["lang_method"] in ("detected", "markers")


def test_sentiment(built):
    _, _, _, posts = built
    assert posts["id_neg"]["sentiment_label"] == "negative"
    assert any(t.startswith("tidak bagus:-") for t in posts["id_neg"]["sentiment_terms"])
    assert posts["en_pos"]["sentiment_label"] == "positive"
    assert posts["declared_in"]["sentiment_label"] == "positive"
    assert posts["contrast"]["sentiment_label"] == "negative"
    assert posts["emoji_only"]["sentiment_label"] == "positive"
    assert posts["dup"]["sentiment_score"] > 0
    for p in posts.values():
        assert -1 <= p["sentiment_score"] <= 1


def test_topics(built):
    _, _, _, posts = built
    assert posts["mixed"]["primary_topic"] == "personal_branding"
    assert "careers_jobs" in posts["mixed"]["topics"]
    assert posts["careers"]["primary_topic"] == "careers_jobs"
    assert posts["declared_in"]["primary_topic"] == "sports"
    assert "misinformation" in posts["debunk"]["topics"]
    assert posts["emoji_only"]["primary_topic"] == "other"
    assert posts["emoji_only"]["topics"] == []
    assert any(t.startswith("personal_branding:") for t in posts["mixed"]["topic_terms"])


def test_misinformation_risk(built):
    _, _, _, posts = built
    hoax = posts["hoax"]
    assert hoax["misinfo_risk_level"] == "high"
    assert hoax["misinfo_risk_score"] > max(p["misinfo_risk_score"] for k, p in posts.items() if k != "hoax")
    reasons = " | ".join(hoax["misinfo_reasons"])
    assert "sebarkan sebelum dihapus" in reasons
    assert "infowars.com" in reasons and "project curation" in reasons
    assert "bit.ly" in reasons
    assert hoax["link_domains"] == ["bit.ly", "infowars.com"]
    debunk = posts["debunk"]
    assert debunk["misinfo_risk_level"] == "low"
    assert debunk["misinfo_reasons"] == []
    assert posts["id_neg"]["misinfo_risk_score"] == 0


def test_staging_reads_quarantine_and_manifest(built):
    _, _, con, _ = built
    assert con.execute("select count(*) from staging.stg_lake__quarantine").fetchone() == (1,)
    got = con.execute(
        "select batch_id, records_in, loaded from staging.stg_lake__batches order by batch_id"
    ).fetchall()
    assert got == [("batch-a", 13, 12), ("batch-b", 2, 1)]


def test_empty_lake_builds_empty_marts(tmp_path):
    settings = _settings(tmp_path / "empty")
    summary = build_marts(settings)
    assert summary["success"]
    assert "unit_test" not in summary["by_type"]  # the nightly build leaves the SQL's unit tests out
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone() == (0,)
        assert con.execute("select count(*) from marts.topics").fetchone()[0] > 10
    finally:
        con.close()


def test_failing_test_raises_transform_error_naming_the_node(tmp_path):
    settings = _settings(tmp_path / "bad")
    write_lake(settings.posts_dir, [post("1", "halo", kind="status_update")])
    with pytest.raises(TransformError) as err:
        build_marts(settings, select="stg_lake__posts")
    assert "accepted_values_stg_lake__posts_kind" in str(err.value)
    assert err.value.summary["failures"]


def test_unit_tests_run_on_an_empty_build(tmp_path):
    """The SQL's unit tests run without data (``--empty``), as CI runs them; the nightly build skips
    them (``build_marts`` excludes ``unit_test``)."""
    from discourse.transform import run_unit_tests

    settings = _settings(tmp_path / "home")
    summary = run_unit_tests(settings)
    assert summary["success"] and summary["failures"] == []
    assert summary["by_type"]["unit_test"] == {"pass": summary["by_type"]["unit_test"]["pass"]}
    assert summary["by_type"]["unit_test"]["pass"] >= 19

