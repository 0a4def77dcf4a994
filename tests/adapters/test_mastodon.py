"""The Mastodon adapter on hand-written exports: outbox.json, a REST status array, and JSON lines of pages."""

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

from ingest.htmltext import html_to_text
from ingest.lake import ingest_file, read_manifests
from ingest.registry import detect, get
from ingest.sources import expand

ALL_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURES = ALL_FIXTURES / "mastodon"
OUTBOX = FIXTURES / "outbox.json"
STATUSES = FIXTURES / "statuses.json"
PAGES = FIXTURES / "statuses_pages.jsonl"
ME = "https://kolektif.example.id/users/rina"


read = partial(read_export, "mastodon")


# ------------------------------------------------------------------------------------------- HTML text


def test_html_paragraphs_breaks_links_and_entities():
    got = html_to_text(
        '<p>Halo &amp; selamat <a href="https://x.example/tags/Karier" class="mention hashtag" rel="tag">'
        '#<span>Karier</span></a> <span class="h-card" translate="no"><a href="https://m.example/@budi" '
        'class="u-url mention">@<span>budi</span></a></span></p><p>Baca: '
        '<a href="https://contoh.co.id/a/b-2026" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>'
        '<span class="ellipsis">contoh.co.id/a/</span><span class="invisible">b-2026</span></a><br>'
        "baris dua&#39;s &quot;kutipan&quot; &lt;3</p>"
    )
    assert got.text == (
        "Halo & selamat #Karier @budi\n\nBaca: https://contoh.co.id/a/b-2026\nbaris dua's \"kutipan\" <3"
    )
    assert got.links == ["https://contoh.co.id/a/b-2026"]
    assert got.hashtags == ["Karier"]
    assert got.mentions == ["budi"]


def test_html_whitespace_lists_and_empty():
    assert html_to_text(None).text == ""
    assert html_to_text("").text == ""
    assert html_to_text("plain   text\nwithout tags").text == "plain text without tags"
    assert html_to_text("<p>  a \n  b  </p>\n<p></p><p>c<br/>  d</p>").text == "a b\n\nc\nd"
    listed = html_to_text("<p>Daftar:</p><ul><li>satu</li><li>dua</li></ul>").text
    assert listed == "Daftar:\n\n- satu\n\n- dua"
    assert html_to_text("<p>x</p><pre>kode  \n  indentasi</pre>").text == "x\n\nkode  \n  indentasi"
    assert html_to_text('<p>no tags &amp;amp; left <b>bold</b> <img src="x.png" alt="x"></p>').text == (
        "no tags &amp; left bold"
    )


# ---------------------------------------------------------------------------------------------- sniff


def _fixture_heads() -> list[tuple[Path, bytes]]:
    out = []
    for path in sorted(ALL_FIXTURES.rglob("*")):
        if path.is_file() and path.suffix not in (".md", ".txt"):
            for source in expand(path):
                out.append((path, source.head()))
    return out


def test_sniff_claims_only_mastodon_fixtures():
    adapter = get("mastodon")
    heads = _fixture_heads()
    assert len(heads) >= 10
    for path, head in heads:
        assert adapter.sniff(head) == (path.parent == FIXTURES), path


def test_detect_picks_mastodon_for_every_shape():
    for path in (OUTBOX, STATUSES, PAGES):
        assert detect(expand(path)[0]).name == "mastodon"
    # Minified forms.
    assert get("mastodon").sniff(
        b'{"@context":["https://www.w3.org/ns/activitystreams",{"ostatus":"http://ostatus.org#"}],'
        b'"id":"outbox.json","type":"OrderedCollection","totalItems":0,"orderedItems":[]}'
    )
    assert not get("mastodon").sniff(b'{"type":"OrderedCollection","orderedItems":[]}')  # no AS context
    assert not get("mastodon").sniff(b'[{"id": "1", "content": "<p>x</p>", "created_at": "2026-01-01"}]')


# --------------------------------------------------------------------------------------------- outbox


