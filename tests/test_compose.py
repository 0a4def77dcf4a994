"""docker-compose.yml against the settings: every DISCOURSE_* setting reaches every Airflow container,
secrets come only from .env, the `web` and `analyst` services read the home read-only (their commands
are run here, on a read-only bind mount where the machine allows it), and the file passes
`docker compose config` where the compose plugin exists.

The list of settings is derived from ``discourse.settings.Settings`` when the test runs, so a setting
added there without its line in the compose file fails here, with the line to add. The Airflow-side
details (executor, pools, images of the Airflow services) are checked in tests/dags/test_compose.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from discourse.settings import _CODE_ONLY, Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "docker" / "env.example"
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker")
READERS = ("web", "analyst")
HOME = "/data/discourse"
# Deliberate values of this deployment where they differ from the settings' defaults.
DEPLOYMENT_DEFAULTS = {
    "home": HOME,  # the discourse-home volume; not overridable (every container mounts it there)
    "dbt_project_dir": "/opt/discourse/dbt_project",  # the checkout's project, mounted
    "public_base_url": "http://localhost:8000",  # the `web` service
}
INTERPOLATION = re.compile(r"^\$\{(?P<var>\w+)(?P<op>:-|:\?)(?P<rest>.*)\}$")


def settings_fields() -> dict[str, dataclasses.Field]:
    """Every setting the environment may set (not the code-only ones), as ``DISCOURSE_<NAME>``."""
    fields = dataclasses.fields(Settings)
    return {f"DISCOURSE_{f.name.upper()}": f for f in fields if f.name not in _CODE_ONLY}


def secret_settings() -> set[str]:
    """Settings kept out of reprs are the secrets (key, webhook URL, passwords, S3 credentials)."""
    return {var for var, f in settings_fields().items() if not f.repr}


def _default_text(f: dataclasses.Field) -> str:
    """A setting's default as it is written in the compose file (empty: unset)."""
    if f.name in DEPLOYMENT_DEFAULTS:
        return DEPLOYMENT_DEFAULTS[f.name]
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _line(var: str, f: dataclasses.Field) -> str:
    if var in secret_settings() and f.name == "pseudonym_key":
        return f"  {var}: ${{{var}:?set {var} in .env}}"
    return f"  {var}: ${{{var}:-{_default_text(f)}}}"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """container path -> (source, mode) of the service's short-syntax volumes."""
    out = {}
    for spec in service.get("volumes", []):
        parts = spec.split(":")
        out[parts[1]] = (parts[0], parts[2] if len(parts) > 2 else "rw")
    return out


def test_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *AIRFLOW_SERVICES, *READERS}
    assert services["analyst"]["profiles"] == ["analyst"]  # on demand: `docker compose run --rm analyst`


def test_every_airflow_service_gets_every_setting(compose: dict[str, Any]) -> None:
    fields = settings_fields()
    for name in AIRFLOW_SERVICES:
        env = _env(compose["services"][name])
        missing = [var for var in fields if var not in env]
        assert not missing, (
            f"{name} lacks {missing}; add to x-discourse-env in docker-compose.yml:\n"
            + "\n".join(_line(var, fields[var]) for var in missing)
        )
        # no DISCOURSE_* variable that is not a setting (a typo would be silently ignored)
        unknown = sorted(k for k in env if k.startswith("DISCOURSE_") and k not in fields)
        assert not unknown, f"{name}: {unknown} are not settings (src/discourse/settings.py)"


def test_each_setting_defaults_to_the_settings_default(compose: dict[str, Any]) -> None:
    """``${DISCOURSE_X:-<the setting's default>}`` (or empty for an unset one), so the compose file
    documents the defaults without changing them; the home is the volume's mount point."""
    env = _env(compose["services"]["airflow-worker"])
    for var, f in settings_fields().items():
        value = env[var]
        if f.name == "home":
            assert value == HOME
            continue
        m = INTERPOLATION.match(value)
        assert m and m["var"] == var, f"{var}: {value!r} is not ${{{var}:-...}}"
        if f.name == "pseudonym_key":
            assert m["op"] == ":?", "the pseudonym key is required: compose refuses to start without it"
            continue
        assert m["op"] == ":-", var
        want = _default_text(f)
        assert m["rest"] == want, f"{var}: default {m['rest']!r}, the setting's is {want!r}"


