"""Emerging stories (marts.emerging_stories, docs/emerging-stories.md) over a lake ingested from
`discourse generate` exports: the planted story nobody put in the taxonomy comes out on its day,
ranked first, with its terms; ordinary days' stories are not everyday vocabulary or taxonomy keywords;
the report lists them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from discourse.publish import publish
from discourse.report import build_report
from discourse.settings import load_settings
from discourse.transform import build_marts
from ingest.lake import ingest_file
from synth import generate

pytestmark = pytest.mark.integration

POSTS = 3000
BASELINE_DAYS = 7  # spike_baseline_days in dbt_project.yml


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("emerging")
    settings = load_settings(
        env={"DISCOURSE_PSEUDONYM_KEY": "emerging-stories-test-key-0123456789"}, home=root / "home"
    )
    exports = root / "exports"
    truth = generate(exports, POSTS)
    for path in sorted(exports.iterdir()):
        if not path.name.startswith("_"):
            ingest_file(settings, path)
    build_marts(settings)
    return settings, truth


def _rows(db: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _keys(terms: list[str]) -> set[tuple[str, str]]:
    """Displayed story terms ('#tag', 'two words', 'word') as (term_type, term)."""
    return {
        ("hashtag", t[1:]) if t.startswith("#") else ("bigram", t) if " " in t else ("term", t) for t in terms
    }


def test_planted_story_is_the_top_story_of_its_day(built):
    settings, truth = built
    planted = truth["planted"]["emerging_story"]
    day = date.fromisoformat(planted["date"])
    db = settings.build_warehouse
    stories = _rows(
        db, "select * from marts.emerging_stories where activity_date = ? order by story_rank", [day])
    assert stories, f"no emerging story on {day}"
    top = stories[0]
    assert top["story_rank"] == 1
    shown = {t.lstrip("#") for t in top["terms"]}
    assert set(planted["terms"]) <= shown, (top["label"], top["terms"])
    assert set(planted["terms"]) <= {t.lstrip("#") for t in top["new_terms"]}, "none was used before"
    assert "kalimaya" in top["label"]
    # Its volume is the planted posts (a few same-day replies or reposts may add to it).
    assert planted["planted_posts"] * 0.8 <= top["posts"] <= planted["planted_posts"] * 1.5, top["posts"]
    assert top["authors"] >= planted["planted_posts"] * 0.7
    assert top["baseline_median"] == 0 and top["growth"] == top["posts"] and top["spike_score"] >= 10
    assert top["first_seen_at"].date() == day
    assert len(top["platforms"]) >= 3 and {"id", "en"} <= set(top["languages"])
    # Nobody put it in the taxonomy: most of its posts have no topic.
    assert top["no_topic_share"] >= 0.5, top
    assert -1 <= top["mean_sentiment"] <= 1 and 0 <= top["mean_misinfo_risk"] <= 1
    samples = _rows(
        db, "select post_uid, text from marts.posts where list_contains(?, post_uid)",
        [top["sample_post_uids"]])
    assert len(samples) == len(top["sample_post_uids"]) >= 3
    assert all("kalimaya" in s["text"].lower() for s in samples)
    # Its volume beats every story of the days without a planted signal.
    spike_day = date.fromisoformat(truth["planted"]["spike"]["date"])
    campaign_day = date.fromisoformat(truth["planted"]["campaign"]["date"])
    others = _rows(db, "select * from marts.emerging_stories where activity_date not in (?, ?, ?)",
                   [day, spike_day, campaign_day])
    assert all(o["posts"] < top["posts"] for o in others), [(o["label"], o["posts"]) for o in others]
    # It is a story of that day only.
    assert not [o for o in others if "kalimaya" in {t.lstrip("#") for t in o["terms"]}]
    # The leak spike (in the taxonomy: cybercrime) is its day's top story too, and the taxonomy saw it.
    leak = _rows(
        db, "select * from marts.emerging_stories where activity_date = ? and story_rank = 1", [spike_day])
    assert leak and "tokokita" in " ".join(leak[0]["terms"])
    assert leak[0]["top_topic"] == "cybercrime_safety" and leak[0]["no_topic_share"] < 0.5


def test_ordinary_days_stories_are_not_everyday_vocabulary(built):
    settings, truth = built
    planted = truth["planted"]
    special = {planted["emerging_story"]["date"], planted["spike"]["date"], planted["campaign"]["date"]}
    db = settings.build_warehouse
    stories = _rows(db, "select * from marts.emerging_stories order by activity_date, story_rank")
    ordinary = [s for s in stories if s["activity_date"].isoformat() not in special]
    counts = _rows(db, "select activity_date, term, term_type from intermediate.int_terms_counted_daily")
    used_on: dict[tuple[str, str], set[date]] = {}
    for c in counts:
        used_on.setdefault((c["term_type"], c["term"]), set()).add(c["activity_date"])
    keywords = {r["term"] for r in _rows(db, "select term from reference.topic_keywords")}
    first = min(d for days in used_on.values() for d in days)
    for s in ordinary:
        d = s["activity_date"]
        window = {d - timedelta(k) for k in range(1, BASELINE_DAYS + 1) if d - timedelta(k) >= first}
        keys = _keys(s["terms"])
        assert len(keys) == s["term_count"] >= 2
        # Terms used on every baseline day do not form a story by themselves.
        everyday = {k for k in keys if window <= used_on.get(k, set())}
        assert everyday != keys, (d, s["label"], s["terms"])
        # Nor do the taxonomy's own keywords.
        assert any(t not in keywords for _type, t in keys), (d, s["label"])
        assert s["spike_score"] >= 3.0 and s["posts"] >= 5 and s["authors"] >= 3
    # Every story's terms spiked that day, and trending terms are many more than the stories.
    trending = _rows(db, "select activity_date, term, term_type from marts.trending_terms where is_trending")
    spiking = {(r["activity_date"], r["term_type"], r["term"]) for r in trending}
    for s in stories:
        assert {(s["activity_date"], *k) for k in _keys(s["terms"])} <= spiking, s["label"]
    assert len(stories) < len(trending) / 5


def test_report_lists_emerging_stories(built):
    settings, truth = built
    publish(settings)
    body = build_report(settings).read_text(encoding="utf-8")
    assert "<h2>Emerging stories</h2>" in body
    section = body.split("<h2>Emerging stories</h2>", 1)[1].split("<h2>", 1)[0]
    assert "lentera kalimaya" in section and "#lenterakalimaya" in section
    assert truth["planted"]["emerging_story"]["date"] in section
