"""Mastodon exports (format ``mastodon``), gzipped when compressed.

- ``mastodon_outbox_NNN.json``: one busy account's ActivityPub ``outbox.json`` (``Create`` → ``Note``
  with HTML ``content``, ``Announce`` boosts whose object is a URL, followers-only statuses), its
  items spooled to disk while the run goes (``totalItems`` comes first);
- ``mastodon_statuses_NNN.jsonl``: REST API timeline pages of public statuses, one JSON array of up to
  40 statuses a line, with reblogs; one file per half of the period and at most ``file_cap`` pages.

Planted: a status without ``created_at`` (REST) and one without ``published`` (outbox); skipped: an
empty page, a direct message and followers-only statuses.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, date, datetime
from html import escape

from synth.common import (
    ACCOUNT_DAYS,
    BIOS,
    CACHE_BIG,
    CAMPAIGN_PREFIXES,
    Zipf,
    campaign_composed,
    day_offset,
    dumps,
    iso_millis,
    iso_utc,
    mix,
    person,
)
from synth.output import FileTruth, LineFile, Writer

_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


_HOSTS = ("mastodon.social", "kopi.social", "nusantara.social", "mstdn.web.id")


def _html(c, host: str) -> tuple[str, list, list]:
    """Mastodon's HTML for a composed post, plus its mentions and tags (REST shapes)."""
    front, body, end, tags, link, emoji = c
    mentions, rtags = [], []

    def mention(h: str) -> str:
        url = f"https://{host}/@{h}"
        mentions.append(
            {"id": str(109_000_000_000_000_000 + len(h) * 1_000_003), "username": h, "url": url, "acct": h}
        )
        return (
            f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
            f"@<span>{h}</span></a></span>"
        )

    parts = [mention(h) + " " for h in front]
    paras = escape(body + (" " + emoji if emoji else ""), quote=False).split(". ", 1)
    text = paras[0] + (
        ".</p><p>" + paras[1]
        if len(paras) > 1 and len(paras[1]) > 40
        else (". " + paras[1] if len(paras) > 1 else "")
    )
    parts.append(text)
    for h in end:
        parts.append(" " + mention(h))
    for t in tags:
        url = f"https://{host}/tags/{t.lower()}"
        rtags.append({"name": t.lower(), "url": url})
        parts.append(f' <a href="{url}" class="mention hashtag" rel="tag">#<span>{t}</span></a>')
    if link:
        scheme, _, rest = link.partition("://")
        shown, hidden = rest[:30], rest[30:]
        parts.append(
            f' <a href="{escape(link)}" target="_blank" rel="nofollow noopener" translate="no">'
            f'<span class="invisible">{scheme}://</span><span class="{"ellipsis" if hidden else ""}">'
            f'{escape(shown)}</span><span class="invisible">{escape(hidden)}</span></a>'
        )
    return "<p>" + "".join(parts) + "</p>", mentions, rtags


