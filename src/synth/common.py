"""Helpers shared by the corpus and the format writers: hashing, ids, names, time strings, texts.

Nothing here draws from the run's random stream by itself: functions that need randomness take the
caller's ``rnd``, so the order of draws (and with it every output byte for a given seed) stays with
the caller.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from synth import textgen as tg

# Our objects never nest into themselves; skipping the circular-reference check is ~12% faster.
dumps = json.JSONEncoder(check_circular=False, ensure_ascii=False).encode  # ", " and ": " like json.dumps
dumps_compact = json.JSONEncoder(check_circular=False, ensure_ascii=False, separators=(",", ":")).encode

PAGE_SIZE = 100  # tweets per X API search page; also the smallest file cap ``generate`` accepts
CACHE_BIG = 4_000  # busiest accounts whose (large) profile objects stay cached: memory stays bounded

# ---------------------------------------------------------------------- digits, hashes, ids
TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))
THREE_DIGITS = tuple(f"{i:03d}" for i in range(1000))
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_M64 = (1 << 64) - 1


def mix(x: int) -> int:
    """splitmix64: a fast, stable 64-bit hash of an int (never Python's salted ``hash``)."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


_B36_PAIRS = tuple(a + b for a in _B36 for b in _B36)


def base36(n: int) -> str:
    """Base-36 digits of a non-negative int (two digits per step: it runs for every forum id)."""
    out = []
    while n >= 36:
        n, r = divmod(n, 1296)
        out.append(_B36_PAIRS[r])
    s = "".join(reversed(out))
    if n:
        s = _B36[n] + s
    return s.lstrip("0") or "0"


def rand_str(rnd, alphabet: str, n: int) -> str:
    """``n`` random characters of ``alphabet`` (``rnd``: the caller's ``random``)."""
    k = len(alphabet)
    return "".join([alphabet[int(rnd() * k)] for _ in range(n)])


def hash_str(h: int, alphabet: str, n: int) -> str:
    """``n`` characters of ``alphabet`` drawn from a 64-bit hash (re-mixed as its digits run out)."""
    out, k, x, i = [], len(alphabet), h, 0
    while len(out) < n:
        if x < k:
            i += 1
            x = mix(h + i * 0x9E3779B9)
        x, r = divmod(x, k)
        out.append(alphabet[r])
    return "".join(out)


# ---------------------------------------------------------------------- time strings
_ACCOUNT_EPOCH = date(2009, 1, 1)
ACCOUNT_DAYS = tuple((_ACCOUNT_EPOCH + timedelta(d)).isoformat() for d in range(18 * 366 + 200))
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_offset(d: date) -> int:
    """Index of ``d`` in ``ACCOUNT_DAYS``."""
    return (d - _ACCOUNT_EPOCH).days


def iso_utc(dt: datetime) -> str:
    """``2026-11-01T09:10:58.000Z`` (whole seconds)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_millis(g, ms: int) -> str:
    """``2026-11-01T09:10:58.123Z`` for epoch-ms ``ms`` within the corpus's current minute."""
    sec, milli = g.stamp(ms)
    return f"{g.min_prefix}{TWO_DIGITS[sec]}.{THREE_DIGITS[milli]}Z"


def v1_time(g, ms: int) -> str:
    """X API v1.1 time: ``Fri Feb 20 09:10:58 +0000 2026``."""
    sec, _ = g.stamp(ms)
    y, m, d = g.ymd
    hm = g.min_prefix[11:16]
    return (
        f"{_DAYS[date(y, m, d).weekday()]} {_MONTHS[m - 1]} {TWO_DIGITS[d]} {hm}:{TWO_DIGITS[sec]} +0000 {y}"
    )


# ---------------------------------------------------------------------- people
# The names of the texts, then more for author display names.
FIRST_NAMES = tg.PEOPLE + (
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
LAST_NAMES = (
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
BIOS = (
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
NOTABLE_X = (
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
CAMPAIGN_PREFIXES = (
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
SUBREDDITS = (
    "indonesia",
    "indonesia",
    "indonesia",
    "finansial",
    "indotech",
    "jakarta",
    "IndoMentalHealth",
    "karier",
)


def person(h: int) -> tuple[str, str]:
    """(display name, handle stem) from a hash."""
    first = FIRST_NAMES[h % len(FIRST_NAMES)]
    last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
    style = (h >> 16) % 5
    fl, ll = first.lower(), last.lower()
    stem = (f"{fl}_{ll}", f"{fl}{ll[:3]}", f"{fl}.{ll}", f"its{fl}", f"{ll}_{fl[:3]}")[style]
    return f"{first} {last}" if (h >> 20) & 1 else first, stem


class Zipf:
    """Draws 0-based ranks from a bounded power law: a few accounts post a lot."""

    def __init__(self, n: int, s: float = 0.9):
        self.n = max(1, n)
        self._a = self.n ** (1 - s) - 1
        self._b = 1 / (1 - s)

    def draw(self, u: float) -> int:
        r = int((self._a * u + 1) ** self._b) - 1
        return r if r < self.n else self.n - 1


# ---------------------------------------------------------------------- texts and links
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


def campaign_composed(text: str, url: str) -> tuple:
    """The planted campaign's message as a composed post (``textgen.Composed``)."""
    return ((), text, (), (), url, "")


def tco_link(rnd) -> str:
    """A random t.co short link."""
    return "https://t.co/" + "".join([_B62[int(rnd() * 62)] for _ in range(10)])


def shown_url(url: str) -> str:
    """A link as X displays it: no scheme, no ``www.``, cut at 26 characters."""
    u = url.split("://", 1)[-1]
    if u.startswith("www."):
        u = u[4:]
    return u if len(u) <= 26 else u[:25] + "…"


def x_pieces(c, handle_ids: dict, prefix_mention: tuple[str, str] | None = None) -> list:
    """A composed post as (kind, value, extra) pieces for ``x_entities``."""
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


def x_entities(text_pieces, rnd) -> tuple[str, dict]:
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
            s = tco_link(rnd)
            ent["urls"].append(
                {
                    "url": s,
                    "expanded_url": val,
                    "display_url": shown_url(val),
                    "indices": [str(pos), str(pos + len(s))],
                }
            )
        else:
            s = val
        out.append(s)
        pos += len(s)
    return "".join(out), ent
