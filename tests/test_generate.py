"""The synthetic export generator: files parse, counts and planted signals match the ground truth.

Everything here re-reads the written files with plain ``json``/``csv`` and counts on its own, so the
ground truth is checked against the files, not against itself.
"""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
import re
import statistics
import subprocess
import sys
import textwrap
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.sources import expand
from synth import FORMATS, MIN_POSTS, TRUTH_FILE, generate

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


def _lines(path: Path) -> list[str]:
    lines = _read_bytes(path).decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _result(valid, malformed, skipped, records, posts) -> dict:
    return {
        "valid": valid,
        "malformed": malformed,
        "skipped": sum(skipped.values()),
        "by_reason": skipped,
        "records": records,
        "posts": posts,
    }


def _untag(s: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", s.replace("</p><p>", "\n\n")))


def _v1_time(s: str) -> datetime:
    return datetime.strptime(s, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


def _x_archive_file(path: Path) -> dict:
    """Items of the archive's data/tweets.js; the author comes from data/account.js."""
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {"data/tweets.js", "data/account.js", "data/manifest.js"}
        js = zf.read("data/tweets.js").decode("utf-8")
        account = zf.read("data/account.js").decode("utf-8")
    head, _, body = js.partition(" = ")
    assert head == "window.YTD.tweets.part0"
    acc = json.loads(account.partition(" = ")[2])[0]["account"]
    valid, malformed, posts, items = 0, [], [], json.loads(body)
    for i, item in enumerate(items, 1):
        tw = item["tweet"]
        if not tw.get("id_str") or not tw.get("created_at"):
            malformed.append(("bad_tweet", i))
            continue
        valid += 1
        kind = (
            "retweeted"
            if tw["full_text"].startswith("RT @")
            else ("reply" if tw.get("in_reply_to_status_id_str") else "post")
        )
        posts.append(
            {
                "uid": f"x:{tw['id_str']}",
                "author": acc["accountId"],
                "text": html.unescape(tw["full_text"]),
                "at": _v1_time(tw["created_at"]),
                "lang": tw["lang"],
                "kind": kind,
            }
        )
    return _result(valid, malformed, {}, len(items), posts)


def _reddit_file(path: Path) -> dict:
    valid, malformed, skipped, posts = 0, [], Counter(), []
    lines = _lines(path)
    for no, line in enumerate(lines, 1):
        if not line.strip():
            skipped["blank_line"] += 1
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            malformed.append(("bad_json", no))
            continue
        if "display_name" in obj:
            skipped["record:subreddit"] += 1
            continue
        if not obj.get("id"):
            malformed.append(("no_id", no))
            continue
        valid += 1
        at = datetime.fromtimestamp(float(obj["created_utc"]), UTC)
        if "body" in obj:
            uid, text = f"reddit:t1_{obj['id']}", obj["body"]
        else:
            uid = f"reddit:t3_{obj['id']}"
            text = obj["title"] + ("" if obj["selftext"] in ("", "[removed]") else "\n\n" + obj["selftext"])
        author = None if obj["author"] == "[deleted]" else obj["author"]
        posts.append(
            {
                "uid": uid,
                "author": author,
                "text": html.unescape(text),
                "at": at,
                "lang": None,
                "kind": "comment" if "body" in obj else "post",
            }
        )
    return _result(valid, malformed, dict(skipped), len(lines), posts)


def _mastodon_file(path: Path) -> dict:
    valid, malformed, skipped, posts = 0, [], Counter(), []
    raw = _read_bytes(path).decode("utf-8")
    if raw.startswith("{"):  # an account's outbox.json
        doc = json.loads(raw)
        items = doc["orderedItems"]
        assert doc["type"] == "OrderedCollection" and doc["totalItems"] == len(items)
        for i, act in enumerate(items, 1):
            note = act["object"]
            if act["type"] == "Announce":
                assert isinstance(note, str) and note.startswith("https://")
                valid += 1
                posts.append(
                    {
                        "uid": f"mastodon:{act['id']}",
                        "author": act["actor"],
                        "text": "",
                        "at": datetime.fromisoformat(act["published"]),
                        "lang": None,
                        "kind": "retweeted",
                    }
                )
            elif "published" not in note:
                malformed.append(("no_published", i))
            elif "https://www.w3.org/ns/activitystreams#Public" not in note["to"] + note["cc"]:
                skipped["visibility:private"] += 1
            else:
                valid += 1
                posts.append(
                    {
                        "uid": f"mastodon:{note['id']}",
                        "author": act["actor"],
                        "text": _untag(note["content"]),
                        "at": datetime.fromisoformat(note["published"]),
                        "lang": next(iter(note["contentMap"])),
                        "kind": "reply" if note["inReplyTo"] else "post",
                    }
                )
        return _result(valid, malformed, dict(skipped), len(items), posts)
    lines = _lines(path)
    for no, line in enumerate(lines, 1):  # REST API pages, one JSON array per line
        page = json.loads(line)
        if not page:
            skipped["empty_page"] += 1
        for st in page:
            if st["created_at"] is None:
                malformed.append(("no_created_at", no))
            elif st["visibility"] == "direct":
                skipped["visibility:direct"] += 1
            else:
                valid += 1
                src = st["reblog"] or st
                posts.append(
                    {
                        "uid": f"mastodon:{st['id']}",
                        "author": st["account"]["uri"],
                        "text": _untag(src["content"]),
                        "at": datetime.fromisoformat(st["created_at"]),
                        "lang": src["language"],
                        "kind": "retweeted" if st["reblog"] else "post",
                    }
                )
    return _result(valid, malformed, dict(skipped), len(lines), posts)


def _bluesky_file(path: Path) -> dict:
    valid, malformed, skipped, posts = 0, [], Counter(), []
    lines = _lines(path)
    for no, line in enumerate(lines, 1):
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            malformed.append(("bad_json", no))
            continue
        c = ev.get("commit")
        if ev["kind"] != "commit":
            skipped[f"kind:{ev['kind']}"] += 1
        elif c["operation"] != "create":
            skipped[f"commit:{c['operation']}:{c['collection']}"] += 1
        elif c["collection"] != "app.bsky.feed.post":
            skipped[f"collection:{c['collection']}"] += 1
        else:
            rec = c["record"]
            try:
                at = datetime.fromisoformat(rec["createdAt"])
            except ValueError:
                malformed.append(("bad_created_at", no))
                continue
            valid += 1
            for f in rec.get("facets", ()):  # byte offsets into the UTF-8 text
                seg = rec["text"].encode()[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
                feat = f["features"][0]
                if feat["$type"].endswith("#tag"):
                    assert seg == "#" + feat["tag"]
                elif feat["$type"].endswith("#mention"):
                    assert seg.startswith("@") and seg.endswith(".bsky.social")
            posts.append(
                {
                    "uid": f"bluesky:at://{ev['did']}/app.bsky.feed.post/{c['rkey']}",
                    "author": ev["did"],
                    "text": rec["text"],
                    "at": at.astimezone(UTC),
                    "lang": (rec["langs"] or [None])[0],
                    "kind": "reply" if "reply" in rec else "post",
                }
            )
    return _result(valid, malformed, dict(skipped), len(lines), posts)


def _youtube_file(path: Path) -> dict:
    valid, malformed, skipped, posts = 0, [], Counter(), []
    raw = _read_bytes(path).decode("utf-8")
    if raw.startswith('{\n    "comments": ['):  # the --pretty document
        lines = [json.dumps(c) for c in json.loads(raw)["comments"]]
    else:
        lines = _lines(path)
    for no, line in enumerate(lines, 1):
        if not line.strip():
            skipped["blank_line"] += 1
            continue
        try:
            c = json.loads(line)
        except json.JSONDecodeError:
            malformed.append(("bad_json", no))
            continue
        if "time_parsed" not in c:
            malformed.append(("no_time_parsed", no))
            continue
        valid += 1
        posts.append(
            {
                "uid": f"youtube:{c['cid']}",
                "author": c["channel"],
                "text": c["text"],
                "at": datetime.fromtimestamp(c["time_parsed"], UTC),
                "lang": None,
                "kind": "reply" if c["reply"] else "comment",
                "votes": c["votes"],
            }
        )
    return _result(valid, malformed, dict(skipped), len(lines), posts)


def _zeeschuimer_file(path: Path) -> dict:
    valid, malformed, skipped, posts = 0, [], Counter(), []
    lines = _lines(path)
    for no, line in enumerate(lines, 1):
        if not line.strip():
            skipped["blank_line"] += 1
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            malformed.append(("bad_json", no))
            continue
        d, host = item["data"], item["source_platform"]
        if host == "tiktok.com":
            if "createTime" not in d:
                malformed.append(("no_create_time", no))
                continue
            post = {
                "uid": f"tiktok:{d['id']}",
                "author": d["author"]["id"],
                "text": d["desc"],
                "at": datetime.fromtimestamp(int(d["createTime"]), UTC),
                "lang": None,
                "kind": "post",
            }
            assert int(d["id"]) >> 32 == int(d["createTime"])  # TikTok ids carry their creation second
        elif host == "instagram.com":
            post = {
                "uid": f"instagram:{d['pk']}",
                "author": d["user"]["pk"],
                "text": d["caption"]["text"],
                "at": datetime.fromtimestamp(d["taken_at"], UTC),
                "lang": None,
                "kind": "post",
            }
        elif host in ("x.com", "twitter.com"):
            tw = d.get("tweet", d)
            leg = tw["legacy"]
            post = {
                "uid": f"x:{tw['rest_id']}",
                "author": leg["user_id_str"],
                "text": html.unescape(leg["full_text"]),
                "at": _v1_time(leg["created_at"]),
                "lang": leg["lang"],
                "kind": "reply" if "in_reply_to_status_id_str" in leg else "post",
            }
        else:
            skipped[f"source_platform:{host}"] += 1
            continue
        valid += 1
        posts.append(post)
    return _result(valid, malformed, dict(skipped), len(lines), posts)


READERS = {
    "x_v2": _x_file,
    "telegram_desktop": _telegram_file,
    "generic": _generic_file,
    "x_archive": _x_archive_file,
    "reddit": _reddit_file,
    "mastodon": _mastodon_file,
    "bluesky_jetstream": _bluesky_file,
    "youtube_comments": _youtube_file,
    "zeeschuimer": _zeeschuimer_file,
}


def _read_all(out: Path, truth: dict) -> dict[str, dict]:
    return {name: READERS[f["format"]](out / name) for name, f in truth["files"].items()}


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
        posts += got.get("posts", [])
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
    for prefix in (
        "telegram_",
        "generic_",
        "x_archive_",
        "reddit_RS_",
        "reddit_RC_",
        "mastodon_outbox_",
        "mastodon_statuses_",
        "bluesky_jetstream_",
        "youtube_",
        "zeeschuimer_",
    ):
        assert any(n.startswith(prefix) for n in data_files), prefix
    assert truth["formats"] == list(FORMATS)
    assert {f["format"] for f in truth["files"].values()} == set(FORMATS), "every format is written"
    # X stays the largest platform of the default mix
    by_platform = truth["totals"]["by_platform"]
    assert max(by_platform, key=by_platform.get) == "x"
    assert set(by_platform) == {
        "x",
        "telegram",
        "generic",
        "reddit",
        "mastodon",
        "bluesky",
        "youtube",
        "tiktok",
        "instagram",
    }


def test_counts_per_file_match_the_files(run):
    out, truth = run
    got = _read_all(out, truth)
    for name, f in truth["files"].items():
        g = got[name]
        assert g["valid"] == f["valid_posts"], name
        assert len(g["malformed"]) == f["malformed"] == len(f["malformed_records"]), name
        assert g["skipped"] == f["skipped_total"], name
        if "by_reason" in g:
            assert g["by_reason"] == f["skipped"], name
        assert g["records"] == f["records"], name
        if f["format"] == "x_v2":  # records are lines; a page line holds up to 100 tweets
            assert (
                f["pages"]
                + f["skipped_total"]
                + sum(m["kind"] == "truncated_json" for m in f["malformed_records"])
                == f["records"]
            ), name
        elif "pages" in f:  # Mastodon REST pages: one line per page of statuses
            assert f["pages"] == f["records"], name
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
            if f["format"] == "x_v2":
                assert ("bad_json" if m["kind"] == "truncated_json" else "bad_tweet", m["line"]) in seen
            elif m["kind"] in ("empty_text", "bad_date"):
                assert (m["kind"], m["row"]) in seen
            elif f["format"] == "telegram_desktop":
                assert ("no_date", m["record"]) in seen
            else:
                assert m.get("record", m.get("line")) in {pos for _k, pos in seen}, (name, m)
        if f["format"] not in ("x_v2", "telegram_desktop", "generic"):
            assert len({pos for _k, pos in seen}) == len(seen) == f["malformed"], name
    skipped = truth["totals"]["skipped"]
    assert skipped.get("api_error", 0) >= 2
    assert sum(n for k, n in skipped.items() if k.startswith("service:")) >= 1


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
    x_v2 = sum(f["valid_posts"] for f in truth["files"].values() if f["format"] == "x_v2")
    assert len(by_id) == x_v2, "tweet ids are unique"
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


def _files(out: Path, truth: dict, fmt: str) -> list[Path]:
    return [out / name for name, f in truth["files"].items() if f["format"] == fmt]


def test_newer_formats_are_faithful_to_their_exports(run):
    out, truth = run
    # Reddit: created_utc as int, float and string; edited false or an epoch; deleted and removed bodies
    created, edited, bodies = Counter(), Counter(), Counter()
    for path in _files(out, truth, "reddit"):
        for line in _lines(path):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "created_utc" in obj and "display_name" not in obj and "id" in obj:
                created[type(obj["created_utc"]).__name__] += 1
                edited[type(obj.get("edited")).__name__] += 1
                bodies[obj.get("body") if obj.get("body") in ("[deleted]", "[removed]") else "text"] += 1
                assert "&" not in re.sub(r"&(amp|lt|gt);", "", obj.get("body") or obj.get("title", ""))
    assert set(created) == {"int", "float", "str"} and set(edited) == {"bool", "int"}
    assert bodies["[deleted]"] and bodies["[removed]"]
    # Mastodon: HTML content, boosts whose object is only a URL, an outbox per account
    outbox = json.loads(_read_bytes(_files(out, truth, "mastodon")[0]))
    types = Counter(a["type"] for a in outbox["orderedItems"])
    assert types["Create"] and types["Announce"]
    assert all(
        a["object"]["content"].startswith("<p>") for a in outbox["orderedItems"] if a["type"] == "Create"
    )
    rest = [
        st
        for p in _files(out, truth, "mastodon")
        if p.name.startswith("mastodon_statuses")
        for line in _lines(p)
        for st in json.loads(line)
    ]
    assert any(st["reblog"] for st in rest) and any("hashtag" in st["content"] for st in rest)
    # Bluesky: the post creates come among events the adapter must count as skipped
    reasons = Counter(
        k for p in _files(out, truth, "bluesky_jetstream") for k in truth["files"][p.name]["skipped"]
    )
    for r in (
        "collection:app.bsky.feed.like",
        "collection:app.bsky.feed.repost",
        "collection:app.bsky.graph.follow",
        "collection:app.bsky.graph.block",
        "commit:delete:app.bsky.feed.post",
        "commit:update:app.bsky.actor.profile",
        "kind:identity",
        "kind:account",
    ):
        assert r in reasons, r
    assert any(f.get("pretty") for f in truth["files"].values()), "a youtube-comment-downloader --pretty file"
    # YouTube: the video id is the file name's last 11 characters; votes as the page shows them
    votes = set()
    for path in _files(out, truth, "youtube_comments"):
        vid = path.name.split(".")[0][-11:]
        assert truth["files"][path.name]["video_id"] == vid and re.fullmatch(r"[A-Za-z0-9_-]{11}", vid)
        votes |= {p["votes"] for p in _youtube_file(path)["posts"]}
    assert "" in votes and any(re.fullmatch(r"\d+(\.\d)?K|\d+(,\d)? rb", v) for v in votes), votes
    # Zeeschuimer: TikTok, Instagram and X items in one capture file
    plats = Counter()
    for path in _files(out, truth, "zeeschuimer"):
        plats.update(truth["files"][path.name]["platforms"])
    assert set(plats) == {"tiktok", "instagram", "x"}
    # X archive: one account per archive zip, its tweets v1.1-shaped with counts as strings
    for path in _files(out, truth, "x_archive"):
        got = _x_archive_file(path)
        assert got["valid"] == truth["files"][path.name]["valid_posts"] > 0
        assert len({p["author"] for p in got["posts"]}) == 1
    # every post id is unique across formats (X ids come from three formats)
    uids = [p["uid"] for p in _posts(out, truth)]
    assert len(uids) == len(set(uids)) == N


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


def test_emerging_story(run):
    out, truth = run
    s = truth["planted"]["emerging_story"]
    assert sum(s["by_platform"].values()) == s["planted_posts"] >= 30 and len(s["by_platform"]) >= 3
    # independently: posts naming the event, per day, from the files
    per_day = Counter()
    for p in _posts(out, truth):
        t = p["text"].lower()
        if "kalimaya" in t and "lentera" in t:
            per_day[p["at"].date().isoformat()] += 1
    assert per_day[s["date"]] >= s["planted_posts"]
    assert sum(per_day.values()) - per_day[s["date"]] <= s["planted_posts"] * 0.1  # later reposts only
    # nobody put it in the taxonomy: none of its terms is a word of a topic keyword
    seed = Path(__file__).parents[1] / "dbt_project" / "seeds" / "topic_keywords.csv"
    with seed.open(encoding="utf-8", newline="") as fh:
        words = {w for row in csv.DictReader(fh) for w in row["term"].lower().split()}
    assert not set(s["terms"]) & words


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
        tmp_path,
        6000,
        seed=5,
        days=3,
        x_file_cap=300,
        telegram_file_cap=200,
        generic_file_cap=250,
        file_cap=200,
    )
    tg_files = [f for f in truth["files"].values() if f["format"] == "telegram_desktop"]
    x_files = [f for f in truth["files"].values() if f["format"] == "x_v2"]
    gen_files = [f for f in truth["files"].values() if f["format"] == "generic"]
    assert len(tg_files) >= 2 and all(f["records"] <= 200 + 1 for f in tg_files)
    assert len(x_files) >= 5 and all(f["valid_posts"] <= 300 + 100 for f in x_files)
    assert len(gen_files) >= 3 and all(f["records"] <= 250 + 2 for f in gen_files)
    for fmt in ("reddit", "bluesky_jetstream"):
        files = [f for f in truth["files"].values() if f["format"] == fmt]
        assert len(files) >= 3 and all(f["records"] <= 200 + 12 for f in files), fmt
    got = _read_all(tmp_path, truth)
    assert sum(g["valid"] for g in got.values()) == 6000
    # message ids keep counting across the parts of a chat, so post uids never collide
    uids = [p["uid"] for p in _posts(tmp_path, truth)]
    assert len(uids) == len(set(uids)) == 6000


def test_single_format_still_plants_the_campaign(tmp_path):
    truth = generate(tmp_path, 1200, seed=2, formats=("generic",), start=date(2026, 3, 2), days=5)
    c = truth["planted"]["campaign"]
    assert c["platforms"] == ["generic"] and c["distinct_accounts"] >= 30
    assert truth["dates"][0] == "2026-03-02" and len(truth["dates"]) == 5
    assert set(truth["files"]) == {"generic_001.csv", "generic_002.csv"}  # one per half of the period
    assert truth["planted"]["format_drift"] is None


def test_campaign_falls_back_to_a_newer_format(tmp_path):
    truth = generate(tmp_path, 1000, seed=4, formats="bluesky,youtube,x_archive", days=4)
    assert truth["formats"] == ["x_archive", "bluesky_jetstream", "youtube_comments"]
    c = truth["planted"]["campaign"]
    assert c["platforms"] == ["bluesky"] and c["distinct_accounts"] >= 30
    posts = {p["uid"]: p for p in _posts(tmp_path, truth)}
    camp = [posts[u] for u in c["post_uids"]]
    assert len({p["author"] for p in camp}) == c["distinct_accounts"]
    assert (max(p["at"] for p in camp) - min(p["at"] for p in camp)).total_seconds() <= 2 * 3600
    assert all(c["domain"] in p["text"] for p in camp)
    with pytest.raises(ValueError, match="campaign"):
        generate(tmp_path / "no", 1000, formats=("x_archive", "youtube_comments"))


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


@pytest.mark.integration  # generates a large corpus
def test_memory_stays_bounded(tmp_path):
    """Peak RSS of a 150k-post run stays far below what its output would need in memory."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from synth import generate
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


# ------------------------------------------------------------------ the writer registry
def test_every_format_module_is_a_discovered_writer():
    """Each module of ``synth.formats`` is one format's writer, and the registry has found them all."""
    import importlib
    import pkgutil

    import synth.formats
    from synth.output import Writer

    modules = sorted(
        m.name for m in pkgutil.iter_modules(synth.formats.__path__) if not m.name.startswith("_")
    )
    assert modules == sorted(synth.formats.WRITERS)
    assert set(modules) == {
        "x_v2",
        "telegram_desktop",
        "generic",
        "x_archive",
        "reddit",
        "mastodon",
        "bluesky_jetstream",
        "youtube_comments",
        "zeeschuimer",
    }
    for name, writer in synth.formats.WRITERS.items():
        assert importlib.import_module(f"synth.formats.{name}").WRITER is writer
        assert issubclass(writer, Writer) and writer.FORMAT == name
        assert writer.PLATFORM and writer.WEIGHT > 0
        assert synth.formats.PLATFORM_OF[name] == writer.PLATFORM
        assert all(synth.formats.FORMAT_ALIASES[a] == name for a in writer.ALIASES)
    assert abs(sum(synth.formats.FORMAT_WEIGHTS.values()) - 1) < 1e-9


def test_default_formats_are_the_registry_in_rank_order():
    import inspect

    import synth.formats
    from synth.corpus import CAMPAIGN_FALLBACK

    writers = synth.formats.WRITERS
    assert FORMATS == synth.formats.FORMATS == tuple(writers)
    assert list(FORMATS) == sorted(writers, key=lambda f: writers[f].RANK)
    assert inspect.signature(generate).parameters["formats"].default == FORMATS
    # the order seeds' outputs depend on: a new format must rank after these
    assert FORMATS[:9] == (
        "x_v2",
        "telegram_desktop",
        "generic",
        "x_archive",
        "reddit",
        "mastodon",
        "bluesky_jetstream",
        "youtube_comments",
        "zeeschuimer",
    )
    # the formats the planted campaign may go to can post it
    for f in ("x_v2", "telegram_desktop", *CAMPAIGN_FALLBACK):
        assert callable(getattr(writers[f], "campaign", None)), f


# ------------------------------------------------------------------ against the project's adapters
def test_adapters_load_exactly_what_the_truth_says(run):
    from ingest.registry import UnrecognisedFormat, detect

    out, truth = run
    for name, f in truth["files"].items():
        posts = quarantined = 0
        skipped: dict[str, int] = defaultdict(int)
        for src in expand(out / name):
            try:
                adapter = detect(src)
            except UnrecognisedFormat:
                if src.member and src.member != f.get("member"):
                    continue  # the archive's account.js and manifest.js are not posts
                pytest.skip(f"no adapter for {f['format']} in this tree")
            assert adapter.name == f["format"], name
            for chunk in adapter.read(src, {}):
                posts += chunk.posts.num_rows if chunk.posts is not None else 0
                quarantined += chunk.quarantine.num_rows if chunk.quarantine is not None else 0
                for k, v in chunk.skipped.items():
                    skipped[k] += v
        assert posts == f["valid_posts"], name
        assert quarantined == f["malformed"], name
        assert dict(skipped) == f["skipped"], name


def test_lake_ingest_gives_exactly_the_ground_truth(run, tmp_path):
    """Every written file through the real lake code: loaded, quarantined (where), skipped by reason."""
    from adapters._helpers import assert_lake_matches_truth

    from discourse.settings import load_settings

    out, truth = run
    settings = load_settings(env={"DISCOURSE_PSEUDONYM_KEY": "generate-test-key"}, home=tmp_path / "home")
    assert_lake_matches_truth(settings, out, truth)
