"""The dbt project's copies of the lake schema are what `discourse.transform.codegen` generates.

`macros/lake_columns.sql`, the lake source's `columns:` and the platform/kind `accepted_values` lists
are generated from `ingest.schema`; a hand edit there, or a schema change without regenerating,
fails here. Plain unit test: no dbt run.
"""

from __future__ import annotations

from pathlib import Path

from discourse.transform import codegen
from ingest import schema

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
FIX = "run `python -m discourse.transform.codegen` and commit the result"


def test_generated_files_are_up_to_date():
    stale = codegen.stale_files(PROJECT)
    assert not stale, f"out of date: {[str(p.relative_to(PROJECT)) for p in stale]}; {FIX}"


def test_every_post_column_is_generated():
    macro = (PROJECT / "macros" / "lake_columns.sql").read_text(encoding="utf-8")
    sources = (PROJECT / "models" / "staging" / "lake" / "_lake__sources.yml").read_text(encoding="utf-8")
    for field in schema.POST_SCHEMA:
        assert f"'{field.name}': '{codegen.duckdb_type(field.type)}'" in macro, (field.name, FIX)
        assert f"- name: {field.name}\n            data_type: {codegen.duckdb_type(field.type)}" in sources, (
            field.name,
            FIX,
        )


def test_platform_and_kind_lists_come_from_the_schema():
    posts_yml = (PROJECT / "models" / "marts" / "posts.yml").read_text(encoding="utf-8")
    assert "values: [" + ", ".join(f'"{p}"' for p in schema.PLATFORMS) + "]" in posts_yml, FIX
    assert "values: [" + ", ".join(f'"{k}"' for k in schema.KINDS) + "]" in posts_yml, FIX


def test_a_schema_change_makes_the_files_stale(monkeypatch):
    monkeypatch.setattr(schema, "PLATFORMS", (*schema.PLATFORMS, "newsite"))
    monkeypatch.setitem(codegen._VALUE_LISTS, "PLATFORMS", schema.PLATFORMS)
    stale = {p.name for p in codegen.stale_files(PROJECT)}
    assert {"posts.yml", "stg_lake__posts.yml"} <= stale


def test_arrow_types_map_to_duckdb():
    import pyarrow as pa

    assert codegen.duckdb_type(pa.timestamp("us", tz="UTC")) == "timestamptz"
    assert codegen.duckdb_type(pa.list_(pa.string())) == "varchar[]"
    assert codegen.duckdb_type(pa.int32()) == "integer"
