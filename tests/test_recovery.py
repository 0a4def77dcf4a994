"""Recovery without a human (``docs/recovery.md``): what a crash or an accident leaves is repaired or
set aside by the next command, never left to stop every later run.

The real kill -9 trials of a whole run are ``tests/e2e/test_crash_trials.py``; these are the unit-sized
proofs of each repair.
"""

from __future__ import annotations

import csv
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from discourse.cli import main as cli_main
from discourse.pipeline import (
    ensure_home,
    list_new_files,
    raw_gate,
    reject_batches,
    settle,
    ungated_batches,
)
from discourse.settings import load_settings
from ingest.lake import LAKE_DATA_GLOBS, corrupt_manifests, ingest_file, lake_manifests
from quality import suites
from quality.context import GX_YML, LAST_GOOD, WRITING, run_checkpoint


def _volume_checkpoint(settings, run_id: str):
    frame = pd.DataFrame({"platform": ["x"], "day": ["2026-03-01"], "relative_change": [0.1]})
    return run_checkpoint(settings, "volume", frame, suite=suites.volume_suite(),
                          key_columns=["platform", "day"],
                          parameters={"min_relative_change": -0.8, "max_relative_change": 0.8},
                          run_id=run_id)


# ------------------------------------------------------------------ 1. the GX project


@pytest.mark.integration  # real GX checkpoints
def test_an_empty_gx_config_is_restored_from_the_last_good_copy(settings):
    assert _volume_checkpoint(settings, "first").result.success
    yml = settings.gx_dir / GX_YML
    assert (settings.gx_dir / LAST_GOOD).read_text() == yml.read_text()
    assert not (settings.gx_dir / WRITING).exists()
    yml.write_text("")  # what kill -9 inside GX's in-place write left
    assert _volume_checkpoint(settings, "second").result.success
    assert yaml.safe_load(yml.read_text())["config_version"]
    assert list(settings.gx_dir.glob(f"{GX_YML}.corrupt-*")), "the broken file is kept for a look"


@pytest.mark.integration
def test_a_truncated_gx_config_without_a_good_copy_is_rebuilt(settings):
    assert _volume_checkpoint(settings, "first").result.success
    yml = settings.gx_dir / GX_YML
    yml.write_text(yml.read_text()[:37])  # cut mid-way: YAML that is not a project config
    (settings.gx_dir / LAST_GOOD).unlink()
    run = _volume_checkpoint(settings, "second")
    assert run.result.success and run.validation_page
    parsed = yaml.safe_load(yml.read_text())
    assert parsed["progress_bars"] == {"globally": False, "metric_calculations": False}


@pytest.mark.integration
def test_a_store_file_cut_by_a_crash_is_set_aside_and_recreated(settings):
    assert _volume_checkpoint(settings, "first").result.success
    [suite] = sorted((settings.gx_dir / "expectations").glob("*.json"))
    suite.write_text('{"name": "vol')  # truncated by a crash inside the write ...
    (settings.gx_dir / WRITING).touch()  # ... which left the marker of the span behind
    run = _volume_checkpoint(settings, "second")
    assert run.result.success
    assert suite.exists() and yaml.safe_load(suite.read_text())["expectations"]
    assert list(suite.parent.glob(f"{suite.name}.corrupt-*"))
    assert not (settings.gx_dir / WRITING).exists()


# ------------------------------------------------------------------ helpers for the lake


REPO = Path(__file__).resolve().parents[1]
KEY = "recovery-test-key-0123456789abcdef"


def _csv(path: Path, n: int, day: str = "2026-11-02", prefix: str = "p") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "created_at", "author"])
        w.writerows([(f"{prefix}{i}", f"kerja remote enak banget #{i}", f"{day}T10:00:00Z", f"u{i % 7}")
                     for i in range(n)])
    return path


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DISCOURSE_") or k == "DISCOURSE_DBT_PROJECT_DIR"}
    return {**env, "DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY, **extra}


def _discourse(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """``discourse <args>`` as its own process (the way a crash trial kills it)."""
    return subprocess.run([sys.executable, "-m", "discourse.cli", *args], env=_env(home, **extra),
                          capture_output=True, text=True, timeout=600, cwd=REPO)


def _lake_files(settings) -> list[str]:
    lake = Path(settings.lake)
    return sorted(p.relative_to(lake).as_posix() for pattern in LAKE_DATA_GLOBS for p in lake.glob(pattern))


@pytest.fixture
def lake_settings(home):
    return load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY})


# ------------------------------------------------------------------ 2. corrupt manifests


