"""Progress of the long commands (``discourse.cli.Reporter``): counters by increments (ingest) and by
running totals (the generator, dbt) both count right; plain lines on stderr when it is not a terminal,
at most one per counter every few seconds and one whenever nothing was said for a while; rich bars
when it is; dbt's node counts reach the reporter through ``discourse.pipeline``."""

from __future__ import annotations

import functools
import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from discourse import cli, pipeline
from discourse.cli import Reporter, main

FIXTURES = Path(__file__).parent / "fixtures"


def test_running_totals_are_not_summed(capsys):
    # The generator reports the number of posts written so far; summing those printed 4,104,706
    # for 200,000 posts.
    with Reporter(live=False, every=0) as out, out.counter("generate", "posts", total=200_000) as count:
        for written in range(5000, 200_001, 5000):
            count.set(written)
    assert count.n == 200_000
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("[generate] 200,000/200,000 posts, ")
    assert len(lines) == 40  # one a report (every=0), the last not repeated at close


def test_increments_add_up():
    with Reporter(live=False) as out, out.counter("ingest", "records") as count:
        for k in (100, 250, 650):
            count(k)
    assert count.n == 1000


def test_plain_lines_are_spaced_and_end_with_the_total(capsys):
    with Reporter(live=False, every=0.2) as out:
        out("[ingest big.jsonl] ...")
        with out.counter("ingest big.jsonl") as count:
            for _ in range(30):
                count(1000)
                time.sleep(0.02)
    out_text, err = capsys.readouterr()
    assert out_text == "[ingest big.jsonl] ...\n"  # the lines the command prints stay on stdout
    lines = err.splitlines()
    assert 1 <= len(lines) <= 5, lines  # 0.6 s of counting at most one line every 0.2 s
    assert re.fullmatch(r"\[ingest big\.jsonl\] 30,000 records, [\d,]+/s, \d+s", lines[-1]), lines


def test_a_short_count_says_nothing(capsys):
    with Reporter(live=False) as out, out.counter("ingest small.csv") as count:
        count(12)
    assert capsys.readouterr().err == ""


def test_no_minutes_of_silence(capsys):
    """A step that says nothing (a gate, a slow dbt node) still gets a line every ``quiet`` seconds."""
    with Reporter(live=False, quiet=0.3) as out:
        out("[raw gate] ...")
        time.sleep(0.8)
        with out.counter("dbt build", "nodes") as nodes:
            nodes.set(3, 10, "model posts: success")
            time.sleep(0.8)
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("  ... still working, ") and line.endswith("since: [raw gate] ...")
               for line in err), err
    assert any(line.startswith("[dbt build] 3/10 nodes (model posts: success)") for line in err), err


def test_not_a_terminal_means_plain_lines():
    assert Reporter().live is False  # pytest captures stderr


def test_a_terminal_gets_live_bars():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with Reporter(console=console) as out:
        assert out.live
        out("[dbt build] ...")
        nodes = pipeline._NodeEcho(out)
        for done in range(1, 6):
            nodes(done, 5, f"model.discourse.m{done}", "success")
        with out.counter("ingest a.jsonl") as count:
            count(1234)
            out._progress.refresh()
        nodes.close()
        out._progress.refresh()
    screen = buf.getvalue()
    assert "5/5 nodes (model m5: success)" in screen
    assert "1,234 records" in screen and "ingest a.jsonl" in screen
    assert "[dbt build] ..." in screen  # the spinner names the step at work


def test_dbt_nodes_go_to_the_counter(capsys):
    with Reporter(live=False, every=0) as out:
        nodes = pipeline._NodeEcho(out)
        for done in range(1, 4):
            nodes(done, 3, f"model.discourse.stg_x{done}", "success")
        nodes.close()
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("[dbt build] 3/3 nodes (model stg_x3: success), ")


def test_dbt_nodes_without_a_counter_are_spaced_lines():
    """The DAG passes ``log.info``: a line at most every few seconds, and the last node."""
    lines: list[str] = []
    nodes = pipeline._NodeEcho(lines.append, every=3600)
    for done in range(1, 101):
        nodes(done, 100, f"test.discourse.unique_posts_post_uid.{done:x}", "pass")
    nodes.close()
    assert lines == ["[dbt build] 100/100 nodes (test unique_posts_post_uid: pass)"]


def test_run_ingest_counts_records(settings, capsys):
    with Reporter(live=False, every=0) as out:
        res = pipeline._ingest_counted(settings, str(FIXTURES / "generic" / "posts.csv"), out, "run-1")
    assert not res.get("error")
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"[ingest posts.csv] {res['loaded']:,} records")  # the rows mapped


@pytest.fixture
def chatty(monkeypatch):
    """The CLI's reporter, with a line for every report."""
    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")
    monkeypatch.setattr(cli, "Reporter", functools.partial(Reporter, every=0))


def test_generate_shows_the_posts_written(chatty, tmp_path, capsys):
    assert main(["--home", str(tmp_path / "home"), "generate", "--posts", "600", "--days", "7",
                 "--out", str(tmp_path / "out")]) == 0
    out, err = capsys.readouterr()
    assert "wrote 600 posts" in out
    assert err.splitlines()[-1].startswith("[generate] 600/600 posts, ")


def test_ingest_shows_the_records(chatty, settings, capsys):
    assert main(["--home", str(settings.home), "ingest", str(FIXTURES / "generic" / "posts.csv")]) == 0
    out, err = capsys.readouterr()
    assert "posts.csv: format generic" in out
    assert re.search(r"^\[ingest posts\.csv\] [\d,]+ records", err, re.M), err
