"""Small lakes and marts for the quality tests, written directly with pyarrow and DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.schema import POST_SCHEMA

BASE_DAY = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NULLABLE_POST_SCHEMA = pa.schema([f.with_nullable(True) for f in POST_SCHEMA])
TOPICS = ("personal_branding", "careers", "misinformation", "mental_health", "other")


def post_row(
    platform: str, post_id: str, created_at: datetime, batch_id: str, record: int, **overrides: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "post_uid": f"{platform}:{post_id}",
        "platform": platform,
        "post_id": post_id,
        "created_at": created_at,
        "author_handle": None,
        "text": f"personal branding itu penting banget buat karier #{post_id}",
        "lang_declared": "id",
        "kind": "post",
        "reply_to_id": None,
        "thread_id": None,
        "repost_of_id": None,
        "quote_of_id": None,
        "url": None,
        "like_count": 3,
        "share_count": 1,
        "reply_count": 0,
        "view_count": None,
        "hashtags": ["karier"],
        "mentions": [],
        "links": [],
        "media_count": 0,
        "raw": "{}",
        "author_key": f"author-{int(record) % 7}",
        "reply_to_author_key": None,
        "repost_of_author_key": None,
        "quote_of_author_key": None,
        "mention_keys": [],
        "source_file": f"{batch_id}.jsonl",
        "source_record": record,
        "export_format": "x_v2",
        "batch_id": batch_id,
        "ingested_at": datetime(2026, 3, 10, tzinfo=UTC),
    }
    row.update(overrides)
    return row


def write_batch(posts_dir: Path, batch_id: str, rows: list[dict[str, Any]]) -> list[Path]:
    """Write rows the way the lake writer does: one file per (platform, created_date)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        day = (r["created_at"] or BASE_DAY).astimezone(UTC).date().isoformat()
        groups.setdefault((r["platform"] or "unknown", day), []).append(r)
    out = []
    for (platform, day), part in groups.items():
        path = posts_dir / f"platform={platform}" / f"created_date={day}" / f"{batch_id}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # POST_SCHEMA's types; its not-null flags relaxed so tests can plant the nulls a broken
        # writer would produce.
        table = pa.Table.from_pylist(part, schema=NULLABLE_POST_SCHEMA)
        pq.write_table(table, path)
        out.append(path)
    return out


def good_batch(
    batch_id: str = "batch000000000000001",
    n: int = 40,
    platforms: tuple[str, ...] = ("x", "reddit", "mastodon"),
) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        platform = platforms[i % len(platforms)]
        rows.append(
            post_row(
                platform, str(10_000_000_000_000_000_000 + i), BASE_DAY + timedelta(hours=i), batch_id, i
            )
        )
    # The cases the suite must accept: a media-only post with empty text, a repost without text,
    # a generic export without authors.
    rows[1].update(text="", media_count=2)
    rows[2].update(kind="repost", text=None, repost_of_id="123")
    rows.append(post_row("generic", "g-1", BASE_DAY, batch_id, n, author_key=None, export_format="generic"))
    return rows


