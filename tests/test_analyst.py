"""Analysts' commands on a published warehouse: saved queries by name, `discourse export` filters mapped
onto a mart's columns, a `--where` predicate that cannot become an injection path, and the CSV, JSON
Lines and Parquet writers (nested values as JSON in CSV)."""

from __future__ import annotations

import csv
import json
import tomllib
from datetime import date

import duckdb
import pyarrow.parquet as pq
import pytest

from discourse.analyst import QUERIES_DIR, saved_queries
from discourse.cli import main

SHIPPED = {"negative_share_by_topic", "top_authors_by_engagement", "topics_over_time", "riskiest_domains",
           "emotion_by_topic"}


@pytest.fixture
def published(settings):
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.posts as select 'x:' || i::varchar as post_uid, "
            "case when i % 2 = 0 then 'x' else 'reddit' end as platform, "
            "timestamptz '2026-11-01 23:30:00+00' + to_days(i::int) as created_at, "
            "(date '2026-11-01' + to_days(i::int))::date as created_date, "
            "case when i % 3 = 0 then 'en' else 'id' end as lang, "
            "case when i <= 5 then 'careers' else 'health' end as primary_topic, "
            "['careers', 'health'] as topics, i as n, "
            "{'a': i, 'b': 'v' || i::varchar} as meta, 'teks; ' || i::varchar as text "
            "from range(1, 11) t(i) order by i")
        con.execute("create table marts.topic_daily as select date '2026-11-02' as activity_date, "
                    "'careers' as topic_id, 'x' as platform, 3 as volume")
        con.execute("create table marts.authors as select 'k' || i::varchar as author_key, "
                    "case when i = 1 then ['x', 'reddit'] else ['x'] end as platforms, i as posts "
                    "from range(1, 4) t(i)")
        con.execute("create table marts.riskiest_domains as select 1 as risk_rank, 'hoax.example' as domain, "
                    "0.1 as credibility_rating, 'fabricated' as rating_label, 'test' as rating_source, "
                    "7 as posts, 5 as distinct_authors, 0.5 as high_risk_share, false as is_shortener")
        con.execute("create schema staging")
        con.execute("create table staging.secret as select 'handle' as author_handle")
    finally:
        con.close()
    return settings


@pytest.fixture(autouse=True)
def _env(monkeypatch, settings):
    for name in ("DISCOURSE_HOME", "DISCOURSE_CONFIG", "DISCOURSE_IS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")


