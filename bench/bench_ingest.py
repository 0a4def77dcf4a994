"""Ingest throughput: the X API v2 (twarc2) adapter against a bare DuckDB ``read_json`` → Parquet copy.

The project holds the ingest path to at least half the throughput of a bare DuckDB copy of the same file,
measured in the same process run. This script:

1. writes a synthetic twarc2 paged JSONL (``--tweets`` tweets in ``--page-size`` pages, each page with
   ``includes.users``/``includes.tweets``/``meta``/``__twarc``), or takes one with ``--input``;
2. times, in this one process and on that one file: (a) the reference
   ``COPY (SELECT * FROM read_json(file)) TO 'x.parquet'``, (b) the adapter alone, draining ``read()``,
   and (c) the full ``ingest.lake.ingest_file`` into a temporary home (pseudonymisation on);
3. prints a table (seconds, CPU seconds, tweets/s, ratio against the reference, peak RSS) and writes JSON to
   ``--json``.

``ratio`` is a stage's throughput over the reference's (reference seconds / stage seconds); the target
for the full ingest is >= 0.5. Peak RSS per stage is sampled from ``/proc/self/statm`` every 10 ms while
the stage runs (short spikes between samples can be missed); the process-wide high-water mark from
``getrusage`` is reported too. Python-heap tracing (``tracemalloc``) is not used: it slows the
Python side and does not see DuckDB's or Arrow's native allocations, where the bulk of memory is.

    uv run python bench/bench_ingest.py --tweets 200000 --json /tmp/bench_ingest.json

``--all-formats`` holds every registered format to the same bar, file by file: it generates exports of
every format with the project's generator (``synth``; ``--posts-per-format`` posts of each), or takes
the export files in ``--exports DIR`` folders, and times, per file, the reference copy of that file
(``read_json``, or ``read_csv`` for CSV/TSV), the adapter alone and the full ``ingest_file``, then
reports each file's and each format's ratio in wall and CPU seconds (see bench/README.md):

    uv run python bench/bench_ingest.py --all-formats --posts-per-format 200000 --json /tmp/all.json
    uv run python bench/bench_ingest.py --all-formats --exports /data/inbox --repeat 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------------
# Synthetic twarc2 pages
# --------------------------------------------------------------------------------------------------

_WORDS_ID = (
    "personal branding itu penting banget buat karier kita sekarang recruiter cek media sosial "
    "kandidat sebelum wawancara jangan asal posting hoaks informasi palsu beredar lagi di grup "
    "keluarga tolong cek dulu sebelum share relawan komunitas bersih pantai minggu depan ayo ikut "
    "kesehatan mental cemas dinilai orang lain digital amnesia lupa nomor telepon sendiri penipuan "
    "online modus baru hati-hati akun bank pemerintah harus segera tanggapi keluhan warga layanan "
    "pelanggan lambat sekali sudah tiga hari belum dibalas"
).split()
_WORDS_EN = (
    "personal branding matters for your career recruiters screen candidates social media before "
    "interviews fake news spreading again please verify before sharing volunteers community beach "
    "cleanup next week mental health anxiety about judgement digital amnesia cyber fraud new scam "
    "watch your bank account government should respond customer service slow three days no reply"
).split()
_TAGS = (
    "PersonalBranding",
    "Karier",
    "Hoaks",
    "CekFakta",
    "Relawan",
    "KesehatanMental",
    "Loker",
    "CyberSecurity",
    "Pemilu",
    "LayananPelanggan",
)
_DOMAINS = (
    "kompas.com",
    "detik.com",
    "tempo.co",
    "cnnindonesia.com",
    "reuters.com",
    "bbc.com",
    "turnbackhoax.id",
    "linkedin.com",
    "beritaviral.xyz",
    "medium.com",
)
_SOURCES = ("Twitter for Android", "Twitter for iPhone", "Twitter Web App")
_CONTEXT = [
    {
        "domain": {
            "id": "66",
            "name": "Interests and Hobbies Category",
            "description": "A grouping of interests and hobbies entities",
        },
        "entity": {"id": "847544972781826048", "name": "Careers"},
    },
    {
        "domain": {"id": "123", "name": "Ongoing News Story", "description": "Ongoing News Stories"},
        "entity": {"id": "1220701888179359745", "name": "Indonesia"},
    },
]
_EXPANSIONS = (
    "https://api.twitter.com/2/tweets/search/recent?expansions=author_id%2Cin_reply_to_user_id"
    "%2Creferenced_tweets.id%2Creferenced_tweets.id.author_id%2Centities.mentions.username"
    "%2Cattachments.media_keys&tweet.fields=attachments%2Cauthor_id%2Ccontext_annotations"
    "%2Cconversation_id%2Ccreated_at%2Centities%2Cid%2Cin_reply_to_user_id%2Clang%2Cpublic_metrics"
    "%2Ctext%2Creferenced_tweets%2Creply_settings%2Csource&max_results=100&query=karier"
)


class _PageWriter:
    """Writes realistic twarc2 search pages: 19-digit ids, entities with offsets, includes per page.

    About 30% retweets (original in ``includes.tweets``), 15% replies, 7% quotes; like real search
    pages, the includes (users with profiles, referenced tweets) make up about half of each line.
    """

    def __init__(self, seed: int = 7, n_users: int = 20_000):
        self.rng = random.Random(seed)
        self.next_id = 1_890_000_000_000_000_000
        self.users = [self._user(i) for i in range(n_users)]
        self.famous = self.users[:500]

    def _user(self, i: int) -> dict:
        r = self.rng
        return {
            "id": str(1_200_000_000_000_000_000 + i * 7919),
            "username": f"{r.choice(('warga', 'rina', 'budi', 'news', 'dev', 'sari'))}_{i}",
            "name": f"User {i}",
            "created_at": "2019-06-23T01:30:07.000Z",
            "description": " ".join(r.choices(_WORDS_ID + _WORDS_EN, k=12)),
            "location": r.choice(("Jakarta", "Bandung", "Surabaya", "Medan", "")),
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{i}/a_normal.jpg",
            "protected": False,
            "verified": r.random() < 0.02,
            "url": "",
            "public_metrics": {
                "followers_count": r.randint(0, 90_000),
                "following_count": r.randint(0, 3000),
                "tweet_count": r.randint(1, 90_000),
                "listed_count": r.randint(0, 50),
            },
        }

    def _id(self) -> str:
        self.next_id += self.rng.randint(1_000, 9_000_000)
        return str(self.next_id)

    def _tweet(self, author: dict, when: datetime, reply_to: dict | None = None) -> dict:
        r = self.rng
        words = r.choices(_WORDS_ID if r.random() < 0.6 else _WORDS_EN, k=r.randint(8, 30))
        tags = r.sample(_TAGS, r.randint(0, 2))
        mentioned = ([reply_to] if reply_to else []) + r.sample(self.famous, r.randint(0, 1))
        parts = [f"@{u['username']}" for u in mentioned] + words + [f"#{t}" for t in tags]
        url = None
        if r.random() < 0.35:
            dom = r.choice(_DOMAINS)
            url = {
                "url": f"https://t.co/{r.getrandbits(40):010x}",
                "expanded_url": f"https://{dom}/read/{r.getrandbits(32)}",
                "display_url": f"{dom}/read/…",
            }
            parts.append(url["url"])
        text = " ".join(parts)
        entities: dict = {}
        if tags:
            entities["hashtags"] = [
                {"start": text.index("#" + t), "end": text.index("#" + t) + len(t) + 1, "tag": t}
                for t in tags
            ]
        if mentioned:
            entities["mentions"] = [
                {
                    "start": text.index("@" + u["username"]),
                    "end": text.index("@" + u["username"]) + len(u["username"]) + 1,
                    "username": u["username"],
                    "id": u["id"],
                }
                for u in mentioned
            ]
        if url:
            entities["urls"] = [{"start": text.index(url["url"]), "end": text.index(url["url"]) + 23, **url}]
        tid = self._id()
        tweet = {
            "id": tid,
            "text": text,
            "author_id": author["id"],
            "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": tid,
            "lang": r.choice(("in", "in", "en", "und", "in")),
            "source": r.choice(_SOURCES),
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "edit_history_tweet_ids": [tid],
            "public_metrics": {
                "retweet_count": r.randint(0, 500),
                "reply_count": r.randint(0, 40),
                "like_count": r.randint(0, 2000),
                "quote_count": r.randint(0, 20),
                "bookmark_count": r.randint(0, 30),
                "impression_count": r.randint(0, 90_000),
            },
        }
        if entities:
            tweet["entities"] = entities
        if r.random() < 0.4:
            tweet["context_annotations"] = _CONTEXT[: r.randint(1, 2)]
        if r.random() < 0.1:
            tweet["attachments"] = {"media_keys": [f"3_{self._id()}"]}
        return tweet

    def page(self, size: int, start: datetime) -> dict:
        r = self.rng
        data, inc_tweets, users = [], [], {}
        for i in range(size):
            author = r.choice(self.users)
            users[author["id"]] = author
            when = start + timedelta(seconds=i * 3)
            roll = r.random()
            if roll < 0.30:  # retweet: cut text, the original in includes.tweets
                other = r.choice(self.users)
                users[other["id"]] = other
                orig = self._tweet(other, when - timedelta(hours=2))
                inc_tweets.append(orig)
                t = self._tweet(author, when)
                head = f"RT @{other['username']}: "
                t["text"] = (head + orig["text"])[:140]
                t["entities"] = {
                    "mentions": [
                        {
                            "start": 3,
                            "end": 4 + len(other["username"]),
                            "username": other["username"],
                            "id": other["id"],
                        }
                    ]
                }
                t["referenced_tweets"] = [{"type": "retweeted", "id": orig["id"]}]
                t["public_metrics"]["like_count"] = 0
            elif roll < 0.45:  # reply, parent in includes.tweets
                other = r.choice(self.users)
                users[other["id"]] = other
                parent = self._tweet(other, when - timedelta(minutes=30))
                inc_tweets.append(parent)
                t = self._tweet(author, when, reply_to=other)
                t["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
                t["in_reply_to_user_id"] = other["id"]
                t["conversation_id"] = parent["id"]
            elif roll < 0.52:  # quote
                other = r.choice(self.users)
                users[other["id"]] = other
                quoted = self._tweet(other, when - timedelta(hours=5))
                inc_tweets.append(quoted)
                t = self._tweet(author, when)
                t["referenced_tweets"] = [{"type": "quoted", "id": quoted["id"]}]
            else:
                t = self._tweet(author, when)
            data.append(t)
        ids = [t["id"] for t in data]
        return {
            "data": data[::-1],  # newest first, as the search endpoints return them
            "includes": {"users": list(users.values()), "tweets": inc_tweets},
            "meta": {
                "newest_id": max(ids),
                "oldest_id": min(ids),
                "result_count": len(data),
                "next_token": f"b26v89c19zqg8o3f{r.getrandbits(64):x}",
            },
            "__twarc": {
                "url": _EXPANSIONS,
                "version": "2.14.0",
                "retrieved_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            },
        }


def write_synthetic_pages(path: Path, tweets: int, page_size: int = 100, seed: int = 7) -> int:
    """Write ``tweets`` tweets as twarc2 pages of ``page_size`` to ``path`` (``.gz`` compresses);
    returns the number of tweets written."""
    writer = _PageWriter(seed)
    written = 0
    start = datetime(2026, 2, 1, tzinfo=UTC)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as fh:
        while written < tweets:
            size = min(page_size, tweets - written)
            fh.write(json.dumps(writer.page(size, start)))
            fh.write("\n")
            written += size
            start += timedelta(minutes=7)
    return written


# ------------------------------------------------------------------------------------------------
# Measuring
# ------------------------------------------------------------------------------------------------


class _PeakRss:
    """Samples this process's resident set size while a stage runs (Linux ``/proc/self/statm``)."""

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * self._page
        except OSError:  # not Linux: fall back to the process-wide high-water mark
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakRss:
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def _measure(fn) -> dict:
    with _PeakRss() as rss:
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": rss.peak / 2**20, **(out or {})}


