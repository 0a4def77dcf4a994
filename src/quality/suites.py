"""Expectation suites, one per stage, defined in code.

Each ``*_suite()`` returns a fresh ``gx.ExpectationSuite``; ``quality.context`` stores it in the
file-backed GX context (add-or-update) and the gates validate a DataFrame that holds only the columns
the suite references (``suite_columns``) plus the key columns used for sample rows (``quality.frames``).

Severity uses GX's own field: ``critical`` expectations block publish, ``warning`` ones only alert.
The contract columns the brief of each stage names are critical; consistency checks added on top are
warnings, so a stricter reading by a downstream model never silently blocks analysts' marts.

Values that depend on the run are suite parameters (``{"$PARAMETER": name}``), not baked into the
suite, so the stored suite is the same from run to run:

* ``created_at_max``: now + 1 day (raw).
* ``min_rows``: 1 when the lake has posts, else 0 (marts).
* ``topic_ids``: the ids in ``marts.topics`` (marts).
* ``max_relative_change``: ``settings.volume_change_threshold`` (volume).

Some expectations compare with a column the loader derives in DuckDB (``DERIVED_COLUMNS``), e.g.
``post_uid`` against ``platform || ':' || post_id``: DuckDB computes it while reading, GX checks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # great_expectations is imported lazily: DAG files import this package.
    import great_expectations as gx

RAW_SUITE = "raw_posts"
STAGING_SUITE = "staging_posts"
STAGING_BATCHES_SUITE = "staging_batches"
MARTS_SUITE = "marts_posts"
VOLUME_SUITE = "volume_daily"

# Earliest plausible post: older timestamps are parse errors (epoch 0, seconds read as ms, ...).
CREATED_AT_MIN = datetime(2006, 1, 1, tzinfo=UTC)
AUTHOR_KEY_MOSTLY = 0.8
COUNT_COLUMNS = ("like_count", "share_count", "reply_count", "view_count", "media_count")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
EMOTION_LABELS = ("anger", "fear", "joy", "sadness", "love", "surprise", "neutral")
RISK_LEVELS = ("low", "medium", "high")
# ISO 639-1/639-3 codes, plus the detector's own labels for code-mixed and undetermined text.
LANG_PATTERN = r"^(?:mixed|und|[a-z]{2,3})$"

# Columns identifying a row in alerts' sample rows (those present in the frame are used).
POST_KEY_COLUMNS = ("post_uid", "source_file", "source_record")
BATCH_KEY_COLUMNS = ("batch_id", "source_file")
VOLUME_KEY_COLUMNS = ("platform", "day")

# Columns computed by DuckDB while loading: name -> (SQL expression, columns it needs).
# ``text`` is only checked for presence, so only a 40-character preview of it is loaded (it also
# reads better in sample rows than a whole post).
DERIVED_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "text": ("left(text, 40)", ("text",)),
    "uid_from_parts": ("platform || ':' || post_id", ("platform", "post_id")),
    # Posts without topics (primary_topic 'other') are not judged: null passes.
    "primary_topic_in_topics": (
        "case when len(topics) > 0 then list_contains(topics, primary_topic) end",
        ("topics", "primary_topic"),
    ),
}

CRITICAL = "critical"
WARNING = "warning"


NOISY_LOGGERS = ("great_expectations", "great_expectations._docs_decorators")


def import_gx() -> Any:
    """Import great_expectations with its import-time info logging silenced.

    GX logs hundreds of "Skipping registering function" lines at INFO while importing, which Airflow's
    logging (and any basicConfig(INFO)) would print. Progress bars are switched off in the context.
    """
    import logging
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def _e() -> Any:
    return import_gx().expectations


def _col(name: str) -> Any:
    """A GX row-condition column (``_col("kind") != "repost"``), valid on every execution engine."""
    import_gx()
    from great_expectations.expectations.row_conditions import Column

    return Column(name)


def _vocab() -> tuple[list[str], list[str]]:
    """Allowed platforms and kinds, from the canonical schema (imported here: it loads pyarrow)."""
    from ingest.schema import KINDS, PLATFORMS

    return list(PLATFORMS), list(KINDS)


def _new_suite(name: str, description: str, expectations: list[Any]) -> gx.ExpectationSuite:
    # Passing the expectations to the constructor keeps suite building free of any GX context.
    return import_gx().ExpectationSuite(name=name, expectations=expectations, meta={"notes": description})


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def _uid_matches_parts(severity: str) -> Any:
    return _e().ExpectColumnPairValuesToBeEqual(
        column_A="post_uid",
        column_B="uid_from_parts",
        ignore_row_if="either_value_is_missing",
        severity=severity,
        meta={"expected": "post_uid = platform || ':' || post_id"},
    )


def raw_posts_suite() -> gx.ExpectationSuite:
    """The lake batches as ingested (``lake/posts``), before staging deduplicates across batches.

    Decisions:

    * ``post_uid`` is unique per ``batch_id``, not across the checked batches: the same post in two
      exports is legitimate and staging resolves it (newest ``ingested_at`` wins). A duplicate inside
      one batch means the lake writer's dedup broke.
    * ``text`` is never null but may be empty: media-only posts carry ``""``. Reposts are exempt,
      because a boost whose export only references the original (a Mastodon ``Announce`` of a URL)
      has no text of its own.
    * ``author_key`` is required except on ``generic`` exports, whose column mapping makes the author
      optional; elsewhere up to ``1 − AUTHOR_KEY_MOSTLY`` of rows may lack it (deleted accounts in
      Reddit dumps). An X archive ingested without its ``account.js`` or ``--account`` fails here.
    * counts are ≥ 0, except Reddit's ``like_count`` (the net score).
    """
    e = _e()
    platforms, kinds = _vocab()
    return _new_suite(
        RAW_SUITE,
        "Lake posts per ingest batch (bronze).",
        [
            e.ExpectColumnValuesToNotBeNull(column="post_uid", severity=CRITICAL),
            e.ExpectCompoundColumnsToBeUnique(
                column_list=["batch_id", "post_uid"],
                severity=CRITICAL,
                meta={"expected": "post_uid unique within its batch"},
            ),
            _uid_matches_parts(CRITICAL),
            e.ExpectColumnValuesToNotBeNull(column="platform", severity=CRITICAL),
            e.ExpectColumnValuesToBeInSet(column="platform", value_set=platforms, severity=CRITICAL),
            e.ExpectColumnValuesToNotBeNull(column="post_id", severity=CRITICAL),
            e.ExpectColumnValuesToNotBeNull(column="kind", severity=CRITICAL),
            e.ExpectColumnValuesToBeInSet(column="kind", value_set=kinds, severity=CRITICAL),
            e.ExpectColumnValuesToNotBeNull(column="created_at", severity=CRITICAL),
            e.ExpectColumnValuesToBeBetween(
                column="created_at",
                min_value=CREATED_AT_MIN,
                max_value=_param("created_at_max"),
                severity=CRITICAL,
                meta={"expected": "between 2006-01-01 and one day after the run"},
            ),
            e.ExpectColumnValuesToNotBeNull(
                column="text",
                row_condition=_col("kind") != "repost",
                severity=CRITICAL,
                meta={"expected": "not null (empty string allowed) unless kind = 'repost'"},
            ),
            e.ExpectColumnValuesToNotBeNull(
                column="author_key",
                row_condition=_col("platform") != "generic",
                mostly=AUTHOR_KEY_MOSTLY,
                severity=CRITICAL,
                meta={"expected": f"not null in ≥ {AUTHOR_KEY_MOSTLY:.0%} of rows "
                      "unless platform = 'generic'"},
            ),
            *(
                e.ExpectColumnValuesToBeBetween(column=c, min_value=0, severity=CRITICAL)
                for c in COUNT_COLUMNS if c != "like_count"
            ),
            # Reddit's score is net votes and may be negative.
            e.ExpectColumnValuesToBeBetween(
                column="like_count",
                min_value=0,
                row_condition=_col("platform") != "reddit",
                severity=CRITICAL,
                meta={"expected": "≥ 0 unless platform = 'reddit' (net score)"},
            ),
        ],
    )


def staging_posts_suite() -> gx.ExpectationSuite:
    """The staged posts as a whole, against the lake (``quality.frames.staging_frames``: one row).

    dbt's own tests look at ``stg_lake__posts`` alone (columns, contract); this suite checks what they
    cannot, that staging is the lake deduplicated, counted in DuckDB (no post reaches pandas):

    * **dedup held**: ``post_uid`` is never null and unique in staging (rows = distinct post_uids);
    * **no post lost (or added)**: the distinct post_uids in the committed batches' lake files equal
      the staged rows.
    """
    e = _e()
    return _new_suite(
        STAGING_SUITE,
        "Staged posts against the lake: deduplicated, nothing lost (aggregates computed in DuckDB).",
        [
            e.ExpectColumnValuesToBeBetween(
                column="staging_null_uids",
                min_value=0,
                max_value=0,
                severity=CRITICAL,
                meta={"expected": "no staged row without a post_uid"},
            ),
            e.ExpectColumnPairValuesToBeEqual(
                column_A="staging_rows",
                column_B="staging_posts",
                severity=CRITICAL,
                meta={"expected": "dedup held: staged rows = distinct post_uids in staging"},
            ),
            e.ExpectColumnPairValuesToBeEqual(
                column_A="lake_posts",
                column_B="staging_rows",
                severity=CRITICAL,
                meta={
                    "expected": "no post lost (or added): distinct post_uids in the committed lake "
                    "= staged rows"
                },
            ),
        ],
    )


def staging_batches_suite() -> gx.ExpectationSuite:
    """The accounting per batch (``quality.frames.staging_frames``: one row per batch).

    * the batch is committed: a batch whose posts are staged has a manifest;
    * the manifest's ``loaded`` equals the rows of the batch's lake files (``<batch_id>.parquet``);
    * every post of the batch is staged, from this batch or from a newer one carrying the same post
      (the newest ``ingested_at`` wins), never lost and never taken from an older batch.
    """
    e = _e()
    return _new_suite(
        STAGING_BATCHES_SUITE,
        "Per-batch accounting from the manifests through the lake to staging.",
        [
            e.ExpectColumnValuesToBeInSet(
                column="is_committed",
                value_set=[True],
                severity=CRITICAL,
                meta={"expected": "every staged batch has a manifest (is committed)"},
            ),
            e.ExpectColumnPairValuesToBeEqual(
                column_A="manifest_loaded",
                column_B="lake_rows",
                ignore_row_if="either_value_is_missing",
                severity=CRITICAL,
                meta={"expected": "the manifest's loaded count = rows in the batch's lake files"},
            ),
            e.ExpectColumnValuesToBeBetween(
                column="posts_lost",
                min_value=0,
                max_value=0,
                severity=CRITICAL,
                meta={"expected": "every post of the batch is in staging"},
            ),
            e.ExpectColumnValuesToBeBetween(
                column="posts_staged_from_older_batch",
                min_value=0,
                max_value=0,
                severity=CRITICAL,
                meta={"expected": "no post of the batch is staged from an older batch (newest wins)"},
            ),
        ],
    )


def marts_posts_suite() -> gx.ExpectationSuite:
    """``marts.posts``: what analysts query. Scores must be present and in range."""
    e = _e()
    platforms, _ = _vocab()
    return _new_suite(
        MARTS_SUITE,
        "marts.posts: one scored row per post.",
        [
            e.ExpectTableRowCountToBeBetween(
                min_value=_param("min_rows"),
                severity=CRITICAL,
                meta={"expected": "at least one row when the lake has posts"},
            ),
            e.ExpectColumnValuesToNotBeNull(column="post_uid", severity=CRITICAL),
            e.ExpectColumnValuesToBeUnique(column="post_uid", severity=CRITICAL),
            e.ExpectColumnValuesToBeInSet(column="platform", value_set=platforms, severity=CRITICAL),
            e.ExpectColumnValuesToNotBeNull(column="created_at", severity=CRITICAL),
            e.ExpectColumnValuesToNotBeNull(column="lang", severity=CRITICAL),
            e.ExpectColumnValuesToMatchRegex(
                column="lang",
                regex=LANG_PATTERN,
                severity=WARNING,
                meta={"expected": "an ISO 639 code, 'mixed' or 'und'"},
            ),
            e.ExpectColumnValuesToNotBeNull(column="sentiment_score", severity=CRITICAL),
            e.ExpectColumnValuesToBeBetween(
                column="sentiment_score", min_value=-1, max_value=1, severity=CRITICAL
            ),
            e.ExpectColumnValuesToNotBeNull(column="sentiment_label", severity=CRITICAL),
            e.ExpectColumnValuesToBeInSet(
                column="sentiment_label", value_set=list(SENTIMENT_LABELS), severity=CRITICAL
            ),
            e.ExpectColumnValuesToBeInSet(
                column="emotion_label", value_set=list(EMOTION_LABELS), severity=CRITICAL
            ),
            e.ExpectColumnValuesToNotBeNull(column="misinfo_risk_score", severity=CRITICAL),
            e.ExpectColumnValuesToBeBetween(
                column="misinfo_risk_score", min_value=0, max_value=1, severity=CRITICAL
            ),
            e.ExpectColumnValuesToNotBeNull(column="misinfo_risk_level", severity=CRITICAL),
            e.ExpectColumnValuesToBeInSet(
                column="misinfo_risk_level", value_set=list(RISK_LEVELS), severity=CRITICAL
            ),
            e.ExpectColumnValuesToNotBeNull(column="primary_topic", severity=CRITICAL),
            e.ExpectColumnValuesToBeInSet(
                column="primary_topic",
                value_set=_param("topic_ids"),
                severity=CRITICAL,
                meta={"expected": "a topic_id from marts.topics"},
            ),
            e.ExpectColumnValuesToBeInSet(
                column="primary_topic_in_topics",
                value_set=[True],
                severity=WARNING,
                meta={"expected": "primary_topic is one of the post's topics (when it has any)"},
            ),
        ],
    )


# The marts that answer analysts' usual questions directly (plain tables computed from the marts
# above): relation -> (suite name, key columns for sample rows). Each suite uses ``topic_ids`` where
# the mart has topics.
ANALYST_MARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "marts.negative_share_daily": ("marts_negative_share_daily", ("activity_date", "topic_id", "lang")),
    "marts.top_authors": ("marts_top_authors", ("engagement_rank", "author_key")),
    "marts.topics_over_time": ("marts_topics_over_time", ("period", "period_start_date", "topic_id")),
    "marts.riskiest_domains": ("marts_riskiest_domains", ("risk_rank", "domain")),
}


def _between(column: str, low: float | None, high: float | None, severity: str = CRITICAL) -> Any:
    return _e().ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high, severity=severity)


def _key(columns: list[str]) -> list[Any]:
    e = _e()
    if len(columns) == 1:
        return [e.ExpectColumnValuesToNotBeNull(column=columns[0], severity=CRITICAL),
                e.ExpectColumnValuesToBeUnique(column=columns[0], severity=CRITICAL)]
    return [e.ExpectColumnValuesToNotBeNull(column=c, severity=CRITICAL) for c in columns] + [
        e.ExpectCompoundColumnsToBeUnique(column_list=columns, severity=CRITICAL)]


def _topic_in_taxonomy() -> Any:
    return _e().ExpectColumnValuesToBeInSet(
        column="topic_id", value_set=_param("topic_ids"), severity=CRITICAL,
        meta={"expected": "a topic_id from marts.topics"})


def analyst_mart_suite(relation: str) -> gx.ExpectationSuite:
    """The suite of one of ``ANALYST_MARTS``: its key, ranks, ranges and labels."""
    e = _e()
    name, _ = ANALYST_MARTS[relation]
    if relation == "marts.negative_share_daily":
        expectations = [
            *_key(["activity_date", "topic_id", "lang"]),
            _topic_in_taxonomy(),
            e.ExpectColumnValuesToNotBeNull(column="topic_label_en", severity=CRITICAL),
            _between("posts", 1, None),
            _between("negative_share", 0, 1),
            _between("positive_share", 0, 1),
            _between("mean_sentiment_score", -1, 1),
        ]
        note = "Date x topic x language: posts and negative share."
    elif relation == "marts.top_authors":
        expectations = [
            *_key(["engagement_rank"]),
            *_key(["author_key"]),
            _between("engagement_rank", 1, None),
            _between("posts", 1, None),
            _between("shares", 0, None),
            _between("replies", 0, None),
        ]
        note = "Authors ranked by engagement (pseudonymised author_key only)."
    elif relation == "marts.topics_over_time":
        expectations = [
            *_key(["period", "period_start_date", "topic_id"]),
            e.ExpectColumnValuesToBeInSet(column="period", value_set=["day", "week"], severity=CRITICAL),
            _topic_in_taxonomy(),
            e.ExpectColumnValuesToNotBeNull(column="topic_label_en", severity=CRITICAL),
            _between("volume", 0, None),
            _between("share_of_voice", 0, 1),
            _between("mean_sentiment_score", -1, 1),
        ]
        note = "Topic volume per day and per week, with labels."
    elif relation == "marts.riskiest_domains":
        expectations = [
            *_key(["risk_rank"]),
            *_key(["domain"]),
            _between("risk_rank", 1, None),
            e.ExpectColumnValuesToNotBeNull(column="credibility_rating", severity=CRITICAL),
            _between("credibility_rating", 0, 1),
            _between("posts", 1, None),
            _between("high_risk_share", 0, 1),
        ]
        note = "Low-credibility sites ranked by how often they were shared."
    else:  # pragma: no cover - ANALYST_MARTS and this function are edited together
        raise KeyError(relation)
    return _new_suite(name, f"{relation}: {note}", expectations)


def volume_suite() -> gx.ExpectationSuite:
    """Each platform's posts on the latest day against its trailing baseline (see ``check_volume``)."""
    e = _e()
    return _new_suite(
        VOLUME_SUITE,
        "Daily volume per platform against its trailing baseline.",
        [
            e.ExpectColumnValuesToBeBetween(
                column="relative_change",
                min_value={"$PARAMETER": "min_relative_change"},
                max_value=_param("max_relative_change"),
                severity=WARNING,
                meta={"expected": "|posts - baseline| / baseline within the volume threshold"},
            )
        ],
    )


def suite_columns(suite: gx.ExpectationSuite) -> list[str]:
    """Every column the suite's expectations reference, in first-use order."""
    out: list[str] = []
    for exp in suite.expectations:
        cfg = exp.configuration.kwargs
        names: list[str] = []
        for key in ("column", "column_A", "column_B"):
            if isinstance(cfg.get(key), str):
                names.append(cfg[key])
        names += list(cfg.get("column_list") or [])
        for n in names:
            if n not in out:
                out.append(n)
    return out


def expectation_severity(exp_config: dict[str, Any]) -> str:
    """``error`` (blocks publish) or ``warning``, from an expectation config's GX severity."""
    sev = str(exp_config.get("severity") or CRITICAL).lower()
    return "error" if sev == CRITICAL else "warning"
