"""The typer command line keeps the argparse one's surface: the same commands, options, defaults and
exit codes (0 after --help, 2 after a usage error with the message on stderr, 1 after a failed command)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from discourse import cli
from discourse.cli import build_parser, main
from ingest.registry import option_declarations

INGEST_FLAGS = [o.flag for o in option_declarations() if o.flag]

# Every command (with its subcommand) and the options it offers.
SURFACE: dict[str, list[str]] = {
    "": ["--home", "--debug"],
    "ingest": ["--format", *INGEST_FLAGS, "--force"],
    "run": ["--json", "--full-refresh"],
    "demo": ["--json", "--full-refresh", "--posts", "--seed", "--days"],
    "generate": ["--posts", "--out", "--seed", "--days", "--compress", "--start", "--formats"],
    "report": [],
    "serve": ["--host", "--port"],
    "query": ["--saved", "--format", "--limit"],
    "export": ["--out", "--format", "--where", "--since", "--until", "--platform", "--topic", "--lang"],
    "validate": ["--stage", "--build"],
    "remap": ["--format", "--batch"],
    "forget": ["--author", "--post", "--before", "--inbox"],
    "domains import": ["--format", "--source"],
    "claims import": [],
    "sentiment train": ["--out"],
    "emotion train": ["--out"],
    "misinfo train": ["--name"],
    "network export": ["--out", "--format", "--topic", "--window-days", "--since", "--until", "--types"],
}


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    for name in ("DISCOURSE_HOME", "DISCOURSE_CONFIG", "DISCOURSE_IS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")


@pytest.mark.parametrize("command", list(SURFACE))
def test_every_command_has_help_listing_its_options(command, capsys):
    for flag in ("--help", "-h"):
        assert main([*command.split(), flag]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"Usage: discourse {command}".rstrip()), out
        for option in SURFACE[command]:
            assert f"  {option} " in out or f"  {option}\n" in out, f"{command} {flag}: {option} not listed"


def test_the_top_level_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in {c.split()[0] for c in SURFACE if c}:
        assert f"\n  {name} " in out, name


@pytest.mark.parametrize("group", ["domains", "claims", "sentiment", "emotion", "misinfo", "network"])
def test_groups_list_their_subcommands(group, capsys):
    assert main([group, "--help"]) == 0
    subcommands = [c.split()[1] for c in SURFACE if c.startswith(f"{group} ")]
    out = capsys.readouterr().out
    assert subcommands and all(f"\n  {s} " in out for s in subcommands)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "Missing command"),
        (["nope"], "No such command 'nope'"),
        (["domains"], "Missing command"),
        (["ingest"], "Missing argument"),
        (["generate", "--out", "x"], "Missing option '--posts'"),
        (["query", "--format", "xml"], "'xml' is not one of"),
        (["query", "--limit", "many"], "--limit"),
        (["validate", "--stage", "gold"], "'gold' is not one of"),
        (["domains", "import", "f.csv"], "Missing option '--format'"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["forget"], "one of the options --author --post --before is required"),
        (["forget", "--author", "x:1", "--before", "2026-01-01"],
         "option --before: not allowed with option --author"),
        (["serve", "--port", "eighty"], "--port"),
        (["network", "export"], "Missing option '--out'"),
        (["misinfo", "train"], "Missing argument"),
        (["--home"], "requires an argument"),
    ],
)
def test_usage_errors_exit_2_with_the_message_on_stderr(argv, message, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert message in err and "Error: " in err, err
    assert not out


def test_parsed_defaults_and_names_are_those_the_commands_read():
    parse = build_parser().parse_args
    demo = parse(["demo"])
    assert (demo.fn, demo.posts, demo.seed, demo.days, demo.json, demo.full_refresh) == (
        cli.cmd_demo, 20_000, 7, 14, None, False)
    gen = parse(["generate", "--posts", "600", "--out", "o"])
    assert (gen.posts, gen.out, gen.seed, gen.days, gen.compress, gen.start, gen.formats) == (
        600, "o", 7, 14, False, None, None)
    serve = parse(["--home", "h", "--debug", "serve"])
    assert (serve.home, serve.debug, serve.host, serve.port) == ("h", True, "127.0.0.1", 8080)
    query = parse(["query", "select 1"])
    assert (query.sql, query.saved, query.format, query.limit) == ("select 1", None, "table", 50)
    assert parse(["validate"]).stage == "all"
    assert parse(["remap"]).batch is None
    assert parse(["remap", "--batch", "a", "--batch", "b"]).batch == ["a", "b"]
    run = parse(["run", "--json", "s.json", "--full-refresh"])
    assert (run.fn, run.json, run.full_refresh) == (cli.cmd_run, "s.json", True)
    net = parse(["network", "export", "--out", "g.gexf", "--window-days", "7"])
    assert (net.fn, net.window_days, net.format, net.types) == (cli.cmd_network_export, 7, None, None)
    train = parse(["misinfo", "train", "liar.csv", "--name", "liar"])
    assert (train.fn, train.file, train.name) == (cli.cmd_misinfo_train, "liar.csv", "liar")
    ingest = parse(["ingest", "a.json", "b.json", "--force"])
    assert (ingest.paths, ingest.format, ingest.force) == (["a.json", "b.json"], None, True)
    assert all(getattr(ingest, o.name) is None for o in option_declarations() if o.flag)


def test_saved_without_a_name_lists_and_with_a_name_runs():
    parse = build_parser().parse_args
    assert parse(["query", "--saved"]).saved == ""
    assert parse(["query", "--saved", "--limit", "5"]).saved == ""
    assert parse(["--home", "h", "query", "--saved", "--format", "csv"]).saved == ""
    assert parse(["query", "--saved", "top_posts"]).saved == "top_posts"
    assert parse(["query", "--limit", "5", "select 1"]).saved is None


def test_parse_args_exits_as_argparse_did(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["query", "--format", "xml"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    capsys.readouterr()


def test_command_errors_exit_1_with_one_line(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["--home", home, "query"]) == 1
    assert capsys.readouterr().err == ("discourse: error: give the SQL to run, or --saved NAME "
                                       "(--saved alone lists the saved queries)\n")
    assert main(["--home", home, "report"]) == 1
    assert "no published marts yet" in capsys.readouterr().err
    assert main(["--home", home, "forget", "--before", "yesterday"]) == 1
    assert "not a date" in capsys.readouterr().err


def test_settings_errors_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DISCOURSE_DBT_THREADS", "lots")
    assert main(["--home", str(tmp_path / "home"), "report"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("discourse: error: ") and "DISCOURSE_DBT_THREADS" in err, err


def test_misinfo_train_reports_an_unusable_file(tmp_path, capsys):
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("text,verdict\nsome claim,false\n")
    assert main(["--home", str(tmp_path / "home"), "misinfo", "train", str(labelled)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("discourse: error: ") and "missing column(s) ['label']" in err, err


def test_misinfo_train_prints_what_was_trained(tmp_path, monkeypatch, capsys):
    from discourse.transform import misinfo_train

    calls = []

    def train(settings, path, name=None):
        calls.append((settings.home, path, name))
        return {"name": name or path.stem, "rows_used": 3, "path": settings.reference_dir / "m.parquet"}

    monkeypatch.setattr(misinfo_train, "train_misinfo", train)
    home = tmp_path / "home"
    assert main(["--home", str(home), "misinfo", "train", "liar.csv", "--name", "LIAR"]) == 0
    assert calls == [(home, Path("liar.csv"), "LIAR")]
    printed = json.loads(capsys.readouterr().out)
    assert printed["name"] == "LIAR" and printed["rows_used"] == 3 and printed["path"].endswith("m.parquet")


def test_the_module_entry_point_returns_the_exit_code(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "discourse.cli", *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)

    assert run("--help").returncode == 0
    bad = run("query", "--format", "xml")
    assert bad.returncode == 2 and "'xml' is not one of" in bad.stderr and not bad.stdout


def test_the_run_summary_says_what_each_gate_read():
    """A gate over a relation gives its rows; the freshness check reads manifests, so it gives the
    sources it checked, not a question mark."""
    raw = {"success": True, "statistics": {"successful_expectations": 17, "evaluated_expectations": 17,
                                           "row_count": 3000}}
    fresh = {"success": False, "severity": "warning",
             "statistics": {"successful_expectations": 8, "evaluated_expectations": 9}}
    assert cli._gate_line("raw", raw) == "gate raw    passed (17/17 expectations, 3,000 rows)"
    assert cli._gate_line("freshness", fresh) == "gate freshness warning (8/9 expectations, 9 sources)"
    assert cli._gate_line("marts", {"success": False, "statistics": {}}).endswith(
        "FAILED (?/? expectations, no rows read)")
