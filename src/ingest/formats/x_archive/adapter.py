"""X (Twitter) account archive: ``data/tweets.js`` (and ``tweets-part1.js``, ...) from "Download an archive".

Each file is a JavaScript assignment ``window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]`` (older
archives: ``window.YTD.tweet.part0`` in ``tweet.js``; items may also be bare tweet objects). The tweets
are API v1.1-shaped: ``id_str``, ``full_text``, ``created_at`` ("Fri Feb 20 09:10:58 +0000 2026"),
``favorite_count``/``retweet_count`` as strings, ``entities``/``extended_entities``, ``lang``,
``in_reply_to_status_id_str``. An archive is one account's posts, small by nature, so the mapping is a
per-tweet Python loop filling column lists.

Mapping:

* The tweets carry no author: they are the account owner's. ``account.js`` (``accountId``,
  ``username``) is read for ``author_id`` and ``author_handle``: the member next to the tweets in the
  archive zip, or the file next to a plain ``tweets.js`` of an extracted archive. Otherwise
  ``options["account"]`` gives them: ``"<accountId>"``, ``"<accountId>:<username>"``, or a dict with
  ``accountId``/``username``. Without either (a lone ``tweets.js``), the file's tweets get one stable
  pseudonymous author, ``archive-file:<first 16 hex of the file's SHA-256>``, and the manifest notes it.
* ``text`` is ``full_text`` with ``&amp;``/``&lt;``/``&gt;`` unescaped. A ``full_text`` starting with
  ``"RT @user: "`` is a retweet: ``kind`` ``repost`` (the archive keeps only the cut text and no id
  of the original, so ``repost_of_id`` is null). Else a reply (``in_reply_to_status_id_str``) is
  ``reply`` with ``reply_to_id``; else a tweet linking a tweet permalink (``x.com``/``twitter.com``
  ``/<user>/status/<id>``, which is how the archive records a quote) is ``quote`` with that id as
  ``quote_of_id``; else ``post``.
* ``thread_id``: the archive has no ``conversation_id``; a post's own id for non-replies, null for
  replies (the thread root is unknown).
* ``links`` are the url entities' ``expanded_url`` (never the ``t.co`` url; an entity without one is
  left out). ``hashtags`` and ``mentions`` (screen names) from ``entities``; ``mention_targets`` from
  ``entities.user_mentions`` (``id_str`` and ``screen_name``). ``reply_to_author_id`` is a reply's
  ``in_reply_to_user_id_str``; the archive states no reposted or quoted author. ``media_count`` counts
  ``extended_entities.media`` (else ``entities.media``).
* ``like_count`` = ``favorite_count``, ``share_count`` = ``retweet_count`` (strings or numbers, read
  with the shared count rules of ``ingest.formats.common``);
  ``lang_declared`` is ``lang`` except ``und``, ``zxx`` and X's ``q..`` codes.
* ``url`` is ``https://x.com/<username>/status/<id>``, or ``https://x.com/i/web/status/<id>`` when the
  account is unknown.

``source_record`` is the 1-based position of the item in the file's array. An item that is not an
object, lacks ``id_str``/``id`` or a parseable ``created_at`` is quarantined with its position and the
reason; a file cut off mid-write loads the complete items and quarantines the rest as one record.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from ingest.formats.common import (
    dumps,
    gc_paused_iter,
    loads,
    map_safely,
    mention_targets,
    parse_count,
    quarantine_raw,
    strip_bom_text,
)
from ingest.registry import (
    Adapter,
    AdapterChunk,
    Unit,
    context_table,
    describe_content,
    first_context,
    register,
)
from ingest.schema import ADAPTER_SCHEMA, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import HEAD_BYTES, Source

PLATFORM = "x"
# ``window.YTD.tweets.part0 = [`` (``tweet`` in older archives); not deleted-tweets, likes, etc.
_HEADER = re.compile(r"^\s*window\.YTD\.(tweets?)\.part(\d+)\s*=\s*(?=\[)")
# The author id given to the tweets of an archive file whose account is unknown.
FILE_AUTHOR_PREFIX = "archive-file:"
_ACCOUNT_HEADER = re.compile(r"^\s*window\.YTD\.account\.part\d+\s*=\s*")
_RT = re.compile(r"^RT @([A-Za-z0-9_]{1,15}): ")
_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[A-Za-z0-9_]{1,15}/status(?:es)?/(\d+)"
)
_NO_LANG = re.compile(r"^(?:und|zxx|q[a-z]{2})$")
_DIGITS = re.compile(r"^\d+$")
_X_TIME = "%a %b %d %H:%M:%S %z %Y"
# The form every archive writes ("Fri Feb 20 09:10:58 +0000 2026"), read without ``strptime`` (a tenth of
# its cost); anything else goes through ``strptime``, which accepts this form too and reads it the same.
_X_TIME_UTC = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{2}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) \+0000 ([0-9]{4})"
)
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


@register
class XArchiveAdapter(Adapter):
    """The tweets of an X account archive (``tweets.js``, ``tweets-partN.js``, or the archive zip)."""

    name = "x_archive"
    platform = PLATFORM
    platforms = (PLATFORM,)
    priority = 30
    description = "X account archive tweets.js (window.YTD.tweets.partN = [...]), alone or in the archive zip"

    def sniff(self, head: bytes) -> bool:
        return bool(_HEADER.match(strip_bom_text(head.decode("utf-8", "replace"))))

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        yield from gc_paused_iter(self._read(source, options or {}))

    def _read(self, source: Source, options: dict[str, Any]) -> Iterator[AdapterChunk]:
        """``read``: the file's items mapped (one chunk)."""
        with source.open() as fh:
            data = fh.read()
        try:
            text = strip_bom_text(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(f"{source.name}: X archive file is not UTF-8 ({exc})") from exc
        m = _HEADER.match(text)
        if not m:
            raise ValueError(
                f"{source.name}: not an X archive tweets file (expected 'window.YTD.tweets.partN = [': "
                f"{describe_content(data[:HEAD_BYTES], len(data))})"
            )
        account_id, username = _account(source, options)
        notes = []
        if not account_id and not username:
            # A lone tweets.js (shared without its account.js): the tweets are still one account's.
            # Give them one stable author for this file, derived from its content (pseudonymised like
            # any author id in the lake), so they load with an author key and the batch passes its gate.
            account_id = FILE_AUTHOR_PREFIX + hashlib.sha256(data).hexdigest()[:16]
            notes.append(
                "no account.js beside tweets.js and no --account: the tweets got one stable "
                f"pseudonymous author for this file ({FILE_AUTHOR_PREFIX}<content hash>); pass "
                "--account ID[:username] to use the real account"
            )
        cols = _Columns()
        for position, item, error in _items(text, m.end()):
            if error is not None:
                cols.reject(position, item, error)
            else:
                map_safely(_item_at, cols.reject, position, item, cols)
        chunk = cols.chunk(account_id, username)
        chunk.notes = notes
        if account_id or username:
            # the archive's account: the tweets need it to be mapped again (remap)
            chunk.context = context_table([(0, {"account": {"accountId": account_id, "username": username}})])
        yield chunk

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        """Stored items back as a ``tweets.js``; the account travels as the ``account`` option."""
        units, ctx = first_context(units)
        out.write(b"window.YTD.tweets.part0 = [")
        first = True
        for unit in units:
            for raw in unit.raws:
                out.write((b"" if first else b",\n") + raw.encode("utf-8"))
                first = False
        out.write(b"]\n")
        account = ctx.get("account") or {}
        return {"account": {k: v for k, v in account.items() if v}} if any(account.values()) else {}


def _items(text: str, start: int) -> Iterator[tuple[int, Any, str | None]]:
    """``(position, item, error)`` for each item of the array at ``text[start]``, decoded one by one."""
    decoder = json.JSONDecoder()
    i = start + 1  # after '['
    n = len(text)
    position = 0

    def skip_ws(k: int) -> int:
        while k < n and text[k] in " \t\r\n":
            k += 1
        return k

    i = skip_ws(i)
    if i < n and text[i] == "]":
        return
    while True:
        i = skip_ws(i)
        position += 1
        try:
            item, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            yield position, text[i:], f"invalid JSON at item {position} (cut off or malformed: {exc.msg})"
            return
        except RecursionError:
            yield position, text[i:], f"JSON nested too deep at item {position} (the rest is not read)"
            return
        yield position, item, None
        i = skip_ws(end)
        if i < n and text[i] == ",":
            i += 1
            continue
        if i < n and text[i] == "]":
            rest = text[i + 1 :].strip().rstrip(";").strip()
            if rest:
                yield position + 1, rest, "unexpected content after the tweets array"
            return
        yield position + 1, text[i:], "invalid JSON after item (missing ',' or ']': cut off?)"
        return


def _account(source: Source, options: dict[str, Any]) -> tuple[str | None, str | None]:
    """The archive owner's ``(accountId, username)``: from ``account.js`` beside the member, else options."""
    if source.member and source.compression == "zip":
        folder = PurePosixPath(source.member).parent
        with zipfile.ZipFile(source.path) as zf:
            names = set(zf.namelist())
            for candidate in (str(folder / "account.js"), "data/account.js", "account.js"):
                if candidate in names:
                    found = _parse_account(zf.read(candidate))
                    if found != (None, None):
                        return found
    elif source.compression == "none":
        sibling = source.path.parent / "account.js"  # an extracted archive
        if sibling.is_file():
            found = _parse_account(sibling.read_bytes())
            if found != (None, None):
                return found
    opt = options.get("account")
    if isinstance(opt, dict):
        aid, user = opt.get("accountId"), opt.get("username")
        return (str(aid) if aid is not None else None), (str(user).lstrip("@") if user else None)
    if isinstance(opt, str | int) and str(opt).strip():
        aid, _, user = str(opt).strip().partition(":")
        return aid or None, user.lstrip("@") or None
    return None, None


def _parse_account(data: bytes) -> tuple[str | None, str | None]:
    text = strip_bom_text(data.decode("utf-8", "replace"))
    m = _ACCOUNT_HEADER.match(text)
    if not m:
        return None, None
    try:
        doc = loads(text[m.end() :].strip().rstrip(";"))
    except ValueError:
        return None, None
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        acc = item.get("account") if isinstance(item, dict) else None
        if isinstance(acc, dict):
            aid = acc.get("accountId")
            user = acc.get("username")
            return (str(aid) if aid else None), (str(user) if user else None)
    return None, None


class _Columns:
    """A file's mapped tweets, one tuple each (``_ROW``; the columns that are the same for every tweet
    are added when the chunk is built), and its quarantined items."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.quarantine: dict[str, list[Any]] = {f.name: [] for f in QUARANTINE_ADAPTER_SCHEMA}

    def reject(self, position: int, raw: Any, error: str) -> None:
        self.quarantine["source_record"].append(position)
        self.quarantine["raw"].append(quarantine_raw(raw))
        self.quarantine["error"].append(error)

    def chunk(self, account_id: str | None, username: str | None) -> AdapterChunk:
        n = len(self.rows)
        if n:
            cols = dict(zip(_ROW, map(list, zip(*self.rows, strict=True)), strict=True))
        else:
            cols = {name: [] for name in _ROW}
        fields = {f.name: f.type for f in ADAPTER_SCHEMA}
        post_id = pa.array(cols["post_id"], fields["post_id"])
        reply_to = pa.array(cols["reply_to_id"], fields["reply_to_id"])
        url_prefix = f"https://x.com/{username}/status/" if username else "https://x.com/i/web/status/"
        columns = {
            "post_uid": pc.binary_join_element_wise(f"{PLATFORM}:", post_id, ""),
            "platform": pa.nulls(n, pa.string()).fill_null(PLATFORM),
            "post_id": post_id,
            "author_id": pa.nulls(n, pa.string()).fill_null(account_id) if account_id is not None else None,
            "author_handle": pa.nulls(n, pa.string()).fill_null(username) if username is not None else None,
            "reply_to_id": reply_to,
            "thread_id": pc.if_else(pc.is_null(reply_to), post_id, pa.scalar(None, pa.string())),
            "url": pc.binary_join_element_wise(url_prefix, post_id, ""),
        }
        arrays = []
        for f in ADAPTER_SCHEMA:
            col = columns.get(f.name)
            if col is None:
                col = pa.array(cols[f.name], f.type) if f.name in cols else pa.nulls(n, f.type)
            arrays.append(col)
        return AdapterChunk(
            posts=pa.Table.from_arrays(arrays, schema=ADAPTER_SCHEMA),
            quarantine=pa.Table.from_pydict(self.quarantine, schema=QUARANTINE_ADAPTER_SCHEMA),
            skipped={},
        )


# What ``_map_item`` gives of a tweet, in this order; the other columns of ``ADAPTER_SCHEMA`` are built
# from these and the account (or are null) in ``_Columns.chunk``.
_ROW = (
    "post_id", "created_at", "text", "lang_declared", "kind", "reply_to_id", "quote_of_id",
    "reply_to_author_id", "mention_targets", "like_count", "share_count", "hashtags", "mentions",
    "links", "media_count", "raw", "source_record",
)


def _item_at(position: int, item: Any, cols: _Columns) -> None:
    _map_item(cols, position, item)


def _map_item(cols: _Columns, position: int, item: Any) -> None:
    """One archive item: its tweet's ``_ROW`` tuple appended to ``cols.rows`` (only once the whole row is
    built, so a tweet that fails half-way leaves nothing behind), or the item quarantined."""
    tweet = item.get("tweet", item) if isinstance(item, dict) else None
    if not isinstance(tweet, dict):
        cols.reject(position, item, "archive item is not a tweet object")
        return
    tid = _id(tweet.get("id_str")) or _id(tweet.get("id"))
    if tid is None:
        cols.reject(position, item, "tweet lacks id_str")
        return
    created = tweet.get("created_at")
    try:
        created_at = _x_time(created) if isinstance(created, str) else None
    except ValueError:
        created_at = None
    if created_at is None:
        cols.reject(position, item, f"tweet {tid} has no parseable created_at: {created!r}")
        return

    full_text = tweet.get("full_text") if isinstance(tweet.get("full_text"), str) else tweet.get("text")
    text = None
    if isinstance(full_text, str):
        text = html.unescape(full_text) if "&" in full_text else full_text
    entities = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
    ext = tweet.get("extended_entities") if isinstance(tweet.get("extended_entities"), dict) else {}
    urls = entities.get("urls")
    links = _unique(u.get("expanded_url") for u in _dicts(urls)) if urls else []
    reply_to = _id(tweet.get("in_reply_to_status_id_str")) or _id(tweet.get("in_reply_to_status_id"))
    quote_of = None
    for u in links:
        qm = _STATUS_URL.match(u)
        if qm and qm.group(1) != tid:
            quote_of = qm.group(1)
            break
    if text is not None and text.startswith("RT @") and _RT.match(text):
        kind = "repost"
    elif reply_to is not None:
        kind = "reply"
    elif quote_of is not None:
        kind = "quote"
    else:
        kind = "post"
    lang = tweet.get("lang")
    media = ext.get("media") if isinstance(ext.get("media"), list) else entities.get("media")
    user_mentions = _dicts(entities.get("user_mentions"))
    hashtags = entities.get("hashtags")
    reply_author = None
    if reply_to:
        reply_author = _id(tweet.get("in_reply_to_user_id_str")) or _id(tweet.get("in_reply_to_user_id"))
    cols.rows.append((
        tid,
        created_at,
        text,
        lang if isinstance(lang, str) and lang and not _NO_LANG.match(lang) else None,
        kind,
        reply_to,
        quote_of if kind == "quote" else None,
        reply_author,
        mention_targets(
            (_id(m.get("id_str")) or _id(m.get("id")), m.get("screen_name")) for m in user_mentions
        ) if user_mentions else [],
        parse_count(tweet.get("favorite_count")),
        parse_count(tweet.get("retweet_count")),
        _unique(h.get("text") for h in _dicts(hashtags)) if hashtags else [],
        _unique(m.get("screen_name") for m in user_mentions) if user_mentions else [],
        links,
        len(media) if isinstance(media, list) else 0,
        dumps(tweet),
        position,
    ))


def _x_time(text: str) -> datetime:
    """``created_at`` in UTC; ``ValueError`` when it is not a time in ``_X_TIME``."""
    m = _X_TIME_UTC.fullmatch(text)
    if m is None:
        return datetime.strptime(text, _X_TIME).astimezone(UTC)
    mon, day, hour, minute, second, year = m.groups()
    return datetime(int(year), _MONTHS[mon], int(day), int(hour), int(minute), int(second), tzinfo=UTC)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _unique(values: Any) -> list[str]:
    out: list[str] = []
    for v in values:
        if isinstance(v, str) and v and v not in out:
            out.append(v)
    return out


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return value.strip()
    return None