def test_secrets_come_only_from_the_env_file(compose: dict[str, Any]) -> None:
    secrets = secret_settings()
    assert {"DISCOURSE_PSEUDONYM_KEY", "DISCOURSE_ALERT_WEBHOOK_URL", "DISCOURSE_SMTP_PASSWORD",
            "DISCOURSE_S3_SECRET_ACCESS_KEY"} <= secrets
    text = COMPOSE.read_text()
    documented = _env_example()
    for var in secrets:
        # no value written in the compose file: the variable, with no default, from .env
        for m in re.finditer(rf"\$\{{{var}(:-|:\?)([^}}]*)\}}", text):
            assert m[1] == ":?" or m[2] == "", f"{var} has a default in docker-compose.yml: {m[0]}"
        assert var in documented, f"{var}: document it in docker/env.example"
    # SMTP login and STARTTLS, as the issue asks
    for var in ("DISCOURSE_SMTP_USER", "DISCOURSE_SMTP_PASSWORD", "DISCOURSE_SMTP_STARTTLS"):
        assert var in _env(compose["services"]["airflow-worker"]) and var in documented


def _env_example() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_env_example_names_only_real_variables(compose: dict[str, Any]) -> None:
    """Every variable in env.example is one the compose file reads (a typo would do nothing)."""
    used = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    assert set(_env_example()) <= used, set(_env_example()) - used
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required <= set(_env_example()), required - set(_env_example())