def _reference(path: Path, workdir: Path) -> dict:
    import duckdb

    target = workdir / "reference.parquet"
    con = duckdb.connect(":memory:")
    try:
        escaped = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM read_json('{escaped}')) TO '{target}' (FORMAT parquet)")
    finally:
        con.close()
    size = target.stat().st_size
    target.unlink()
    return {"output_mb": size / 2**20}


def _adapter(path: Path) -> dict:
    from ingest.registry import get
    from ingest.sources import expand

    adapter = get("x_v2")
    posts = quarantined = 0
    skipped: dict[str, int] = {}
    for source in expand(path):
        for chunk in adapter.read(source, {}):
            posts += chunk.posts.num_rows
            quarantined += chunk.quarantine.num_rows
            for k, v in chunk.skipped.items():
                skipped[k] = skipped.get(k, 0) + v
    return {"posts": posts, "quarantined": quarantined, "skipped": skipped}


def _ingest(path: Path, workdir: Path) -> dict:
    from discourse.settings import load_settings
    from ingest.lake import ingest_file

    home = Path(tempfile.mkdtemp(prefix="home-", dir=workdir))
    try:
        settings = load_settings(
            env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "bench-only-key"}
        )
        entries = ingest_file(settings, path, force=True)
        lake_bytes = sum(p.stat().st_size for p in (home / "lake").rglob("*.parquet"))
        return {
            "posts": sum(e["loaded"] for e in entries),
            "quarantined": sum(e["quarantined"] for e in entries),
            "duplicates_within_batch": sum(e["duplicates_within_batch"] for e in entries),
            "output_mb": lake_bytes / 2**20,
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _have_ingest_file() -> bool:
    try:
        from ingest.lake import ingest_file  # noqa: F401
    except ImportError:
        return False
    return True


def _warm_up(workdir: Path) -> None:
    """Import everything and run each stage once on a two-page file, so no stage pays start-up costs."""
    small = workdir / "warm-up.jsonl"
    write_synthetic_pages(small, 200, 100, seed=1)
    _reference(small, workdir)
    _adapter(small)
    if _have_ingest_file():
        _ingest(small, workdir)
    small.unlink()


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.workdir))
    try:
        if args.input:
            path = Path(args.input)
            tweets = None
        else:
            path = workdir / ("pages.jsonl.gz" if args.gzip else "pages.jsonl")
            t0 = time.perf_counter()
            tweets = write_synthetic_pages(path, args.tweets, args.page_size, args.seed)
            print(f"wrote {tweets:,} tweets to {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        size = path.stat().st_size

        _warm_up(workdir)
        plan = {"reference": lambda: _reference(path, workdir), "adapter": lambda: _adapter(path)}
        if not args.no_ingest and _have_ingest_file():
            plan["ingest"] = lambda: _ingest(path, workdir)
        # Rounds run the stages in turn, so a burst of load from elsewhere on the machine hits one
        # round rather than one stage; each stage's fastest round counts.
        runs: dict[str, list[dict]] = {name: [] for name in plan}
        for round_no in range(1, args.repeat + 1):
            for name, fn in plan.items():
                print(f"round {round_no}/{args.repeat}: {name} ...", file=sys.stderr)
                runs[name].append(_measure(fn))
        stages = {name: min(rs, key=lambda r: r["seconds"]) for name, rs in runs.items()}
        for name, rs in runs.items():
            stages[name]["all_seconds"] = [round(r["seconds"], 3) for r in rs]
        if tweets is None:
            tweets = stages["adapter"]["posts"] + stages["adapter"]["quarantined"]

        ref_rate = tweets / stages["reference"]["seconds"]
        for stage in stages.values():
            stage["tweets_per_s"] = tweets / stage["seconds"]
            stage["ratio_vs_reference"] = stage["tweets_per_s"] / ref_rate
        import duckdb

        result = {
            "input": str(path),
            "input_mb": size / 2**20,
            "tweets": tweets,
            "page_size": args.page_size,
            "repeat": args.repeat,
            "target_ratio": 0.5,
            "stages": stages,
            "meets_target": {
                name: stage["ratio_vs_reference"] >= 0.5
                for name, stage in stages.items()
                if name != "reference"
            },
            "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "duckdb": duckdb.__version__,
                "platform": platform.platform(),
            },
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        return result
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _table(result: dict) -> str:
    lines = [
        f"input: {result['input']} ({result['input_mb']:.0f} MB, {result['tweets']:,} tweets)",
        f"{'stage':<10} {'seconds':>8} {'cpu s':>7} {'tweets/s':>10} {'ratio':>6} {'peak RSS MB':>12}",
    ]
    for name, s in result["stages"].items():
        lines.append(
            f"{name:<10} {s['seconds']:>8.2f} {s['cpu_seconds']:>7.2f} {s['tweets_per_s']:>10,.0f} "
            f"{s['ratio_vs_reference']:>6.2f} {s['peak_rss_mb']:>12,.0f}"
        )
    lines.append(
        f"target: ingest ratio >= {result['target_ratio']}; "
        + ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in result["meets_target"].items())
    )
    lines.append(f"process peak RSS (getrusage): {result['process_peak_rss_mb']:,.0f} MB")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Every format, file by file (--all-formats)
