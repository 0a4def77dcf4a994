"""The analyst report: one self-contained HTML file (charts embedded as PNG) from the published marts.

Written to ``<home>/reports/report-<UTC timestamp>.html`` and copied to ``reports/latest.html``; both
appear atomically. It reads only the published warehouse (read-only), so it shows what analysts see.

Everything from the data is escaped; a post's URL becomes a link only when it is ``http(s)://`` (an
export can carry ``javascript:`` or ``data:`` URLs), and links open with ``rel="noopener noreferrer"``.
A warehouse published by ``discourse demo`` (``marts.about.demo``) gets a banner saying so.
"""

from __future__ import annotations

import html
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discourse.report_html import Markup, safe_link
from discourse.report_html import columns as _columns
from discourse.report_html import has_table as _has
from discourse.report_html import png as _png
from discourse.report_html import table as _table
from discourse.settings import Settings

__all__ = ["Markup", "build_report", "safe_link"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2328;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.muted{color:#656d76} table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem}
.kpi b{display:block;font-size:1.4rem} img{max-width:100%}
.demo{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.6rem 1rem;font-weight:600}
"""


def build_report(settings: Settings) -> Path:
    import duckdb
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not settings.warehouse.exists():
        raise FileNotFoundError(f"{settings.warehouse}: nothing published yet")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    sections: list[str] = []
    try:
        banner = _demo_banner(con)
        if banner:
            sections.append(banner)
        cols = _columns(con, "marts.posts")
        total, authors, first, last = con.execute(
            "select count(*), count(distinct author_key), min(created_at), max(created_at) from marts.posts"
        ).fetchone()
        per_platform = con.execute(
            "select platform, count(*) as n from marts.posts group by 1 order by n desc").fetchall()
        kpis = [("posts", f"{total:,}"), ("authors", f"{authors:,}"),
                ("platforms", str(len(per_platform))),
                ("from", str(first)[:10] if first else "–"), ("to", str(last)[:10] if last else "–")]
        if "misinfo_risk_level" in cols:
            high = con.execute(
                "select count(*) from marts.posts where misinfo_risk_level = 'high'").fetchone()[0]
            kpis.append(("high misinfo risk", f"{high:,}"))
        sections.append("<div class='kpis'>" + "".join(
            f"<div class='kpi'><span class='muted'>{k}</span><b>{html.escape(v)}</b></div>"
            for k, v in kpis) + "</div>")
        sections.append("<h2>Posts per platform</h2>" + _table(per_platform, ["platform", "posts"]))

        daily = con.execute(
            "select cast(created_at as date) as d, platform, count(*) from marts.posts "
            "group by 1, 2 order by 1").fetchall()
        if daily:
            fig, ax = plt.subplots(figsize=(10, 3.6))
            for p in sorted({r[1] for r in daily}):
                pts = [(r[0], r[2]) for r in daily if r[1] == p]
                ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", ms=3, label=p)
            ax.set_title("Daily posts by platform")
            ax.legend(loc="upper left", fontsize=8)
            ax.grid(alpha=.3)
            fig.autofmt_xdate()
            sections.append(f"<h2>Volume</h2><img src='{_png(fig)}' alt='daily volume'>")

        if {"sentiment_label", "lang"} <= cols:
            rows = con.execute(
                "select lang, sentiment_label, count(*) from marts.posts group by 1, 2").fetchall()
            langs = [r[0] for r in con.execute(
                "select lang from marts.posts group by 1 order by count(*) desc limit 8").fetchall()]
            fig, ax = plt.subplots(figsize=(8, 3.4))
            bottom = [0.0] * len(langs)
            tot = {lg: sum(r[2] for r in rows if r[0] == lg) or 1 for lg in langs}
            for label, color in (("negative", "#cf222e"), ("neutral", "#8c959f"), ("positive", "#1a7f37")):
                vals = [next((r[2] for r in rows if r[0] == lg and r[1] == label), 0) / tot[lg]
                        for lg in langs]
                ax.bar([str(x) for x in langs], vals, bottom=bottom, label=label, color=color)
                bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
            ax.set_ylabel("share of posts")
            ax.set_title("Sentiment by detected language")
            ax.legend(fontsize=8)
            sections.append(f"<h2>Sentiment</h2><img src='{_png(fig)}' alt='sentiment by language'>")
            sections.append(_table(
                con.execute("select lang, count(*), round(avg(sentiment_score), 3) from marts.posts "
                            "group by 1 order by 2 desc").fetchall(),
                ["lang", "posts", "mean sentiment"]))

        sections += _emotion_sections(con, plt)

        if "primary_topic" in cols:
            label_join = ("left join marts.topics t on t.topic_id = p.primary_topic"
                          if _has(con, "marts.topics") and "topic_id" in _columns(con, "marts.topics")
                          else "")
            label_col = "coalesce(t.label_en, p.primary_topic)" if label_join else "p.primary_topic"
            top = con.execute(
                f"select coalesce({label_col}, '(no topic)') as topic, count(*) as n, "
                f"round(avg(p.sentiment_score), 3) from marts.posts p {label_join} "
                f"group by 1 order by n desc limit 15").fetchall()
            fig, ax = plt.subplots(figsize=(8, 4.5))
            ax.barh([r[0] for r in reversed(top)], [r[1] for r in reversed(top)], color="#0969da")
            ax.set_title("Posts by primary topic")
            sections.append(f"<h2>Topics</h2><img src='{_png(fig)}' alt='topics'>")
            sections.append(_table(top, ["topic", "posts", "mean sentiment"]))

        if {"misinfo_risk_score", "misinfo_reasons"} <= cols:
            by_day = con.execute(
                "select cast(created_at as date), count(*) filter (where misinfo_risk_level = 'high'), "
                "avg(misinfo_risk_score) from marts.posts group by 1 order by 1").fetchall()
            if by_day:
                fig, ax = plt.subplots(figsize=(10, 3.2))
                ax.bar([r[0] for r in by_day], [r[1] for r in by_day], color="#bc4c00")
                ax.set_title("High-risk posts per day")
                fig.autofmt_xdate()
                sections.append(f"<h2>Misinformation risk</h2><img src='{_png(fig)}' alt='risk'>")
            url_col = "url" if "url" in cols else "null"
            risky = con.execute(
                "select (created_at::varchar)[:16], platform, round(misinfo_risk_score, 2), "
                f"left(text, 180), misinfo_reasons, {url_col} from marts.posts "
                "where misinfo_risk_score > 0 order by misinfo_risk_score desc, created_at limit 15"
            ).fetchall()
            risky = [(*r[:5], safe_link(r[5], "post") if r[5] else "") for r in risky]
            sections.append("<h3>Riskiest posts</h3>" + _table(
                risky, ["created", "platform", "risk", "text", "reasons", "link"]))
        if _has(con, "marts.coordinated_clusters"):
            clusters = con.execute(
                "select priority_rank, (first_seen_at::varchar)[:16], n_posts, n_accounts, "
                "round(span_minutes), array_to_string(platforms, ', '), left(sample_text, 160) "
                "from marts.coordinated_clusters order by priority_rank limit 10").fetchall()
            sections.append("<h3>Coordinated clusters</h3>" + _table(
                clusters, ["rank", "first seen", "posts", "accounts", "minutes", "platforms",
                           "sample text"]))
        if _has(con, "marts.topic_daily"):
            spikes = con.execute(
                "select activity_date, platform, topic_id, volume, baseline_median, "
                "round(spike_score, 1) from marts.topic_daily where is_spike "
                "order by spike_score desc limit 15").fetchall()
            sections.append("<h2>Topic spikes</h2>" + _table(
                spikes, ["date", "platform", "topic", "posts", "baseline", "spike score"]))
        if _has(con, "marts.trending_terms"):
            terms = con.execute(
                "select activity_date, term, term_type, post_count, baseline_median "
                "from marts.trending_terms where is_trending "
                "order by post_count desc, term limit 20").fetchall()
            sections.append("<h3>Trending terms</h3>" + _table(
                terms, ["date", "term", "type", "posts", "baseline"]))
        sections += _emerging_section(con)
        from discourse.report_network import network_section

        sections += network_section(con, plt)
    finally:
        con.close()

    qrows = _quarantine_summary(settings)
    sections.append("<h2>Quarantined records</h2>" + _table(qrows, ["platform", "reason", "records"]))
    sections.append("<h2>Ingest by export format</h2>" + _table(
        _ingest_summary(settings),
        ["format", "batches", "posts", "quarantined", "duplicates", "skipped (top reasons)", "last ingest"]))
    sections.append("<h2>Data-quality alerts</h2><p class='muted'>The latest alerts sent to maintainers "
                    "(gates, schema drift, volume), newest first.</p>" + _table(
                        _recent_alerts(settings), ["sent", "stage", "severity", "alert", "summary"]))

    now = datetime.now(UTC)
    body = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Discourse report"
            f"</title><style>{_CSS}</style></head><body><h1>Discourse report</h1>"
            f"<p class='muted'>Published marts: {html.escape(str(settings.warehouse))} · "
            f"generated {now:%Y-%m-%d %H:%M} UTC</p>" + "\n".join(sections) + "</body></html>")
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / f"report-{now:%Y%m%dT%H%M%SZ}.html"
    for target in (path, settings.reports_dir / "latest.html"):
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, target)
    return path


def _emerging_section(con: Any, limit: int = 12) -> list[str]:
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
    note = ("<p class='muted'>Terms and hashtags that spiked together in the same posts, strongest first: "
            "how stories outside the taxonomy show up. Growth is the day's posts over the story's "
            "trailing daily median; 'no topic' is the share of its posts without a taxonomy topic "
            "(and the topic most of the others have).</p>")
    return ["<h2>Emerging stories</h2>" + note + _table(
        rows, ["date", "rank that day", "story", "posts", "growth", "spike score", "platforms", "languages",
               "sentiment", "misinfo risk", "no topic"])]


def _demo_banner(con: Any) -> str:
    """The banner of a demo warehouse (``marts.about.demo``), else ''."""
    if not _has(con, "marts.about") or "demo" not in _columns(con, "marts.about"):
        return ""
    row = con.execute("select bool_or(demo) from marts.about").fetchone()
    if not row or not row[0]:
        return ""
    return ("<p class='demo'>DEMO: this warehouse was published by <code>discourse demo</code> from "
            "synthetic exports, with authors pseudonymised by the public demo key. It is not real data; "
            "do not put real exports in a demo home.</p>")


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
            "from read_parquet(?, union_by_name = true) group by 1, 2 order by 3 desc limit 30",
            [[str(f) for f in files]]).fetchall()
    finally:
        con.close()


_EMOTION_COLORS = {"anger": "#cf222e", "fear": "#8250df", "joy": "#d4a72c", "sadness": "#0969da",
                   "love": "#bf3989", "surprise": "#1a7f37"}


def _emotion_sections(con: Any, plt: Any, top_topics: int = 6) -> list[str]:
    """Emotion over time per topic (``marts.emotion_daily``): one panel per busiest topic with the
    daily share of each emotion among its posts, and a table of each topic's emotion mix."""
    if not _has(con, "marts.emotion_daily"):
        return []
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
    nrows = (len(topics) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 2.6 * nrows), squeeze=False, sharey=True)
    for ax, topic in zip(axes.flat, topics, strict=False):
        pts = [r for r in rows if r[0] == topic]
        days = [r[1] for r in pts]
        ax.stackplot(days, *[[float(r[3 + i] or 0) for r in pts] for i in range(len(emotions))],
                     labels=emotions, colors=[_EMOTION_COLORS[e] for e in emotions], alpha=.85)
        ax.set_title(str(topic), fontsize=9)
        ax.grid(alpha=.3)
        ax.tick_params(axis="x", labelsize=7, rotation=30)
    for ax in list(axes.flat)[len(topics):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("share of posts")
    axes.flat[0].legend(loc="upper left", fontsize=7, ncol=3)
    fig.suptitle("Emotion over time per topic (share of the topic's posts; the rest is neutral)")
    fig.tight_layout()
    mix = con.execute(
        f"select topic_id, sum(posts), round(sum(emotional_posts) / sum(posts), 3), {shares} "
        "from marts.emotion_daily group by 1 order by 2 desc limit 15").fetchall()
    table = [(t, n, share, max(zip(vals, emotions, strict=True))[1] if any(vals) else "–",
              *[round(float(v), 3) for v in vals])
             for t, n, share, *vals in mix]
    return [f"<h2>Emotion</h2><img src='{_png(fig)}' alt='emotion over time per topic'>",
            _table(table, ["topic", "posts", "emotional share", "dominant", *emotions])]

