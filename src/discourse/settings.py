"""Settings: one typed object, read from ``DISCOURSE_*`` env vars over an optional ``discourse.toml``.

Precedence: explicit overrides > environment > ``discourse.toml`` (in ``$DISCOURSE_HOME`` or the working
directory, or the file named by ``DISCOURSE_CONFIG``) > the standard ``AWS_*`` variables (S3 settings
only) > defaults. No other module reads ``os.environ`` for project settings.

``Settings`` is a frozen pydantic dataclass: pydantic checks and converts every value (``"25"`` to 25,
``"yes"`` to True, a path to an absolute one) wherever it comes from, and pydantic-settings reads the
environment and the TOML file for it (``_Sources``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

DEMO_PSEUDONYM_KEY = "discourse-demo-key-not-secret"
_ENV_PREFIX = "DISCOURSE_"


class SettingsError(Exception):
    pass


# A yes/no setting: 1/0, true/false, yes/no, on/off (any case, surrounding blanks ignored); else an error.
Flag = Annotated[bool, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)]
# A folder given as a path: ``~`` expanded and made absolute (relative to the working directory).
LocalPath = Annotated[Path, AfterValidator(lambda p: p.expanduser().resolve())]
# A misspelt setting is an error (not ignored); a number written in discourse.toml for a text setting
# (``smtp_to = 5``) is that text.
_CONFIG = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


@dataclass(frozen=True, config=_CONFIG)
class Settings:
    home: LocalPath = field(default_factory=lambda: Path.cwd() / "discourse_home")
    pseudonymise: Flag = True
    pseudonym_key: str | None = field(default=None, repr=False)  # a secret: never in a repr
    # What the marts publish about accounts (docs/security.md, "Identities in the marts"): post links
    # as exported (most name their author) instead of identity-free ones, and @handles in texts and
    # mentions instead of `@user` and keys. Off by default; teams whose policy allows it switch them on.
    publish_urls: Flag = False
    publish_handles: Flag = False
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
    smtp_starttls: Flag = False
    # Where people open the Data Docs and reports: alerts link to <public_base_url>/<path under home>
    # (e.g. https://discourse.example.org/gx/data_docs/index.html); unset, they show the worker's path.
    public_base_url: str | None = None
    # An alert seen again within this many days is a repeat: a short daily "still failing" reminder,
    # not a new alert (docs/quality.md, "Grouping").
    alert_repeat_days: int = 7
    # The Airflow DAG's deadline: a night still running this many minutes after it was queued sends
    # a "night overran" alert (Airflow DeadlineAlert; docs/operations.md). The run itself goes on. 0: none.
    night_deadline_minutes: int = 240
    # dbt: models built at once. They share one DuckDB and its one memory_limit, so under a tight
    # limit use 1 (docs/scaling.md, "The 10M attempt": two post-sized models built at once ran out
    # of a 2 GB limit at 10M posts).
    dbt_threads: int = 2
    dbt_target: str = "local"
    dbt_project_dir: LocalPath | None = None  # default: the packaged project, or the checkout's dbt_project/
    # DuckDB in the dbt build: memory it may use before spilling to duckdb_temp_directory (a size like
    # "4GB" or a share of RAM like "80%", DuckDB's own default), and its threads (0: one per core).
    duckdb_memory_limit: str = "80%"
    duckdb_threads: int = 0
    duckdb_temp_directory: LocalPath | None = None  # default: <home>/tmp/duckdb
    # The models that hold a whole set of posts in memory at once (topics, sentiment, post edges,
    # emerging-story terms, author edges) build more rows than this in parts, one statement each
    # (dbt_project/macros/post_parts.sql): 2.5M posts of topics fit a 1.8 GiB DuckDB limit, 5M did
    # not. 0: never in parts.
    dbt_part_posts: int = 1_000_000
    # Publish: how many published snapshots (one per run, docs/incremental.md "Publishing") are kept
    # for "as of" queries; older ones and the files only they used are deleted (at least 2).
    publish_keep_snapshots: int = 7
    # Great Expectations: the validation results (and their Data Docs pages) of each suite's last this
    # many runs are kept; older ones are deleted before a checkpoint runs (GX rebuilds the Data Docs
    # index from every stored result, so an unbounded store makes every gate slower each night).
    gx_keep_runs: int = 30
    # The raw and marts gates validate a relation of more rows than this in parts (by hash of
    # post_uid), one GX run each, merged into one result: a gate's memory stays bounded at any size
    # (``quality.parts``; about 1.1 GB of peak RSS per million rows of a part).
    gate_part_rows: int = 1_000_000
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
    is_demo: Flag = False

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
        """A copy with ``changes``, checked and converted like loaded settings."""
        unknown = sorted(set(changes) - _NAMES)
        if unknown:
            raise TypeError(f"with_() got unknown settings {unknown}")
        try:
            return dataclasses.replace(self, **changes)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, {})) from None

    @field_validator("inbox_url", "lake_url")
    @classmethod
    def _storage_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        """``s3://bucket`` or ``s3://bucket/prefix``: the only object storage URLs the pipeline reads."""
        if url is None:
            return None
        bucket = url[len("s3://"):].split("/", 1)[0] if url.startswith("s3://") else ""
        if not bucket or "?" in url or "#" in url:
            folder = (info.field_name or "").removesuffix("_url")
            raise ValueError(f"{url!r} is not an s3://bucket/prefix URL (leave it unset for <home>/{folder} "
                             "on local disk)")
        return url


