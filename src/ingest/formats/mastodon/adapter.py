"""Mastodon: the account export's ``outbox.json`` and the REST API's status JSON.

Two shapes arrive, both small by nature (one account's archive, or a set of API pages), so the mapping is
a per-record Python loop building one Arrow table per ``CHUNK_RECORDS`` records:

* **Outbox** (account export): an ActivityPub ``OrderedCollection`` whose ``orderedItems`` are
  activities. ``Create`` wraps a status (``Note``, or ``Question`` for a poll): ``post_id`` is the
  status's ``id`` URI (``https://host/users/u/statuses/<n>``; globally unique, unlike the bare number),
  ``created_at`` its ``published``, ``text`` its HTML ``content``, ``lang_declared`` the key of
  ``contentMap``, ``reply_to_id`` ``inReplyTo``, ``thread_id`` ``conversation``, hashtags and mentions
  from ``tag`` (``Hashtag``/``Mention``), ``media_count`` the length of ``attachment``, ``like_count``
  and ``share_count`` from ``likes.totalItems``/``shares.totalItems`` where the server includes them.
  ``Announce`` is a boost: its ``object`` is only the boosted status's URL, so it becomes a ``repost``
  with ``post_id`` the activity's ``id``, ``repost_of_id`` that URL and an empty ``text`` (the export
  does not carry the boosted words). Other activity types are counted in ``skipped`` as
  ``activity:<type>``; a ``Create`` of something that is not a status as ``object:<type>``.
  A ``Delete`` (its ``object`` the deleted status's ``id`` URI, or a ``Tombstone``/status carrying it)
  and an ``Undo`` of an ``Announce`` (a boost taken back: the boost's ``post_id`` is the ``Announce``'s
  ``id``) are counted there too and passed on as ``AdapterChunk.deletes``: the lake keeps them as
  tombstones and the next run removes those posts (``discourse.forget.apply_deletes``).
  ``source_record`` is the 1-based position in ``orderedItems``. The author is the activity's
  ``actor`` URI (``author_handle`` ``user@host`` from it).
* **REST API statuses**: a JSON array of statuses (``GET /api/v1/accounts/:id/statuses``, timelines,
  search), or JSON lines of such arrays (one page per line), or one status object per line.
  ``post_id`` is the status ``id`` (an instance-local number: the same status seen through two
  instances has two ids); ``created_at`` ``created_at``; ``author_id`` the account's ``uri`` (else
  ``url``), the same actor URI an outbox gives, so pseudonyms agree across both shapes;
  ``author_handle`` ``acct`` with the host added for local accounts. A status with ``reblog`` is a
  ``repost``: ``repost_of_id`` is the boosted status's id and ``text``, hashtags, mentions, links,
  media and language are the boosted status's. ``in_reply_to_id`` makes a ``reply``. Counts are
  ``favourites_count``, ``reblogs_count`` and ``replies_count``. ``source_record`` is the status's
  1-based position in a single array document, else the line number (a file is read as JSON lines
  when its first line is a JSON value on its own, else as one document) (all statuses of one page line
  share it: ``(source_record, post_id)`` identifies a status's origin).

The conversation's accounts, keyed like ``author_id`` (the actor URI) wherever the export gives one:

* outbox: ``mention_targets`` from ``tag`` ``Mention``s (``href``, the actor URI, and ``name``); a
  boost's ``repost_of_author_id`` is the boosted status's ``attributedTo`` when the ``Announce`` embeds
  it (usually it is only a URL: then null). ``inReplyTo`` names a status, not its author: null.
* REST: a reblog's ``repost_of_author_id`` is the boosted status's account (``uri``, else ``url``);
  ``mention_targets`` are the status's own ``mentions`` as handles (``acct``, the host added for a
  local account): the API gives no actor URI for them. ``in_reply_to_account_id`` is an instance-local
  number, so it gives ``reply_to_author_id`` only for a reply to the author's own status.

Common rules:

* ``text`` is the HTML turned into plain text (``ingest.htmltext``, through ``html.html_text``). A
  content warning (``summary`` / ``spoiler_text``) is part of what the author wrote: it comes first,
  then a blank line, then the body.
* ``links`` are the body's non-mention, non-hashtag link targets, plus the preview card's ``url``.
* Only public and unlisted statuses are posts of public discourse: followers-only and direct ones are
  counted as ``visibility:private`` / ``visibility:direct`` (``options["include_private"]=True`` keeps
  them). In the outbox, visibility follows the addressing: the public collection in ``to`` (public) or
  ``cc`` (unlisted); else the actor's followers collection (private); else direct.
* Counts (``likes.totalItems``, ``favourites_count``, ...) are read with the shared count rules
  (``ingest.formats.common.parse_count``).
* A record that is not an object, a status without ``id`` or with an unparseable time, and a line that
  is not JSON are quarantined with the reason. Blank lines are counted as ``blank_line``, pages
  without statuses (``[]``) as ``empty_page``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import pyarrow as pa

from ingest.formats.common import (
    DEFAULT_JSON_DEPTH,
    INVALID_JSON,
    JSONTooDeep,
    dumps,
    gc_paused_iter,
    loads,
    map_safely,
    mention_targets,
    parse_count,
    quarantine_raw,
    strip_bom,
)
from ingest.formats.mastodon.html import html_text
from ingest.registry import Adapter, AdapterChunk, Unit, register
from ingest.schema import ADAPTER_SCHEMA, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import Source

PLATFORM = "mastodon"
CHUNK_RECORDS = 50_000

_PUBLIC = frozenset(("https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"))
_STATUS_TYPES = frozenset(("Note", "Question", "Article", "Page"))
_OUTBOX = re.compile(rb'"type"\s*:\s*"OrderedCollection(?:Page)?"')
_ORDERED_ITEMS = re.compile(rb'"orderedItems"\s*:\s*\[')
_ACTIVITY_CONTEXT = re.compile(rb'"@context"\s*:\s*(?:\[\s*)?"https://www\.w3\.org/ns/activitystreams"')
_REST_KEYS = (
    re.compile(rb'"favourites_count"\s*:'),
    re.compile(rb'"visibility"\s*:\s*"(?:public|unlisted|private|direct)"'),
    re.compile(rb'"account"\s*:\s*\{'),
    re.compile(rb'"content"\s*:\s*"'),
)
_FOREIGN = re.compile(rb'"(?:source_platform|item_id|orderedItems)"\s*:')


@register
class MastodonAdapter(Adapter):
    name = "mastodon"
    platform = PLATFORM
    platforms = (PLATFORM,)
    priority = 40
    description = "Mastodon account export outbox.json (ActivityPub) or REST API status JSON"

    def sniff(self, head: bytes) -> bool:
        text = strip_bom(head).lstrip()
        if text.startswith(b"{") and _OUTBOX.search(text) and _ORDERED_ITEMS.search(text):
            return bool(_ACTIVITY_CONTEXT.search(text))
        if not text.startswith((b"[", b"{")) or _FOREIGN.search(text[:4096]):
            return False
        return all(p.search(text) for p in _REST_KEYS)

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        return _reframe(units, out)

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        yield from gc_paused_iter(_read(source, options or {}))


def _read(source: Source, options: dict[str, Any]) -> Iterator[AdapterChunk]:
    """``read``: the export's records mapped, a chunk at a time."""
    include_private = _truthy(options.get("include_private"))
    with source.open() as fh:
        data = strip_bom(fh.read())
    rows = _Rows(include_private)
    stripped = data.lstrip()
    if stripped.startswith(b"{") and _OUTBOX.search(stripped[:65536]):
        doc = _load_document(data, source.name, source.limits.max_json_depth)
        items = doc.get("orderedItems") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{source.name}: ActivityPub collection without an 'orderedItems' list")
        for i, item in enumerate(items, 1):
            map_safely(_activity_at, rows.reject, i, item, rows)
            if rows.size >= CHUNK_RECORDS:
                yield rows.flush()
        yield rows.flush()
        return
    first_line = stripped.split(b"\n", 1)[0].strip()
    try:
        loads(first_line)
        line_mode = True
    except ValueError:
        line_mode = False
    if not line_mode:
        doc = _load_document(data, source.name, source.limits.max_json_depth)
        statuses = doc if isinstance(doc, list) else [doc]
        for i, status in enumerate(statuses, 1):
            map_safely(_status_at, rows.reject, i, status, rows)
            if rows.size >= CHUNK_RECORDS:
                yield rows.flush()
        yield rows.flush()
        return
    del stripped
    lines = data.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()  # the final line break ends the last line; it does not start a blank one
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            rows.skip("blank_line")
            continue
        try:
            obj = loads(line, source.limits.max_json_depth)
        except UnicodeDecodeError:
            rows.reject(line_no, line.decode("utf-8", "replace"), "invalid UTF-8")
            continue
        except JSONTooDeep as exc:
            rows.reject(line_no, line.decode("utf-8", "replace"), str(exc))
            continue
        except ValueError:
            rows.reject(line_no, line.decode("utf-8", "replace"), INVALID_JSON)
            continue
        if obj == []:
            rows.skip("empty_page")
            continue
        for status in obj if isinstance(obj, list) else [obj]:
            map_safely(_status_at, rows.reject, line_no, status, rows)
        if rows.size >= CHUNK_RECORDS:
            yield rows.flush()
    yield rows.flush()