class MastodonWriter(Writer):
    FORMAT = "mastodon"
    PLATFORM = "mastodon"
    RANK = 60
    WEIGHT = 0.06

    PAGE = 40

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(max(40, int(g.posts * g.share["mastodon"] / 5)), 0.85)  # authors, by Zipf rank
        share = g.share.get("mastodon", 0)
        self.n_outbox = max(1, min(6, round(g.posts * share / 2500)))
        self.lines = LineFile(
            g,
            "mastodon_statuses",
            "mastodon",
            ".jsonl",
            ("gzip", ".gz"),
            max(1, math.ceil(g.days / 2)),
            g.file_cap,
        )
        self.lines.on_close = self._flush_close
        self.page: list[dict] = []
        self.page_n = 0
        self.outboxes: dict[int, dict] = {}
        self.spools: list = []
        self.ring: deque = deque(maxlen=400)  # (status dict, theme, lang, sent)
        self.seq = 0
        self.planted_rest = False
        self.planted_outbox = False
        self._acc: dict[int, dict] = {}

    def start_day(self, d: int) -> None:
        if self.page and d // self.lines.group_days != self.lines.group:
            self._flush()
        self.lines.start_day(d)

    def _id(self, ms: int) -> str:
        self.seq += 1
        return str((ms << 16) | (self.seq & 0xFFFF))

    def _account(self, idx: int, campaign: bool = False) -> dict:
        a = None if campaign else self._acc.get(idx)
        if a is None:
            h = mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 2_222_221 + 5)
            name, stem = person(h)
            user = stem.replace(".", "_") + (str(idx) if idx >= 50 or campaign else "")
            if campaign:
                user = f"{CAMPAIGN_PREFIXES[idx % len(CAMPAIGN_PREFIXES)]}{idx}"
            host = _HOSTS[(h >> 24) % len(_HOSTS)]
            # the REST pages come from mastodon.social's timelines: remote accounts' acct carries the host
            day = day_offset(date(2018, 1, 1)) + (h >> 28) % (8 * 365)
            followers = int(math.exp(((h >> 32) % 1000) / 1000 * 8))
            a = {
                "id": str(100_000_000_000_000_000 + (h >> 8) % 10**16),
                "username": user,
                "acct": user if host == _HOSTS[0] else f"{user}@{host}",
                "display_name": name,
                "locked": False,
                "bot": False,
                "discoverable": True,
                "group": False,
                "created_at": f"{ACCOUNT_DAYS[day]}T00:00:00.000Z",
                "note": "<p>" + escape(BIOS[(h >> 12) % len(BIOS)]) + "</p>",
                "url": f"https://{host}/@{user}",
                "uri": f"https://{host}/users/{user}",
                "avatar": f"https://{host}/system/accounts/avatars/{h % 10**9:09d}/original/a.png",
                "followers_count": followers,
                "following_count": (h >> 40) % 900 + 10,
                "statuses_count": (h >> 20) % 5000 + 20,
                "emojis": [],
                "fields": [],
            }
            if not campaign and idx < CACHE_BIG:
                self._acc[idx] = a
        return a

    # ---- REST pages
    def _status(self, ms: int, acc: dict, c, lang: str, vis: str = "public") -> dict:
        g = self.g
        rnd = g.rnd
        host = acc["url"].split("/")[2]
        sid = self._id(ms)
        content, mentions, tags = _html(c, host)
        like = int(math.exp(g.rng.gauss(0.5, 1.2)))
        st = {
            "id": sid,
            "created_at": iso_millis(g, ms),
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": vis,
            "language": {"id": "id", "en": "en"}.get(lang, "id" if rnd() < 0.6 else None),
            "uri": f"{acc['uri']}/statuses/{sid}",
            "url": f"{acc['url']}/{sid}",
            "replies_count": int(like * rnd() * 0.3),
            "reblogs_count": int(like * rnd() * 0.4),
            "favourites_count": like,
            "edited_at": None,
            "content": content,
            "reblog": None,
            "account": acc,
            "media_attachments": [],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if rnd() < 0.07:
            mid = str(int(sid) + 7)
            st["media_attachments"] = [
                {
                    "id": mid,
                    "type": "image",
                    "url": f"{acc['url'].rsplit('/', 1)[0]}/system/media_attachments/"
                    f"files/{mid[:3]}/{mid[3:6]}/{mid[6:9]}/original/{mid[-8:]}.jpg",
                    "preview_url": None,
                    "remote_url": None,
                    "description": None,
                    "meta": {"original": {"width": 1080, "height": 1350}},
                }
            ]
        if c[4] and rnd() < 0.5:
            st["card"] = {
                "url": c[4],
                "title": c[4].split("/")[2],
                "description": "",
                "type": "link",
                "image": None,
            }
        return st

    def _push(self, st: dict, stamp: str | None) -> None:
        lw = self.lines
        lw.ensure()
        self.page.append(st)
        if stamp:
            self.page_n += 1
            lw.ft.first = lw.ft.first or stamp
            lw.ft.last = stamp
        if len(self.page) >= self.PAGE:
            self._flush()

    def _flush(self) -> None:
        lw = self.lines
        if not self.page:
            return
        page = self.page[::-1]  # timelines list the newest status first
        lw.line(dumps(page).encode())
        lw.ft.valid += self.page_n
        for m in lw.ft.malformed:
            if m.get("line") is None:
                m["line"] = lw.ft.records
        self.page, self.page_n = [], 0
        lw.ft.extra["pages"] = lw.ft.extra.get("pages", 0) + 1
        if not self.planted_rest and lw.ft.extra["pages"] == 1:
            self._plant_rest()

    def _flush_close(self, lw: LineFile) -> None:
        self._flush()
        if not self.planted_rest:
            self._plant_rest()

    def _plant_rest(self) -> None:
        lw = self.lines
        lw.line(b"[]")
        lw.ft.skip("empty_page")
        lw.ft.extra["pages"] = lw.ft.extra.get("pages", 0) + 1
        self.planted_rest = True

    def _rest_post(self, ms, theme, lang, sent, spike, acc, c=None):
        g = self.g
        rnd = g.rnd
        stamp = iso_utc(datetime.fromtimestamp(ms // 1000, UTC))
        r = rnd()
        if c is None and r < 0.08 and self.ring:
            orig, theme, lang, sent = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())]
            sid = self._id(ms)
            st = dict(orig)
            st.update(
                {
                    "id": sid,
                    "created_at": iso_millis(g, ms),
                    "in_reply_to_id": None,
                    "in_reply_to_account_id": None,
                    "uri": f"{acc['uri']}/statuses/{sid}/activity",
                    "url": f"{acc['url']}/{sid}",
                    "content": "",
                    "reblog": orig,
                    "account": acc,
                    "mentions": [],
                    "tags": [],
                    "card": None,
                    "language": None,
                    "replies_count": 0,
                    "reblogs_count": 0,
                    "favourites_count": 0,
                }
            )
            self._push(st, stamp)
            return "repost", theme, lang, sent
        kind = "post"
        planted_text = c is not None
        if c is None:
            c = g.text.compose(theme, lang, sent, rnd() < 0.6, rnd, g.choice, g.ymd, spike)
        st = self._status(ms, acc, c, lang)
        if not planted_text and r < 0.22 and self.ring:
            parent = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())][0]
            st["in_reply_to_id"] = parent["id"]
            st["in_reply_to_account_id"] = parent["account"]["id"]
            kind = "reply"
        elif rnd() < 0.05:
            st["visibility"] = "unlisted"
        if rnd() < 0.03:
            st["spoiler_text"] = "cw: " + ("politik", "kesehatan mental", "berita")[int(rnd() * 3)]
        self._push(st, stamp)
        if not self.planted_rest and self.page_n == 5:
            self._plant_status_faults(ms, acc)
        self.ring.append((st, theme, lang, sent))
        return kind, theme, lang, sent

    def _plant_status_faults(self, ms: int, acc: dict) -> None:
        g = self.g
        c = ((), "Ada yang punya info lowongan relawan minggu ini?", (), (), None, "")
        bad = self._status(ms, acc, c, "id")
        bad["created_at"] = None
        self.page.append(bad)
        self.lines.ft.malformed.append(
            {
                "kind": "missing_created_at",
                "line": None,
                "status_id": bad["id"],
                "error_expected": "status without a parseable created_at",
            }
        )
        dm = self._status(ms, acc, ((), "Halo, nomor WA kamu masih yang lama?", (), (), None, ""), "id")
        dm["visibility"] = "direct"
        self.page.append(dm)
        self.lines.ft.skip("visibility:direct")
        del g

    # ---- outbox
    def _outbox(self, i: int) -> dict:
        o = self.outboxes.get(i)
        if o is None:
            g = self.g
            name = f"mastodon_outbox_{i + 1:03d}.json" + (".gz" if g.compress else "")
            ft = FileTruth(name, "mastodon")
            g.register_file(ft)
            # the items are spooled: totalItems, which the export writes before them, is known at the end
            spool_path = g.out / f"_spool_mastodon_{i + 1:03d}.part"
            spool = open(spool_path, "w+b", buffering=1 << 20)  # noqa: SIM115 - closed in finish/cleanup
            self.spools.append((spool, spool_path))
            o = self.outboxes[i] = {"out": spool, "ft": ft, "acc": self._account(i), "n": 0, "name": name}
        return o

    def _item(self, o: dict, item: dict) -> int:
        o["out"].write((",\n" if o["n"] else "\n").encode() + dumps(item).encode())
        o["n"] += 1
        o["ft"].records += 1
        return o["n"]

    def _outbox_post(self, ms, theme, lang, sent, spike, i):
        g = self.g
        rnd = g.rnd
        o = self._outbox(i)
        acc, ft = o["acc"], o["ft"]
        actor = acc["uri"]
        stamp = iso_utc(datetime.fromtimestamp(ms // 1000, UTC))
        published = iso_millis(g, ms)[:19] + "Z"
        sid = self._id(ms)
        r = rnd()
        followers = f"{actor}/followers"
        if r < 0.1 and self.ring:
            orig, theme, lang, sent = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())]
            self._item(
                o,
                {
                    "id": f"{actor}/statuses/{sid}/activity",
                    "type": "Announce",
                    "actor": actor,
                    "published": published,
                    "to": [_PUBLIC],
                    "cc": [orig["account"]["uri"], followers],
                    "object": orig["uri"],
                },
            )
            kind = "repost"
        else:
            c = g.text.compose(theme, lang, sent, rnd() < 0.6, rnd, g.choice, g.ymd, spike)
            host = actor.split("/")[2]
            content, mentions, tags = _html(c, host)
            note_id = f"{actor}/statuses/{sid}"
            tag = [{"type": "Mention", "href": m["url"], "name": f"@{m['acct']}@{host}"} for m in mentions]
            tag += [{"type": "Hashtag", "href": t["url"], "name": "#" + t["name"]} for t in tags]
            reply_to = None
            if r < 0.25 and self.ring:
                reply_to = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd())][0]["uri"]
            code = "id" if lang == "id" else "en" if lang == "en" else ("id", "en")[int(rnd() * 2)]
            note = {
                "id": note_id,
                "type": "Note",
                "summary": None,
                "inReplyTo": reply_to,
                "published": published,
                "url": f"https://{host}/@{acc['username']}/{sid}",
                "attributedTo": actor,
                "to": [_PUBLIC],
                "cc": [followers],
                "sensitive": False,
                "atomUri": note_id,
                "inReplyToAtomUri": reply_to,
                "conversation": f"tag:{host},{g.start.isoformat()}:objectId={sid}:objectType=Conversation",
                "content": content,
                "contentMap": {code: content},
                "attachment": [],
                "tag": tag,
                "replies": {
                    "id": f"{note_id}/replies",
                    "type": "Collection",
                    "first": {
                        "type": "CollectionPage",
                        "next": f"{note_id}/replies?only_other_accounts=true&page=true",
                        "partOf": f"{note_id}/replies",
                        "items": [],
                    },
                },
                "likes": {
                    "id": f"{note_id}/likes",
                    "type": "Collection",
                    "totalItems": int(math.exp(g.rng.gauss(0.5, 1.1))),
                },
                "shares": {"id": f"{note_id}/shares", "type": "Collection", "totalItems": int(rnd() * 4)},
            }
            if rnd() < 0.04:  # followers-only: not public discourse, the adapter counts and skips it
                note["to"], note["cc"] = [followers], []
                self._item(
                    o,
                    {
                        "id": f"{note_id}/activity",
                        "type": "Create",
                        "actor": actor,
                        "published": published,
                        "to": [followers],
                        "cc": [],
                        "object": note,
                    },
                )
                ft.skip("visibility:private")
                note["to"], note["cc"] = [_PUBLIC], [followers]
                note = dict(note, id=f"{actor}/statuses/{self._id(ms)}")
            self._item(
                o,
                {
                    "id": f"{note['id']}/activity",
                    "type": "Create",
                    "actor": actor,
                    "published": published,
                    "to": [_PUBLIC],
                    "cc": [followers],
                    "object": note,
                },
            )
            kind = "reply" if reply_to else "post"
            if not self.planted_outbox and o["n"] >= 4:
                bad = dict(note, id=f"{actor}/statuses/{self._id(ms)}")
                del bad["published"]
                n = self._item(
                    o,
                    {
                        "id": f"{bad['id']}/activity",
                        "type": "Create",
                        "actor": actor,
                        "to": [_PUBLIC],
                        "cc": [followers],
                        "object": bad,
                    },
                )
                ft.malformed.append(
                    {
                        "kind": "missing_published",
                        "record": n,
                        "status_id": bad["id"],
                        "error_expected": "status without a parseable published time",
                    }
                )
                self.planted_outbox = True
        ft.valid += 1
        ft.first = ft.first or stamp
        ft.last = stamp
        return kind, theme, lang, sent

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool):
        g = self.g
        idx = self.pool.draw(g.rnd())
        if idx < self.n_outbox:
            return self._outbox_post(ms, theme, lang, sent, spike, idx)
        return self._rest_post(ms, theme, lang, sent, spike, self._account(idx))

    def campaign(self, ms: int, account: int, text: str, url: str):
        acc = self._account(account, campaign=True)
        self._rest_post(ms, 4, "id", "negative", False, acc, c=campaign_composed(text, url))
        st = self.ring[-1][0]
        return f"mastodon:{st['id']}", {
            "platform": "mastodon",
            "author_id": acc["uri"],
            "username": acc["acct"],
        }

    def finish(self) -> None:
        self.lines.finish()
        g = self.g
        for i in sorted(self.outboxes):
            o = self.outboxes[i]
            out = g.open_output(g.out / o["name"], "gzip" if g.compress else "none")
            head = {
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": "outbox.json",
                "type": "OrderedCollection",
                "totalItems": o["n"],
            }
            out.write(dumps(head)[:-1].encode() + b', "orderedItems": [')
            o["out"].flush()
            o["out"].seek(0)
            out.copy_from(o["out"])
            out.write(b"\n]}\n")
            out.close()
        self.cleanup()

    def cleanup(self) -> None:
        for spool, path in self.spools:
            try:
                spool.close()
            finally:
                path.unlink(missing_ok=True)
        self.spools = []


WRITER = MastodonWriter
