"""X account archives as X delivers them (format ``x_archive``): ``x_archive_NNN.zip``.

One zip per account: ``data/tweets.js`` (``window.YTD.tweets.part0 = [...]`` with v1.1 tweets,
pretty-printed with ``" : "``, counts as strings) streamed while the run goes, ``data/account.js`` and
``data/manifest.js`` written beside it at the end.

No malformed record is planted: the lake names a member's records ``<zip>!data/tweets.js``, which a
ground truth keyed by file name cannot point at.
"""

from __future__ import annotations

import json
import math
from collections import deque
from datetime import UTC, date, datetime
from html import escape

from synth.common import (
    ACCOUNT_DAYS,
    NOTABLE_X,
    TWO_DIGITS,
    day_offset,
    iso_utc,
    mix,
    person,
    v1_time,
    x_entities,
    x_pieces,
)
from synth.output import FileTruth, Writer


class XArchiveWriter(Writer):
    """One zip per account: ``data/tweets.js`` streamed, ``account.js`` and ``manifest.js`` at the end."""

    FORMAT = "x_archive"
    PLATFORM = "x"
    RANK = 40
    WEIGHT = 0.04

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
        h = mix(i * 31 + self.g.seed * 4_444_447 + 3)
        name, stem = person(h)
        username = (stem.replace(".", "_")[:11] + str(h % 1000))[:15]
        day = day_offset(date(2012, 1, 1)) + (h >> 24) % (10 * 365)
        return {
            "email": f"{username.lower()}@example.org",
            "createdVia": ("android", "web", "iphone")[(h >> 12) % 3],
            "username": username,
            "accountId": str(1_000_000_000 + (h >> 20) % 8_999_999_999),
            "createdAt": f"{ACCOUNT_DAYS[day]}T{TWO_DIGITS[h % 24]}:{TWO_DIGITS[(h >> 5) % 60]}:00.000Z",
            "accountDisplayName": name,
        }

    def _open(self, i: int) -> dict:
        g = self.g
        name = f"x_archive_{i + 1:03d}.zip"
        out = g.open_output(g.out / name, "zip", member="data/tweets.js")
        ft = FileTruth(name, "x_archive")
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
            src = NOTABLE_X[int(rnd() * len(NOTABLE_X))][0]
            c = g.text.compose(theme, lang, sent, False, rnd, g.choice, g.ymd, spike)
            pieces = [
                ("text", "RT ", None),
                ("mention", src, str(100_000_000 + len(src))),
                ("text", ": ", None),
            ]
            pieces += x_pieces(c, g.handle_ids)
            kind = "repost"
        elif r < 0.22 and self.ring:
            reply_to, rname, rid = self.ring[int(len(self.ring) * rnd())]
            c = g.text.compose(theme, lang, sent, True, rnd, g.choice, g.ymd, spike)
            pieces = x_pieces(c, g.handle_ids, (rname, rid))
            kind = "reply"
        else:
            c = g.text.compose(theme, lang, sent, rnd() < 0.7, rnd, g.choice, g.ymd, spike)
            pieces = x_pieces(c, g.handle_ids)
            if r > 0.95 and self.ring:
                qid, qname, _ = self.ring[int(len(self.ring) * rnd())]
                pieces += [("text", " ", None), ("url", f"https://twitter.com/{qname}/status/{qid}", None)]
                kind = "quote"
        text, ent = x_entities(pieces, rnd)
        if kind == "repost" and len(text) > 140:
            text = text[:139] + "…"
            ent = {k: [e for e in v if int(e["indices"][1]) <= 139] for k, v in ent.items()}
        like = int(math.exp(g.rng.gauss(0.8, 1.4))) if kind != "repost" else 0
        tweet = {
            "edit_info": {
                "initial": {
                    "editTweetIds": [tid],
                    "editableUntil": iso_utc(datetime.fromtimestamp(ms / 1000 + 3600, UTC)),
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
            "created_at": v1_time(g, ms),
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
        stamp = iso_utc(datetime.fromtimestamp(ms / 1000, UTC))
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


WRITER = XArchiveWriter