def test_a_corrupt_manifest_is_named_set_aside_alerted_and_its_batch_ingested_again(lake_settings, caplog):
    s = lake_settings
    ensure_home(s)
    src = _csv(s.inbox / "posts.csv", 30)
    [entry] = ingest_file(s, src)
    mpath = s.manifest_dir / f"{entry['batch_id']}.json"
    mpath.write_text(mpath.read_text()[:40])  # a torn write, a disk fault, a bad hand edit

    with caplog.at_level(logging.WARNING):
        assert lake_manifests(s) == []  # no JSONDecodeError: the other manifests would be read
    assert str(mpath) in caplog.text  # the warning names the file
    [aside] = corrupt_manifests(s)
    assert Path(aside).name.startswith(f"{mpath.name}.corrupt-") and not mpath.exists()
    assert list_new_files(s) == [str(src)]  # the batch counts as not ingested

    done = settle(s, run_id="r1")
    assert done["orphans_removed"] == entry["files"]  # its lake files: no manifest accounts for them
    assert _lake_files(s) == []
    [alert] = [json.loads(p.read_text()) for p in s.alerts_dir.glob("*.json")]
    assert alert["stage"] == "lake" and aside in alert["summary"] and alert["severity"] == "warning"
    assert settle(s, run_id="r2")["alerted"] == []  # alerted once

    [again] = ingest_file(s, src)
    assert again["status"] == "ingested" and again["batch_id"] == entry["batch_id"]
    assert _lake_files(s) == entry["files"] and [m["batch_id"] for m in lake_manifests(s)] == [
        entry["batch_id"]]


def test_a_corrupt_manifest_does_not_stop_a_re_ingest_of_its_source(lake_settings):
    s = lake_settings
    ensure_home(s)
    src = _csv(s.inbox / "posts.csv", 10)
    [entry] = ingest_file(s, src)
    (s.manifest_dir / f"{entry['batch_id']}.json").write_bytes(b"\xff\xfe not json")
    [again] = ingest_file(s, src)  # _existing_manifest reads it: set aside, ingested again
    assert again["status"] == "ingested"
    assert len(corrupt_manifests(s)) == 1


# ------------------------------------------------------------------ 5. the manifest decides visibility


@pytest.mark.integration  # a real process killed by SIGKILL
def test_a_crash_between_the_files_rename_and_the_manifest_leaves_orphans_the_run_removes(lake_settings):
    s = lake_settings
    ensure_home(s)
    src = _csv(s.inbox / "posts.csv", 40)
    res = _discourse(s.home, "ingest", str(src), DISCOURSE_CRASH_AT="ingest.renamed")
    assert res.returncode == -signal.SIGKILL, res.stderr
    orphans = _lake_files(s)
    assert orphans and lake_manifests(s) == []  # rows in the lake that no manifest accounts for
    assert list_new_files(s) == [str(src)]

    done = settle(s)
    assert done["orphans_removed"] == orphans and _lake_files(s) == []
    [entry] = ingest_file(s, src)
    assert entry["files"] == orphans and _lake_files(s) == orphans


@pytest.mark.integration  # a real process killed by SIGKILL
@pytest.mark.parametrize("point", ["reject.decided", "reject.committed", "reject.moved"])
def test_a_crash_inside_a_rejection_is_finished_by_the_next_run(lake_settings, point):
    s = lake_settings
    ensure_home(s)
    [keep] = ingest_file(s, _csv(s.inbox / "good.csv", 20))
    # several days: several files to move, so the crash can fall between two of them
    srcs = [_csv(s.home / "tmp" / f"bad{d}.csv", 15, day=f"2026-11-0{d}", prefix=f"b{d}-") for d in (1, 2, 3)]
    bad_csv = s.inbox / "bad.csv"
    bad_csv.write_text("".join(p.read_text() if i == 0 else p.read_text().split("\n", 1)[1]
                               for i, p in enumerate(srcs)))
    [bad] = ingest_file(s, bad_csv)
    assert len(bad["files"]) == 3
    code = ("import sys; from discourse.settings import load_settings; "
            "from discourse.pipeline import reject_batches; "
            f"reject_batches(load_settings(), [{bad['batch_id']!r}], {{'stage': 'raw', 'success': False}})")
    res = subprocess.run([sys.executable, "-c", code], env=_env(s.home, DISCOURSE_CRASH_AT=point),
                         capture_output=True, text=True, timeout=300, cwd=REPO)
    assert res.returncode == -signal.SIGKILL, res.stderr

    done = settle(s)
    assert done["rejections_finished"] == [bad["batch_id"]]
    assert [m["batch_id"] for m in lake_manifests(s)] == [keep["batch_id"]]
    assert _lake_files(s) == keep["files"]  # nothing of the rejected batch is visible
    dest = Path(s.lake) / "_rejected" / bad["batch_id"]
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.parquet")) == bad["files"]
    assert json.loads((dest / "manifest.json").read_text())["batch_id"] == bad["batch_id"]
    assert settle(s)["rejections_finished"] == []  # idempotent


