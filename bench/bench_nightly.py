"""Nights that cost what they bring: a full run, a +1% night and a night with nothing new, against the
floor of a bare DuckDB copy of the same exports.

    uv run python bench/bench_nightly.py --posts 10000000 --json /tmp/bench_nightly.json
    uv run python bench/bench_nightly.py --posts 200000            # the smoke size the tests run

In one invocation, in a fresh home under ``--work`` (default: a temporary folder):

1. generates ``--posts`` posts of every export format into the inbox (``synth``, streaming: the
   generator writes file by file and never holds the corpus);
2. **floor**: a bare DuckDB copy of every export file to Parquet (``read_json`` / ``read_csv`` →
   ``COPY … TO … (FORMAT parquet)``), in a subprocess;
3. **full run**: ``discourse run`` (ingest, gates, the full dbt build, publish, report);
4. **+1% night**: ``--posts``/100 new posts (three quarters on one new day after the history, one
   quarter late posts dated inside the history), then ``discourse run``;
5. **nothing new**: ``discourse run`` again.

Every step runs in a subprocess of its own, so its CPU seconds (user + system) and peak RSS
(``ru_maxrss``) are the step's own, read with ``os.wait4``. Prints a table and the ratios the
targets are about (+1% / full, nothing / full, full / floor) and writes them with ``--json``.
DuckDB's memory and threads come from the settings (``DISCOURSE_DUCKDB_MEMORY_LIMIT``,
``DISCOURSE_DUCKDB_THREADS``, ``DISCOURSE_DUCKDB_TEMP_DIRECTORY``), as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PSEUDONYM_KEY = "bench-nightly-key"
START = date(2026, 1, 1)

_FLOOR = r"""
import sys, duckdb
from pathlib import Path
inbox, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
con = duckdb.connect()
n = 0
exports = sorted(p for p in inbox.rglob("*") if p.is_file() and "_ground_truth" not in p.name)
for i, path in enumerate(exports):
    src = str(path).replace("'", "''")
    reader = ("read_csv('%s')" % src) if path.suffix in (".csv", ".tsv") else (
        "read_json('%s', format = 'auto', maximum_object_size = 268435456)" % src)
    try:
        con.execute("copy (select * from %s) to '%s' (format parquet)" % (reader, out / f"{i}.parquet"))
        n += 1
    except duckdb.Error as exc:  # an export that is not plain JSON/CSV (a JS-wrapped archive file)
        print(f"floor: skipped {path.name}: {str(exc).splitlines()[0]}", file=sys.stderr)
print(n)
"""


def _step(name: str, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one step in a subprocess; its wall and CPU seconds and peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{name} failed (exit {code}):\n{out[-4000:]}")
    step = {"step": name, "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "tail": out.strip().splitlines()[-3:]}
    # One line as each step ends, so a long run shows where it is.
    print(f"{name}: {step['wall_s']:.1f} s wall, {step['cpu_s']:.1f} s CPU, "
          f"{step['peak_rss_mb']:.0f} MB peak RSS", file=sys.stderr, flush=True)
    return step


def _generate(out: Path, posts: int, seed: int, start: date, days: int,
              env: dict[str, str]) -> dict[str, Any]:
    argv = [sys.executable, "-m", "discourse.cli", "generate", "--posts", str(posts), "--out", str(out),
            "--seed", str(seed), "--days", str(days), "--start", start.isoformat()]
    return _step(f"generate {posts:,}", argv, env)


def _link_exports(source: Path, inbox: Path) -> None:
    """Hard-link (or copy, across file systems) every file under ``source`` into ``inbox``."""
    files = [p for p in sorted(source.rglob("*")) if p.is_file()]
    if not files:
        raise SystemExit(f"--exports-from {source}: no files")
    for path in files:
        dest = inbox / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copy2(path, dest)
    print(f"exports: {len(files):,} files linked from {source}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=60, help="days of history")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=None, help="folder for the home (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--exports-from", type=Path, default=None,
                    help="use the exports `discourse generate` already wrote to this folder (hard-linked "
                         "into the inbox, so it is left as it is) instead of generating them; they must "
                         "have been generated with the same --posts, --seed, --days and start date")
    args = ap.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_nightly_"))
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": PSEUDONYM_KEY}
    run = [sys.executable, "-m", "discourse.cli", "run"]
    steps: list[dict[str, Any]] = []
    try:
        if args.exports_from is None:
            steps.append(_generate(home / "inbox", args.posts, args.seed, START, args.days, env))
        else:
            _link_exports(args.exports_from, home / "inbox")
        steps.append(_step("floor: bare DuckDB copy", [sys.executable, "-c", _FLOOR, str(home / "inbox"),
                                                      str(work / "floor")], env))
        shutil.rmtree(work / "floor", ignore_errors=True)
        steps.append(_step("full run", run, env))
        extra = max(500, args.posts // 100)
        new_day = START + timedelta(days=args.days)
        late_day = START + timedelta(days=args.days // 2)
        night = work / "night"
        shutil.rmtree(night, ignore_errors=True)
        steps.append(_generate(night / "new", max(500, extra * 3 // 4), args.seed + 1, new_day, 1, env))
        steps.append(_generate(night / "late", max(500, extra // 4), args.seed + 2, late_day, 3, env))
        for sub in ("new", "late"):
            for path in (night / sub).iterdir():
                if "_ground_truth" not in path.name:
                    shutil.move(str(path), home / "inbox" / f"night_{sub}_{path.name}")
        steps.append(_step("+1% night", run, env))
        steps.append(_step("nothing-new night", run, env))
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    by = {s["step"]: s for s in steps}
    full, plus, none = by["full run"], by["+1% night"], by["nothing-new night"]
    floor = by["floor: bare DuckDB copy"]
    ratios = {
        "plus1_over_full_wall": round(plus["wall_s"] / full["wall_s"], 4),
        "plus1_over_full_cpu": round(plus["cpu_s"] / max(full["cpu_s"], 1e-9), 4),
        "nothing_over_full_wall": round(none["wall_s"] / full["wall_s"], 4),
        "full_over_floor_wall": round(full["wall_s"] / floor["wall_s"], 2),
        "full_over_floor_cpu": round(full["cpu_s"] / max(floor["cpu_s"], 1e-9), 2),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in (full, plus, none)),
    }
    print(f"{'step':28} {'wall s':>9} {'CPU s':>9} {'peak RSS MB':>12}")
    for s in steps:
        print(f"{s['step']:28} {s['wall_s']:9.1f} {s['cpu_s']:9.1f} {s['peak_rss_mb']:12.0f}")
    for k, v in ratios.items():
        print(f"{k:28} {v}")
    result = {"posts": args.posts, "days": args.days, "steps": steps, "ratios": ratios,
              "targets": {"plus1_over_full_wall": 0.05, "nothing_over_full_wall": 0.01,
                          "full_over_floor_wall": 10, "peak_rss_mb": 4096}}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
