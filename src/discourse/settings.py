"""Settings: one typed object, read from ``DISCOURSE_*`` env vars over an optional ``discourse.toml``.

Precedence: explicit overrides > environment > ``discourse.toml`` (in ``$DISCOURSE_HOME`` or the working
directory, or the file named by ``DISCOURSE_CONFIG``) > defaults. No other module reads ``os.environ``
for project settings.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEMO_PSEUDONYM_KEY = "discourse-demo-key-not-secret"


class SettingsError(Exception):
    pass


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path.cwd() / "discourse_home")
    pseudonymise: bool = True
    pseudonym_key: str | None = field(default=None, repr=False)  # a secret: never in a repr
    # What the marts publish about accounts (docs/security.md, "Identities in the marts"): post links
    # as exported (most name their author) instead of identity-free ones, and @handles in texts and
    # mentions instead of `@user` and keys. Off by default; teams whose policy allows it switch them on.
    publish_urls: bool = False
    publish_handles: bool = False
    # Days of posts the lake keeps: each nightly run first forgets posts created before today minus
    # this many days (`discourse forget --before`, docs/security.md "Erasure and retention"). None: all.
    retention_days: int | None = None
    # Alert sinks (both optional; alerts are always also written under <home>/alerts/).
    alert_webhook_url: str | None = field(default=None, repr=False)  # a secret (token in the URL)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "discourse@localhost"
    smtp_to: str | None = None  # comma-separated
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    # Where people open the Data Docs and reports: alerts link to <public_base_url>/<path under home>
    # (e.g. https://discourse.example.org/gx/data_docs/index.html); unset, they show the worker's path.
    public_base_url: str | None = None
    # An alert seen again within this many days is a repeat: a short daily "still failing" reminder,
    # not a new alert (docs/quality.md, "Grouping").
    alert_repeat_days: int = 7
    # The Airflow DAG's deadline: a night still running this many minutes after it was queued sends
    # a "night overran" alert (Airflow DeadlineAlert; docs/operations.md). The run itself goes on. 0: none.
    night_deadline_minutes: int = 240
    # dbt
    dbt_threads: int = 2
    dbt_target: str = "local"
    dbt_project_dir: Path | None = None  # default: the packaged project, or the checkout's dbt_project/
    # DuckDB in the dbt build: memory it may use before spilling to duckdb_temp_directory (a size like
    # "4GB" or a share of RAM like "80%", DuckDB's own default), and its threads (0: one per core).
    duckdb_memory_limit: str = "80%"
    duckdb_threads: int = 0
    duckdb_temp_directory: Path | None = None  # default: <home>/tmp/duckdb
    # Publish: how many published snapshots (one per run, docs/incremental.md "Publishing") are kept
    # for "as of" queries; older ones and the files only they used are deleted (at least 2).
    publish_keep_snapshots: int = 7
    # Quality
    volume_change_threshold: float = 0.8  # relative drop/jump vs trailing baseline that alerts
    # How long each source may stay quiet before a freshness warning: "name=duration" pairs, a name
    # being a platform or an export format, "*" every platform seen so far ("*=3d, x=36h, reddit=off").
    quiet_after: str = "*=3d"
    # Ingest limits against hostile or broken input (``ingest.sources.Limits``; README "Limits and
    # hostile input"): over a file limit the file is refused, over a record limit the record quarantined.
    ingest_max_decompressed_bytes: int = 256 << 30  # bytes one file (or zip member) may decompress to
    ingest_max_ratio: float = 100.0  # decompressed / compressed size (past the first 16 MiB)
    ingest_max_record_bytes: int = 16 << 20  # bytes of one line or record
    ingest_max_lines: int = 1_000_000_000  # lines in one file
    ingest_max_json_depth: int = 256  # nesting of JSON parsed in Python
    # Object storage (docs/scaling.md, "Object storage"): the inbox and/or the lake on an S3-compatible
    # store, as ``s3://bucket/prefix`` (the inbox's exports, or the lake's posts/, quarantine/, context/
    # and _manifest/, directly under the prefix). Unset: ``<home>/inbox`` and ``<home>/lake`` on local disk.
    inbox_url: str | None = None
    lake_url: str | None = None
    # The store: endpoint (unset: AWS S3 itself; e.g. ``http://127.0.0.1:9000`` for MinIO), region and
    # credentials. Each falls back to the standard AWS variable (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL,
    # AWS_REGION / AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); with
    # no key at all the AWS SDK's own chain applies (shared credentials file, instance role).
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)  # a secret: never in a repr
    s3_session_token: str | None = field(default=None, repr=False)  # a secret: never in a repr
    # Set only by `discourse demo` (in code, ``with_(is_demo=True)``): it allows the public demo key and
    # marks the published warehouse as demo. Never read from the environment or discourse.toml.
    is_demo: bool = False

    # ----- derived paths -----
    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def inbox_location(self) -> str:
        """Where the inbox is: ``inbox_url`` (``s3://...``), else the local ``inbox`` folder."""
        return self.inbox_url.rstrip("/") if self.inbox_url else str(self.inbox)

    @property
    def lake_location(self) -> str:
        """Where the lake is read and written: ``lake_url`` (``s3://...``), else the local ``lake``
        folder. With ``lake_url`` set, ``lake`` and the folders below it are not used."""
        return self.lake_url.rstrip("/") if self.lake_url else str(self.lake)

    @property
    def posts_dir(self) -> Path:
        return self.lake / "posts"

    @property
    def quarantine_dir(self) -> Path:
        return self.lake / "quarantine"

    @property
    def manifest_dir(self) -> Path:
        return self.lake / "_manifest"

    @property
    def warehouse(self) -> Path:
        """The published DuckDB file analysts query."""
        return self.home / "warehouse.duckdb"

    @property
    def build_dir(self) -> Path:
        return self.home / "build"

    @property
    def build_warehouse(self) -> Path:
        """Where dbt builds; it replaces ``warehouse`` only after the marts gate passes."""
        return self.build_dir / "warehouse.duckdb"

    @property
    def duckdb_spill_dir(self) -> Path:
        """Where DuckDB spills what does not fit in ``duckdb_memory_limit``."""
        return self.duckdb_temp_directory or self.home / "tmp" / "duckdb"

    @property
    def reference_dir(self) -> Path:
        """Reference data derived from installed packages (e.g. VADER's lexicon) for dbt to read."""
        return self.home / "reference"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def gx_dir(self) -> Path:
        return self.home / "gx"

    @property
    def data_docs_dir(self) -> Path:
        return self.gx_dir / "data_docs"

    @property
    def alerts_dir(self) -> Path:
        return self.home / "alerts"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def require_pseudonym_key(self) -> str | None:
        """The key for author pseudonymisation, or a clear error when it is needed and missing."""
        if not self.pseudonymise:
            return None
        if self.pseudonym_key == DEMO_PSEUDONYM_KEY and not self.is_demo:
            raise SettingsError(
                "DISCOURSE_PSEUDONYM_KEY is the public demo key: anyone can re-derive the author keys "
                "it makes; only `discourse demo` may use it. Set a secret key of your own")
        if self.pseudonym_key:
            return self.pseudonym_key
        if self.is_demo:
            return DEMO_PSEUDONYM_KEY
        raise SettingsError(
            "pseudonymisation is on but no key is set: set DISCOURSE_PSEUDONYM_KEY (or "
            "pseudonym_key in discourse.toml), or switch it off with DISCOURSE_PSEUDONYMISE=false"
        )

    def with_(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
# Settings that fall back to the standard AWS variables (first one set wins).
_AWS_ALIASES = {
    "s3_endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "s3_region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "s3_access_key_id": ("AWS_ACCESS_KEY_ID",),
    "s3_secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "s3_session_token": ("AWS_SESSION_TOKEN",),
}
# Settings only code may set (``with_``/overrides), never the environment or discourse.toml.
_CODE_ONLY = {"is_demo": "only `discourse demo` runs on demo settings (and the public demo key)"}


def _coerce(name: str, value: Any) -> Any:
    kind = _FIELDS[name].type
    if value is None:
        return None
    if name in ("home", "dbt_project_dir", "duckdb_temp_directory"):
        return Path(value).expanduser().resolve()
    if kind == "bool":
        return _bool(value)
    if kind in ("int", "int | None"):
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    home_hint = overrides.get("home") or env.get("DISCOURSE_HOME")
    candidates = []
    if env.get("DISCOURSE_CONFIG"):
        candidates.append(Path(env["DISCOURSE_CONFIG"]))
    if home_hint:
        candidates.append(Path(home_hint) / "discourse.toml")
    candidates.append(Path.cwd() / "discourse.toml")
    for cand in candidates:
        if cand.is_file():
            with open(cand, "rb") as fh:
                data = tomllib.load(fh)
            data = data.get("discourse", data)
            unknown = set(data) - set(_FIELDS)
            if unknown:
                raise SettingsError(f"{cand}: unknown settings {sorted(unknown)}")
            for name in sorted(set(data) & set(_CODE_ONLY)):
                raise SettingsError(f"{cand}: {name} cannot be set in discourse.toml: {_CODE_ONLY[name]}")
            values.update(data)
            break
    for name in _FIELDS:
        key = f"DISCOURSE_{name.upper()}"
        if key in env and env[key] != "":
            if name in _CODE_ONLY:
                raise SettingsError(f"{key} cannot be set in the environment: {_CODE_ONLY[name]}")
            values[name] = env[key]
    # Convenience aliases.
    if "DISCOURSE_PSEUDONYMIZE" in env:
        values["pseudonymise"] = env["DISCOURSE_PSEUDONYMIZE"]
    # The standard AWS variables, where neither the environment nor discourse.toml set the setting.
    for name, keys in _AWS_ALIASES.items():
        if name not in values:
            given = next((env[k] for k in keys if env.get(k)), None)
            if given is not None:
                values[name] = given
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        coerced = {k: _coerce(k, v) for k, v in values.items()}
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"bad setting: {exc}") from exc
    for name in ("inbox_url", "lake_url"):
        _check_storage_url(name, coerced.get(name))
    return Settings(**coerced)


def _check_storage_url(name: str, url: str | None) -> None:
    """``s3://bucket`` or ``s3://bucket/prefix``: the only object storage URLs the pipeline reads."""
    if url is None:
        return
    bucket = url[len("s3://"):].split("/", 1)[0] if url.startswith("s3://") else ""
    if not bucket or "?" in url or "#" in url:
        raise SettingsError(
            f"DISCOURSE_{name.upper()}: {url!r} is not an s3://bucket/prefix URL (leave it unset for "
            f"<home>/{name.removesuffix('_url')} on local disk)")
