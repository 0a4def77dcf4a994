"""Real crash trials: ``discourse run`` is killed with SIGKILL at 20+ points and a plain ``discourse
run`` afterwards, with no human in between, must publish marts identical to a clean run's.

How (``docs/recovery.md``):

* one small inbox is generated once (a few thousand posts; X v2, Telegram, generic CSV and Bluesky
  exports) plus ``future.csv``, a batch the raw gate rejects (posts dated 2099), so the schedule can
  crash inside a rejection;
* the clean reference run runs once, with ``DISCOURSE_CRASH_LOG`` set: the crash points it reached
  (``discourse.crash``) are the progress markers the schedule is chosen from, so a point that is not
  reached fails the test instead of silently not crashing;
* each trial copies the inbox to a fresh home, runs ``discourse run`` with
  ``DISCOURSE_CRASH_AT=<point>[:<n>]`` (which must die by SIGKILL), then a plain ``discourse run``
  (which must succeed), and compares every mart's rows with the reference's (floats rounded to 6
  places; ``ingested_at`` and the home's path, which differ between any two runs, left out).

The schedule: every step of the run (before and after it), inside the Great Expectations writes (the
project config truncated, a store file truncated, after a validation), between a lake file's rename
and its manifest, inside the rejection (after the decision, after the commit, between two moved
files), inside dbt's build, inside publish (a mart's Parquet copied, the snapshot written, the new
warehouse staged, swapped, the snapshots pruned). ``make test`` runs three of them, one per kind
of commit point; ``DISCOURSE_CRASH_ALL=1`` (``make test-nightly``) runs all;
``DISCOURSE_CRASH_TRIALS=<n>`` runs only the
first n of them (a quick look), ``DISCOURSE_CRASH_ONLY=<point>,<point>`` only those (names as in the
schedule, with or without ``:<n>``); ``DISCOURSE_CRASH_POSTS`` sets the inbox's size.

Time, measured on the shared 2-core dev machine, whose load average swung between 4 and 15 with
other work: the inbox of 2,000 posts is generated in seconds; the clean run took 146-655 s; a trial
(crash + recovery run) 77-696 s, about 90 s when the machine was quiet (the recovery run is a full
dbt build: 600 nodes whatever the inbox's size, so fewer posts barely help). So the 25 trials take
about 40 minutes on a quiet machine, hours on a loaded one; ``DISCOURSE_CRASH_ONLY`` picks a few for
a change to one part.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
KEY = "crash-trials-key-0123456789abcdef0123"
POSTS = int(os.environ.get("DISCOURSE_CRASH_POSTS", "2000"))
FORMATS = "x,telegram,generic,bluesky"
VOLATILE = {"ingested_at"}  # differs between any two runs, crashed or not
UNCOMPARED = {"about", "snapshots"}  # which run published, and when


def _env(home: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith("DISCOURSE_") or k in ("DISCOURSE_DBT_PROJECT_DIR",)}
    return {**keep, "DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY, **extra}


def _discourse(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "discourse.cli", *args], env=_env(home, **extra),
                          capture_output=True, text=True, timeout=1800, cwd=REPO)


def _fresh_home(template: Path, dest: Path) -> Path:
    home = dest / "home"
    home.mkdir(parents=True)
    shutil.copytree(template / "inbox", home / "inbox")  # copy2: sizes and mtimes kept
    return home


def _value(v: Any) -> Any:
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 6)
    if isinstance(v, list):
        return tuple(_value(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _value(x)) for k, x in v.items()))
    return v


def marts(home: Path) -> dict[str, list[tuple]]:
    """Every published mart's rows, sorted, comparable between homes."""
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select view_name from duckdb_views() where schema_name = 'marts' and not internal union "
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        out = {}
        for name in names:
            if name in UNCOMPARED:
                continue
            cols = [r[0] for r in con.execute(f'describe marts."{name}"').fetchall() if r[0] not in VOLATILE]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'select {select} from marts."{name}"').fetchall()
            text = str(home)
            out[name] = sorted(
                (tuple(_value(v.replace(text, "<home>") if isinstance(v, str) else v) for v in row)
                 for row in rows), key=repr)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash-template")
    res = subprocess.run([sys.executable, "-m", "discourse.cli", "generate", "--posts", str(POSTS),
                          "--out", str(root / "inbox"), "--formats", FORMATS, "--days", "4",
                          "--seed", "11"], env=_env(root / "unused"), capture_output=True, text=True,
                         timeout=600, cwd=REPO)
    assert res.returncode == 0, res.stderr
    with open(root / "inbox" / "future.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "created_at", "author"])
        w.writerows([(f"f{i}", f"dari masa depan #{i}", f"2099-01-0{1 + i % 3}T10:00:00Z",
                      f"t{i % 4}") for i in range(30)])
    return root


@pytest.fixture(scope="module")
def reference(template: Path, tmp_path_factory) -> dict[str, Any]:
    home = _fresh_home(template, tmp_path_factory.mktemp("crash-reference"))
    log = home.parent / "points.log"
    t0 = time.perf_counter()
    res = _discourse(home, "run", DISCOURSE_CRASH_LOG=str(log))
    seconds = time.perf_counter() - t0
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    points = log.read_text().splitlines()
    assert any(p.startswith("reject.") for p in points), "no batch was rejected"
    return {"home": home, "marts": marts(home), "points": points, "seconds": seconds}


def schedule(points: list[str]) -> list[str]:
    """The crash points of a trial run, as ``DISCOURSE_CRASH_AT`` values, from the reached points."""
    def nth(name: str, n: int) -> str:
        assert points.count(name) >= n, f"{name} reached {points.count(name)} time(s), not {n}"
        return name if n == 1 else f"{name}:{n}"

    steps = [p for p in points if p.startswith(("before ", "after "))]
    ingests = [p for p in steps if p.startswith(("before ingest ", "after ingest "))]
    chosen = [
        "run.settled",
        ingests[0], ingests[-1],
        nth("ingest.renamed", 1), nth("ingest.renamed", 3),
        "after freshness check",
        nth("gx.raw.config-write", 1), nth("gx.raw.store-write", 2), nth("gx.raw.validated", 1),
        "reject.decided", "reject.committed", nth("reject.moved", 1),
        "after raw gate",
        nth("dbt.node", max(1, points.count("dbt.node") // 2)),
        "after dbt build",
        nth("gx.staging.validated", 1),
        nth("gx.marts.config-write", 1), nth("gx.marts.store-write", 1),
        "after marts gate",
        nth("gx.volume.config-write", 1),
        nth("publish.parquet-copied", 3), "publish.snapshot-written", "publish.staged",
        "publish.swapped", "publish.pruned",
    ]
    for point in chosen:
        assert point.split(":")[0] in points, f"{point} is not a point the clean run reached"
    return chosen


TRIALS = int(os.environ.get("DISCOURSE_CRASH_TRIALS", "0")) or None
ONLY = [p for p in os.environ.get("DISCOURSE_CRASH_ONLY", "").split(",") if p]
# `make test` runs three trials, one per kind of commit point (a lake file renamed before its
# manifest, a rejection committed before its files moved, publish staged before the swap); the whole
# schedule runs with DISCOURSE_CRASH_ALL=1 (`make test-nightly`), about 40 minutes on a quiet machine.
ALL = os.environ.get("DISCOURSE_CRASH_ALL", "") == "1"
QUICK = ("ingest.renamed", "reject.committed", "publish.staged")


def test_every_crash_recovers_without_a_human_to_the_clean_marts(template, reference, tmp_path):
    plan = schedule(reference["points"])
    if ONLY:
        plan = [p for p in plan if p in ONLY or p.split(":")[0] in ONLY]
        assert plan, f"no scheduled point in DISCOURSE_CRASH_ONLY={ONLY}"
    elif not ALL and not TRIALS:
        plan = [next(p for p in plan if p.split(":")[0] == name) for name in QUICK]
    plan = plan[:TRIALS]
    assert not ALL or len(plan) >= 20
    failures = []
    timings = []
    for i, point in enumerate(plan):
        home = _fresh_home(template, tmp_path / f"trial{i:02d}")
        t0 = time.perf_counter()
        crashed = _discourse(home, "run", DISCOURSE_CRASH_AT=point)
        if crashed.returncode != -signal.SIGKILL:
            failures.append(f"{point}: not killed (rc {crashed.returncode}): {crashed.stderr[-500:]}")
            print(f"[crash trial {i + 1}/{len(plan)}] {failures[-1]}", flush=True)
            continue
        recovered = _discourse(home, "run")
        timings.append((point, round(time.perf_counter() - t0, 1)))
        if recovered.returncode != 0:
            failures.append(f"{point}: the recovery run failed (rc {recovered.returncode}): "
                            f"{recovered.stdout[-1500:]}{recovered.stderr[-1500:]}")
            print(f"[crash trial {i + 1}/{len(plan)}] {failures[-1]}", flush=True)
            continue
        got = marts(home)
        if got != reference["marts"]:
            diff = sorted(k for k in set(got) | set(reference["marts"])
                          if got.get(k) != reference["marts"].get(k))
            failures.append(f"{point}: the marts differ from a clean run's: {diff}")
            print(f"[crash trial {i + 1}/{len(plan)}] {failures[-1]}", flush=True)
            continue
        print(f"[crash trial {i + 1}/{len(plan)}] {point}: recovered to the clean marts "
              f"({timings[-1][1]} s)", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    print(f"clean run {reference['seconds']:.0f}s; trials (crash + recovery, s): {timings}")
    assert not failures, "\n".join(failures)
