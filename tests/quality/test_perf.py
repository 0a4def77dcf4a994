"""Gate speed on a synthetic 1M-row lake batch and 1M-row marts (``pytest -m bench tests/quality``)."""

from __future__ import annotations

import resource
import time

import duckdb
import pytest

from ingest.schema import POST_SCHEMA
from quality.gates import run_marts_gate, run_raw_gate

pytestmark = pytest.mark.bench

ROWS = 1_000_000
BATCH = "perf0000000000000001"
PLATFORMS = ("x", "reddit", "mastodon", "bluesky")
DAYS = 10


def _duck_type(t) -> str:
    s = str(t)
    return {
        "string": "varchar",
        "int64": "bigint",
        "int32": "integer",
        "timestamp[us, tz=UTC]": "timestamptz",
        "list<item: string>": "varchar[]",
    }[s]


def _write_lake(posts_dir) -> None:
    """One file per (platform, day) for one batch, with every POST_SCHEMA column filled."""
    exprs = {
        "post_uid": "platform || ':' || post_id",
        "created_at": "timestamptz '2026-03-01 00:00:00+00' + to_seconds(i % (86400 * 10))",
        "author_handle": "null",
        "text": "'personal branding itu penting banget buat karier, kata recruiter ' || i",
        "lang_declared": "case when i % 3 = 0 then 'id' else 'en' end",
        "kind": "case when i % 5 = 0 then 'reply' else 'post' end",
        "reply_to_id": "null",
        "thread_id": "null",
        "repost_of_id": "null",
        "quote_of_id": "null",
        "url": "'https://example.org/p/' || i",
        "like_count": "i % 97",
        "share_count": "i % 13",
        "reply_count": "i % 7",
        "view_count": "case when i % 2 = 0 then null else i % 1000 end",
        "hashtags": "['karier', 'hoaks']",
        "mentions": "['@kominfo']",
        "links": "[]::varchar[]",
        "media_count": "0",
        "raw": "'{\"id\": \"' || post_id || '\", \"text\": \"' || repeat('x', 200) || '\"}'",
        "author_key": "md5((i % 50000)::varchar)",
        "source_file": "'perf.jsonl'",
        "source_record": "i",
        "export_format": "'x_v2'",
        "batch_id": f"'{BATCH}'",
        "ingested_at": "timestamptz '2026-03-11 00:00:00+00'",
    }
    cols = ", ".join(
        f"cast({exprs.get(f.name, f.name)} as {_duck_type(f.type)}) as {f.name}" for f in POST_SCHEMA
    )
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            f"create table posts as select {cols} from ("
            f"  select i, (['x', 'reddit', 'mastodon', 'bluesky'])[1 + i % 4] as platform,"
            f"         (10000000000000000000 + i)::varchar as post_id"
            f"  from range({ROWS}) t(i))"
        )
        for p in PLATFORMS:
            for d in range(DAYS):
                day = f"2026-03-{d + 1:02d}"
                out = posts_dir / f"platform={p}" / f"created_date={day}" / f"{BATCH}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"copy (select * from posts where platform = '{p}' "
                    f"and created_at::date = date '{day}') to '{out}' "
                    "(format parquet, compression zstd)"
                )


def _write_marts(db_path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.topics as select * from (values ('careers'), "
            "('personal_branding'), ('misinformation')) t(topic_id)"
        )
        con.execute(
            f"""create table marts.posts as select
              'x:' || i as post_uid, 'x' as platform, i::varchar as post_id,
              timestamptz '2026-03-01 00:00:00+00' + to_seconds(i % 864000) as created_at,
              'post' as kind, 'teks ' || i as text, 'perf.jsonl' as source_file,
              i::bigint as source_record, (['id', 'en', 'mixed'])[1 + i % 3] as lang,
              ((i % 200) - 100) / 100.0 as sentiment_score,
              (['negative', 'neutral', 'positive'])[1 + i % 3] as sentiment_label,
              (['anger', 'joy', 'neutral'])[1 + i % 3] as emotion_label,
              ['careers'] as topics, 'careers' as primary_topic,
              (i % 100) / 100.0 as misinfo_risk_score,
              (['low', 'medium', 'high'])[1 + i % 3] as misinfo_risk_level,
              ['cue'] as misinfo_reasons
            from range({ROWS}) t(i)"""
        )


def test_gates_on_a_million_rows(settings, capsys):
    _write_lake(settings.posts_dir)
    t0 = time.perf_counter()
    raw = run_raw_gate(settings, [BATCH])
    raw_total = time.perf_counter() - t0
    assert raw.success, raw.failures
    assert raw.statistics["row_count"] == ROWS

    _write_marts(settings.build_warehouse)
    t0 = time.perf_counter()
    marts = run_marts_gate(settings, settings.build_warehouse)
    marts_total = time.perf_counter() - t0
    assert marts.success, marts.failures

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with capsys.disabled():
        for name, res, total in (("raw", raw, raw_total), ("marts", marts, marts_total)):
            s = res.statistics
            print(
                f"\n{name}: {s['row_count']:,} rows, {len(s['columns'])} columns, "
                f"{s['evaluated_expectations']} expectations: load {s['seconds']['load']:.2f}s, "
                f"validate+docs {s['seconds']['validate']:.2f}s, total {total:.2f}s"
            )
        print(f"peak RSS {peak_mb:.0f} MB")
    # Seconds, not minutes (generous for a shared 2-core machine).
    assert raw_total < 120 and marts_total < 120
