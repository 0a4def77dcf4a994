"""The public demo pseudonymisation key is reachable from `discourse demo` only."""

from __future__ import annotations

import pytest

from discourse.cli import main
from discourse.settings import DEMO_PSEUDONYM_KEY, SettingsError, load_settings


def test_is_demo_cannot_come_from_the_environment(home):
    with pytest.raises(SettingsError, match="DISCOURSE_IS_DEMO cannot be set"):
        load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_IS_DEMO": "true"})


def test_is_demo_cannot_come_from_discourse_toml(home):
    (home / "discourse.toml").write_text("[discourse]\nis_demo = true\n")
    with pytest.raises(SettingsError, match="is_demo cannot be set in discourse.toml"):
        load_settings(env={"DISCOURSE_HOME": str(home)})


def test_the_demo_key_itself_is_refused_outside_the_demo(home):
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY})
    with pytest.raises(SettingsError, match="public demo key"):
        s.require_pseudonym_key()
    # `discourse demo` passes is_demo in code: there the demo key is the documented fallback.
    assert s.with_(is_demo=True).require_pseudonym_key() == DEMO_PSEUDONYM_KEY
    assert load_settings(env={"DISCOURSE_HOME": str(home)}).with_(is_demo=True).require_pseudonym_key() \
        == DEMO_PSEUDONYM_KEY


def test_the_cli_says_why(home, monkeypatch, capsys):
    monkeypatch.setenv("DISCOURSE_IS_DEMO", "true")
    monkeypatch.delenv("DISCOURSE_PSEUDONYM_KEY", raising=False)
    assert main(["--home", str(home), "run"]) == 1
    assert "DISCOURSE_IS_DEMO cannot be set in the environment" in capsys.readouterr().err
    assert not (home / "lake").exists()


def test_demo_refuses_a_home_with_other_exports(home, monkeypatch, capsys):
    """Real exports waiting in the inbox must not be pseudonymised with the public key."""
    for name in ("DISCOURSE_IS_DEMO", "DISCOURSE_PSEUDONYM_KEY", "DISCOURSE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    real = home / "inbox" / "x" / "export.jsonl"
    real.parent.mkdir(parents=True)
    real.write_text('{"id": "1"}\n')
    assert main(["--home", str(home), "demo", "--posts", "50"]) == 1
    err = capsys.readouterr().err
    assert "public demo key" in err and "x/export.jsonl" in err
    assert not (home / "lake").exists() and not list((home / "inbox").glob("demo-seed*"))


@pytest.mark.e2e
def test_demo_publishes_a_warehouse_marked_as_demo(home, monkeypatch, capsys):
    import duckdb

    for name in ("DISCOURSE_IS_DEMO", "DISCOURSE_PSEUDONYM_KEY", "DISCOURSE_CONFIG", "DISCOURSE_HOME"):
        monkeypatch.delenv(name, raising=False)
    rc = main(["--home", str(home), "demo", "--posts", "600", "--days", "7"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "built-in demo pseudonymisation key" in out
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select demo from marts.about").fetchone() == (True,)
    finally:
        con.close()
    assert "DEMO:" in (home / "reports" / "latest.html").read_text()
