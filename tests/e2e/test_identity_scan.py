"""The identity scan (issue 11; docs/security.md "The identity scan"): every raw account id, handle and
DID of the inputs, searched for in everything a run publishes or leaves for people to read.

The identities are read from the generated export files themselves (their JSON, JS and CSV), not
through the adapters, so a field an adapter forgets to pseudonymise is still found. The published
artefacts are: the published warehouse (every mart, every text and list column, read through the
published ``warehouse.duckdb``), the Parquet snapshot files under ``published/``, ``reports/``,
``alerts/``, ``runs/`` and the GX Data Docs. The restricted lake and the build warehouse are left out.

Matching is by whole token, case-insensitive: an artefact's text is cut into tokens of letters,
digits and ``_`` joined by ``.``, ``-`` or ``:`` (``wijaya.teg``, ``did:plc:…``), and every run of
whole segments of a token is looked up in the identity set. An identity shorter than
``MIN_CHARS`` characters is not searched: it would turn up in ordinary words and numbers. A handle
that is also an ordinary word of the corpus's post texts (a first name such as ``gilang``) counts only
where it is written as an account: right after ``@`` or ``/`` (a mention, a URL path).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from discourse.pipeline import run
from discourse.settings import load_settings
from synth import generate

MIN_CHARS = 5
KEY = "identity-scan-key-0123456789abcdef0123"

# Keys whose value is an account handle, in any of the generated formats.
HANDLE_KEYS = {"username", "screen_name", "uniqueid", "unique_id", "useruniqueid", "acct", "handle",
               "author", "owner_username", "from_username"}
# Keys whose value is an account id.
ID_KEYS = {"author_id", "author_fullname", "channel", "did", "from_id", "actor_id", "accountid",
           "user_id", "in_reply_to_user_id", "in_reply_to_account_id", "owner_id",
           "attributedto", "actor"}
# Objects that describe an account: their ``id``/``pk``/``id_str`` is an account id (and an X GraphQL
# ``user_results.result``'s ``rest_id``; a ``tweet_results.result``'s is a post id).
ACCOUNT_OBJECTS = {"user", "users", "account", "author", "owner", "mentions", "user_mentions"}
# Keys whose value is a post's own words (where ordinary words that are also handles are found).
TEXT_KEYS = {"text", "full_text", "body", "content", "desc", "title", "selftext", "caption"}
DID = re.compile(r"did:(?:plc|web):[a-z0-9.:-]+", re.I)
MENTION = re.compile(r"(?:^|[^A-Za-z0-9_@/.])@([A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_])")
TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[.:\-][A-Za-z0-9_]+)*")
SEGMENT_SEP = re.compile(r"[.:\-]")
# Columns of a Mastodon actor URL: https://host/users/<name> and https://host/@<name>
ACTOR_URL = re.compile(r"https?://[^/]+/(?:users/|@)([A-Za-z0-9_.-]+)")


# ------------------------------------------------------------------ identities from the raw inputs

class IdentitySet(set):
    """The identities, and ``words``: those that are also ordinary words of the posts' texts."""

    words: frozenset[str] = frozenset()


def _words(node: Any, out: set[str]) -> None:
    """The words of a text field (a string, or Telegram's list of strings and entities), not counting
    those written as accounts (after ``@`` or ``/``)."""
    if isinstance(node, str):
        for m in TOKEN.finditer(node):
            if m.start() == 0 or node[m.start() - 1] not in "@/":
                out.add(m.group(0).lower())
    elif isinstance(node, list):
        for v in node:
            _words(v, out)
    elif isinstance(node, dict) and node.get("type") in ("plain", "bold", "italic", None):
        _words(node.get("text"), out)


def _add(out: set[str], value: Any) -> None:
    if value is None or isinstance(value, bool | dict | list):
        return
    text = str(value).strip().lstrip("@").lower()
    if not text:
        return
    m = ACTOR_URL.match(text)
    if m:
        text = m.group(1)
    out.add(text)
    if "@" in text:  # a Mastodon acct: user@instance
        out.add(text.split("@", 1)[0])