def test_outbox_counts():
    posts, quarantine, skipped = read(OUTBOX)
    doc = json.loads(OUTBOX.read_text(encoding="utf-8"))
    assert len(doc["orderedItems"]) == 11
    assert posts.num_rows == 6
    assert skipped == {"visibility:private": 1, "activity:Update": 1}
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (6, f"status {ME}/statuses/113500000000000006 has no parseable 'published' time"),
        (9, "Create activity without an embedded object"),
        (11, "activity is not a JSON object"),
    ]
    first_raw = json.loads(quarantine.column("raw")[0].as_py())
    assert first_raw["id"] == f"{ME}/statuses/113500000000000006/activity"
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == 11


def test_outbox_mapping():
    posts, _, _ = read(OUTBOX)
    rows = by_id(posts)
    first = rows[f"{ME}/statuses/113500000000000001"]
    assert first["post_uid"] == f"mastodon:{ME}/statuses/113500000000000001"
    assert first["platform"] == "mastodon"
    assert first["created_at"] == utc(2026, 11, 20, 8, 15, 2)
    assert first["author_id"] == ME
    assert first["author_handle"] == "rina@kolektif.example.id"
    assert first["text"] == (
        "Recruiters now check candidates' social media & \"personal branding\" matters #KarierDigital"
        "\n\ncc @budi read: https://news.example.org/2026/11/recruiters-screen-social-media-profiles"
    )
    assert first["lang_declared"] == "en"
    assert first["kind"] == "post"
    assert first["hashtags"] == ["KarierDigital"]
    assert first["mentions"] == ["budi@mastodon.example.com"]
    assert first["links"] == ["https://news.example.org/2026/11/recruiters-screen-social-media-profiles"]
    assert first["url"] == "https://kolektif.example.id/@rina/113500000000000001"
    assert first["thread_id"].startswith("tag:kolektif.example.id,2026-11-20:objectId=")
    assert (first["like_count"], first["share_count"], first["media_count"]) == (12, 3, 1)
    assert first["source_record"] == 1
    assert json.loads(first["raw"])["type"] == "Create"

    reply = rows[f"{ME}/statuses/113500000000000002"]
    assert reply["kind"] == "reply"
    assert reply["reply_to_id"] == "https://mastodon.example.com/users/budi/statuses/113499999999999990"
    assert reply["lang_declared"] == "id"
    # The content warning comes first; <br /> is a line break; &lt;3 unescaped; emoji kept.
    assert reply["text"] == (
        "kesehatan mental, cemas\n\nJujur aku cemas banget\nkalau orang lain menilai postinganku 😟"
        "\n\nTapi #KesehatanMental itu penting, guys <3"
    )
    assert reply["like_count"] is None  # the outbox carries no likes collection for it

    boost = rows[f"{ME}/statuses/113500000000000003/activity"]
    assert boost["kind"] == "repost"
    assert boost["text"] == ""
    assert boost["repost_of_id"] == "https://cekfakta.example.net/users/cekfakta/statuses/113499000000000000"
    assert boost["created_at"] == utc(2026, 11, 20, 10, 30)

    assert rows[f"{ME}/statuses/113500000000000004"]["text"] == (
        "Unlisted: relawan bersih pantai Sabtu ini, yuk ikut! 🌊🧹"
    )
    poll = rows[f"{ME}/statuses/113500000000000008"]
    assert poll["created_at"] == utc(2026, 11, 20, 22, 0)  # +07:00 converted to UTC
    hoax = rows[f"{ME}/statuses/113500000000000010"]
    assert hoax["text"] == "Pak @menteri tolong cek hoaks ini: https://bit.ly/3xYzAbC #hoaks #CekFakta"
    assert hoax["links"] == ["https://bit.ly/3xYzAbC"]
    assert hoax["hashtags"] == ["hoaks", "CekFakta"]
    assert hoax["mentions"] == ["menteri@gov.example.go.id"]
    assert hoax["created_at"] == utc(2026, 11, 21, 7, 45, 30, 250000)


