"""youtube-comment-downloader output (format ``youtube_comments``), gzipped when compressed.

``youtube_<video id>.jsonl``: one video a file, one comment a line, with ``votes`` like ``"1.2K"`` or
``"3,4 rb"`` (an Indonesian-locale download), relative ``time`` and ``time_parsed``; every third
video as the tool's ``--pretty`` document (``youtube_pretty_<video id>.json``). The video id is the
file name's (the adapter's ``<stem>.meta.json`` sidecar is not written: a sidecar in the inbox is not
an export, and callers that ingest every file of the folder would trip on it).

Planted: a comment without ``time_parsed``, a blank line and a truncated line.
"""

from __future__ import annotations

import json
import math
from collections import deque
from datetime import UTC, datetime, timedelta

from synth.common import B64URL, Zipf, dumps, hash_str, iso_utc, mix, person, plain_text, rand_str
from synth.output import FileTruth, Writer


class YouTubeWriter(Writer):
    FORMAT = "youtube_comments"
    PLATFORM = "youtube"
    RANK = 80
    WEIGHT = 0.06
    ALIASES = ("youtube",)

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(
            max(40, int(g.posts * g.share["youtube_comments"] / 2)), 0.6
        )  # authors, by Zipf rank
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
            h = mix(n * 104_729 + self.g.seed * 15_485_863)
            vid = hash_str(h, B64URL, 11)
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
        ft = FileTruth(name, "youtube_comments")
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
            h = mix(idx * 3 + self.g.seed * 9_999_991 + 1)
            _name, stem = person(h)
            handle = "@" + stem.replace("_", ".")[:20] + (f"-{idx}" if idx >= 30 else "")
            a = (
                handle,
                "UC" + hash_str(h, B64URL, 22),
                f"https://yt3.ggpht.com/ytc/AIdro_{hash_str(h >> 3, B64URL, 30)}=s88-c-k-c0x00ffffff-no-rj",
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
            "cid": "Ugw" + hash_str(mix(self.g.seed + 5), B64URL, 19) + "4AaABAg",
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
        line = dumps(rec).encode()
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
        a = self._author(self.pool.draw(rnd()))
        c = g.text.compose(theme, lang, sent, rnd() < 0.85, rnd, g.choice, g.ymd, spike)
        kind = "comment"
        text = plain_text(c)
        if v["ring"] and rnd() < 0.3:
            parent, pauthor = v["ring"][len(v["ring"]) - 1 - int(len(v["ring"]) * rnd())]
            cid = f"{parent}.{rand_str(rnd, B64URL, 22)}"
            if rnd() < 0.5:
                text = f"{pauthor} {text}"
            kind = "reply"
        else:
            cid = "Ugz" + rand_str(rnd, B64URL, 19) + "4AaABAg"
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
            out.write(dumps(rec).encode() + b"\n")
        ft.records += 1
        ft.valid += 1
        stamp = iso_utc(datetime.fromtimestamp(ms // 1000, UTC))
        ft.first = ft.first or stamp
        ft.last = stamp
        if kind == "comment":
            v["ring"].append((cid, a[0]))
        if not self.planted and ft.valid >= 10 and not v["pretty"]:
            self._plant(v)
        return kind, theme, lang, sent

    def finish(self) -> None:
        self._close_all()


WRITER = YouTubeWriter
