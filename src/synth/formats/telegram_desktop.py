"""Telegram Desktop exports of public channels and groups (format ``telegram_desktop``).

``telegram_NNN.json``: one ``result.json`` with a ``chats.list`` of public channels and supergroups,
at most ``telegram_file_cap`` messages a file; compressed runs zip it (``ChatExport_.../result.json``
inside, as Telegram Desktop users share them). Messages carry text as a string or a list of entity
parts, replies, forwards, photos, edits and reactions; ``date`` is written in UTC, like
``date_unixtime``. Chats are spooled to disk per chat while the run streams, then assembled.

Planted: a message without ``date``; service messages (chat creation, joins, pins) are counted as
skipped under ``service:<action>``.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import deque
from pathlib import Path

from synth import textgen as tg
from synth.common import FIRST_NAMES, LAST_NAMES, TWO_DIGITS, Zipf, dumps_compact, mix
from synth.output import FileTruth, Writer

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
        body = dumps_compact(self.pending)[1:-1]
        self.spool.write((b",\n" if self.in_part else b"\n") + body.replace('},{"id"', '},\n{"id"').encode())
        self.in_part += len(self.pending)
        self.pending = []


class TelegramWriter(Writer):
    FORMAT = "telegram_desktop"
    PLATFORM = "telegram"
    RANK = 20
    WEIGHT = 0.1
    ALIASES = ("telegram",)

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(
            max(40, int(g.posts * g.share["telegram_desktop"] / 6)), 0.8
        )  # authors, by Zipf rank
        self.chats = [_Chat(spec, g.out / f"_spool_telegram_{spec[2]}.part") for spec in _TG_CHATS]
        tot = sum(c.weight for c in self.chats)
        acc, self.cum = 0.0, []
        for c in self.chats:
            acc += c.weight / tot
            self.cum.append(acc)
        self.groups = [c for c in self.chats if not c.is_channel]
        self.file_no = 0
        self.ft: FileTruth | None = None
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
            self.ft = FileTruth(f"telegram_{self.file_no:03d}{ext}", "telegram_desktop")
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
            out.copy_from(chat.spool)
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
        return f"{self.g.min_prefix}{TWO_DIGITS[sec]}", str(self.g.min_base_s + sec)

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
        h = mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 7_777_777 + 13)
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        last = LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
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
                    chat, ms, "join_group_by_link", self._user(self.pool.draw(rnd())), inviter="Group"
                )
            elif r < 0.015 and chat.ring:
                self._service(
                    chat, ms, "pin_message", (chat.name, f"channel{chat.id}"), message_id=chat.ring[-1]
                )
            sender = self._user(self.pool.draw(rnd()))
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
        text = "Ada yang tahu info ini benar atau tidak? Mohon dicek dulu sebelum disebar"
        msg = {
            "id": chat.next_id,
            "type": "message",
            "from": self._user(self.pool.draw(0.5))[0],
            "from_id": self._user(self.pool.draw(0.5))[1],
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


WRITER = TelegramWriter
