"""Writers for the generator's newer export formats (used by ``ingest.generate``).

Each writer mirrors one adapter's documented input, awkward cases included, and records exactly what it
wrote (posts, quarantine-worthy records, skipped records by the adapter's reason) in the run's ground
truth:

- ``x_archive_NNN.zip``: an X account archive (``data/tweets.js`` as ``window.YTD.tweets.part0 = [...]``
  with v1.1 tweets, pretty-printed with ``" : "``, counts as strings; ``data/account.js`` and
  ``data/manifest.js`` beside it), one per account;
- ``reddit_RS_NNN.ndjson`` / ``reddit_RC_NNN.ndjson`` (``.zst`` compressed): Pushshift/Arctic Shift
  submissions and comments; ``created_utc`` an int, a float or a string, ``edited`` false or an epoch,
  ``[deleted]``/``[removed]`` authors and bodies, HTML-escaped ``&``/``<``/``>``, a subreddit record;
- ``mastodon_outbox_NNN.json`` (one account's ActivityPub ``outbox.json``: ``Create`` → ``Note`` with
  HTML ``content``, ``Announce`` boosts whose object is a URL, followers-only statuses) and
  ``mastodon_statuses_NNN.jsonl`` (REST API pages of public statuses, one JSON array per line, reblogs,
  an empty page, a direct message);
- ``bluesky_jetstream_NNN.jsonl`` (``.zst``): Jetstream events, post creates among likes, reposts,
  follows, blocks, deletes, profile updates, identity and account events (all counted as skipped);
- ``youtube_<video id>.jsonl`` (``.gz``): youtube-comment-downloader lines with ``votes`` like ``"1.2K"``
  or ``"3,4 rb"`` (an Indonesian-locale download), relative ``time`` and ``time_parsed``; every
  third video as the tool's ``--pretty`` document (``youtube_pretty_<video id>.json``). The video id is
  the file name's (the adapter's ``<stem>.meta.json`` sidecar is not written: a sidecar in the inbox
  is not an export, and callers that ingest every file of the folder would trip on it);
- ``zeeschuimer_NNN.ndjson`` (``.gz``): Zeeschuimer/4CAT captures of TikTok, Instagram and X (GraphQL)
  items, plus LinkedIn items the adapter does not support.

Mastodon files are gzipped when compressed. The first file of each kind carries the planted records:
a truncated line (Reddit submissions, Jetstream, YouTube, Zeeschuimer), a comment without id, a status
without ``created_at`` (REST) or ``published`` (outbox), a post with ``createdAt: "kemarin sore"``, a
comment without ``time_parsed``, a TikTok item without ``createTime``; and the skipped ones: a subreddit
record, blank lines, an empty page, a direct message, one event of every non-post kind. An archive zip
carries none: the lake names a member's records ``<zip>!data/tweets.js``, which a ground truth keyed by
file name cannot point at.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import deque
from datetime import UTC, date, datetime, timedelta
from html import escape

from ingest import generate as G

_dumps = json.JSONEncoder(check_circular=False, ensure_ascii=False).encode  # ", " and ": " like json.dumps
_compact = json.JSONEncoder(check_circular=False, ensure_ascii=False, separators=(",", ":")).encode
_B32S = "234567abcdefghijklmnopqrstuvwxyz"  # atproto's sortable base32
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CACHE_BIG = 4_000  # busiest accounts whose (large) profile objects stay cached: memory stays bounded


def _rand_str(rnd, alphabet: str, n: int) -> str:
    k = len(alphabet)
    return "".join([alphabet[int(rnd() * k)] for _ in range(n)])


def _hash_str(h: int, alphabet: str, n: int) -> str:
    """``n`` characters of ``alphabet`` drawn from a 64-bit hash (re-mixed as its digits run out)."""
    out, k, x, i = [], len(alphabet), h, 0
    while len(out) < n:
        if x < k:
            i += 1
            x = G._mix(h + i * 0x9E3779B9)
        x, r = divmod(x, k)
        out.append(alphabet[r])
    return "".join(out)


_plain = G.plain_text


def _campaign_c(text: str, url: str) -> tuple:
    return ((), text, (), (), url, "")


def _person(h: int) -> tuple[str, str]:
    """(display name, handle stem) from a hash."""
    first = G._FIRST[h % len(G._FIRST)]
    last = G._LAST[(h >> 8) % len(G._LAST)]
    style = (h >> 16) % 5
    fl, ll = first.lower(), last.lower()
    stem = (f"{fl}_{ll}", f"{fl}{ll[:3]}", f"{fl}.{ll}", f"its{fl}", f"{ll}_{fl[:3]}")[style]
    return f"{first} {last}" if (h >> 20) & 1 else first, stem


class _Lines:
    """One line-oriented export file at a time: rotated per period (``group_days``) and at ``cap`` records."""

    def __init__(self, g, stem: str, fmt: str, ext: str, comp: tuple[str, str], group_days: int, cap: int):
        self.g, self.stem, self.fmt, self.ext, self.comp = g, stem, fmt, ext, comp
        self.group_days, self.cap = group_days, cap
        self.group = -1
        self.file_no = 0
        self.out = None
        self.ft: G._FileTruth | None = None
        self.on_open = None
        self.on_close = None

    def start_day(self, d: int) -> None:
        group = d // self.group_days
        if group != self.group:
            self.close()
            self.group = group

    def ensure(self) -> G._FileTruth:
        if self.out is not None and self.ft.records >= self.cap:
            self.close()
        if self.out is None:
            self.file_no += 1
            comp, ext = self.comp if self.g.compress else ("none", "")
            name = f"{self.stem}_{self.file_no:03d}{self.ext}{ext}"
            self.out = self.g.open_output(self.g.out / name, comp)
            self.ft = G._FileTruth(name, self.fmt)
            self.g.register_file(self.ft)
            if self.on_open:
                self.on_open(self)
        return self.ft

    def line(self, data: bytes, newline: bool = True) -> int:
        """Write one record line; returns its 1-based line number."""
        self.out.write(data + b"\n" if newline else data)
        self.ft.records += 1
        return self.ft.records

    def valid(self, stamp: str, n: int = 1) -> None:
        ft = self.ft
        ft.valid += n
        if ft.first is None:
            ft.first = stamp
        ft.last = stamp

    def close(self) -> None:
        if self.out is None:
            return
        if self.on_close:
            self.on_close(self)
        self.out.close()
        self.out = None

    def finish(self) -> None:
        self.close()


def _iso_ms(g, ms: int) -> str:
    sec, milli = g.stamp(ms)
    return f"{g.min_prefix}{G._TWO[sec]}.{G._THREE[milli]}Z"


def _v1_time(g, ms: int) -> str:
    """X API v1.1 time: ``Fri Feb 20 09:10:58 +0000 2026``."""
    sec, _ = g.stamp(ms)
    y, m, d = g.ymd
    hm = g.min_prefix[11:16]
    return f"{_DAYS[date(y, m, d).weekday()]} {_MONTHS[m - 1]} {G._TWO[d]} {hm}:{G._TWO[sec]} +0000 {y}"


def _x_entities(text_pieces, rnd) -> tuple[str, dict]:
    """v1.1 entities (indices in code points) for (kind, value) pieces joined by nothing."""
    ent = {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}
    out, pos = [], 0
    for kind, val, extra in text_pieces:
        if kind == "tag":
            s = "#" + val
            ent["hashtags"].append({"text": val, "indices": [str(pos), str(pos + len(s))]})
        elif kind == "mention":
            s = "@" + val
            ent["user_mentions"].append(
                {
                    "name": val,
                    "screen_name": val,
                    "indices": [str(pos), str(pos + len(s))],
                    "id_str": extra,
                    "id": extra,
                }
            )
        elif kind == "url":
            s = G._tco(rnd)
            ent["urls"].append(
                {
                    "url": s,
                    "expanded_url": val,
                    "display_url": G._display(val),
                    "indices": [str(pos), str(pos + len(s))],
                }
            )
        else:
            s = val
        out.append(s)
        pos += len(s)
    return "".join(out), ent


def _pieces(c, handle_ids: dict, prefix_mention: tuple[str, str] | None = None) -> list:
    front, body, end, tags, link, emoji = c
    p: list = []
    if prefix_mention:
        p += [("mention", prefix_mention[0], prefix_mention[1]), ("text", " ", None)]
    for h in front:
        p += [("mention", h, handle_ids[h]), ("text", " ", None)]
    p.append(("text", body + (" " + emoji if emoji else ""), None))
    for h in end:
        p += [("text", " ", None), ("mention", h, handle_ids[h])]
    for t in tags:
        p += [("text", " ", None), ("tag", t, None)]
    if link:
        p += [("text", " ", None), ("url", link, None)]
    return p


# ====================================================================== X account archive
class XArchiveWriter:
    """One zip per account: ``data/tweets.js`` streamed, ``account.js`` and ``manifest.js`` at the end."""

    MAX_ARCHIVES = 12

    def __init__(self, g):
        self.g = g
        share = g.share.get("x_archive", 0)
        self.n = max(2, min(self.MAX_ARCHIVES, round(g.posts * share / 1500)))
        acc, self.cum = 0.0, []
        tot = sum(1 / (i + 1) for i in range(self.n))
        for i in range(self.n):
            acc += 1 / (i + 1) / tot
            self.cum.append(acc)
        self.arch: dict[int, dict] = {}
        self.ring: deque = deque(maxlen=200)

    def _account(self, i: int) -> dict:
        h = G._mix(i * 31 + self.g.seed * 4_444_447 + 3)
        name, stem = _person(h)
        username = (stem.replace(".", "_")[:11] + str(h % 1000))[:15]
        day = G._day_offset(date(2012, 1, 1)) + (h >> 24) % (10 * 365)
        return {
            "email": f"{username.lower()}@example.org",
            "createdVia": ("android", "web", "iphone")[(h >> 12) % 3],
            "username": username,
            "accountId": str(1_000_000_000 + (h >> 20) % 8_999_999_999),
            "createdAt": f"{G._ACCOUNT_DAYS[day]}T{G._TWO[h % 24]}:{G._TWO[(h >> 5) % 60]}:00.000Z",
            "accountDisplayName": name,
        }

    def _open(self, i: int) -> dict:
        g = self.g
        name = f"x_archive_{i + 1:03d}.zip"
        out = g.open_output(g.out / name, "zip", member="data/tweets.js")
        ft = G._FileTruth(name, "x_archive")
        ft.extra["member"] = "data/tweets.js"
        g.register_file(ft)
        out.write(b"window.YTD.tweets.part0 = [")
        a = {"out": out, "ft": ft, "account": self._account(i), "n": 0}
        ft.extra["account_id"] = a["account"]["accountId"]
        self.arch[i] = a
        return a

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool):
        g = self.g
        rnd = g.rnd
        r = rnd()
        i = next((k for k, c in enumerate(self.cum) if r < c), self.n - 1)
        a = self.arch.get(i) or self._open(i)
        acc = a["account"]
        tid = g.x_id(ms)
        r = rnd()
        kind = "post"
        reply_to = None
        if r < 0.08:  # a retweet: the archive keeps "RT @user: " and the (cut) text, no id of the original
            src = G._NOTABLE_X[int(rnd() * len(G._NOTABLE_X))][0]
            c = g.text.compose(theme, lang, sent, False, rnd, g.choice, g.ymd, spike)
            pieces = [
                ("text", "RT ", None),
                ("mention", src, str(100_000_000 + len(src))),
                ("text", ": ", None),
            ]
            pieces += _pieces(c, g.handle_ids)
            kind = "repost"
        elif r < 0.22 and self.ring:
            reply_to, rname, rid = self.ring[int(len(self.ring) * rnd())]
            c = g.text.compose(theme, lang, sent, True, rnd, g.choice, g.ymd, spike)
            pieces = _pieces(c, g.handle_ids, (rname, rid))
            kind = "reply"
        else:
            c = g.text.compose(theme, lang, sent, rnd() < 0.7, rnd, g.choice, g.ymd, spike)
            pieces = _pieces(c, g.handle_ids)
            if r > 0.95 and self.ring:
                qid, qname, _ = self.ring[int(len(self.ring) * rnd())]
                pieces += [("text", " ", None), ("url", f"https://twitter.com/{qname}/status/{qid}", None)]
                kind = "quote"
        text, ent = _x_entities(pieces, rnd)
        if kind == "repost" and len(text) > 140:
            text = text[:139] + "…"
            ent = {k: [e for e in v if int(e["indices"][1]) <= 139] for k, v in ent.items()}
        like = int(math.exp(g.rng.gauss(0.8, 1.4))) if kind != "repost" else 0
        tweet = {
            "edit_info": {
                "initial": {
                    "editTweetIds": [tid],
                    "editableUntil": G._iso(datetime.fromtimestamp(ms / 1000 + 3600, UTC)),
                    "editsRemaining": "5",
                    "isEditEligible": True,
                }
            },
            "retweeted": False,
            "source": '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
            "entities": ent,
            "display_text_range": ["0", str(len(text))],
            "favorite_count": str(like),
            "id_str": tid,
            "truncated": False,
            "retweet_count": str(int(like * rnd() * 0.3)),
            "id": tid,
            "created_at": _v1_time(g, ms),
            "favorited": False,
            "full_text": escape(text, quote=False),
            "lang": ("in" if lang == "id" else "en" if lang == "en" else ("in", "und", "en")[int(rnd() * 3)]),
        }
        if reply_to:
            tweet["in_reply_to_status_id_str"] = reply_to
            tweet["in_reply_to_status_id"] = reply_to
            tweet["in_reply_to_screen_name"] = pieces[0][1]
            tweet["in_reply_to_user_id_str"] = pieces[0][2]
        if ent["urls"]:
            tweet["possibly_sensitive"] = False
        body = json.dumps({"tweet": tweet}, indent=2, separators=(",", " : "), ensure_ascii=False)
        body = body.replace("\n", "\n  ")
        a["out"].write((",\n  " if a["n"] else "\n  ").encode() + body.encode())
        a["n"] += 1
        ft = a["ft"]
        ft.records += 1
        ft.valid += 1
        stamp = G._iso(datetime.fromtimestamp(ms / 1000, UTC))
        ft.first = ft.first or stamp
        ft.last = stamp
        if kind != "repost":
            self.ring.append((tid, acc["username"], acc["accountId"]))
        return kind, theme, lang, sent

    def finish(self) -> None:
        for i in sorted(self.arch):
            a = self.arch[i]
            a["out"].write(b"\n]" if a["n"] else b"]")
            acc = a["account"]
            a["out"].extra_members.append(
                (
                    "data/account.js",
                    b"window.YTD.account.part0 = "
                    + json.dumps([{"account": acc}], indent=2, separators=(",", " : ")).encode(),
                )
            )
            manifest = {
                "userInfo": {
                    "accountId": acc["accountId"],
                    "userName": acc["username"],
                    "displayName": acc["accountDisplayName"],
                },
                "archiveInfo": {
                    "sizeBytes": "0",
                    "generationDate": self.g.end_iso,
                    "isPartialArchive": False,
                },
                "dataTypes": {
                    "tweets": {
                        "files": [
                            {
                                "fileName": "data/tweets.js",
                                "globalName": "YTD.tweets.part0",
                                "count": str(a["n"]),
                            }
                        ]
                    }
                },
            }
            a["out"].extra_members.append(
                (
                    "data/manifest.js",
                    b"window.__THAR_CONFIG = "
                    + json.dumps(manifest, indent=2, separators=(",", " : ")).encode(),
                )
            )
            a["ft"].extra["tweets"] = a["n"]
            a["out"].close()


# ====================================================================== Reddit dumps
class RedditWriter:
    def __init__(self, g):
        self.g = g
        gd = max(1, math.ceil(g.days / 2))
        cap = g.file_cap
        self.rs = _Lines(g, "reddit_RS", "reddit", ".ndjson", ("zstd", ".zst"), gd, cap)
        self.rc = _Lines(g, "reddit_RC", "reddit", ".ndjson", ("zstd", ".zst"), gd, cap)
        self.rs.on_open = self._rs_open
        self.rs.on_close = self._rs_close
        self.rc.on_close = self._rc_close
        self.rs_planted = self.rc_planted = False
        self.subs: deque = deque(maxlen=300)  # (id36, subreddit, slug)
        self.comments: deque = deque(maxlen=600)  # (id36, link id36, subreddit, slug)
        self.s_seq = 0
        self.c_seq = 0
        # 2026-era base-36 ids: submissions like "1gx0abc", comments like "lx0abcd"
        self.s_base = 3_140_000_000 + G._mix(g.seed + 17) % 50_000_000
        self.c_base = 47_700_000_000 + G._mix(g.seed + 19) % 500_000_000
        self._authors: dict[int, tuple[str, str]] = {}

    def start_day(self, d: int) -> None:
        self.rs.start_day(d)
        self.rc.start_day(d)

    def _rs_open(self, lw: _Lines) -> None:
        if lw.file_no == 1:
            sub = {
                "display_name": "indonesia",
                "subscribers": 512_345,
                "public_description": "Indonesia",
                "id": "2qh0x",
                "created_utc": 1201234567,
                "over18": False,
            }
            lw.line(_compact(sub).encode())
            lw.ft.skip("record:subreddit")

    def _rs_close(self, lw: _Lines) -> None:
        if not self.rs_planted:
            self._plant_rs(lw)

    def _rc_close(self, lw: _Lines) -> None:
        if not self.rc_planted:
            self._plant_rc(lw)

    def _plant_rs(self, lw: _Lines) -> None:
        g = self.g
        sid = G._b36(self.s_base + 999_999 - self.s_seq)
        line = _compact(
            {
                "id": sid,
                "author": "cut_off",
                "subreddit": "indonesia",
                "title": "Info loker BUMN terbaru, ada yang sudah daftar?",
                "selftext": "",
                "is_self": True,
                "created_utc": g.min_base_s,
            }
        ).encode()
        cut = line[: int(len(line) * 0.55)]
        n = lw.line(cut)
        lw.ft.malformed.append(
            {"kind": "truncated_json", "line": n, "bytes": len(cut), "error_expected": "invalid JSON line"}
        )
        self.rs_planted = True

    def _plant_rc(self, lw: _Lines) -> None:
        g = self.g
        n = lw.line(
            _compact(
                {
                    "author": "no_id_user",
                    "subreddit": "indonesia",
                    "link_id": "t3_1abcdef",
                    "parent_id": "t3_1abcdef",
                    "body": "komentar tanpa id",
                    "score": 2,
                    "created_utc": g.min_base_s,
                }
            ).encode()
        )
        lw.ft.malformed.append({"kind": "missing_id", "line": n, "error_expected": "comment lacks id"})
        lw.line(b"")
        lw.ft.skip("blank_line")
        self.rc_planted = True

    def _author(self, idx: int, campaign: bool = False) -> tuple[str, str]:
        a = None if campaign else self._authors.get(idx)
        if a is None:
            h = G._mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 3_333_331 + 7)
            _name, stem = _person(h)
            user = (("Throwaway_", "", "u_", "", "The_")[(h >> 30) % 5] + stem.replace(".", "_"))[:16]
            a = (f"{user}{idx}" if not campaign else f"{user}_{idx}x", "t2_" + G._b36(h % 36**6))
            if not campaign and idx < 20_000:
                self._authors[idx] = a
        return a

    def _created(self, ms: int):
        rnd = self.g.rnd
        s = self.g.stamp(ms)[0] + self.g.min_base_s
        r = rnd()
        if r < 0.1:
            return str(s)
        if r < 0.15:
            return float(s)
        return s

    def _edited(self, s: int):
        return s + 60 + int(self.g.rnd() * 7200) if self.g.rnd() < 0.07 else False

    @staticmethod
    def _esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool, c=None, author=None):
        g = self.g
        rnd = g.rnd
        campaign = c is not None  # the planted campaign posts submissions
        if c is None:
            c = g.text.compose(theme, lang, sent, rnd() < 0.8, rnd, g.choice, g.ymd, spike)
            author = self._author(g.pools["reddit"].draw(rnd()))
        stamp = G._iso(datetime.fromtimestamp(ms // 1000, UTC))
        s = self.g.stamp(ms)[0] + self.g.min_base_s
        if campaign or not self.subs or rnd() < 0.3:
            lw = self.rs
            lw.ensure()
            self.s_seq += 1
            sid = G._b36(self.s_base + self.s_seq * 7)
            sub = G._SUBREDDITS[(theme * 7 + self.s_seq) % len(G._SUBREDDITS)]
            front, body, end, tags, link, emoji = c
            head, sep, rest = body.partition(". ")
            title = head + (" " + emoji if emoji and not rest else "")
            extra = _plain(((), rest, end, tags, None, emoji if rest else ""), " ") if rest else ""
            if front:
                title = " ".join("@" + h for h in front) + " " + title
            if not rest and (end or tags):
                extra = _plain(((), "", end, tags, None, ""), "").strip()
            slug = "".join(ch if ch.isalnum() else "_" for ch in title.lower()[:50]).strip("_")
            permalink = f"/r/{sub}/comments/{sid}/{slug}/"
            is_self = not link or rnd() < 0.4
            if link and is_self:
                extra = (extra + "\n\n" if extra else "") + (f"[sumber]({link})" if rnd() < 0.5 else link)
            selftext = extra if is_self else ""
            if is_self and selftext and rnd() < 0.03:
                selftext = "[removed]"
            nc = int(math.exp(g.rng.gauss(1.2, 1.2)))
            score = int(math.exp(g.rng.gauss(1.5, 1.6))) - (2 if rnd() < 0.1 else 0)
            rec = {
                "id": sid,
                "name": "t3_" + sid,
                "author": author[0],
                "author_fullname": author[1],
                "subreddit": sub,
                "subreddit_id": "t5_" + G._b36(_hash_sub(sub)),
                "title": self._esc(title),
                "selftext": self._esc(selftext),
                "url": f"https://www.reddit.com{permalink}" if is_self else link,
                "permalink": permalink,
                "is_self": is_self,
                "is_video": False,
                "num_comments": str(nc) if rnd() < 0.05 else nc,
                "score": score,
                "upvote_ratio": round(0.5 + rnd() * 0.5, 2),
                "created_utc": self._created(ms),
                "edited": self._edited(s),
                "over_18": False,
                "link_flair_text": ("Discussion", "News", "Ask", None)[int(rnd() * 4)],
                "retrieved_on": s + 86_400 * 3,
            }
            if not is_self:
                rec["domain"] = link.split("/")[2]
            elif not link and rnd() < 0.06:  # an image post: the title is all the text
                img = G._b36(G._mix(self.s_seq + g.seed) % 36**13)
                rec.update(
                    {
                        "url": f"https://i.redd.it/{img}.jpeg",
                        "is_self": False,
                        "post_hint": "image",
                        "domain": "i.redd.it",
                        "selftext": "",
                    }
                )
            lw.line(_compact(rec).encode())
            lw.valid(stamp)
            self.subs.append((sid, sub, slug))
            kind, uid = "post", "reddit:t3_" + sid
        else:
            lw = self.rc
            lw.ensure()
            self.c_seq += 1
            cid = G._b36(self.c_base + self.c_seq * 5)
            if self.comments and rnd() < 0.45:
                pid, link36, sub, slug = self.comments[
                    len(self.comments) - 1 - int(len(self.comments) * rnd())
                ]
                parent = "t1_" + pid
            else:
                link36, sub, slug = self.subs[len(self.subs) - 1 - int(len(self.subs) * rnd() * rnd())]
                parent = "t3_" + link36
            text = _plain(c, "\n\n" if rnd() < 0.3 else " ")
            if c[4] and rnd() < 0.3:
                text = text.replace(c[4], f"[{c[4].split('/')[2]}]({c[4]})")
            body = self._esc(text)
            r = rnd()
            auth = author
            if r < 0.015:
                auth, body = ("[deleted]", None), "[deleted]"
            elif r < 0.025:
                body = "[removed]"
            rec = {"id": cid, "author": auth[0]}
            if auth[1]:
                rec["author_fullname"] = auth[1]
            rec.update({"subreddit": sub, "link_id": "t3_" + link36, "parent_id": parent, "body": body})
            if rnd() < 0.9:
                rec["permalink"] = f"/r/{sub}/comments/{link36}/{slug}/{cid}/"
            score = int(math.exp(g.rng.gauss(0.8, 1.3))) - (3 if rnd() < 0.08 else 0)
            rec.update(
                {
                    "score": str(score) if rnd() < 0.05 else score,
                    "created_utc": self._created(ms),
                    "edited": self._edited(s),
                    "controversiality": 0,
                    "is_submitter": False,
                }
            )
            lw.line(_compact(rec).encode())
            lw.valid(stamp)
            self.comments.append((cid, link36, sub, slug))
            kind, uid = "comment", "reddit:t1_" + cid
        self.last_uid = uid
        return kind, theme, lang, sent

    def campaign(self, ms: int, account: int, text: str, url: str):
        a = self._author(account, campaign=True)
        self.post(ms, 4, "id", "negative", False, c=_campaign_c(text, url), author=a)
        return self.last_uid, {"platform": "reddit", "author_id": a[0], "username": a[0]}

    def finish(self) -> None:
        self.rs.finish()
        self.rc.finish()


def _hash_sub(sub: str) -> int:
    return sum(ord(ch) * 31**i for i, ch in enumerate(sub)) % 36**5


# ====================================================================== Mastodon
_HOSTS = ("mastodon.social", "kopi.social", "nusantara.social", "mstdn.web.id")


def _html(c, host: str) -> tuple[str, list, list]:
    """Mastodon's HTML for a composed post, plus its mentions and tags (REST shapes)."""
    front, body, end, tags, link, emoji = c
    mentions, rtags = [], []

    def mention(h: str) -> str:
        url = f"https://{host}/@{h}"
        mentions.append(
            {"id": str(109_000_000_000_000_000 + len(h) * 1_000_003), "username": h, "url": url, "acct": h}
        )
        return (
            f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
            f"@<span>{h}</span></a></span>"
        )

    parts = [mention(h) + " " for h in front]
    paras = escape(body + (" " + emoji if emoji else ""), quote=False).split(". ", 1)
    text = paras[0] + (
        ".</p><p>" + paras[1]
        if len(paras) > 1 and len(paras[1]) > 40
        else (". " + paras[1] if len(paras) > 1 else "")
    )
    parts.append(text)
    for h in end:
        parts.append(" " + mention(h))
    for t in tags:
        url = f"https://{host}/tags/{t.lower()}"
        rtags.append({"name": t.lower(), "url": url})
        parts.append(f' <a href="{url}" class="mention hashtag" rel="tag">#<span>{t}</span></a>')
    if link:
        scheme, _, rest = link.partition("://")
        shown, hidden = rest[:30], rest[30:]
        parts.append(
            f' <a href="{escape(link)}" target="_blank" rel="nofollow noopener" translate="no">'
            f'<span class="invisible">{scheme}://</span><span class="{"ellipsis" if hidden else ""}">'
            f'{escape(shown)}</span><span class="invisible">{escape(hidden)}</span></a>'
        )
    return "<p>" + "".join(parts) + "</p>", mentions, rtags


