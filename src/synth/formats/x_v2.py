"""X API v2 search results as twarc2 saves them (format ``x_v2``).

``x_v2_NNN.jsonl``: one search page a line (``data[]`` of up to 100 tweets, ``includes`` with users,
referenced tweets and media, ``meta``, ``__twarc``), one file per fifth of the period and at most
``x_file_cap`` tweets a file; compressed runs alternate ``.jsonl.gz`` and ``.jsonl.zst``. Posts,
replies, quotes and retweets (counted under the original's labels). The last period's file is
format-drifted: newer API fields appear (``edit_history_tweet_ids``, ``edit_controls``,
``public_metrics.bookmark_count``), ``source`` disappears.

Planted: in the first file an API error line and a truncated copy of a page before its second page,
and a tweet without ``created_at`` in its last page; at the very end an operational-disconnect error
and a final page cut short without a trailing newline.

Planted in the conversation network (``plan_network``; ground truth under ``planted.buzzer_ring`` and
``planted.superspreader``):

- a buzzer ring: ``RING_SIZE`` accounts that retweet the original tweets of ``RING_SOURCES`` source
  accounts in bursts, a few seconds to about two minutes after each source tweet, always at the same
  hours (``RING_HOURS_UTC``: 08:00, 12:00 and 20:00 WIB), many times over the period;
- a superspreader: one account whose original tweets link to domains rated low in the
  ``domain_ratings`` seed (``SUPERSPREADER_DOMAINS``), each retweeted by at least as many distinct
  accounts as there are such tweets (so its FIB-index is their number).

Planted originals never enter the pool of recent tweets that ordinary replies, quotes and retweets
draw from, so their ``public_metrics.retweet_count`` equals the retweets of them in the data.
"""

from __future__ import annotations

import json
import math
import random
from collections import deque
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from synth import textgen as tg
from synth.common import (
    ACCOUNT_DAYS,
    BIOS,
    CAMPAIGN_PREFIXES,
    FIRST_NAMES,
    LAST_NAMES,
    NOTABLE_X,
    PAGE_SIZE,
    THREE_DIGITS,
    TWO_DIGITS,
    Zipf,
    base36,
    day_offset,
    mix,
    shown_url,
    tco_link,
)
from synth.output import FileTruth, OutputFile, Writer

# The conversation-network plants (see the module docstring and ``plan_network``).
RING_SIZE = 12
RING_SOURCES = 3
RING_HOURS_UTC = (1, 5, 13)  # 08:00, 12:00 and 20:00 WIB: machine-like regular hours
RING_ACCOUNT_BASE = 200  # ring accounts are campaign-style accounts 200.. (the hoax campaign uses 0..)
RING_SOURCE_POOL = (16, 17, 18)  # pool ranks of the sources: busy ordinary accounts
SUPERSPREADER_POOL = 15  # pool rank of the superspreader: a busy ordinary account
# Rated <= 0.10 in dbt_project/seeds/domain_ratings.csv (conspiracy, fabricated, health misinformation).
SUPERSPREADER_DOMAINS = (
    "naturalnews.com",
    "beforeitsnews.com",
    "newspunch.com",
    "infowars.com",
    "worldnewsdailyreport.com",
)
USER_CACHE = 12_000  # busiest accounts whose serialized user objects stay cached
# Our objects never nest into themselves; skipping the circular-reference check is ~12% faster.
_dumps = json.JSONEncoder(check_circular=False).encode  # ASCII with \u escapes, like twarc
_SOURCES = (
    "Twitter for Android",
    "Twitter for iPhone",
    "Twitter Web App",
    "Twitter for Android",
    "Twitter for Android",
    "Twitter for iPhone",
)


def pool_size(posts: int, share: float) -> int:
    """Number of ordinary X accounts (Zipf ranks) for a run of ``posts`` with this X share."""
    return max(60, int(posts * share / 5))