@pytest.fixture
def out(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def _cli(settings, *args):
    return main(["--home", str(settings.home), *args])


def _csv(path):
    return list(csv.DictReader(path.open(encoding="utf-8")))


# ---------------------------------------------------------------- saved queries

def test_saved_queries_ship_with_a_description():
    queries = saved_queries()
    assert SHIPPED <= set(queries)
    for q in queries.values():
        assert q.description and q.sql.lstrip().startswith("--"), q.name
    # Package data: the folder sits inside a package the wheel includes.
    pyproject = tomllib.loads((QUERIES_DIR.parents[2] / "pyproject.toml").read_text())
    assert "src/discourse" in pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert QUERIES_DIR.parent.name == "discourse"


def test_saved_alone_lists_them(published, capsys):
    assert _cli(published, "query", "--saved") == 0
    lines = capsys.readouterr().out.splitlines()
    assert {line.split()[0] for line in lines} == set(saved_queries())
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_saved_query_runs_by_name(published, capsys):
    assert _cli(published, "query", "--saved", "riskiest_domains", "--format", "json") == 0
    row = json.loads(capsys.readouterr().out)
    assert row["domain"] == "hoax.example" and row["risk_rank"] == 1


def test_saved_query_errors(published, capsys):
    assert _cli(published, "query", "--saved", "nope") == 1
    assert "saved queries are: " in capsys.readouterr().err
    assert _cli(published, "query", "select 1", "--saved", "riskiest_domains") == 1
    assert "not both" in capsys.readouterr().err
    assert _cli(published, "query") == 1
    assert "--saved" in capsys.readouterr().err


# ---------------------------------------------------------------- filters

def test_filters_map_onto_the_marts_columns(published, out):
    path = out / "p.csv"
    assert _cli(published, "export", "posts", "--out", str(path), "--since", "2026-11-03",
                "--until", "2026-11-06", "--platform", "x,reddit", "--lang", "id") == 0
    rows = _csv(path)
    # created_date 2026-11-03..06 is i = 2..5; lang id drops i = 3.
    assert [r["post_uid"] for r in rows] == ["x:2", "x:4", "x:5"]
    assert _cli(published, "export", "posts", "--out", str(path), "--topic", "health", "--platform", "x") == 0
    assert [r["post_uid"] for r in _csv(path)] == ["x:6", "x:8", "x:10"]
    # A list column: authors.platforms.
    assert _cli(published, "export", "authors", "--out", str(path), "--platform", "reddit") == 0
    assert [r["author_key"] for r in _csv(path)] == ["k1"]
    assert _cli(published, "export", "topic_daily", "--out", str(path), "--until", "2026-11-01") == 0
    assert _csv(path) == []


def test_a_filter_that_does_not_apply_is_a_clear_error(published, out, capsys):
    path = out / "a.csv"
    assert _cli(published, "export", "authors", "--out", str(path), "--since", "2026-11-01") == 1
    err = capsys.readouterr().err
    assert "--since does not apply to marts.authors" in err and "use --where" in err
    assert _cli(published, "export", "topic_daily", "--out", str(path), "--lang", "id") == 1
    assert "--lang does not apply to marts.topic_daily" in capsys.readouterr().err
    assert _cli(published, "export", "posts", "--out", str(path), "--since", "yesterday") == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------- --where

def test_where_filters_rows(published, out):
    path = out / "w.jsonl"
    assert _cli(published, "export", "marts.posts", "--out", str(path), "--where",
                "n > 7 and text like '%;%'", "--platform", "x") == 0
    assert [json.loads(line)["n"] for line in path.read_text().splitlines()] == [8, 10]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("1=1); copy marts.posts to '{out}/leak.csv'; select (1", "refused"),
        ("true; copy marts.posts to '{out}/leak.csv'", "refused"),
        ("1=1) union all select * from marts.posts where (1=1", "one expression"),
        ("exists (select * from staging.secret)", "no subqueries"),
        ("n in (select posts from marts.authors)", "no subqueries"),
        ("length(read_text('/etc/passwd')::varchar) > 0", "read_text() is not allowed"),
        ("getenv('HOME') is not null", "getenv() is not allowed"),
        ("current_setting('lock_configuration')", "not allowed"),
        ("n > ?", "no parameters"),
        ("author_handle is not null", "does not apply to marts.posts"),
        ("secret.author_handle = 'x'", "does not apply to marts.posts"),
        ("n >", "refused"),
    ],
)
def test_where_is_one_expression_over_the_mart(published, out, capsys, where, message):
    rc = _cli(published, "export", "posts", "--out", str(out / "w.csv"), "--where", where.format(out=out))
    err = capsys.readouterr().err
    assert rc == 1, err
    assert message in err, err
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------- formats

def test_csv_has_nested_values_as_json(published, out):
    path = out / "p.csv"
    assert _cli(published, "export", "posts", "--out", str(path), "--where", "n = 2") == 0
    (row,) = _csv(path)
    assert json.loads(row["topics"]) == ["careers", "health"]
    assert json.loads(row["meta"]) == {"a": 2, "b": "v2"}
    assert row["created_date"] == "2026-11-03"


def test_parquet_and_jsonl_keep_the_values(published, out):
    assert _cli(published, "export", "posts", "--out", str(out / "p.parquet"), "--where", "n <= 3") == 0
    table = pq.read_table(out / "p.parquet")
    assert table.num_rows == 3 and table.column("topics").to_pylist()[0] == ["careers", "health"]
    assert table.column("created_date").to_pylist()[0] == date(2026, 11, 2)
    assert _cli(published, "export", "posts", "--out", str(out / "p.data"), "--format", "jsonl") == 0
    rows = [json.loads(line) for line in (out / "p.data").read_text().splitlines()]
    assert len(rows) == 10 and rows[0]["meta"] == {"a": 1, "b": "v1"}


def test_format_from_the_extension_or_an_error(published, out, capsys):
    assert _cli(published, "export", "posts", "--out", str(out / "p.ndjson")) == 0
    assert len((out / "p.ndjson").read_text().splitlines()) == 10
    assert _cli(published, "export", "posts", "--out", str(out / "p.xlsx")) == 1
    assert "--format csv, jsonl or parquet" in capsys.readouterr().err
    assert not (out / "p.xlsx").exists()