class MastodonWriter:
    PAGE = 40

    def __init__(self, g):
        self.g = g
        share = g.share.get("mastodon", 0)
        self.n_outbox = max(1, min(6, round(g.posts * share / 2500)))
        self.lines = _Lines(
            g,
            "mastodon_statuses",
            "mastodon",
            ".jsonl",
            ("gzip", ".gz"),
            max(1, math.ceil(g.days / 2)),
            g.file_cap,
        )
        self.lines.on_close = self._flush_close
        self.page: list[dict] = []
        self.page_n = 0
        self.outboxes: dict[int, dict] = {}
        self.spools: list = []
        self.ring: deque = deque(maxlen=400)  # (status dict, theme, lang, sent)
        self.seq = 0
        self.planted_rest = False
        self.planted_outbox = False
        self._acc: dict[int, dict] = {}

    def start_day(self, d: int) -> None:
        if self.page and d // self.lines.group_days != self.lines.group:
            self._flush()
        self.lines.start_day(d)

    def _id(self, ms: int) -> str:
        self.seq += 1
        return str((ms << 16) | (self.seq & 0xFFFF))

    def _account(self, idx: int, campaign: bool = False) -> dict:
        a = None if campaign else self._acc.get(idx)
        if a is None:
            h = G._mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 2_222_221 + 5)
            name, stem = _person(h)
            user = stem.replace(".", "_") + (str(idx) if idx >= 50 or campaign else "")
            if campaign:
                user = f"{G._CAMPAIGN_PREFIX[idx % len(G._CAMPAIGN_PREFIX)]}{idx}"
            host = _HOSTS[(h >> 24) % len(_HOSTS)]
            # the REST pages come from mastodon.social's timelines: remote accounts' acct carries the host
            day = G._day_offset(date(2018, 1, 1)) + (h >> 28) % (8 * 365)
            followers = int(math.exp(((h >> 32) % 1000) / 1000 * 8))
            a = {
                "id": str(100_000_000_000_000_000 + (h >> 8) % 10**16),
                "username": user,
                "acct": user if host == _HOSTS[0] else f"{user}@{host}",
                "display_name": name,
                "locked": False,
                "bot": False,
                "discoverable": True,
                "group": False,
                "created_at": f"{G._ACCOUNT_DAYS[day]}T00:00:00.000Z",
                "note": "<p>" + escape(G._BIO[(h >> 12) % len(G._BIO)]) + "</p>",
                "url": f"https://{host}/@{user}",
                "uri": f"https://{host}/users/{user}",
                "avatar": f"https://{host}/system/accounts/avatars/{h % 10**9:09d}/original/a.png",
                "followers_count": followers,
                "following_count": (h >> 40) % 900 + 10,
                "statuses_count": (h >> 20) % 5000 + 20,
                "emojis": [],
                "fields": [],
            }
            if not campaign and idx < CACHE_BIG:
                self._acc[idx] = a
        return a

    # ---- REST pages
    def _status(self, ms: int, acc: dict, c, lang: str, vis: str = "public") -> dict:
        g = self.g
        rnd = g.rnd
        host = acc["url"].split("/")[2]
        sid = self._id(ms)
        content, mentions, tags = _html(c, host)
        like = int(math.exp(g.rng.gauss(0.5, 1.2)))
        st = {
            "id": sid,
            "created_at": _iso_ms(g, ms),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": vis,
            "language": {"id": "id", "en": "en"}.get(lang, "id" if rnd() < 0.6 else None),
            "uri": f"{acc['uri']}/statuses/{sid}",
            "url": f"{acc['url']}/{sid}",
            "replies_count": int(like * rnd() * 0.3),
            "reblogs_count": int(like * rnd() * 0.4),
            "favourites_count": like,
            "edited_at": None,
            "content": content,
            "reblog": None,
            "account": acc,
            "media_attachments": [],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if rnd() < 0.07:
            mid = str(int(sid) + 7)
            st["media_attachments"] = [
                {
                    "id": mid,
                    "type": "image",
                    "url": f"{acc['url'].rsplit('/', 1)[0]}/system/media_attachments/"
                    f"files/{mid[:3]}/{mid[3:6]}/{mid[6:9]}/original/{mid[-8:]}.jpg",
                    "preview_url": None,
                    "remote_url": None,
                    "description": None,
                    "meta": {"original": {"width": 1080, "height": 1350}},
                }
            ]
        if c[4] and rnd() < 0.5:
            st["card"] = {
                "url": c[4],
                "title": c[4].split("/")[2],
                "description": "",
                "type": "link",
                "image": None,
            }
        return st

    def _push(self, st: dict, stamp: str | None) -> None:
        lw = self.lines
        lw.ensure()
        self.page.append(st)
        if stamp:
            self.page_n += 1
            lw.ft.first = lw.ft.first or stamp
            lw.ft.last = stamp
        if len(self.page) >= self.PAGE:
            self._flush()

    def _flush(self) -> None:
        lw = self.lines
        if not self.page:
            return
        page = self.page[::-1]  # timelines list the newest status first
        lw.line(_dumps(page).encode())
        lw.ft.valid += self.page_n
        for m in lw.ft.malformed:
            if m.get("line") is None:
                m["line"] = lw.ft.records
        self.page, self.page_n = [], 0
        lw.ft.extra["pages"] = lw.ft.extra.get("pages", 0) + 1
        if not self.planted_rest and lw.ft.extra["pages"] == 1:
            self._plant_rest()

    def _flush_close(self, lw: _Lines) -> None:
        self._flush()
        if not self.planted_rest:
            self._plant_rest()

    def _plant_rest(self) -> None:
        lw = self.lines
        lw.line(b"[]")
        lw.ft.skip("empty_page")
        lw.ft.extra["pages"] = lw.ft.extra.get("pages", 0) + 1
        self.planted_rest = True

    def _rest_post(self, ms, theme, lang, sent, spike, acc, c=None):
        g = self.g
        rnd = g.rnd
        stamp = G._iso(datetime.fromtimestamp(ms // 1000, UTC))
        r = rnd()
        if c is None and r < 0.08 and self.ring:
            orig, theme, lang, sent = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())]
            sid = self._id(ms)
            st = dict(orig)
            st.update(
                {
                    "id": sid,
                    "created_at": _iso_ms(g, ms),
                    "in_reply_to_id": None,
                    "in_reply_to_account_id": None,
                    "uri": f"{acc['uri']}/statuses/{sid}/activity",
                    "url": f"{acc['url']}/{sid}",
                    "content": "",
                    "reblog": orig,
                    "account": acc,
                    "mentions": [],
                    "tags": [],
                    "card": None,
                    "language": None,
                    "replies_count": 0,
                    "reblogs_count": 0,
                    "favourites_count": 0,
                }
            )
            self._push(st, stamp)
            return "repost", theme, lang, sent
        kind = "post"
        planted_text = c is not None
        if c is None:
            c = g.text.compose(theme, lang, sent, rnd() < 0.6, rnd, g.choice, g.ymd, spike)
        st = self._status(ms, acc, c, lang)
        if not planted_text and r < 0.22 and self.ring:
            parent = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())][0]
            st["in_reply_to_id"] = parent["id"]
            st["in_reply_to_account_id"] = parent["account"]["id"]
            kind = "reply"
        elif rnd() < 0.05:
            st["visibility"] = "unlisted"
        if rnd() < 0.03:
            st["spoiler_text"] = "cw: " + ("politik", "kesehatan mental", "berita")[int(rnd() * 3)]
        self._push(st, stamp)
        if not self.planted_rest and self.page_n == 5:
            self._plant_status_faults(ms, acc)
        self.ring.append((st, theme, lang, sent))
        return kind, theme, lang, sent

    def _plant_status_faults(self, ms: int, acc: dict) -> None:
        g = self.g
        c = ((), "Ada yang punya info lowongan relawan minggu ini?", (), (), None, "")
        bad = self._status(ms, acc, c, "id")
        bad["created_at"] = None
        self.page.append(bad)
        self.lines.ft.malformed.append(
            {
                "kind": "missing_created_at",
                "line": None,
                "status_id": bad["id"],
                "error_expected": "status without a parseable created_at",
            }
        )
        dm = self._status(ms, acc, ((), "Halo, nomor WA kamu masih yang lama?", (), (), None, ""), "id")
        dm["visibility"] = "direct"
        self.page.append(dm)
        self.lines.ft.skip("visibility:direct")
        del g

    # ---- outbox
    def _outbox(self, i: int) -> dict:
        o = self.outboxes.get(i)
        if o is None:
            g = self.g
            name = f"mastodon_outbox_{i + 1:03d}.json" + (".gz" if g.compress else "")
            ft = G._FileTruth(name, "mastodon")
            g.register_file(ft)
            # the items are spooled: totalItems, which the export writes before them, is known at the end
            spool_path = g.out / f"_spool_mastodon_{i + 1:03d}.part"
            spool = open(spool_path, "w+b", buffering=1 << 20)  # noqa: SIM115 - closed in finish/cleanup
            self.spools.append((spool, spool_path))
            o = self.outboxes[i] = {"out": spool, "ft": ft, "acc": self._account(i), "n": 0, "name": name}
        return o

    def _item(self, o: dict, item: dict) -> int:
        o["out"].write((",\n" if o["n"] else "\n").encode() + _dumps(item).encode())
        o["n"] += 1
        o["ft"].records += 1
        return o["n"]

    def _outbox_post(self, ms, theme, lang, sent, spike, i):
        g = self.g
        rnd = g.rnd
        o = self._outbox(i)
        acc, ft = o["acc"], o["ft"]
        actor = acc["uri"]
        stamp = G._iso(datetime.fromtimestamp(ms // 1000, UTC))
        published = _iso_ms(g, ms)[:19] + "Z"
        sid = self._id(ms)
        r = rnd()
        followers = f"{actor}/followers"
        if r < 0.1 and self.ring:
            orig, theme, lang, sent = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())]
            self._item(
                o,
                {
                    "id": f"{actor}/statuses/{sid}/activity",
                    "type": "Announce",
                    "actor": actor,
                    "published": published,
                    "to": [_PUBLIC],
                    "cc": [orig["account"]["uri"], followers],
                    "object": orig["uri"],
                },
            )
            kind = "repost"
        else:
            c = g.text.compose(theme, lang, sent, rnd() < 0.6, rnd, g.choice, g.ymd, spike)
            host = actor.split("/")[2]
            content, mentions, tags = _html(c, host)
            note_id = f"{actor}/statuses/{sid}"
            tag = [{"type": "Mention", "href": m["url"], "name": f"@{m['acct']}@{host}"} for m in mentions]
            tag += [{"type": "Hashtag", "href": t["url"], "name": "#" + t["name"]} for t in tags]
            reply_to = None
            if r < 0.25 and self.ring:
                reply_to = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())][0]["uri"]
            code = "id" if lang == "id" else "en" if lang == "en" else ("id", "en")[int(rnd() * 2)]
            note = {
                "id": note_id,
                "type": "Note",
                "summary": None,
                "inReplyTo": reply_to,
                "published": published,
                "url": f"https://{host}/@{acc['username']}/{sid}",
                "attributedTo": actor,
                "to": [_PUBLIC],
                "cc": [followers],
                "sensitive": False,
                "atomUri": note_id,
                "inReplyToAtomUri": reply_to,
                "conversation": f"tag:{host},{g.start.isoformat()}:objectId={sid}:objectType=Conversation",
                "content": content,
                "contentMap": {code: content},
                "attachment": [],
                "tag": tag,
                "replies": {
                    "id": f"{note_id}/replies",
                    "type": "Collection",
                    "first": {
                        "type": "CollectionPage",
                        "next": f"{note_id}/replies?only_other_accounts=true&page=true",
                        "partOf": f"{note_id}/replies",
                        "items": [],
                    },
                },
                "likes": {
                    "id": f"{note_id}/likes",
                    "type": "Collection",
                    "totalItems": int(math.exp(g.rng.gauss(0.5, 1.1))),
                },
                "shares": {"id": f"{note_id}/shares", "type": "Collection", "totalItems": int(rnd() * 4)},
            }
            if rnd() < 0.04:  # followers-only: not public discourse, the adapter counts and skips it
                note["to"], note["cc"] = [followers], []
                self._item(
                    o,
                    {
                        "id": f"{note_id}/activity",
                        "type": "Create",
                        "actor": actor,
                        "published": published,
                        "to": [followers],
                        "cc": [],
                        "object": note,
                    },
                )
                ft.skip("visibility:private")
                note["to"], note["cc"] = [_PUBLIC], [followers]
                note = dict(note, id=f"{actor}/statuses/{self._id(ms)}")
            self._item(
                o,
                {
                    "id": f"{note['id']}/activity",
                    "type": "Create",
                    "actor": actor,
                    "published": published,
                    "to": [_PUBLIC],
                    "cc": [followers],
                    "object": note,
                },
            )
            kind = "reply" if reply_to else "post"
            if not self.planted_outbox and o["n"] >= 4:
                bad = dict(note, id=f"{actor}/statuses/{self._id(ms)}")
                del bad["published"]
                n = self._item(
                    o,
                    {
                        "id": f"{bad['id']}/activity",
                        "type": "Create",
                        "actor": actor,
                        "to": [_PUBLIC],
                        "cc": [followers],
                        "object": bad,
                    },
                )
                ft.malformed.append(
                    {
                        "kind": "missing_published",
                        "record": n,
                        "status_id": bad["id"],
                        "error_expected": "status without a parseable published time",
                    }
                )
                self.planted_outbox = True
        ft.valid += 1
        ft.first = ft.first or stamp
        ft.last = stamp
        return kind, theme, lang, sent

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool):
        g = self.g
        idx = g.pools["mastodon"].draw(g.rnd())
        if idx < self.n_outbox:
            return self._outbox_post(ms, theme, lang, sent, spike, idx)
        return self._rest_post(ms, theme, lang, sent, spike, self._account(idx))

    def campaign(self, ms: int, account: int, text: str, url: str):
        acc = self._account(account, campaign=True)
        self._rest_post(ms, 4, "id", "negative", False, acc, c=_campaign_c(text, url))
        st = self.ring[-1][0]
        return f"mastodon:{st['id']}", {
            "platform": "mastodon",
            "author_id": acc["uri"],
            "username": acc["acct"],
        }

    def finish(self) -> None:
        self.lines.finish()
        g = self.g
        for i in sorted(self.outboxes):
            o = self.outboxes[i]
            out = g.open_output(g.out / o["name"], "gzip" if g.compress else "none")
            head = {
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": "outbox.json",
                "type": "OrderedCollection",
                "totalItems": o["n"],
            }
            out.write(_dumps(head)[:-1].encode() + b', "orderedItems": [')
            out.flush()
            o["out"].flush()
            o["out"].seek(0)
            shutil.copyfileobj(o["out"], out._fh, 1 << 20)
            out.write(b"\n]}\n")
            out.close()
        self.cleanup()

    def cleanup(self) -> None:
        for spool, path in self.spools:
            try:
                spool.close()
            finally:
                path.unlink(missing_ok=True)
        self.spools = []


