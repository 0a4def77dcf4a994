"""The generator's planted conversation-network signals, checked against the written X v2 files with
plain ``json``: the buzzer ring (lockstep retweets of the same sources at the same hours) and the
superspreader (low-credibility links, each retweeted many times, FIB-index as recorded).

How the lead's dbt test finds them: ``planted.buzzer_ring.accounts`` / ``.sources`` and
``planted.superspreader.account`` in ``_ground_truth.json`` give the X ``author_id``s; their
``author_key`` is the first 32 hex digits of HMAC-SHA256(pseudonym key, ``"x:" + author_id``).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from synth import generate

N = 3000
SEED_RATINGS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "domain_ratings.csv"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen_net")
    truth = generate(out, N, seed=11, formats=("x_v2", "reddit"))
    tweets = {}
    for name, f in truth["files"].items():
        if f["format"] != "x_v2":
            continue
        for line in (out / name).read_text(encoding="utf-8").splitlines():
            try:
                page = json.loads(line)
            except json.JSONDecodeError:
                continue
            for tw in page.get("data", ()):
                if tw.get("created_at"):
                    tweets[tw["id"]] = tw
    return out, truth, tweets


def _at(tw: dict) -> datetime:
    return datetime.fromisoformat(tw["created_at"].replace("Z", "+00:00"))


def _retweeted(tw: dict) -> str | None:
    ref = (tw.get("referenced_tweets") or [{}])[0]
    return ref.get("id") if ref.get("type") == "retweeted" else None


def test_buzzer_ring_retweets_the_same_sources_in_lockstep(run):
    _out, truth, tweets = run
    ring = truth["planted"]["buzzer_ring"]
    members = {a["author_id"] for a in ring["accounts"]}
    sources = {a["author_id"] for a in ring["sources"]}
    assert len(members) == 12 and len(sources) == 3 and not members & sources
    by_member = [tw for tw in tweets.values() if tw["author_id"] in members]
    assert by_member and all(_retweeted(tw) for tw in by_member), "ring accounts only retweet"
    assert sorted(f"x:{tw['id']}" for tw in by_member) == ring["retweet_post_uids"]
    bursts = defaultdict(list)
    for tw in by_member:
        bursts[_retweeted(tw)].append(tw)
    assert len(bursts) == ring["bursts"] >= 6
    hours = set()
    for orig_id, rts in bursts.items():
        orig = tweets[orig_id]
        assert orig["author_id"] in sources
        assert f"x:{orig_id}" in ring["source_post_uids"]
        lags = [(_at(rt) - _at(orig)).total_seconds() for rt in rts]
        assert 0 < min(lags) and max(lags) <= ring["max_lag_seconds"] <= 180  # seconds to minutes
        assert len(rts) >= 9 and len({rt["author_id"] for rt in rts}) == len(rts)
        assert orig["public_metrics"]["retweet_count"] == len(rts)
        hours.add(_at(orig).hour)
    assert hours == set(ring["hours_utc"]) <= {1, 5, 13}  # machine-like regular hours
    per_member = defaultdict(int)
    for tw in by_member:
        per_member[tw["author_id"]] += 1
    assert min(per_member.values()) >= ring["bursts"] // 2  # many times over the period


def test_superspreader_links_low_credibility_sites_that_are_retweeted_many_times(run):
    _out, truth, tweets = run
    ss = truth["planted"]["superspreader"]
    ratings = {r["domain"]: float(r["rating"]) for r in csv.DictReader(SEED_RATINGS.open(encoding="utf-8"))}
    assert ss["domains"] and all(ratings[d] <= 0.10 for d in ss["domains"])
    author = ss["account"]["author_id"]
    retweets = defaultdict(set)
    for tw in tweets.values():
        if _retweeted(tw):
            retweets[_retweeted(tw)].add(tw["author_id"])
    counts = []
    assert len(ss["post_uids"]) == len(ss["urls"]) == ss["low_credibility_posts"]
    for uid in ss["post_uids"]:
        tw = tweets[uid.removeprefix("x:")]
        assert tw["author_id"] == author and not tw.get("referenced_tweets")
        links = [u["expanded_url"] for u in tw["entities"]["urls"]]
        assert len(set(links) & set(ss["urls"])) == 1
        assert all(link.split("/")[2] in ss["domains"] for link in set(links) & set(ss["urls"]))
        n = len(retweets[tw["id"]])
        assert tw["public_metrics"]["retweet_count"] == n  # consistent with the retweets in the data
        counts.append(n)
    assert sorted(counts) == sorted(ss["retweets_per_post"])
    counts.sort(reverse=True)
    fib = max(h for h in range(1, len(counts) + 1) if counts[h - 1] >= h)
    assert fib == ss["fib_index_at_least"] == ss["low_credibility_posts"] >= 5
    # nobody else links a rated-low site with a FIB-index anywhere near it
    others = defaultdict(list)
    for tw in tweets.values():
        if tw["author_id"] == author or _retweeted(tw):
            continue
        if any(ratings.get(u["expanded_url"].split("/")[2], 1.0) < 0.4
               for u in tw.get("entities", {}).get("urls", ())):
            others[tw["author_id"]].append(tw["public_metrics"]["retweet_count"])
    for c in others.values():
        c.sort(reverse=True)
        assert max((h for h in range(1, len(c) + 1) if c[h - 1] >= h), default=0) < fib


def test_without_x_v2_nothing_is_planted(tmp_path):
    truth = generate(tmp_path, 600, seed=3, formats=("reddit",))
    assert truth["planted"]["buzzer_ring"] is None and truth["planted"]["superspreader"] is None


def test_plants_are_counted_in_the_totals(run):
    _out, truth, tweets = run
    x_files = sum(f["valid_posts"] for f in truth["files"].values() if f["format"] == "x_v2")
    assert len(tweets) == x_files
    assert truth["totals"]["valid_posts"] == N