def test_outbox_include_private():
    posts, _, skipped = read(OUTBOX, include_private="true")
    assert posts.num_rows == 7 and skipped == {"activity:Update": 1}
    assert f"{ME}/statuses/113500000000000005" in by_id(posts)


# ------------------------------------------------------------------------------------------- REST API


def test_rest_array_counts_and_mapping():
    posts, quarantine, skipped = read(STATUSES)
    assert skipped == {"visibility:direct": 1}
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (5, "status 113600000000000005 has no parseable 'created_at'")
    ]
    rows = by_id(posts)
    assert list(rows) == [f"11360000000000000{i}" for i in (1, 2, 3, 6)]
    post = rows["113600000000000001"]
    assert post["post_uid"] == "mastodon:113600000000000001"
    assert post["created_at"] == utc(2026, 11, 20, 8, 15, 2)
    assert post["author_id"] == "https://mastodon.example.com/users/budi"
    assert post["author_handle"] == "budi@mastodon.example.com"
    assert post["text"] == "Lowongan kerja #remote buat data analyst! Info: https://karier.example.id/lowongan/da-123"
    assert post["hashtags"] == ["remote"]
    assert post["links"] == ["https://karier.example.id/lowongan/da-123"]  # card url not repeated
    counts = (post["like_count"], post["share_count"], post["reply_count"], post["media_count"])
    assert counts == (1200, 5, 2, 2)
    assert post["url"] == "https://mastodon.example.com/@budi/113600000000000001"
    assert post["source_record"] == 1

    reply = rows["113600000000000002"]
    assert reply["kind"] == "reply" and reply["reply_to_id"] == "113600000000000001"
    assert reply["text"] == "@budi Thanks! Is it open for fresh graduates? I'm interested 🙏"
    assert reply["mentions"] == ["budi"]
    assert reply["lang_declared"] == "en"
    assert reply["author_handle"] == "sari@sosial.example.id"

    boost = rows["113600000000000003"]
    assert boost["kind"] == "repost"
    assert boost["repost_of_id"] == "113599000000000777"
    assert boost["text"] == (
        'HOAKS: pesan berantai "bansos Rp 5 juta" itu informasi palsu.\nCek: https://cekfakta.example.net/bansos'
    )
    assert boost["hashtags"] == ["cekfakta"]
    assert boost["links"] == ["https://cekfakta.example.net/bansos"]
    assert boost["lang_declared"] == "id"
    assert boost["url"] == "https://mastodon.example.com/users/budi/statuses/113600000000000003/activity"

    cw = rows["113600000000000006"]
    assert cw["text"] == "Film & series\n\nSpoiler ahead"
    assert cw["like_count"] == 7  # a count that arrived as a string


def test_rest_pages_as_json_lines():
    posts, quarantine, skipped = read(PAGES)
    assert skipped == {"blank_line": 1, "visibility:private": 1, "empty_page": 1}
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (2, "status 113700000000000004 has no parseable 'created_at'"),
        (5, "invalid JSON (malformed or truncated line)"),
    ]
    assert {r["post_id"]: r["source_record"] for r in posts.to_pylist()} == {
        "113700000000000001": 1,
        "113700000000000002": 1,
        "113700000000000003": 2,
    }
    assert by_id(posts)["113700000000000002"]["kind"] == "reply"


def test_not_json_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "outbox.json"
    path.write_bytes(OUTBOX.read_bytes()[:3000])
    with pytest.raises(ValueError, match=r"not valid JSON \(line \d+, column \d+"):
        read(path)


def test_compressed_variants_are_identical(tmp_path: Path):
    for fixture in (OUTBOX, PAGES):
        data = fixture.read_bytes()
        gz = tmp_path / f"{fixture.name}.gz"
        gz.write_bytes(gzip.compress(data))
        zst = tmp_path / f"{fixture.name}.zst"
        zst.write_bytes(zstandard.ZstdCompressor().compress(data))
        zp = tmp_path / f"{fixture.name}.zip"
        with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"archive/{fixture.name}", data)
        plain = read(fixture)
        for path in (gz, zst, zp):
            assert detect(expand(path)[0]).name == "mastodon"
            got = read(path)
            assert got[0].equals(plain[0]) and got[1].equals(plain[1]) and got[2] == plain[2]


