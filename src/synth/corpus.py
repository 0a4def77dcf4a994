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

The newer line-oriented files split per half of the period and at ``file_cap`` records. Each format's
writer, and what it plants, is one module of ``synth.formats``; this module draws the posts and hands
them out. With ``compress=True`` X files alternate
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
5. a format-drifted X file (newer API fields appear, ``source`` disappears);
6. in X v2, a buzzer ring: 12 accounts retweeting the same 3 source accounts' tweets seconds to about
   two minutes apart, at the same three hours of the day, many times over the period;
7. in X v2, a superspreader: one account whose tweets linking to low-credibility domains (rated low in
   the ``domain_ratings`` seed) are each retweeted many times (its FIB-index is recorded);
8. an emerging story nobody put in the taxonomy (``planted.emerging_story``): a named event whose
   3-4 new terms and hashtags co-occur in posts of one day, across accounts, platforms and languages.

The campaign goes to X v2 and Telegram; without either, to the first selected of generic, Bluesky,
Mastodon and Reddit. The X archive carries no malformed record: the quarantine records a zip member
as ``<zip>!data/tweets.js``, which the per-file ground truth (keyed by file name) cannot name.

Generation streams: memory stays bounded whatever the number of posts (pages of 100 tweets, Telegram
chats spooled to disk per chat, rings of recent posts for replies). Output is byte-identical for a
given seed and arguments.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from synth import textgen as tg
from synth.common import PAGE_SIZE, TWO_DIGITS, iso_utc, mix
from synth.formats import FORMAT_ALIASES, FORMAT_WEIGHTS, FORMATS, PLATFORM_OF, WRITERS
from synth.formats import x_v2 as x_v2_format
from synth.output import PARTIAL_PREFIX, FileTruth, OutputFile

# Where the planted campaign goes when neither X v2 nor Telegram is selected, in order of preference.
CAMPAIGN_FALLBACK = ("generic", "bluesky_jetstream", "mastodon", "reddit")
LANG_WEIGHTS = (("id", 0.45), ("en", 0.35), ("mixed", 0.20))
_LANG_ID, _LANG_EN = LANG_WEIGHTS[0][1], LANG_WEIGHTS[0][1] + LANG_WEIGHTS[1][1]
DEFAULT_START = date(2026, 11, 1)
MIN_POSTS = 500
X_FILE_CAP = 250_000
TELEGRAM_FILE_CAP = 200_000
GENERIC_FILE_CAP = 500_000
FILE_CAP = 250_000  # records per file for the other line-oriented formats
TRUTH_FILE = "_ground_truth.json"

TWITTER_EPOCH_MS = 1288834974657
CAMPAIGN_X_ACCOUNTS = 34
CAMPAIGN_TG_ACCOUNTS = 10
CAMPAIGN_REPEATS = 6  # accounts that post the message twice
CAMPAIGN_WINDOW_MIN = 110
SPIKE_FACTOR = 8.0  # extra spike-day posts, as a multiple of the theme's expected daily volume
SPIKE_BREAK_UTC_MIN = 2 * 60  # the leak story breaks at 09:00 WIB
STORY_SHARE = 0.03  # the planted emerging story's posts, as a share of its day's posts ...
STORY_MIN_POSTS = 30  # ... and at least this many
STORY_BREAK_UTC_MIN = 11 * 60 + 30  # it starts at 18:30 WIB

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


