"""DuckDB's spill directory under dbt-duckdb, with the project's own profile.

dbt-duckdb repeats every profile setting on each new cursor, and DuckDB refuses to set
``temp_directory`` again once it has spilled there. A build under a memory limit that spills must
keep going: the next model's cursor must not fail. This opens the profile's connection through
dbt-duckdb's own environment, spills, and opens more cursors."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials, PluginConfig
from dbt.adapters.duckdb.environments.local import LocalEnvironment

PROFILE = Path(__file__).resolve().parents[2] / "dbt_project" / "profiles.yml"


def _rendered_output(env: dict[str, str]) -> dict:
    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(name)
        return default

    jenv = jinja2.Environment()
    jenv.filters["as_number"] = lambda v: int(v)

    def render(value):
        if isinstance(value, str):
            return jenv.from_string(value).render(env_var=env_var)
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v) for v in value]
        return value

    profile = yaml.safe_load(PROFILE.read_text())["discourse"]
    return render(profile["outputs"][profile["target"]])


def test_the_spill_directory_survives_new_cursors_after_a_spill(tmp_path):
    spill = tmp_path / "spill"
    out = _rendered_output({
        "DISCOURSE_DBT_DB": str(tmp_path / "w.duckdb"),
        "DISCOURSE_DUCKDB_MEMORY_LIMIT": "64MB",
        "DISCOURSE_DUCKDB_THREADS": "1",
        "DISCOURSE_DUCKDB_TEMP_DIRECTORY": str(spill),
    })
    assert "temp_directory" not in out["settings"]
    creds = DuckDBCredentials(
        path=out["path"],
        settings=out["settings"],
        plugins=[PluginConfig(module=p["module"], config=p.get("config")) for p in out["plugins"]],
    )
    env = LocalEnvironment(creds)
    cur = env.handle().cursor()
    assert cur.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill)
    assert cur.execute("select current_setting('memory_limit')").fetchone()[0] in ("61.0 MiB", "64.0 MB")
    # A sort over more than the memory limit spills to the directory.
    cur.execute("create table t as select i, md5(i::varchar) as m from range(1500000) r(i)")
    rows = cur.execute("select count(*) from (select m from t order by m)").fetchone()[0]
    assert rows == 1_500_000
    spilled = cur.execute("select sum(size) from duckdb_temporary_files()").fetchone()[0]
    assert spilled is None or spilled >= 0
    # The next models' cursors: with temp_directory among the settings this raised
    # "Cannot switch temporary directory after the current one has been used".
    for _ in range(3):
        c = env.handle().cursor()
        assert c.execute("select count(*) from t").fetchone()[0] == 1_500_000
        assert c.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill)
    assert spill.exists(), "the sort should have spilled under a 64 MB limit"


@pytest.mark.parametrize("value", ["/tmp/it's here"])
def test_a_quote_in_the_spill_path_is_escaped(tmp_path, value):
    import duckdb

    from discourse.transform.dbt_plugin import Plugin

    plugin = Plugin.__new__(Plugin)
    plugin.max_chars = 200
    plugin.temp_directory = value
    con = duckdb.connect()
    plugin.configure_connection(con)
    assert con.execute("select current_setting('temp_directory')").fetchone()[0] == value