def test_ingest_file_through_the_lake(settings, tmp_path: Path):
    path = tmp_path / "outbox.json"
    path.write_bytes(OUTBOX.read_bytes())
    (entry,) = ingest_file(settings, path)
    assert entry["status"] == "ingested"
    assert entry["export_format"] == "mastodon"
    assert (entry["loaded"], entry["quarantined"], entry["duplicates_within_batch"]) == (6, 3, 0)
    assert entry["records_in"] == 9
    assert entry["skipped"] == {"visibility:private": 1, "activity:Update": 1}
    assert entry["platforms"] == {"mastodon": 6}
    (manifest,) = read_manifests(settings.manifest_dir)
    assert manifest["batch_id"] == entry["batch_id"]
    lake = pa.concat_tables(
        [pa.parquet.read_table(p) for p in sorted((settings.posts_dir).rglob("*.parquet"))]
    )
    assert lake.num_rows == 6
    assert lake.column("author_handle").null_count == 6  # pseudonymised
    assert len(set(lake.column("author_key").to_pylist())) == 1
    (again,) = ingest_file(settings, path)
    assert again["status"] == "already_ingested"


# ------------------------------------------------------------------- the conversation's accounts


def test_outbox_mentions_are_actor_uris():
    posts = by_id(read(OUTBOX)[0])
    first = posts["https://kolektif.example.id/users/rina/statuses/113500000000000001"]
    assert first["mention_targets"] == [
        {"id": "https://mastodon.example.com/users/budi", "handle": "budi@mastodon.example.com"}]
    boost = posts["https://kolektif.example.id/users/rina/statuses/113500000000000003/activity"]
    assert boost["kind"] == "repost" and boost["repost_of_author_id"] is None  # only a URL: nothing stated
    reply = posts["https://kolektif.example.id/users/rina/statuses/113500000000000002"]
    assert reply["reply_to_author_id"] is None  # inReplyTo names a status, not its author


def test_rest_reblog_author_and_mentions_as_handles(tmp_path):
    posts = by_id(read(STATUSES)[0])
    boost = posts["113600000000000003"]
    # keyed like author_id (the account's uri): the same account's own statuses key the same way
    assert boost["repost_of_author_id"] == "https://cekfakta.example.net/users/cekfakta"
    assert boost["mention_targets"] == []
    reply = posts["113600000000000002"]
    assert reply["mention_targets"] == [{"id": None, "handle": "budi@mastodon.example.com"}]
    assert reply["reply_to_author_id"] is None  # an instance-local account id is not an author_id
    # a reply to one's own status names its author
    status = json.loads(STATUSES.read_text(encoding="utf-8"))[1]
    status["in_reply_to_account_id"] = status["account"]["id"]
    path = tmp_path / "self.json"
    path.write_text(json.dumps([status]), encoding="utf-8")
    [own] = read(path)[0].to_pylist()
    assert own["reply_to_author_id"] == own["author_id"] == "https://sosial.example.id/users/sari"
    # a boost whose Announce embeds the status names the boosted author
    outbox = {"@context": "https://www.w3.org/ns/activitystreams", "type": "OrderedCollection",
              "orderedItems": [{"id": "https://a.example/users/u/statuses/1/activity", "type": "Announce",
                                "actor": "https://a.example/users/u", "published": "2026-11-20T08:20:00Z",
                                "object": {"id": "https://b.example/users/v/statuses/9", "type": "Note",
                                           "attributedTo": "https://b.example/users/v"}}]}
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(outbox), encoding="utf-8")
    [announce] = read(path)[0].to_pylist()
    assert announce["repost_of_author_id"] == "https://b.example/users/v"
