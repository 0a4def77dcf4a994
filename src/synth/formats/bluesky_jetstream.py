"""Bluesky Jetstream captures (format ``bluesky_jetstream``): ``bluesky_jetstream_NNN.jsonl``.

Jetstream events, one a line: post creates (replies, quotes, links, images, richtext facets) among
likes, reposts, follows, blocks, deletes, profile updates, identity and account events, all of which
the adapter counts as skipped by kind; one file per half of the period and at most ``file_cap``
events a file, zstd-compressed (``.zst``) when compressed.

Planted: a truncated event line and a post with ``createdAt: "kemarin sore"``; one event of every
non-post kind, whatever the volume.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime, timedelta

from synth.common import (
    BIOS,
    Zipf,
    campaign_composed,
    dumps_compact,
    hash_str,
    iso_millis,
    iso_utc,
    mix,
    person,
    rand_str,
)
from synth.output import LineFile, Writer

_B32S = "234567abcdefghijklmnopqrstuvwxyz"  # atproto's sortable base32


_SKIP_EVENTS = (
    # (cumulative probability per post, reason)
    (0.45, "collection:app.bsky.feed.like"),
    (0.55, "collection:app.bsky.feed.repost"),
    (0.61, "collection:app.bsky.graph.follow"),
    (0.64, "commit:delete:app.bsky.feed.post"),
    (0.65, "collection:app.bsky.graph.block"),
    (0.665, "commit:update:app.bsky.actor.profile"),
    (0.675, "kind:identity"),
    (0.68, "kind:account"),
)


class BlueskyWriter(Writer):
    FORMAT = "bluesky_jetstream"
    PLATFORM = "bluesky"
    RANK = 70
    WEIGHT = 0.07
    ALIASES = ("bluesky", "jetstream")

    def __init__(self, g):
        self.g = g
        self.pool = Zipf(
            max(40, int(g.posts * g.share["bluesky_jetstream"] / 4)), 0.85
        )  # authors, by Zipf rank
        self.lines = LineFile(
            g,
            "bluesky_jetstream",
            "bluesky_jetstream",
            ".jsonl",
            ("zstd", ".zst"),
            max(1, math.ceil(g.days / 2)),
            g.file_cap,
        )
        self.ring: deque = deque(maxlen=500)  # (uri, cid, root uri, root cid)
        self.planted = 0
        self.clock = 0
        self._dids: dict[int, str] = {}

    def start_day(self, d: int) -> None:
        self.lines.start_day(d)

    def _did(self, idx: int, campaign: bool = False) -> str:
        d = None if campaign else self._dids.get(idx)
        if d is None:
            h = mix(idx * 2 + (1 if campaign else 0) + self.g.seed * 6_666_661 + 11)
            d = "did:plc:" + hash_str(h, _B32S, 24)
            if not campaign and idx < 20_000:
                self._dids[idx] = d
        return d

    def _tid(self, us: int) -> str:
        self.clock = (self.clock + 1) & 1023
        n = (us << 10) | self.clock
        return "".join(_B32S[(n >> (5 * i)) & 31] for i in range(12, -1, -1))

    def _cid(self) -> str:
        return "bafyrei" + rand_str(self.g.rnd, _B32S, 52)

    def _event(self, did: str, us: int, commit: dict | None = None, kind: str = "commit", **extra) -> bytes:
        ev = {"did": did, "time_us": us, "kind": kind}
        if commit is not None:
            ev["commit"] = commit
        ev.update(extra)
        return dumps_compact(ev).encode()

    def _skips(self, us: int) -> None:
        r = self.g.rnd()
        reason = next((reason for cum, reason in _SKIP_EVENTS if r < cum), None)
        if reason is not None:
            self._skip_event(reason, us)

    def _skip_event(self, reason: str, us: int) -> None:
        """One event the adapter counts under ``reason`` (not a post create), a little before ``us``."""
        g = self.g
        rnd = g.rnd
        lw = self.lines
        did = self._did(self.pool.draw(rnd()))
        us -= int(rnd() * 900_000) + 1000
        rev = self._tid(us)
        rkey = self._tid(us - 7)
        created = datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        subject = self.ring[int(len(self.ring) * rnd())] if self.ring else None
        if reason.startswith("kind:"):
            k = reason[5:]
            body = (
                {"did": did, "handle": did[8:16] + ".bsky.social", "seq": us // 1000, "time": created}
                if k == "identity"
                else {"active": True, "did": did, "seq": us // 1000, "time": created}
            )
            line = self._event(did, us, kind=k, **{k: body})
        elif reason.startswith("commit:delete"):
            line = self._event(
                did,
                us,
                {
                    "rev": rev,
                    "operation": "delete",
                    "collection": "app.bsky.feed.post",
                    "rkey": self._tid(us - 86_400_000_000),
                },
            )
        elif reason.startswith("commit:update"):
            rec = {
                "$type": "app.bsky.actor.profile",
                "displayName": person(mix(us))[0],
                "description": BIOS[us % len(BIOS)],
            }
            line = self._event(
                did,
                us,
                {
                    "rev": rev,
                    "operation": "update",
                    "collection": "app.bsky.actor.profile",
                    "rkey": "self",
                    "record": rec,
                    "cid": self._cid(),
                },
            )
        else:
            coll = reason.split(":", 1)[1]
            if coll in ("app.bsky.feed.like", "app.bsky.feed.repost") and subject:
                rec = {"$type": coll, "createdAt": created, "subject": {"cid": subject[1], "uri": subject[0]}}
            else:
                rec = {
                    "$type": coll,
                    "createdAt": created,
                    "subject": self._did(self.pool.draw(rnd())),
                }
                if coll in ("app.bsky.feed.like", "app.bsky.feed.repost"):
                    coll = "app.bsky.graph.follow"
                    rec["$type"] = coll
                    reason = "collection:" + coll
            line = self._event(
                did,
                us,
                {
                    "rev": rev,
                    "operation": "create",
                    "collection": coll,
                    "rkey": rkey,
                    "record": rec,
                    "cid": self._cid(),
                },
            )
        lw.line(line)
        lw.ft.skip(reason)

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool, c=None, did=None):
        g = self.g
        rnd = g.rnd
        lw = self.lines
        lw.ensure()
        us = ms * 1000 + 150_000 + int(rnd() * 1_500_000)
        self._skips(us)
        campaign = c is not None  # the planted campaign posts plain posts
        if c is None:
            c = g.text.compose(theme, lang, sent, rnd() < 0.7, rnd, g.choice, g.ymd, spike)
            did = self._did(self.pool.draw(rnd()))
        front, body, end, tags, link, emoji = c
        pieces: list = []
        for h in front:
            pieces += [("mention", h), ("text", " ")]
        pieces.append(("text", body + (" " + emoji if emoji else "")))
        for h in end:
            pieces += [("text", " "), ("mention", h)]
        for t in tags:
            pieces += [("text", " "), ("tag", t)]
        if link:
            pieces += [("text", " "), ("link", link)]
        out, facets, pos = [], [], 0
        for kind, val in pieces:
            if kind == "mention":
                s = "@" + val.lower().replace("_", "-") + ".bsky.social"
                feat = {
                    "$type": "app.bsky.richtext.facet#mention",
                    "did": self._did(len(val) * 7919 + ord(val[0])),
                }
            elif kind == "tag":
                s = "#" + val
                feat = {"$type": "app.bsky.richtext.facet#tag", "tag": val}
            elif kind == "link":
                s = val if len(val) <= 40 else val.split("://", 1)[1][:35] + "..."
                feat = {"$type": "app.bsky.richtext.facet#link", "uri": val}
            else:
                s, feat = val, None
            b = len(s.encode())
            if feat:
                facets.append({"features": [feat], "index": {"byteStart": pos, "byteEnd": pos + b}})
            out.append(s)
            pos += b
        text = "".join(out)
        created = iso_millis(g, ms)
        if rnd() < 0.05:  # some clients write local time with an offset
            created = (datetime.fromtimestamp(ms / 1000, UTC) + timedelta(hours=7)).strftime(
                "%Y-%m-%dT%H:%M:%S"
            ) + "+07:00"
        rec: dict = {"$type": "app.bsky.feed.post", "createdAt": created}
        r = rnd()
        kind = "post"
        if r < 0.18 and self.ring and not campaign:
            puri, pcid, ruri, rcid = self.ring[len(self.ring) - 1 - int(len(self.ring) * rnd() * rnd())]
            rec["reply"] = {"parent": {"cid": pcid, "uri": puri}, "root": {"cid": rcid, "uri": ruri}}
            kind = "reply"
        if link and rnd() < 0.6:
            rec["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"description": "", "title": link.split("/")[2], "uri": link},
            }
        elif r > 0.95 and self.ring and not campaign:
            quri, qcid = self.ring[int(len(self.ring) * rnd())][:2]
            rec["embed"] = {"$type": "app.bsky.embed.record", "record": {"cid": qcid, "uri": quri}}
            if kind == "post":
                kind = "quote"
        elif rnd() < 0.08:
            rec["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": "",
                        "aspectRatio": {"height": 1350, "width": 1080},
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": self._cid()},
                            "mimeType": "image/jpeg",
                            "size": 200_000 + int(rnd() * 300_000),
                        },
                    }
                ],
            }
        if facets:
            rec["facets"] = facets
        rec["langs"] = (
            ["id"] if lang == "id" else ["en"] if lang == "en" else (["id", "en"], ["en"], [])[int(rnd() * 3)]
        )
        if "reply" in rec:  # Jetstream keeps the record's own key order; clients vary
            rec["reply"] = rec.pop("reply")
        rec["text"] = text
        rkey = self._tid(ms * 1000)
        cid = self._cid()
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        line = self._event(
            did,
            us,
            {
                "rev": self._tid(us),
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "record": rec,
                "cid": cid,
            },
        )
        n = lw.line(line)
        lw.valid(iso_utc(datetime.fromtimestamp(ms // 1000, UTC)))
        root = rec["reply"]["root"] if "reply" in rec else {"uri": uri, "cid": cid}
        self.ring.append((uri, cid, root["uri"], root["cid"]))
        self.last_uid = f"bluesky:{uri}"
        if self.planted == 0 and lw.ft.valid >= 8:
            cut = line[: int(len(line) * 0.6)]
            n = lw.line(cut)
            lw.ft.malformed.append(
                {
                    "kind": "truncated_json",
                    "line": n,
                    "bytes": len(cut),
                    "error_expected": "invalid JSON line",
                }
            )
            bad = dict(rec, createdAt="kemarin sore")
            bkey = self._tid(ms * 1000 + 1)
            n = lw.line(
                self._event(
                    did,
                    us + 1,
                    {
                        "rev": self._tid(us + 1),
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": bkey,
                        "record": bad,
                        "cid": self._cid(),
                    },
                )
            )
            for _cum, reason in _SKIP_EVENTS:  # one of every kind of event, whatever the volume
                self._skip_event(reason, us + 2000)
            lw.ft.malformed.append(
                {
                    "kind": "bad_created_at",
                    "line": n,
                    "value": "kemarin sore",
                    "error_expected": "unparseable createdAt",
                }
            )
            self.planted = 1
        return kind, theme, lang, sent

    def campaign(self, ms: int, account: int, text: str, url: str):
        did = self._did(account, campaign=True)
        self.post(ms, 4, "id", "negative", False, c=campaign_composed(text, url), did=did)
        return self.last_uid, {"platform": "bluesky", "author_id": did, "username": did}

    def finish(self) -> None:
        self.lines.finish()


WRITER = BlueskyWriter