class Corpus:
    """One run of the generator: the plan, the per-minute post stream, the writers, the ground truth.

    Writers get the corpus as ``g`` and use its shared state: the random stream (``rng``, ``rnd``,
    ``choice``), the text generator (``text``), the current minute (``ymd``, ``min_prefix``,
    ``min_base_s``, ``stamp``), X snowflake ids (``x_id``), handles' ids (``handle_ids``), each
    format's share of the posts (``share``) and the output folder (``out``, ``open_output``,
    ``register_file``).
    """

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
        self.files: list[FileTruth] = []
        self.outputs: list[OutputFile] = []
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
        self.handle_ids = {
            h: str(mix(i + 991) % 9_000_000_000 + 100_000_000)
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
        self.network_plan = (
            x_v2_format.plan_network(self.seed, self.epoch0, days, self.posts, self.share["x_v2"])
            if "x_v2" in self.formats
            else None
        )
        r0 = self.posts - campaign_n - (self.network_plan["posts"] if self.network_plan else 0)
        p = tg.THEMES[self.text.spike_theme][3]
        f = SPIKE_FACTOR * p * share[self.spike_day]
        self.spike_n = math.ceil(r0 * f / (1 + f))
        self.story_day = (days * 4) // 5
        self.story_n = max(STORY_MIN_POSTS, math.ceil(STORY_SHARE * r0 * share[self.story_day]))
        self.story_platforms: dict[str, int] = {}
        regular = r0 - self.spike_n - self.story_n
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
        self.writers = {f: WRITERS[f](self) if f in self.formats else None for f in FORMATS}
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
        planted = self.network_plan["items"] if self.network_plan else []
        campaign = deque(sorted(self.campaign_items + planted, key=lambda it: it[0]))
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
            stories = _story_minutes(self.story_n) if d == self.story_day else None
            day_s = self.epoch0 + d * 86400
            dstr = day.isoformat()
            for m in range(1440):
                c = counts[m]
                s = spikes[m] if spikes is not None else 0
                t = stories[m] if stories is not None else 0
                base_ms = (day_s + m * 60) * 1000
                end_ms = base_ms + 60_000
                if c + s + t == 0 and not (campaign and campaign[0][0] < end_ms):
                    continue
                self.min_prefix = f"{dstr}T{TWO_DIGITS[m // 60]}:{TWO_DIGITS[m % 60]}:"
                self.min_base_s = day_s + m * 60
                offs = sorted([int(rnd() * 60000) for _ in range(c + s + t)])
                flags = [True] * s + [tg.STORY] * t + [False] * c
                if s or t:
                    rng.shuffle(flags)
                items = [(base_ms + o, fl) for o, fl in zip(offs, flags, strict=True)]
                while campaign and campaign[0][0] < end_ms:
                    items.append(campaign.popleft())
                    items.sort(key=lambda it: it[0])
                for it in items:
                    if len(it) == 3:
                        self._emit_campaign(*it)
                    elif len(it) == 4:
                        self._emit_plant(it[0], it[3])
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
        if spike:
            theme = self.text.story_theme if spike == tg.STORY else self.text.spike_theme
        else:
            theme = bisect.bisect(self.theme_cum, rnd())
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
        if spike == tg.STORY:
            self.story_platforms[key[0]] = self.story_platforms.get(key[0], 0) + 1

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

    def _emit_plant(self, ms: int, payload: tuple) -> None:
        kind, theme, lang, sent = self.writers["x_v2"].plant(ms, payload)
        key = ("x", self.day_index, theme, lang, sent, kind)
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

    def register_file(self, ft: FileTruth) -> None:
        self.files.append(ft)

    def open_output(self, path: Path, compression: str = "none", member: str | None = None) -> OutputFile:
        out = OutputFile(path, compression, member)
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

        files = {ft.name: ft.as_dict(PLATFORM_OF[ft.fmt]) for ft in sorted(self.files, key=lambda f: f.name)}
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
            "window_start": iso_utc(datetime.fromtimestamp(times[0] / 1000, UTC)),
            "window_end": iso_utc(datetime.fromtimestamp(times[-1] / 1000, UTC)),
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
            "generator": "synth.generate",
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
                **self._network_truth(),
                "campaign": campaign,
                "spike": spike,
                "emerging_story": {
                    "description": tg.STORY_TEXT["description"],
                    "name": tg.STORY_TEXT["name"],
                    "date": dates[self.story_day],
                    "terms": list(tg.STORY_TEXT["terms"]),
                    "hashtags": sorted(set(tg.STORY_TEXT["hashtags"])),
                    "planted_posts": self.story_n,
                    "by_platform": dict(sorted(self.story_platforms.items())),
                    "counted_as_theme": tg.THEME_IDS[self.text.story_theme],
                    "in_taxonomy": False,
                    "how_to_recognise": "posts naming the event, in Indonesian, English and code-mixed text, "
                    "from 18:30 WIB on its day only; none of its terms is a topic keyword or occurs on any "
                    "other day (except in later replies or reposts)",
                },
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


    def _network_truth(self) -> dict:
        """``buzzer_ring`` and ``superspreader`` (None without X v2): who they are, how to find them."""
        if not self.network_plan:
            return {"buzzer_ring": None, "superspreader": None}
        from synth.formats.x_v2 import RING_ACCOUNT_BASE, RING_SIZE, RING_SOURCE_POOL, SUPERSPREADER_POOL

        w, plan = self.writers["x_v2"], self.network_plan

        def acc(u: tuple) -> dict:
            return {"platform": "x", "author_id": u[0], "username": u[1]}

        bursts = plan["bursts"]
        ss = plan["superspreader_posts"]
        counts = sorted((p["retweets"] for p in ss), reverse=True)
        fib = max((h for h in range(1, len(counts) + 1) if counts[h - 1] >= h), default=0)
        ss_user = w.user(SUPERSPREADER_POOL)
        return {
            "buzzer_ring": {
                "description": "accounts that retweet the same few source accounts' tweets in lockstep, "
                "seconds to about two minutes after each, at the same hours every day",
                "accounts": [acc(w.user(RING_ACCOUNT_BASE + j, campaign=True)) for j in range(RING_SIZE)],
                "sources": [acc(w.user(i)) for i in RING_SOURCE_POOL],
                "bursts": len(bursts),
                "retweets": len(w.planted_uids["ring_rt"]),
                "max_lag_seconds": round(max(b["max_lag_ms"] for b in bursts) / 1000, 3),
                "hours_utc": sorted({datetime.fromtimestamp(b["t0"] / 1000, UTC).hour for b in bursts}),
                "source_post_uids": sorted(w.planted_uids["ring_src"]),
                "retweet_post_uids": sorted(w.planted_uids["ring_rt"]),
                "how_to_recognise": "every account retweets only (no original tweets), each burst within "
                "minutes of the same source tweet as the other ring accounts, at 01:00, 05:00 or 13:00 UTC; "
                "author_key = first 32 hex digits of HMAC-SHA256(pseudonym key, 'x:' + author_id)",
            },
            "superspreader": {
                "description": "one account whose tweets linking to low-credibility domains are each "
                "retweeted many times",
                "account": acc(ss_user),
                "domains": sorted({u.split("/")[2] for u in w.planted_urls}),
                "low_credibility_posts": len(ss),
                "post_uids": sorted(w.planted_uids["ss_src"]),
                "urls": list(w.planted_urls),
                "retweets_per_post": [p["retweets"] for p in ss],
                "retweets": len(w.planted_uids["ss_rt"]),
                "fib_index_at_least": fib,
                "how_to_recognise": "its planted tweets link to domains rated <= 0.10 in the domain_ratings "
                "seed and each is retweeted by at least fib_index_at_least distinct accounts (their "
                "public_metrics.retweet_count equals the retweets in the data); it also posts ordinary "
                "tweets, so fib_index_at_least is a lower bound",
            },
        }


def _story_minutes(n: int) -> list[int]:
    """The emerging story's posts per UTC minute of its day: from its start, decaying over the evening."""
    w = [
        0.0
        if m < STORY_BREAK_UTC_MIN
        else math.exp(-(m - STORY_BREAK_UTC_MIN) / 240) + 0.05 * _UTC_HOURLY[m // 60]
        for m in range(1440)
    ]
    tot = sum(w)
    return _round_cumulative([n * x / tot for x in w])


def _round_cumulative(xs: list[float]) -> list[int]:
    """Integers with the same running total as ``xs`` (rounded), so the sum is preserved exactly."""
    out, acc, prev = [], 0.0, 0
    for x in xs:
        acc += x
        cur = int(acc + 0.5)
        out.append(cur - prev)
        prev = cur
    return out


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
    gen = Corpus(
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