def plan_network(seed: int, epoch0: int, days: int, posts: int, share: float) -> dict:
    """Plan the buzzer ring and the superspreader (times, accounts, retweet counts).

    Returns ``{"items": [(epoch ms, "x_v2", "plant", payload), ...] sorted by time, "posts": n,
    "ring": {...}, "superspreader": {...}}``; ``posts`` is the number of valid tweets the plants add.
    A random stream of its own, so the plan depends on the seed and the sizes only.
    """
    rng = random.Random(seed * 1_000_003 + 17)
    x_posts = posts * share
    n_pool = pool_size(posts, share)
    end_s = epoch0 + days * 86400
    slots = [(d, h) for d in range(days) for h in RING_HOURS_UTC]
    n_bursts = min(len(slots), max(6, round(x_posts * 0.08 / (RING_SIZE - 1))))
    items: list[tuple] = []
    bursts = []
    for b in range(n_bursts):
        d, h = slots[int(b * len(slots) / n_bursts)]
        t0 = (epoch0 + d * 86400 + h * 3600 + rng.randrange(0, 20)) * 1000 + rng.randrange(1000)
        members = [j for j in range(RING_SIZE) if rng.random() >= 0.1]
        if len(members) < RING_SIZE - 3:
            members = list(range(RING_SIZE))
        rng.shuffle(members)
        src = b % RING_SOURCES
        items.append((t0, "x_v2", "plant", ("ring_src", b, src, len(members))))
        lags = []
        for pos, j in enumerate(members):
            lag = 6_000 + pos * 11_000 + rng.randrange(4_000)  # seconds apart, like a scheduler
            items.append((t0 + lag, "x_v2", "plant", ("ring_rt", b, j)))
            lags.append(lag)
        bursts.append({"source": src, "members": len(members), "max_lag_ms": max(lags), "t0": t0})
    n_ss = max(5, min(20, int(x_posts // 150)))
    span = (days * 86400 - 14 * 3600) / n_ss
    ss_posts = []
    for i in range(n_ss):
        t0 = (epoch0 + 2 * 3600 + int((i + rng.random() * 0.8) * span)) * 1000 + rng.randrange(1000)
        n_rt = n_ss + rng.randrange(4)
        who = set()
        while len(who) < n_rt:
            idx = 20 + rng.randrange(n_pool - 20)
            if idx not in RING_SOURCE_POOL:
                who.add(idx)
        items.append((t0, "x_v2", "plant", ("ss_src", i, n_rt)))
        for idx in sorted(who):
            lag = int(120_000 * math.exp(rng.random() * 5.7))  # 2 minutes to ~10 hours
            t = min(t0 + lag, end_s * 1000 - 1)
            items.append((t, "x_v2", "plant", ("ss_rt", i, idx)))
        ss_posts.append({"retweets": n_rt, "t0": t0})
    items.sort(key=lambda it: it[0])
    return {"items": items, "posts": len(items), "bursts": bursts, "superspreader_posts": ss_posts}


class XWriter(Writer):
    FORMAT = "x_v2"
    PLATFORM = "x"
    RANK = 10
    WEIGHT = 0.4
    ALIASES = ("x",)

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(pool_size(g.posts, g.share["x_v2"]), 0.85)  # authors, by Zipf rank
        self._user_cache: dict[int, tuple] = {}
        self.group_days = max(1, math.ceil(g.days / 5))
        self.n_groups = math.ceil(g.days / self.group_days)
        self.file_no = 0
        self.out: OutputFile | None = None
        self.ft: FileTruth | None = None
        self.group = -1
        self.drift = False
        self.data: list[dict] = []
        self.users: dict[str, dict] = {}
        self.ref: dict[str, dict] = {}
        self.media: list[dict] = []
        self.ring: deque = deque(maxlen=1500)  # (tweet, user, theme, lang, sentiment)
        self.pages_in_file = 0
        self.posts_in_file = 0
        self.last_page_line: bytes | None = None
        self.last_page_ids: list[str] = []
        self._mention_json: dict[str, str] = {}
        self.first_file_done = False
        self.page_rng = random.Random(g.seed * 31 + 3)
        # planted network originals still to be retweeted: key -> (tweet, user, theme, lang, sentiment)
        self.planted: dict[tuple, tuple] = {}
        self.planted_uids: dict[str, list[str]] = {"ring_src": [], "ring_rt": [], "ss_src": [], "ss_rt": []}
        self.planted_urls: list[str] = []
        self.plant_rng = random.Random(g.seed * 1_000_003 + 19)

    # ---- files
    def start_day(self, d: int) -> None:
        group = d // self.group_days
        if group != self.group:
            self._close_file()
            self.group = group
            self.drift = self.n_groups >= 2 and group == self.n_groups - 1

    def _open_file(self) -> None:
        g = self.g
        self.file_no += 1
        if g.compress:
            comp, ext = ("gzip", ".jsonl.gz") if self.file_no % 2 else ("zstd", ".jsonl.zst")
        else:
            comp, ext = "none", ".jsonl"
        name = f"x_v2_{self.file_no:03d}{ext}"
        self.out = g.open_output(g.out / name, comp)
        self.ft = FileTruth(name, "x_v2")
        if self.drift:
            self.ft.extra["drifted"] = True
        g.register_file(self.ft)
        self.pages_in_file = 0
        self.posts_in_file = 0
        g0 = g.start + timedelta(self.group * self.group_days)
        g1 = min(g.start + timedelta(g.days), g0 + timedelta(self.group_days))
        t0 = datetime(g0.year, g0.month, g0.day, tzinfo=UTC)
        t1 = datetime(g1.year, g1.month, g1.day, tzinfo=UTC)
        q = "(lang:id OR lang:en) -is:nullcast"
        self.twarc = {
            "url": "https://api.twitter.com/2/tweets/search/all?expansions=author_id%2Cin_reply_to_user_id"
            "%2Creferenced_tweets.id%2Creferenced_tweets.id.author_id%2Centities.mentions.username"
            "%2Cattachments.media_keys&tweet.fields=attachments%2Cauthor_id%2Cconversation_id"
            "%2Ccreated_at%2Centities%2Cid%2Cin_reply_to_user_id%2Clang%2Cpublic_metrics%2Ctext"
            "%2Cpossibly_sensitive%2Creferenced_tweets%2Creply_settings%2Csource&max_results=100"
            f"&query={quote(q)}&start_time={quote(t0.isoformat())}&end_time={quote(t1.isoformat())}",
            "version": "2.14.0",
            "retrieved_at": (t1 + timedelta(hours=1, minutes=self.file_no)).isoformat(),
        }
        self.twarc_json = json.dumps(self.twarc)

    def _close_file(self, last: bool = False) -> None:
        if self.out is None:
            return
        ft = self.ft
        first = not self.first_file_done
        if first:
            # a tweet that lost its created_at, inside the file's last page
            tw = self._extra_tweet()
            self.data.append(tw)
            self._flush_page()
            ft.malformed.append(
                {
                    "kind": "missing_created_at",
                    "line": ft.records,
                    "tweet_id": tw["id"],
                    "index_in_page": self.last_page_ids.index(tw["id"]),
                    "error_expected": "tweet lacks created_at",
                }
            )
            if self.pages_in_file == 1:  # the early plant needs a second page; put it after the first
                self._plant_error_and_truncated(self.last_page_line, 503)
        elif self.data:
            self._flush_page()
        if last:
            self._write_error(
                {
                    "errors": [
                        {
                            "title": "operational-disconnect",
                            "disconnect_type": "UpstreamOperationalDisconnect",
                            "detail": "This stream has been disconnected upstream for operational reasons.",
                            "type": "https://api.twitter.com/2/problems/operational-disconnect",
                        }
                    ]
                }
            )
            # an interrupted final write: half a page and no trailing newline
            line = self.last_page_line
            cut = line[: max(20, int(len(line) * 0.37))]
            self.out.write(cut)
            ft.records += 1
            ft.malformed.append(
                {
                    "kind": "truncated_json",
                    "line": ft.records,
                    "bytes": len(cut),
                    "no_trailing_newline": True,
                    "error_expected": "invalid JSON line",
                }
            )
        ft.extra["pages"] = self.pages_in_file
        self.out.close()
        self.out = None
        self.first_file_done = True

    def finish(self) -> None:
        self._close_file(last=True)

    def _write_error(self, obj: dict) -> None:
        self.out.write(json.dumps(obj).encode() + b"\n")
        self.ft.records += 1
        self.ft.skip("api_error")

    def _plant_error_and_truncated(self, line: bytes, status: int) -> None:
        """An API error line, then a page cut short (as when a fetch fails and is retried)."""
        title = {503: "Service Unavailable", 429: "Too Many Requests"}[status]
        self._write_error(
            {"errors": [{"title": title, "detail": title, "status": status, "type": "about:blank"}]}
        )
        cut = line[: max(20, int(len(line) * 0.61))]
        self.out.write(cut + b"\n")
        self.ft.records += 1
        self.ft.malformed.append(
            {
                "kind": "truncated_json",
                "line": self.ft.records,
                "bytes": len(cut),
                "error_expected": "invalid JSON line",
            }
        )

    def _ensure(self) -> None:
        if self.out is None:
            self._open_file()
        elif self.posts_in_file >= self.g.x_cap and not self.data:
            self._close_file()
            self._open_file()

    def _flush_page(self) -> None:
        data = self.data
        data.reverse()  # search pages list the newest tweet first
        ids = [int(t["id"]) for t in data]
        meta = {
            "newest_id": str(max(ids)),
            "oldest_id": str(min(ids)),
            "result_count": len(data),
            "next_token": f"b26v89c19zqg8o3f{base36(self.page_rng.getrandbits(40))}",
        }
        # The page is assembled from pieces so that busy accounts' user objects, serialized once,
        # are reused: users are over a third of a page's bytes.
        users = [v for v in self.users.values() if v.__class__ is str]
        fresh = [v for v in self.users.values() if v.__class__ is not str]
        if fresh:
            users.append(_dumps(fresh)[1:-1])
        pieces = ['{"data": ', _dumps(data), ', "includes": {']
        if self.media:
            pieces += ['"media": ', _dumps(self.media), ", "]
        pieces += ['"users": [', ", ".join(users), "]"]
        if self.ref:
            pieces += [', "tweets": ', _dumps(list(self.ref.values()))]
        pieces += ['}, "meta": ', _dumps(meta), ', "__twarc": ', self.twarc_json, "}"]
        line = "".join(pieces).encode()
        ft = self.ft
        if self.pages_in_file == 1 and not self.first_file_done:
            # before the first file's second page: an error line and a truncated copy of that page
            self._plant_error_and_truncated(line, 503)
        self.out.write(line + b"\n")
        ft.records += 1
        self.last_page_line = line
        self.last_page_ids = [t["id"] for t in data]
        self.pages_in_file += 1
        self.data = []
        self.users = {}
        self.ref = {}
        self.media = []

    # ---- users
    def user(self, idx: int, campaign: bool = False) -> tuple:
        """(id, username, name, followers, influence, user) for a pool index.

        ``user`` is the API user object, already serialized to JSON for cached (busy) accounts.
        """
        cache = self._user_cache
        key = -idx - 1 if campaign else idx
        u = cache.get(key)
        if u is not None:
            return u
        h = mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 1_000_003)
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
        if campaign:
            prefix = CAMPAIGN_PREFIXES[idx % len(CAMPAIGN_PREFIXES)]
            username = f"{prefix}{(h >> 20) % 90000 + 10000}"[:15]
            name = f"{first} {last}" if h & 1 else f"{first} 🇮🇩"
            uid = str(1_700_000_000_000_000_000 + idx * 7_919_993 + (h & 0xFFFF))
            followers = (h >> 24) % 40
            day = day_offset(date(2026, 9, 1)) + (h >> 28) % 50
        elif idx < len(NOTABLE_X):
            username, name = NOTABLE_X[idx]
            uid = str(100_000_000 + idx * 131 + (h & 0x7F))
            followers = 150_000 + (h >> 20) % 2_000_000
            day = day_offset(date(2010, 1, 1)) + (h >> 28) % (6 * 365)
        else:
            style = (h >> 16) % 6
            fl, ll = first.lower(), last.lower()
            prefix = (fl, f"{fl}_", f"{fl[:3]}{ll[:4]}", f"its{fl[:5]}", f"{ll[:7]}", f"{fl}{ll[:2]}_")[style]
            digits = str(idx)
            username = prefix[: 15 - len(digits)] + digits
            name = (f"{first} {last}", first, f"{first} {last[0]}.", f"{first} ✨", f"{first}{last}")[
                (h >> 24) % 5
            ]
            if (h >> 40) & 3:
                uid = str(1_100_000_000_000_000_000 + idx * 7_919_993 + (h & 0xFFFF))
                day = day_offset(date(2019, 1, 1)) + (h >> 28) % (7 * 365)
            else:
                uid = str(100_000_000 + idx * 131 + (h & 0x7F))
                day = day_offset(date(2009, 6, 1)) + (h >> 28) % (9 * 365)
            followers = int(math.exp(((h >> 32) % 1000) / 1000 * 9.5)) + (h >> 44) % 50
        influence = math.log10(followers + 10) * 0.55
        obj = {
            "id": uid,
            "name": name,
            "username": username,
            "created_at": f"{ACCOUNT_DAYS[day]}T{TWO_DIGITS[h % 24]}:{TWO_DIGITS[(h >> 5) % 60]}:"
            f"{TWO_DIGITS[(h >> 11) % 60]}.000Z",
            "description": BIOS[(h >> 12) % len(BIOS)],
            "location": tg.PLACES[(h >> 18) % len(tg.PLACES)] if (h >> 50) & 1 else "",
            "protected": False,
            "verified": idx < len(NOTABLE_X) and not campaign,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{(h >> 3) % 10**18}/"
            f"{h & 0xFFFFFFF:x}_normal.jpg",
            "url": "",
            "public_metrics": {
                "followers_count": followers,
                "following_count": (h >> 36) % 2000 + 10,
                "tweet_count": (h >> 22) % 60000 + 50,
                "listed_count": followers // 400,
            },
        }
        if idx < USER_CACHE:  # the busiest accounts (low Zipf ranks) stay cached; memory stays bounded
            u = (uid, username, name, followers, influence, json.dumps(obj))
            cache[key] = u
            return u
        return (uid, username, name, followers, influence, obj)

    def _mention_user(self, handle: str) -> str:
        js = self._mention_json.get(handle)
        if js is None:
            js = self._mention_json[handle] = json.dumps(self._mention_obj(handle))
        return js

    def _mention_obj(self, handle: str) -> dict:
        return {
            "id": self.g.handle_ids[handle],
            "name": handle,
            "username": handle,
            "created_at": "2011-05-12T03:00:00.000Z",
            "description": "Akun resmi",
            "location": "Indonesia",
            "protected": False,
            "verified": True,
            "profile_image_url": "",
            "url": "",
            "public_metrics": {
                "followers_count": 250000,
                "following_count": 120,
                "tweet_count": 30000,
                "listed_count": 900,
            },
        }

    # ---- tweets
    def _id(self, ms: int) -> str:
        return self.g.x_id(ms)

    def _created(self, ms: int) -> str:
        rel = ms - self.g.min_base_s * 1000
        return f"{self.g.min_prefix}{TWO_DIGITS[rel // 1000]}.{THREE_DIGITS[rel % 1000]}Z"

    def _metrics(self, influence: float) -> dict:
        g = self.g
        rnd = g.rnd
        like = int(math.exp(g.rng.gauss(influence - 0.4, 1.45)))
        rt = int(like * rnd() * 0.35)
        m = {
            "retweet_count": rt,
            "reply_count": int(like * rnd() * 0.12) + (rnd() < 0.25),
            "like_count": like,
            "quote_count": int(rt * rnd() * 0.2),
            "impression_count": int(like * (25 + 80 * rnd()) + 40 * rnd() * influence * influence),
        }
        if self.drift:
            m["bookmark_count"] = int(like * rnd() * 0.05)
        return m

    def _render(self, c, tid: str, username: str, prefix_mention: tuple | None = None):
        """Text and entities for a composed post (offsets in code points, as the API reports them)."""
        front, body, end, tags, link, emoji = c
        rnd = self.g.rnd
        pieces: list[str] = []
        mentions, hashtags, urls = [], [], []
        pos = 0
        if prefix_mention is not None:
            h, hid = prefix_mention
            s = "@" + h
            mentions.append({"start": 0, "end": len(s), "username": h, "id": hid})
            pieces.append(s + " ")
            pos = len(s) + 1
        for h in front:
            s = "@" + h
            mentions.append({"start": pos, "end": pos + len(s), "username": h, "id": self.g.handle_ids[h]})
            pieces.append(s + " ")
            pos += len(s) + 1
            self.users.setdefault(self.g.handle_ids[h], self._mention_user(h))
        pieces.append(body)
        pos += len(body)
        if emoji:
            pieces.append(" " + emoji)
            pos += 1 + len(emoji)
        for h in end:
            s = "@" + h
            mentions.append(
                {"start": pos + 1, "end": pos + 1 + len(s), "username": h, "id": self.g.handle_ids[h]}
            )
            pieces.append(" " + s)
            pos += 1 + len(s)
            self.users.setdefault(self.g.handle_ids[h], self._mention_user(h))
        for t in tags:
            hashtags.append({"start": pos + 1, "end": pos + 2 + len(t), "tag": t})
            pieces.append(" #" + t)
            pos += 2 + len(t)
        if link:
            tco = tco_link(rnd)
            urls.append(
                {
                    "start": pos + 1,
                    "end": pos + 1 + len(tco),
                    "url": tco,
                    "expanded_url": link,
                    "display_url": shown_url(link),
                }
            )
            pieces.append(" " + tco)
            pos += 1 + len(tco)
        ent = {}
        if hashtags:
            ent["hashtags"] = hashtags
        if mentions:
            ent["mentions"] = mentions
        if urls:
            ent["urls"] = urls
        return "".join(pieces), ent, pos

    def _base(self, tid: str, ms: int, user: tuple, text: str, lang: str, conv: str) -> dict:
        tw = {
            "id": tid,
            "text": text,
            "created_at": self._created(ms),
            "author_id": user[0],
            "conversation_id": conv,
            "lang": lang,
            "public_metrics": self._metrics(user[4]),
            "possibly_sensitive": False,
            "reply_settings": "everyone",
        }
        if self.drift:
            tw["edit_history_tweet_ids"] = [tid]
            tw["edit_controls"] = {
                "edits_remaining": 5,
                "is_edit_eligible": False,
                "editable_until": tw["created_at"],
            }
        else:
            tw["source"] = _SOURCES[int(self.g.rnd() * len(_SOURCES))]
        return tw

    def _xlang(self, lang: str) -> str:
        if lang == "id":
            return "in"
        if lang == "en":
            return "en"
        r = self.g.rnd()
        return "in" if r < 0.4 else "und" if r < 0.85 else "en"

    def _add(self, tw: dict, user: tuple) -> None:
        self.data.append(tw)
        self.users.setdefault(user[0], user[5])
        self.posts_in_file += 1
        ft = self.ft
        ft.valid += 1
        if ft.first is None:
            ft.first = tw["created_at"]
        ft.last = tw["created_at"]
        if len(self.data) >= PAGE_SIZE:
            self._flush_page()

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool) -> tuple[str, int, str, str]:
        """Add one tweet; returns (kind, theme, lang, sentiment) as the aggregates should count it."""
        g = self.g
        self._ensure()
        rnd = g.rnd
        user = self.user(self.pool.draw(rnd()))
        tid = self._id(ms)
        r = rnd()
        ring = self.ring
        if r < 0.14 and ring and not spike:
            return self._retweet(ms, tid, user)
        if r < 0.30 and ring:
            parent, puser, ptheme, _pl, _ps = ring[len(ring) - 1 - int(len(ring) * rnd() * rnd())]
            if not spike:
                theme = ptheme
            informal = True
            c = g.text.compose(theme, lang, sent, informal, rnd, g.choice, g.ymd, spike)
            if rnd() < 0.2:
                c = (
                    c[0],
                    g.text.reply_opener(sent, lang, informal, g.choice) + ", " + c[1][:1].lower() + c[1][1:],
                    *c[2:],
                )
            text, ent, _ = self._render(c, tid, user[1], (puser[1], puser[0]))
            tw = self._base(tid, ms, user, text, self._xlang(lang), parent["conversation_id"])
            tw["in_reply_to_user_id"] = puser[0]
            tw["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
            if ent:
                tw["entities"] = ent
            self.ref[parent["id"]] = parent
            self.users.setdefault(puser[0], puser[5])
            self._add(tw, user)
            ring.append((tw, user, theme, lang, sent))
            return "reply", theme, lang, sent
        informal = user[3] < 100_000 and rnd() < 0.8
        c = g.text.compose(theme, lang, sent, informal, rnd, g.choice, g.ymd, spike)
        text, ent, pos = self._render(c, tid, user[1])
        kind = "post"
        quoted = None
        if r < 0.36 and ring:
            quoted, quser = ring[len(ring) - 1 - int(len(ring) * rnd())][:2]
            link = f"https://twitter.com/{quser[1]}/status/{quoted['id']}"
            tco = tco_link(rnd)
            ent.setdefault("urls", []).append(
                {
                    "start": pos + 1,
                    "end": pos + 1 + len(tco),
                    "url": tco,
                    "expanded_url": link,
                    "display_url": shown_url(link),
                }
            )
            text = f"{text} {tco}"
            kind = "quote"
        tw = self._base(tid, ms, user, text, self._xlang(lang), tid)
        if quoted is not None:
            tw["referenced_tweets"] = [{"type": "quoted", "id": quoted["id"]}]
            self.ref[quoted["id"]] = quoted
            self.users.setdefault(quser[0], quser[5])
        elif rnd() < 0.12:
            mkey = f"3_{int(tid) - 7}"
            tco = tco_link(rnd)
            ent.setdefault("urls", []).append(
                {
                    "start": pos + 1,
                    "end": pos + 1 + len(tco),
                    "url": tco,
                    "expanded_url": f"https://twitter.com/{user[1]}/status/{tid}/photo/1",
                    "display_url": f"pic.twitter.com/{tco[13:]}",
                    "media_key": mkey,
                }
            )
            tw["text"] = f"{text} {tco}"
            tw["attachments"] = {"media_keys": [mkey]}
            self.media.append(
                {
                    "media_key": mkey,
                    "type": "photo",
                    "url": f"https://pbs.twimg.com/media/{tco[13:]}Xk{base36(int(tid) % 10**9)}.jpg",
                    "width": 1200 if rnd() < 0.5 else 1080,
                    "height": 900 if rnd() < 0.5 else 1350,
                }
            )
        if ent:
            tw["entities"] = ent
        self._add(tw, user)
        ring.append((tw, user, theme, lang, sent))
        return kind, theme, lang, sent

    def _retweet(self, ms: int, tid: str, user: tuple) -> tuple[str, int, str, str]:
        ring = self.ring
        picked = ring[len(ring) - 1 - int(len(ring) * self.g.rnd() * self.g.rnd())]
        return self._retweet_of(ms, tid, user, *picked)

    def _retweet_of(
        self, ms: int, tid: str, user: tuple, orig: dict, ouser: tuple, theme: int, lang: str, sent: str
    ) -> tuple[str, int, str, str]:
        rnd = self.g.rnd
        prefix = f"RT @{ouser[1]}: "
        full = prefix + orig["text"]
        text = full if len(full) <= 140 else full[:139] + "…"
        n = len(text) if text is full else len(text) - 1  # an entity may not run into the ellipsis
        ent: dict = {
            "mentions": [{"start": 3, "end": 4 + len(ouser[1]), "username": ouser[1], "id": ouser[0]}]
        }
        shift = len(prefix)
        for key in ("mentions", "hashtags", "urls"):
            for e in orig.get("entities", {}).get(key, ()):
                if e["end"] + shift <= n:
                    e2 = dict(e)
                    e2["start"] += shift
                    e2["end"] += shift
                    ent.setdefault(key, []).append(e2)
        tw = {
            "id": tid,
            "text": text,
            "created_at": self._created(ms),
            "author_id": user[0],
            "conversation_id": tid,
            "lang": orig["lang"],
            "public_metrics": {
                "retweet_count": orig["public_metrics"]["retweet_count"],
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "impression_count": 0,
            },
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "referenced_tweets": [{"type": "retweeted", "id": orig["id"]}],
            "entities": ent,
        }
        if self.drift:
            tw["public_metrics"]["bookmark_count"] = 0
            tw["edit_history_tweet_ids"] = [tid]
        else:
            tw["source"] = _SOURCES[int(rnd() * len(_SOURCES))]
        self.ref[orig["id"]] = orig
        self.users.setdefault(ouser[0], ouser[5])
        self._add(tw, user)
        # a retweet carries the original's text, so it counts under the original's labels
        return "repost", theme, lang, sent

    # ---- planted network: the buzzer ring and the superspreader (``plan_network``)
    def plant(self, ms: int, payload: tuple) -> tuple[str, int, str, str]:
        """Write one planted tweet; returns (kind, theme, lang, sentiment) as the aggregates count it."""
        self._ensure()
        kind = payload[0]
        tid = self._id(ms)
        self.planted_uids[kind].append(f"x:{tid}")
        if kind == "ring_rt":
            _k, b, j = payload
            return self._retweet_of(ms, tid, self.user(RING_ACCOUNT_BASE + j, campaign=True),
                                    *self.planted[("ring", b)])
        if kind == "ss_rt":
            _k, i, idx = payload
            return self._retweet_of(ms, tid, self.user(idx), *self.planted[("ss", i)])
        g, rng = self.g, self.plant_rng

        def choice(seq):
            return seq[int(rng.random() * len(seq))]

        if kind == "ring_src":
            _k, b, src, n_rt = payload
            user = self.user(RING_SOURCE_POOL[src])
            theme = tg.THEME_IDS.index("government")
            r = rng.random()
            lang = "id" if r < 0.7 else "mixed" if r < 0.9 else "en"
            sent = "positive" if rng.random() < 0.8 else "neutral"
            c = g.text.compose(theme, lang, sent, True, rng.random, choice, g.ymd)
            key = ("ring", b)
        else:
            _k, i, n_rt = payload
            user = self.user(SUPERSPREADER_POOL)
            theme = tg.THEME_IDS.index("misinformation")
            lang, sent = "id", "negative"
            c = g.text.compose(theme, lang, sent, True, rng.random, choice, g.ymd)
            domain = SUPERSPREADER_DOMAINS[i % len(SUPERSPREADER_DOMAINS)]
            y, m, d = g.ymd
            url = f"https://{domain}/{y}/{m:02d}/{d:02d}/{base36(mix(int(tid)) % 10**12)}.html"
            c = (*c[:4], url, c[5])
            self.planted_urls.append(url)
            key = ("ss", i)
        text, ent, _ = self._render(c, tid, user[1])
        tw = self._base(tid, ms, user, text, self._xlang(lang), tid)
        pm = tw["public_metrics"]
        pm["retweet_count"] = n_rt  # exactly the retweets of it in the data
        pm["quote_count"] = 0
        pm["like_count"] = max(pm["like_count"], n_rt)
        if ent:
            tw["entities"] = ent
        self._add(tw, user)
        self.planted[key] = (tw, user, theme, lang, sent)
        return "post", theme, lang, sent

    def campaign(self, ms: int, account: int, text: str, url: str) -> tuple[str, dict]:
        self._ensure()
        user = self.user(account, campaign=True)
        tid = self._id(ms)
        tco = tco_link(self.g.rnd)
        full = f"{text} {tco}"
        start = len(text) + 1
        tw = self._base(tid, ms, user, full, "in", tid)
        tw["entities"] = {
            "urls": [
                {
                    "start": start,
                    "end": start + len(tco),
                    "url": tco,
                    "expanded_url": url,
                    "display_url": shown_url(url),
                }
            ]
        }
        self._add(tw, user)
        return f"x:{tid}", {"platform": "x", "author_id": user[0], "username": user[1]}

    def _extra_tweet(self) -> dict:
        """A normal-looking tweet that is not counted as valid (it is planted malformed)."""
        g = self.g
        user = self.user(self.pool.draw(g.rnd()))
        ms = (g.min_base_s + 59) * 1000 + 999
        tid = self._id(ms)
        c = g.text.compose(0, "id", "neutral", True, g.rnd, g.choice, g.ymd)
        text, ent, _ = self._render(c, tid, user[1])
        tw = self._base(tid, ms, user, text, "in", tid)
        if ent:
            tw["entities"] = ent
        del tw["created_at"]
        if "edit_controls" in tw:
            tw["edit_controls"]["editable_until"] = None
        self.users.setdefault(user[0], user[5])
        return tw


WRITER = XWriter
