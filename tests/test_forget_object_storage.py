"""``discourse forget``, the retention rule and delete events on a lake on object storage (``lake_url``),
against a real S3 server on 127.0.0.1 (moto's server mode, as ``tests/test_object_storage.py``; its two
small fixtures are repeated here, so neither file depends on the other)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from servers import free_port

from discourse.forget import apply_deletes, forget
from discourse.pipeline import list_new_files
from discourse.settings import load_settings
from ingest.lake import (
    Pseudonymiser,
    ingest_file,
    lake_manifests,
    reject_batch,
    rejected_batches,
    rejected_manifest,
)
from ingest.objectstore import lake_store
from quality.frames import connect, lake_root, parquet_relation
from synth import generate

DELETES = Path(__file__).parent / "fixtures_delete_events"
BUCKET = "discourse-forget-test"
KEY_ID, SECRET = "testing-key-id", "testing-secret-access-key"
PSEUDONYM_KEY = "object-storage-forget-key-0123456789"


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3-compatible server (moto, server mode) on 127.0.0.1, on a free port."""
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    client.create_bucket(Bucket=BUCKET)
    return client


def _settings(home: Path, endpoint: str, prefix: str):
    return load_settings(env={
        "DISCOURSE_HOME": str(home),
        "DISCOURSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "DISCOURSE_INBOX_URL": f"s3://{BUCKET}/{prefix}/inbox",
        "DISCOURSE_LAKE_URL": f"s3://{BUCKET}/{prefix}/lake/",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
    })