_NAMES = frozenset(f.name for f in dataclasses.fields(Settings))
_SECRETS = frozenset(f.name for f in dataclasses.fields(Settings) if not f.repr)
# Settings that fall back to the standard AWS variables (first one set wins).
_AWS_ALIASES = {
    "s3_endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "s3_region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "s3_access_key_id": ("AWS_ACCESS_KEY_ID",),
    "s3_secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "s3_session_token": ("AWS_SESSION_TOKEN",),
}
# Other spellings of a setting's variable; where both are set, this one wins.
_ENV_ALIASES = {"pseudonymise": "DISCOURSE_PSEUDONYMIZE"}
# Settings only code may set (``with_``/overrides), never the environment or discourse.toml.
_CODE_ONLY = {"is_demo": "only `discourse demo` runs on demo settings (and the public demo key)"}


def _env_name(name: str) -> str:
    """The environment variable of a setting: ``smtp_port`` -> ``DISCOURSE_SMTP_PORT``."""
    return f"{_ENV_PREFIX}{name.upper()}"


class _Sources(BaseSettings, Settings):
    """The settings' fields as pydantic-settings' sources read them: ``DISCOURSE_<NAME>`` variables and
    ``discourse.toml`` keys. Only a source's schema: values are checked by ``Settings`` itself."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, case_sensitive=False)


class _EnvSource(EnvSettingsSource):
    """``DISCOURSE_*`` variables from a given mapping, which replaces ``os.environ`` (never merged in)."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables
        super().__init__(_Sources)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Names are upper case (as documented and as POSIX environments keep them); an empty value is unset.
        return {k.lower(): v for k, v in self._variables.items() if k.isupper() and v != ""}


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings, from ``env`` (default ``os.environ``; a given mapping is read instead of it),
    ``discourse.toml`` and ``overrides`` (setting names; ``None`` values are ignored)."""
    env = dict(os.environ if env is None else env)
    unknown = sorted(set(overrides) - _NAMES)
    if unknown:
        raise TypeError(f"load_settings() got unknown settings {unknown}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    for name, why in _CODE_ONLY.items():
        if env.get(_env_name(name)):
            raise SettingsError(f"{_env_name(name)} cannot be set in the environment: {why}")

    # (values, where each came from), highest precedence first
    layers: list[tuple[dict[str, Any], dict[str, str]]] = [(overrides, {k: k for k in overrides})]
    variables, spelled = dict(env), {}
    for name, alias in _ENV_ALIASES.items():
        if env.get(alias):
            variables[_env_name(name)] = env[alias]
            spelled[name] = alias
    from_env = _EnvSource(variables)()
    layers.append((from_env, {k: spelled.get(k, _env_name(k)) for k in from_env}))
    layers.append(_read_toml(env, overrides))
    # the AWS variable each S3 setting falls back to, where one is set
    aws = {name: var for name, keys in _AWS_ALIASES.items()
           if (var := next((k for k in keys if env.get(k)), None))}
    layers.append(({name: env[var] for name, var in aws.items()}, aws))

    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for given, origin in reversed(layers):
        values.update(given)
        where.update(origin)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, where)) from None


def _read_toml(env: Mapping[str, str], overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings of the first ``discourse.toml`` found (a ``[discourse]`` table, or the whole file)."""
    home_hint = overrides.get("home") or env.get("DISCOURSE_HOME")
    candidates = []
    if env.get("DISCOURSE_CONFIG"):
        candidates.append(Path(env["DISCOURSE_CONFIG"]).expanduser())
    if home_hint:
        candidates.append(Path(home_hint).expanduser() / "discourse.toml")
    candidates.append(Path.cwd() / "discourse.toml")
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        return {}, {}
    try:
        source = TomlConfigSettingsSource(_Sources, toml_file=path)
        if isinstance(source.toml_data.get("discourse"), dict):
            source = TomlConfigSettingsSource(_Sources, toml_file=path, toml_table_header=("discourse",))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(source.toml_data) - _NAMES
    if unknown:
        raise SettingsError(f"{path}: unknown settings {sorted(unknown)}")
    for name in sorted(set(source.toml_data) & set(_CODE_ONLY)):
        raise SettingsError(f"{path}: {name} cannot be set in discourse.toml: {_CODE_ONLY[name]}")
    given = source()
    return given, {k: f"{k} in {path}" for k in given}


