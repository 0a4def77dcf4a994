"""The analytical marts (topic_daily, sentiment_daily, trending_terms, coordinated_clusters, domains,
misinfo_daily, authors) over a lake ingested from `discourse generate` exports: the planted campaign
and topic spike must be recovered; imported claims and domain ratings must reach the marts."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from discourse.settings import load_settings
from discourse.transform import build_marts
from discourse.transform.importers import import_claims, import_domains
from ingest.lake import ingest_file
from synth import generate

pytestmark = pytest.mark.integration

POSTS = 3000
NEW_MARTS = (
    "topic_daily",
    "sentiment_daily",
    "emotion_daily",
    "trending_terms",
    "coordinated_clusters",
    "domains",
    "misinfo_daily",
    "authors",
    "negative_share_daily",
    "top_authors",
    "topics_over_time",
    "riskiest_domains",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("analytics")
    settings = load_settings(
        env={"DISCOURSE_PSEUDONYM_KEY": "analytics-test-key-0123456789"}, home=root / "home"
    )
    exports = root / "exports"
    truth = generate(exports, POSTS)
    for path in sorted(exports.iterdir()):
        if not path.name.startswith("_"):
            ingest_file(settings, path)
    # An imported claim the spike story makes (unproven: matched, no risk) and an imported rating for
    # a low-credibility site the seed does not rate.
    claims = root / "claims.csv"
    claims.write_text(
        "claim_id,claim_text,verdict,language,source_name\n"
        "imp-tokokita,data jutaan pengguna TokoKita bocor dan dijual di forum gelap,unproven,id,Test desk\n",
        encoding="utf-8",
    )
    import_claims(settings, claims)
    ratings = root / "ratings.csv"
    ratings.write_text("domain,rating,label\nkabarheboh-terkini.xyz,0.05,fabricated\n", encoding="utf-8")
    import_domains(settings, ratings, "csv", source="test watchlist")
    started = time.perf_counter()
    summary = build_marts(settings, unit_tests=True)
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    yield truth, summary, seconds, con
    con.close()


def _one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()


def test_build_passes_with_new_marts_and_unit_tests(built):
    _, summary, seconds, con = built
    assert summary["success"] and summary["failures"] == []
    tables = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    assert set(NEW_MARTS) <= tables
    for mart in NEW_MARTS:
        assert _one(con, f"select count(*) from marts.{mart}")[0] > 0, mart
    assert summary["by_type"]["unit_test"] == {"pass": summary["by_type"]["unit_test"]["pass"]}
    assert summary["by_type"]["unit_test"]["pass"] >= 12


def test_campaign_is_one_cluster_ranked_first(built):
    truth, _, _, con = built
    campaign = truth["planted"]["campaign"]
    uids = campaign["post_uids"]
    clusters = con.execute(
        "select cluster_id, count(*) from marts.posts "
        "where post_uid in (select unnest(?)) and cluster_id is not null group by cluster_id",
        [uids],
    ).fetchall()
    assert len(clusters) == 1
    cluster_id, members = clusters[0]
    # Telegram forwards (kind repost) are explicit shares and stay out of coordination.
    reposts = _one(
        con, "select count(*) from marts.posts where post_uid in (select unnest(?)) and kind = 'repost'", uids
    )[0]
    assert members == len(uids) - reposts
    row = _one(
        con,
        "select n_accounts, platforms, span_minutes, priority_rank, claim_ids, sample_text, len(post_uids) "
        "from marts.coordinated_clusters where cluster_id = ?",
        cluster_id,
    )
    n_accounts, platforms, span, rank, claim_ids, sample, n_uids = row
    assert n_accounts >= 30
    assert platforms == ["telegram", "x"]
    assert span <= 120
    assert rank == 1
    assert "fc-id-001" in claim_ids
    assert "sirsak" in sample
    assert n_uids == members
    # Its posts say why they are risky: coordination and the fact-checked claim.
    reasons = _one(
        con,
        "select misinfo_reasons, misinfo_risk_level from marts.posts where cluster_id = ? limit 1",
        cluster_id,
    )
    assert reasons[1] == "high"
    assert any(r.startswith(f"posted near-verbatim by {n_accounts} accounts within") for r in reasons[0])
    assert any(r.startswith("matches fact-checked false claim 'rebusan daun sirsak") for r in reasons[0])
    # The campaign's day tops misinfo_daily, with the cluster among its top clusters.
    top = _one(
        con, "select activity_date, platform, top_clusters from marts.misinfo_daily where priority_rank = 1"
    )
    assert top[0] == date.fromisoformat(campaign["date"])
    assert top[1] in ("x", "telegram")
    assert top[2][0]["cluster_id"] == cluster_id
    # Its authors show the membership.
    joined = _one(con, "select count(*) from marts.authors where list_contains(cluster_ids, ?)", cluster_id)[
        0
    ]
    assert joined == n_accounts


def test_planted_spike_is_flagged(built):
    truth, _, _, con = built
    spike = truth["planted"]["spike"]
    day = date.fromisoformat(spike["date"])
    rows = con.execute(
        "select platform, volume, spike_score, is_spike from marts.topic_daily "
        "where topic_id = 'cybercrime_safety' and activity_date = ?",
        [day],
    ).fetchall()
    assert any(is_spike for *_, is_spike in rows)
    x = next(r for r in rows if r[0] == "x")
    assert x[3] and x[2] >= 3
    # Not every day of the theme spikes.
    quiet = _one(
        con,
        "select count(*) from marts.topic_daily "
        "where topic_id = 'cybercrime_safety' and is_spike and activity_date <> ?",
        day,
    )[0]
    assert quiet <= 1
    # Share of voice adds up to 1 per date and platform.
    assert (
        _one(
            con,
            "select max(abs(s - 1)) from (select sum(share_of_voice) as s from marts.topic_daily "
            "where share_of_voice is not null group by activity_date, platform)",
        )[0]
        < 0.01
    )


def test_trending_terms_surface_the_spike_story(built):
    truth, _, _, con = built
    day = date.fromisoformat(truth["planted"]["spike"]["date"])
    trending = {
        (term, kind)
        for term, kind in con.execute(
            "select term, term_type from marts.trending_terms where is_trending and activity_date = ?", [day]
        ).fetchall()
    }
    assert ("tokokita", "term") in trending
    assert ("kebocoran", "term") in trending
    tags = {t.lower() for t in truth["planted"]["spike"]["hashtags"]}
    assert {t for t, k in trending if k == "hashtag"} & tags
    assert any(k == "bigram" and "tokokita" in t for t, k in trending)
    # Stopwords never trend.
    assert not {t for t, _ in trending} & {"yang", "dan", "the", "and"}


def test_domains_mart_rates_campaign_site_low_and_uses_imports(built):
    truth, _, _, con = built
    campaign = truth["planted"]["campaign"]
    row = _one(
        con,
        "select credibility_rating, credibility_level, rating_source, posts, distinct_authors "
        "from marts.domains where domain = ?",
        campaign["domain"],
    )
    assert row is not None
    assert row[0] < 0.4 and row[1] == "low"
    assert row[3] >= len(campaign["post_uids"]) - 2 and row[4] >= 30
    imported = _one(
        con,
        "select credibility_rating, rating_label, rating_source from marts.domains "
        "where domain = 'kabarheboh-terkini.xyz'",
    )
    assert imported == (0.05, "fabricated", "test watchlist")
    # The seed wins over imports for domains it rates; shorteners are flagged.
    assert _one(con, "select rating_source from marts.domains where domain = 'kompas.com'") == (
        "project curation",
    )
    assert _one(con, "select count(*) from marts.domains where is_shortener")[0] >= 1


def test_imported_claim_is_matched_without_risk(built):
    _, _, _, con = built
    matches = _one(
        con,
        "select count(*) from intermediate.int_posts_matched_claims as m "
        "join intermediate.int_claims_unioned as c using (claim_id) "
        "where m.claim_id = 'imp-tokokita' and c.origin = 'import'",
    )[0]
    assert matches >= 3
    # An unproven claim adds no risk reason.
    risky = _one(
        con,
        "select count(*) from marts.posts where list_contains(matched_claim_ids, 'imp-tokokita') "
        "and len(list_filter(misinfo_reasons, lambda r: r like '%TokoKita%')) > 0",
    )[0]
    assert risky == 0


def test_sentiment_daily_and_authors_are_consistent(built):
    _, _, _, con = built
    total = _one(con, "select count(*) from marts.posts")[0]
    assert _one(con, "select sum(posts) from marts.sentiment_daily")[0] == total
    assert (
        _one(con, "select sum(posts) from marts.authors")[0]
        == _one(con, "select count(*) from marts.posts where author_key is not null")[0]
    )
    assert _one(con, "select sum(posts) from marts.misinfo_daily")[0] == total


def test_analyst_marts_answer_the_usual_questions(built):
    truth, _, _, con = built
    # negative_share_daily: sentiment_daily over platforms, with labels.
    assert _one(con, "select sum(posts) from marts.negative_share_daily")[0] == _one(
        con, "select count(*) from marts.posts")[0]
    exact = con.execute(
        "select created_date, primary_topic, lang, avg((sentiment_label = 'negative')::int) "
        "from marts.posts group by all").fetchall()
    mart = {(d, t, lang): share for d, t, lang, share in con.execute(
        "select activity_date, topic_id, lang, negative_share from marts.negative_share_daily").fetchall()}
    assert len(mart) == len(exact)
    assert max(abs(mart[(d, t, lang)] - share) for d, t, lang, share in exact) <= 0.0001
    assert _one(con, "select count(*) from marts.negative_share_daily where topic_label_en is null")[0] == 0
    # top_authors: ranked by engagement, author keys only, engagement as in posts.
    top = con.execute("select author_key, engagement, engagement_rank from marts.top_authors "
                      "order by engagement_rank").fetchall()
    assert [r[2] for r in top] == list(range(1, len(top) + 1))
    assert [r[1] for r in top] == sorted((r[1] for r in top), reverse=True)
    key, engagement, _ = top[0]
    assert engagement == _one(
        con, "select sum(coalesce(like_count, 0) + coalesce(share_count, 0) + coalesce(reply_count, 0)) "
        "from marts.posts where author_key = ?", key)[0]
    cols = [c[0] for c in con.execute("select * from marts.top_authors limit 0").description]
    assert not [c for c in cols if "handle" in c]
    # topics_over_time: labels, days and weeks adding up to the same volume.
    by_period = dict(con.execute(
        "select period, sum(volume) from marts.topics_over_time group by 1").fetchall())
    assert by_period["day"] == by_period["week"] == _one(con, "select count(*) from marts.posts")[0]
    spike = truth["planted"]["spike"]
    assert _one(con, "select has_spike, topic_label_en is not null from marts.topics_over_time "
                "where period = 'day' and period_start_date = ? and topic_id = 'cybercrime_safety'",
                date.fromisoformat(spike["date"])) == (True, True)
    # riskiest_domains: low credibility only, the campaign's site among the first.
    assert _one(con, "select count(*) from marts.riskiest_domains")[0] == _one(
        con, "select count(*) from marts.domains where credibility_level = 'low'")[0]
    rank = _one(con, "select risk_rank from marts.riskiest_domains where domain = ?",
                truth["planted"]["campaign"]["domain"])
    assert rank is not None and rank[0] <= 3


def test_analyst_marts_pass_their_gx_suites(built, tmp_path):
    from quality import suites
    from quality.frames import load_frame
    from quality.gates import validate_frame

    _, _, _, con = built
    settings = load_settings(env={"DISCOURSE_PSEUDONYM_KEY": "analytics-test-key-0123456789"},
                             home=tmp_path / "home")
    topic_ids = [r[0] for r in con.execute("select topic_id from marts.topics").fetchall()]
    for relation, (name, keys) in suites.ANALYST_MARTS.items():
        suite = suites.analyst_mart_suite(relation)
        frame, missing, present = load_frame(con, relation, suites.suite_columns(suite), keys)
        assert not missing, (relation, missing)
        result = validate_frame(
            settings, "marts", frame, suite=suite, key_columns=present,
            parameters={"topic_ids": topic_ids}, missing=missing, relation=relation, notes=[],
            checked={}, run_id=None, load_seconds=0.0, checkpoint=name)
        assert result.success, (relation, result.to_dict())


def test_saved_queries_run_on_the_marts(built):
    from discourse.analyst import saved_queries

    _, _, _, con = built
    for query in saved_queries().values():
        rows = con.execute(query.sql).fetchall()
        assert rows, query.name


def test_nothing_written_into_the_repo(built):
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    assert not (project / "target").exists()
    assert not (project / "logs").exists()


def test_every_mart_column_is_described_in_the_warehouse(built):
    """persist_docs: every mart and every one of its columns carries its description as a comment."""
    _, _, _, con = built
    undocumented = con.execute(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where schema_name = 'marts' and (comment is null or comment = '') order by 1"
    ).fetchall()
    assert undocumented == []
    tables = con.execute(
        "select table_name from duckdb_tables() "
        "where schema_name = 'marts' and (comment is null or comment = '')"
    ).fetchall()
    assert tables == []