# ------------------------------------------------------------------------------------------------

# an X archive's ``window.YTD.tweets.part0 = [...]``: DuckDB reads the JSON after the ``=``
_JS_ASSIGNMENT = re.compile(rb"\A\s*window\.YTD\.[\w.]+\s*=\s*")
_BOM = b"\xef\xbb\xbf"


def export_files(dirs: list[str]) -> list[Path]:
    """The export files of ``dirs``, as an inbox holds them: names starting with ``_`` or ``.``
    (ground truth, partial files) and ``*.meta.json`` sidecars are left out."""
    found = []
    for d in dirs:
        for p in sorted(Path(d).iterdir()):
            if p.is_file() and not p.name.startswith(("_", ".")) and not p.name.endswith(".meta.json"):
                found.append(p)
    return found


def generate_per_format(
    out: Path, posts: int, formats: list[str] | None, seed: int, compress: bool
) -> list[Path]:
    """Exports of each format with about ``posts`` posts of it, one ``synth.generate`` run per format in
    ``out/<format>``. A format that cannot carry the planted campaign is generated beside the first
    campaign fallback (generic), whose files are then deleted."""
    from synth import generate
    from synth.corpus import CAMPAIGN_FALLBACK
    from synth.formats import FORMAT_ALIASES, FORMAT_WEIGHTS, FORMATS

    able = ("x_v2", "telegram_desktop", *CAMPAIGN_FALLBACK)
    files: list[Path] = []
    for fmt in [FORMAT_ALIASES.get(f, f) for f in formats] if formats else FORMATS:
        if fmt not in FORMATS:
            raise SystemExit(f"no generator writer for format {fmt!r}; use --exports")
        partner = None if fmt in able else CAMPAIGN_FALLBACK[0]
        total = posts
        if partner is not None:
            total = round(posts * (FORMAT_WEIGHTS[fmt] + FORMAT_WEIGHTS[partner]) / FORMAT_WEIGHTS[fmt])
        folder = out / fmt
        t0 = time.perf_counter()
        truth = generate(
            folder,
            posts=total,
            seed=seed,
            formats=(fmt,) if partner is None else (fmt, partner),
            compress=compress,
        )
        for name, info in truth["files"].items():
            if info["format"] == fmt:
                files.append(folder / name)
            else:
                (folder / name).unlink()
        print(f"generated {fmt} in {folder} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return sorted(files)


def _detected(path: Path) -> list[tuple[Any, Any]]:
    """``(source, adapter)`` for each recognised source of ``path`` (a zip's members), by detection."""
    from ingest.registry import UnrecognisedFormat, detect
    from ingest.sources import expand

    found = []
    for source in expand(path):
        try:
            found.append((source, detect(source)))
        except UnrecognisedFormat:
            continue
    return found


def _reference_inputs(path: Path, workdir: Path) -> list[dict]:
    """What the reference copies for ``path``: per recognised source, the file DuckDB reads, its reader
    (``read_csv`` for a CSV/TSV, else ``read_json``) and its decompressed size. DuckDB reads plain,
    gzip and zstd files itself; a zip member, or the JSON inside an X archive's JavaScript assignment,
    is written out first (not timed), so the reference does less than the adapter there."""
    inputs = []
    for i, (source, _adapter) in enumerate(_detected(path)):
        with source.open() as fh:
            data = fh.read()
        body = data.removeprefix(_BOM)
        js = _JS_ASSIGNMENT.match(body)
        reader = "read_json" if js or body.lstrip()[:1] in (b"{", b"[") else "read_csv"
        target = path
        if source.member is not None or js:
            if js:
                body = body[js.end() :].rstrip().rstrip(b";")
            name = (
                Path(source.member or path.name).name.replace(".js", ".json")
                if js
                else Path(source.member).name
            )
            target = workdir / f"reference-input-{path.stem}-{i}-{name}"
            target.write_bytes(body if js else data)
        inputs.append({"path": target, "reader": reader, "bytes": len(data)})
        del data, body
    return inputs


def _reference_copy(inputs: list[dict], workdir: Path) -> dict:
    """The bar: ``COPY (SELECT * FROM read_json(file)) TO 'x.parquet'`` (``read_csv`` for CSV) on a
    fresh in-memory DuckDB with default settings. ``ignore_errors`` lets it get past the malformed
    records generated exports plant (the adapters quarantine them); ``maximum_object_size`` lets it
    read a document that is one JSON value (Telegram, a Mastodon outbox, YouTube ``--pretty``)."""
    import duckdb

    con = duckdb.connect(":memory:")
    out_bytes = 0
    try:
        for i, item in enumerate(inputs):
            target = workdir / f"reference-{i}.parquet"
            lit = "'" + str(item["path"]).replace("'", "''") + "'"
            if item["reader"] == "read_csv":
                scan = f"read_csv({lit}, ignore_errors = true)"
            else:
                size = max(16 << 20, item["bytes"] + (1 << 20))
                scan = f"read_json({lit}, ignore_errors = true, maximum_object_size = {size})"
            con.execute(f"COPY (SELECT * FROM {scan}) TO '{target}' (FORMAT parquet)")
            out_bytes += target.stat().st_size
            target.unlink()
    finally:
        con.close()
    return {"output_mb": out_bytes / 2**20}


def _adapter_file(path: Path) -> dict:
    """Every recognised source of ``path`` through its detected adapter's ``read()``, drained."""
    posts = quarantined = 0
    skipped: dict[str, int] = {}
    for source, adapter in _detected(path):
        for chunk in adapter.read(source, {}):
            posts += chunk.posts.num_rows if chunk.posts is not None else 0
            quarantined += chunk.quarantine.num_rows if chunk.quarantine is not None else 0
            for k, v in chunk.skipped.items():
                skipped[k] = skipped.get(k, 0) + v
    return {"posts": posts, "quarantined": quarantined, "skipped": sum(skipped.values())}


def _fastest(runs: list[dict]) -> dict:
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    best["all_cpu_seconds"] = [round(r["cpu_seconds"], 3) for r in runs]
    return best


def _ratios(stages: dict) -> None:
    ref = stages["reference"]
    for stage in stages.values():
        stage["ratio"] = ref["seconds"] / stage["seconds"] if stage["seconds"] else None
        stage["cpu_ratio"] = ref["cpu_seconds"] / stage["cpu_seconds"] if stage["cpu_seconds"] else None


def run_all_formats(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-all-", dir=args.workdir))
    wanted = None
    if args.formats:
        wanted = [f.strip() for f in args.formats.split(",") if f.strip()]
    loadavg_start = os.getloadavg()
    try:
        if args.exports:
            files = export_files(args.exports)
        else:
            files = generate_per_format(
                workdir / "exports", args.posts_per_format, wanted, args.seed, args.compress
            )
        plan = []
        for path in files:
            found = _detected(path)
            names = sorted({adapter.name for _, adapter in found})
            if not names:
                print(f"skipped {path.name}: no adapter recognises it", file=sys.stderr)
                continue
            if wanted and not any(n in wanted or n.split("_")[0] in wanted for n in names):
                continue
            plan.append((path, "+".join(names), _reference_inputs(path, workdir)))

        _warm_up(workdir)
        target_stage = "ingest" if not args.no_ingest and _have_ingest_file() else "adapter"
        rows = []
        for n, (path, fmt, inputs) in enumerate(plan, 1):
            stages_fn = {
                "reference": lambda inputs=inputs: _reference_copy(inputs, workdir),
                "adapter": lambda path=path: _adapter_file(path),
            }
            if target_stage == "ingest":
                stages_fn["ingest"] = lambda path=path: _ingest(path, workdir)
            runs: dict[str, list[dict]] = {name: [] for name in stages_fn}
            for _ in range(args.repeat):
                for name, fn in stages_fn.items():
                    runs[name].append(_measure(fn))
            stages = {name: _fastest(rs) for name, rs in runs.items()}
            _ratios(stages)
            row = {
                "file": path.name,
                "format": fmt,
                "input_mb": path.stat().st_size / 2**20,
                "content_mb": sum(i["bytes"] for i in inputs) / 2**20,
                "stages": stages,
            }
            rows.append(row)
            last = stages[target_stage]
            print(
                f"[{n}/{len(plan)}] {fmt} {path.name}: reference {stages['reference']['seconds']:.2f} s, "
                f"ingest {last['seconds']:.2f} s, ratio {last['ratio']:.2f}",
                file=sys.stderr,
            )

        formats: dict[str, dict] = {}
        for row in rows:
            agg = formats.setdefault(row["format"], {"files": 0, "content_mb": 0.0, "stages": {}})
            agg["files"] += 1
            agg["content_mb"] += row["content_mb"]
            for name, stage in row["stages"].items():
                s = agg["stages"].setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0})
                s["seconds"] += stage["seconds"]
                s["cpu_seconds"] += stage["cpu_seconds"]
        for fmt, agg in formats.items():
            _ratios(agg["stages"])
            agg["min_file_ratio"] = min(
                r["stages"][target_stage]["ratio"] for r in rows if r["format"] == fmt
            )
        import duckdb

        return {
            "mode": "all_formats",
            "exports": args.exports or str(workdir / "exports"),
            "posts_per_format": None if args.exports else args.posts_per_format,
            "repeat": args.repeat,
            "target_ratio": 0.5,
            "target_stage": target_stage,
            "files": rows,
            "formats": formats,
            "meets_target": {
                fmt: agg["stages"][target_stage]["ratio"] >= 0.5 for fmt, agg in formats.items()
            },
            "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "loadavg_start": loadavg_start,
            "loadavg_end": os.getloadavg(),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "duckdb": duckdb.__version__,
                "platform": platform.platform(),
            },
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _all_formats_table(result: dict) -> str:
    stage = result["target_stage"]
    head = (
        f"{'format':<18} {'file':<34} {'MB':>6} {'ref s':>7} {'ref cpu':>7} {'adapt s':>7} "
        f"{stage + ' s':>8} {stage[:6] + ' cpu':>10} {'ratio':>6} {'cpu ratio':>9}"
    )
    lines = [head]
    for row in result["files"]:
        st = row["stages"]
        last = st[stage]
        lines.append(
            f"{row['format']:<18} {row['file'][:34]:<34} {row['content_mb']:>6.1f} "
            f"{st['reference']['seconds']:>7.2f} {st['reference']['cpu_seconds']:>7.2f} "
            f"{st['adapter']['seconds']:>7.2f} {last['seconds']:>8.2f} {last['cpu_seconds']:>10.2f} "
            f"{last['ratio']:>6.2f} {last['cpu_ratio']:>9.2f}"
        )
    lines.append("")
    lines.append(
        f"{'format':<18} {'files':>5} {'MB':>7} {'ref s':>7} {stage + ' s':>8} {'ratio':>6} "
        f"{'cpu ratio':>9} {'min file':>8}  target >= {result['target_ratio']}"
    )
    for fmt, agg in result["formats"].items():
        st = agg["stages"]
        lines.append(
            f"{fmt:<18} {agg['files']:>5} {agg['content_mb']:>7.1f} {st['reference']['seconds']:>7.2f} "
            f"{st[stage]['seconds']:>8.2f} {st[stage]['ratio']:>6.2f} {st[stage]['cpu_ratio']:>9.2f} "
            f"{agg['min_file_ratio']:>8.2f}  {'met' if result['meets_target'][fmt] else 'NOT met'}"
        )
    la, lb = result["loadavg_start"], result["loadavg_end"]
    lines.append(
        f"load average at start {la[0]:.2f}, at end {lb[0]:.2f}; "
        f"process peak RSS {result['process_peak_rss_mb']:,.0f} MB"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tweets", type=int, default=200_000, help="tweets to generate (default 200000)")
    parser.add_argument("--page-size", type=int, default=100, help="tweets per page (default 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gzip", action="store_true", help="write the generated file gzip-compressed")
    parser.add_argument("--input", help="measure this twarc2 JSONL instead of generating one")
    parser.add_argument("--repeat", type=int, default=1, help="runs per stage; the fastest counts")
    parser.add_argument("--no-ingest", action="store_true", help="skip the full ingest_file stage")
    parser.add_argument("--json", help="write the results as JSON to this path")
    parser.add_argument("--workdir", help="where temporary files go (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and work dir")
    every = parser.add_argument_group("every format (--all-formats)")
    every.add_argument(
        "--all-formats",
        action="store_true",
        help="measure every registered format, file by file, instead of X v2 pages",
    )
    every.add_argument(
        "--exports",
        action="append",
        metavar="DIR",
        help="measure the export files in DIR (repeatable) instead of generating them",
    )
    every.add_argument(
        "--posts-per-format", type=int, default=200_000, help="posts generated per format (default 200000)"
    )
    every.add_argument("--formats", help="comma-separated formats to keep (default: every one found)")
    every.add_argument("--compress", action="store_true", help="generate compressed exports")
    args = parser.parse_args(argv)
    if args.tweets <= 0 or args.page_size <= 0 or args.repeat <= 0 or args.posts_per_format <= 0:
        parser.error("--tweets, --page-size, --posts-per-format and --repeat must be positive")
    if args.all_formats:
        result = run_all_formats(args)
        print(_all_formats_table(result))
    else:
        result = run(args)
        print(_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
