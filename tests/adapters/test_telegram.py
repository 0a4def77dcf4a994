"""The Telegram Desktop adapter on hand-written exports: one chat, and the account export's chats.list."""

from __future__ import annotations

import gzip
import json
import zipfile
from functools import partial
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from _helpers import by_id, read_export, utc

from ingest.registry import adapters, detect, get
from ingest.sources import expand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
SINGLE = FIXTURES / "single_chat.json"
FULL = FIXTURES / "full_export.json"

TWARC_PAGE = (
    b'{"data": [{"id": "1765000000000000001", "text": "Halo #dunia", "author_id": "42", '
    b'"created_at": "2024-03-07T01:00:00.000Z"}], "includes": {"users": [{"id": "42", '
    b'"username": "budi_s"}]}, "meta": {"result_count": 1}, "__twarc": {"version": "2.14.0"}}\n'
)


read = partial(read_export, "telegram_desktop")


# ---------------------------------------------------------------------------------------------- sniff


def test_sniff_recognises_both_shapes():
    adapter = get("telegram_desktop")
    assert adapter.sniff(SINGLE.read_bytes())
    assert adapter.sniff(FULL.read_bytes())
    # Minimal shapes, minified, with a BOM.
    assert adapter.sniff(b'\xef\xbb\xbf{"chats":{"about":"x","list":[{"name":"a","messages":[]}]}}')
    assert adapter.sniff(
        b'{"messages": [{"type": "message", "date_unixtime": "1544006350", "from": "A", "text": "hi"}]}'
    )
    assert adapter.sniff(b'{"name": "Grup", "type": "private_group", "id": 12, "messages": [')


def test_sniff_survives_a_truncated_head():
    head = FULL.read_bytes()[:700]  # cut inside the contacts, before "chats"
    assert b'"chats"' not in head
    assert get("telegram_desktop").sniff(head)


def test_sniff_refuses_other_json():
    adapter = get("telegram_desktop")
    assert not adapter.sniff(TWARC_PAGE)
    assert not adapter.sniff(b'{"id": 1, "text": "halo", "created_at": "2024-01-01"}\n')
    assert not adapter.sniff(b"id,text\n1,halo\n")
    assert not adapter.sniff(b'[{"messages": []}]')
    # A chat app's export with a "messages" list that is not Telegram's.
    assert not adapter.sniff(
        b'{"guild": {"id": "1"}, "messages": [{"id": "9", "type": "Default", '
        b'"timestamp": "2024-01-01T00:00:00+00:00", "content": "hi"}]}'
    )


def test_twarc_adapter_does_not_claim_telegram():
    if "x_v2" not in adapters():
        pytest.skip("the X v2 adapter is not registered")
    assert not get("x_v2").sniff(SINGLE.read_bytes())
    assert not get("x_v2").sniff(FULL.read_bytes())


def test_detect_picks_telegram():
    for path in (SINGLE, FULL):
        assert detect(expand(path)[0]).name == "telegram_desktop"


# ------------------------------------------------------------------------------------ single chat


def test_single_chat_counts():
    posts, quarantine, skipped = read(SINGLE)
    doc = json.loads(SINGLE.read_text(encoding="utf-8"))
    assert len(doc["messages"]) == 12
    assert posts.num_rows == 8
    assert skipped == {"service:invite_members": 1, "service:pin_message": 1, "service:join_group_by_link": 1}
    assert quarantine.to_pylist() == [
        {
            "source_record": 8,
            "raw": json.dumps(doc["messages"][7], ensure_ascii=False, separators=(",", ":")),
            "error": "message has no usable 'date_unixtime' or 'date'",
        }
    ]
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == len(doc["messages"])


