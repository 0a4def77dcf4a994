"""Telegram Desktop chat export (``result.json``).

Two shapes arrive: a single chat exported from its window (``{name, type, id, messages[]}``) and the
account-wide export (``{about, personal_information, ..., chats: {list: [...]}, left_chats: {list: [...]}}``).
Both are one JSON document, small by nature (one account's chats), so the mapping is a per-message
Python loop that fills column lists and builds one Arrow table per ``CHUNK_MESSAGES`` messages.

Mapping decisions (README-worthy):

- ``post_id`` is ``"<chat id>/<message id>"`` because message ids are only unique within a chat; when the
  export carries no chat id it is the bare message id. ``thread_id`` is the chat id.
- ``created_at`` comes from ``date_unixtime`` (epoch seconds, UTC). Older exports only have ``date``, a
  wall-clock time in the exporting machine's zone: it is read in ``options["timezone"]`` (an IANA name,
  default ``UTC``).
- ``text`` joins the parts of a formatted message in order; ``hashtags`` and ``mentions`` (without ``#``
  and ``@``) and ``links`` (``href`` of ``text_link`` parts, the text of ``link`` parts, ``http://``
  prefixed when the export shows a bare domain) come from those parts.
- ``kind``: ``reply`` when ``reply_to_message_id`` is set, else ``repost`` when ``forwarded_from`` is set
  (the forwarded text is kept), else ``post``.
- ``mention_targets``: a ``mention`` part (``@username``) by its handle, a ``mention_name`` part by
  ``user<user_id>`` (the form ``from_id``, the ``author_id``, takes). A forward's
  ``repost_of_author_id`` is ``forwarded_from_id`` where the export has it (newer exports); a reply's
  target author is not stated (only the replied-to message id).
- ``url`` is ``https://t.me/<username>/<id>`` only when the chat has a public username (a ``username``
  key on the chat, or ``options["channel_username"]`` for a single-chat file); otherwise null.
- ``like_count`` is the sum of reaction counts (read with the shared count rules of
  ``ingest.formats.common``) when the message has ``reactions``; ``media_count`` counts ``photo`` and
  ``file`` attachments.
- Service messages (joins, pins, ...) are not posts: they are counted in ``skipped`` as
  ``service:<action>``. ``options["chat_types"]`` (e.g. ``["public_channel", "public_supergroup"]``)
  restricts which chats are read; messages of other chats are counted as ``chat_type:<type>``.
- A message without a usable date, or that is not an object, is quarantined with the reason. A
  message whose id is present but unusable is quarantined; one without an id (trimmed exports) gets
  ``h<16 hex>``: a SHA-256 of its time, author and text, so a re-export maps to the same post.
- ``source_record`` is the 1-based running index of the message across the file (chats in export
  order, ``chats.list`` before ``left_chats.list``), counting every message including service ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from ingest.formats.common import (
    dumps,
    gc_paused_iter,
    loads,
    map_safely,
    mention_targets,
    parse_count,
    quarantine_raw,
    strip_bom,
)
from ingest.formats.telegram.options import CHAT_TYPES, parse_chat_types
from ingest.registry import Adapter, AdapterChunk, Unit, context_table, register
from ingest.schema import ADAPTER_SCHEMA, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import Source

CHUNK_MESSAGES = 50_000
PLATFORM = "telegram"

_MESSAGES_KEY = re.compile(rb'"messages"\s*:\s*\[')
_CHATS_LIST = re.compile(rb'"chats"\s*:\s*\{\s*(?:"about"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*)?"list"\s*:\s*\[')
_PERSONAL_INFO = re.compile(rb'^\{\s*"about"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*"personal_information"\s*:\s*\{')
_MSG_TYPE = re.compile(rb'"type"\s*:\s*"(?:message|service)"')
_MSG_UNIXTIME = re.compile(rb'"date_unixtime"\s*:\s*"\d+"')
_MSG_DATE = re.compile(rb'"date"\s*:\s*"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"')
_CHAT_TYPE = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in CHAT_TYPES) + rb')"')
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_PEER_ID = re.compile(r"^(?:user|channel|chat|group)?(-?\d+)$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@register
class TelegramDesktopAdapter(Adapter):
    name = "telegram_desktop"
    platform = PLATFORM
    platforms = (PLATFORM,)
    priority = 50
    description = "Telegram Desktop result.json: one chat, or the account export's chats.list"

    def sniff(self, head: bytes) -> bool:
        text = strip_bom(head).lstrip()
        if not text.startswith(b"{"):
            return False
        if _CHATS_LIST.search(text) or _PERSONAL_INFO.match(text):
            return True
        found = _MESSAGES_KEY.search(text)
        if not found:
            return False
        # A single chat: Telegram's chat keys before the list, or Telegram-shaped messages in it.
        before, after = text[: found.start()], text[found.end() :]
        if _CHAT_TYPE.search(before):
            return True
        return bool(_MSG_TYPE.search(after) and (_MSG_UNIXTIME.search(after) or _MSG_DATE.search(after)))

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        options = options or {}
        with source.open() as fh:
            data = fh.read()
        try:
            doc = loads(strip_bom(data).decode("utf-8"), source.limits.max_json_depth)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{source.name}: Telegram export is not UTF-8 ({exc})") from exc
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{source.name}: Telegram export is not valid JSON "
                f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        del data
        yield from gc_paused_iter(_map_document(doc, options, source.name))

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        """Stored messages back as an account-wide export: each chat (its stored context) with its
        messages, in order, so the running message index numbers them 1..n."""
        out.write(b'{"chats":{"list":[')
        chat_at: int | None = -1
        first_chat = True
        for unit in units:
            if unit.context_record != chat_at:
                if chat_at != -1:
                    out.write(b"]}")
                chat = loads(unit.context) if unit.context else {}
                chat["messages"] = []
                head = json.dumps(chat, ensure_ascii=False, separators=(",", ":"))
                # the chat object up to and including the "[" of its empty message list
                out.write((b"" if first_chat else b",") + head[:-2].encode("utf-8"))
                chat_at, first_chat, first_msg = unit.context_record, False, True
            for raw in unit.raws:
                out.write((b"" if first_msg else b",") + raw.encode("utf-8"))
                first_msg = False
        if chat_at != -1:
            out.write(b"]}")
        out.write(b"]}}")
        return {}


def _chats(doc: Any, source_name: str) -> list[Any]:
    """The chat objects of either export shape, in export order."""
    if not isinstance(doc, dict):
        raise ValueError(f"{source_name}: Telegram export must be a JSON object, got {type(doc).__name__}")
    if isinstance(doc.get("messages"), list):
        return [doc]
    chats: list[Any] = []
    found = False
    for key in ("chats", "left_chats"):
        section = doc.get(key)
        if isinstance(section, dict) and isinstance(section.get("list"), list):
            chats.extend(section["list"])
            found = True
    if not found:
        raise ValueError(
            f"{source_name}: not a Telegram Desktop export: expected a 'messages' list or 'chats.list' "
            f"(top-level keys: {', '.join(list(doc)[:12])})"
        )
    return chats


_POST_COLUMNS = tuple(f.name for f in ADAPTER_SCHEMA)


class _Columns:
    """One chunk of posts (a tuple per post, in ``ADAPTER_SCHEMA``'s column order), quarantined records,
    skip counts and chat contexts."""

    def __init__(self) -> None:
        self.posts: list[tuple[Any, ...]] = []
        self.quarantine: dict[str, list[Any]] = {f.name: [] for f in QUARANTINE_ADAPTER_SCHEMA}
        self.skipped: dict[str, int] = {}
        self.context: list[tuple[int, dict[str, Any]]] = []
        self.size = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.size += 1

    def reject(self, record: int, raw: Any, error: str) -> None:
        q = self.quarantine
        q["source_record"].append(record)
        q["raw"].append(quarantine_raw(dumps(raw)))
        q["error"].append(error)
        self.size += 1

    def chunk(self) -> AdapterChunk:
        columns = zip(*self.posts, strict=True) if self.posts else ([] for _ in _POST_COLUMNS)
        return AdapterChunk(
            posts=pa.Table.from_pydict(dict(zip(_POST_COLUMNS, columns, strict=True)), schema=ADAPTER_SCHEMA),
            quarantine=pa.Table.from_pydict(self.quarantine, schema=QUARANTINE_ADAPTER_SCHEMA),
            skipped=dict(self.skipped),
            context=context_table(self.context) if self.context else None,
        )


def _map_document(doc: Any, options: dict[str, Any], source_name: str) -> Iterator[AdapterChunk]:
    tz = _timezone(options.get("timezone"))
    wanted_types = options.get("chat_types")
    if isinstance(wanted_types, str):  # "public_channel,public_supergroup"
        wanted_types = parse_chat_types(wanted_types)
    wanted = set(wanted_types) if wanted_types else None
    chats = _chats(doc, source_name)
    single_username = options.get("channel_username") if len(chats) == 1 else None

    cols = _Columns()
    record = 0
    emitted = False
    for chat in chats:
        if not isinstance(chat, dict) or not isinstance(chat.get("messages"), list):
            # A chat entry we cannot read: keep it whole, numbered after the last message seen.
            cols.reject(record, chat, "chat entry has no 'messages' list")
            continue
        chat_type = chat.get("type")
        chat_id = _id_str(chat.get("id"))
        username = _username(chat.get("username") or single_username)
        skip_reason = f"chat_type:{chat_type}" if wanted is not None and chat_type not in wanted else None
        if chat["messages"] and not skip_reason:
            # the chat without its messages: what its messages need to be mapped again (remap)
            cols.context.append((record + 1, {k: v for k, v in chat.items() if k != "messages"}))
        for msg in chat["messages"]:
            record += 1
            if skip_reason:
                cols.skip(skip_reason)
            else:
                map_safely(_message_at, cols.reject, record, msg, cols, chat_id, username, tz)
            if cols.size >= CHUNK_MESSAGES:
                yield cols.chunk()
                emitted = True
                cols = _Columns()
    if cols.size or not emitted:
        yield cols.chunk()


def _message_at(
    record: int, msg: Any, cols: _Columns, chat_id: str | None, username: str | None, tz: tzinfo
) -> None:
    _map_message(cols, msg, record, chat_id, username, tz)


def _map_message(
    cols: _Columns, msg: Any, record: int, chat_id: str | None, username: str | None, tz: tzinfo
) -> None:
    if not isinstance(msg, dict):
        cols.reject(record, msg, "message is not a JSON object")
        return
    mtype = msg.get("type", "message")
    if mtype == "service":
        cols.skip(f"service:{msg.get('action') or 'unknown'}")
        return
    if mtype != "message":
        cols.reject(record, msg, f"unknown message type {mtype!r}")
        return
    created = _created_us(msg, tz)
    if created is None:
        cols.reject(record, msg, "message has no usable 'date_unixtime' or 'date'")
        return
    msg_id = _id_str(msg.get("id"))
    if msg_id is None and "id" in msg:
        cols.reject(record, msg, "message has no usable 'id'")
        return
    if msg_id is None:
        # Trimmed exports (and some tools' re-exports) drop message ids: derive a stable one from
        # what identifies the message, so re-exports of the same chat map to the same post.
        basis = json.dumps([created, msg.get("from_id") or msg.get("from"), msg.get("text")],
                           ensure_ascii=False, sort_keys=True, default=str)
        msg_id = "h" + hashlib.sha256(basis.encode()).hexdigest()[:16]

    text, hashtags, mentions, links, targets = _text_parts(msg.get("text"))
    post_id = f"{chat_id}/{msg_id}" if chat_id else msg_id
    reply_to = _id_str(msg.get("reply_to_message_id"))
    reply_chat = chat_id
    peer = msg.get("reply_to_peer_id")
    if peer is not None:
        m = _PEER_ID.match(str(peer))
        reply_chat = m.group(1) if m else reply_chat
    if reply_to is not None:
        kind = "reply"
    elif "forwarded_from" in msg:
        kind = "repost"
    else:
        kind = "post"
    author_name = msg.get("from")
    author_id = msg.get("from_id")
    reactions = msg.get("reactions")
    like_count = None
    if isinstance(reactions, list):
        like_count = sum(parse_count(r.get("count")) or 0 for r in reactions if isinstance(r, dict))

    # one tuple, appended once everything in it is computed: a record that fails half-way leaves nothing
    cols.posts.append((
        f"{PLATFORM}:{post_id}",
        PLATFORM,
        post_id,
        created,
        str(author_id) if author_id is not None else _str_or_none(author_name),
        _str_or_none(author_name),
        text,
        None,
        kind,
        (f"{reply_chat}/{reply_to}" if reply_chat else reply_to) if reply_to is not None else None,
        chat_id,
        None,
        None,
        None,  # reply_to_author_id: the export names the replied-to message, not its sender
        _str_or_none(msg.get("forwarded_from_id")) if kind == "repost" else None,
        None,
        targets,
        f"https://t.me/{username}/{msg_id}" if username else None,
        like_count,
        None,
        None,
        None,
        hashtags,
        mentions,
        links,
        int(bool(msg.get("photo"))) + int(bool(msg.get("file"))),
        dumps(msg),
        record,
    ))
    cols.size += 1


def _text_parts(value: Any) -> tuple[str, list[str], list[str], list[str], list[dict[str, str | None]]]:
    """Plain text plus hashtags, mentions, links and mention targets from Telegram's string-or-parts
    ``text``. A ``mention`` part (``@username``) is a handle-only target; a ``mention_name`` part (a
    user without a username, shown by name) is the target ``user<user_id>``, the form ``from_id``
    takes, so it keys like that user's own posts."""
    if value is None:
        return "", [], [], [], []
    if isinstance(value, str):
        return value, [], [], [], []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return str(value), [], [], [], []
    out: list[str] = []
    hashtags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    targets: list[tuple[Any, Any]] = []
    for part in value:
        if isinstance(part, str):
            out.append(part)
            continue
        if not isinstance(part, dict):
            continue
        ptext = part.get("text")
        ptext = ptext if isinstance(ptext, str) else ""
        out.append(ptext)
        ptype = part.get("type")
        if ptype == "hashtag":
            tag = ptext.lstrip("#")
            if tag:
                hashtags.append(tag)
        elif ptype in ("mention", "mention_name"):
            who = ptext.lstrip("@")
            if who:
                mentions.append(who)
            if ptype == "mention":
                targets.append((None, who))
            elif (uid := _id_str(part.get("user_id"))) is not None:
                targets.append((f"user{uid}", None))
        elif ptype == "text_link":
            href = part.get("href")
            if isinstance(href, str) and href:
                links.append(href)
        elif ptype == "link" and ptext:
            links.append(ptext if _URL_SCHEME.match(ptext) else f"http://{ptext}")
    return "".join(out), hashtags, mentions, links, mention_targets(targets)


def _created_us(msg: dict[str, Any], tz: tzinfo) -> int | None:
    """``created_at`` as epoch microseconds (UTC), from ``date_unixtime`` or else the local ``date``."""
    unix = msg.get("date_unixtime")
    seconds = _int(unix)
    if seconds is not None:
        return seconds * 1_000_000
    date = msg.get("date")
    if isinstance(date, str) and date:
        try:
            local = datetime.fromisoformat(date)
        except ValueError:
            return None
        if local.tzinfo is None:
            local = local.replace(tzinfo=tz)
        return (local - _EPOCH) // _MICROSECOND
    return None


def _timezone(name: Any) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"option 'timezone': unknown time zone {name!r} (use an IANA name)") from exc


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.strip()
        if digits.isdecimal():  # what ``^\d+$`` matches: Unicode decimal digits, which ``int`` reads
            return int(digits)
    return None


def _id_str(value: Any) -> str | None:
    n = _int(value)
    return str(n) if n is not None else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _username(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip().lstrip("@")
    return name or None
