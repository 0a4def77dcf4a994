"""Zeeschuimer / 4CAT captures (format ``zeeschuimer``): ``zeeschuimer_NNN.ndjson``.

TikTok, Instagram and X (GraphQL) items as Zeeschuimer captures them while scrolling, plus LinkedIn
items the adapter does not support; one file per half of the period and at most ``file_cap`` items a
file, gzipped when compressed. Items carry their own platform (``tiktok``, ``instagram``, ``x``): the
format's ``PLATFORM`` is the adapter's default, where it quarantines unreadable lines.

Planted: a TikTok item without ``createTime``, a truncated line; skipped: a blank line and LinkedIn
items.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime
from html import escape

from synth.common import (
    B64URL,
    CACHE_BIG,
    Zipf,
    dumps,
    iso_utc,
    mix,
    person,
    plain_text,
    rand_str,
    v1_time,
    x_entities,
    x_pieces,
)
from synth.output import LineFile, Writer

_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


_ZEE_PLATFORMS = ((0.45, "tiktok"), (0.80, "instagram"), (1.0, "x"))


class ZeeschuimerWriter(Writer):
    FORMAT = "zeeschuimer"
    PLATFORM = "generic"
    RANK = 90
    WEIGHT = 0.05

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(max(40, int(g.posts * g.share["zeeschuimer"] / 3)), 0.7)  # authors, by Zipf rank
        self.lines = LineFile(
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

    def _on_open(self, lw: LineFile) -> None:
        lw.ft.extra["platforms"] = {}

    def _user(self, plat: str, idx: int) -> dict:
        u = self._users.get((plat, idx))
        if u is None:
            h = mix(idx * 5 + len(plat) + self.g.seed * 8_888_881 + 2)
            name, stem = person(h)
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
        self.collected = max(self.collected + 1 + mix(self.n) % 4000, ms + 600_000 + mix(ms) % 3_600_000)
        return dumps(
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
        u = self._user(plat, self.pool.draw(rnd()))
        secs = g.stamp(ms)[0] + g.min_base_s
        likes = int(math.exp(g.rng.gauss(3.0, 2.0)))
        kind = "post"
        if plat == "tiktok":
            vid = str((secs << 32) | int(rnd() * 2**32))
            text = plain_text(c)
            extra = [
                {
                    "awemeId": "",
                    "start": 0,
                    "end": 0,
                    "hashtagName": t,
                    "hashtagId": str(mix(len(t)) % 10**7),
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
            code = "C" + rand_str(rnd, B64URL, 10)
            text = plain_text(c, "\n.\n")
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
            pieces = x_pieces(c, g.handle_ids, (reply[1], reply[2]) if reply else None)
            text, ent = x_entities(pieces, rnd)
            legacy = {
                "bookmark_count": int(likes * rnd() * 0.02),
                "bookmarked": False,
                "created_at": v1_time(g, ms),
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
        lw.valid(iso_utc(datetime.fromtimestamp(ms // 1000, UTC)))
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


WRITER = ZeeschuimerWriter
