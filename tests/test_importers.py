"""Domain-list and claims importers (discourse.transform.importers) and the stopword table."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from discourse.settings import load_settings
from discourse.transform.importers import (
    CLAIMS_FILE,
    DOMAINS_FILE,
    IFFY_RATING,
    ReferenceImportError,
    import_claims,
    import_domains,
    registered_domain,
)
from discourse.transform.stopwords import stopword_table

FIXTURES = Path(__file__).parent / "fixtures" / "reference"


@pytest.fixture
def settings(tmp_path):
    return load_settings(env={}, home=tmp_path / "home")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _domains(settings) -> dict[tuple[str, str], dict]:
    rows = pq.read_table(Path(settings.reference_dir) / DOMAINS_FILE).to_pylist()
    return {(r["domain"], r["source"]): r for r in rows}


def test_registered_domain_offline(no_network):
    assert registered_domain("https://www.bbc.co.uk/news/x") == ("bbc.co.uk", "/news/x")
    assert registered_domain("news.detik.com")[0] == "detik.com"
    # Private suffixes count: every blogspot blog is a site of its own.
    assert registered_domain("beritaviral-terkini.blogspot.com")[0] == "beritaviral-terkini.blogspot.com"
    assert registered_domain("nhs.uk")[0] == "nhs.uk"
    assert registered_domain("203.0.113.7")[0] == "203.0.113.7"
    assert registered_domain("localhost")[0] is None


def test_import_pc1(settings, no_network):
    n = import_domains(settings, FIXTURES / "domain_pc1_sample.csv", "pc1")
    rows = _domains(settings)
    source = "domain quality PC1 (domain_pc1_sample.csv)"
    assert n == len(rows) == 7
    assert rows[("reuters.com", source)]["rating"] == 1.0
    assert rows[("reuters.com", source)]["label"] == "credible_news"
    # www.example-news.co.uk and example-news.co.uk are one site: averaged.
    assert rows[("example-news.co.uk", source)]["rating"] == pytest.approx(0.7)
    assert rows[("thejournal.blogspot.com", source)]["label"] == "credible_news"
    assert rows[("kabarheboh-terkini.xyz", source)]["label"] == "low_credibility"
    assert rows[("nhs.uk", source)]["rating"] == 0.9
    assert ("rfi.fr", source) not in rows
    sidecar = json.loads((Path(settings.reference_dir) / "domains_extra.import.json").read_text())
    assert sidecar["skipped"] == [
        {"line": 7, "value": "rfi.fr/en", "reason": "rating scoped to a path, not a whole site"}
    ]


def test_import_iffy_then_pc1_accumulate_and_reimport_replaces(settings, no_network):
    assert import_domains(settings, FIXTURES / "iffy_sample.txt", "iffy") == 4
    assert import_domains(settings, FIXTURES / "domain_pc1_sample.csv", "pc1") == 7
    rows = _domains(settings)
    iffy = "Iffy+ unreliable sites (iffy_sample.txt)"
    assert {d for d, s in rows if s == iffy} == {
        "100percentfedup.com",
        "breakingnews247.net",
        "dailymail.co.uk",
        "russia-insider.com",
    }
    assert all(
        r["rating"] == IFFY_RATING and r["label"] == "low_credibility"
        for r in rows.values()
        if r["source"] == iffy
    )
    assert len(rows) == 11
    # The same list again under the same name replaces its rows instead of adding to them.
    assert import_domains(settings, FIXTURES / "iffy_sample.txt", "iffy") == 4
    assert len(_domains(settings)) == 11


def test_import_csv_labels_and_sources(settings):
    assert import_domains(settings, FIXTURES / "ratings.csv", "csv", source="watchlist") == 2
    rows = _domains(settings)
    assert rows[("portalbocoran.top", "newsroom watchlist")]["label"] == "fabricated"
    assert rows[("infoviral24.site", "watchlist")] == {
        "domain": "infoviral24.site",
        "rating": 0.2,
        "label": "low_credibility",
        "source": "watchlist",
    }


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ("domain,pc1\nexample.com,1.5\n", "pc1", ":2: rating '1.5' is outside 0..1"),
        ("domain,pc1\nexample.com,abc\n", "pc1", "rating 'abc' is not a number"),
        ("domain,score\nexample.com,0.5\n", "pc1", "lacks column(s) ['pc1']"),
        ("domain,rating\nlocalhost,0.5\n", "csv", "'localhost' has no registered domain"),
        ("domain,rating\n,0.5\n", "csv", ":2: empty domain"),
        ("", "iffy", "no domain ratings found"),
    ],
)
def test_bad_domain_lists_fail_clearly_and_write_nothing(settings, tmp_path, content, fmt, message):
    path = tmp_path / "list.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(
        ReferenceImportError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        import_domains(settings, path, fmt)
    assert not (Path(settings.reference_dir) / DOMAINS_FILE).exists()


def test_unknown_format_and_missing_file(settings, tmp_path):
    with pytest.raises(ReferenceImportError, match="unknown domain list format 'mbfc'"):
        import_domains(settings, FIXTURES / "ratings.csv", "mbfc")
    with pytest.raises(ReferenceImportError, match="no such file"):
        import_domains(settings, tmp_path / "absent.csv", "csv")


def test_import_claims_csv_and_jsonl(settings):
    assert import_claims(settings, FIXTURES / "claims.csv") == 2
    assert import_claims(settings, FIXTURES / "claims.jsonl") == 2
    rows = {r["claim_id"]: r for r in pq.read_table(Path(settings.reference_dir) / CLAIMS_FILE).to_pylist()}
    assert set(rows) == {"imp-001", "imp-002", "imp-010", "imp-011"}
    assert rows["imp-001"]["published_date"] == date(2026, 11, 10)
    assert rows["imp-001"]["source_url"] == "https://example.org/cek/tokokita"
    assert rows["imp-002"]["source_name"] == "claims.csv"
    assert rows["imp-002"]["source_url"] is None
    assert rows["imp-011"]["verdict"] == "misleading"
    # Importing a claim id again replaces it.
    again = FIXTURES.parent / "reference" / "claims.csv"
    assert import_claims(settings, again) == 2
    assert len(pq.read_table(Path(settings.reference_dir) / CLAIMS_FILE)) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("claim_id,claim_text,verdict,language\nc1,some claim,wrong,id\n", ":2: verdict 'wrong'"),
        ("claim_id,claim_text,verdict,language\nc1,,false,id\n", "claim 'c1' has no claim_text"),
        ("claim_id,claim_text,verdict,language\nc1,x,false,indonesian\n", "language 'indonesian'"),
        (
            "claim_id,claim_text,verdict,language\nc1,x,false,id\nc1,y,false,id\n",
            ":3: claim_id 'c1' appears twice",
        ),
        ("claim_id,claim_text,verdict,language,published_date\nc1,x,false,id,10/11/2026\n", "not YYYY-MM-DD"),
        ("claim_id,text\nc1,x\n", "lacks column(s)"),
    ],
)
def test_bad_claims_fail_clearly_and_write_nothing(settings, tmp_path, content, message):
    path = tmp_path / "claims.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReferenceImportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_claims(settings, path)
    assert not (Path(settings.reference_dir) / CLAIMS_FILE).exists()


def test_bad_claims_jsonl_line(settings, tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text('{"claim_id": "a", "claim_text": "x", "verdict": "false", "language": "en"}\n{oops\n')
    with pytest.raises(ReferenceImportError, match=r"claims.jsonl:2: invalid JSON"):
        import_claims(settings, path)


def test_stopwords_from_package():
    table = stopword_table()
    rows = set(zip(table["term"].to_pylist(), table["lang"].to_pylist(), strict=True))
    assert {("dan", "id"), ("yang", "id"), ("the", "en"), ("don't", "en")} <= rows
    assert all(t == t.lower() and " " not in t for t, _ in rows)
    assert len([1 for _, lang in rows if lang == "id"]) > 300
