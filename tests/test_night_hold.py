"""The scheduled night's hold on the lake (``discourse.pipeline.lake_lock``): the Airflow DAG's tasks are
separate processes, so the night writes ``<home>/.lake.hold`` from its first task to its last; every
other holder of the lake's lock (an ingest, a run, a remap, a forget) waits for it, as for the lock
that ``discourse run`` holds from its cleanup to its publish, and the night's own tasks go on."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from discourse import pipeline
from discourse.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(env={"DISCOURSE_HOME": str(tmp_path / "home"), "DISCOURSE_PSEUDONYM_KEY": "k"})


def _in_thread(fn) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def body():
        fn()
        done.set()

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, done


def test_a_night_holds_the_lake_between_its_tasks(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "HOLD_POLL_S", 0.05)
    with pipeline.lake_lock(settings, shared=False, night="night-1", take=True):
        pass  # the first task is over: the lock is free, the hold stays
    hold = json.loads((settings.home / pipeline.HOLD_FILE).read_text())
    assert hold["night"] == "night-1" and hold["until"] > time.time()

    # the night's own tasks go on, shared or exclusive
    for shared in (True, False):
        with pipeline.lake_lock(settings, shared=shared, night="night-1"):
            pass

    # an ingest (shared) and a run (exclusive, through run_lock) wait until the night is over
    said: list[str] = []

    def ingest_body():
        with pipeline.lake_lock(settings, shared=True, echo=said.append):
            pass

    def run_body():
        with pipeline.run_lock(settings, echo=said.append):
            pass

    ingest, ingest_done = _in_thread(ingest_body)
    run, run_done = _in_thread(run_body)
    time.sleep(0.5)
    assert not ingest_done.is_set() and not run_done.is_set()
    assert any("the scheduled night night-1 holds the lake" in line for line in said)
    # another night cannot release it; the night itself does
    assert pipeline.release_night_hold(settings, "night-0") is False
    assert pipeline.release_night_hold(settings, "night-1") is True
    assert ingest_done.wait(5) and run_done.wait(5)
    ingest.join(5)
    run.join(5)
    assert not (settings.home / pipeline.HOLD_FILE).exists()


def test_a_stale_hold_is_ignored_and_a_new_night_takes_over(settings):
    (settings.home).mkdir(parents=True)
    (settings.home / pipeline.HOLD_FILE).write_text(json.dumps(
        {"night": "crashed", "since": time.time() - 8 * 3600, "until": time.time() - 3600}))
    with pipeline.lake_lock(settings, shared=True):  # would wait forever otherwise
        pass
    (settings.home / pipeline.HOLD_FILE).write_text(json.dumps(
        {"night": "killed", "since": time.time(), "until": time.time() + 3600}))
    with pipeline.lake_lock(settings, shared=False, night="next", take=True):  # one night at a time
        pass
    assert json.loads((settings.home / pipeline.HOLD_FILE).read_text())["night"] == "next"
    pipeline.release_night_hold(settings, "next")
