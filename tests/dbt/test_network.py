"""The conversation network marts over a lake ingested from `discourse generate` exports.

The X v2 edges are counted a second time, independently of the adapter and dbt, straight from the
raw twarc2 JSON (bench/eval_network.py: replied-to authors from ``in_reply_to_user_id`` or the line's
included tweets, retweeted and quoted authors from the included tweets, mentions from the tweet's own
entities), and must equal the marts' by type, as a held-out export is checked."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from discourse.settings import load_settings
from discourse.transform import build_marts
from ingest.lake import ingest_file
from synth import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from eval_network import count_x_v2_edges  # noqa: E402

pytestmark = pytest.mark.integration

POSTS = 4000


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("network")
    key = {"DISCOURSE_PSEUDONYM_KEY": "network-test-key-0123456789abcdef"}
    settings = load_settings(env=key, home=root / "home")
    exports = root / "exports"
    truth = generate(exports, POSTS)
    for path in sorted(exports.iterdir()):
        if not path.name.startswith("_"):
            ingest_file(settings, path)
    summary = build_marts(settings)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    yield truth, summary, exports, con
    con.close()


def test_x_v2_edges_equal_an_independent_count(built):
    _, summary, exports, con = built
    assert summary["success"], summary["failures"]
    files = sorted(p for p in exports.iterdir() if p.name.startswith("x_v2_"))
    assert files
    expected = count_x_v2_edges(files)
    assert expected["repost"] > 0 and expected["reply"] > 0 and expected["mention"] > 0
    # author_edges sums these per (pair, type, day): test_author_edges_sum_to_the_post_edges
    per_export = dict(
        con.execute(
            "select e.edge_type, count(*) from intermediate.int_post_edges as e "
            "join marts.posts as p on p.post_uid = e.post_uid "
            "where p.export_format = 'x_v2' group by e.edge_type"
        ).fetchall()
    )
    assert per_export == dict(expected), (per_export, expected)


def test_author_edges_sum_to_the_post_edges(built):
    _, _, _, con = built
    sql = "select edge_type, {} from {} group by 1"
    by_mart = dict(con.execute(sql.format("sum(weight)::bigint", "marts.author_edges")).fetchall())
    by_posts = dict(con.execute(sql.format("count(*)", "intermediate.int_post_edges")).fetchall())
    assert by_mart == by_posts
    # no handle is kept: every key is a 32-hex keyed hash
    bad = con.execute(
        "select count(*) from marts.author_edges "
        "where not regexp_full_match(source_author_key, '[0-9a-f]{32}') "
        "or not regexp_full_match(target_author_key, '[0-9a-f]{32}')"
    ).fetchone()[0]
    assert bad == 0


def test_superspreaders_fib_index_is_consistent(built):
    _, _, _, con = built
    rows = con.execute(
        "select author_key, fib_index, low_cred_posts, low_cred_share "
        "from marts.superspreaders where period = 'all'"
    ).fetchall()
    assert rows
    for _, fib, n, share in rows:
        assert 0 <= fib <= n
        assert 0 < share <= 1


def test_amplifier_scores_are_explained(built):
    _, _, _, con = built
    rows = con.execute(
        "select amplifier_score, amplifier_reasons from marts.amplifier_accounts order by rank limit 20"
    ).fetchall()
    assert rows
    for score, reasons in rows:
        if score >= 0.25:  # every cue adding 0.05 or more is named
            assert reasons, score


def _key(account: dict) -> str:
    import hashlib
    import hmac

    raw = f"{account['platform']}:{account['author_id']}".encode()
    return hmac.new(b"network-test-key-0123456789abcdef", raw, hashlib.sha256).hexdigest()[:32]


def test_planted_superspreader_ranks_first(built):
    truth, _, _, con = built
    plant = truth["planted"]["superspreader"]
    key = _key(plant["account"])
    row = con.execute(
        "select rank, fib_index, low_cred_posts from marts.superspreaders "
        "where period = 'all' and author_key = ?", [key]).fetchone()
    assert row is not None
    rank, fib, n = row
    assert rank == 1
    assert fib >= plant["fib_index_at_least"]
    assert n >= plant["low_credibility_posts"]
    # it is also among the most central accounts of the whole repost graph
    top = con.execute(
        "select author_key from marts.influencers where topic = 'all' "
        "order by influence_rank limit 3").fetchall()
    assert key in [r[0] for r in top]


def test_planted_buzzer_ring_tops_the_amplifier_scores(built):
    truth, _, _, con = built
    ring = {_key(a) for a in truth["planted"]["buzzer_ring"]["accounts"]}
    top = con.execute(
        "select author_key, amplifier_score, amplifier_reasons from marts.amplifier_accounts "
        "order by rank limit ?", [len(ring)]).fetchall()
    assert {r[0] for r in top} == ring
    for _, score, reasons in top:
        assert score >= 0.5
        assert any("lockstep" in r for r in reasons)
    # the ring and its sources form one community of the repost graph
    communities = con.execute(
        "select count(distinct community_id) from marts.community_members "
        "where topic = 'all' and author_key in (select unnest(?))", [sorted(ring)]).fetchone()[0]
    assert communities == 1