def _walk(node: Any, out: set[str], parents: tuple[str, ...] = ("", ""),
          words: set[str] | None = None) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            key = str(k).lower()
            if key in TEXT_KEYS and words is not None:
                _words(v, words)
            if key in HANDLE_KEYS or key in ID_KEYS:
                _add(out, v)
            if key in ("id", "pk", "id_str") and parents[-1] in ACCOUNT_OBJECTS:
                _add(out, v)
            if key == "rest_id" and parents[-2:] == ("user_results", "result"):
                _add(out, v)
            if key == "type" and v == "mention" and "text" in node:  # Telegram text entities
                _add(out, node["text"])
            _walk(v, out, (*parents[-1:], key), words)
    elif isinstance(node, list):
        for v in node:
            _walk(v, out, parents, words)
    elif isinstance(node, str):
        for did in DID.findall(node):
            out.add(did.lower())
            out.add(did.split(":")[-1].lower())
        for h in MENTION.findall(node):
            _add(out, h)


def _json_documents(path: Path) -> Iterator[Any]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                text = zf.read(name).decode("utf-8", errors="replace")
                # X archive parts: "window.YTD.<name>.part0 = [...]"
                yield from _json_text(text.split("=", 1)[1] if text.startswith("window.") else text)
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".csv":
        for row in csv.DictReader(io.StringIO(text)):
            yield {str(k).lower(): v for k, v in row.items() if k}
        return
    yield from _json_text(text)


def _json_text(text: str) -> Iterator[Any]:
    try:
        yield json.loads(text)
        return
    except ValueError:
        pass
    for line in text.splitlines():  # JSON Lines; malformed lines still count (as plain text)
        try:
            yield json.loads(line)
        except ValueError:
            yield line


def raw_identities(inbox: Path) -> IdentitySet:
    """Every account id, handle, DID and mentioned handle in the exports under ``inbox`` (``words``:
    those that also occur as ordinary words in the posts' texts)."""
    out: set[str] = set()
    words: set[str] = set()
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and not path.name.startswith(("_", ".")):
            for doc in _json_documents(path):
                _walk(doc, out, words=words)
    ids = IdentitySet(i for i in out if len(i) >= MIN_CHARS)
    ids.words = frozenset(ids & words)
    return ids


# ------------------------------------------------------------------ the published artefacts

def find_identities(text: str, identities: set[str], words: frozenset[str] = frozenset()) -> set[str]:
    """The identities that occur in ``text`` as whole tokens (or whole runs of a token's segments);
    those in ``words`` (ordinary words too; by default ``identities.words``) only right after ``@`` or
    ``/``."""
    words = words or getattr(identities, "words", frozenset())
    hits = set()
    for m in TOKEN.finditer(text):
        token = m.group(0).lower()
        if token in words:
            if m.start() > 0 and text[m.start() - 1] in "@/":
                hits.add(token)
            continue
        if token in identities:
            hits.add(token)
        parts = SEGMENT_SEP.split(token)
        if len(parts) > 1:
            seps = SEGMENT_SEP.findall(token)
            for i in range(len(parts)):
                run_ = parts[i]
                if run_ in identities and run_ not in words:
                    hits.add(run_)
                for j in range(i + 1, len(parts)):
                    run_ += seps[j - 1] + parts[j]
                    if run_ in identities and run_ not in words:
                        hits.add(run_)
    return hits


def _cell_texts(value: Any) -> Iterator[str]:
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _cell_texts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _cell_texts(v)


def scan_published_warehouse(warehouse: Path, identities: set[str]) -> dict[str, set[str]]:
    """``{"marts.<table>.<column>": identities found}`` over every text or nested column."""
    found: dict[str, set[str]] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
        assert "posts" in tables
        for table in tables:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ?", [table]).fetchall()
            for col, dtype in cols:
                if not any(t in dtype.upper() for t in ("VARCHAR", "[]", "STRUCT", "MAP", "JSON")):
                    continue
                hits: set[str] = set()
                q = f'select distinct "{col}" from marts."{table}"'
                for (value,) in con.execute(q).fetchall():
                    for text in _cell_texts(value):
                        hits |= find_identities(text, identities)
                if hits:
                    found[f"marts.{table}.{col}"] = hits
    finally:
        con.close()
    return found


def scan_parquet(path: Path, identities: set[str]) -> set[str]:
    hits: set[str] = set()
    table = pq.read_table(path)
    for name in table.column_names:
        for value in table.column(name).unique().to_pylist() if not _nested(table, name) else \
                table.column(name).to_pylist():
            for text in _cell_texts(value):
                hits |= find_identities(text, identities)
    return hits