def write_marts(
    db_path: Path, rows: list[dict[str, Any]] | None = None, n: int = 30, *, analyst: bool = True
) -> Path:
    """A ``marts.posts`` and ``marts.topics`` in ``db_path`` (rows override the generated ones), and
    the analyst marts derived from them unless ``analyst`` is false."""
    if rows is None:
        rows = []
        for i in range(n):
            topic = TOPICS[i % (len(TOPICS) - 1)]
            rows.append(
                {
                    "post_uid": f"x:{1000 + i}",
                    "platform": "x",
                    "post_id": str(1000 + i),
                    "created_at": BASE_DAY + timedelta(hours=i),
                    "kind": "post",
                    "text": "hoaks! informasi palsu soal lowongan kerja",
                    "source_file": "x.jsonl",
                    "source_record": i,
                    "lang": ("id", "en", "mixed")[i % 3],
                    "sentiment_score": round(-0.9 + i * 0.06, 3),
                    "sentiment_label": ("negative", "neutral", "positive")[i % 3],
                    "emotion_label": ("anger", "joy", "neutral")[i % 3],
                    "topics": [topic, "careers"],
                    "primary_topic": topic,
                    "misinfo_risk_score": round(i / 40, 3),
                    "misinfo_risk_level": ("low", "medium", "high")[i % 3],
                    "misinfo_reasons": ["hoax cue: 'hoaks'"],
                }
            )
        # No keyword matched: no topics, primary topic 'other' (how the marts model marks it).
        rows[-1].update(topics=[], primary_topic="other")
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("post_uid", pa.string()),
                ("platform", pa.string()),
                ("post_id", pa.string()),
                ("created_at", pa.timestamp("us", tz="UTC")),
                ("kind", pa.string()),
                ("text", pa.string()),
                ("source_file", pa.string()),
                ("source_record", pa.int64()),
                ("lang", pa.string()),
                ("sentiment_score", pa.float64()),
                ("sentiment_label", pa.string()),
                ("emotion_label", pa.string()),
                ("topics", pa.list_(pa.string())),
                ("primary_topic", pa.string()),
                ("misinfo_risk_score", pa.float64()),
                ("misinfo_risk_level", pa.string()),
                ("misinfo_reasons", pa.list_(pa.string())),
            ]
        ),
    )
    topics = pa.table(
        {
            "topic_id": list(TOPICS),
            "label_id": [t.replace("_", " ") for t in TOPICS],
            "label_en": [t.replace("_", " ") for t in TOPICS],
        }
    )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema if not exists marts")
        con.register("posts_in", table)
        con.register("topics_in", topics)
        con.execute("create or replace table marts.posts as select * from posts_in")
        con.execute("create or replace table marts.topics as select * from topics_in")
        if analyst:
            write_analyst_marts(con)
    return db_path


# The analyst marts (``quality.suites.ANALYST_MARTS``) in the columns dbt's models give them, derived
# from the fixture's marts.posts the way the models derive them (simplified: no links, so the domains
# come from two rated sites).
ANALYST_MARTS_SQL = """
create or replace table marts.negative_share_daily as
select cast(p.created_at as date) as activity_date, p.primary_topic as topic_id, p.lang,
       t.label_en as topic_label_en, count(*) as posts,
       avg(case when p.sentiment_label = 'negative' then 1 else 0 end) as negative_share,
       avg(case when p.sentiment_label = 'positive' then 1 else 0 end) as positive_share,
       avg(p.sentiment_score) as mean_sentiment_score
from marts.posts as p left join marts.topics as t on t.topic_id = p.primary_topic
group by all;
create or replace table marts.top_authors as
select row_number() over (order by count(*) desc, author_key) as engagement_rank, author_key,
       count(*) as posts, count(*) as shares, 0 as replies
from (select 'author-' || (source_record % 5) as author_key from marts.posts)
group by author_key;
create or replace table marts.topics_over_time as
with per_day as (
    select 'day' as period, cast(p.created_at as date) as period_start_date,
           p.primary_topic as topic_id, count(*) as volume, avg(p.sentiment_score) as mean_sentiment_score
    from marts.posts as p group by all
)
select d.period, d.period_start_date, d.topic_id, t.label_en as topic_label_en, d.volume,
       d.volume / sum(d.volume) over (partition by d.period_start_date) as share_of_voice,
       d.mean_sentiment_score
from per_day as d left join marts.topics as t on t.topic_id = d.topic_id;
create or replace table marts.riskiest_domains as
select * from (values (1, 'hoax-news.example', 0.1, 4, 0.75), (2, 'gossip.example', 0.3, 2, 0.5))
    as r(risk_rank, domain, credibility_rating, posts, high_risk_share);
"""


def write_analyst_marts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(ANALYST_MARTS_SQL)
