"""A forum scrape as CSV (format ``generic``): ``generic_NNN.csv`` (gzipped when compressed).

The header is ``id,text,created_at,author,lang,url``; one file per half of the period and at most
``generic_file_cap`` rows a file. Texts may hold newlines (quoted, as ``csv`` writes them).

Planted: a row with empty text and a row with an unparseable ``created_at``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

from synth.common import FIRST_NAMES, LAST_NAMES, SUBREDDITS, TWO_DIGITS, Zipf, base36, mix, plain_text
from synth.output import FileTruth, OutputFile, Writer


class GenericWriter(Writer):
    FORMAT = "generic"
    PLATFORM = "generic"
    RANK = 30
    WEIGHT = 0.1
    ALIASES = ("csv",)

    HEADER = ("id", "text", "created_at", "author", "lang", "url")

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(max(40, int(g.posts * g.share["generic"] / 4)), 0.8)  # authors, by Zipf rank
        self.group_days = max(1, math.ceil(g.days / 2))
        self.group = -1
        self.file_no = 0
        self.out: OutputFile | None = None
        self.ft: FileTruth | None = None
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\n")
        self.rows = 0
        self.lines = 0
        self.planted = False
        self.id_base = 1_500_000_000 + (mix(g.seed) % 1_000_000)
        self.seq = 0
        self._thread_n, self._thread = -1, ""
        self._authors: dict[int, str] = {}

    def start_day(self, d: int) -> None:
        group = d // self.group_days
        if group != self.group:
            self._close()
            self.group = group

    def _ensure(self) -> None:
        if self.out is not None and self.rows >= self.g.gen_cap:
            self._close()
        if self.out is None:
            self.file_no += 1
            comp, ext = ("gzip", ".csv.gz") if self.g.compress else ("none", ".csv")
            name = f"generic_{self.file_no:03d}{ext}"
            self.out = self.g.open_output(self.g.out / name, comp)
            self.ft = FileTruth(name, "generic")
            self.g.register_file(self.ft)
            self.rows = 0
            self.writer.writerow(self.HEADER)
            self.lines = 1
            self._drain()

    def _drain(self) -> None:
        s = self.buf.getvalue()
        if s:
            self.out.write(s.encode())
            self.buf.seek(0)
            self.buf.truncate()

    def _row(self, row: Sequence[str]) -> None:
        self.writer.writerow(row)
        self.rows += 1
        self.ft.records += 1
        self.lines += 1 + row[1].count("\n")
        if self.buf.tell() > 1 << 18:
            self._drain()

    def _close(self) -> None:
        if self.out is None:
            return
        if not self.planted:
            self._plant()
        self._drain()
        self.out.close()
        self.ft.extra["header"] = list(self.HEADER)
        self.out = None

    def finish(self) -> None:
        self._close()

    def _author(self, idx: int, campaign: bool = False) -> str:
        if not campaign and idx < 20_000:
            a = self._authors.get(idx)
            if a is None:
                a = self._authors[idx] = self._make_author(idx, False)
            return a
        return self._make_author(idx, campaign)

    def _make_author(self, idx: int, campaign: bool) -> str:
        h = mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 5_555_557 + 29)
        first = FIRST_NAMES[h % len(FIRST_NAMES)].lower()
        last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)].lower()
        style = (h >> 16) % 5
        stem = (
            f"{first}_{last}",
            f"Throwaway_{first}",
            f"{first}{last[:3]}",
            f"u_{first}",
            f"{last}-{first}",
        )[style]
        return f"{stem}{idx}"

    def _next_id(self) -> tuple[str, str]:
        self.seq += 1
        n = self.id_base + self.seq
        t = n // 7
        if t != self._thread_n:
            self._thread_n, self._thread = t, base36(t + 40_000_000)
        return base36(n), self._thread

    def _url(self, pid: str, thread: str, theme: int) -> str:
        sub = SUBREDDITS[(theme * 7 + len(pid)) % len(SUBREDDITS)]
        return f"https://www.reddit.com/r/{sub}/comments/{thread}/comment/{pid}/"

    def _created(self, ms: int) -> str:
        sec, _ = self.g.stamp(ms)
        return f"{self.g.min_prefix}{TWO_DIGITS[sec]}Z"

    def _text(self, c) -> str:
        link = c[4]
        s = plain_text((*c[:4], None, c[5]))  # the link is placed below
        if link:
            s += "\n\nSumber: " + link if self.g.rnd() < 0.3 else " " + link
        elif self.g.rnd() < 0.05:
            s = s.replace(". ", ".\n", 1)
        return s

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool) -> tuple[str, int, str, str]:
        g = self.g
        self._ensure()
        rnd = g.rnd
        author = self._author(self.pool.draw(rnd()))
        c = g.text.compose(theme, lang, sent, rnd() < 0.75, rnd, g.choice, g.ymd, spike)
        text = self._text(c)
        pid, thread = self._next_id()
        created = self._created(ms)
        self._row(
            (pid, text, created, author, "" if lang == "mixed" else lang, self._url(pid, thread, theme))
        )
        ft = self.ft
        ft.valid += 1
        if ft.first is None:
            ft.first = created
        ft.last = created
        if not self.planted and self.rows >= 20:
            self._plant()
        return "post", theme, lang, sent

    def _plant(self) -> None:
        g = self.g
        pid, thread = self._next_id()
        created = self._created((g.min_base_s + 30) * 1000)
        self._row((pid, "", created, self._author(3), "id", self._url(pid, thread, 0)))
        self.ft.malformed.append(
            {
                "kind": "empty_text",
                "row": self.rows,
                "line": self.lines,
                "id": pid,
                "error_expected": "empty text",
            }
        )
        pid, thread = self._next_id()
        self._row(
            (
                pid,
                "Ada yang tahu jadwal pendaftaran beasiswa tahun ini?",
                "kemarin jam 14.30",
                self._author(5),
                "id",
                self._url(pid, thread, 14),
            )
        )
        self.ft.malformed.append(
            {
                "kind": "bad_date",
                "row": self.rows,
                "line": self.lines,
                "id": pid,
                "value": "kemarin jam 14.30",
                "error_expected": "unparseable created_at",
            }
        )
        self.planted = True

    def campaign(self, ms: int, account: int, text: str, url: str) -> tuple[str, dict]:
        self._ensure()
        author = self._author(account, campaign=True)
        pid, thread = self._next_id()
        created = self._created(ms)
        self._row((pid, f"{text} {url}", created, author, "id", self._url(pid, thread, 4)))
        ft = self.ft
        ft.valid += 1
        if ft.first is None:
            ft.first = created
        ft.last = created
        return f"generic:{pid}", {"platform": "generic", "author_id": author, "username": author}


WRITER = GenericWriter