def test_a_batch_ingested_again_after_its_rejection_stays_accepted(lake_settings):
    s = lake_settings
    ensure_home(s)
    src = _csv(s.inbox / "posts.csv", 12)
    [first] = ingest_file(s, src)
    reject_batches(s, [first["batch_id"]], {"stage": "raw", "success": False})
    [again] = ingest_file(s, src)  # the export was dropped again: a new decision is due
    assert again["status"] == "ingested"
    done = settle(s)
    assert done["rejections_finished"] == [] and done["orphans_removed"] == []
    assert _lake_files(s) == first["files"]
    assert again["batch_id"] in ungated_batches(s)


# ------------------------------------------------------------------ 4. every batch gated once


@pytest.mark.integration  # a real GX raw gate
def test_a_batch_ingested_outside_a_run_is_gated_by_the_next_run(lake_settings, monkeypatch):
    s = lake_settings
    ensure_home(s)
    for k, v in _env(s.home).items():
        if k.startswith("DISCOURSE_"):
            monkeypatch.setenv(k, v)
    future = _csv(s.home / "drop" / "future.csv", 5, day="2099-01-01", prefix="f")
    assert cli_main(["ingest", str(future)]) == 0
    [bid] = ungated_batches(s)
    gate = raw_gate(s, ungated_batches(s), run_id="gate-test")
    assert gate["rejected_batches"] == [bid]
    assert ungated_batches(s) == [] and _lake_files(s) == []

    [ok] = ingest_file(s, _csv(s.inbox / "ok.csv", 5))
    assert ungated_batches(s) == [ok["batch_id"]]
    assert raw_gate(s, ungated_batches(s))["success"]
    assert ungated_batches(s) == []
    [forced] = ingest_file(s, s.inbox / "ok.csv", force=True)  # a new manifest: gated again
    assert ungated_batches(s) == [forced["batch_id"]]


# ------------------------------------------------------------------ 3. and 7. concurrency, real processes


def _lock_held(home: Path) -> bool:
    """Whether some process holds the home's lake lock (probed without waiting)."""
    with open(home / ".lake.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def _popen(home: Path, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "discourse.cli", *args], env=_env(home, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def _generate(out: Path, posts: int, formats: str, seed: int) -> None:
    res = subprocess.run([sys.executable, "-m", "discourse.cli", "generate", "--posts", str(posts),
                          "--out", str(out), "--formats", formats, "--days", "3", "--seed", str(seed)],
                         env=_env(out.parent / "unused"), capture_output=True, text=True, timeout=600,
                         cwd=REPO)
    assert res.returncode == 0, res.stderr


def _accounted(s) -> tuple[int, int]:
    """(posts loaded by all accepted batches, distinct posts in the published marts); and every
    manifest's own accounting holds."""
    import duckdb

    manifests = lake_manifests(s)
    for m in manifests:
        assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"], m
    con = duckdb.connect()
    try:
        files = [str(Path(s.lake) / rel) for m in manifests for rel in m["files"] if rel.startswith("posts/")]
        in_lake = con.execute("select count(distinct post_uid) from read_parquet(?)", [files]).fetchone()[0]
    finally:
        con.close()
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        published = con.execute("select count(distinct post_uid) from marts.posts").fetchone()[0]
    finally:
        con.close()
    return in_lake, published


@pytest.mark.e2e
def test_an_ingest_beside_a_run_both_succeed_and_every_record_is_accounted(tmp_path):
    home = tmp_path / "home"
    _generate(home / "inbox", 1500, "generic,telegram", seed=3)
    _generate(tmp_path / "big", 25000, "x", seed=4)  # an export dropped by hand, big enough to take a while
    big = sorted((tmp_path / "big").glob("*.jsonl"))
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY})
    ensure_home(s)

    ingest = _popen(home, "ingest", *map(str, big))
    deadline = time.monotonic() + 120
    while not _lock_held(home):  # the ingest is at work (it holds the lock until it is done)
        assert ingest.poll() is None and time.monotonic() < deadline, "the ingest never took the lock"
        time.sleep(0.02)
    run = _popen(home, "run")
    i_out, i_err = ingest.communicate(timeout=900)
    r_out, r_err = run.communicate(timeout=1800)
    assert ingest.returncode == 0, i_err[-2000:]
    assert run.returncode == 0, r_out[-2000:] + r_err[-2000:]
    assert "[lock] waiting" in r_out + r_err  # the run waited for the ingest, with a message
    assert len(lake_manifests(s)) == len(big) + len(list((home / "inbox").glob("*_0*.*")))
    assert ungated_batches(s) == []  # the hand-dropped batches were gated by the run
    in_lake, published = _accounted(s)
    assert published == in_lake > 25000


