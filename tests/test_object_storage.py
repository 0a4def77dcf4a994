"""The inbox and the lake on S3-compatible object storage, against a real S3 server on 127.0.0.1.

The server is moto's server mode (``ThreadedMotoServer``: a real HTTP endpoint speaking the S3 API),
reached over the network by pyarrow's S3 client in the pipeline and by boto3 in the test; nothing is
mocked in the client. The end-to-end test runs the same generated exports through ``discourse run``
twice, on local disk and on the store, and requires the same marts.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from servers import free_port

from discourse.pipeline import ingest_one, list_new_files, reject_batches, run
from discourse.settings import SettingsError, load_settings
from ingest.lake import (
    cleanup_lake,
    ingest_file,
    lake_manifests,
    rejected_batches,
    rejected_manifest,
)
from ingest.objectstore import S3Options, lake_store
from ingest.remap import remap
from quality.alerts import Redactor
from quality.frames import connect, lake_files, lake_has_posts, lake_root, parquet_relation
from synth import generate

FIXTURES = Path(__file__).parent / "fixtures"
BUCKET = "discourse-test"
KEY_ID, SECRET = "testing-key-id", "testing-secret-access-key"


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3-compatible server (moto, server mode) on 127.0.0.1, on a free port."""
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3(s3_endpoint):
    """A boto3 client on that server (the test's own view of the bucket), with the bucket created."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    client.create_bucket(Bucket=BUCKET)
    return client


def _keys(s3, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


def _settings(home: Path, endpoint: str, prefix: str, **extra: str):
    env = {
        "DISCOURSE_HOME": str(home),
        "DISCOURSE_PSEUDONYM_KEY": "object-storage-test-key",
        "DISCOURSE_INBOX_URL": f"s3://{BUCKET}/{prefix}/inbox",
        "DISCOURSE_LAKE_URL": f"s3://{BUCKET}/{prefix}/lake/",
        # the standard AWS variables are read as the settings' fallbacks
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        **extra,
    }
    return load_settings(env=env)


# ----------------------------------------------------------------- settings


def test_settings_validate_urls_and_keep_secrets_out_of_reprs(tmp_path):
    s = load_settings(env={"DISCOURSE_HOME": str(tmp_path), "DISCOURSE_LAKE_URL": "s3://b/p/lake/",
                           "DISCOURSE_S3_SECRET_ACCESS_KEY": "s3cr3t-value", "AWS_SECRET_ACCESS_KEY": "other",
                           "AWS_REGION": "eu-west-1", "AWS_SESSION_TOKEN": "session-token-value"})
    assert s.lake_location == "s3://b/p/lake" and s.inbox_location == str(tmp_path / "inbox")
    assert s.s3_secret_access_key == "s3cr3t-value"  # DISCOURSE_* wins over the AWS variable
    assert s.s3_region == "eu-west-1"
    for text in (repr(s), repr(S3Options.from_settings(s))):
        assert "s3cr3t-value" not in text and "session-token-value" not in text
    scrub = Redactor.for_settings(s)
    assert "s3cr3t-value" not in scrub.text("auth failed with s3cr3t-value")
    assert "session-token-value" not in scrub.text("token session-token-value")
    # the dbt build's environment: no credentials in what the runner returns (Airflow keeps it as XCom)
    assert S3Options.from_settings(s).env(secrets=False) == {"DISCOURSE_S3_REGION": "eu-west-1"}
    for bad in ("/data/lake", "s3://", "s3:///lake", "gs://b/lake"):
        with pytest.raises(SettingsError, match="DISCOURSE_LAKE_URL"):
            load_settings(env={"DISCOURSE_HOME": str(tmp_path), "DISCOURSE_LAKE_URL": bad})
    local = load_settings(env={"DISCOURSE_HOME": str(tmp_path)})
    assert local.lake_location == str(tmp_path / "lake") and lake_store(local) is None


# ----------------------------------------------------------------- ingest, readers, remap


def test_ingest_remap_and_readers_on_object_storage(s3, s3_endpoint, tmp_path):
    home = tmp_path / "home"
    s = _settings(home, s3_endpoint, "unit")
    fixture = FIXTURES / "telegram" / "single_chat.json"
    s3.upload_file(str(fixture), BUCKET, "unit/inbox/chats/single_chat.json")
    url = f"s3://{BUCKET}/unit/inbox/chats/single_chat.json"

    assert list_new_files(s) == [url]
    [entry] = ingest_file(s, url, options={"channel_username": "infolokerjkt"})
    assert entry["status"] == "ingested" and entry["loaded"] > 0
    assert entry["source_file"] == entry["source_path"] == url
    head = s3.head_object(Bucket=BUCKET, Key="unit/inbox/chats/single_chat.json")
    assert entry["source_size"] == head["ContentLength"]

    lake = _keys(s3, "unit/lake/")
    assert f"unit/lake/_manifest/{entry['batch_id']}.json" in lake
    assert all(f"unit/lake/{rel}" in lake for rel in entry["files"])
    assert not [k for k in lake if "/_staging/" in k and not k.endswith("/")]  # staged uploads are gone
    # the export stays in the inbox, as on local disk, and is not new any more
    assert _keys(s3, "unit/inbox/") == ["unit/inbox/chats/single_chat.json"]
    assert list_new_files(s) == []
    assert ingest_file(s, url)[0]["status"] == "already_ingested"

    # readers: manifests, the gates' frames (DuckDB through the registered filesystem)
    assert [m["batch_id"] for m in lake_manifests(s)] == [entry["batch_id"]]
    assert lake_has_posts(s)
    files = lake_files(s, [entry["batch_id"]])
    assert files and all(str(f).startswith(f"s3://{BUCKET}/unit/lake/posts/") for f in files)
    with connect(settings=s) as con:
        rel = parquet_relation(lake_root(s), hive=True)
        n, texts = con.execute(f"select count(*), count(text) from {rel}").fetchone()
    assert n == texts == entry["loaded"]

    # a remap reads the batch from the store and swaps it in place (journal, copies, manifest last)
    [change] = remap(s)
    assert change["loaded_before"] == change["loaded_after"] == entry["loaded"]
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"unit/lake/_manifest/{entry['batch_id']}.json")
                          ["Body"].read())
    assert manifest["remaps"] and manifest["files"] == entry["files"]
    assert not [k for k in _keys(s3, "unit/lake/") if k.endswith(".remap.json") or
                ("/_staging/" in k and not k.endswith("/"))]
    assert not (home / "lake").exists() and not (home / "inbox").exists()


def test_interrupted_remote_remap_is_rolled_forward(s3, s3_endpoint, tmp_path):
    """A journal left on the store (a crash after the uploads) is completed by the next cleanup."""
    s = _settings(tmp_path / "home", s3_endpoint, "crash")
    s3.upload_file(str(FIXTURES / "telegram" / "single_chat.json"), BUCKET, "crash/inbox/chat.json")
    [entry] = ingest_file(s, f"s3://{BUCKET}/crash/inbox/chat.json")
    post = next(rel for rel in entry["files"] if rel.startswith("posts/"))
    staged = f"_staging/crashed/{post}"
    store = lake_store(s)
    store.copy(post, staged)
    new_manifest = {**entry, "remapped_at": "2026-01-01T00:00:00+00:00"}
    plan = {"new": [post], "old": entry["files"], "manifest": new_manifest, "staging": "_staging/crashed"}
    store.write_text(f"_manifest/{entry['batch_id']}.remap.json", json.dumps(plan))

    cleanup_lake(s)
    keys = _keys(s3, "crash/lake/")
    assert f"crash/lake/{post}" in keys
    gone = set(entry["files"]) - {post}
    assert gone and not [k for k in keys if k.removeprefix("crash/lake/") in gone]
    assert not [k for k in keys if k.endswith(".remap.json") or "crashed" in k]
    [m] = lake_manifests(s)
    assert m["remapped_at"] == "2026-01-01T00:00:00+00:00"


def test_sidecar_is_staged_with_its_export(s3, s3_endpoint, tmp_path):
    """A ``<stem>.meta.json`` next to an export is read with it, and is not an export itself."""
    s = _settings(tmp_path / "home", s3_endpoint, "sidecar")
    export = FIXTURES / "youtube" / "comments_Xk3Rm9TqLpA.jsonl"
    s3.upload_file(str(export), BUCKET, "sidecar/inbox/comments.jsonl")  # no video id in the name
    s3.put_object(Bucket=BUCKET, Key="sidecar/inbox/comments.meta.json", Body=b'{"video_id": "Zz9-Yy8_Xx7"}')
    assert list_new_files(s) == [f"s3://{BUCKET}/sidecar/inbox/comments.jsonl"]
    [entry] = ingest_file(s, f"s3://{BUCKET}/sidecar/inbox/comments.jsonl")
    with connect(settings=s) as con:
        threads = con.execute(f"select distinct thread_id from {parquet_relation(lake_root(s))}").fetchall()
    assert threads == [("Zz9-Yy8_Xx7",)] and entry["loaded"] > 0


def test_rejected_batch_is_set_aside_on_object_storage(s3, s3_endpoint, tmp_path):
    s = _settings(tmp_path / "home", s3_endpoint, "reject")
    s3.upload_file(str(FIXTURES / "telegram" / "single_chat.json"), BUCKET, "reject/inbox/chat.json")
    [entry] = ingest_file(s, f"s3://{BUCKET}/reject/inbox/chat.json")
    batch = entry["batch_id"]
    assert reject_batches(s, [batch], {"stage": "raw", "success": False}) == [batch]
    keys = _keys(s3, "reject/lake/")
    assert f"reject/lake/_rejected/{batch}/manifest.json" in keys
    assert f"reject/lake/_rejected/{batch}/gate.json" in keys
    assert all(f"reject/lake/_rejected/{batch}/{rel}" in keys for rel in entry["files"])
    assert not [k for k in keys if k.startswith(("reject/lake/posts/", "reject/lake/_manifest/"))
                and not k.endswith("/")]
    assert lake_manifests(s) == [] and rejected_batches(s) == [batch]
    assert rejected_manifest(s, batch)["source_file"] == f"s3://{BUCKET}/reject/inbox/chat.json"
    assert not lake_has_posts(s)
    # the export counts as new again, and is retried (same content, same batch) next night
    assert list_new_files(s) == [f"s3://{BUCKET}/reject/inbox/chat.json"]


# ----------------------------------------------------------------- the whole night


def _marts(db: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: [c for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = ? order by ordinal_position", [t]).fetchall()]
                for (t,) in con.execute("select table_name from information_schema.tables "
                                        "where table_schema = 'marts' order by 1").fetchall()}
    finally:
        con.close()


# Columns that differ between two runs over the same exports by design: when the batch was ingested,
# where the file was (a local path or an s3:// URL: compared by file name instead), and the publish.
RUN_COLUMNS = {"ingested_at", "published_at", "run_id"}


def _select(table: str, columns: list[str]) -> str:
    cols = [f"regexp_replace({c}, '^.*/', '') as {c}" if c == "source_file" else f'"{c}"'
            for c in columns if c not in RUN_COLUMNS]
    return f"select {', '.join(cols)} from {table}"


@pytest.fixture(scope="module")
def two_nights(s3, s3_endpoint, tmp_path_factory):
    """The same generated exports through `discourse run` on local disk, then on object storage."""
    base = tmp_path_factory.mktemp("objectstore")
    exports = base / "exports"
    truth = generate(exports, posts=600, seed=5, days=5)

    local_home = base / "local"
    shutil.copytree(exports, local_home / "inbox" / "gen")
    local = load_settings(env={"DISCOURSE_HOME": str(local_home),
                               "DISCOURSE_PSEUDONYM_KEY": "object-storage-test-key"})
    local_summary = run(local)

    for path in sorted(exports.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"night/inbox/gen/{path.relative_to(exports).as_posix()}")
    remote_home = base / "remote"
    remote = _settings(remote_home, s3_endpoint, "night")
    remote_summary = run(remote)
    return truth, local, local_summary, remote, remote_summary


@pytest.mark.integration
def test_marts_on_object_storage_equal_local_disk(two_nights):
    truth, local, local_summary, remote, remote_summary = two_nights
    for summary in (local_summary, remote_summary):
        assert summary.get("failed") is None, summary.get("failed")
        assert summary["published"] is True
    assert len(remote_summary["ingest"]) == len(local_summary["ingest"]) == len(truth["files"])
    assert all(r["path"].startswith(f"s3://{BUCKET}/night/inbox/gen/") for r in remote_summary["ingest"])

    local_marts, remote_marts = _marts(local.warehouse), _marts(remote.warehouse)
    assert remote_marts == local_marts and "posts" in local_marts
    con = duckdb.connect()
    try:
        con.execute(f"attach '{local.warehouse}' as l (read_only)")
        con.execute(f"attach '{remote.warehouse}' as r (read_only)")
        for table, columns in local_marts.items():
            if not set(columns) - RUN_COLUMNS:  # marts.snapshots: which runs published, when
                continue
            n_local = con.execute(f"select count(*) from l.marts.{table}").fetchone()[0]
            n_remote = con.execute(f"select count(*) from r.marts.{table}").fetchone()[0]
            assert n_remote == n_local, table
            left, right = _select(f"l.marts.{table}", columns), _select(f"r.marts.{table}", columns)
            for a, b in ((left, right), (right, left)):
                diff = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                assert diff == 0, f"marts.{table}: {diff} row(s) differ"
        posts = con.execute("select count(*) from r.marts.posts").fetchone()[0]
        assert posts == truth["totals"]["valid_posts"]
    finally:
        con.close()


@pytest.mark.integration
def test_lake_is_in_the_bucket_and_not_on_local_disk(two_nights, s3):
    _, _, _, remote, summary = two_nights
    lake = _keys(s3, "night/lake/")
    manifests = [k for k in lake if k.startswith("night/lake/_manifest/") and k.endswith(".json")]
    batch_ids = {b for r in summary["ingest"] for b in r["batch_ids"]}
    assert len(manifests) == len(batch_ids) > 0
    for key in manifests:
        entry: dict[str, Any] = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        assert entry["source_path"].startswith(f"s3://{BUCKET}/night/inbox/gen/")
        assert all(f"night/lake/{rel}" in lake for rel in entry["files"]), key
    assert any(k.startswith("night/lake/posts/platform=") for k in lake)
    assert any(k.startswith("night/lake/quarantine/platform=") for k in lake)
    assert not [k for k in lake if "/_staging/" in k and not k.endswith("/")]
    # no local lake or inbox, and no staged copies left behind
    home = remote.home
    assert not (home / "lake").exists() and not (home / "inbox").exists()
    staged = [p for kind in ("lake-staging", "inbox-staging") for p in (home / "tmp" / kind).glob("*")]
    assert not staged
    lake_like = [p for p in home.rglob("*.parquet") if "platform=" in str(p) or "context" in p.parts]
    assert not lake_like, "no Parquet file of the lake on local disk"
    # the exports stay in the inbox, as on local disk, and are not new any more
    exports = [p for p in (home.parent / "exports").rglob("*") if p.is_file()]
    assert len(_keys(s3, "night/inbox/")) == len(exports)
    assert list_new_files(remote) == []
    first = summary["ingest"][0]["path"]
    assert ingest_one(remote, first)["status"] == "already_ingested"