def test_readers_mount_the_home_read_only_and_get_no_secret(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in READERS:
        service = services[name]
        mounts = _mounts(service)
        assert mounts[HOME] == ("discourse-home", "ro"), name
        assert all(mode == "ro" for _, mode in mounts.values()), (name, mounts)
        env = _env(service)
        assert env["DISCOURSE_HOME"] == HOME, name
        leaked = set(env) & secret_settings()
        assert not leaked, f"{name} must not get secrets: {leaked}"
        assert service["entrypoint"][0] == "/usr/bin/dumb-init", name
        assert service["command"][0] == "discourse", name
    assert services["web"]["command"][1] == "serve"
    assert "--host" in services["web"]["command"] and "0.0.0.0" in services["web"]["command"]
    # no login in front of it: this host only unless WEB_HOST says otherwise (docs/operations.md)
    assert services["web"]["ports"] == ["${WEB_HOST:-127.0.0.1}:${WEB_PORT:-8000}:8000"]
    assert services["web"]["healthcheck"]["test"]
    assert services["analyst"]["command"][:2] == ["discourse", "query"]
    assert services["analyst"]["network_mode"] == "none"  # it reads a local file: no network at all


def test_volumes_referenced_exist(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for source, _ in _mounts(service).values():
            if source.startswith(("./", "/")):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        if name in ("postgres", "redis"):
            assert re.fullmatch(r"(postgres|redis):\d+\.\d+(\.\d+)?-\w+", image), (name, image)
        else:  # the project's image, built from the pinned Airflow image and uv.lock
            assert image == "${DISCOURSE_AIRFLOW_IMAGE:-discourse-airflow:3.3.2}", (name, image)
            assert service["build"]["args"]["AIRFLOW_IMAGE"] == "apache/airflow:3.3.2-python3.11", name
        assert not image.endswith(":latest"), name


def test_postgres_and_redis_have_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["retries"] >= 3


def _compose_cli() -> tuple[list[str] | None, str]:
    """``docker compose`` (v2 plugin), whichever is here, or why not."""
    if not shutil.which("docker"):
        return None, "no docker CLI on this machine"
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"docker has no compose plugin here ({(probe.stderr or probe.stdout).strip()[:120]})"
    return ["docker", "compose"], ""


def test_docker_compose_config_validates(tmp_path: Path) -> None:
    """The compose CLI's own schema check and interpolation, with the example env file, and the
    resolved environment of a worker carries every setting."""
    cli, why = _compose_cli()
    if cli is None:
        pytest.skip(why)
    base = [*cli, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE)]
    proc = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*base, "--profile", "analyst", "config"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load(proc.stdout)
    env = _env(resolved["services"]["airflow-worker"])
    assert set(settings_fields()) <= set(env)
    assert env["DISCOURSE_SMTP_PORT"] == "25"
    assert "analyst" in resolved["services"]


# ---------------------------------------------------------------- the services' commands, run here


def _published_home(home: Path) -> Path:
    """A home with published marts (a tiny build warehouse through the real publish)."""
    import duckdb

    from discourse.publish import publish
    from discourse.settings import load_settings

    settings = load_settings(env={}, home=str(home))
    settings.build_dir.mkdir(parents=True)
    with duckdb.connect(str(settings.build_warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.posts as select 'x:' || i as post_uid, 'x' as platform, "
                    "date '2026-01-01' + (i % 3)::int as created_date from range(10) t(i)")
    publish(settings, run_id="compose-test")
    (settings.reports_dir).mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "latest.html").write_text("<html>report</html>")
    return home


def _service_env(service: dict[str, Any], home: Path) -> dict[str, str]:
    """The service's environment as compose gives it, with the home at ``home`` and this checkout's
    code instead of /opt/discourse/src."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCOURSE_")}
    env.update({k: v for k, v in _env(service).items() if k != "PYTHONPATH"})
    env["DISCOURSE_HOME"] = str(home)
    return env


def _run_discourse(command: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess:
    assert command[0] == "discourse"
    return subprocess.run([sys.executable, "-m", "discourse.cli", *command[1:]], env=env,
                          capture_output=True, text=True, timeout=120, **kw)


@contextlib.contextmanager
def _read_only(path: Path, mount_point: Path):
    """``path`` at ``mount_point`` as a read-only bind mount, like the services' `:ro` volume; None
    where this machine cannot mount (not root, or no mount privilege)."""
    mount_point.mkdir()
    ok = os.geteuid() == 0 and shutil.which("mount") is not None and subprocess.run(
        ["mount", "--bind", str(path), str(mount_point)], capture_output=True).returncode == 0
    if ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(mount_point)],
                             capture_output=True).returncode != 0:
        subprocess.run(["umount", str(mount_point)], capture_output=True)
        ok = False
    try:
        yield mount_point if ok else None
    finally:
        if ok:
            subprocess.run(["umount", str(mount_point)], capture_output=True)


def test_the_analyst_command_queries_a_read_only_home(compose: dict[str, Any], tmp_path: Path) -> None:
    """The documented `docker compose run --rm analyst discourse query ...`, with the analyst's
    environment, on the home mounted read-only as the service mounts it."""
    home = _published_home(tmp_path / "home")
    with _read_only(home, tmp_path / "ro") as ro:
        if ro is None:
            pytest.skip("cannot make a read-only bind mount here (needs root and mount)")
        with pytest.raises(OSError):
            (ro / "probe").write_text("x")
        env = _service_env(compose["services"]["analyst"], ro)
        proc = _run_discourse(["discourse", "query", "select platform, count(*) as n from marts.posts "
                               "group by 1", "--format", "csv"], env)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == ["platform,n", "x,10"]
        default = _run_discourse(compose["services"]["analyst"]["command"], env)  # lists saved queries
        assert default.returncode == 0 and "negative_share_by_topic" in default.stdout, default.stderr


def test_the_web_command_serves_the_home(compose: dict[str, Any], tmp_path: Path) -> None:
    """The `web` service's command as written in the compose file (on a free port here)."""
    import socket

    home = _published_home(tmp_path / "home")
    command = list(compose["services"]["web"]["command"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    with _read_only(home, tmp_path / "ro") as ro:  # read-only where this machine can mount
        _serve_and_get(command, _service_env(compose["services"]["web"], ro or home), port)


def _serve_and_get(command: list[str], env: dict[str, str], port: int) -> None:
    import time
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "discourse.cli", *command[1:]], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/report/", timeout=5) as r:
                    assert r.read() == b"<html>report</html>"
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert proc.returncode == 0
