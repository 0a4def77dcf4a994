"""Pushshift / Arctic Shift Reddit dumps (format ``reddit``).

``reddit_RS_NNN.ndjson`` (submissions) and ``reddit_RC_NNN.ndjson`` (comments), one file of each per
half of the period and at most ``file_cap`` records a file, zstd-compressed (``.zst``) when
compressed, as they are published. ``created_utc`` is an int, a float or a string, ``edited`` false or
an epoch; ``[deleted]``/``[removed]`` authors and bodies; ``&``, ``<`` and ``>`` HTML-escaped.

Planted: a truncated submission line, a comment without id, a subreddit record and a blank line.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime

from synth.common import (
    SUBREDDITS,
    Zipf,
    base36,
    campaign_composed,
    dumps_compact,
    iso_utc,
    mix,
    person,
    plain_text,
)
from synth.output import LineFile, Writer


class RedditWriter(Writer):
    FORMAT = "reddit"
    PLATFORM = "reddit"
    RANK = 50
    WEIGHT = 0.12

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(max(40, int(g.posts * g.share["reddit"] / 3)), 0.75)  # authors, by Zipf rank
        gd = max(1, math.ceil(g.days / 2))
        cap = g.file_cap
        self.rs = LineFile(g, "reddit_RS", "reddit", ".ndjson", ("zstd", ".zst"), gd, cap)
        self.rc = LineFile(g, "reddit_RC", "reddit", ".ndjson", ("zstd", ".zst"), gd, cap)
        self.rs.on_open = self._rs_open
        self.rs.on_close = self._rs_close
        self.rc.on_close = self._rc_close
        self.rs_planted = self.rc_planted = False
        self.subs: deque = deque(maxlen=300)  # (id36, subreddit, slug)
        self.comments: deque = deque(maxlen=600)  # (id36, link id36, subreddit, slug)
        self.s_seq = 0
        self.c_seq = 0
        # 2026-era base-36 ids: submissions like "1gx0abc", comments like "lx0abcd"
        self.s_base = 3_140_000_000 + mix(g.seed + 17) % 50_000_000
        self.c_base = 47_700_000_000 + mix(g.seed + 19) % 500_000_000
        self._authors: dict[int, tuple[str, str]] = {}

    def start_day(self, d: int) -> None:
        self.rs.start_day(d)
        self.rc.start_day(d)

    def _rs_open(self, lw: LineFile) -> None:
        if lw.file_no == 1:
            sub = {
                "display_name": "indonesia",
                "subscribers": 512_345,
                "public_description": "Indonesia",
                "id": "2qh0x",
                "created_utc": 1201234567,
                "over18": False,
            }
            lw.line(dumps_compact(sub).encode())
            lw.ft.skip("record:subreddit")

    def _rs_close(self, lw: LineFile) -> None:
        if not self.rs_planted:
            self._plant_rs(lw)

    def _rc_close(self, lw: LineFile) -> None:
        if not self.rc_planted:
            self._plant_rc(lw)

    def _plant_rs(self, lw: LineFile) -> None:
        g = self.g
        sid = base36(self.s_base + 999_999 - self.s_seq)
        line = dumps_compact(
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

    def _plant_rc(self, lw: LineFile) -> None:
        g = self.g
        n = lw.line(
            dumps_compact(
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
            h = mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 3_333_331 + 7)
            _name, stem = person(h)
            user = (("Throwaway_", "", "u_", "", "The_")[(h >> 30) % 5] + stem.replace(".", "_"))[:16]
            a = (f"{user}{idx}" if not campaign else f"{user}_{idx}x", "t2_" + base36(h % 36**6))
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
            author = self._author(self.pool.draw(rnd()))
        stamp = iso_utc(datetime.fromtimestamp(ms // 1000, UTC))
        s = self.g.stamp(ms)[0] + self.g.min_base_s
        if campaign or not self.subs or rnd() < 0.3:
            lw = self.rs
            lw.ensure()
            self.s_seq += 1
            sid = base36(self.s_base + self.s_seq * 7)
            sub = SUBREDDITS[(theme * 7 + self.s_seq) % len(SUBREDDITS)]
            front, body, end, tags, link, emoji = c
            head, sep, rest = body.partition(". ")
            title = head + (" " + emoji if emoji and not rest else "")
            extra = plain_text(((), rest, end, tags, None, emoji if rest else ""), " ") if rest else ""
            if front:
                title = " ".join("@" + h for h in front) + " " + title
            if not rest and (end or tags):
                extra = plain_text(((), "", end, tags, None, ""), "").strip()
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
                "subreddit_id": "t5_" + base36(_hash_sub(sub)),
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
                img = base36(mix(self.s_seq + g.seed) % 36**13)
                rec.update(
                    {
                        "url": f"https://i.redd.it/{img}.jpeg",
                        "is_self": False,
                        "post_hint": "image",
                        "domain": "i.redd.it",
                        "selftext": "",
                    }
                )
            lw.line(dumps_compact(rec).encode())
            lw.valid(stamp)
            self.subs.append((sid, sub, slug))
            kind, uid = "post", "reddit:t3_" + sid
        else:
            lw = self.rc
            lw.ensure()
            self.c_seq += 1
            cid = base36(self.c_base + self.c_seq * 5)
            if self.comments and rnd() < 0.45:
                pid, link36, sub, slug = self.comments[
                    len(self.comments) - 1 - int(len(self.comments) * rnd())
                ]
                parent = "t1_" + pid
            else:
                link36, sub, slug = self.subs[len(self.subs) - 1 - int(len(self.subs) * rnd() * rnd())]
                parent = "t3_" + link36
            text = plain_text(c, "\n\n" if rnd() < 0.3 else " ")
            if c[4] and rnd() < 0.3:
                text = text.replace(c[4], f"[{c[4].split('/')[2]}]({c[4]})")
            body = self._esc(text)
            r = rnd()
            if self.c_seq in (3, 5):  # one [deleted] and one [removed] comment whatever the draws
                r = 0.0 if self.c_seq == 3 else 0.02
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
            lw.line(dumps_compact(rec).encode())
            lw.valid(stamp)
            self.comments.append((cid, link36, sub, slug))
            kind, uid = "comment", "reddit:t1_" + cid
        self.last_uid = uid
        return kind, theme, lang, sent

    def campaign(self, ms: int, account: int, text: str, url: str):
        a = self._author(account, campaign=True)
        self.post(ms, 4, "id", "negative", False, c=campaign_composed(text, url), author=a)
        return self.last_uid, {"platform": "reddit", "author_id": a[0], "username": a[0]}

    def finish(self) -> None:
        self.rs.finish()
        self.rc.finish()


WRITER = RedditWriter


def _hash_sub(sub: str) -> int:
    return sum(ord(ch) * 31**i for i, ch in enumerate(sub)) % 36**5