# ====================================================================== Bluesky Jetstream
_SKIP_EVENTS = (
    # (cumulative probability per post, reason)
    (0.45, "collection:app.bsky.feed.like"),
    (0.55, "collection:app.bsky.feed.repost"),
    (0.61, "collection:app.bsky.graph.follow"),
    (0.64, "commit:delete:app.bsky.feed.post"),
    (0.65, "collection:app.bsky.graph.block"),
    (0.665, "commit:update:app.bsky.actor.profile"),
    (0.675, "kind:identity"),
    (0.68, "kind:account"),
)


class BlueskyWriter:
    def __init__(self, g):
        self.g = g
        self.lines = _Lines(
            g,
            "bluesky_jetstream",
            "bluesky_jetstream",
            ".jsonl",
            ("zstd", ".zst"),
            max(1, math.ceil(g.days / 2)),
            g.file_cap,
        )
        self.ring: deque = deque(maxlen=500)  # (uri, cid, root uri, root cid)
        self.planted = 0
        self.clock = 0
        self._dids: dict[int, str] = {}

    def start_day(self, d: int) -> None:
        self.lines.start_day(d)

    def _did(self, idx: int, campaign: bool = False) -> str:
        d = None if campaign else self._dids.get(idx)
        if d is None:
            h = G._mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 6_666_661 + 11)
            d = "did:plc:" + _hash_str(h, _B32S, 24)
            if not campaign and idx < 20_000:
                self._dids[idx] = d
        return d

    def _tid(self, us: int) -> str:
        self.clock = (self.clock + 1) & 1023
        n = (us << 10) | self.clock
        return "".join(_B32S[(n >> (5 * i)) & 31] for i in range(12, -1, -1))

    def _cid(self) -> str:
        return "bafyrei" + _rand_str(self.g.rnd, _B32S, 52)

    def _event(self, did: str, us: int, commit: dict | None = None, kind: str = "commit", **extra) -> bytes:
        ev = {"did": did, "time_us": us, "kind": kind}
        if commit is not None:
            ev["commit"] = commit
        ev.update(extra)
        return _compact(ev).encode()

    def _skips(self, us: int) -> None:
        r = self.g.rnd()
        reason = next((reason for cum, reason in _SKIP_EVENTS if r < cum), None)
        if reason is not None:
            self._skip_event(reason, us)

    def _skip_event(self, reason: str, us: int) -> None:
        """One event the adapter counts under ``reason`` (not a post create), a little before ``us``."""
        g = self.g
        rnd = g.rnd
        lw = self.lines
        did = self._did(g.pools["bluesky_jetstream"].draw(rnd()))
        us -= int(rnd() * 900_000) + 1000
        rev = self._tid(us)
        rkey = self._tid(us - 7)
        created = datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        subject = self.ring[int(len(self.ring) * rnd())] if self.ring else None
        if reason.startswith("kind:"):
            k = reason[5:]
            body = (
                {"did": did, "handle": did[8:16] + ".bsky.social", "seq": us // 1000, "time": created}
                if k == "identity"
                else {"active": True, "did": did, "seq": us // 1000, "time": created}
            )
            line = self._event(did, us, kind=k, **{k: body})
        elif reason.startswith("commit:delete"):
            line = self._event(
                did,
                us,
                {
                    "rev": rev,
                    "operation": "delete",
                    "collection": "app.bsky.feed.post",
                    "rkey": self._tid(us - 86_400_000_000),
                },
            )
        elif reason.startswith("commit:update"):
            rec = {
                "$type": "app.bsky.actor.profile",
                "displayName": _person(G._mix(us))[0],
                "description": G._BIO[us % len(G._BIO)],
            }
            line = self._event(
                did,
                us,
                {
                    "rev": rev,
                    "operation": "update",
                    "collection": "app.bsky.actor.profile",
                    "rkey": "self",
                    "record": rec,
                    "cid": self._cid(),
                },
            )
        else:
            coll = reason.split(":", 1)[1]
            if coll in ("app.bsky.feed.like", "app.bsky.feed.repost") and subject:
                rec = {"$type": coll, "createdAt": created, "subject": {"cid": subject[1], "uri": subject[0]}}
            else:
                rec = {
                    "$type": coll,
                    "createdAt": created,
                    "subject": self._did(g.pools["bluesky_jetstream"].draw(rnd())),
                }
                if coll in ("app.bsky.feed.like", "app.bsky.feed.repost"):
                    coll = "app.bsky.graph.follow"
                    rec["$type"] = coll
                    reason = "collection:" + coll
            line = self._event(
                did,
                us,
                {
                    "rev": rev,
                    "operation": "create",
                    "collection": coll,
                    "rkey": rkey,
                    "record": rec,
                    "cid": self._cid(),
                },
            )
        lw.line(line)
        lw.ft.skip(reason)

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool, c=None, did=None):
        g = self.g
        rnd = g.rnd
        lw = self.lines
        lw.ensure()
        us = ms * 1000 + 150_000 + int(rnd() * 1_500_000)
        self._skips(us)
        campaign = c is not None  # the planted campaign posts plain posts
        if c is None:
            c = g.text.compose(theme, lang, sent, rnd() < 0.7, rnd, g.choice, g.ymd, spike)
            did = self._did(g.pools["bluesky_jetstream"].draw(rnd()))
        front, body, end, tags, link, emoji = c
        pieces: list = []
        for h in front:
            pieces += [("mention", h), ("text", " ")]
        pieces.append(("text", body + (" " + emoji if emoji else "")))
        for h in end:
            pieces += [("text", " "), ("mention", h)]
        for t in tags:
            pieces += [("text", " "), ("tag", t)]
        if link:
            pieces += [("text", " "), ("link", link)]
        out, facets, pos = [], [], 0
        for kind, val in pieces:
            if kind == "mention":
                s = "@" + val.lower().replace("_", "-") + ".bsky.social"
                feat = {
                    "$type": "app.bsky.richtext.facet#mention",
                    "did": self._did(len(val) * 7919 + ord(val[0])),
                }
            elif kind == "tag":
                s = "#" + val
                feat = {"$type": "app.bsky.richtext.facet#tag", "tag": val}
            elif kind == "link":
                s = val if len(val) <= 40 else val.split("://", 1)[1][:35] + "..."
                feat = {"$type": "app.bsky.richtext.facet#link", "uri": val}
            else:
                s, feat = val, None
            b = len(s.encode())
            if feat:
                facets.append({"features": [feat], "index": {"byteStart": pos, "byteEnd": pos + b}})
            out.append(s)
            pos += b
        text = "".join(out)
        created = _iso_ms(g, ms)
        if rnd() < 0.05:  # some clients write local time with an offset
            created = (datetime.fromtimestamp(ms / 1000, UTC) + timedelta(hours=7)).strftime(
                "%Y-%m-%dT%H:%M:%S"
            ) + "+07:00"
        rec: dict = {"$type": "app.bsky.feed.post", "createdAt": created}
        r = rnd()
        kind = "post"
        if r < 0.18 and self.ring and not campaign:
            puri, pcid, ruri, rcid = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd() * rnd())]
            rec["reply"] = {"parent": {"cid": pcid, "uri": puri}, "root": {"cid": rcid, "uri": ruri}}
            kind = "reply"
        if link and rnd() < 0.6:
            rec["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"description": "", "title": link.split("/")[2], "uri": link},
            }
        elif r > 0.95 and self.ring and not campaign:
            quri, qcid = self.ring[int(len(self.ring) * rnd())][:2]
            rec["embed"] = {"$type": "app.bsky.embed.record", "record": {"cid": qcid, "uri": quri}}
            if kind == "post":
                kind = "quote"
        elif rnd() < 0.08:
            rec["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": "",
                        "aspectRatio": {"height": 1350, "width": 1080},
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": self._cid()},
                            "mimeType": "image/jpeg",
                            "size": 200_000 + int(rnd() * 300_000),
                        },
                    }
                ],
            }
        if facets:
            rec["facets"] = facets
        rec["langs"] = (
            ["id"] if lang == "id" else ["en"] if lang == "en" else (["id", "en"], ["en"], [])[int(rnd() * 3)]
        )
        if "reply" in rec:  # Jetstream keeps the record's own key order; clients vary
            rec["reply"] = rec.pop("reply")
        rec["text"] = text
        rkey = self._tid(ms * 1000)
        cid = self._cid()
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        line = self._event(
            did,
            us,
            {
                "rev": self._tid(us),
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": rec,
                "cid": cid,
            },
        )
        n = lw.line(line)
        lw.valid(G._iso(datetime.fromtimestamp(ms // 1000, UTC)))
        root = rec["reply"]["root"] if "reply" in rec else {"uri": uri, "cid": cid}
        self.ring.append((uri, cid, root["uri"], root["cid"]))
        self.last_uid = f"bluesky:{uri}"
        if self.planted == 0 and lw.ft.valid >= 8:
            cut = line[: int(len(line) * 0.6)]
            n = lw.line(cut)
            lw.ft.malformed.append(
                {
                    "kind": "truncated_json",
                    "line": n,
                    "bytes": len(cut),
                    "error_expected": "invalid JSON line",
                }
            )
            bad = dict(rec, createdAt="kemarin sore")
            bkey = self._tid(ms * 1000 + 1)
            n = lw.line(
                self._event(
                    did,
                    us + 1,
                    {
                        "rev": self._tid(us + 1),
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": bkey,
                        "record": bad,
                        "cid": self._cid(),
                    },
                )
            )
            for _cum, reason in _SKIP_EVENTS:  # one of every kind of event, whatever the volume
                self._skip_event(reason, us + 2000)
            lw.ft.malformed.append(
                {
                    "kind": "bad_created_at",
                    "line": n,
                    "value": "kemarin sore",
                    "error_expected": "unparseable createdAt",
                }
            )
            self.planted = 1
        return kind, theme, lang, sent

    def campaign(self, ms: int, account: int, text: str, url: str):
        did = self._did(account, campaign=True)
        self.post(ms, 4, "id", "negative", False, c=_campaign_c(text, url), did=did)
        return self.last_uid, {"platform": "bluesky", "author_id": did, "username": did}

    def finish(self) -> None:
        self.lines.finish()


# ====================================================================== YouTube comments
class YouTubeWriter:
    def __init__(self, g):
        self.g = g
        self.group_days = max(1, math.ceil(g.days / 2))
        share = g.share.get("youtube_comments", 0)
        per_group = g.posts * share / max(1, math.ceil(g.days / self.group_days))
        self.k = max(1, min(6, round(per_group / 2500)))
        self.group = -1
        self.videos: list[dict] = []
        self.n_files = 0
        self.planted = False
        self._authors: dict[int, tuple[str, str, str]] = {}

    def start_day(self, d: int) -> None:
        group = d // self.group_days
        if group != self.group:
            self._close_all()
            self.group = group

    def _video_id(self, n: int) -> str:
        while True:
            h = G._mix(n * 104_729 + self.g.seed * 15_485_863)
            vid = _hash_str(h, _B64URL, 11)
            if not (vid.islower() and vid.isalpha()) and not vid.isdigit() and not vid.startswith(("-", "_")):
                return vid
            n += 1_000_003

    def _open(self) -> dict:
        g = self.g
        self.n_files += 1
        vid = self._video_id(self.n_files)
        comp, ext = ("gzip", ".gz") if g.compress else ("none", "")
        pretty = self.n_files % 3 == 2  # some downloads used --pretty: one indented {"comments": [...]}
        name = f"youtube_pretty_{vid}.json{ext}" if pretty else f"youtube_{vid}.jsonl{ext}"
        out = g.open_output(g.out / name, comp)
        ft = G._FileTruth(name, "youtube_comments")
        ft.extra["video_id"] = vid
        if pretty:
            ft.extra["pretty"] = True
            out.write(b'{\n    "comments": [')
        g.register_file(ft)
        g1 = g.start + timedelta(min(g.days, (self.group + 1) * self.group_days))
        dl = datetime(g1.year, g1.month, g1.day, 6, tzinfo=UTC).timestamp()
        v = {
            "out": out,
            "ft": ft,
            "vid": vid,
            "dl": dl,
            "ring": deque(maxlen=50),
            "locale": "id" if self.n_files % 2 == 0 else "en",
            "n": 0,
            "pretty": pretty,
        }
        self.videos.append(v)
        return v

    def _close_all(self) -> None:
        for v in self.videos:
            if not self.planted and not v["pretty"]:
                self._plant(v)
            if v["pretty"]:
                v["out"].write(b"\n    ]\n}\n")
            v["out"].close()
        self.videos = []

    def _author(self, idx: int) -> tuple[str, str, str]:
        a = self._authors.get(idx)
        if a is None:
            h = G._mix(idx * 3 + self.g.seed * 9_999_991 + 1)
            _name, stem = _person(h)
            handle = "@" + stem.replace("_", ".")[:20] + (f"-{idx}" if idx >= 30 else "")
            a = (
                handle,
                "UC" + _hash_str(h, _B64URL, 22),
                f"https://yt3.ggpht.com/ytc/AIdro_{_hash_str(h >> 3, _B64URL, 30)}=s88-c-k-c0x00ffffff-no-rj",
            )
            if idx < 20_000:
                self._authors[idx] = a
        return a

    def _votes(self, n: int, locale: str) -> str:
        if n == 0:
            return ""
        if n < 1000:
            return str(n)
        if locale == "id":
            return (
                (f"{n / 1000:.1f}".replace(".", ",").replace(",0", "") + " rb")
                if n < 10**6
                else (f"{n / 10**6:.1f}".replace(".", ",").replace(",0", "") + " jt")
            )
        v, suf = (n / 1000, "K") if n < 10**6 else (n / 10**6, "M")
        return (f"{v:.1f}".rstrip("0").rstrip(".") if v < 10 else str(int(v))) + suf

    def _ago(self, secs: float, locale: str) -> str:
        for unit, size in (
            ("year", 31_536_000),
            ("month", 2_592_000),
            ("week", 604_800),
            ("day", 86_400),
            ("hour", 3600),
            ("minute", 60),
        ):
            if secs >= size:
                n = int(secs // size)
                return f"{n} {unit}{'s' if n > 1 else ''} ago"
        return "just now"

    def _plant(self, v: dict) -> None:
        out, ft = v["out"], v["ft"]
        a = self._author(7)
        rec = {
            "cid": "Ugw" + _hash_str(G._mix(self.g.seed + 5), _B64URL, 19) + "4AaABAg",
            "text": "Videonya bagus, tapi sumbernya mana ya?",
            "time": "3 days ago",
            "author": a[0],
            "channel": a[1],
            "votes": "2",
            "replies": "",
            "photo": a[2],
            "heart": False,
            "reply": False,
        }
        line = _dumps(rec).encode()
        out.write(line + b"\n")
        ft.records += 1
        ft.malformed.append(
            {
                "kind": "missing_time_parsed",
                "line": ft.records,
                "cid": rec["cid"],
                "error_expected": "comment without time_parsed",
            }
        )
        out.write(b"\n")
        ft.records += 1
        ft.skip("blank_line")
        cut = line[: int(len(line) * 0.5)]
        out.write(cut + b"\n")
        ft.records += 1
        ft.malformed.append(
            {
                "kind": "truncated_json",
                "line": ft.records,
                "bytes": len(cut),
                "error_expected": "invalid JSON line",
            }
        )
        self.planted = True

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool):
        g = self.g
        rnd = g.rnd
        if len(self.videos) < self.k:
            v = self._open()
        else:
            v = self.videos[int(rnd() * rnd() * len(self.videos))]
        a = self._author(g.pools["youtube_comments"].draw(rnd()))
        c = g.text.compose(theme, lang, sent, rnd() < 0.85, rnd, g.choice, g.ymd, spike)
        kind = "comment"
        text = _plain(c)
        if v["ring"] and rnd() < 0.3:
            parent, pauthor = v["ring"][len(v["ring"]) - 1 - int(len(v["ring"]) * rnd())]
            cid = f"{parent}.{_rand_str(rnd, _B64URL, 22)}"
            if rnd() < 0.5:
                text = f"{pauthor} {text}"
            kind = "reply"
        else:
            cid = "Ugz" + _rand_str(rnd, _B64URL, 19) + "4AaABAg"
        t = ms / 1000
        ago = self._ago(v["dl"] - t, v["locale"])
        likes = int(math.exp(g.rng.gauss(0.3, 1.9) if rnd() > 0.04 else g.rng.gauss(7.5, 1.3)))
        rec = {
            "cid": cid,
            "text": text,
            "time": ago + (" (edited)" if rnd() < 0.04 else ""),
            "author": a[0],
            "channel": a[1],
            "votes": self._votes(likes, v["locale"]),
            "replies": ""
            if kind == "reply" or rnd() < 0.6
            else self._votes(int(rnd() * 12) + 1, v["locale"]),
            "photo": a[2],
            "heart": rnd() < 0.03,
            "reply": kind == "reply",
            "time_parsed": t,
        }
        out, ft = v["out"], v["ft"]
        if v["pretty"]:
            body = json.dumps(rec, indent=4, ensure_ascii=False).replace("\n", "\n        ")
            out.write((",\n        " if ft.records else "\n        ").encode() + body.encode())
        else:
            out.write(_dumps(rec).encode() + b"\n")
        ft.records += 1
        ft.valid += 1
        stamp = G._iso(datetime.fromtimestamp(ms // 1000, UTC))
        ft.first = ft.first or stamp
        ft.last = stamp
        if kind == "comment":
            v["ring"].append((cid, a[0]))
        if not self.planted and ft.valid >= 10 and not v["pretty"]:
            self._plant(v)
        return kind, theme, lang, sent

    def finish(self) -> None:
        self._close_all()


# ====================================================================== Zeeschuimer / 4CAT
_ZEE_PLATFORMS = ((0.45, "tiktok"), (0.80, "instagram"), (1.0, "x"))


class ZeeschuimerWriter:
    def __init__(self, g):
        self.g = g
        self.lines = _Lines(
            g,
            "zeeschuimer",
            "zeeschuimer",
            ".ndjson",
            ("gzip", ".gz"),
            max(1, math.ceil(g.days / 2)),
            g.file_cap,
        )
        self.lines.on_open = self._on_open
        self.n = 0
        self.collected = 0
        self.planted = False
        self._users: dict[tuple[str, int], dict] = {}
        self.x_ring: deque = deque(maxlen=200)

    def start_day(self, d: int) -> None:
        self.lines.start_day(d)

    def _on_open(self, lw: _Lines) -> None:
        lw.ft.extra["platforms"] = {}

    def _user(self, plat: str, idx: int) -> dict:
        u = self._users.get((plat, idx))
        if u is None:
            h = G._mix(idx * 5 + len(plat) + self.g.seed * 8_888_881 + 2)
            name, stem = _person(h)
            u = {
                "id": str(6_800_000_000_000_000_000 + h % 10**17)
                if plat == "tiktok"
                else str(1_000_000 + h % 9_000_000_000),
                "handle": (stem + ("", ".id", "_official", "99")[(h >> 40) % 4])[:24],
                "name": name,
            }
            if idx < CACHE_BIG:
                self._users[(plat, idx)] = u
        return u

    def _wrap(self, plat_host: str, ms: int, item_id: str, data: dict, url: str) -> bytes:
        self.n += 1
        # captured while scrolling, some time after posting; capture times only move forward
        self.collected = max(
            self.collected + 1 + G._mix(self.n) % 4000, ms + 600_000 + G._mix(ms) % 3_600_000
        )
        return _dumps(
            {
                "id": self.n,
                "item_id": item_id,
                "timestamp_collected": self.collected,
                "source_platform": plat_host,
                "source_platform_url": f"https://www.{plat_host}/",
                "source_url": url,
                "user_agent": _UA,
                "data": data,
            }
        ).encode()

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool):
        g = self.g
        rnd = g.rnd
        lw = self.lines
        lw.ensure()
        r = rnd()
        plat = next(p for cum, p in _ZEE_PLATFORMS if r < cum)
        c = g.text.compose(theme, lang, sent, rnd() < 0.85, rnd, g.choice, g.ymd, spike)
        u = self._user(plat, g.pools["zeeschuimer"].draw(rnd()))
        secs = g.stamp(ms)[0] + g.min_base_s
        likes = int(math.exp(g.rng.gauss(3.0, 2.0)))
        kind = "post"
        if plat == "tiktok":
            vid = str((secs << 32) | int(rnd() * 2**32))
            text = _plain(c)
            extra = [
                {
                    "awemeId": "",
                    "start": 0,
                    "end": 0,
                    "hashtagName": t,
                    "hashtagId": str(G._mix(len(t)) % 10**7),
                    "type": 1,
                    "userId": "",
                    "isCommerce": False,
                    "userUniqueId": "",
                    "secUid": "",
                    "subType": 0,
                }
                for t in c[3]
            ]
            stats = {
                "diggCount": likes,
                "shareCount": int(likes * rnd() * 0.1),
                "commentCount": int(likes * rnd() * 0.05),
                "playCount": likes * (10 + int(rnd() * 40)),
            }
            data = {
                "id": vid,
                "desc": text,
                "createTime": str(secs) if rnd() < 0.2 else secs,
                "scheduleTime": 0,
                "video": {
                    "id": vid,
                    "height": 1024,
                    "width": 576,
                    "duration": 10 + int(rnd() * 80),
                    "ratio": "540p",
                    "format": "mp4",
                },
                "author": {
                    "id": u["id"],
                    "shortId": "",
                    "uniqueId": u["handle"],
                    "nickname": u["name"],
                    "signature": "",
                    "verified": False,
                    "privateAccount": False,
                },
                "challenges": [{"id": e["hashtagId"], "title": e["hashtagName"], "desc": ""} for e in extra],
                "stats": stats,
                "statsV2": {k: str(v) for k, v in stats.items()},
                "textExtra": extra
                + [
                    {
                        "awemeId": "",
                        "start": 0,
                        "end": 0,
                        "hashtagName": "",
                        "type": 0,
                        "userId": "",
                        "userUniqueId": h.lower(),
                        "secUid": "",
                        "subType": 0,
                    }
                    for h in (*c[0], *c[2])
                ],
                "textLanguage": "id" if lang != "en" else "en",
            }
            line = self._wrap(
                "tiktok.com", ms, vid, data, "https://www.tiktok.com/api/recommend/item_list/?aid=1988"
            )
        elif plat == "instagram":
            pk = str(3_000_000_000_000_000_000 + (secs - 1_600_000_000) * 1_000_000_000 + int(rnd() * 10**9))
            code = "C" + _rand_str(rnd, _B64URL, 10)
            text = _plain(c, "\n.\n")
            data = {
                "pk": pk,
                "id": f"{pk}_{u['id']}",
                "code": code,
                "taken_at": secs,
                "media_type": 1 if rnd() < 0.6 else 8,
                "user": {
                    "pk": u["id"],
                    "pk_id": u["id"],
                    "username": u["handle"],
                    "full_name": u["name"],
                    "is_verified": False,
                },
                "caption": {"pk": str(int(pk) + 1), "text": text, "created_at": secs},
                "like_count": likes,
                "comment_count": int(likes * rnd() * 0.04),
                "image_versions2": {
                    "candidates": [
                        {
                            "width": 1080,
                            "height": 1350,
                            "url": f"https://scontent.cdninstagram.com/v/{code}.jpg",
                        }
                    ]
                },
            }
            if data["media_type"] == 8:
                n = 2 + int(rnd() * 4)
                data["carousel_media_count"] = n
                data["carousel_media"] = [{"pk": str(int(pk) + 10 + i), "media_type": 1} for i in range(n)]
            line = self._wrap(
                "instagram.com", ms, pk, data, "https://www.instagram.com/api/v1/feed/timeline/"
            )
        else:
            tid = g.x_id(ms)
            reply = None
            if self.x_ring and rnd() < 0.15:
                reply = self.x_ring[int(len(self.x_ring) * rnd())]
            pieces = _pieces(c, g.handle_ids, (reply[1], reply[2]) if reply else None)
            text, ent = _x_entities(pieces, rnd)
            legacy = {
                "bookmark_count": int(likes * rnd() * 0.02),
                "bookmarked": False,
                "created_at": _v1_time(g, ms),
                "conversation_id_str": reply[0] if reply else tid,
                "display_text_range": [0, len(text)],
                "entities": {
                    k: [dict(e, indices=[int(i) for i in e["indices"]]) for e in v] for k, v in ent.items()
                },
                "favorite_count": likes,
                "favorited": False,
                "full_text": escape(text, quote=False),
                "is_quote_status": False,
                "lang": "in" if lang == "id" else "en" if lang == "en" else "und",
                "quote_count": int(likes * rnd() * 0.02),
                "reply_count": int(likes * rnd() * 0.1),
                "retweet_count": int(likes * rnd() * 0.2),
                "retweeted": False,
                "user_id_str": u["id"],
                "id_str": tid,
            }
            if reply:
                legacy["in_reply_to_status_id_str"] = reply[0]
                legacy["in_reply_to_screen_name"] = reply[1]
                legacy["in_reply_to_user_id_str"] = reply[2]
                kind = "reply"
            tweet = {
                "__typename": "Tweet",
                "rest_id": tid,
                "core": {
                    "user_results": {
                        "result": {
                            "__typename": "User",
                            "rest_id": u["id"],
                            "is_blue_verified": False,
                            "legacy": {
                                "followers_count": likes * 3,
                                "name": u["name"],
                                "screen_name": u["handle"].replace(".", "_")[:15],
                            },
                        }
                    }
                },
                "views": {"count": str(likes * (20 + int(rnd() * 60))), "state": "EnabledWithCount"},
                "legacy": legacy,
            }
            if rnd() < 0.1:
                tweet = {"__typename": "TweetWithVisibilityResults", "tweet": tweet}
            line = self._wrap(
                "x.com" if rnd() < 0.7 else "twitter.com",
                ms,
                tid,
                tweet,
                "https://x.com/i/api/graphql/abc/SearchTimeline",
            )
            self.x_ring.append((tid, u["handle"].replace(".", "_")[:15], u["id"]))
        lw.line(line)
        lw.valid(G._iso(datetime.fromtimestamp(ms // 1000, UTC)))
        pl = lw.ft.extra["platforms"]
        pl[plat] = pl.get(plat, 0) + 1
        if not self.planted and lw.ft.valid >= 6:
            self._plant(ms)
        elif rnd() < 0.004:
            self._linkedin(ms)
        return kind, theme, lang, sent, plat

    def _linkedin(self, ms: int) -> None:
        lw = self.lines
        urn = f"urn:li:activity:{7_200_000_000_000_000_000 + ms}"
        lw.line(
            self._wrap(
                "linkedin.com",
                ms,
                urn,
                {
                    "entityUrn": urn,
                    "commentary": {"text": {"text": "Open to work! Personal branding matters."}},
                },
                "https://www.linkedin.com/feed/",
            )
        )
        lw.ft.skip("source_platform:linkedin.com")

    def _plant(self, ms: int) -> None:
        g = self.g
        lw = self.lines
        secs = g.stamp(ms)[0] + g.min_base_s
        vid = str((secs << 32) | 12345)
        data = {
            "id": vid,
            "desc": "Info loker terbaru! #loker",
            "author": {"id": "6800000000000000001", "uniqueId": "loker.update"},
            "stats": {"diggCount": 5},
        }
        n = lw.line(self._wrap("tiktok.com", ms, vid, data, "https://www.tiktok.com/"))
        lw.ft.malformed.append(
            {
                "kind": "missing_create_time",
                "line": n,
                "item_id": vid,
                "error_expected": "item without createTime",
            }
        )
        self._linkedin(ms)
        lw.line(b"")
        lw.ft.skip("blank_line")
        line = self._wrap("tiktok.com", ms, vid + "1", dict(data, createTime=secs), "https://www.tiktok.com/")
        cut = line[: int(len(line) * 0.4)]
        n = lw.line(cut)
        lw.ft.malformed.append(
            {"kind": "truncated_json", "line": n, "bytes": len(cut), "error_expected": "invalid JSON line"}
        )
        self.planted = True

    def finish(self) -> None:
        self.lines.finish()


WRITERS = {
    "x_archive": XArchiveWriter,
    "reddit": RedditWriter,
    "mastodon": MastodonWriter,
    "bluesky_jetstream": BlueskyWriter,
    "youtube_comments": YouTubeWriter,
    "zeeschuimer": ZeeschuimerWriter,
}
CAMPAIGN_CAPABLE = ("bluesky_jetstream", "mastodon", "reddit")