def test_single_chat_mapping():
    posts, _, _ = read(SINGLE)
    rows = by_id(posts)
    assert sorted(rows, key=lambda k: int(k.split("/")[1])) == [
        f"1700000001/{i}" for i in (2, 3, 4, 5, 6, 10, 11, 12)
    ]
    plain = rows["1700000001/2"]
    assert plain["post_uid"] == "telegram:1700000001/2"
    assert plain["platform"] == "telegram"
    assert plain["created_at"] == utc(2024, 3, 5, 1, 15)  # date_unixtime, 08:15 in Jakarta
    assert plain["author_id"] == "user5550001"
    assert plain["author_handle"] == "Rina Wulandari"
    assert plain["text"] == "Personal branding itu penting banget buat karier, guys."
    assert plain["kind"] == "post"
    assert plain["thread_id"] == "1700000001"
    assert plain["like_count"] == 4
    assert plain["media_count"] == 0
    assert plain["url"] is None  # no public username in the export
    assert plain["source_record"] == 2
    assert json.loads(plain["raw"])["reactions"][0]["emoji"] == "👍"

    parts = rows["1700000001/3"]
    assert parts["text"] == (
        "Recruiter sekarang cek medsos kandidat lho @budi_s! Baca artikel ini atau "
        "karier.example.id/tips #KarierDigital penting!"
    )
    assert parts["hashtags"] == ["KarierDigital"]
    assert parts["mentions"] == ["budi_s"]
    assert parts["links"] == ["https://contoh.co.id/artikel/rekrutmen", "http://karier.example.id/tips"]
    assert parts["like_count"] is None

    reply = rows["1700000001/4"]
    assert reply["kind"] == "reply"
    assert reply["reply_to_id"] == "1700000001/3"

    forward = rows["1700000001/5"]
    assert forward["kind"] == "repost"
    assert forward["text"] == "HOAKS: lowongan kerja BUMN tanpa tes itu informasi palsu. #CekFakta"
    assert forward["hashtags"] == ["CekFakta"]
    assert forward["repost_of_id"] is None

    photo = rows["1700000001/6"]
    assert photo["media_count"] == 1
    assert photo["text"] == "Suasana volunteer day kemarin 🙌 #relawan"
    assert photo["like_count"] == 7  # emoji and custom-emoji reactions

    sticker = rows["1700000001/10"]
    assert sticker["text"] == ""
    assert sticker["media_count"] == 1

    assert rows["1700000001/11"]["mentions"] == ["Pak Menteri"]  # mention_name: the name shown
    # No date_unixtime: the wall-clock ``date`` is read as UTC by default.
    assert rows["1700000001/12"]["created_at"] == utc(2024, 3, 5, 16, 0)


def test_local_date_read_in_the_given_timezone():
    posts, _, _ = read(SINGLE, timezone="Asia/Jakarta")
    rows = by_id(posts)
    assert rows["1700000001/12"]["created_at"] == utc(2024, 3, 5, 9, 0)
    assert rows["1700000001/2"]["created_at"] == utc(2024, 3, 5, 1, 15)  # unixtime wins regardless


def test_url_from_a_public_username():
    posts, _, _ = read(SINGLE, channel_username="@diskusikarier")
    assert by_id(posts)["1700000001/4"]["url"] == "https://t.me/diskusikarier/4"


# ------------------------------------------------------------------------------------- full export


def test_full_export_counts_and_mapping():
    posts, quarantine, skipped = read(FULL)
    assert skipped == {"service:phone_call": 1, "service:create_channel": 1}
    # A message without an id (record 6) gets a stable id derived from its time, author and text.
    assert quarantine.num_rows == 0
    rows = by_id(posts)
    derived = [k for k in rows if k.startswith("1600000002/h")]
    assert len(derived) == 1 and len(derived[0]) == len("1600000002/h") + 16
    assert rows[derived[0]]["text"] == "Pesan tanpa id."
    assert rows[derived[0]]["source_record"] == 6
    rows.pop(derived[0])
    assert sorted(rows) == ["1600000002/2", "1600000002/3", "1600000003/7", "5550020/101"]
    # source_record runs across chats: personal chat (1, 2), channel (3..6), left supergroup (7).
    assert {k: r["source_record"] for k, r in rows.items()} == {
        "5550020/101": 1,
        "1600000002/2": 4,
        "1600000002/3": 5,
        "1600000003/7": 7,
    }
    channel_post = rows["1600000002/2"]
    assert channel_post["author_id"] == "channel1600000002"
    assert channel_post["text"] == "Lowongan data analyst, remote. Detail: klik di sini #lowongan #karier"
    assert channel_post["hashtags"] == ["lowongan", "karier"]
    assert channel_post["links"] == ["https://lowongan.example.id/da-123"]
    assert rows["1600000002/3"]["like_count"] == 16
    assert rows["1600000002/3"]["media_count"] == 1
    left = rows["1600000003/7"]
    assert left["kind"] == "reply"
    assert left["reply_to_id"] == "1600000003/5"
    assert left["links"] == ["https://cekfakta.example.id/123"]
    assert left["created_at"] == utc(2024, 3, 7, 13, 10)


def test_chat_types_filter_counts_the_rest():
    posts, quarantine, skipped = read(FULL, chat_types="public_channel, public_supergroup")
    ids = sorted(by_id(posts))
    assert [i for i in ids if "/h" not in i] == ["1600000002/2", "1600000002/3", "1600000003/7"]
    assert len(ids) == 4  # plus the channel's message without an id
    assert skipped == {"chat_type:personal_chat": 2, "service:create_channel": 1}
    assert quarantine.num_rows == 0
    as_list = read(FULL, chat_types=["public_channel", "public_supergroup"])
    assert as_list[0].equals(posts) and as_list[2] == skipped