def _reframe(units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
    """Stored records back as a file: activities as an outbox (position = place in ``orderedItems``),
    statuses as JSON lines of arrays (position = line; the statuses of one page share it)."""
    it = iter(units)
    first = next(it, None)
    if first is None:
        return {}
    obj = loads(first.raws[0])
    outbox = isinstance(obj, dict) and "actor" in obj and obj.get("type") in ("Create", "Announce")
    if outbox:
        out.write(b'{"@context":"https://www.w3.org/ns/activitystreams","type":"OrderedCollection",'
                  b'"orderedItems":[')
    for i, unit in enumerate(itertools.chain([first], it)):
        if outbox:
            if len(unit.raws) != 1:
                raise ValueError(f"mastodon: {len(unit.raws)} activities at one outbox position")
            out.write((b"," if i else b"") + unit.raws[0].encode("utf-8"))
        else:
            out.write(("[" + ",".join(unit.raws) + "]\n").encode("utf-8"))
    if outbox:
        out.write(b"]}")
    return {}


def _load_document(data: bytes, name: str, max_depth: int = DEFAULT_JSON_DEPTH) -> Any:
    try:
        return loads(data.decode("utf-8"), max_depth)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: Mastodon export is not UTF-8 ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{name}: Mastodon export is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc


def _table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """``rows`` (tuples in ``ADAPTER_SCHEMA``'s order) as a table, a column at a time: the same
    table as ``Table.from_pylist`` of the rows as dicts, which looks every value up by name."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(ADAPTER_SCHEMA)
    return pa.Table.from_arrays(
        [pa.array(values, type=field.type) for values, field in zip(columns, ADAPTER_SCHEMA, strict=True)],
        schema=ADAPTER_SCHEMA)


class _Rows:
    """Column lists for one chunk of posts, quarantined records and skip counts."""

    def __init__(self, include_private: bool) -> None:
        self.include_private = include_private
        self._reset()

    def _reset(self) -> None:
        self.posts: list[tuple[Any, ...]] = []  # rows in ADAPTER_SCHEMA's column order (``_row``)
        self.quarantine: list[dict[str, Any]] = []
        self.skipped: dict[str, int] = {}
        self.deletes: list[str] = []
        self.size = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.size += 1

    def reject(self, record: int, raw: Any, error: str) -> None:
        self.quarantine.append({"source_record": record, "raw": quarantine_raw(raw), "error": error})
        self.size += 1

    def add(self, row: tuple[Any, ...]) -> None:
        self.posts.append(row)
        self.size += 1

    def flush(self) -> AdapterChunk:
        chunk = AdapterChunk(
            posts=_table(self.posts),
            quarantine=pa.Table.from_pylist(self.quarantine, schema=QUARANTINE_ADAPTER_SCHEMA),
            skipped=dict(self.skipped),
            deletes=list(self.deletes),
        )
        self._reset()
        return chunk


# ---------------------------------------------------------------------------------------------- outbox


def _deleted_id(item: dict[str, Any]) -> str | None:
    """The ``post_id`` a ``Delete`` activity removes (its object's id URI), or the boost an ``Undo``
    of an ``Announce`` takes back; None for any other activity."""
    obj = item.get("object")
    if item.get("type") == "Delete":
        return _str(obj.get("id")) if isinstance(obj, dict) else _str(obj)
    if item.get("type") == "Undo" and isinstance(obj, dict) and obj.get("type") == "Announce":
        return _str(obj.get("id"))
    return None


def _activity_at(record: int, item: Any, rows: _Rows) -> None:
    _map_activity(rows, item, record)


def _status_at(record: int, status: Any, rows: _Rows) -> None:
    _map_status(rows, status, record)


def _map_activity(rows: _Rows, item: Any, record: int) -> None:
    if not isinstance(item, dict):
        rows.reject(record, item, "activity is not a JSON object")
        return
    atype = item.get("type")
    if atype == "Announce":
        _map_announce(rows, item, record)
        return
    if atype != "Create":
        rows.skip(f"activity:{atype or 'unknown'}")
        deleted = _deleted_id(item)
        if deleted is not None:
            rows.deletes.append(f"{PLATFORM}:{deleted}")
        return
    note = item.get("object")
    if not isinstance(note, dict):
        rows.reject(record, item, "Create activity without an embedded object")
        return
    ntype = note.get("type")
    if ntype not in _STATUS_TYPES:
        rows.skip(f"object:{ntype or 'unknown'}")
        return
    post_id = _str(note.get("id"))
    if post_id is None:
        rows.reject(record, item, "status lacks id")
        return
    created = _parse_time(note.get("published") or item.get("published"))
    if created is None:
        rows.reject(record, item, f"status {post_id} has no parseable 'published' time")
        return
    actor = _str(item.get("actor")) or _str(note.get("attributedTo"))
    visibility = _ap_visibility(note if ("to" in note or "cc" in note) else item, actor)
    if visibility in ("private", "direct") and not rows.include_private:
        rows.skip(f"visibility:{visibility}")
        return
    content_map = note.get("contentMap")
    lang = None
    html = note.get("content")
    if isinstance(content_map, dict) and content_map:
        lang = _str(next(iter(content_map)))
        if not isinstance(html, str):
            html = next(iter(content_map.values()))
    body = html_text(html if isinstance(html, str) else None)
    hashtags: list[str] = []
    mentions: list[str] = []
    targets: list[tuple[Any, Any]] = []
    for tag in _dicts(note.get("tag")):
        name = _str(tag.get("name"))
        if tag.get("type") == "Mention":
            # ``href`` is the mentioned actor's URI: the same id an author_id is
            targets.append((_str(tag.get("href")), name))
        if not name:
            continue
        if tag.get("type") == "Hashtag":
            _append(hashtags, name.removeprefix("#"))
        elif tag.get("type") == "Mention":
            _append(mentions, name.removeprefix("@"))
    reply_to = _str(note.get("inReplyTo"))
    rows.add(
        _row(
            post_id=post_id,
            created=created,
            author_id=actor,
            author_handle=_handle_from_actor(actor),
            text=_with_warning(note.get("summary"), body.text),
            lang=lang,
            kind="reply" if reply_to else "post",
            reply_to_id=reply_to,
            thread_id=_str(note.get("conversation")),
            repost_of_id=None,
            mention_targets=mention_targets(targets),
            url=_str(note.get("url")) or post_id,
            like_count=_total(note.get("likes")),
            share_count=_total(note.get("shares")),
            reply_count=_total(note.get("replies")),
            hashtags=hashtags or body.hashtags,
            mentions=mentions or body.mentions,
            links=body.links,
            media_count=len(_dicts(note.get("attachment"))),
            raw=item,
            record=record,
        )
    )


def _map_announce(rows: _Rows, item: dict[str, Any], record: int) -> None:
    post_id = _str(item.get("id"))
    if post_id is None:
        rows.reject(record, item, "boost (Announce) lacks id")
        return
    created = _parse_time(item.get("published"))
    if created is None:
        rows.reject(record, item, f"boost {post_id} has no parseable 'published' time")
        return
    target = item.get("object")
    boosted_author = None
    if isinstance(target, dict):  # the boosted status embedded: it names its author
        boosted_author = _str(target.get("attributedTo"))
        target = target.get("id")
    target = _str(target)
    if target is None:
        rows.reject(record, item, f"boost {post_id} has no boosted object")
        return
    actor = _str(item.get("actor"))
    visibility = _ap_visibility(item, actor)
    if visibility in ("private", "direct") and not rows.include_private:
        rows.skip(f"visibility:{visibility}")
        return
    rows.add(
        _row(
            post_id=post_id,
            created=created,
            author_id=actor,
            author_handle=_handle_from_actor(actor),
            text="",
            lang=None,
            kind="repost",
            reply_to_id=None,
            thread_id=None,
            repost_of_id=target,
            repost_of_author_id=boosted_author,
            url=None,
            like_count=None,
            share_count=None,
            reply_count=None,
            hashtags=[],
            mentions=[],
            links=[],
            media_count=0,
            raw=item,
            record=record,
        )
    )


def _ap_visibility(obj: dict[str, Any], actor: str | None) -> str:
    to = _as_list(obj.get("to"))
    cc = _as_list(obj.get("cc"))
    if not to and not cc:
        return "public"  # addressing stripped from the export: nothing says it was restricted
    if any(a in _PUBLIC for a in to):
        return "public"
    if any(a in _PUBLIC for a in cc):
        return "unlisted"
    if any(isinstance(a, str) and a.endswith("/followers") for a in to + cc):
        return "private"
    return "direct"


def _handle_from_actor(actor: str | None) -> str | None:
    """``user@host`` from an actor URI (``https://host/users/user`` or ``https://host/@user``)."""
    if not actor:
        return None
    parts = urlsplit(actor)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1].removeprefix("@")
    if not name or not parts.hostname:
        return None
    return f"{name}@{parts.hostname}"


def _total(collection: Any) -> int | None:
    if isinstance(collection, dict):
        return parse_count(collection.get("totalItems"))
    return None


# ------------------------------------------------------------------------------------------- REST API


def _map_status(rows: _Rows, status: Any, record: int) -> None:
    if not isinstance(status, dict):
        rows.reject(record, status, "status is not a JSON object")
        return
    post_id = _str(status.get("id"))
    if post_id is None:
        rows.reject(record, status, "status lacks id")
        return
    created = _parse_time(status.get("created_at"))
    if created is None:
        rows.reject(record, status, f"status {post_id} has no parseable 'created_at'")
        return
    visibility = status.get("visibility")
    if visibility in ("private", "direct") and not rows.include_private:
        rows.skip(f"visibility:{visibility}")
        return
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    reblog = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    shown = reblog if reblog is not None else status
    body = html_text(shown.get("content") if isinstance(shown.get("content"), str) else None)
    hashtags = [n for t in _dicts(shown.get("tags")) if (n := _str(t.get("name")))] or body.hashtags
    mentions = [a for m in _dicts(shown.get("mentions")) if (a := _str(m.get("acct")))] or body.mentions
    links = list(body.links)
    card = shown.get("card")
    if isinstance(card, dict) and (card_url := _str(card.get("url"))):
        _append(links, card_url)
    reply_to = _str(status.get("in_reply_to_id"))
    author_id = _account_id(account)
    # ``in_reply_to_account_id`` is an instance-local number, not the actor URI an author_id is: it
    # names a known account only when the status answers its own author
    reply_account = _str(status.get("in_reply_to_account_id"))
    own_reply = bool(reply_to and reply_account and reply_account == _str(account.get("id")))
    reply_author = author_id if own_reply else None
    # a status's own mentions (a boost has none of its own): the API gives no actor URI for them, so
    # they are handles (``acct``, with the host added for local accounts)
    targets = [(None, _mention_acct(m)) for m in _dicts(status.get("mentions"))]
    if reblog is not None:
        kind = "repost"
    elif reply_to:
        kind = "reply"
    else:
        kind = "post"
    rows.add(
        _row(
            post_id=post_id,
            created=created,
            author_id=author_id,
            author_handle=_acct(account),
            text=_with_warning(shown.get("spoiler_text"), body.text),
            lang=_str(shown.get("language")),
            kind=kind,
            reply_to_id=reply_to,
            thread_id=None,
            repost_of_id=_str(reblog.get("id")) if reblog is not None else None,
            reply_to_author_id=reply_author,
            repost_of_author_id=_account_id(reblog.get("account")) if reblog is not None else None,
            mention_targets=mention_targets(targets),
            url=_str(status.get("url")) or _str(status.get("uri")),
            like_count=parse_count(status.get("favourites_count")),
            share_count=parse_count(status.get("reblogs_count")),
            reply_count=parse_count(status.get("replies_count")),
            hashtags=hashtags,
            mentions=mentions,
            links=links,
            media_count=len(_dicts(shown.get("media_attachments"))),
            raw=status,
            record=record,
        )
    )


def _account_id(account: Any) -> str | None:
    """An account's ``author_id``: its ``uri`` (the actor URI an outbox gives), else ``url``, else ``id``."""
    if not isinstance(account, dict):
        return None
    return _str(account.get("uri")) or _str(account.get("url")) or _str(account.get("id"))


def _mention_acct(mention: dict[str, Any]) -> str | None:
    """A REST mention's ``user@host``: ``acct``, with the host of its ``url`` added for a local account."""
    acct = _str(mention.get("acct")) or _str(mention.get("username"))
    if acct and "@" not in acct:
        host = urlsplit(_str(mention.get("url")) or "").hostname
        if host:
            acct = f"{acct}@{host}"
    return acct


def _acct(account: dict[str, Any]) -> str | None:
    acct = _str(account.get("acct")) or _str(account.get("username"))
    if acct and "@" not in acct:
        host = urlsplit(_str(account.get("url")) or "").hostname
        if host:
            acct = f"{acct}@{host}"
    return acct


# ---------------------------------------------------------------------------------------------- shared


def _row(*, post_id: str, created: datetime, record: int, raw: Any, lang: str | None,
         **cols: Any) -> tuple[Any, ...]:
    """One post, in ``ADAPTER_SCHEMA``'s column order."""
    return (
        f"{PLATFORM}:{post_id}",  # post_uid
        PLATFORM,  # platform
        post_id,
        created,  # created_at
        cols["author_id"],
        cols["author_handle"],
        cols["text"],
        lang,  # lang_declared
        cols["kind"],
        cols["reply_to_id"],
        cols["thread_id"],
        cols["repost_of_id"],
        None,  # quote_of_id
        cols.get("reply_to_author_id"),
        cols.get("repost_of_author_id"),
        None,  # quote_of_author_id
        cols.get("mention_targets") or [],
        cols["url"],
        cols["like_count"],
        cols["share_count"],
        cols["reply_count"],
        None,  # view_count
        cols["hashtags"],
        cols["mentions"],
        cols["links"],
        cols["media_count"],
        dumps(raw),  # raw
        record,  # source_record
    )


def _with_warning(summary: Any, body: str) -> str:
    warning = html_text(summary).text if isinstance(summary, str) and summary.strip() else ""
    if warning and body:
        return f"{warning}\n\n{body}"
    return warning or body


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _str(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _append(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
