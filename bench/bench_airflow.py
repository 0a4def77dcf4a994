"""The Airflow path against the CLI: `discourse run` and the nightly DAG (`dag.test()`) on one inbox.

    uv run --extra prod python bench/bench_airflow.py --posts 6000 --json /tmp/bench_airflow.json
    uv run --extra prod python bench/bench_airflow.py --dags-folder /tmp/variant_a --dags-folder dags

Generates an inbox (``synth``, ``--posts N``, ``--seed S``), then, each in a fresh home and in a
subprocess of its own: ``discourse run`` on a copy of the inbox, and for every ``--dags-folder``
(default: this repo's ``dags/``) ``airflow db migrate`` on a fresh SQLite metadata DB followed by
one ``dag.test()`` of ``discourse_nightly`` on another copy of the inbox. Prints wall and CPU
seconds (the subprocess's user + system, from ``getrusage``) and the DAG's ratio to the CLI.

The cosmos cache (where the DAG keeps dbt's manifest) is warmed once by a parse before the first
timed run, as in production, where ``airflow-init`` parses the DAG once. ``db migrate`` is timed
but not part of the DAG's figure: a deployment migrates once, not per run.

``--dags-folder`` lets the same harness time a variant of the DAG file (a copy of
``discourse_nightly.py`` with another dbt rendering, in a folder of its own); this is how the
options in docs/orchestration.md were measured.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = "discourse_nightly"
PSEUDONYM_KEY = "bench-airflow"


# ---------------------------------------------------------------- child process: one dag.test()


def _dag_test(logical_date: str) -> dict[str, Any]:
    """Runs inside a subprocess with its own AIRFLOW_HOME: parse the DAG, run it once."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    parse_s = time.perf_counter() - t0
    if DAG_ID not in bag.dags:
        return {"state": None, "import_errors": {str(k): v for k, v in bag.import_errors.items()}}
    dag = bag.dags[DAG_ID]
    for t in dag.tasks:
        t.retries = 0  # a failure should show at once, not after the retry delays
    t0 = time.perf_counter()
    dr = dag.test(logical_date=pendulum.parse(logical_date))
    test_s = time.perf_counter() - t0
    tis = []
    for ti in dr.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        tis.append({"task": key, "state": str(ti.state), "seconds": round(ti.duration or 0, 2)})
    return {
        "state": str(dr.state),
        "parse_seconds": round(parse_s, 2),
        "dag_test_seconds": round(test_s, 2),
        "task_instances": len(tis),
        "tasks": sorted(tis, key=lambda t: -t["seconds"]),
    }


# ---------------------------------------------------------------- parent: homes, timing


