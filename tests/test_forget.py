"""``discourse forget`` and the retention rule (docs/security.md, "Erasure and retention"), and the
scrubbed run records."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from discourse.cli import main
from discourse.forget import ForgetError, forget, parse_author, retention_cutoff
from discourse.pipeline import write_run_record
from discourse.settings import load_settings
from ingest.lake import Pseudonymiser, ingest_file, read_manifests
from synth import generate

KEY = "forget-test-key-0123456789abcdef0123456789"


def _settings(home: Path, **env: str):
    return load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY, **env})


def _x_authors(inbox: Path) -> Counter:
    """X v2 author ids by their number of posts, and their handles, from the export files."""
    counts: Counter = Counter()
    for path in sorted(inbox.glob("x_v2_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                page = json.loads(line)
            except ValueError:
                continue
            for tweet in page.get("data") or []:
                if isinstance(tweet, dict) and tweet.get("author_id"):
                    counts[str(tweet["author_id"])] += 1
    return counts


def _x_handle(inbox: Path, author_id: str) -> str:
    for path in sorted(inbox.glob("x_v2_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                page = json.loads(line)
            except ValueError:
                continue
            for user in (page.get("includes") or {}).get("users") or []:
                if str(user.get("id")) == author_id and user.get("username"):
                    return user["username"]
    raise AssertionError(f"no handle for {author_id}")


def _lake_posts(settings) -> list[dict]:
    files = sorted(str(p) for p in settings.posts_dir.rglob("*.parquet"))
    if not files:
        return []
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    con = duckdb.connect()
    try:
        return con.sql("select post_uid, author_key, created_at, raw from "
                       f"read_parquet({listed}, union_by_name = true)").to_arrow_table().to_pylist()
    finally:
        con.close()


def _assert_accounting(settings) -> None:
    """Every manifest: records_in = loaded + quarantined + duplicates, loaded = its posts files' rows,
    and the forgotten totals added back give what was first ingested."""
    for m in read_manifests(settings.manifest_dir):
        assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"], m["batch_id"]
        rows = sum(pq.read_metadata(settings.lake / f).num_rows for f in m["files"] if f.startswith("posts/"))
        assert rows == m["loaded"], m["batch_id"]
        qrows = sum(pq.read_metadata(settings.lake / f).num_rows
                    for f in m["files"] if f.startswith("quarantine/"))
        assert qrows == m["quarantined"], m["batch_id"]
        for f in m["files"]:
            assert (settings.lake / f).exists(), f


@pytest.fixture
def lake(tmp_path: Path):
    """A lake of generated X v2, Reddit, generic and Bluesky exports (ingested, no build)."""
    home = tmp_path / "home"
    generate(home / "inbox", posts=800, seed=5, days=6, formats=["x_v2", "reddit", "generic", "bluesky"])
    s = _settings(home)
    for path in sorted((home / "inbox").iterdir()):
        if not path.name.startswith(("_", ".")):
            ingest_file(s, path)
    return s


def test_parse_author():
    assert parse_author("x:12345") == ("x", "12345", None)
    assert parse_author("x:@Some_Name") == ("x", None, "some_name")
    assert parse_author("@Some_Name") == (None, None, "some_name")
    for bad in ("12345", "nowhere:1", "x:", "@"):
        with pytest.raises(ForgetError):
            parse_author(bad)


def test_forget_author_by_id_leaves_no_row_and_whole_accounting(lake):
    s = lake
    inbox = Path(s.home) / "inbox"
    author_id, n_posts = _x_authors(inbox).most_common(1)[0]
    key = Pseudonymiser(KEY).key_for(f"x:{author_id}")
    before = _lake_posts(s)
    theirs = [p for p in before if p["author_key"] == key]
    assert theirs, "the author has posts in the lake"
    audit = forget(s, author=f"x:{author_id}")
    after = _lake_posts(s)
    assert not [p for p in after if p["author_key"] == key]
    assert len(after) == len(before) - len(theirs)
    assert audit["posts"] == len(theirs)
    _assert_accounting(s)
    forgotten = sum((m.get("forgotten") or {}).get("posts", 0) for m in read_manifests(s.manifest_dir))
    assert forgotten == len(theirs)
    # The audit record holds no identity: neither the id, nor the handle, nor the key itself.
    [record] = list((Path(s.home) / "forget").glob("*.json"))
    text = record.read_text()
    handle = _x_handle(inbox, author_id)
    assert author_id not in text and handle.lower() not in text.lower() and key not in text
    assert json.loads(text)["author_key_sha256"] and json.loads(text)["posts"] == len(theirs)
    # Without --inbox the exports stay (and the audit says so); a second forget finds nothing.
    assert audit["inbox_files_still_holding"] >= 1 and all((inbox / p).exists() for p in ("x_v2_001.jsonl",))
    again = forget(s, author=f"x:{author_id}")
    assert again["posts"] == 0 and again["batches"] == []


def test_forget_author_by_handle_resolves_through_the_adapters(lake):
    s = lake
    inbox = Path(s.home) / "inbox"
    author_id, _ = _x_authors(inbox).most_common(2)[1]
    handle = _x_handle(inbox, author_id)
    key = Pseudonymiser(KEY).key_for(f"x:{author_id}")
    n = sum(1 for p in _lake_posts(s) if p["author_key"] == key)
    assert n > 0
    audit = forget(s, author=f"x:@{handle.upper()}", inbox=True)
    assert audit["posts"] == n and audit["accounts_matched"] == 1
    assert not [p for p in _lake_posts(s) if p["author_key"] == key]
    # --inbox: the exports that held the author's records are gone; the others stay.
    assert audit["inbox_files_removed"] >= 1
    assert (inbox / "generic_001.csv").exists()
    # ... and the next run does not ingest them again (nothing new in the inbox).
    from discourse.pipeline import list_new_files

    assert list_new_files(s) == []
    _assert_accounting(s)
    # Nor do the contexts keep their account (an X page's includes.users entry) or their tweets
    # (includes.tweets); other accounts' replies to them keep pointing at them, as their posts do.
    for ctx in (s.lake / "context").glob("*.parquet"):
        text = str(pq.read_table(ctx).column("context").to_pylist())
        assert f'"author_id":"{author_id}"' not in text.replace(" ", "")
        assert f'"id":"{author_id}"' not in text.replace(" ", "")
        assert f'"username":"{handle}"' not in text.replace(" ", "")


def test_forget_post_and_before(lake):
    s = lake
    posts = _lake_posts(s)
    uid = posts[0]["post_uid"]
    audit = forget(s, post=uid)
    assert audit["posts"] == 1
    assert uid not in {p["post_uid"] for p in _lake_posts(s)}
    cutoff = sorted(p["created_at"] for p in posts)[len(posts) // 2].date()
    audit = forget(s, before=cutoff)
    left = _lake_posts(s)
    assert audit["posts"] > 0 and left
    assert min(p["created_at"].date() for p in left) >= cutoff
    _assert_accounting(s)


def test_forget_rewrites_rejected_batches_and_quarantine(lake):
    """A batch set aside under lake/_rejected/ is scrubbed too, and quarantined records whose raw
    names the account go."""
    from discourse.pipeline import reject_batches

    s = lake
    inbox = Path(s.home) / "inbox"
    author_id, _ = _x_authors(inbox).most_common(1)[0]
    key = Pseudonymiser(KEY).key_for(f"x:{author_id}")
    x_batches = [m for m in read_manifests(s.manifest_dir) if m["export_format"] == "x_v2"]
    reject_batches(s, [x_batches[0]["batch_id"]], {"stage": "raw", "success": False})
    rejected = s.lake / "_rejected" / x_batches[0]["batch_id"]
    assert (rejected / "manifest.json").exists()
    # an export with a broken record of theirs: it is quarantined, with the author id in its raw
    first = (inbox / "x_v2_002.jsonl").read_text(encoding="utf-8").splitlines()[0]
    broken = '{"data": [{"id": "9", "author_id": "' + author_id + '", "text": "cut off'
    (inbox / "x_v2_broken.jsonl").write_text(first + "\n" + broken + "\n", encoding="utf-8")
    [entry] = ingest_file(s, inbox / "x_v2_broken.jsonl")
    assert entry["quarantined"] == 1
    audit = forget(s, author=f"x:{author_id}")
    assert audit["posts"] > 0 and audit["quarantined"] >= 1
    assert x_batches[0]["batch_id"] in audit["rejected_batches"]
    for f in [*rejected.rglob("*.parquet"), *s.quarantine_dir.rglob("*.parquet")]:
        t = pq.read_table(f)
        if "author_key" in t.column_names:
            assert key not in t.column("author_key").to_pylist()
        if "raw" not in t.column_names:
            continue
        # their own records are gone (others' replies to them still name them, as their posts do)
        assert f'"author_id": "{author_id}"' not in str(t.column("raw").to_pylist())
        assert f'"author_id":"{author_id}"' not in str(t.column("raw").to_pylist())
    _assert_accounting(s)
    m = json.loads((rejected / "manifest.json").read_text())
    assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"]


def test_forget_refuses_bad_requests(lake):
    with pytest.raises(ForgetError):
        forget(lake)
    with pytest.raises(ForgetError):
        forget(lake, post="not-a-uid")
    assert main(["--home", str(lake.home), "forget", "--before", "yesterday"]) == 1


def test_forget_cli(lake, capsys):
    assert main(["--home", str(lake.home), "forget", "--before", "2000-01-01"]) == 0
    assert "0 post(s)" in capsys.readouterr().out


def test_retention_cutoff(tmp_path: Path):
    s = _settings(tmp_path, DISCOURSE_RETENTION_DAYS="30")
    assert retention_cutoff(s, today=date(2026, 12, 6)) == date(2026, 11, 6)
    assert retention_cutoff(_settings(tmp_path), today=date(2026, 12, 6)) is None


def test_run_records_are_scrubbed(tmp_path: Path):
    """runs/*.json goes through the alerts' Redactor: no secret reaches it, whatever a step put there."""
    hook = "https://hooks.example.com/services/T000/B000/XXXXsecretTOKEN"
    s = _settings(tmp_path, DISCOURSE_ALERT_WEBHOOK_URL=hook, DISCOURSE_SMTP_PASSWORD="smtp-pass-123456")
    path = write_run_record(s, {
        "run_id": "r1", "failed": f"webhook {hook} refused; key {KEY}",
        "steps": {"x": [f"password smtp-pass-123456 at {Path('/tmp')}"]},
        "when": date(2026, 12, 6),
    })
    text = path.read_text()
    for secret in (hook, "XXXXsecretTOKEN", KEY, "smtp-pass-123456"):
        assert secret not in text
    data = json.loads(text)
    assert data["run_id"] == "r1" and data["when"] == "2026-12-06" and "redacted" in data["failed"]


# ------------------------------------------------------------------ through the nightly run

def _published(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.e2e
def test_forgotten_author_leaves_the_next_published_marts(tmp_path: Path):
    from discourse.pipeline import run
    from discourse.publish import read_snapshots

    home = tmp_path / "home"
    generate(home / "inbox", posts=1500, seed=9, days=8, formats=["x_v2", "reddit", "generic", "bluesky"])
    s = _settings(home)
    first = run(s)
    assert first["published"], first.get("failed")
    author_id, _ = _x_authors(home / "inbox").most_common(1)[0]
    key = Pseudonymiser(KEY).key_for(f"x:{author_id}")
    [(n_before, theirs)] = _published(s, f"select count(*), count(*) filter (where author_key = '{key}') "
                                         "from marts.posts")
    assert theirs > 0
    assert _published(s, f"select count(*) from marts.authors where author_key = '{key}'") == [(1,)]
    old_reports = sorted(p.name for p in s.reports_dir.iterdir())

    audit = forget(s, author=f"x:{author_id}")
    assert audit["posts"] == theirs
    second = run(s)
    assert second["published"], second.get("failed")
    assert second["transform"]["plan"]["mode"] == "incremental"  # the forgotten batches seen as changed
    assert second["forget_finished"]["snapshots_dropped"] >= 1
    [(n_after, left)] = _published(s, f"select count(*), count(*) filter (where author_key = '{key}') "
                                      "from marts.posts")
    assert (n_after, left) == (n_before - theirs, 0)
    assert _published(s, f"select count(*) from marts.authors where author_key = '{key}'") == [(0,)]
    # only the snapshot published after the forget is kept, and the earlier reports are gone
    assert [snap["run_id"] for snap in read_snapshots(s)] == [second["run_id"]]
    assert not set(old_reports) & {p.name for p in s.reports_dir.iterdir() if p.name != "latest.html"}

    # The incremental night equals a full build over the lake without those posts.
    cols = "post_uid, author_key, text, url, mentions, sentiment_score, primary_topic, misinfo_risk_score"
    incremental = _published(s, f"select {cols} from marts.posts order by post_uid")
    daily = _published(s, "select * from marts.sentiment_daily order by all")
    full = run(s, full_refresh=True)
    assert full["published"], full.get("failed")
    assert _published(s, f"select {cols} from marts.posts order by post_uid") == incremental
    assert _published(s, "select * from marts.sentiment_daily order by all") == daily


@pytest.mark.e2e
def test_retention_days_forgets_old_posts_at_the_start_of_the_night(tmp_path: Path):
    from discourse.pipeline import run

    home = tmp_path / "home"
    generate(home / "inbox", posts=600, seed=4, days=6, formats=["reddit", "generic"],
             start=date(2026, 11, 1))
    s = _settings(home)
    assert run(s)["published"]
    today = date.today()
    keep_from = date(2026, 11, 4)
    s2 = _settings(home, DISCOURSE_RETENTION_DAYS=str((today - keep_from).days))
    summary = run(s2)
    assert summary["published"], summary.get("failed")
    assert summary["retention"]["posts"] > 0
    [(oldest,)] = _published(s2, "select min(created_date) from marts.posts")
    assert oldest >= keep_from
    _assert_accounting(s2)
