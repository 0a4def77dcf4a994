"""Synthetic public-discourse exports with planted signals (``discourse generate``).

Writes realistic exports in every format the project has an adapter for, into one folder (the format
names are the adapters'; ``formats=`` picks some, default all; the default mix by posts is X v2 40%,
Reddit 12%, Telegram 10%, generic CSV 10%, Bluesky 7%, Mastodon 6%, YouTube 6%, Zeeschuimer 5%,
X archive 4%, so X stays the largest platform):

- ``x_v2``: ``x_v2_NNN.jsonl`` (twarc2 search pages: ``data[]``, ``includes``, ``meta``, ``__twarc``),
  one file per few days (and at most ``x_file_cap`` tweets each);
- ``telegram_desktop``: ``telegram_NNN.json`` (Telegram Desktop ``result.json`` with a ``chats.list``
  of public channels and groups), at most ``telegram_file_cap`` messages each;
- ``generic``: ``generic_NNN.csv`` (a forum scrape with the header ``id,text,created_at,author,lang,url``);
- ``x_archive``: ``x_archive_NNN.zip``, one account's archive as X delivers it (``data/tweets.js`` =
  ``window.YTD.tweets.part0 = [...]``, ``data/account.js``, ``data/manifest.js``);
- ``reddit``: ``reddit_RS_NNN.ndjson`` (submissions) and ``reddit_RC_NNN.ndjson`` (comments);
- ``mastodon``: ``mastodon_outbox_NNN.json`` (a busy account's ActivityPub outbox) and
  ``mastodon_statuses_NNN.jsonl`` (REST API timeline pages, one JSON array per line);
- ``bluesky_jetstream``: ``bluesky_jetstream_NNN.jsonl`` (Jetstream events, most of them not posts);
- ``youtube_comments``: ``youtube_<video id>.jsonl`` (youtube-comment-downloader, one video a file);
- ``zeeschuimer``: ``zeeschuimer_NNN.ndjson`` (4CAT captures of TikTok, Instagram and X items).

The newer line-oriented files split per half of the period and at ``file_cap`` records; their writers,
and what each plants, are in ``ingest.gen_formats``. With ``compress=True`` X files alternate
``.jsonl.gz`` and ``.jsonl.zst``, Telegram exports are zipped (``ChatExport_.../result.json`` inside,
as Telegram Desktop users share them), CSVs, Mastodon, YouTube and Zeeschuimer files are gzipped, and
Reddit dumps and Jetstream captures are zstd-compressed, as they are published.

Indonesian, English and code-mixed posts cover the project's themes, with heavy-tailed engagement,
Zipf-like author activity, replies, reposts and quotes. Planted signals, recorded with exact ids and
counts in ``_ground_truth.json`` (files starting with ``_`` are never ingested):

1. a coordinated hoax campaign: one message posted near-verbatim by >= 30 accounts within two hours;
2. a topic spike: a data-leak story that lifts the cybercrime theme >= 5x its baseline on one day;
3. malformed records the adapters must quarantine (truncated JSON lines, a tweet without
   ``created_at``, CSV rows with empty text or an unparseable date, a Telegram message without date,
   a Reddit comment without id, a Mastodon status without a time, a Bluesky post with an unparseable
   ``createdAt``, a YouTube comment without ``time_parsed``, a TikTok item without ``createTime``);
4. non-post records the adapters skip, counted per file under the adapter's own reason (API error
   lines, Telegram service messages, Jetstream likes/reposts/follows/blocks/deletes/profile updates and
   identity/account events, a subreddit record, blank lines, an empty API page, non-public statuses,
   an unsupported LinkedIn capture);
5. a format-drifted X file (newer API fields appear, ``source`` disappears).

The campaign goes to X v2 and Telegram; without either, to the first selected of generic, Bluesky,
Mastodon and Reddit. The X archive carries no malformed record: the quarantine records a zip member
as ``<zip>!data/tweets.js``, which the per-file ground truth (keyed by file name) cannot name.

Generation streams: memory stays bounded whatever the number of posts (pages of 100 tweets, Telegram
chats spooled to disk per chat, rings of recent posts for replies). Output is byte-identical for a
given seed and arguments.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import json
import math
import random
import shutil
import zipfile
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import zstandard

from ingest import textgen as tg

# Short names accepted for ``formats`` (the adapter names are the canonical ones).
FORMAT_ALIASES = {
    "x": "x_v2",
    "telegram": "telegram_desktop",
    "bluesky": "bluesky_jetstream",
    "jetstream": "bluesky_jetstream",
    "youtube": "youtube_comments",
    "csv": "generic",
}
FORMATS = (
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
FORMAT_WEIGHTS = {
    "x_v2": 0.40,
    "telegram_desktop": 0.10,
    "generic": 0.10,
    "x_archive": 0.04,
    "reddit": 0.12,
    "mastodon": 0.06,
    "bluesky_jetstream": 0.07,
    "youtube_comments": 0.06,
    "zeeschuimer": 0.05,
}
# The adapter's platform (Zeeschuimer items carry their own: tiktok, instagram or x; the adapter's
# default, where it quarantines unreadable lines, is generic).
PLATFORM_OF = {
    "x_v2": "x",
    "telegram_desktop": "telegram",
    "generic": "generic",
    "x_archive": "x",
    "reddit": "reddit",
    "mastodon": "mastodon",
    "bluesky_jetstream": "bluesky",
    "youtube_comments": "youtube",
    "zeeschuimer": "generic",
}
# Where the planted campaign goes when neither X v2 nor Telegram is selected, in order of preference.
CAMPAIGN_FALLBACK = ("generic", "bluesky_jetstream", "mastodon", "reddit")
LANG_WEIGHTS = (("id", 0.45), ("en", 0.35), ("mixed", 0.20))
_LANG_ID, _LANG_EN = LANG_WEIGHTS[0][1], LANG_WEIGHTS[0][1] + LANG_WEIGHTS[1][1]
DEFAULT_START = date(2026, 11, 1)
MIN_POSTS = 500
PAGE_SIZE = 100
X_FILE_CAP = 250_000
TELEGRAM_FILE_CAP = 200_000
GENERIC_FILE_CAP = 500_000
FILE_CAP = 250_000  # records per file for the other line-oriented formats
TRUTH_FILE = "_ground_truth.json"
USER_CACHE = 12_000

TWITTER_EPOCH_MS = 1288834974657
CAMPAIGN_X_ACCOUNTS = 34
CAMPAIGN_TG_ACCOUNTS = 10
CAMPAIGN_REPEATS = 6  # accounts that post the message twice
CAMPAIGN_WINDOW_MIN = 110
SPIKE_FACTOR = 8.0  # extra spike-day posts, as a multiple of the theme's expected daily volume
SPIKE_BREAK_UTC_MIN = 2 * 60  # the leak story breaks at 09:00 WIB

# Activity by hour of day in WIB (UTC+7): a midday bump and an evening peak.
_WIB_HOURLY = (
    0.35,
    0.2,
    0.12,
    0.1,
    0.15,
    0.35,
    0.6,
    0.8,
    0.9,
    0.95,
    1.0,
    1.05,
    1.15,
    1.1,
    1.0,
    0.95,
    1.0,
    1.05,
    1.15,
    1.3,
    1.45,
    1.5,
    1.3,
    0.8,
)
_UTC_HOURLY = tuple(_WIB_HOURLY[(h + 7) % 24] for h in range(24))
_WEEKDAY = (1.0, 1.03, 1.02, 1.0, 0.97, 0.85, 0.83)

# The names of the texts, then more for author display names.
_FIRST = tg.PEOPLE + (
    "Joko",
    "Siti",
    "Eko",
    "Indah",
    "Rudi",
    "Anisa",
    "Bima",
    "Laras",
    "Yusuf",
    "Maya",
    "Hana",
    "Irfan",
    "Novi",
    "Teguh",
    "Ratna",
    "Aldi",
    "Bella",
    "Doni",
    "Fani",
    "Galih",
    "Sarah",
    "James",
    "Emily",
    "Daniel",
    "Grace",
)
_LAST = (
    "Santoso",
    "Pratama",
    "Wijaya",
    "Saputra",
    "Lestari",
    "Hidayat",
    "Nugroho",
    "Kusuma",
    "Siregar",
    "Simanjuntak",
    "Putri",
    "Rahman",
    "Setiawan",
    "Halim",
    "Wibowo",
    "Gunawan",
    "Harahap",
    "Tanjung",
    "Permana",
    "Maharani",
    "Susanto",
    "Utami",
    "Firmansyah",
    "Kurniawan",
    "Nasution",
    "Sitompul",
    "Lubis",
    "Ramadhan",
    "Anggraini",
    "Hakim",
)
_BIO = (
    "",
    "",
    "",
    "Pecinta kopi dan buku",
    "Anak Jaksel",
    "Opini pribadi",
    "Fresh graduate | open to work",
    "HR enthusiast",
    "Relawan | Pendidikan",
    "Just a random netizen",
    "Ibu dua anak",
    "Mahasiswa tingkat akhir",
    "Software engineer",
    "Suka jalan-jalan",
    "Views are my own",
    "Jurnalis warga",
    "Bismillah",
)
_NOTABLE_X = (
    ("KabarNusantara", "Kabar Nusantara"),
    ("InfoJakarta24", "Info Jakarta 24"),
    ("ruangkarier", "Ruang Karier"),
    ("tekno_harian", "Tekno Harian"),
    ("cekfakta_warga", "Cek Fakta Warga"),
    ("bola_nusantara", "Bola Nusantara"),
    ("warganet_bicara", "Warganet Bicara"),
    ("dr_sehatkita", "dr. Sehat Kita"),
    ("cerita_relawan", "Cerita Relawan"),
    ("pojok_ekonomi", "Pojok Ekonomi"),
    ("hiburan_kita", "Hiburan Kita"),
    ("suaramahasiswa_", "Suara Mahasiswa"),
)
_CAMPAIGN_PREFIX = (
    "info_sehat",
    "bunda_",
    "warga",
    "sehat_alami",
    "indo_",
    "mamah_",
    "herbal",
    "kabar_",
    "ummi_",
    "pejuang_",
)
_SOURCES = (
    "Twitter for Android",
    "Twitter for iPhone",
    "Twitter Web App",
    "Twitter for Android",
    "Twitter for Android",
    "Twitter for iPhone",
)
_TG_CHATS = (
    # name, type, id, is_channel, weight
    ("Kabar Nusantara Terkini", "public_channel", 1687234510, True, 0.20),
    ("Info Loker & Karier Indonesia", "public_channel", 1523498765, True, 0.10),
    ("Cek Fakta Bareng", "public_channel", 1398765432, True, 0.07),
    ("Teknologi & Keamanan Siber ID", "public_channel", 1776543210, True, 0.08),
    ("Diskusi Warganet Indonesia", "public_supergroup", 1456789123, False, 0.30),
    ("Komunitas Relawan Nusantara", "public_supergroup", 1612345678, False, 0.12),
    ("Obrolan Kerja & Karier", "public_supergroup", 1587654321, False, 0.13),
)
_SUBREDDITS = (
    "indonesia",
    "indonesia",
    "indonesia",
    "finansial",
    "indotech",
    "jakarta",
    "IndoMentalHealth",
    "karier",
)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TWO = tuple(f"{i:02d}" for i in range(100))
_THREE = tuple(f"{i:03d}" for i in range(1000))
_M64 = (1 << 64) - 1
# Our objects never nest into themselves; skipping the circular-reference check is ~12% faster.
_dumps = json.JSONEncoder(check_circular=False).encode  # ASCII with \u escapes, like twarc
_dumps_utf8 = json.JSONEncoder(check_circular=False, ensure_ascii=False, separators=(",", ":")).encode
_ACCOUNT_EPOCH = date(2009, 1, 1)
_ACCOUNT_DAYS = tuple((_ACCOUNT_EPOCH + timedelta(d)).isoformat() for d in range(18 * 366 + 200))


def _day_offset(d: date) -> int:
    return (d - _ACCOUNT_EPOCH).days


def _mix(x: int) -> int:
    """splitmix64: a fast, stable 64-bit hash of an int (never Python's salted ``hash``)."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


_B36_PAIRS = tuple(a + b for a in _B36 for b in _B36)


def _b36(n: int) -> str:
    """Base-36 digits of a non-negative int (two digits per step: it runs for every forum id)."""
    out = []
    while n >= 36:
        n, r = divmod(n, 1296)
        out.append(_B36_PAIRS[r])
    s = "".join(reversed(out))
    if n:
        s = _B36[n] + s
    return s.lstrip("0") or "0"


def plain_text(c, link_sep: str = " ") -> str:
    """A composed post (``textgen`` parts) as plain text: mentions, body, emoji, hashtags, the link."""
    front, body, end, tags, link, emoji = c
    s = body
    if front:
        s = " ".join("@" + h for h in front) + " " + s
    if emoji:
        s += " " + emoji
    if end:
        s += " " + " ".join("@" + h for h in end)
    if tags:
        s += " " + " ".join("#" + t for t in tags)
    if link:
        s += link_sep + link
    return s


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Zipf:
    """Draws 0-based ranks from a bounded power law: a few accounts post a lot."""

    def __init__(self, n: int, s: float = 0.9):
        self.n = max(1, n)
        self._a = self.n ** (1 - s) - 1
        self._b = 1 / (1 - s)

    def draw(self, u: float) -> int:
        r = int((self._a * u + 1) ** self._b) - 1
        return r if r < self.n else self.n - 1


PARTIAL_PREFIX = "_partial_"


class _Out:
    """A buffered binary output file: plain, gzip, zstd, or one member of a zip archive.

    It is written as ``_partial_<name>`` (which ingest never picks up); the generator renames every
    file only once the whole run has succeeded, so a failed run leaves nothing half-written behind.
    """

    def __init__(self, path: Path, compression: str = "none", member: str | None = None):
        self.path = path
        self.partial = path.with_name(PARTIAL_PREFIX + path.name)
        self._raw = open(self.partial, "wb")
        self._zip: zipfile.ZipFile | None = None
        if compression == "gzip":
            self._fh = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=3)
        elif compression == "zstd":
            self._fh = zstandard.ZstdCompressor(level=3).stream_writer(self._raw, closefd=False)
        elif compression == "zip":
            self._zip = zipfile.ZipFile(self._raw, "w", compression=zipfile.ZIP_DEFLATED)
            info = zipfile.ZipInfo(member or "result.json", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            self._fh = self._zip.open(info, "w", force_zip64=True)
        else:
            self._fh = self._raw
        self._buf: list[bytes] = []
        self._size = 0
        self.extra_members: list[tuple[str, bytes]] = []  # zip only: small members written after the first

    def write(self, data: bytes) -> None:
        self._buf.append(data)
        self._size += len(data)
        if self._size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            self._fh.write(b"".join(self._buf))
            self._buf.clear()
            self._size = 0

    def close(self) -> None:
        self.flush()
        if self._fh is not self._raw:
            self._fh.close()
        if self._zip is not None:
            for name, data in self.extra_members:
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3
                self._zip.writestr(info, data)
            self._zip.close()
        self._raw.close()

    def abandon(self) -> None:
        """Close without caring about the content and delete the partial file."""
        try:
            if self._zip is not None:  # a zip left open would complain when it is garbage-collected
                try:
                    self._fh.close()
                    self._zip.close()
                except Exception:  # noqa: BLE001 - the file is deleted anyway
                    pass
            self._raw.close()
        finally:
            self.partial.unlink(missing_ok=True)


class _FileTruth:
    """What one written file holds, for the ground truth."""

    def __init__(self, name: str, fmt: str):
        self.name = name
        self.fmt = fmt
        self.valid = 0
        self.records = 0
        self.malformed: list[dict] = []
        self.skipped: dict[str, int] = {}
        self.first: str | None = None
        self.last: str | None = None
        self.extra: dict = {}

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def as_dict(self) -> dict:
        return {
            "format": self.fmt,
            "platform": PLATFORM_OF[self.fmt],
            "valid_posts": self.valid,
            "malformed": len(self.malformed),
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_total": sum(self.skipped.values()),
            "records": self.records,
            "first_created_at": self.first,
            "last_created_at": self.last,
            "malformed_records": self.malformed,
            **self.extra,
        }


class _Generator:
    def __init__(
        self,
        out_dir: Path,
        posts: int,
        seed: int,
        start: date,
        days: int,
        formats: Sequence[str],
        compress: bool,
        progress: Callable[[int], None] | None,
        x_file_cap: int,
        telegram_file_cap: int,
        generic_file_cap: int,
        file_cap: int = FILE_CAP,
    ):
        self.out = out_dir
        self.posts = posts
        self.seed = seed
        self.start = start
        self.days = days
        self.formats = tuple(f for f in FORMATS if f in formats)
        self.compress = compress
        self.progress = progress
        self.x_cap, self.tg_cap, self.gen_cap = x_file_cap, telegram_file_cap, generic_file_cap
        self.file_cap = file_cap
        self.x_seq = 0  # snowflake sequence bits, shared by every X-shaped format so ids never collide
        end = start + timedelta(days)
        self.end_iso = f"{end.isoformat()}T06:00:00.000Z"
        self.rng = random.Random(seed)
        self.rnd = rnd = self.rng.random
        # random.choice is several times slower than this, and it is called ~10 times per post
        self.choice = lambda seq: seq[int(rnd() * len(seq))]
        self.text = tg.TextGen(seed)
        self.epoch0 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
        self.files: list[_FileTruth] = []
        self.outputs: list[_Out] = []
        # per-post aggregates keyed by (platform, day, theme, lang, sentiment, kind)
        self.agg: dict[tuple, int] = {}
        self.written = 0
        self._next_progress = 5000

        w = {f: FORMAT_WEIGHTS[f] for f in self.formats}
        tot = sum(w.values())
        acc, self.fmt_cum = 0.0, []
        for f in self.formats:
            acc += w[f] / tot
            self.fmt_cum.append((acc, f))
        self.fmt_cum[-1] = (1.0, self.fmt_cum[-1][1])
        acc, self.theme_cum = 0.0, []
        for t in tg.THEMES:
            acc += t[3]
            self.theme_cum.append(acc)
        self.theme_cum = [c / acc for c in self.theme_cum]
        self.sent_cum = [(t[4][0], t[4][0] + t[4][1]) for t in tg.THEMES]

        share = {f: w[f] / tot for f in self.formats}
        self.share = share
        self.pools = {
            f: _Zipf(max(40, int(posts * share.get(f, 0) / per)), s)
            for f, per, s in (
                ("reddit", 3, 0.75),
                ("mastodon", 5, 0.85),
                ("bluesky_jetstream", 4, 0.85),
                ("youtube_comments", 2, 0.6),
                ("zeeschuimer", 3, 0.7),
            )
        }
        self.pool_x = _Zipf(max(60, int(posts * share.get("x_v2", 0) / 5)), 0.85)
        self.pool_tg = _Zipf(max(40, int(posts * share.get("telegram_desktop", 0) / 6)), 0.8)
        self.pool_gen = _Zipf(max(40, int(posts * share.get("generic", 0) / 4)), 0.8)
        self._user_cache: dict[int, tuple] = {}
        self.handle_ids = {
            h: str(_mix(i + 991) % 9_000_000_000 + 100_000_000)
            for i, h in enumerate(tg.OFFICIAL_HANDLES + tg.BRAND_HANDLES)
        }

    # ------------------------------------------------------------------ planning
    def _plan(self) -> None:
        days, rng = self.days, self.rng
        wd = [_WEEKDAY[(self.start + timedelta(d)).weekday()] * rng.uniform(0.93, 1.07) for d in range(days)]
        tot = sum(wd)
        share = [x / tot for x in wd]
        self.spike_day = (days * 2) // 3
        self.campaign_day = days // 3
        self.campaign_formats = tuple(f for f in ("x_v2", "telegram_desktop") if f in self.formats) or next(
            (f,) for f in CAMPAIGN_FALLBACK if f in self.formats
        )
        n_accounts = 0
        if "x_v2" in self.campaign_formats:
            n_accounts += CAMPAIGN_X_ACCOUNTS
        if "telegram_desktop" in self.campaign_formats:
            n_accounts += CAMPAIGN_TG_ACCOUNTS
        if len(self.campaign_formats) == 1 and self.campaign_formats != ("x_v2",):
            n_accounts = CAMPAIGN_X_ACCOUNTS + CAMPAIGN_TG_ACCOUNTS
        campaign_n = n_accounts + CAMPAIGN_REPEATS
        r0 = self.posts - campaign_n
        p = tg.THEMES[self.text.spike_theme][3]
        f = SPIKE_FACTOR * p * share[self.spike_day]
        self.spike_n = math.ceil(r0 * f / (1 + f))
        regular = r0 - self.spike_n
        raw = [regular * s for s in share]
        self.day_totals = _round_cumulative(raw)
        self._plan_campaign(n_accounts)

    def _plan_campaign(self, n_accounts: int) -> None:
        crng = random.Random(self.seed * 1_000_003 + 5)
        self.crng = crng
        start_min = 12 * 60 + 40 + crng.randrange(0, 30)  # ~19:40 WIB
        self.campaign_start = self.epoch0 + self.campaign_day * 86400 + start_min * 60
        fmts = self.campaign_formats
        accounts: list[tuple[str, int]] = []
        if fmts == ("x_v2", "telegram_desktop"):
            accounts = [("x_v2", i) for i in range(CAMPAIGN_X_ACCOUNTS)]
            accounts += [("telegram_desktop", i) for i in range(CAMPAIGN_TG_ACCOUNTS)]
        else:
            accounts = [(fmts[0], i) for i in range(n_accounts)]
        repeats = [a for a in accounts if a[0] == accounts[0][0]][:CAMPAIGN_REPEATS]
        items = accounts + repeats
        offsets = sorted(crng.randrange(CAMPAIGN_WINDOW_MIN * 60_000) for _ in items)
        crng.shuffle(items)
        # (epoch ms, format, account index)
        self.campaign_items = [
            (self.campaign_start * 1000 + off, f, i) for off, (f, i) in zip(offsets, items, strict=True)
        ]
        self.campaign_uids: list[str] = []
        self.campaign_accounts: dict[tuple[str, int], dict] = {}
        self.campaign_texts: list[str] = []

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        self._plan()
        self.x = _XWriter(self) if "x_v2" in self.formats else None
        self.tgw = _TelegramWriter(self) if "telegram_desktop" in self.formats else None
        self.gen = _GenericWriter(self) if "generic" in self.formats else None
        from ingest.gen_formats import WRITERS

        self.writers = {"x_v2": self.x, "telegram_desktop": self.tgw, "generic": self.gen}
        for f, cls in WRITERS.items():
            self.writers[f] = cls(self) if f in self.formats else None
        self.day_writers = [w for w in self.writers.values() if w is not None and hasattr(w, "start_day")]
        try:
            self._loop()
            for f in FORMATS:
                if self.writers[f] is not None:
                    self.writers[f].finish()
        except BaseException:
            for o in self.outputs:
                o.abandon()
            raise
        finally:
            for w in self.writers.values():
                if w is not None and hasattr(w, "cleanup"):
                    w.cleanup()
        for o in self.outputs:
            o.partial.replace(o.path)
        truth = self._truth()
        tmp = self.out / (PARTIAL_PREFIX + TRUTH_FILE)
        tmp.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(self.out / TRUTH_FILE)
        if self.progress:
            self.progress(self.written)
        return truth

    def _loop(self) -> None:
        rng, rnd = self.rng, self.rnd
        campaign = deque(self.campaign_items)
        for d in range(self.days):
            day = self.start + timedelta(d)
            self.day_index = d
            self.ymd = (day.year, day.month, day.day)
            for w in self.day_writers:
                w.start_day(d)
            weights = [_UTC_HOURLY[m // 60] * (0.4 + 1.2 * rnd()) for m in range(1440)]
            tot = sum(weights)
            counts = _round_cumulative([self.day_totals[d] * x / tot for x in weights])
            if d == self.spike_day:
                sw = [
                    0.0
                    if m < SPIKE_BREAK_UTC_MIN
                    else math.exp(-(m - SPIKE_BREAK_UTC_MIN) / 300) + 0.08 * _UTC_HOURLY[m // 60]
                    for m in range(1440)
                ]
                st = sum(sw)
                spikes = _round_cumulative([self.spike_n * x / st for x in sw])
            else:
                spikes = None
            day_s = self.epoch0 + d * 86400
            dstr = day.isoformat()
            for m in range(1440):
                c = counts[m]
                s = spikes[m] if spikes is not None else 0
                base_ms = (day_s + m * 60) * 1000
                end_ms = base_ms + 60_000
                if c + s == 0 and not (campaign and campaign[0][0] < end_ms):
                    continue
                self.min_prefix = f"{dstr}T{_TWO[m // 60]}:{_TWO[m % 60]}:"
                self.min_base_s = day_s + m * 60
                offs = sorted([int(rnd() * 60000) for _ in range(c + s)])
                flags = [True] * s + [False] * c
                if s:
                    rng.shuffle(flags)
                items = [(base_ms + o, fl) for o, fl in zip(offs, flags, strict=True)]
                while campaign and campaign[0][0] < end_ms:
                    items.append(campaign.popleft())
                    items.sort(key=lambda it: it[0])
                for it in items:
                    if len(it) == 3:
                        self._emit_campaign(*it)
                    else:
                        self._emit(it[0], it[1])
                if self.written >= self._next_progress and self.progress:
                    self.progress(self.written)
                    self._next_progress = self.written + 5000

    # ------------------------------------------------------------------ per post
    def _emit(self, ms: int, spike: bool) -> None:
        rnd = self.rnd
        r = rnd()
        for cum, fmt in self.fmt_cum:  # noqa: B007 - the loop picks fmt
            if r < cum:
                break
        theme = self.text.spike_theme if spike else bisect.bisect(self.theme_cum, rnd())
        r = rnd()
        lang = "id" if r < _LANG_ID else "en" if r < _LANG_EN else "mixed"
        r = rnd()
        pos, neu = self.sent_cum[theme]
        sent = "positive" if r < pos else "neutral" if r < neu else "negative"
        res = self.writers[fmt].post(ms, theme, lang, sent, spike)
        kind, theme, lang, sent = res[:4]
        key = (res[4] if len(res) > 4 else PLATFORM_OF[fmt], self.day_index, theme, lang, sent, kind)
        self.agg[key] = self.agg.get(key, 0) + 1
        self.written += 1

    def _emit_campaign(self, ms: int, fmt: str, account: int) -> None:
        text, url = tg.campaign_text(self.crng)
        uid, acc, *kind = self.writers[fmt].campaign(ms, account, text, url)
        self.campaign_uids.append(uid)
        self.campaign_accounts[(fmt, account)] = acc
        self.campaign_texts.append(text)
        theme = tg.THEME_IDS.index("misinformation")
        key = (acc["platform"], self.day_index, theme, "id", "negative", kind[0] if kind else "post")
        self.agg[key] = self.agg.get(key, 0) + 1
        self.written += 1

    def stamp(self, ms: int) -> tuple[int, int]:
        """(second within the current minute, millisecond) of an epoch-ms time."""
        rel = ms - self.min_base_s * 1000
        return rel // 1000, rel % 1000

    def x_id(self, ms: int) -> str:
        """An X snowflake id for a tweet posted at epoch-ms ``ms``."""
        self.x_seq += 1
        return str(((ms - TWITTER_EPOCH_MS) << 22) | (self.x_seq & 0x3FFFFF))

    def register_file(self, ft: _FileTruth) -> None:
        self.files.append(ft)

    def open_output(self, path: Path, compression: str = "none", member: str | None = None) -> _Out:
        out = _Out(path, compression, member)
        self.outputs.append(out)
        return out

    # ------------------------------------------------------------------ ground truth
    def _truth(self) -> dict:
        themes = tg.THEME_IDS
        dates = [(self.start + timedelta(d)).isoformat() for d in range(self.days)]
        theme_counts = dict.fromkeys(themes, 0)
        lang_counts = dict.fromkeys(tg.LANGS, 0)
        sent_counts = dict.fromkeys(tg.SENTIMENTS, 0)
        theme_sent = {t: dict.fromkeys(tg.SENTIMENTS, 0) for t in themes}
        lang_sent = {lang: dict.fromkeys(tg.SENTIMENTS, 0) for lang in tg.LANGS}
        daily_theme = {dt: dict.fromkeys(themes, 0) for dt in dates}
        daily_platform: dict[str, dict[str, int]] = {dt: {} for dt in dates}
        by_platform: dict[str, dict] = {}
        for (plat, d, th, lang, sent, kind), n in sorted(self.agg.items()):
            t = themes[th]
            theme_counts[t] += n
            lang_counts[lang] += n
            sent_counts[sent] += n
            theme_sent[t][sent] += n
            lang_sent[lang][sent] += n
            daily_theme[dates[d]][t] += n
            dp = daily_platform[dates[d]]
            dp[plat] = dp.get(plat, 0) + n
            bp = by_platform.setdefault(plat, {"posts": 0, "lang": dict.fromkeys(tg.LANGS, 0), "kind": {}})
            bp["posts"] += n
            bp["lang"][lang] += n
            bp["kind"][kind] = bp["kind"].get(kind, 0) + n
        for bp in by_platform.values():
            bp["kind"] = dict(sorted(bp["kind"].items()))

        files = {ft.name: ft.as_dict() for ft in sorted(self.files, key=lambda f: f.name)}
        malformed = [
            {"file": ft.name, **m} for ft in sorted(self.files, key=lambda f: f.name) for m in ft.malformed
        ]
        skipped: dict[str, int] = {}
        for ft in self.files:
            for k, v in ft.skipped.items():
                skipped[k] = skipped.get(k, 0) + v

        spike_theme = themes[self.text.spike_theme]
        spike_date = dates[self.spike_day]
        base_days = [daily_theme[dt][spike_theme] for dt in dates if dt != spike_date]
        baseline = sorted(base_days)[len(base_days) // 2] if base_days else 0
        spike_count = daily_theme[spike_date][spike_theme]

        accounts = sorted(self.campaign_accounts.values(), key=lambda a: (a["platform"], a["author_id"]))
        times = sorted(ms for ms, _f, _a in self.campaign_items)
        campaign = {
            "description": "one Indonesian miracle-cure hoax posted near-verbatim by many accounts",
            "claim": tg.CAMPAIGN["claim"],
            "domain": tg.CAMPAIGN["domain"],
            "url": tg.CAMPAIGN["url"],
            "theme": "misinformation",
            "lang": "id",
            "posts": len(self.campaign_uids),
            "distinct_accounts": len(accounts),
            "platforms": sorted({a["platform"] for a in accounts}),
            "window_start": _iso(datetime.fromtimestamp(times[0] / 1000, UTC)),
            "window_end": _iso(datetime.fromtimestamp(times[-1] / 1000, UTC)),
            "window_minutes": CAMPAIGN_WINDOW_MIN,
            "date": dates[self.campaign_day],
            "post_uids": sorted(self.campaign_uids),
            "accounts": accounts,
            "distinct_texts": len(set(self.campaign_texts)),
            "template": " ".join(
                (tg.CAMPAIGN["heads"][0], tg.CAMPAIGN["body"].format(verb="buka"), tg.CAMPAIGN["tails"][0])
            ),
        }
        spike = {
            "theme": spike_theme,
            "date": spike_date,
            "story": "data leak at the (invented) marketplace TokoKita",
            "keywords": ["TokoKita", "bocor", "kebocoran", "leak", "breach"],
            "hashtags": list(tg.SPIKE_TEXT["hashtags"]),
            "planted_posts": self.spike_n,
            "theme_posts_on_date": spike_count,
            "baseline_median_per_day": baseline,
            "ratio_to_baseline": round(spike_count / baseline, 2) if baseline else None,
        }
        drift_files = [ft.name for ft in self.files if ft.extra.get("drifted")]
        truth = {
            "generator": "ingest.generate",
            "version": 2,
            "seed": self.seed,
            "posts": self.posts,
            "start": self.start.isoformat(),
            "days": self.days,
            "dates": dates,
            "formats": list(self.formats),
            "compress": self.compress,
            "notes": [
                "valid_posts counts posts an adapter should load: x_v2 tweets in data[] "
                "(referenced tweets in "
                "includes.tweets are context, not posts), telegram messages of type 'message' "
                "with id and date, "
                "generic CSV rows with text and a parseable created_at, and every record the newer "
                "formats' adapters map to a post (Reddit [deleted]/[removed] comments and Mastodon "
                "boosts included).",
                "records: x_v2 lines, telegram messages (all types), generic CSV data rows, x_archive "
                "items of data/tweets.js, mastodon outbox orderedItems, lines of the other formats "
                "(mastodon_statuses pages: one line per page of up to 40 statuses). "
                "records = valid_posts + malformed + skipped_total, except for x_v2 and mastodon_statuses.",
                "skipped is keyed by the adapter's own reason (e.g. service:create_group, "
                "collection:app.bsky.feed.like, visibility:private, source_platform:linkedin.com).",
                "line numbers are 1-based physical lines; generic rows are 1-based data rows "
                "after the header.",
                "an adapter's source_record for a malformed record is its 'line' (x_v2 and the other "
                "line-oriented formats), 'row' (generic) or 'record' (telegram: 1-based index over the "
                "file's messages, chat after chat; mastodon outbox: position in orderedItems).",
                "telegram 'date' is written in UTC (the exporting machine's local time), like date_unixtime.",
                "campaign posts are counted in the aggregates as theme misinformation, lang id, "
                "sentiment negative.",
                "aggregates count each post under the labels it was composed with; reposts (X retweets, "
                "Mastodon boosts and reblogs) under the original's; Reddit comments whose body became "
                "[deleted] or [removed] keep the labels drawn for them. by_platform counts Zeeschuimer "
                "items under their own platform (tiktok, instagram, x).",
            ],
            "totals": {
                "valid_posts": self.written,
                "malformed": len(malformed),
                "skipped": dict(sorted(skipped.items())),
                "skipped_total": sum(skipped.values()),
                "by_platform": {p: v["posts"] for p, v in sorted(by_platform.items())},
            },
            "files": files,
            "themes": [{"id": t[0], "label_id": t[1], "label_en": t[2]} for t in tg.THEMES],
            "aggregates": {
                "theme_counts": theme_counts,
                "lang_counts": lang_counts,
                "sentiment_counts": sent_counts,
                "theme_sentiment": theme_sent,
                "lang_sentiment": lang_sent,
                "by_platform": dict(sorted(by_platform.items())),
                "daily_theme_counts": daily_theme,
                "daily_platform_counts": daily_platform,
            },
            "planted": {
                "campaign": campaign,
                "spike": spike,
                "malformed": malformed,
                "format_drift": {
                    "files": drift_files,
                    "added_fields": [
                        "edit_history_tweet_ids",
                        "edit_controls",
                        "public_metrics.bookmark_count",
                    ],
                    "removed_fields": ["source"],
                }
                if drift_files
                else None,
            },
            "domains": {
                "news": list(tg.NEWS_DOMAINS),
                "low_credibility": list(tg.LOW_CRED_DOMAINS),
                "shorteners": list(tg.SHORTENERS),
                "campaign": tg.CAMPAIGN["domain"],
            },
        }
        return truth


def _round_cumulative(xs: list[float]) -> list[int]:
    """Integers with the same running total as ``xs`` (rounded), so the sum is preserved exactly."""
    out, acc, prev = [], 0.0, 0
    for x in xs:
        acc += x
        cur = int(acc + 0.5)
        out.append(cur - prev)
        prev = cur
    return out


def _tco(rnd) -> str:
    return "https://t.co/" + "".join([_B62[int(rnd() * 62)] for _ in range(10)])


def _display(url: str) -> str:
    u = url.split("://", 1)[-1]
    if u.startswith("www."):
        u = u[4:]
    return u if len(u) <= 26 else u[:25] + "…"


# ====================================================================== X API v2 (twarc2)
class _XWriter:
    def __init__(self, g: _Generator):
        self.g = g
        self.group_days = max(1, math.ceil(g.days / 5))
        self.n_groups = math.ceil(g.days / self.group_days)
        self.file_no = 0
        self.out: _Out | None = None
        self.ft: _FileTruth | None = None
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
        self.ft = _FileTruth(name, "x_v2")
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
            "next_token": f"b26v89c19zqg8o3f{_b36(self.page_rng.getrandbits(40))}",
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
        cache = self.g._user_cache
        key = -idx - 1 if campaign else idx
        u = cache.get(key)
        if u is not None:
            return u
        h = _mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 1_000_003)
        first = _FIRST[h % len(_FIRST)]
        last = _LAST[(h >> 8) % len(_LAST)]
        if campaign:
            prefix = _CAMPAIGN_PREFIX[idx % len(_CAMPAIGN_PREFIX)]
            username = f"{prefix}{(h >> 20) % 90000 + 10000}"[:15]
            name = f"{first} {last}" if h & 1 else f"{first} 🇮🇩"
            uid = str(1_700_000_000_000_000_000 + idx * 7_919_993 + (h & 0xFFFF))
            followers = (h >> 24) % 40
            day = _day_offset(date(2026, 9, 1)) + (h >> 28) % 50
        elif idx < len(_NOTABLE_X):
            username, name = _NOTABLE_X[idx]
            uid = str(100_000_000 + idx * 131 + (h & 0x7F))
            followers = 150_000 + (h >> 20) % 2_000_000
            day = _day_offset(date(2010, 1, 1)) + (h >> 28) % (6 * 365)
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
                day = _day_offset(date(2019, 1, 1)) + (h >> 28) % (7 * 365)
            else:
                uid = str(100_000_000 + idx * 131 + (h & 0x7F))
                day = _day_offset(date(2009, 6, 1)) + (h >> 28) % (9 * 365)
            followers = int(math.exp(((h >> 32) % 1000) / 1000 * 9.5)) + (h >> 44) % 50
        influence = math.log10(followers + 10) * 0.55
        obj = {
            "id": uid,
            "name": name,
            "username": username,
            "created_at": f"{_ACCOUNT_DAYS[day]}T{_TWO[h % 24]}:{_TWO[(h >> 5) % 60]}:"
            f"{_TWO[(h >> 11) % 60]}.000Z",
            "description": _BIO[(h >> 12) % len(_BIO)],
            "location": tg.PLACES[(h >> 18) % len(tg.PLACES)] if (h >> 50) & 1 else "",
            "protected": False,
            "verified": idx < len(_NOTABLE_X) and not campaign,
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
        return f"{self.g.min_prefix}{_TWO[rel // 1000]}.{_THREE[rel % 1000]}Z"

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
            tco = _tco(rnd)
            urls.append(
                {
                    "start": pos + 1,
                    "end": pos + 1 + len(tco),
                    "url": tco,
                    "expanded_url": link,
                    "display_url": _display(link),
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
        user = self.user(g.pool_x.draw(rnd()))
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
            tco = _tco(rnd)
            ent.setdefault("urls", []).append(
                {
                    "start": pos + 1,
                    "end": pos + 1 + len(tco),
                    "url": tco,
                    "expanded_url": link,
                    "display_url": _display(link),
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
            tco = _tco(rnd)
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
                    "url": f"https://pbs.twimg.com/media/{tco[13:]}Xk{_b36(int(tid) % 10**9)}.jpg",
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
        g = self.g
        rnd = g.rnd
        ring = self.ring
        orig, ouser, theme, lang, sent = ring[len(ring) - 1 - int(len(ring) * rnd() * rnd())]
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

    def campaign(self, ms: int, account: int, text: str, url: str) -> tuple[str, dict]:
        self._ensure()
        user = self.user(account, campaign=True)
        tid = self._id(ms)
        tco = _tco(self.g.rnd)
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
                    "display_url": _display(url),
                }
            ]
        }
        self._add(tw, user)
        return f"x:{tid}", {"platform": "x", "author_id": user[0], "username": user[1]}

    def _extra_tweet(self) -> dict:
        """A normal-looking tweet that is not counted as valid (it is planted malformed)."""
        g = self.g
        user = self.user(g.pool_x.draw(g.rnd()))
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


# ====================================================================== Telegram Desktop
class _Chat:
    def __init__(self, spec, spool: Path):
        self.name, self.type, self.id, self.is_channel, self.weight = spec
        self.spool_path = spool
        self.spool = open(spool, "w+b", buffering=1 << 20)
        self.next_id = 1
        self.in_part = 0
        self.created = False
        self.ring: deque = deque(maxlen=400)  # recent message ids
        self.pending: list[dict] = []

    @property
    def count(self) -> int:
        """Messages of this chat in the current file part."""
        return self.in_part + len(self.pending)

    def write(self, msg: dict) -> None:
        self.pending.append(msg)
        if len(self.pending) >= 128:
            self.flush()

    def flush(self) -> None:
        """Serialize pending messages in one call (much cheaper than one call per message)."""
        if not self.pending:
            return
        body = _dumps_utf8(self.pending)[1:-1]
        self.spool.write((b",\n" if self.in_part else b"\n") + body.replace('},{"id"', '},\n{"id"').encode())
        self.in_part += len(self.pending)
        self.pending = []


class _TelegramWriter:
    def __init__(self, g: _Generator):
        self.g = g
        self.chats = [_Chat(spec, g.out / f"_spool_telegram_{spec[2]}.part") for spec in _TG_CHATS]
        tot = sum(c.weight for c in self.chats)
        acc, self.cum = 0.0, []
        for c in self.chats:
            acc += c.weight / tot
            self.cum.append(acc)
        self.groups = [c for c in self.chats if not c.is_channel]
        self.file_no = 0
        self.ft: _FileTruth | None = None
        self.in_file = 0
        self.undated_planted = False
        self._users: dict[int, tuple[str, str]] = {}
        self.fwd_names = [c.name for c in self.chats if c.is_channel] + ["Info BMKG", "Berita Satu Menit"]

    def _ensure(self) -> None:
        if self.ft is not None and self.in_file >= self.g.tg_cap:
            self._assemble()
        if self.ft is None:
            self.file_no += 1
            ext = ".zip" if self.g.compress else ".json"
            self.ft = _FileTruth(f"telegram_{self.file_no:03d}{ext}", "telegram_desktop")
            self.g.register_file(self.ft)
            self.in_file = 0

    def _assemble(self) -> None:
        g, ft = self.g, self.ft
        if not self.undated_planted:
            self._plant_undated(self.groups[0] if self.groups else self.chats[0])
        if g.compress:
            out = g.open_output(
                g.out / ft.name, "zip", member=f"ChatExport_{g.start.isoformat()}_{self.file_no}/result.json"
            )
        else:
            out = g.open_output(g.out / ft.name)
        out.write(
            json.dumps(
                {"about": "Here is the data you requested from your Telegram account."}, ensure_ascii=False
            )[:-1].encode()
        )
        out.write(b',\n "chats": {\n  "about": "This page lists all chats from this export.",\n  "list": [')
        # a planted message's record: its 1-based index over all messages of the file, chat by chat
        for m in ft.malformed:
            m["record"] = sum(c.count for c in self.chats[: m.pop("_chat_pos")]) + m["index_in_chat"] + 1
        for i, chat in enumerate(self.chats):
            head = json.dumps({"name": chat.name, "type": chat.type, "id": chat.id}, ensure_ascii=False)[:-1]
            out.write((("," if i else "") + "\n   " + head + ',\n   "messages": [').encode())
            chat.flush()
            chat.spool.flush()
            chat.spool.seek(0)
            out.flush()
            shutil.copyfileobj(chat.spool, out._fh, 1 << 20)
            chat.spool.seek(0)
            chat.spool.truncate()
            out.write(b"\n   ]\n   }" if chat.in_part else b"]\n   }")
            chat.in_part = 0
        out.write(b"\n  ]\n }\n}\n")
        out.close()
        ft.extra["chats"] = len(self.chats)
        self.ft = None

    def finish(self) -> None:
        if self.ft is not None:
            self._assemble()

    def cleanup(self) -> None:
        for c in self.chats:
            try:
                c.spool.close()
            finally:
                c.spool_path.unlink(missing_ok=True)

    def _date(self, ms: int) -> tuple[str, str]:
        sec, _ = self.g.stamp(ms)
        return f"{self.g.min_prefix}{_TWO[sec]}", str(self.g.min_base_s + sec)

    def _service(self, chat: _Chat, ms: int, action: str, actor: tuple[str, str], **extra) -> None:
        d, u = self._date(ms)
        msg = {
            "id": chat.next_id,
            "type": "service",
            "date": d,
            "date_unixtime": u,
            "actor": actor[0],
            "actor_id": actor[1],
            "action": action,
            **extra,
            "text": "",
            "text_entities": [],
        }
        chat.next_id += 1
        chat.write(msg)
        self.in_file += 1
        self.ft.records += 1
        self.ft.skip(f"service:{action}")

    def _user(self, idx: int, campaign: bool = False) -> tuple[str, str]:
        if not campaign and idx < 20_000:
            u = self._users.get(idx)
            if u is None:
                u = self._users[idx] = self._make_user(idx, False)
            return u
        return self._make_user(idx, campaign)

    def _make_user(self, idx: int, campaign: bool) -> tuple[str, str]:
        h = _mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 7_777_777 + 13)
        first = _FIRST[h % len(_FIRST)]
        last = _LAST[(h >> 8) % len(_LAST)]
        style = (h >> 16) % 4
        name = (f"{first} {last}", first, f"{first} {last[0]}.", f"{first}{(h >> 20) % 100}")[style]
        base = 6_900_000_000 if campaign else 1_000_000_000
        return name, f"user{base + idx * 97 + (h & 63)}"

    def _parts(self, c, channel: bool):
        """(text as a string or list of parts, text_entities)."""
        front, body, end, tags, link, emoji = c
        rnd = self.g.rnd
        parts: list = []
        ents: list = []

        def plain(s: str) -> None:
            if parts and isinstance(parts[-1], str):
                parts[-1] += s
                ents[-1]["text"] += s
            else:
                parts.append(s)
                ents.append({"type": "plain", "text": s})

        def entity(obj: dict) -> None:
            parts.append(obj)
            ents.append(dict(obj))

        for h in front:
            entity({"type": "mention", "text": "@" + h})
            plain(" ")
        if channel and rnd() < 0.4:
            head, sep, rest = body.partition(", ")
            entity({"type": "bold", "text": head})
            if sep:
                plain(sep + rest)
        else:
            plain(body)
        if emoji:
            plain(" " + emoji)
        for h in end:
            plain(" ")
            entity({"type": "mention", "text": "@" + h})
        for t in tags:
            plain(" ")
            entity({"type": "hashtag", "text": "#" + t})
        if link:
            if channel and rnd() < 0.5:
                plain("\n\n")
                entity({"type": "text_link", "text": "Baca selengkapnya", "href": link})
            else:
                plain(" ")
                entity({"type": "link", "text": link})
        if len(parts) == 1 and isinstance(parts[0], str):
            return parts[0], ents
        return parts, ents

    def _message(self, chat: _Chat, ms: int, sender: tuple[str, str]) -> dict:
        d, u = self._date(ms)
        msg = {
            "id": chat.next_id,
            "type": "message",
            "date": d,
            "date_unixtime": u,
            "from": sender[0],
            "from_id": sender[1],
        }
        chat.next_id += 1
        return msg

    def _finish_msg(self, chat: _Chat, msg: dict, text, ents, influence: float, count: bool = True) -> None:
        g = self.g
        rnd = g.rnd
        if rnd() < 0.08:
            msg["photo"] = f"photos/photo_{chat.next_id}@{msg.get('date', '2026-01-01T00:00:00')[:10]}.jpg"
            msg["width"], msg["height"] = (1280, 720) if rnd() < 0.5 else (960, 1280)
        if rnd() < 0.05 and "date" in msg:
            msg["edited"] = msg["date"]
            msg["edited_unixtime"] = msg["date_unixtime"]
        msg["text"] = text
        msg["text_entities"] = ents
        n = int(math.exp(g.rng.gauss(influence, 1.3)))
        if n:
            top = tg.EMOJI["positive"][int(rnd() * 6)]
            reacts = [{"type": "emoji", "count": n, "emoji": top}]
            if n > 5:
                reacts.append(
                    {
                        "type": "emoji",
                        "count": int(n * rnd() * 0.5) + 1,
                        "emoji": "🔥" if top != "🔥" else "👍",
                    }
                )
            msg["reactions"] = reacts
        chat.write(msg)
        self.in_file += 1
        ft = self.ft
        ft.records += 1
        if count:
            ft.valid += 1
            if ft.first is None:
                ft.first = msg["date"]
            ft.last = msg["date"]
        chat.ring.append(msg["id"])

    def _pick_chat(self) -> _Chat:
        r = self.g.rnd()
        return self.chats[bisect.bisect(self.cum, r) if r < self.cum[-1] else -1]

    def _maybe_create(self, chat: _Chat, ms: int) -> None:
        if not chat.created:
            chat.created = True
            actor = (chat.name, f"channel{chat.id}")
            self._service(
                chat,
                ms - 1000 if self.g.stamp(ms)[0] > 0 else ms,
                "create_channel" if chat.is_channel else "create_group",
                actor,
                title=chat.name,
            )

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool) -> tuple[str, int, str, str]:
        g = self.g
        self._ensure()
        rnd = g.rnd
        chat = self._pick_chat()
        self._maybe_create(chat, ms)
        kind = "post"
        if chat.is_channel:
            sender = (chat.name, f"channel{chat.id}")
            informal = False
            influence = 2.2
        else:
            r = rnd()
            if r < 0.012:
                self._service(
                    chat, ms, "join_group_by_link", self._user(g.pool_tg.draw(rnd())), inviter="Group"
                )
            elif r < 0.015 and chat.ring:
                self._service(
                    chat, ms, "pin_message", (chat.name, f"channel{chat.id}"), message_id=chat.ring[-1]
                )
            sender = self._user(g.pool_tg.draw(rnd()))
            informal = rnd() < 0.85
            influence = 0.6
        c = g.text.compose(theme, lang, sent, informal, rnd, g.choice, g.ymd, spike)
        text, ents = self._parts(c, chat.is_channel)
        msg = self._message(chat, ms, sender)
        if not chat.is_channel and chat.ring and rnd() < 0.22:
            msg["reply_to_message_id"] = chat.ring[len(chat.ring) - 1 - int(len(chat.ring) * rnd() * rnd())]
            kind = "reply"
        elif chat.is_channel and rnd() < 0.08:
            msg["forwarded_from"] = g.choice(self.fwd_names)
            kind = "repost"
        self._finish_msg(chat, msg, text, ents, influence)
        if (
            not self.undated_planted
            and chat is (self.groups[0] if self.groups else self.chats[0])
            and chat.count >= 6
        ):
            self._plant_undated(chat)
        return kind, theme, lang, sent

    def _plant_undated(self, chat: _Chat) -> None:
        g = self.g
        text = "Ada yang tahu info ini benar atau tidak? Mohon dicek dulu sebelum disebar"
        msg = {
            "id": chat.next_id,
            "type": "message",
            "from": self._user(g.pool_tg.draw(0.5))[0],
            "from_id": self._user(g.pool_tg.draw(0.5))[1],
            "text": text,
            "text_entities": [{"type": "plain", "text": text}],
        }
        chat.next_id += 1
        chat.write(msg)
        self.in_file += 1
        self.ft.records += 1
        self.ft.malformed.append(
            {
                "kind": "missing_date",
                "_chat_pos": self.chats.index(chat),
                "chat_id": chat.id,
                "message_id": msg["id"],
                "index_in_chat": chat.count - 1,
                "post_uid": f"telegram:{chat.id}/{msg['id']}",
                "error_expected": "message lacks date",
            }
        )
        self.undated_planted = True

    def campaign(self, ms: int, account: int, text: str, url: str) -> tuple[str, dict, str]:
        self._ensure()
        chat = self.groups[account % len(self.groups)] if self.groups else self.chats[0]
        self._maybe_create(chat, ms)
        sender = self._user(account, campaign=True)
        parts = [text + " ", {"type": "link", "text": url}]
        ents = [{"type": "plain", "text": text + " "}, {"type": "link", "text": url}]
        msg = self._message(chat, ms, sender)
        msg["text"] = parts
        msg["text_entities"] = ents
        forwarded = self.g.crng.random() < 0.3
        if forwarded:
            msg["forwarded_from"] = "Info Sehat Keluarga"
        chat.write(msg)
        self.in_file += 1
        ft = self.ft
        ft.records += 1
        ft.valid += 1
        if ft.first is None:
            ft.first = msg["date"]
        ft.last = msg["date"]
        chat.ring.append(msg["id"])
        return (
            f"telegram:{chat.id}/{msg['id']}",
            {
                "platform": "telegram",
                "author_id": sender[1],
                "username": sender[0],
                "chat_id": chat.id,
            },
            "repost" if forwarded else "post",
        )


# ====================================================================== generic CSV
class _GenericWriter:
    HEADER = ("id", "text", "created_at", "author", "lang", "url")

    def __init__(self, g: _Generator):
        self.g = g
        self.group_days = max(1, math.ceil(g.days / 2))
        self.group = -1
        self.file_no = 0
        self.out: _Out | None = None
        self.ft: _FileTruth | None = None
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\n")
        self.rows = 0
        self.lines = 0
        self.planted = False
        self.id_base = 1_500_000_000 + (_mix(g.seed) % 1_000_000)
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
            self.ft = _FileTruth(name, "generic")
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
        h = _mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 5_555_557 + 29)
        first = _FIRST[h % len(_FIRST)].lower()
        last = _LAST[(h >> 8) % len(_LAST)].lower()
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
            self._thread_n, self._thread = t, _b36(t + 40_000_000)
        return _b36(n), self._thread

    def _url(self, pid: str, thread: str, theme: int) -> str:
        sub = _SUBREDDITS[(theme * 7 + len(pid)) % len(_SUBREDDITS)]
        return f"https://www.reddit.com/r/{sub}/comments/{thread}/comment/{pid}/"

    def _created(self, ms: int) -> str:
        sec, _ = self.g.stamp(ms)
        return f"{self.g.min_prefix}{_TWO[sec]}Z"

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
        author = self._author(g.pool_gen.draw(rnd()))
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


# ====================================================================== public API
def generate(
    out_dir: Path,
    posts: int,
    seed: int = 7,
    start: date | None = None,
    days: int = 14,
    formats: Sequence[str] = FORMATS,
    compress: bool = False,
    progress: Callable[[int], None] | None = None,
    *,
    x_file_cap: int = X_FILE_CAP,
    telegram_file_cap: int = TELEGRAM_FILE_CAP,
    generic_file_cap: int = GENERIC_FILE_CAP,
    file_cap: int = FILE_CAP,
) -> dict:
    """Write synthetic exports of ``posts`` valid posts into ``out_dir``; return the ground truth.

    ``posts`` counts the posts an adapter should load (planted malformed and skipped records come on
    top). ``progress`` is called with the running number of posts written. The ground truth is also
    written to ``<out_dir>/_ground_truth.json``. ``formats`` picks from ``FORMATS`` (default: all);
    ``file_cap`` is the records per file of the newer line-oriented formats (Reddit, Mastodon REST
    pages, Jetstream, Zeeschuimer).
    """
    if isinstance(formats, str):
        formats = tuple(f.strip() for f in formats.split(",") if f.strip())
    formats = tuple(FORMAT_ALIASES.get(f, f) for f in formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
    if not formats:
        raise ValueError("no formats selected")
    able = ("x_v2", "telegram_desktop", *CAMPAIGN_FALLBACK)
    if not any(f in able for f in formats):
        raise ValueError(f"the planted campaign needs one of the formats {', '.join(able)}; got {formats}")
    if posts < MIN_POSTS:
        raise ValueError(f"posts must be at least {MIN_POSTS} (the planted signals need room); got {posts}")
    if days < 1:
        raise ValueError(f"days must be at least 1; got {days}")
    if posts < days * 20:
        raise ValueError(f"{posts} posts over {days} days is too thin; use at least {days * 20} posts")
    for name, cap in (
        ("x_file_cap", x_file_cap),
        ("telegram_file_cap", telegram_file_cap),
        ("generic_file_cap", generic_file_cap),
        ("file_cap", file_cap),
    ):
        if cap < PAGE_SIZE:
            raise ValueError(f"{name} must be at least {PAGE_SIZE}; got {cap}")
    gen = _Generator(
        Path(out_dir),
        posts,
        seed,
        start or DEFAULT_START,
        days,
        formats,
        compress,
        progress,
        x_file_cap,
        telegram_file_cap,
        generic_file_cap,
        file_cap,
    )
    return gen.run()
