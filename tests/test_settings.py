"""Settings: defaults, where values come from and in which order, how text becomes typed values, and
the errors that name the variable at fault."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from discourse.settings import DEMO_PSEUDONYM_KEY, Settings, SettingsError, load_settings

DEFAULTS = {
    "pseudonymise": True,
    "pseudonym_key": None,
    "publish_urls": False,
    "publish_handles": False,
    "retention_days": None,
    "alert_webhook_url": None,
    "smtp_host": None,
    "smtp_port": 25,
    "smtp_from": "discourse@localhost",
    "smtp_to": None,
    "smtp_user": None,
    "smtp_password": None,
    "smtp_starttls": False,
    "public_base_url": None,
    "alert_repeat_days": 7,
    "night_deadline_minutes": 240,
    "dbt_threads": 2,
    "dbt_target": "local",
    "dbt_project_dir": None,
    "duckdb_memory_limit": "80%",
    "duckdb_threads": 0,
    "duckdb_temp_directory": None,
    "dbt_part_posts": 1_000_000,
    "publish_keep_snapshots": 7,
    "gx_keep_runs": 30,
    "gate_part_rows": 1_000_000,
    "volume_change_threshold": 0.8,
    "quiet_after": "*=3d",
    "ingest_max_decompressed_bytes": 256 << 30,
    "ingest_max_ratio": 100.0,
    "ingest_max_record_bytes": 16 << 20,
    "ingest_max_lines": 1_000_000_000,
    "ingest_max_json_depth": 256,
    "inbox_url": None,
    "lake_url": None,
    "s3_endpoint_url": None,
    "s3_region": None,
    "s3_access_key_id": None,
    "s3_secret_access_key": None,
    "s3_session_token": None,
    "is_demo": False,
}
SECRETS = {"pseudonym_key", "alert_webhook_url", "smtp_password", "s3_access_key_id", "s3_secret_access_key",
           "s3_session_token"}


@pytest.fixture(autouse=True)
def _no_toml_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The working directory's discourse.toml is read too: run where there is none."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


def _values(s: Settings) -> dict:
    return {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}


def test_every_default(tmp_path: Path) -> None:
    s = load_settings(env={})
    values = _values(s)
    assert values.pop("home") == tmp_path / "cwd" / "discourse_home"
    assert values == DEFAULTS  # a new setting needs its default here (and its line in docker-compose.yml)
    assert type(s.ingest_max_ratio) is float and type(s.smtp_port) is int
    assert _values(Settings()) == _values(s)


def test_derived_paths(tmp_path: Path) -> None:
    home = tmp_path / "home"
    s = load_settings(env={"DISCOURSE_HOME": str(home)})
    assert s.home == home
    assert (s.inbox, s.lake) == (home / "inbox", home / "lake")
    assert (s.inbox_location, s.lake_location) == (str(home / "inbox"), str(home / "lake"))
    assert (s.posts_dir, s.quarantine_dir, s.manifest_dir) == (
        home / "lake" / "posts", home / "lake" / "quarantine", home / "lake" / "_manifest")
    assert (s.warehouse, s.build_dir, s.build_warehouse) == (
        home / "warehouse.duckdb", home / "build", home / "build" / "warehouse.duckdb")
    assert s.duckdb_spill_dir == home / "tmp" / "duckdb"
    assert (s.reference_dir, s.reports_dir, s.alerts_dir, s.logs_dir) == (
        home / "reference", home / "reports", home / "alerts", home / "logs")
    assert (s.gx_dir, s.data_docs_dir) == (home / "gx", home / "gx" / "data_docs")
    spill = load_settings(env={"DISCOURSE_HOME": str(home),
                               "DISCOURSE_DUCKDB_TEMP_DIRECTORY": str(tmp_path / "sp")})
    assert spill.duckdb_spill_dir == tmp_path / "sp"
    on_s3 = load_settings(env={"DISCOURSE_LAKE_URL": "s3://bucket/pre/", "DISCOURSE_INBOX_URL": "s3://bucket"})
    assert (on_s3.lake_location, on_s3.inbox_location) == ("s3://bucket/pre", "s3://bucket")


def test_text_becomes_typed_values(tmp_path: Path) -> None:
    s = load_settings(env={
        "DISCOURSE_SMTP_PORT": " 2525 ", "DISCOURSE_RETENTION_DAYS": "30",
        "DISCOURSE_INGEST_MAX_LINES": "1_000",
        "DISCOURSE_VOLUME_CHANGE_THRESHOLD": "0.5", "DISCOURSE_INGEST_MAX_RATIO": "20",
        "DISCOURSE_SMTP_STARTTLS": "Yes", "DISCOURSE_PUBLISH_URLS": " on ", "DISCOURSE_PUBLISH_HANDLES": "1",
        "DISCOURSE_PSEUDONYMISE": "OFF", "DISCOURSE_SMTP_TO": "a@example.org,b@example.org",
        "DISCOURSE_DUCKDB_MEMORY_LIMIT": "4GB", "DISCOURSE_HOME": "rel/home",
        "DISCOURSE_DBT_PROJECT_DIR": "~/dbt", "DISCOURSE_DUCKDB_TEMP_DIRECTORY": "a/../spill",
    })
    assert (s.smtp_port, s.retention_days, s.ingest_max_lines) == (2525, 30, 1000)
    assert (s.volume_change_threshold, s.ingest_max_ratio) == (0.5, 20.0)
    assert (s.smtp_starttls, s.publish_urls, s.publish_handles, s.pseudonymise) == (True, True, True, False)
    assert (s.smtp_to, s.duckdb_memory_limit) == ("a@example.org,b@example.org", "4GB")
    # paths: ~ expanded, made absolute against the working directory, `..` resolved
    assert s.home == tmp_path / "cwd" / "rel" / "home"
    assert s.dbt_project_dir == Path("~/dbt").expanduser().resolve()
    assert s.duckdb_temp_directory == tmp_path / "cwd" / "spill"
    for text, value in (("1", True), ("true", True), ("TRUE", True), ("on", True), ("yes", True),
                        ("0", False), ("false", False), ("no", False), ("off", False)):
        assert load_settings(env={"DISCOURSE_SMTP_STARTTLS": text}).smtp_starttls is value, text


@pytest.mark.parametrize(("var", "text", "says"), [
    ("DISCOURSE_SMTP_PORT", "abc", "valid integer"),
    ("DISCOURSE_DBT_THREADS", "2.5", "valid integer"),
    ("DISCOURSE_RETENTION_DAYS", "a week", "valid integer"),
    ("DISCOURSE_VOLUME_CHANGE_THRESHOLD", "high", "valid number"),
    # a typo in a yes/no setting is an error, not a silent "no" (it would switch pseudonymisation off)
    ("DISCOURSE_PSEUDONYMISE", "flase", "valid boolean"),
    ("DISCOURSE_SMTP_STARTTLS", "maybe", "valid boolean"),
])
def test_a_bad_value_names_its_variable(var: str, text: str, says: str) -> None:
    with pytest.raises(SettingsError, match=f"{var}: .*{says}.*{text!r}"):
        load_settings(env={var: text})


def test_several_bad_values_are_all_named() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env={"DISCOURSE_SMTP_PORT": "x", "DISCOURSE_DBT_THREADS": "y"})
    assert "DISCOURSE_SMTP_PORT" in str(err.value) and "DISCOURSE_DBT_THREADS" in str(err.value)


def test_a_bad_secret_is_named_but_not_repeated(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "discourse.toml").write_text('[discourse]\nsmtp_password = ["hunter2-secret"]\n')
    with pytest.raises(SettingsError, match="smtp_password in .*discourse.toml") as err:
        load_settings(env={"DISCOURSE_HOME": str(home)})
    assert "hunter2-secret" not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no pydantic error with the value


@pytest.mark.parametrize("url", ["/data/lake", "s3://", "s3:///lake", "gs://b/lake", "s3://b/p?x=1", "s3://b#f"])
def test_storage_urls_are_s3_buckets(url: str) -> None:
    with pytest.raises(SettingsError,
                       match=r"DISCOURSE_LAKE_URL: .* is not an s3://bucket/prefix URL .*<home>/lake"):
        load_settings(env={"DISCOURSE_LAKE_URL": url})
    with pytest.raises(SettingsError, match="DISCOURSE_INBOX_URL: .*<home>/inbox"):
        load_settings(env={"DISCOURSE_INBOX_URL": url})


def test_a_given_env_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    for var, value in {"DISCOURSE_SMTP_PORT": "1025", "DISCOURSE_PSEUDONYM_KEY": "from-os-environ",
                       "AWS_REGION": "eu-west-1", "DISCOURSE_HOME": str(tmp_path / "os-home")}.items():
        monkeypatch.setenv(var, value)
    given = load_settings(env={"DISCOURSE_DBT_THREADS": "4"})
    assert (given.smtp_port, given.pseudonym_key, given.s3_region, given.dbt_threads) == (25, None, None, 4)
    assert given.home == tmp_path / "cwd" / "discourse_home"
    from_os = load_settings()
    assert (from_os.smtp_port, from_os.pseudonym_key, from_os.s3_region) == (
        1025, "from-os-environ", "eu-west-1")
    assert from_os.home == tmp_path / "os-home"


def test_empty_unknown_and_lower_case_variables_are_ignored() -> None:
    s = load_settings(env={"DISCOURSE_SMTP_PORT": "", "DISCOURSE_HOME": "", "DISCOURSE_NO_SUCH_SETTING": "1",
                           "discourse_dbt_threads": "9", "DISCOURSE_PSEUDONYMIZE": ""})
    assert (s.smtp_port, s.dbt_threads, s.pseudonymise) == (25, 2, True)


def test_the_z_spelling_wins_over_the_s_spelling() -> None:
    both = {"DISCOURSE_PSEUDONYMISE": "true", "DISCOURSE_PSEUDONYMIZE": "false"}
    assert load_settings(env=both).pseudonymise is False
    assert load_settings(env={"DISCOURSE_PSEUDONYMIZE": "no"}).pseudonymise is False
    with pytest.raises(SettingsError, match="DISCOURSE_PSEUDONYMIZE: .*valid boolean"):
        load_settings(env={"DISCOURSE_PSEUDONYMIZE": "nope"})


def test_overrides_win_and_none_is_no_override(tmp_path: Path) -> None:
    env = {"DISCOURSE_HOME": str(tmp_path / "env-home"), "DISCOURSE_DBT_THREADS": "4",
           "DISCOURSE_SMTP_PORT": "26"}
    s = load_settings(env=env, home=tmp_path / "o", dbt_threads="8", smtp_port=None)
    assert (s.home, s.dbt_threads, s.smtp_port) == (tmp_path / "o", 8, 26)
    assert load_settings(env=env, home=None).home == tmp_path / "env-home"
    assert load_settings(env={}, is_demo=True).is_demo is True  # code may set what the environment may not
    with pytest.raises(SettingsError, match="dbt_threads: .*valid integer"):
        load_settings(env={}, dbt_threads="many")
    with pytest.raises(TypeError, match="no_such_setting"):
        load_settings(env={}, no_such_setting=1)


def test_toml_under_env_and_over_defaults(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "discourse.toml").write_text(
        '[discourse]\nsmtp_port = 2525\nsmtp_host = "mail.example.org"\npublish_urls = true\n'
        'volume_change_threshold = 1\nretention_days = 30\nsmtp_to = 5\nduckdb_temp_directory = "spill"\n')
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_SMTP_PORT": "1025"})
    assert (s.smtp_port, s.smtp_host, s.publish_urls) == (1025, "mail.example.org", True)
    assert (s.volume_change_threshold, s.retention_days, s.smtp_to) == (1.0, 30, "5")
    assert s.duckdb_temp_directory == tmp_path / "cwd" / "spill"  # relative to the working directory
    assert load_settings(env={}, home=home).smtp_port == 2525  # the home override finds the file too
    # a file without a [discourse] table: its top-level keys
    (home / "discourse.toml").write_text('smtp_host = "top.example.org"\n')
    assert load_settings(env={"DISCOURSE_HOME": str(home)}).smtp_host == "top.example.org"


def test_which_toml_is_read(tmp_path: Path) -> None:
    home, other = tmp_path / "h", tmp_path / "other.toml"
    home.mkdir()
    (home / "discourse.toml").write_text('smtp_host = "home"\n')
    other.write_text('[discourse]\nsmtp_host = "config"\n')
    (tmp_path / "cwd" / "discourse.toml").write_text('smtp_host = "cwd"\n')
    env = {"DISCOURSE_HOME": str(home)}
    assert load_settings(env={**env, "DISCOURSE_CONFIG": str(other)}).smtp_host == "config"
    assert load_settings(env={**env, "DISCOURSE_CONFIG": str(tmp_path / "missing.toml")}).smtp_host == "home"
    assert load_settings(env=env).smtp_host == "home"
    assert load_settings(env={}).smtp_host == "cwd"


def test_toml_errors_name_the_file(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    toml = home / "discourse.toml"
    env = {"DISCOURSE_HOME": str(home)}
    toml.write_text("[discourse]\nno_such_setting = 1\nsmtp_port = 25\n")
    with pytest.raises(SettingsError, match=r"discourse.toml: unknown settings \['no_such_setting'\]"):
        load_settings(env=env)
    toml.write_text("[discourse]\nis_demo = true\n")
    with pytest.raises(SettingsError, match="is_demo cannot be set in discourse.toml"):
        load_settings(env=env)
    toml.write_text("[discourse\n")
    with pytest.raises(SettingsError, match="discourse.toml: not valid TOML"):
        load_settings(env=env)
    toml.write_text("[discourse]\nsmtp_port = 25.5\n")
    with pytest.raises(SettingsError, match=r"smtp_port in .*discourse.toml: .*valid integer.*25\.5"):
        load_settings(env=env)


def test_is_demo_is_code_only() -> None:
    with pytest.raises(SettingsError, match="DISCOURSE_IS_DEMO cannot be set in the environment"):
        load_settings(env={"DISCOURSE_IS_DEMO": "false"})
    assert load_settings(env={"DISCOURSE_IS_DEMO": ""}).is_demo is False


def test_aws_variables_are_the_fallback_for_s3(tmp_path: Path) -> None:
    aws = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "",
           "AWS_DEFAULT_REGION": "eu-central-1",
           "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID", "AWS_SECRET_ACCESS_KEY": "aws-secret-value",
           "AWS_SESSION_TOKEN": "aws-token-value"}
    s = load_settings(env=aws)
    s3 = (s.s3_endpoint_url, s.s3_region, s.s3_access_key_id, s.s3_secret_access_key, s.s3_session_token)
    assert s3 == ("http://127.0.0.1:9000", "eu-central-1", "AKIAEXAMPLEKEYID", "aws-secret-value",
                  "aws-token-value")
    assert load_settings(env={**aws, "AWS_ENDPOINT_URL_S3": "http://s3.local"}).s3_endpoint_url == "http://s3.local"
    assert load_settings(env={**aws, "DISCOURSE_S3_REGION": "own"}).s3_region == "own"
    home = tmp_path / "h"
    home.mkdir()
    (home / "discourse.toml").write_text('s3_region = "from-toml"\n')
    assert load_settings(env={**aws, "DISCOURSE_HOME": str(home)}).s3_region == "from-toml"  # the file wins


def test_secrets_stay_out_of_the_repr() -> None:
    fields = dataclasses.fields(Settings)
    assert {f.name for f in fields if not f.repr} == SECRETS
    s = load_settings(env={"DISCOURSE_PSEUDONYM_KEY": "pk-secret-value",
                           "DISCOURSE_SMTP_PASSWORD": "pw-secret",
                           "DISCOURSE_ALERT_WEBHOOK_URL": "https://hooks.example.org/T0/secret-token",
                           "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "aws-secret",
                           "AWS_SESSION_TOKEN": "aws-token"})
    text = repr(s) + str(s)
    for secret in ("pk-secret-value", "pw-secret", "secret-token", "AKIAEXAMPLE", "aws-secret", "aws-token"):
        assert secret not in text


def test_settings_are_a_frozen_dataclass(tmp_path: Path) -> None:
    s = load_settings(env={"DISCOURSE_HOME": str(tmp_path)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.smtp_port = 26  # type: ignore[misc]
    assert dataclasses.is_dataclass(s)
    assert s == load_settings(env={"DISCOURSE_HOME": str(tmp_path)})
    assert hash(s) == hash(load_settings(env={"DISCOURSE_HOME": str(tmp_path)}))
    copy = dataclasses.replace(s, smtp_port=26)
    assert (copy.smtp_port, s.smtp_port, copy.home) == (26, 25, s.home)
    hook = "https://hooks.example.org/x"
    changed = s.with_(dbt_threads="3", alert_webhook_url=hook, home=tmp_path / "a" / "..")
    assert (changed.dbt_threads, changed.alert_webhook_url, changed.home) == (3, hook, tmp_path)
    with pytest.raises(SettingsError, match="lake_url: .*not an s3://bucket/prefix URL"):
        s.with_(lake_url="/data/lake")
    with pytest.raises(SettingsError, match="smtp_port: .*valid integer"):
        s.with_(smtp_port="many")
    with pytest.raises(TypeError, match="no_such_setting"):
        s.with_(no_such_setting=1)
    with pytest.raises(ValueError, match="no_such_setting"):  # pydantic's error: not silently ignored
        dataclasses.replace(s, no_such_setting=1)
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    assert fields["smtp_port"].default == 25 and fields["home"].default is dataclasses.MISSING
    assert fields["home"].default_factory() == tmp_path / "cwd" / "discourse_home"  # type: ignore[misc]


def test_the_pseudonym_key(tmp_path: Path) -> None:
    env = {"DISCOURSE_HOME": str(tmp_path)}
    with pytest.raises(SettingsError, match="DISCOURSE_PSEUDONYM_KEY"):
        load_settings(env=env).require_pseudonym_key()
    assert load_settings(env={**env, "DISCOURSE_PSEUDONYM_KEY": "k" * 32}).require_pseudonym_key() == "k" * 32
    assert load_settings(env={**env, "DISCOURSE_PSEUDONYMISE": "false"}).require_pseudonym_key() is None
    assert load_settings(env=env).with_(is_demo=True).require_pseudonym_key() == DEMO_PSEUDONYM_KEY
    with pytest.raises(SettingsError, match="public demo key"):
        load_settings(env={**env, "DISCOURSE_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY}).require_pseudonym_key()


def test_duckdb_limits_reach_every_heavy_connection(tmp_path):
    import os

    import duckdb

    from discourse.settings import apply_duckdb_limits

    s = load_settings(env={}, home=str(tmp_path / "home"), duckdb_memory_limit="1GB", duckdb_threads=1)
    con = duckdb.connect()
    apply_duckdb_limits(con, s, spill="gate")
    limit, threads, temp = con.execute(
        "select current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')").fetchone()
    assert limit.replace(" ", "") in ("953.6MiB", "1.0GB", "1000.0MB") and int(threads) == 1
    assert temp == str(s.duckdb_spill_dir / f"gate-{os.getpid()}")
    # Applied again with other settings, the connection takes them.
    apply_duckdb_limits(con, load_settings(env={}, home=str(tmp_path / "home"), duckdb_memory_limit="80%"))
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] != limit
