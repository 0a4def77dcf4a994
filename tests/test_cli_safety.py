"""`discourse query` and `discourse export` on a published warehouse: analyst SQL cannot touch files,
databases or extensions; a table name cannot smuggle SQL; the rows asked for are the rows shown."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from discourse.cli import main


@pytest.fixture
def published(settings):
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema marts")
        con.execute("create table marts.posts as select 'x:' || i::varchar as post_uid, i as n, "
                    "[i, i + 1] as tags, {'a': i, 'b': 'v' || i::varchar} as meta "
                    "from range(1, 11) t(i) order by i")
        con.execute("create schema staging")
        con.execute("create table staging.secret as select 'handle' as author_handle")
    finally:
        con.close()
    return settings


def _empty_dir(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    return out


def _cli(settings, *args):
    return main(["--home", str(settings.home), *args])


@pytest.fixture(autouse=True)
def _env(monkeypatch, settings):
    for name in ("DISCOURSE_HOME", "DISCOURSE_CONFIG", "DISCOURSE_IS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")


# ---------------------------------------------------------------- export

def test_a_crafted_table_name_cannot_write_elsewhere(published, tmp_path, capsys):
    tmp_path = _empty_dir(tmp_path)
    evil = tmp_path / "evil.csv"
    crafted = f"marts.posts) to '{evil}' (format csv); copy (select 1"
    rc = _cli(published, "export", crafted, "--out", str(tmp_path / "out.parquet"))
    assert rc == 1
    assert not evil.exists() and not (tmp_path / "out.parquet").exists()
    assert "is not a mart" in capsys.readouterr().err


def test_export_only_marts(published, tmp_path, capsys):
    tmp_path = _empty_dir(tmp_path)
    assert _cli(published, "export", "staging.secret", "--out", str(tmp_path / "s.csv")) == 1
    assert "only marts" in capsys.readouterr().err
    assert _cli(published, "export", "marts.nope", "--out", str(tmp_path / "s.csv")) == 1
    assert "marts are: posts" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


def test_export_path_with_a_quote_is_a_plain_file_name(published, tmp_path):
    tmp_path = _empty_dir(tmp_path)
    out = tmp_path / "o'neil (format json).csv"
    assert _cli(published, "export", "posts", "--out", str(out), "--format", "csv") == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["post_uid", "n", "tags", "meta"] and len(rows) == 11
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


# ---------------------------------------------------------------- query

@pytest.mark.parametrize(
    "sql",
    [
        "copy (select * from marts.posts) to '{tmp}/leak.csv'",
        "copy marts.posts to '{tmp}/leak.parquet' (format parquet)",
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "select * from glob('/etc/*')",
        "attach '{tmp}/other.duckdb' as other",
        "export database '{tmp}/dump'",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
        "set lock_configuration = false",
        "create table marts.mine as select 1",
    ],
)
def test_query_refuses_files_databases_extensions_and_settings(published, tmp_path, capsys, sql):
    tmp_path = _empty_dir(tmp_path)
    rc = _cli(published, "query", sql.format(tmp=tmp_path))
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "query refused" in err, err
    assert [p.name for p in tmp_path.iterdir()] == []


def test_query_shows_the_first_n_rows(published, capsys):
    assert _cli(published, "query", "select post_uid, n from marts.posts order by n", "--limit", "7") == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["post_uid", "|", "n"]
    assert [line.split()[0] for line in lines[2:]] == [f"x:{i}" for i in range(1, 8)]
    assert "first 7 rows shown" in err
    assert _cli(published, "query", "select n from marts.posts order by n", "--limit", "7",
                "--format", "csv") == 0
    assert capsys.readouterr().out.split() == ["n", *map(str, range(1, 8))]
    assert _cli(published, "query", "select n from marts.posts order by n", "--limit", "20",
                "--format", "json") == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["n"] for line in out.splitlines()] == list(range(1, 11)) and not err


def test_nested_columns_are_json_in_csv(published, capsys):
    assert _cli(published, "query", "select tags, meta from marts.posts where n = 2", "--format", "csv") == 0
    header, row = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert header == ["tags", "meta"]
    assert json.loads(row[0]) == [2, 3] and json.loads(row[1]) == {"a": 2, "b": "v2"}


def test_query_still_reads_the_marts(published, capsys):
    assert _cli(published, "query", "select count(*) as n from marts.posts", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == {"n": 10}
