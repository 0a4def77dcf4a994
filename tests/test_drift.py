"""Schema drift: field-presence profiles per batch, and the alert when a format's fields move."""

from __future__ import annotations

import json

import pyarrow as pa
from servers import HttpReceiver

from discourse.pipeline import ingest_one
from discourse.settings import load_settings
from ingest.drift import ProfileSampler, check_drift
from ingest.lake import read_manifests


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _rec(i: int, **extra) -> dict:
    return {"id": f"p{i}", "text": f"Lowongan kerja baru nomor {i}, cek ya", "created_at":
            f"2026-11-0{1 + i % 9}T08:00:00Z", "author": f"u{i % 50}", "meta": {"source": "web"},
            **extra}


def test_sampler_is_bounded_deterministic_and_spans_the_file():
    a, b = ProfileSampler("abcdef0123", size=500), ProfileSampler("abcdef0123", size=500)
    for start in range(0, 20_000, 1000):
        raw = pa.array([json.dumps({"k": 1, "late": 1} if start >= 10_000 else {"k": 1})
                        for _ in range(1000)])
        pos = pa.array(range(start + 1, start + 1001), pa.int64())
        a.add(raw, pos)
        b.add(raw, pos)
    assert len(a.raw) == 500 and a.raw == b.raw and a.seen == 20_000
    prof = a.profile()
    assert prof["paths"]["$.k"] == 1.0
    assert 0.35 < prof["paths"]["$.late"] < 0.65  # the sample covers both halves of the file
    # Halves split at the sample's median position, so a few records may fall on the other side.
    assert prof["halves"]["second"]["$.late"] > 0.95
    assert prof["halves"]["first"].get("$.late", 0) < 0.05


def test_renamed_field_raises_the_drift_alert(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for n in range(3):
        _jsonl(inbox / f"day{n}.jsonl", [_rec(i + 1000 * n) for i in range(300)])
    # The exporting tool renamed meta.source → meta.client.
    drifted = [{**_rec(i + 5000), "meta": {"client": "web"}} for i in range(300)]
    _jsonl(inbox / "day3.jsonl", drifted)
    with HttpReceiver() as hook:
        s = load_settings(env={"DISCOURSE_HOME": str(tmp_path / "home"), "DISCOURSE_PSEUDONYM_KEY": "k",
                               "DISCOURSE_ALERT_WEBHOOK_URL": hook.url})
        for n in range(3):
            assert ingest_one(s, str(inbox / f"day{n}.jsonl"))["drift"] == []
        res = ingest_one(s, str(inbox / "day3.jsonl"))
        (req,) = hook.wait_for(1)
    kinds = {(f["path"], f["kind"]) for f in res["drift"]}
    assert kinds == {("$.meta.source", "vanished"), ("$.meta.client", "appeared")}
    body = json.dumps(req.json())
    assert "generic" in body and "$.meta.source" in body and "$.meta.client" in body
    assert "100%" in body  # the share the new field appeared in


def test_field_renamed_mid_export_is_caught_in_a_first_batch(tmp_path):
    path = tmp_path / "one.jsonl"
    recs = [_rec(i) for i in range(400)] + [
        {**_rec(i), "meta": {"client": "web"}} for i in range(400, 800)]
    _jsonl(path, recs)
    s = load_settings(env={"DISCOURSE_HOME": str(tmp_path / "home"), "DISCOURSE_PSEUDONYM_KEY": "k"})
    res = ingest_one(s, str(path))
    assert {(f["path"], f["kind"]) for f in res["drift"]} == {
        ("$.meta.source", "changed_mid_export"), ("$.meta.client", "changed_mid_export")}
    assert list(s.alerts_dir.glob("*drift*.json"))
    (entry,) = read_manifests(s.manifest_dir)
    assert entry["field_profile"]["sample_size"] == 800
    # A stable format raises nothing.
    assert check_drift({**entry, "field_profile": {**entry["field_profile"], "halves": None}},
                       [entry]) == []


def test_different_record_shapes_of_one_format_are_not_drift(tmp_path):
    """Two shapes of one format (like Mastodon's outbox activities and REST statuses) each have
    their own baseline."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    _jsonl(inbox / "a.jsonl", [_rec(i) for i in range(300)])
    other = [{"id": f"q{i}", "content": f"Halo semua {i}", "published": "2026-11-03T08:00:00Z",
              "actor": {"name": f"a{i}"}} for i in range(300)]
    _jsonl(inbox / "b.jsonl", other)
    s = load_settings(env={"DISCOURSE_HOME": str(tmp_path / "home"), "DISCOURSE_PSEUDONYM_KEY": "k"})
    assert ingest_one(s, str(inbox / "a.jsonl"))["drift"] == []
    assert ingest_one(s, str(inbox / "b.jsonl"), options={"map": {"text": "content",
                                                                   "created_at": "published"}})["drift"] == []