def _nested(table: Any, name: str) -> bool:
    import pyarrow as pa

    t = table.schema.field(name).type
    return pa.types.is_nested(t)


def scan_files(root: Path, identities: set[str]) -> dict[str, set[str]]:
    """Every file below ``root``: Parquet by its values, anything else as (UTF-8) text."""
    found: dict[str, set[str]] = {}
    if not root.exists():
        return found
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            hits = scan_parquet(path, identities)
        elif path.suffix in (".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".ttf", ".duckdb"):
            continue
        else:
            hits = find_identities(path.read_bytes().decode("utf-8", errors="replace"), identities)
        if hits:
            found[str(path)] = hits
    return found


def scan_home(settings: Any, identities: set[str]) -> dict[str, set[str]]:
    """Every published artefact of ``settings.home`` (not the lake, not ``build/``)."""
    home = Path(settings.home)
    found = scan_published_warehouse(settings.warehouse, identities)
    for folder in (home / "published", settings.reports_dir, settings.alerts_dir, home / "runs",
                   settings.data_docs_dir):
        found.update(scan_files(folder, identities))
    return found


# ------------------------------------------------------------------ tests

def test_find_identities_matches_whole_tokens_only():
    ids = {"wijaya.teg", "humas_jabar", "did:plc:abcdefghij", "abcdefghij", "1100000000396038662"}
    assert find_identities("balas @wijaya.teg: ok", ids) == {"wijaya.teg"}
    assert find_identities("https://x.com/humas_jabar/status/1", ids) == {"humas_jabar"}
    assert find_identities("at://did:plc:abcdefghij/app.bsky.feed.post/3k", ids) == {
        "did:plc:abcdefghij", "abcdefghij"}
    assert find_identities("humas_jabarx wijaya.tegal 11000000003960386620", ids) == set()
    assert find_identities("author 1100000000396038662.", ids) == {"1100000000396038662"}
    # a handle that is also a name in the texts counts only where it is written as an account
    names = frozenset({"humas_jabar"})
    assert find_identities("Humas_Jabar said so", ids, names) == set()
    assert find_identities("cc @humas_jabar, x.com/humas_jabar", ids, names) == {"humas_jabar"}


def test_raw_identities_read_the_exports_without_adapters(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "x.jsonl").write_text(json.dumps({
        "data": [{"id": "1", "author_id": "1100000000396038662", "text": "RT @humas_jabar: hi"}],
        "includes": {"users": [{"id": "1100000000396038662", "username": "nasutio50"}]}}) + "\n")
    (inbox / "g.csv").write_text("id,text,author\n1,hello @PemkotSurabaya,Throwaway_gilang7\n"
                                 "2,Gilang says hi,gilang\n")
    (inbox / "b.jsonl").write_text(json.dumps({"did": "did:plc:jknec3djcnpytfp4uao627f2"}) + "\n")
    ids = raw_identities(inbox)
    assert {"1100000000396038662", "nasutio50", "humas_jabar", "pemkotsurabaya", "throwaway_gilang7",
            "did:plc:jknec3djcnpytfp4uao627f2", "jknec3djcnpytfp4uao627f2", "gilang"} <= ids
    assert ids.words == {"gilang"}  # "pemkotsurabaya" is only ever written as @PemkotSurabaya


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("identity-scan") / "home"
    generate(home / "inbox", posts=3000, seed=23, days=7)
    settings = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY})
    summary = run(settings)
    assert summary.get("failed") is None, summary.get("failed")
    return settings, raw_identities(home / "inbox")


@pytest.mark.e2e
def test_no_published_artefact_holds_a_raw_identity(published):
    settings, identities = published
    assert len(identities) > 500  # the scan has something to look for
    found = scan_home(settings, identities)
    report = "\n".join(f"{where}: {len(hits)} e.g. {sorted(hits)[:5]}"
                       for where, hits in sorted(found.items()))
    assert not found, "identities in published artefacts:\n" + report


@pytest.mark.e2e
def test_the_scan_finds_identities_where_they_are(published):
    """The same scan over the restricted lake does find them: it would see a leak."""
    settings, identities = published
    hits: set[str] = set()
    for path in sorted(Path(settings.lake, "posts").rglob("*.parquet"))[:20]:
        hits |= scan_parquet(path, identities)
    assert len(hits) > 50