@pytest.mark.e2e
def test_an_ingest_started_during_a_run_waits_for_it(tmp_path):
    home = tmp_path / "home"
    _generate(home / "inbox", 800, "generic", seed=5)
    extra = _csv(tmp_path / "drop" / "late.csv", 50, prefix="late")
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY})
    run = _popen(home, "run")
    deadline = time.monotonic() + 120
    while not _lock_held(home):
        assert run.poll() is None and time.monotonic() < deadline, "the run never took the lock"
        time.sleep(0.02)
    ingest = _popen(home, "ingest", str(extra))
    r_out, r_err = run.communicate(timeout=1800)
    i_out, i_err = ingest.communicate(timeout=900)
    assert run.returncode == 0, r_out[-2000:] + r_err[-2000:]
    assert ingest.returncode == 0 and "[lock] waiting" in i_err, i_err[-2000:]
    assert "late.csv" in i_out + i_err
    assert any(m["source_file"].endswith("late.csv") for m in lake_manifests(s))
    assert [m["batch_id"] for m in lake_manifests(s) if m["source_file"].endswith("late.csv")] == \
        ungated_batches(s)  # the next run gates it


ANALYST = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as an analyst's notebook might
con.execute("create table scratch as select 42 as answer")  # a write: the session has a .wal
print("open", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


@pytest.mark.e2e
@pytest.mark.parametrize("session_s", [4.0, 600.0], ids=["closes-during-publish", "stays-open"])
def test_a_read_write_session_on_the_warehouse_never_breaks_its_readers(tmp_path, session_s):
    import duckdb

    home = tmp_path / "home"
    _generate(home / "inbox", 600, "generic", seed=6)
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY})
    first = _discourse(home, "run")
    assert first.returncode == 0, first.stderr[-2000:]
    _csv(home / "inbox" / "more.csv", 40, prefix="more")

    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(s.warehouse), str(session_s)],
                               stdout=subprocess.PIPE, text=True)
    assert analyst.stdout.readline().strip() == "open"
    second = _discourse(home, "run", DISCOURSE_PUBLISH_WRITER_WAIT_S="25")
    if session_s < 25:  # the session closed while publish waited: published
        analyst.wait(timeout=60)
        assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    else:  # refused with a clear message; the previous marts stay, and nothing is broken
        assert second.returncode == 1
        assert "open read-write by process" in second.stdout + second.stderr
        assert str(analyst.pid) in second.stdout + second.stderr
        analyst.terminate()
        analyst.wait(timeout=60)
        con = duckdb.connect(str(s.warehouse), read_only=True)  # readers work once it is gone
        con.execute("select count(*) from marts.posts").fetchone()
        con.close()
        third = _discourse(home, "run")  # the next run publishes, no human needed
        assert third.returncode == 0, third.stdout[-2000:] + third.stderr[-2000:]
    assert not Path(str(s.warehouse) + ".wal").exists()
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts where post_id like 'more%'").fetchone()[0] == 40
    finally:
        con.close()


@pytest.mark.integration  # real GX checkpoints, a real process killed by SIGKILL
def test_a_kill_inside_a_gx_store_write_is_repaired_by_the_next_gate(lake_settings):
    s = lake_settings
    code = ("import pandas as pd; from discourse.settings import load_settings; "
            "from quality import suites; from quality.context import run_checkpoint\n"
            "for run in ('one', 'two'):\n"
            "    run_checkpoint(load_settings(), 'volume', pd.DataFrame({'platform': ['x'], "
            "'day': ['2026-03-01'], 'relative_change': [0.1]}), suite=suites.volume_suite(), "
            "key_columns=['platform', 'day'], parameters={'min_relative_change': -0.8, "
            "'max_relative_change': 0.8}, run_id=run)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         cwd=REPO, env=_env(s.home, DISCOURSE_CRASH_AT="gx.volume.store-write:2"))
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    [suite] = (s.gx_dir / "expectations").glob("*.json")
    assert suite.read_text() == "" and (s.gx_dir / WRITING).exists()  # what the kill left
    assert _volume_checkpoint(s, "three").result.success
    assert json.loads(suite.read_text())["expectations"]
