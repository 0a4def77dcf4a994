"""The analyst report: one self-contained HTML file with interactive charts, from the published marts.

Written to ``<home>/reports/report-<UTC timestamp>.html`` and copied to ``reports/latest.html``; both
appear atomically. It reads only the published warehouse (read-only), so it shows what analysts see.
The page comes from the jinja2 templates in ``discourse/templates`` (autoescape on); charts are plotly
figures drawn by plotly.js, which is inlined once in the page, so the file works offline and loads
nothing from the network (docs/report.md).

Everything from the data is escaped (in chart JSON too: no string can end a ``<script>``); a post's
URL becomes a link only when it is ``http(s)://`` (an export can carry ``javascript:`` or ``data:``
URLs), and links open with ``rel="noopener noreferrer"``. A warehouse published by ``discourse demo``
(``marts.about.demo``) gets a banner saying so.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from discourse.report_html import (
    Markup,
    chart,
    environment,
    label,
    macros,
    plotly_js,
    safe_link,
    section,
    style_figure,
)
from discourse.report_html import columns as _columns
from discourse.report_html import has_table as _has
from discourse.report_html import table as _table
from discourse.report_network import network_section
from discourse.settings import Settings, apply_duckdb_limits

__all__ = ["Markup", "build_report", "filler_words", "safe_link"]

TOP_TOPICS = 8  # topics drawn over time
TRENDING_SHOWN = 25
MIN_TERM_LENGTH = 3  # shorter tokens are not shown as trending terms
_SENTIMENT_COLORS = {"negative": "#cf222e", "neutral": "#8c959f", "positive": "#1a7f37"}
_EMOTION_COLORS = {"anger": "#cf222e", "fear": "#8250df", "joy": "#d4a72c", "sadness": "#0969da",
                   "love": "#bf3989", "surprise": "#1a7f37"}


class Section(NamedTuple):
    anchor: str  # the id of its <section>, linked from the page's contents
    title: str
    body: Markup  # starts with the section's own <h2>


def build_report(settings: Settings) -> Path:
    import duckdb

    if not settings.warehouse.exists():
        raise FileNotFoundError(f"{settings.warehouse}: nothing published yet")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    apply_duckdb_limits(con, settings, spill="report")
    try:
        demo = _is_demo(con)
        cols = _columns(con, "marts.posts")
        _summarise_posts(con, cols)
        names = _topic_names(con)
        kpis, per_platform = _overview(con, cols)
        sections = [Section("platforms", "Posts per platform",
                            section("Posts per platform", _table(per_platform, ["platform", "posts"])))]
        sections += _volume(con)
        sections += _sentiment(con, cols, names)
        sections += _emotion(con, names)
        sections += _topics(con, cols, names)
        sections += _misinfo(con, cols)
        sections += _clusters(con, cols)
        sections += _spikes(con, names)
        sections += _trending(con, settings)
        sections += _emerging(con)
        network = network_section(con)
        if network:
            sections.append(Section("network", "Conversation network", Markup("\n".join(network))))
    finally:
        con.close()

    sections.append(Section("quarantine", "Quarantined records", section(
        "Quarantined records", _table(_quarantine_summary(settings), ["platform", "reason", "records"]))))
    sections.append(Section("ingest", "Ingest by export format", section(
        "Ingest by export format", _table(_ingest_summary(settings), [
            "format", "batches", "posts", "quarantined", "duplicates", "skipped (top reasons)",
            "last ingest"]))))
    sections.append(Section("alerts", "Data-quality alerts", section(
        "Data-quality alerts",
        _table(_recent_alerts(settings), ["sent", "stage", "severity", "alert", "summary"]),
        intro="The latest alerts sent to maintainers (gates, schema drift, volume), newest first.")))

    now = datetime.now(UTC)
    has_charts = any('class="plotly-graph-div"' in s.body for s in sections)  # data has &#34; for "
    body = environment().get_template("report.html.j2").render(
        warehouse=str(settings.warehouse), generated=f"{now:%Y-%m-%d %H:%M}", demo=demo, kpis=kpis,
        sections=sections, plotly_js=plotly_js() if has_charts else None)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / f"report-{now:%Y%m%dT%H%M%SZ}.html"
    for target in (path, settings.reports_dir / "latest.html"):
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, target)
    return path


def _is_demo(con: Any) -> bool:
    """Whether the warehouse was published by ``discourse demo`` (``marts.about.demo``)."""
    if not _has(con, "marts.about") or "demo" not in _columns(con, "marts.about"):
        return False
    row = con.execute("select bool_or(demo) from marts.about").fetchone()
    return bool(row and row[0])


def _topic_names(con: Any) -> dict[str, str]:
    """Topic id -> English label (``marts.topics``); ids without one are shown as they are."""
    if not _has(con, "marts.topics") or not {"topic_id", "label_en"} <= _columns(con, "marts.topics"):
        return {}
    return {t: n for t, n in con.execute("select topic_id, label_en from marts.topics").fetchall() if n}


def _name(names: dict[str, str], topic: Any) -> str:
    return "(no topic)" if topic is None else names.get(topic, str(topic))


def _summarise_posts(con: Any, cols: set[str]) -> None:
    """``posts_summary``, a temporary table: ``marts.posts`` counted by day, platform, language,
    sentiment label, primary topic and risk level, with the sums the charts' means need.

    The charts and tables over posts read this instead of ``marts.posts``: one scan of the mart, not
    one per chart (at 10M posts a scan of the published Parquet costs seconds). Its size depends on
    the days and categories, not on the number of posts. A column the mart lacks is NULL here (the
    sections that need it are skipped)."""
    def col(name: str) -> str:
        return name if name in cols else "null"

    con.execute(
        "create or replace temp table posts_summary as select "
        "cast(created_at as date) as d, platform, "
        f"{col('lang')} as lang, {col('sentiment_label')} as sentiment_label, "
        f"{col('primary_topic')} as primary_topic, {col('misinfo_risk_level')} as misinfo_risk_level, "
        "count(*) as n, "
        f"sum({col('sentiment_score')}::decimal(18, 8)) as sentiment_sum, "
        f"count({col('sentiment_score')}) as sentiment_n, "
        f"sum({col('misinfo_risk_score')}::decimal(18, 8)) as risk_sum, "
        f"count({col('misinfo_risk_score')}) as risk_n, "
        "min(created_at) as first_at, max(created_at) as last_at "
        "from marts.posts group by all")


# The mean of a score over the summary's rows (NULL when none has one, as avg() would be). The sums are
# decimals: a float sum depends on the order DuckDB's threads add the rows in, and the same marts
# drew charts that differed in the last digits from one report to the next.
_MEAN_SENTIMENT = "(sum(sentiment_sum) / nullif(sum(sentiment_n), 0))::double"
_MEAN_RISK = "(sum(risk_sum) / nullif(sum(risk_n), 0))::double"


def _overview(con: Any, cols: set[str]) -> tuple[list[tuple[str, str]], list[tuple]]:
    total, first, last = con.execute(
        "select coalesce(sum(n), 0)::bigint, min(first_at), max(last_at) from posts_summary").fetchone()
    authors = con.execute("select count(distinct author_key) from marts.posts").fetchone()[0]
    per_platform = con.execute(
        "select platform, sum(n)::bigint as n from posts_summary group by 1 order by n desc, 1").fetchall()
    kpis = [("posts", f"{total:,}"), ("authors", f"{authors:,}"), ("platforms", str(len(per_platform))),
            ("from", str(first)[:10] if first else "–"), ("to", str(last)[:10] if last else "–")]
    if "misinfo_risk_level" in cols:
        high = con.execute("select coalesce(sum(n), 0)::bigint from posts_summary "
                           "where misinfo_risk_level = 'high'").fetchone()[0]
        kpis.append(("high misinfo risk", f"{high:,}"))
    return kpis, per_platform


def _volume(con: Any) -> list[Section]:
    import plotly.graph_objects as go

    daily = con.execute(
        "select d, platform, sum(n)::bigint from posts_summary group by 1, 2 order by 2, 1").fetchall()
    if not daily:
        return []
    fig = go.Figure()
    for p in sorted({r[1] for r in daily}, key=str):
        pts = [r for r in daily if r[1] == p]
        fig.add_trace(go.Scatter(x=[r[0] for r in pts], y=[r[2] for r in pts], name=label(p),
                                 mode="lines+markers", marker={"size": 5}))
    style_figure(fig, "Daily posts by platform", x="date (UTC)", y="posts", legend="platform")
    return [Section("volume", "Volume", section("Volume", chart(fig, "chart-volume", "daily volume")))]


def _sentiment(con: Any, cols: set[str], names: dict[str, str]) -> list[Section]:
    if not {"sentiment_label", "lang"} <= cols:
        return []
    import plotly.graph_objects as go

    blocks: list[Any] = []
    langs = [r[0] for r in con.execute(
        "select lang from posts_summary group by 1 order by sum(n) desc, 1 limit 8").fetchall()]
    rows = {(lg, s): n for lg, s, n in con.execute(
        "select lang, sentiment_label, sum(n)::bigint from posts_summary group by 1, 2").fetchall()}
    tot = {lg: sum(n for (x, _s), n in rows.items() if x == lg) or 1 for lg in langs}
    fig = go.Figure()
    for s, color in _SENTIMENT_COLORS.items():
        counts = [rows.get((lg, s), 0) for lg in langs]
        fig.add_trace(go.Bar(x=[label(lg) for lg in langs], y=[n / tot[lg] for n, lg in zip(counts, langs,
                                                                                        strict=True)],
                             name=s, marker_color=color, customdata=counts,
                             hovertemplate="%{y:.1%} (%{customdata} posts)"))
    style_figure(fig, "Sentiment by detected language", x="language", y="share of posts",
                 legend="sentiment", height=340)
    fig.update_layout(barmode="stack", yaxis_tickformat=".0%")
    blocks.append(chart(fig, "chart-sentiment-lang", "sentiment by language"))

    daily = con.execute(
        "select d, coalesce(sum(n) filter (where sentiment_label = 'negative'), 0)::bigint, "
        "coalesce(sum(n) filter (where sentiment_label = 'neutral'), 0)::bigint, "
        "coalesce(sum(n) filter (where sentiment_label = 'positive'), 0)::bigint, sum(n)::bigint "
        "from posts_summary group by 1 order by 1").fetchall()
    if daily:
        fig = go.Figure()
        for i, (s, color) in enumerate(_SENTIMENT_COLORS.items()):
            fig.add_trace(go.Scatter(
                x=[r[0] for r in daily], y=[r[1 + i] / (r[4] or 1) for r in daily], name=s,
                stackgroup="share", line={"color": color, "width": 0.5}, customdata=[r[1 + i] for r in daily],
                hovertemplate="%{y:.1%} (%{customdata} posts)"))
        style_figure(fig, "Sentiment over time (share of the day's posts)", x="date (UTC)",
                     y="share of posts", legend="sentiment", height=340)
        fig.update_layout(yaxis_tickformat=".0%")
        blocks.append(chart(fig, "chart-sentiment-daily", "sentiment over time"))

    if {"primary_topic", "sentiment_score"} <= cols:
        per_topic = con.execute(
            "with top as (select primary_topic from posts_summary where primary_topic is not null "
            "group by 1 order by sum(n) desc, 1 limit ?) "
            f"select primary_topic, d, {_MEAN_SENTIMENT}, sum(n)::bigint "
            "from posts_summary where primary_topic in (select primary_topic from top) "
            "group by 1, 2 order by 1, 2", [TOP_TOPICS]).fetchall()
        if per_topic:
            fig = go.Figure()
            for topic in dict.fromkeys(r[0] for r in per_topic):
                pts = [r for r in per_topic if r[0] == topic]
                fig.add_trace(go.Scatter(
                    x=[r[1] for r in pts], y=[r[2] for r in pts], name=label(_name(names, topic)),
                    mode="lines+markers", marker={"size": 4}, customdata=[r[3] for r in pts],
                    hovertemplate="%{y:.3f} (%{customdata} posts)"))
            style_figure(fig, f"Mean sentiment per topic over time (the {TOP_TOPICS} busiest topics)",
                         x="date (UTC)", y="mean sentiment score (−1 to 1)", legend="topic", height=420)
            fig.add_hline(y=0, line={"color": "#8c959f", "width": 1, "dash": "dot"})
            blocks.append(chart(fig, "chart-sentiment-topics", "mean sentiment per topic over time"))

    blocks.append(_table(
        con.execute(f"select lang, sum(n)::bigint, round({_MEAN_SENTIMENT}, 3) from posts_summary "
                    "group by 1 order by 2 desc, 1").fetchall(),
        ["lang", "posts", "mean sentiment"]))
    return [Section("sentiment", "Sentiment", section("Sentiment", *blocks))]


def _emotion(con: Any, names: dict[str, str], top_topics: int = 6) -> list[Section]:
    """Emotion over time per topic (``marts.emotion_daily``): one panel per busiest topic with the
    daily share of each emotion among its posts, and a table of each topic's emotion mix."""
    if not _has(con, "marts.emotion_daily"):
        return []
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    emotions = list(_EMOTION_COLORS)
    shares = ", ".join(f"sum({e}_share * posts) / sum(posts)" for e in emotions)
    topics = [r[0] for r in con.execute(
        "select topic_id from marts.emotion_daily group by 1 order by sum(posts) desc, 1 limit ?",
        [top_topics]).fetchall()]
    if not topics:
        return []
    rows = con.execute(
        f"select topic_id, activity_date, sum(posts), {shares} from marts.emotion_daily "
        f"where topic_id in (select unnest(?)) group by 1, 2 order by 1, 2", [topics]).fetchall()
    ncols = 2 if len(topics) > 1 else 1
    nrows = math.ceil(len(topics) / ncols)
    fig = make_subplots(rows=nrows, cols=ncols, shared_yaxes=True, vertical_spacing=0.14 / max(1, nrows - 1)
                        if nrows > 1 else 0.1, horizontal_spacing=0.06,
                        subplot_titles=[label(_name(names, t)) for t in topics])
    for i, topic in enumerate(topics):
        pts = [r for r in rows if r[0] == topic]
        for j, e in enumerate(emotions):
            fig.add_trace(go.Scatter(
                x=[r[1] for r in pts], y=[float(r[3 + j] or 0) for r in pts], name=e, legendgroup=e,
                showlegend=i == 0, stackgroup=f"topic{i}", line={"color": _EMOTION_COLORS[e], "width": 0.5},
                customdata=[r[2] for r in pts], hovertemplate=f"{e}: %{{y:.1%}} of %{{customdata}} posts"
                                                              "<extra></extra>"),
                row=i // ncols + 1, col=i % ncols + 1)
    style_figure(fig, "Emotion over time per topic (share of the topic's posts; the rest is neutral)",
                 legend="emotion", height=180 + 220 * nrows)
    fig.update_yaxes(tickformat=".0%")
    fig.update_yaxes(title_text="share of posts", col=1)
    fig.update_annotations(font_size=12)
    mix = con.execute(
        f"select topic_id, sum(posts), round(sum(emotional_posts) / sum(posts), 3), {shares} "
        "from marts.emotion_daily group by 1 order by 2 desc, 1 limit 15").fetchall()
    table = [(_name(names, t), n, share, max(zip(vals, emotions, strict=True))[1] if any(vals) else "–",
              *[round(float(v), 3) for v in vals])
             for t, n, share, *vals in mix]
    return [Section("emotion", "Emotion", section(
        "Emotion", chart(fig, "chart-emotion", "emotion over time per topic"),
        _table(table, ["topic", "posts", "emotional share", "dominant", *emotions])))]


def _topics(con: Any, cols: set[str], names: dict[str, str]) -> list[Section]:
    if "primary_topic" not in cols:
        return []
    import plotly.graph_objects as go

    mean = f"round({_MEAN_SENTIMENT}, 3)" if "sentiment_score" in cols else "null"
    top = [(_name(names, t), n, s) for t, n, s in con.execute(
        f"select primary_topic, sum(n)::bigint as n, {mean} from posts_summary group by 1 "
        f"order by n desc, 1 nulls last limit 15").fetchall()]
    fig = go.Figure(go.Bar(x=[r[1] for r in reversed(top)], y=[label(r[0]) for r in reversed(top)],
                           orientation="h", marker_color="#0969da",
                           hovertemplate="%{x} posts<extra></extra>"))
    style_figure(fig, "Posts by primary topic", x="posts", height=max(300, 60 + 26 * len(top)),
                 hover="closest")
    fig.update_yaxes(automargin=True)
    blocks = [chart(fig, "chart-topics", "posts by primary topic")]

    daily = con.execute(
        "with top as (select primary_topic from posts_summary where primary_topic is not null "
        "group by 1 order by sum(n) desc, 1 limit ?) "
        "select primary_topic, d, sum(n)::bigint from posts_summary "
        "where primary_topic in (select primary_topic from top) group by 1, 2 order by 1, 2",
        [TOP_TOPICS]).fetchall()
    if daily:
        fig = go.Figure()
        for topic in dict.fromkeys(r[0] for r in daily):
            pts = [r for r in daily if r[0] == topic]
            fig.add_trace(go.Scatter(x=[r[1] for r in pts], y=[r[2] for r in pts], mode="lines+markers",
                                     name=label(_name(names, topic)), marker={"size": 4}))
        style_figure(fig, f"Topics over time (posts per day, the {TOP_TOPICS} busiest topics)",
                     x="date (UTC)", y="posts", legend="topic", height=420)
        blocks.append(chart(fig, "chart-topics-daily", "topics over time"))
    blocks.append(_table(top, ["topic", "posts", "mean sentiment"]))
    return [Section("topics", "Topics", section("Topics", *blocks))]


def _misinfo(con: Any, cols: set[str]) -> list[Section]:
    if not {"misinfo_risk_score", "misinfo_reasons"} <= cols:
        return []
    import plotly.graph_objects as go

    blocks: list[Any] = []
    by_day = con.execute(
        "select d, coalesce(sum(n) filter (where misinfo_risk_level = 'high'), 0)::bigint, "
        f"{_MEAN_RISK} from posts_summary group by 1 order by 1").fetchall()
    if by_day:
        fig = go.Figure()
        fig.add_trace(go.Bar(x=[r[0] for r in by_day], y=[r[1] for r in by_day], name="high-risk posts",
                             marker_color="#bc4c00"))
        fig.add_trace(go.Scatter(x=[r[0] for r in by_day], y=[r[2] for r in by_day], name="mean risk score",
                                 yaxis="y2", mode="lines+markers", line={"color": "#57606a"}))
        style_figure(fig, "High-risk posts per day", x="date (UTC)", y="high-risk posts", height=340)
        fig.update_layout(yaxis2={"title": {"text": "mean risk score"}, "overlaying": "y", "side": "right",
                                  "rangemode": "tozero", "showgrid": False, "tickformat": ".2f"})
        blocks.append(chart(fig, "chart-risk", "high-risk posts per day"))
    url_col = "url" if "url" in cols else "null"
    # One row per story: posts matching the same fact-checked claim, in the same coordinated cluster, or
    # with the same words (a repost's "RT @user:" and punctuation aside) are counted, not listed.
    keys = ["'claim:' || matched_claim_ids[1]"] if "matched_claim_ids" in cols else []
    keys += ["'cluster:' || cluster_id"] if "cluster_id" in cols else []
    keys.append("regexp_replace(lower(regexp_replace(coalesce(text, post_uid), '^RT @[^ ]+:?\\s*', '')), "
                "'[^[:alnum:]]+', '', 'g')")
    group = f"coalesce({', '.join(keys)})"
    cluster = "cluster_id" if "cluster_id" in cols else "null"
    risky = con.execute(
        "select (created_at::varchar)[:16], platform, round(misinfo_risk_score, 2), left(text, 180), "
        f"n_similar, {cluster}, misinfo_reasons, {url_col} from ("
        f"  select *, count(*) over (partition by {group}) as n_similar from marts.posts "
        "  where misinfo_risk_score > 0"
        f"  qualify row_number() over (partition by {group} "
        "    order by misinfo_risk_score desc, created_at, post_uid) = 1) "
        "order by misinfo_risk_score desc, created_at, post_uid limit 15").fetchall()
    rows = [(*r[:4], r[4], r[5] or "", r[6], safe_link(r[7], "post") if r[7] else "") for r in risky]
    blocks.append(section(
        "Riskiest posts", _table(rows, ["created", "platform", "risk", "text", "similar posts", "cluster",
                                        "reasons", "link"]),
        intro="One row per story, its riskiest post: posts that match the same fact-checked claim, sit in "
              "the same coordinated cluster or repeat the same words (reposts too) are counted under "
              "'similar posts', not listed (a cluster's posts are under Coordinated clusters).", level=3))
    return [Section("misinfo", "Misinformation risk", section("Misinformation risk", *blocks))]


def _clusters(con: Any, cols: set[str], limit: int = 10, posts_each: int = 100) -> list[Section]:
    """Coordinated clusters, one row each, and each cluster's posts behind a toggle."""
    if not _has(con, "marts.coordinated_clusters"):
        return []
    ccols = _columns(con, "marts.coordinated_clusters")
    clusters = con.execute(
        "select priority_rank, cluster_id, n_posts, n_accounts, array_to_string(platforms, ', '), "
        "(first_seen_at::varchar)[:16], (last_seen_at::varchar)[:16], round(span_minutes), "
        "left(sample_text, 200) from marts.coordinated_clusters order by priority_rank, cluster_id limit ?",
        [limit]).fetchall()
    details = []
    ids = [c[1] for c in clusters]
    # Every listed cluster's first posts, in one scan of marts.posts.
    if "post_uids" in ccols:
        key = "m.cluster_id"
        members = ("(select cluster_id, unnest(post_uids) as post_uid from marts.coordinated_clusters "
                   "where cluster_id in (select unnest(?::varchar[]))) as m inner join marts.posts as p "
                   "on p.post_uid = m.post_uid")
    elif "cluster_id" in cols:
        key = "p.cluster_id"
        members = "marts.posts as p where p.cluster_id in (select unnest(?::varchar[]))"
    else:
        key = members = None
    by_cluster: dict[Any, list[tuple]] = {}
    if members and ids:
        url = "p.url" if "url" in cols else "null"
        for cid, *post in con.execute(
                f"select {key}, (p.created_at::varchar)[:16], p.platform, left(p.author_key, 12), "
                f"left(p.text, 280), {url} from {members} "
                f"qualify row_number() over (partition by {key} order by p.created_at, p.post_uid) <= ? "
                "order by 1, p.created_at, p.post_uid",
                [ids, posts_each]).fetchall():
            by_cluster.setdefault(cid, []).append(tuple(post))
    for rank, cid, n_posts, *_rest in clusters:
        if members is None:
            continue
        posts = by_cluster.get(cid, [])
        shown = f"the first {len(posts)} of {n_posts:,}" if len(posts) < n_posts else f"{len(posts):,}"
        details.append(macros().details(
            f"Cluster {rank} ({cid}): {shown} posts",
            _table([(*p[:4], safe_link(p[4], "post") if p[4] else "") for p in posts],
                   ["created", "platform", "account", "text", "link"])))
    intro = ("Near-verbatim posts by many accounts within a short time, highest priority first; open a "
             "cluster below the table to read its posts. Accounts are pseudonymised keys (first 12 "
             "characters).")
    return [Section("clusters", "Coordinated clusters", section(
        "Coordinated clusters", _table(
            clusters, ["rank", "cluster", "posts", "accounts", "platforms", "first seen", "last seen",
                       "minutes", "sample text"]), *details, intro=intro))]


def _spikes(con: Any, names: dict[str, str]) -> list[Section]:
    if not _has(con, "marts.topic_daily"):
        return []
    spikes = con.execute(
        "select activity_date, platform, topic_id, volume, baseline_median, round(spike_score, 1) "
        "from marts.topic_daily where is_spike order by spike_score desc, activity_date, topic_id limit 15"
    ).fetchall()
    return [Section("spikes", "Topic spikes", section("Topic spikes", _table(
        [(d, p, _name(names, t), *rest) for d, p, t, *rest in spikes],
        ["date", "platform", "topic", "posts", "baseline", "spike score"])))]


def filler_words(settings: Settings) -> set[str]:
    """Words that say nothing on their own: the Indonesian and English stopwords (``stopwordsiso``),
    slang spellings of them (the ``slang_normalisation`` seed: 'udah' for 'sudah') and the sentiment
    modifiers (negators, boosters such as 'banget'). Empty when the lists cannot be read."""
    import csv

    from discourse.transform.stopwords import StopwordsError, stopword_table

    try:
        words = set(stopword_table()["term"].to_pylist())
    except StopwordsError:
        return set()
    try:
        from discourse.transform.runner import TransformError, dbt_project_dir

        seeds = dbt_project_dir(settings) / "seeds"
    except TransformError:
        return words
    stopwords = frozenset(words)
    for name, column, keep in (("slang_normalisation.csv", "slang", lambda r: r["standard"] in stopwords),
                               ("sentiment_modifiers.csv", "term", lambda _r: True)):
        try:
            with (seeds / name).open(encoding="utf-8", newline="") as fh:
                words |= {r[column].strip().lower() for r in csv.DictReader(fh) if r[column] and keep(r)}
        except (OSError, KeyError):
            continue
    return words


def _is_filler(term: str, term_type: str, filler: set[str]) -> bool:
    if term_type == "hashtag":
        return len(term) < MIN_TERM_LENGTH
    return any(len(w) < MIN_TERM_LENGTH or w in filler or w.isdigit() for w in term.split())


def _trending(con: Any, settings: Settings) -> list[Section]:
    """Trending terms (``marts.trending_terms``) strongest spike first, without filler words, and a
    term shown once a day when it also trends as a hashtag."""
    if not _has(con, "marts.trending_terms"):
        return []
    rows = con.execute(
        "select activity_date, term, term_type, post_count, baseline_median, round(spike_score, 1) "
        "from marts.trending_terms where is_trending "
        "order by spike_score desc, post_count desc, activity_date, term, term_type limit 2000").fetchall()
    filler = filler_words(settings)
    hashtags = {(d, t.lstrip("#").lower()) for d, t, kind, *_ in rows if kind == "hashtag"}
    kept, dropped = [], 0
    for d, term, kind, n, base, score in rows:
        if _is_filler(term, kind, filler) or (kind == "term" and (d, term.lower()) in hashtags):
            dropped += 1
            continue
        shown = term if kind != "hashtag" or term.startswith("#") else f"#{term}"
        kept.append((d, shown, kind, n, base, score))
    intro = (f"Terms, bigrams and hashtags used far more than on their previous days, strongest spike "
             f"first. Left out here: {dropped:,} trending rows that are stopwords (Indonesian, English), "
             f"their slang spellings, sentiment modifiers or tokens shorter than {MIN_TERM_LENGTH} "
             f"characters, and words that also trend as the same day's hashtag.")
    return [Section("trending", "Trending terms", section("Trending terms", _table(
        kept[:TRENDING_SHOWN], ["date", "term", "type", "posts", "baseline", "spike score"]), intro=intro))]


def _emerging(con: Any, limit: int = 12) -> list[Section]:
    """The strongest emerging stories (``marts.emerging_stories``, docs/emerging-stories.md)."""
    if not _has(con, "marts.emerging_stories"):
        return []
    rows = con.execute(
        "select activity_date, story_rank, label, posts, growth, round(spike_score, 1), "
        "array_to_string(platforms, ', '), array_to_string(languages, ', '), "
        "round(mean_sentiment, 2), round(mean_misinfo_risk, 2), "
        "round(100 * no_topic_share) || '%' || coalesce(' (' || top_topic || ')', '') "
        "from marts.emerging_stories order by spike_score desc, posts desc, story_id limit ?", [limit]
    ).fetchall()
    note = ("Terms and hashtags that spiked together in the same posts, strongest first: how stories "
            "outside the taxonomy show up. Growth is the day's posts over the story's trailing daily "
            "median; 'no topic' is the share of its posts without a taxonomy topic (and the topic most of "
            "the others have).")
    return [Section("emerging", "Emerging stories", section("Emerging stories", _table(
        rows, ["date", "rank that day", "story", "posts", "growth", "spike score", "platforms", "languages",
               "sentiment", "misinfo risk", "no topic"]), intro=note))]


def _ingest_summary(settings: Settings) -> list[tuple]:
    """Per export format: batches, posts, quarantined, duplicates, the commonest skip reasons."""
    from ingest.lake import lake_manifests

    by_format: dict[str, dict[str, Any]] = {}
    for m in lake_manifests(settings):
        f = by_format.setdefault(m.get("export_format", "?"), {"batches": 0, "loaded": 0, "quarantined": 0,
                                                              "dups": 0, "skipped": {}, "last": ""})
        f["batches"] += 1
        f["loaded"] += m.get("loaded", 0)
        f["quarantined"] += m.get("quarantined", 0)
        f["dups"] += m.get("duplicates_within_batch", 0)
        for reason, n in (m.get("skipped") or {}).items():
            f["skipped"][reason] = f["skipped"].get(reason, 0) + n
        f["last"] = max(f["last"], str(m.get("ingested_at", ""))[:16])
    rows = []
    for fmt, f in sorted(by_format.items(), key=lambda kv: -kv[1]["loaded"]):
        top = sorted(f["skipped"].items(), key=lambda kv: -kv[1])[:3]
        rows.append((fmt, f["batches"], f"{f['loaded']:,}", f"{f['quarantined']:,}", f"{f['dups']:,}",
                     ", ".join(f"{r} {n:,}" for r, n in top), f["last"]))
    return rows


def _recent_alerts(settings: Settings, limit: int = 15) -> list[tuple]:
    rows = []
    for path in sorted(settings.alerts_dir.glob("*.json"), reverse=True)[:limit]:
        try:
            a = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append((str(a.get("created_at", ""))[:16], a.get("stage"), a.get("severity"), a.get("title"),
                     str(a.get("summary", ""))[:300]))
    return rows


def _quarantine_summary(settings: Settings) -> list[tuple]:
    import duckdb

    from ingest.lake import lake_paths
    from ingest.objectstore import lake_store

    files = lake_paths(settings, "quarantine/platform=*/*.parquet")  # local paths or s3:// URLs
    if not files:
        return []
    con = duckdb.connect()
    store = lake_store(settings)
    if store is not None:
        store.register(con)
    try:
        return con.execute(
            # the reasons without the URLs and @handles some adapters quote (they name accounts)
            "select platform, regexp_replace(regexp_replace(regexp_replace(error, "
            "'https?://[^\\s''\"]+', '<url>', 'g'), '(^|[^A-Za-z0-9_])@[A-Za-z0-9_][A-Za-z0-9_.]*', "
            "'\\1@user', 'g'), '[0-9]+', 'N', 'g') as reason, count(*) "
            "from read_parquet(?, union_by_name = true) group by 1, 2 order by 3 desc, 1, 2 limit 30",
            [[str(f) for f in files]]).fetchall()
    finally:
        con.close()


