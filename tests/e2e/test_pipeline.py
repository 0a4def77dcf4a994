"""End to end: generated exports → `discourse run` → gated, published marts, through the real stack
(adapters, lake writer, GX, dbt on DuckDB, publish, report)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from servers import HttpReceiver

from discourse.cli import main as cli_main
from discourse.pipeline import run
from discourse.settings import load_settings
from synth import generate

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("e2e") / "home"
    truth = generate(home / "inbox" / "gen", posts=4000, seed=11, days=10)
    with HttpReceiver() as hook:
        s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "e2e-key",
                               "DISCOURSE_ALERT_WEBHOOK_URL": hook.url})
        summary = run(s)
        alerts = list(hook.requests)
    return s, truth, summary, alerts


def test_run_publishes(nightly):
    s, truth, summary, alerts = nightly
    assert summary.get("failed") is None, summary.get("failed")
    assert summary["published"] is True
    assert s.warehouse.exists() and s.build_warehouse.exists()  # the build persists (incremental)
    for stage in ("raw", "marts"):
        assert summary["gates"][stage]["success"] is True
    # Nothing blocking happened, so no error alert went out (warnings may: the generator's planted
    # format drift, or a day whose volume the plants lift).
    bodies = [a.body.decode(errors="replace") for a in alerts]
    assert not [b for b in bodies if "[discourse] ERROR" in b]
    assert all("[discourse] WARNING" in b for b in bodies)


def test_every_record_accounted_for(nightly):
    s, truth, summary, _ = nightly
    by_name = {Path(r["path"]).name: r for r in summary["ingest"]}
    assert set(by_name) == set(truth["files"])
    for name, ft in truth["files"].items():
        r = by_name[name]
        assert r["loaded"] == ft["valid_posts"], name
        assert r["quarantined"] == ft["malformed"], name
        assert r["skipped_total"] == ft["skipped_total"], name
        assert r["records_in"] == r["loaded"] + r["quarantined"] + r["duplicates_within_batch"]


def test_marts_posts_row_count_equals_loaded_posts(nightly):
    s, truth, summary, _ = nightly
    loaded = sum(r["loaded"] for r in summary["ingest"])
    assert loaded == truth["totals"]["valid_posts"]
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        n, distinct = con.execute(
            "select count(*), count(distinct post_uid) from marts.posts").fetchone()
        per_platform = dict(con.execute(
            "select platform, count(*) from marts.posts group by 1").fetchall())
    finally:
        con.close()
    assert n == distinct == loaded
    assert per_platform == {p: c for p, c in truth["totals"]["by_platform"].items() if c}


def test_quarantine_holds_the_planted_malformed_records(nightly):
    s, truth, _, _ = nightly
    # Positions as the adapters report them: Telegram message index, CSV data row, JSONL line.
    planted = {(name, m.get("record", m.get("row", m.get("line"))))
               for name, ft in truth["files"].items() for m in ft["malformed_records"]}
    assert planted, "the generator plants malformed records"
    con = duckdb.connect()
    rows = con.execute(
        "select source_file, source_record, error from read_parquet(?, union_by_name = true)",
        [str(s.quarantine_dir / "**" / "*.parquet")]).fetchall()
    got = {(Path(f).name, rec) for f, rec, _ in rows}
    assert got == planted
    assert all(err for _, _, err in rows)


def test_planted_hoax_campaign_scores_higher_risk(nightly):
    s, truth, _, _ = nightly
    uids = truth["planted"]["campaign"]["post_uids"]
    assert len(uids) >= 30
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        con.execute("create temp table c as select unnest(?::varchar[]) as post_uid", [uids])
        camp_min, camp_avg, n_camp = con.execute(
            "select min(misinfo_risk_score), avg(misinfo_risk_score), count(*) "
            "from marts.posts join c using (post_uid)").fetchone()
        rest_avg, rest_p90 = con.execute(
            "select avg(misinfo_risk_score), quantile_cont(misinfo_risk_score, 0.9) from marts.posts "
            "where post_uid not in (select post_uid from c)").fetchone()
        reasons = con.execute(
            "select misinfo_reasons from marts.posts join c using (post_uid) limit 1").fetchone()[0]
    finally:
        con.close()
    assert n_camp == len(uids)
    assert camp_avg > rest_avg
    assert camp_min > rest_p90
    assert reasons, "risk must be explained"


def test_report_and_data_docs(nightly):
    s, _, summary, _ = nightly
    report = Path(summary["report"])
    assert report.exists() and (s.reports_dir / "latest.html").exists()
    body = report.read_text()
    assert "data:image/png;base64," in body and "Posts per platform" in body
    assert "Coordinated clusters" in body and "Topic spikes" in body
    # what maintainers were told: the planted drifted file's alert, and per-format ingest accounting
    assert "Data-quality alerts" in body and "Export format drift: x_v2" in body
    assert "Ingest by export format" in body and "api_error" in body
    assert (s.data_docs_dir / "index.html").exists()


def test_second_run_finds_nothing_new_and_keeps_marts(nightly, capsys):
    s, _, summary, _ = nightly
    rc = cli_main(["--home", str(s.home), "run", "--json", str(s.home / "second.json")])
    out = capsys.readouterr().out
    assert rc == 0, out
    second = json.loads((s.home / "second.json").read_text())
    assert second["ingest"] == []
    assert "0 new file(s)" in out and "marts.posts" in out and "data docs:" in out
    # Nothing the marts depend on changed: no gate, no build, no publish; the marts stay as they were.
    assert second["nothing_new"] is True and second["published_run_id"] == summary["run_id"]
    assert not {"raw gate", "dbt build", "publish"} & set(second["steps"])
    assert "nothing new since run" in out


def test_a_reference_change_rebuilds_the_marts(nightly):
    """Imported claims change what the marts say, so the next night builds and publishes again."""
    from discourse.transform.importers import import_claims

    s, _, summary, _ = nightly
    claims = s.home / "claims.csv"
    claims.write_text("claim_id,claim_text,verdict,language,source_name\n"
                      "t1,vaksin mengandung chip pelacak,false,id,Test desk\n", encoding="utf-8")
    import_claims(s, claims)
    third = run(s)
    assert not third.get("nothing_new") and third["published"] is True, third.get("failed")
    assert "dbt build" in third["steps"]