def _keys(s3, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


def _posts(settings) -> list[dict]:
    with connect(settings=settings) as con:
        rel = parquet_relation(lake_root(settings), hive=True)
        sql = f"select post_uid, author_key, created_at, text from {rel}"
        return con.sql(sql).to_arrow_table().to_pylist()


def _assert_accounting(settings) -> None:
    store = lake_store(settings)
    for m in lake_manifests(settings):
        assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"]
        rows = sum(pq.read_metadata(store.key(f), filesystem=store.fs).num_rows
                   for f in m["files"] if f.startswith("posts/"))
        assert rows == m["loaded"], m["batch_id"]
        assert all(store.exists(f) for f in m["files"])


def _upload_exports(s3, tmp_path: Path, prefix: str, **gen) -> None:
    exports = tmp_path / "exports"
    generate(exports, **gen)
    for path in sorted(exports.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{prefix}/inbox/{path.relative_to(exports).as_posix()}")


def _x_author(s3, prefix: str) -> str:
    counts: Counter = Counter()
    for key in _keys(s3, f"{prefix}/inbox/"):
        if "x_v2" not in key:
            continue
        for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines():
            try:
                page = json.loads(line)
            except ValueError:
                continue
            for tweet in page.get("data") or []:
                if isinstance(tweet, dict) and tweet.get("author_id"):
                    counts[str(tweet["author_id"])] += 1
    return counts.most_common(1)[0][0]


def _no_leftovers(s3, prefix: str, home: Path) -> None:
    keys = _keys(s3, f"{prefix}/lake/")
    # (a directory marker the store may keep, ``_staging/``, holds nothing)
    assert not [k for k in keys if k.endswith((".remap.json", ".tmp"))
                or ("/_staging/" in k and not k.endswith("/"))]
    assert not (home / "lake").exists()  # nothing of the lake on local disk
    assert not [p for p in (home / "tmp").rglob("*") if p.is_file()] if (home / "tmp").exists() else True


def test_forget_post_author_and_before_on_object_storage(s3, s3_endpoint, tmp_path):
    prefix = "forget"
    home = tmp_path / "home"
    s = _settings(home, s3_endpoint, prefix)
    _upload_exports(s3, tmp_path, prefix, posts=500, seed=5, days=5, formats=["x_v2", "generic"])
    for url in list_new_files(s):
        ingest_file(s, url)
    before = _posts(s)
    assert before

    # --post
    uid = before[0]["post_uid"]
    audit = forget(s, post=uid)
    assert audit["posts"] == 1 and uid not in {p["post_uid"] for p in _posts(s)}
    _assert_accounting(s)
    _no_leftovers(s3, prefix, home)

    # --author, with --inbox: the exports that held the author's records go from the inbox bucket
    author_id = _x_author(s3, prefix)
    key = Pseudonymiser(PSEUDONYM_KEY).key_for(f"x:{author_id}")
    theirs = [p for p in _posts(s) if p["author_key"] == key]
    assert theirs
    inbox_before = _keys(s3, f"{prefix}/inbox/")
    audit = forget(s, author=f"x:{author_id}", inbox=True)
    assert audit["posts"] == len(theirs) and audit["inbox_files_removed"] >= 1
    assert not [p for p in _posts(s) if p["author_key"] == key]
    inbox_after = [k for k in _keys(s3, f"{prefix}/inbox/") if not k.endswith("/")]
    assert len(inbox_after) == len(inbox_before) - audit["inbox_files_removed"]
    # their account and tweets leave the contexts too
    store = lake_store(s)
    for m in lake_manifests(s):
        for f in m["files"]:
            if f.startswith("context/"):
                text = str(pq.read_table(store.key(f), filesystem=store.fs).column("context").to_pylist())
                assert f'"author_id":"{author_id}"' not in text.replace(" ", "")
    _assert_accounting(s)
    # the audit record is local, and holds no identity
    for record in (home / "forget").glob("*.json"):
        assert author_id not in record.read_text() and key not in record.read_text()

    # a rejected batch on the store is scrubbed as well, and --before (the retention rule)
    generic = next(m for m in lake_manifests(s) if m["export_format"] == "generic")
    reject_batch(s, generic, {"stage": "raw", "success": False})
    posts = _posts(s)
    store = lake_store(s)
    rejected_days = sorted(
        t.date() for f in generic["files"] if f.startswith("posts/")
        for t in pq.read_table(store.key(f"_rejected/{generic['batch_id']}/{f}"),
                               filesystem=store.fs).column("created_at").to_pylist())
    # a day that cuts both the lake's posts and the rejected batch's
    median = sorted(p["created_at"] for p in posts)[len(posts) // 2].date()
    cutoff = max(median, rejected_days[0]) + timedelta(days=1)
    assert rejected_batches(s) == [generic["batch_id"]]
    audit = forget(s, before=cutoff)
    assert audit["posts"] > 0 and generic["batch_id"] in audit["rejected_batches"]
    assert min(p["created_at"].date() for p in _posts(s)) >= cutoff
    rejected = rejected_manifest(s, generic["batch_id"])
    assert rejected["loaded"] == sum(d >= cutoff for d in rejected_days)
    assert rejected["forgotten"]["posts"] > 0
    for f in rejected["files"]:
        if f.startswith("posts/"):
            t = pq.read_table(store.key(f"_rejected/{generic['batch_id']}/{f}"), filesystem=store.fs)
            assert min(t.column("created_at").to_pylist()).date() >= cutoff
    _assert_accounting(s)
    _no_leftovers(s3, prefix, home)


def test_interrupted_forget_is_rolled_forward_on_object_storage(s3, s3_endpoint, tmp_path, monkeypatch):
    """A forget that dies after its journal was written (uploads done, nothing copied yet) is finished
    by the next command's cleanup (``recover_remote``), as an interrupted remap is."""
    import discourse.forget as fg

    prefix = "forget-crash"
    home = tmp_path / "home"
    s = _settings(home, s3_endpoint, prefix)
    _upload_exports(s3, tmp_path, prefix, posts=500, seed=7, days=3, formats=["x_v2"])
    for url in list_new_files(s):
        ingest_file(s, url)
    uid = _posts(s)[0]["post_uid"]

    def dies(*_a, **_k):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(fg, "publish_remote", dies)
    with pytest.raises(KeyboardInterrupt):
        forget(s, post=uid)
    assert [k for k in _keys(s3, f"{prefix}/lake/_manifest/") if k.endswith(".remap.json")]
    monkeypatch.undo()
    assert uid in {p["post_uid"] for p in _posts(s)}  # nothing copied into place yet
    audit = forget(s, post=uid)  # its cleanup rolls the journal forward first
    assert audit["posts"] == 0 and uid not in {p["post_uid"] for p in _posts(s)}
    [m] = [m for m in lake_manifests(s) if m.get("forgotten")]
    assert m["forgotten"]["posts"] == 1
    _assert_accounting(s)
    _no_leftovers(s3, prefix, home)


def test_delete_events_on_object_storage(s3, s3_endpoint, tmp_path):
    prefix = "forget-deletes"
    home = tmp_path / "home"
    s = _settings(home, s3_endpoint, prefix)
    s3.upload_file(str(DELETES / "bluesky_a.jsonl"), BUCKET, f"{prefix}/inbox/a.jsonl")
    [entry] = ingest_file(s, f"s3://{BUCKET}/{prefix}/inbox/a.jsonl")
    assert entry["deletes"] == 2 and f"{prefix}/lake/deletes/{entry['batch_id']}.parquet" in _keys(s3, prefix)
    audit = apply_deletes(s)
    assert audit["posts"] == 1 and audit["tombstones_waiting"] == 1
    s3.upload_file(str(DELETES / "bluesky_b.jsonl"), BUCKET, f"{prefix}/inbox/b.jsonl")
    ingest_file(s, f"s3://{BUCKET}/{prefix}/inbox/b.jsonl")
    audit = apply_deletes(s)
    assert audit["posts"] == 2 and audit["tombstones_waiting"] == 0
    assert sorted(p["text"] for p in _posts(s)) == ["Hujan deras sore ini", "Macet parah di tol dalam kota"]
    _assert_accounting(s)
    _no_leftovers(s3, prefix, home)