def _explain(exc: ValidationError, where: Mapping[str, str]) -> str:
    """pydantic's errors as one line per setting, named as it was given (``DISCOURSE_SMTP_PORT``, a key
    in discourse.toml, an ``AWS_*`` variable); a secret's value is never repeated."""
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "value_error":
            reason = str(error["ctx"]["error"])
        else:
            reason = error["msg"]
            if name not in _SECRETS:
                reason += f" (got {error['input']!r})"
        problems.append(f"{where.get(name, name)}: {reason}")
    return "bad setting " + "; ".join(problems)


def apply_duckdb_limits(con: Any, settings: Any, *, spill: str = "session") -> None:
    """Give a DuckDB connection the project's memory limit, threads and spill folder
    (``duckdb_memory_limit``, ``duckdb_threads``, ``duckdb_temp_directory``), as the dbt build has
    them: every heavy DuckDB of a night (gates, publish, report) stays inside the same bounds.

    Each process spills into its own subfolder (``<spill dir>/<spill>-<pid>``): DuckDB names its
    temporary files alike in every instance and deletes the folder it created when it closes.
    """
    statements = []
    limit = str(getattr(settings, "duckdb_memory_limit", "") or "").strip()
    if limit:
        statements.append(f"set memory_limit = '{limit.replace(chr(39), '')}'")
    threads = int(getattr(settings, "duckdb_threads", 0) or 0)
    if threads > 0:
        statements.append(f"set threads = {threads}")
    spill_dir = getattr(settings, "duckdb_spill_dir", None)
    if spill_dir is not None:
        with contextlib.suppress(OSError):  # DuckDB creates the last level only
            Path(spill_dir).mkdir(parents=True, exist_ok=True)
        folder = str(Path(spill_dir) / f"{spill}-{os.getpid()}").replace("'", "''")
        statements.append(f"set temp_directory = '{folder}'")
    for statement in statements:
        try:
            con.execute(statement)
        except Exception as exc:  # noqa: BLE001 - e.g. an instance shared with dbt that already spilled
            import logging

            logging.getLogger(__name__).debug("%s: %s", statement, exc)