def test_compressed_variants_are_identical(tmp_path: Path):
    data = FULL.read_bytes()
    gz = tmp_path / "result.json.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / "result.json.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DataExport_2024-03-10/result.json", data)
    plain = read(FULL)
    for path in (gz, zst, zp):
        src = expand(path)[0]
        assert detect(src).name == "telegram_desktop"
        got = read(path)
        assert got[0].equals(plain[0])
        assert got[1].equals(plain[1])
        assert got[2] == plain[2]


# ----------------------------------------------------------------------------------------- failures


def write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_bad_messages_are_quarantined_not_dropped(tmp_path: Path):
    doc = {
        "name": "Grup Uji",
        "type": "private_group",
        "id": 77,
        "messages": [
            "bukan objek",
            {"id": 2, "type": "poll_result", "date_unixtime": "1709600000", "text": ""},
            {"id": "x", "type": "message", "date_unixtime": "1709600000", "text": "id bukan angka"},
            {"id": 4, "type": "message", "date": "kemarin", "text": "tanggal rusak"},
            {"id": 5, "type": "message", "date_unixtime": "1709600000", "text": "ok", "from": "Rina"},
        ],
    }
    posts, quarantine, skipped = read(write(tmp_path, doc))
    assert skipped == {}
    assert posts.column("post_id").to_pylist() == ["77/5"]
    assert posts.column("author_id").to_pylist() == ["Rina"]  # no from_id: the name stands in
    assert quarantine.to_pylist() == [
        {"source_record": 1, "raw": '"bukan objek"', "error": "message is not a JSON object"},
        {
            "source_record": 2,
            "raw": '{"id":2,"type":"poll_result","date_unixtime":"1709600000","text":""}',
            "error": "unknown message type 'poll_result'",
        },
        {
            "source_record": 3,
            "raw": '{"id":"x","type":"message","date_unixtime":"1709600000","text":"id bukan angka"}',
            "error": "message has no usable 'id'",
        },
        {
            "source_record": 4,
            "raw": '{"id":4,"type":"message","date":"kemarin","text":"tanggal rusak"}',
            "error": "message has no usable 'date_unixtime' or 'date'",
        },
    ]


def test_chat_without_id_uses_bare_message_ids(tmp_path: Path):
    doc = {"messages": [{"id": 9, "type": "message", "date_unixtime": "1709600000", "text": "halo"}]}
    posts, _, _ = read(write(tmp_path, doc))
    assert posts.column("post_uid").to_pylist() == ["telegram:9"]
    assert posts.column("thread_id").to_pylist() == [None]


def test_chunks_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import ingest.formats.telegram.adapter as telegram

    monkeypatch.setattr(telegram, "CHUNK_MESSAGES", 3)
    msgs = [
        {"id": i, "type": "message", "date_unixtime": str(1709600000 + i), "text": f"pesan {i}"}
        for i in range(1, 8)
    ]
    path = write(tmp_path, {"name": "c", "type": "private_group", "id": 5, "messages": msgs})
    chunks = list(get("telegram_desktop").read(expand(path)[0], {}))
    assert [c.posts.num_rows for c in chunks] == [3, 3, 1]
    assert pa.concat_tables([c.posts for c in chunks]).column("source_record").to_pylist() == list(
        range(1, 8)
    )


def test_invalid_json_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "result.json"
    path.write_bytes(SINGLE.read_bytes()[:500])
    with pytest.raises(ValueError, match=r"not valid JSON \(line \d+, column \d+"):
        read(path)


def test_json_without_chats_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="expected a 'messages' list or 'chats.list'"):
        read(write(tmp_path, {"about": "x", "personal_information": {"user_id": 1}}))


def test_unknown_timezone_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        read(SINGLE, timezone="Mars/Olympus")


def test_mention_targets_and_forwarded_author(tmp_path):
    posts = by_id(read(SINGLE)[0])
    # "@budi_s": a handle only; a mention_name part names the user id, in from_id's form
    assert posts["1700000001/3"]["mention_targets"] == [{"id": None, "handle": "budi_s"}]
    assert posts["1700000001/11"]["mention_targets"] == [{"id": "user5550009", "handle": None}]
    assert all(p["reply_to_author_id"] is None and p["quote_of_author_id"] is None for p in posts.values())
    # a forward states its source's id in newer exports (forwarded_from_id); older ones only a name
    forwards = [p for p in posts.values() if p["kind"] == "repost"]
    assert forwards and all(p["repost_of_author_id"] is None for p in forwards)
    chat = {"name": "c", "type": "public_channel", "id": 5, "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1709604000", "from": "A", "from_id": "channel7",
         "forwarded_from": "Kanal B", "forwarded_from_id": "channel9", "text": "x"}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat), encoding="utf-8")
    [fwd] = read(path)[0].to_pylist()
    assert fwd["kind"] == "repost" and fwd["repost_of_author_id"] == "channel9"