def _env(root: Path, dags_folder: Path | None, cosmos_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DISCOURSE_", "_AIRFLOW"))}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DISCOURSE_HOME": str(root / "discourse_home"),
            "DISCOURSE_PSEUDONYM_KEY": os.environ.get("DISCOURSE_PSEUDONYM_KEY", PSEUDONYM_KEY),
            "DO_NOT_TRACK": "1",
            "SCARF_NO_ANALYTICS": "true",
        }
    )
    if dags_folder is not None:
        airflow_home = root / "airflow_home"
        airflow_home.mkdir(parents=True, exist_ok=True)
        env.update(
            {
                "AIRFLOW_HOME": str(airflow_home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
                "AIRFLOW__COSMOS__CACHE_DIR": str(cosmos_cache),
                "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            }
        )
    return env


def _timed(args: list[str], env: dict[str, str], log: Path, timeout: float) -> dict[str, Any]:
    """Run ARGS to completion; wall seconds and the child's CPU seconds. Output goes to LOG."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(
            args, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, cwd=log.parent
        )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "returncode": proc.returncode}
    out["log"] = str(log)
    if proc.returncode != 0:
        out["tail"] = log.read_text(errors="replace").splitlines()[-40:]
    return out


def _fresh_home(root: Path, inbox: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "discourse_home").mkdir(parents=True)
    shutil.copytree(inbox, root / "discourse_home" / "inbox", ignore=shutil.ignore_patterns("_*"))


def run_cli(work: Path, inbox: Path, cosmos_cache: Path, timeout: float) -> dict[str, Any]:
    root = work / "cli"
    _fresh_home(root, inbox)
    env = _env(root, None, cosmos_cache)
    summary = root / "summary.json"
    res = _timed([str(BIN / "discourse"), "run", "--json", str(summary)], env, root / "run.log", timeout)
    if summary.is_file():
        s = json.loads(summary.read_text())
        res["published"] = s.get("published")
        res["pipeline_seconds"] = s.get("seconds")
        res["steps"] = s.get("steps")
    return res


def run_dag(
    work: Path, name: str, dags_folder: Path, inbox: Path, cosmos_cache: Path, timeout: float
) -> dict[str, Any]:
    root = work / f"dag_{name}"
    _fresh_home(root, inbox)
    env = _env(root, dags_folder, cosmos_cache)
    migrate = _timed([str(BIN / "airflow"), "db", "migrate"], env, root / "migrate.log", 300)
    if migrate["returncode"] != 0:
        return {"dags_folder": str(dags_folder), "migrate": migrate, "state": None}
    when = time.strftime("%Y-%m-%dT02:00:00+00:00", time.gmtime())
    res = _timed([sys.executable, __file__, "_dag_test", when], env, root / "dag_test.log", timeout)
    res["dags_folder"] = str(dags_folder)
    res["migrate_seconds"] = migrate["wall_seconds"]
    for line in reversed(Path(res["log"]).read_text(errors="replace").splitlines()):
        if line.startswith("BENCH-RESULT "):
            res.update(json.loads(line.removeprefix("BENCH-RESULT ")))
            break
    res["published"] = (root / "discourse_home" / "warehouse.duckdb").is_file()
    return res


def warm_manifest(work: Path, dags_folder: Path, cosmos_cache: Path) -> float:
    """Parse the DAG once, so that a DAG that caches dbt's manifest (a cosmos rendering) has it
    cached before it is timed (production: airflow-init parses the DAG once)."""
    root = work / "warm"
    root.mkdir(parents=True, exist_ok=True)
    env = _env(root, dags_folder, cosmos_cache)
    code = (
        "import os; from airflow.dag_processing.dagbag import DagBag; "
        "DagBag(os.environ['AIRFLOW__CORE__DAGS_FOLDER'])"
    )
    return _timed([sys.executable, "-c", code], env, root / "warm.log", 600)["wall_seconds"]


def _fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r.get("returncode") == 0 and r.get("state", "success") == "success"]
    return dict(min(ok or runs, key=lambda r: r.get("wall_seconds") or float("inf")))


def _print_row(label: str, r: dict[str, Any]) -> None:
    line = f"{label:<28} {r.get('wall_seconds', 0):7.1f}s wall {r.get('cpu_seconds', 0):7.1f}s cpu"
    if "ratio_wall" in r:
        line += f"  x{r['ratio_wall']:.2f} wall  x{r['ratio_cpu']:.2f} cpu"
    if "task_instances" in r:
        line += f"  {r['task_instances']} task instances, {r.get('state')}"
        line += f" (db migrate {r.get('migrate_seconds')}s, not counted)"
    elif r.get("returncode"):
        line += f"  FAILED (rc {r['returncode']}, log {r.get('log')})"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--dags-folder",
        action="append",
        type=Path,
        help="holds discourse_nightly.py (repeatable; default: dags/)",
    )
    ap.add_argument("--work", type=Path, help="working dir (default: a temp dir, removed unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the homes and logs")
    ap.add_argument("--timeout", type=float, default=3600, help="per run, seconds")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the fastest of each is kept")
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args(argv)

    from synth import generate

    work = Path(a.work or tempfile.mkdtemp(prefix="bench_airflow_"))
    work.mkdir(parents=True, exist_ok=True)
    folders = a.dags_folder or [REPO / "dags"]
    try:
        inbox = work / "inbox"
        if inbox.exists():
            shutil.rmtree(inbox)
        generate(inbox, posts=a.posts, seed=a.seed)
        cosmos_cache = work / "cosmos_cache"
        warm_s = max(warm_manifest(work, f.resolve(), cosmos_cache) for f in folders)
        files = sum(1 for _ in inbox.iterdir())
        print(f"inbox: {a.posts} posts, {files} files; DAG parsed (manifest cached) in {warm_s:.1f}s")
        results: dict[str, Any] = {
            "posts": a.posts,
            "seed": a.seed,
            "repeat": a.repeat,
            "cpus": os.cpu_count(),
            "loadavg_before": os.getloadavg(),
            "rounds": [],
        }
        names = []
        for folder in folders:
            name = folder.resolve().name
            names.append(name if name not in names else f"{name}_{len(names)}")
        # Rounds of CLI, DAG, DAG, ...: a burst of load hits one round rather than one contender.
        for i in range(a.repeat):
            rnd: dict[str, Any] = {"cli": run_cli(work, inbox, cosmos_cache, a.timeout), "dags": {}}
            _print_row(f"[{i + 1}] discourse run", rnd["cli"])
            for name, folder in zip(names, folders, strict=True):
                rnd["dags"][name] = run_dag(work, name, folder.resolve(), inbox, cosmos_cache, a.timeout)
                _print_row(f"[{i + 1}] dag.test {name}", rnd["dags"][name])
            rnd["loadavg"] = os.getloadavg()
            results["rounds"].append(rnd)
        cli = results["cli"] = _fastest([r["cli"] for r in results["rounds"]])
        results["dags"] = {}
        print(f"fastest of {a.repeat} round(s); ratio = DAG / discourse run")
        _print_row("discourse run", cli)
        for name in names:
            r = results["dags"][name] = _fastest([rnd["dags"][name] for rnd in results["rounds"]])
            if r.get("state") == "success":
                r["ratio_wall"] = round(r["wall_seconds"] / cli["wall_seconds"], 2)
                r["ratio_cpu"] = round(r["cpu_seconds"] / max(cli["cpu_seconds"], 0.1), 2)
            _print_row(f"dag.test {name}", r)
        results["loadavg_after"] = os.getloadavg()
        print(f"load average before {results['loadavg_before']}, after {results['loadavg_after']}")
        if a.json:
            a.json.write_text(json.dumps(results, indent=1, default=str))
        ok = cli["returncode"] == 0 and all(r.get("state") == "success" for r in results["dags"].values())
        if a.json:
            print(f"results: {a.json}")
        return 0 if ok else 1
    finally:
        if not a.keep and not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_dag_test":
        print("BENCH-RESULT " + json.dumps(_dag_test(sys.argv[2]), default=str))
        sys.exit(0)
    sys.exit(main())
