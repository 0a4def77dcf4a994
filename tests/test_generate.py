"""The synthetic export generator: files parse, counts and planted signals match the ground truth.

Everything here re-reads the written files with plain ``json``/``csv`` and counts on its own, so the
ground truth is checked against the files, not against itself.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import statistics
import subprocess
import sys
import textwrap
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.generate import MIN_POSTS, TRUTH_FILE, generate
from ingest.sources import expand

N = 2000
X_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen")
    seen: list[int] = []
    truth = generate(out, N, seed=7, progress=seen.append)
    truth["_progress"] = seen
    return out, truth


# ------------------------------------------------------------------ independent readers
def _read_bytes(path: Path) -> bytes:
    (src,) = expand(path)
    with src.open() as fh:
        return fh.read()


def _x_file(path: Path) -> dict:
    """Count an X v2 JSONL file the way the ingest must: pages, error lines, bad lines, bad tweets."""
    valid, malformed, skipped, tweets = 0, [], 0, []
    lines = _read_bytes(path).decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for no, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            malformed.append(("bad_json", no))
            continue
        if "data" not in obj:
            assert "errors" in obj
            skipped += 1
            continue
        for tw in obj["data"]:
            if tw.get("id") and tw.get("created_at"):
                valid += 1
                tweets.append((tw, obj))
            else:
                malformed.append(("bad_tweet", no))
    return {
        "valid": valid,
        "malformed": malformed,
        "skipped": skipped,
        "records": len(lines),
        "tweets": tweets,
    }


def _telegram_file(path: Path) -> dict:
    doc = json.loads(_read_bytes(path))
    valid, malformed, skipped, records, messages = 0, [], 0, 0, []
    for chat in doc["chats"]["list"]:
        for m in chat["messages"]:
            records += 1
            if m["type"] != "message":
                skipped += 1
            elif "id" not in m or not (m.get("date_unixtime") or m.get("date")):
                malformed.append(("no_date", records))
            else:
                valid += 1
                messages.append((chat, m))
    return {
        "valid": valid,
        "malformed": malformed,
        "skipped": skipped,
        "records": records,
        "messages": messages,
        "doc": doc,
    }


def _generic_file(path: Path) -> dict:
    rows = list(csv.DictReader(io.StringIO(_read_bytes(path).decode("utf-8"), newline="")))
    valid, malformed, good = 0, [], []
    for i, row in enumerate(rows, 1):
        if not row["text"].strip():
            malformed.append(("empty_text", i))
            continue
        try:
            datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
        except ValueError:
            malformed.append(("bad_date", i))
            continue
        valid += 1
        good.append(row)
    return {"valid": valid, "malformed": malformed, "skipped": 0, "records": len(rows), "rows": good}


def _read_all(out: Path, truth: dict) -> dict[str, dict]:
    readers = {"x_v2": _x_file, "telegram_desktop": _telegram_file, "generic": _generic_file}
    return {name: readers[f["format"]](out / name) for name, f in truth["files"].items()}


def _posts(out: Path, truth: dict) -> list[dict]:
    """Every valid post as (uid, platform, author, created_at, text, lang)."""
    posts = []
    for got in _read_all(out, truth).values():
        for tw, _page in got.get("tweets", ()):
            posts.append(
                {
                    "uid": f"x:{tw['id']}",
                    "author": tw["author_id"],
                    "text": tw["text"],
                    "at": datetime.fromisoformat(tw["created_at"].replace("Z", "+00:00")),
                    "lang": tw["lang"],
                    "kind": (tw.get("referenced_tweets") or [{"type": "post"}])[0]["type"],
                }
            )
        for chat, m in got.get("messages", ()):
            text = (
                m["text"]
                if isinstance(m["text"], str)
                else "".join(p if isinstance(p, str) else p["text"] for p in m["text"])
            )
            posts.append(
                {
                    "uid": f"telegram:{chat['id']}/{m['id']}",
                    "author": m["from_id"],
                    "text": text,
                    "at": datetime.fromtimestamp(int(m["date_unixtime"]), UTC),
                    "lang": None,
                    "kind": "forward" if "forwarded_from" in m else "post",
                }
            )
        for row in got.get("rows", ()):
            posts.append(
                {
                    "uid": f"generic:{row['id']}",
                    "author": row["author"],
                    "text": row["text"],
                    "at": datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")),
                    "lang": row["lang"],
                    "kind": "post",
                }
            )
    return posts


def _words(text: str) -> list[str]:
    return re.sub(r"https?://\S+|[^\w\s]", " ", text.lower()).split()


# ------------------------------------------------------------------ files and counts
def test_files_written_and_truth_sidecar(run):
    out, truth = run
    names = sorted(p.name for p in out.iterdir())
    assert TRUTH_FILE in names
    assert json.loads((out / TRUTH_FILE).read_text(encoding="utf-8")) == {
        k: v for k, v in truth.items() if k != "_progress"
    }
    assert not [n for n in names if n.startswith("_spool")], "temporary spools must be removed"
    data_files = [n for n in names if not n.startswith("_")]
    assert set(data_files) == set(truth["files"])
    assert sum(n.startswith("x_v2_") for n in data_files) >= 3, "several X files for the nightly inbox"
    assert any(n.startswith("telegram_") for n in data_files)
    assert any(n.startswith("generic_") for n in data_files)


def test_counts_per_file_match_the_files(run):
    out, truth = run
    got = _read_all(out, truth)
    for name, f in truth["files"].items():
        g = got[name]
        assert g["valid"] == f["valid_posts"], name
        assert len(g["malformed"]) == f["malformed"] == len(f["malformed_records"]), name
        assert g["skipped"] == f["skipped_total"], name
        assert g["records"] == f["records"], name
        if f["format"] == "x_v2":  # records are lines; a page line holds up to 100 tweets
            assert (
                f["pages"]
                + f["skipped_total"]
                + sum(m["kind"] == "truncated_json" for m in f["malformed_records"])
                == f["records"]
            ), name
        else:
            assert f["records"] == f["valid_posts"] + f["malformed"] + f["skipped_total"], name
    assert sum(g["valid"] for g in got.values()) == N == truth["totals"]["valid_posts"]
    assert sum(truth["totals"]["by_platform"].values()) == N


def test_malformed_records_are_where_the_truth_says(run):
    out, truth = run
    got = _read_all(out, truth)
    kinds = Counter(m["kind"] for m in truth["planted"]["malformed"])
    assert kinds["truncated_json"] >= 2 and kinds["missing_created_at"] >= 1
    assert kinds["empty_text"] >= 1 and kinds["bad_date"] >= 1 and kinds["missing_date"] >= 1
    for name, f in truth["files"].items():
        seen = got[name]["malformed"]
        for m in f["malformed_records"]:
            if m["kind"] in ("truncated_json", "missing_created_at"):
                assert ("bad_json" if m["kind"] == "truncated_json" else "bad_tweet", m["line"]) in seen
            elif m["kind"] in ("empty_text", "bad_date"):
                assert (m["kind"], m["row"]) in seen
            else:
                assert ("no_date", m["record"]) in seen
    skipped = truth["totals"]["skipped"]
    assert skipped.get("api_error", 0) >= 2 and skipped.get("service_message", 0) >= 1


def test_x_pages_are_faithful(run):
    out, truth = run
    by_id = {}
    for name, f in truth["files"].items():
        if f["format"] != "x_v2":
            continue
        for tw, page in _x_file(out / name)["tweets"]:
            by_id[tw["id"]] = tw
            assert re.fullmatch(r"\d{19}", tw["id"]) and X_TIME.match(tw["created_at"])
            assert tw["lang"] in ("in", "en", "und")
            assert set(tw["public_metrics"]) >= {
                "retweet_count",
                "reply_count",
                "like_count",
                "quote_count",
                "impression_count",
            }
            assert page["meta"]["result_count"] == len(page["data"])
            assert set(page["__twarc"]) == {"url", "version", "retrieved_at"}
            users = {u["id"] for u in page["includes"]["users"]}
            assert tw["author_id"] in users
            for key, render in (
                ("hashtags", lambda e: "#" + e["tag"]),
                ("mentions", lambda e: "@" + e["username"]),
                ("urls", lambda e: e["url"]),
            ):
                for e in tw.get("entities", {}).get(key, ()):
                    assert tw["text"][e["start"] : e["end"]] == render(e)
            for e in tw.get("entities", {}).get("urls", ()):
                assert e["url"].startswith("https://t.co/") and e["expanded_url"].startswith("http")
            ref = (tw.get("referenced_tweets") or [None])[0]
            if ref:
                included = {t["id"]: t for t in page["includes"].get("tweets", ())}
                assert ref["id"] in included
                if ref["type"] == "retweeted":
                    orig = included[ref["id"]]
                    assert tw["text"].startswith("RT @") and len(tw["text"]) <= 140
                    assert orig["text"][:20] in tw["text"] or len(tw["text"]) < 30
                if ref["type"] == "replied_to":
                    assert tw["in_reply_to_user_id"] == included[ref["id"]]["author_id"]
            if "attachments" in tw:
                keys = {m["media_key"] for m in page["includes"]["media"]}
                assert set(tw["attachments"]["media_keys"]) <= keys
    assert len(by_id) == truth["totals"]["by_platform"]["x"], "tweet ids are unique"
    kinds = truth["aggregates"]["by_platform"]["x"]["kind"]
    assert kinds["repost"] > 0 and kinds["reply"] > 0 and kinds["quote"] > 0


def test_telegram_export_is_faithful(run):
    out, truth = run
    for name, f in truth["files"].items():
        if f["format"] != "telegram_desktop":
            continue
        got = _telegram_file(out / name)
        chats = got["doc"]["chats"]["list"]
        assert {c["type"] for c in chats} == {"public_channel", "public_supergroup"}
        for chat in chats:
            ids = [m["id"] for m in chat["messages"]]
            assert ids == sorted(ids) and len(set(ids)) == len(ids)
            for m in chat["messages"]:
                if "reply_to_message_id" in m:
                    assert m["reply_to_message_id"] in ids and m["reply_to_message_id"] < m["id"]
                if "date" in m and "date_unixtime" in m:
                    assert (
                        datetime.fromtimestamp(int(m["date_unixtime"]), UTC).strftime("%Y-%m-%dT%H:%M:%S")
                        == m["date"]
                    )
                if m["type"] == "message" and isinstance(m["text"], list):
                    assert all(
                        isinstance(p, str) or p["type"] in ("hashtag", "mention", "link", "text_link", "bold")
                        for p in m["text"]
                    )
        parts = [p for _c, m in got["messages"] if isinstance(m["text"], list) for p in m["text"]]
        assert any(isinstance(p, dict) and p["type"] == "hashtag" for p in parts)
        assert any(isinstance(p, dict) and p["type"] == "text_link" for p in parts)
        assert any("forwarded_from" in m for _c, m in got["messages"])


def test_generic_csv_has_recognised_header_and_quoting(run):
    out, truth = run
    for name, f in truth["files"].items():
        if f["format"] != "generic":
            continue
        raw = (out / name).read_text(encoding="utf-8")
        assert raw.split("\n", 1)[0] == "id,text,created_at,author,lang,url"
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        assert all(len(r) == 6 for r in rows)


def test_progress_reports_running_totals(run):
    _out, truth = run
    seen = truth["_progress"]
    assert seen and seen[-1] == N and seen == sorted(seen)


# ------------------------------------------------------------------ planted signals
def test_coordinated_campaign(run):
    out, truth = run
    c = truth["planted"]["campaign"]
    posts = {p["uid"]: p for p in _posts(out, truth)}
    camp = [posts[u] for u in c["post_uids"]]
    authors = {p["author"] for p in camp}
    assert len(authors) >= 30 and len(authors) == c["distinct_accounts"]
    assert {a["author_id"] for a in c["accounts"]} == authors
    times = sorted(p["at"] for p in camp)
    assert (times[-1] - times[0]).total_seconds() <= 2 * 3600
    assert {p["uid"].split(":")[0] for p in camp} == {"x", "telegram"}
    base = set(_words(camp[0]["text"]))
    for p in camp:
        w = set(_words(p["text"]))
        assert len(base & w) / len(base | w) >= 0.85, p["text"]
    # on X the link is a t.co wrapper; the domain is in the expanded url
    for name, f in truth["files"].items():
        if f["format"] == "x_v2":
            for tw, _page in _x_file(out / name)["tweets"]:
                if f"x:{tw['id']}" in c["post_uids"]:
                    assert c["domain"] in tw["entities"]["urls"][0]["expanded_url"]
    # nothing else in the data is that close to the hoax
    others = [p for p in posts.values() if p["uid"] not in set(c["post_uids"]) and p["kind"] != "retweeted"]
    close = [
        p for p in others if len(base & set(_words(p["text"]))) / len(base | set(_words(p["text"]))) > 0.6
    ]
    assert not close


def test_topic_spike(run):
    out, truth = run
    s = truth["planted"]["spike"]
    daily = truth["aggregates"]["daily_theme_counts"]
    theme_per_day = {d: v[s["theme"]] for d, v in daily.items()}
    baseline = statistics.median(v for d, v in theme_per_day.items() if d != s["date"])
    assert theme_per_day[s["date"]] >= 5 * baseline
    assert s["ratio_to_baseline"] >= 5
    # independently: posts about the leak story, per day, from the files
    per_day = Counter()
    for p in _posts(out, truth):
        t = p["text"].lower()
        if "tokokita" in t and any(k in t for k in ("bocor", "leak", "breach")):
            per_day[p["at"].date().isoformat()] += 1
    others = [per_day.get(d, 0) for d in daily if d != s["date"]]
    assert per_day[s["date"]] >= 5 * max(1, statistics.median(others))
    assert per_day[s["date"]] >= s["planted_posts"] * 0.8  # reposts may move a few to later days


def test_format_drift_file(run):
    out, truth = run
    drift = truth["planted"]["format_drift"]
    assert drift and drift["files"]
    for name, f in truth["files"].items():
        if f["format"] != "x_v2":
            continue
        tweets = [tw for tw, _p in _x_file(out / name)["tweets"] if "referenced_tweets" not in tw]
        has_source = all("source" in tw for tw in tweets)
        has_edit = all("edit_history_tweet_ids" in tw for tw in tweets)
        if name in drift["files"]:
            assert has_edit and not any("source" in tw for tw in tweets)
        else:
            assert has_source and not any("edit_history_tweet_ids" in tw for tw in tweets)


# ------------------------------------------------------------------ text
def test_language_mix_and_declared_languages(run):
    out, truth = run
    langs = truth["aggregates"]["lang_counts"]
    total = sum(langs.values())
    for lang, share in (("id", 0.45), ("en", 0.35), ("mixed", 0.20)):
        assert abs(langs[lang] / total - share) < 0.05, (lang, langs)
    declared = Counter(p["lang"] for p in _posts(out, truth) if p["uid"].startswith("x:"))
    assert declared["in"] > declared["en"] > declared["und"] > 0  # X declares Indonesian as "in"
    generic = Counter(p["lang"] for p in _posts(out, truth) if p["uid"].startswith("generic:"))
    assert set(generic) == {"id", "en", ""}


def test_texts_vary_and_look_like_social_media(run):
    out, truth = run
    posts = [p for p in _posts(out, truth) if p["kind"] not in ("retweeted",)]
    camp = set(truth["planted"]["campaign"]["post_uids"])
    norm = Counter(" ".join(_words(p["text"])) for p in posts if p["uid"] not in camp)
    dups = sum(n - 1 for n in norm.values() if n > 1)
    assert dups / len(posts) < 0.02
    text = " ".join(p["text"] for p in posts)
    for cue in ("gak", "yg", "bgt", "udah", "personal branding", "hoaks", "#", "@"):
        assert cue in text, cue
    assert re.search(r"[\U0001F300-\U0001FAFF]", text), "emoji"
    assert any(d in text for d in ("kompas.com", "detik.com", "tempo.co", "cnnindonesia.com"))
    themes = truth["aggregates"]["theme_counts"]
    assert len(themes) == 15 and all(n > 0 for n in themes.values())
    sents = truth["aggregates"]["sentiment_counts"]
    assert all(n > N * 0.1 for n in sents.values())


def test_engagement_is_heavy_tailed(run):
    out, truth = run
    likes = [
        tw["public_metrics"]["like_count"]
        for name, f in truth["files"].items()
        if f["format"] == "x_v2"
        for tw, _p in _x_file(out / name)["tweets"]
        if (tw.get("referenced_tweets") or [{}])[0].get("type") != "retweeted"
    ]
    likes.sort()
    assert statistics.median(likes) < statistics.mean(likes) / 2
    assert likes[-1] > 20 * max(1, statistics.median(likes))
    authors = Counter(p["author"] for p in _posts(out, truth) if p["uid"].startswith("x:"))
    top = authors.most_common(5)
    assert top[0][1] >= 10 * statistics.median(authors.values())


# ------------------------------------------------------------------ determinism and options
def test_same_seed_same_bytes(run, tmp_path):
    out, _truth = run
    again = tmp_path / "again"
    generate(again, N, seed=7)
    for p in sorted(out.iterdir()):
        assert (again / p.name).read_bytes() == p.read_bytes(), p.name
    other = tmp_path / "other"
    generate(other, N, seed=8)
    assert (other / "x_v2_001.jsonl").read_bytes() != (out / "x_v2_001.jsonl").read_bytes()


def test_compressed_outputs(tmp_path):
    truth = generate(tmp_path, 1500, seed=3, compress=True, days=7)
    names = set(truth["files"])
    assert any(n.endswith(".jsonl.gz") for n in names) and any(n.endswith(".jsonl.zst") for n in names)
    assert any(n.endswith(".zip") for n in names) and any(n.endswith(".csv.gz") for n in names)
    got = _read_all(tmp_path, truth)
    for name, f in truth["files"].items():
        assert got[name]["valid"] == f["valid_posts"] and len(got[name]["malformed"]) == f["malformed"]
    assert sum(g["valid"] for g in got.values()) == 1500
    # gzip members carry no timestamp, so compressed output is reproducible too
    gz = next(tmp_path.glob("*.csv.gz")).read_bytes()
    assert gz[4:8] == b"\0\0\0\0"
    assert gzip.decompress(gz).startswith(b"id,text,created_at")
    again = generate(tmp_path / "again", 1500, seed=3, compress=True, days=7)
    assert again["files"] == truth["files"]
    for name in names:
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_file_caps_split_files(tmp_path):
    truth = generate(
        tmp_path, 3000, seed=5, days=3, x_file_cap=300, telegram_file_cap=200, generic_file_cap=250
    )
    tg_files = [f for f in truth["files"].values() if f["format"] == "telegram_desktop"]
    x_files = [f for f in truth["files"].values() if f["format"] == "x_v2"]
    gen_files = [f for f in truth["files"].values() if f["format"] == "generic"]
    assert len(tg_files) >= 2 and all(f["records"] <= 200 + 1 for f in tg_files)
    assert len(x_files) >= 5 and all(f["valid_posts"] <= 300 + 100 for f in x_files)
    assert len(gen_files) >= 3 and all(f["records"] <= 250 + 2 for f in gen_files)
    got = _read_all(tmp_path, truth)
    assert sum(g["valid"] for g in got.values()) == 3000
    # message ids keep counting across the parts of a chat, so post uids never collide
    uids = [p["uid"] for p in _posts(tmp_path, truth)]
    assert len(uids) == len(set(uids)) == 3000


def test_single_format_still_plants_the_campaign(tmp_path):
    truth = generate(tmp_path, 1200, seed=2, formats=("generic",), start=date(2026, 3, 2), days=5)
    c = truth["planted"]["campaign"]
    assert c["platforms"] == ["generic"] and c["distinct_accounts"] >= 30
    assert truth["dates"][0] == "2026-03-02" and len(truth["dates"]) == 5
    assert set(truth["files"]) == {"generic_001.csv", "generic_002.csv"}  # one per half of the period
    assert truth["planted"]["format_drift"] is None


def test_failed_run_leaves_nothing_behind(tmp_path):
    """A run that dies half-way must not leave half-written exports for the nightly ingest to pick up."""

    def boom(n: int) -> None:
        if n > 6000:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        generate(tmp_path, 20_000, progress=boom)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        generate(tmp_path, 1000, formats=("x_v2", "myspace"))
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path, MIN_POSTS - 1)
    with pytest.raises(ValueError, match="days"):
        generate(tmp_path, 1000, days=0)


def test_memory_stays_bounded(tmp_path):
    """Peak RSS of a 150k-post run stays far below what its output would need in memory."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from ingest.generate import generate
        generate(Path({str(tmp_path)!r}), 150_000, seed=1)
        # VmHWM belongs to this process's own address space; getrusage's maxrss would carry over the
        # (large) pytest parent's peak across fork+exec.
        status = Path("/proc/self/status").read_text()
        print(next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")))
    """)
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    peak_mb = int(res.stdout.strip()) / 1024
    written_mb = sum(p.stat().st_size for p in tmp_path.iterdir()) / 1e6
    assert written_mb > 120
    assert peak_mb < 110, f"peak RSS {peak_mb:.0f} MB for {written_mb:.0f} MB written"


# ------------------------------------------------------------------ against the project's adapters
def test_adapters_load_exactly_what_the_truth_says(run):
    from ingest.registry import UnrecognisedFormat, detect

    out, truth = run
    for name, f in truth["files"].items():
        (src,) = expand(out / name)
        try:
            adapter = detect(src)
        except UnrecognisedFormat:
            pytest.skip(f"no adapter for {f['format']} in this tree")
        assert adapter.name == f["format"], name
        posts = quarantined = 0
        skipped: dict[str, int] = defaultdict(int)
        for chunk in adapter.read(src, {}):
            posts += chunk.posts.num_rows if chunk.posts is not None else 0
            quarantined += chunk.quarantine.num_rows if chunk.quarantine is not None else 0
            for k, v in chunk.skipped.items():
                skipped[k] += v
        assert posts == f["valid_posts"], name
        assert quarantined == f["malformed"], name
        assert sum(skipped.values()) == f["skipped_total"], name
