"""Helpers for the DAG tests: an isolated Airflow home per test, and a probe run in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
PROBE = Path(__file__).with_name("dag_probe.py")
BIN = Path(sys.executable).parent


def airflow_env(root: Path, cosmos_cache: Path, **extra: str) -> dict[str, str]:
    """Environment for an Airflow process with its own home, SQLite DB and this repo's dags/."""
    home = root / "discourse_home"
    airflow_home = root / "airflow_home"
    home.mkdir(parents=True, exist_ok=True)
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DISCOURSE_", "_AIRFLOW"))}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__COSMOS__CACHE_DIR": str(cosmos_cache),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DO_NOT_TRACK": "1",
            "SCARF_NO_ANALYTICS": "true",
            "DISCOURSE_HOME": str(home),
            "DISCOURSE_PSEUDONYM_KEY": "test",
            # no DeadlineAlert: Airflow 3.3.2's dag.test() crashes at the end of a successful run of a
            # DAG with one (dags/discourse_nightly.py); the deadline has tests of its own
            "DISCOURSE_NIGHT_DEADLINE_MINUTES": "0",
        }
    )
    env.update(extra)
    return env


def run_cmd(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ARGS; its output also goes to <AIRFLOW_HOME>/<name>.log, kept even on a timeout."""
    log = Path(env["AIRFLOW_HOME"]) / f"{Path(args[1]).stem}-{args[2] if len(args) > 2 else ''}.log"
    with open(log, "w") as fh:
        proc = subprocess.run(
            args,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            cwd=env["AIRFLOW_HOME"],
        )
    proc.stdout = log.read_text(errors="replace")
    proc.stderr = ""
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-8000:]}")
    return proc


def probe(command: str, env: dict[str, str], *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run dag_probe.py COMMAND in a subprocess with ENV and return its JSON result."""
    proc = run_cmd([sys.executable, str(PROBE), command, *args], env, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("PROBE-RESULT "):
            return json.loads(line.removeprefix("PROBE-RESULT "))
    raise AssertionError(f"probe {command} printed no result:\n{proc.stdout[-8000:]}")


def airflow_db_migrate(env: dict[str, str]) -> None:
    run_cmd([str(BIN / "airflow"), "db", "migrate"], env, timeout=300)
