"""S3-compatible object storage for the inbox and the lake (``s3://bucket/prefix``).

The store is reached through pyarrow's ``S3FileSystem`` (already a dependency; DuckDB's httpfs cannot
be installed offline for DuckDB 2.0). DuckDB reads ``s3://`` paths and globs through the same
filesystem, wrapped for fsspec and registered on the connection (``register``), so the dbt sources, the
gates and the remap read the lake in place with ``read_parquet('s3://.../posts/**/*.parquet')``.

* ``S3Options``: endpoint, region and credentials, from the settings (``s3_*``) or, inside the dbt
  build, from the environment the runner sets (``env`` / ``from_env``). Secrets never appear in a repr.
* ``ObjectStore``: one ``s3://bucket/prefix`` with the few operations the pipeline needs: list, read,
  write a small object in one PUT, upload and download files streamed, server-side copy, delete. A PUT
  (and a completed upload) makes the whole object visible at once, never a part of it; uploads are
  checked against the local file's size.
* ``inbox_store`` / ``lake_store``: the settings' stores, or None for local disk.

Nothing here knows the lake's layout; ``ingest.store`` and ``ingest.lake`` do.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow.fs as pafs

SCHEME = "s3://"
COPY_CHUNK = 8 << 20
# Parallel requests for many small objects (manifests, deletes).
IO_THREADS = 16
# What the dbt build reads back from its environment (``S3Options.env`` / ``from_env``).
ENV_PREFIX = "DISCOURSE_S3_"
_ENV_FIELDS = ("endpoint_url", "region", "access_key_id", "secret_access_key", "session_token")
SECRET_FIELDS = ("access_key_id", "secret_access_key", "session_token")


class ObjectStoreError(OSError):
    """An object storage request failed; the message names the object (never a credential)."""


def is_url(location: object) -> bool:
    """Whether ``location`` is an object storage URL (``s3://...``) rather than a local path."""
    return isinstance(location, str) and location.startswith(SCHEME)


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b")``."""
    if not is_url(url):
        raise ValueError(f"{url!r} is not an s3:// URL")
    bucket, _, prefix = url[len(SCHEME):].partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket")
    return bucket, prefix.strip("/")


@dataclass(frozen=True)
class S3Options:
    """How to reach the store. Unset credentials leave the AWS SDK's own chain to find them."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Any) -> S3Options:
        return cls(**{f: getattr(settings, f"s3_{f}", None) or None for f in _ENV_FIELDS})

    def env(self, *, secrets: bool) -> dict[str, str]:
        """The options as ``DISCOURSE_S3_*`` variables for the in-process dbt build to read back
        (``from_env``); the credentials only with ``secrets`` (never returned to Airflow as XCom)."""
        return {
            ENV_PREFIX + f.upper(): str(getattr(self, f))
            for f in _ENV_FIELDS
            if getattr(self, f) and (secrets or f not in SECRET_FIELDS)
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Options:
        return cls(**{f: env.get(ENV_PREFIX + f.upper()) or None for f in _ENV_FIELDS})

    def filesystem(self) -> pafs.S3FileSystem:
        import pyarrow.fs as pafs

        kwargs: dict[str, Any] = {"region": self.region} if self.region else {}
        if self.endpoint_url:
            scheme, sep, rest = self.endpoint_url.partition("://")
            if sep:
                kwargs["scheme"] = scheme
                kwargs["endpoint_override"] = rest.rstrip("/")
            else:
                kwargs["endpoint_override"] = self.endpoint_url.rstrip("/")
        if self.access_key_id or self.secret_access_key:
            kwargs["access_key"] = self.access_key_id or ""
            kwargs["secret_key"] = self.secret_access_key or ""
            if self.session_token:
                kwargs["session_token"] = self.session_token
        return pafs.S3FileSystem(**kwargs)


@dataclass(frozen=True)
class ObjectInfo:
    """One object: its path below the store's prefix, size and last-modified time (ns since epoch, in
    whole seconds: a listing may give milliseconds where a HEAD gives seconds, and the two must agree,
    as the nightly run compares them with the manifests)."""

    rel: str
    size: int
    mtime_ns: int


def _whole_seconds(ns: int | None) -> int:
    ns = int(ns or 0)
    return ns - ns % 1_000_000_000


class ObjectStore:
    """One ``s3://bucket/prefix``. Paths given to the methods are relative to the prefix (``rel``)."""

    def __init__(self, url: str, options: S3Options):
        self.bucket, self.prefix = split_url(url)
        self.url = SCHEME + "/".join(p for p in (self.bucket, self.prefix) if p)
        self.options = options
        self._fs: pafs.S3FileSystem | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ObjectStore({self.url!r})"

    @property
    def fs(self) -> pafs.S3FileSystem:
        if self._fs is None:
            with self._lock:
                if self._fs is None:
                    self._fs = self.options.filesystem()
        return self._fs

    # ----- names
    def key(self, rel: str = "") -> str:
        """``bucket/prefix/rel``: the path pyarrow's filesystem takes."""
        rel = rel.strip("/")
        return "/".join(p for p in (self.bucket, self.prefix, rel) if p)

    def uri(self, rel: str = "") -> str:
        """``s3://bucket/prefix/rel``: the path DuckDB (with ``register``) and the manifests use."""
        return SCHEME + self.key(rel)

    def rel(self, path: str) -> str:
        """The inverse of ``key`` / ``uri``."""
        path = path.removeprefix(SCHEME)
        base = self.key()
        if path != base and not path.startswith(base + "/"):
            raise ValueError(f"{SCHEME}{path} is not under {self.url}")
        return path[len(base):].lstrip("/")

    def _error(self, what: str, rel: str, exc: BaseException) -> ObjectStoreError:
        return ObjectStoreError(f"{self.uri(rel)}: {what} failed ({type(exc).__name__}: {exc})")

    # ----- reading
    def list(self, rel: str = "", *, recursive: bool = True) -> list[ObjectInfo]:
        """The objects below ``rel`` (none when it does not exist), sorted by path."""
        import pyarrow.fs as pafs

        try:
            infos = self.fs.get_file_info(
                pafs.FileSelector(self.key(rel), recursive=recursive, allow_not_found=True))
        except OSError as exc:
            raise self._error("listing", rel, exc) from None
        out = [
            ObjectInfo(self.rel(i.path), int(i.size or 0), _whole_seconds(i.mtime_ns))
            for i in infos
            if i.type == pafs.FileType.File
        ]
        return sorted(out, key=lambda o: o.rel)

    def info(self, rel: str) -> ObjectInfo | None:
        import pyarrow.fs as pafs

        try:
            [i] = self.fs.get_file_info([self.key(rel)])
        except OSError as exc:
            raise self._error("reading information", rel, exc) from None
        if i.type != pafs.FileType.File:
            return None
        return ObjectInfo(rel.strip("/"), int(i.size or 0), _whole_seconds(i.mtime_ns))

    def exists(self, rel: str) -> bool:
        return self.info(rel) is not None

    def read_bytes(self, rel: str) -> bytes:
        try:
            with self.fs.open_input_stream(self.key(rel), compression=None) as fh:
                return fh.read()
        except FileNotFoundError:
            raise
        except OSError as exc:
            if "does not exist" in str(exc) or "NoSuchKey" in str(exc):
                raise FileNotFoundError(self.uri(rel)) from None
            raise self._error("reading", rel, exc) from None

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8")

    def read_many(self, rels: Iterable[str]) -> list[bytes]:
        """Several small objects, fetched in parallel, in the order given."""
        rels = list(rels)
        if len(rels) <= 1:
            return [self.read_bytes(r) for r in rels]
        with ThreadPoolExecutor(min(IO_THREADS, len(rels))) as pool:
            return list(pool.map(self.read_bytes, rels))


    def download(self, rel: str, target: Path) -> None:
        """Stream the object to ``target`` (written as ``.part``, renamed when complete)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        try:
            with self.fs.open_input_stream(self.key(rel), compression=None) as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK)
            os.replace(part, target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise self._error("download", rel, exc) from None

    # ----- writing
    def write_bytes(self, rel: str, data: bytes) -> None:
        """One PUT of the whole object: readers see the old object or the new one."""
        try:
            with self.fs.open_output_stream(self.key(rel), compression=None) as fh:
                fh.write(data)
        except OSError as exc:
            raise self._error("writing", rel, exc) from None

    def write_text(self, rel: str, text: str) -> None:
        self.write_bytes(rel, text.encode("utf-8"))

    def upload(self, source: Path, rel: str) -> None:
        """Stream a local file to ``rel``; the object appears once the upload completes. A size that
        does not match the local file afterwards (an upload cut short) removes it and raises."""
        size = source.stat().st_size
        try:
            with open(source, "rb") as src:
                with self.fs.open_output_stream(self.key(rel), compression=None) as dst:
                    shutil.copyfileobj(src, dst, COPY_CHUNK)
        except OSError as exc:
            raise self._error(f"upload of {source}", rel, exc) from None
        got = self.info(rel)
        if got is None or got.size != size:
            self.delete(rel)
            raise ObjectStoreError(
                f"{self.uri(rel)}: upload of {source} incomplete ({got.size if got else 0} of {size} bytes)")

    def upload_many(self, files: Mapping[str, Path]) -> None:
        """``upload`` of each ``{rel: local file}``, in parallel."""
        self._each(lambda item: self.upload(item[1], item[0]), files.items())

    def copy_many(self, pairs: Mapping[str, str]) -> None:
        """``copy`` of each ``{source rel: destination rel}``, in parallel."""
        self._each(lambda item: self.copy(*item), pairs.items())

    def _each(self, fn: Any, items: Iterable[Any]) -> None:
        items = list(items)
        if len(items) <= 1:
            for item in items:
                fn(item)
            return
        with ThreadPoolExecutor(min(IO_THREADS, len(items))) as pool:
            list(pool.map(fn, items))

    def copy(self, src_rel: str, dst_rel: str) -> None:
        """Server-side copy; ``dst_rel`` appears whole."""
        try:
            self.fs.copy_file(self.key(src_rel), self.key(dst_rel))
        except OSError as exc:
            raise self._error(f"copy to {self.uri(dst_rel)}", src_rel, exc) from None

    def delete(self, rel: str) -> None:
        """Remove one object; a missing one is not an error."""
        try:
            self.fs.delete_file(self.key(rel))
        except FileNotFoundError:
            pass
        except OSError as exc:
            if "does not exist" not in str(exc) and "NoSuchKey" not in str(exc):
                raise self._error("delete", rel, exc) from None

    def delete_many(self, rels: Iterable[str]) -> None:
        self._each(self.delete, rels)

    def delete_tree(self, rel: str) -> None:
        """Remove every object below ``rel`` (batched deletes; a missing prefix is not an error)."""
        if not rel.strip("/"):
            raise ValueError("refusing to delete the whole store")
        try:
            self.fs.delete_dir(self.key(rel))
        except FileNotFoundError:
            pass
        except OSError as exc:
            if "does not exist" not in str(exc) and "NoSuchKey" not in str(exc):
                raise self._error("delete", rel, exc) from None

    # ----- DuckDB
    def fsspec(self) -> Any:
        """The store's filesystem for DuckDB (``con.register_filesystem``), as fsspec's wrapper of
        pyarrow's: DuckDB then reads ``s3://bucket/...`` paths and globs through it."""
        return filesystem_for_duckdb(self.options)

    def register(self, con: Any) -> None:
        register(con, self.options)


def filesystem_for_duckdb(options: S3Options) -> Any:
    """fsspec's wrapper of pyarrow's S3 filesystem, listing a prefix in one recursive listing (fsspec's
    default walks it folder by folder: a request per partition of the lake for every glob)."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class _ListingWrapper(ArrowFSWrapper):
        def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
                 **kwargs: Any) -> Any:
            import pyarrow.fs as pafs

            path = self._strip_protocol(path).rstrip("/")
            infos = self.fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
            base = path.count("/")
            out: dict[str, Any] = {}
            if withdirs and infos:
                out[path] = {"name": path, "size": 0, "type": "directory", "mtime": None}
            for info in infos:
                if maxdepth is not None and info.path.count("/") - base > maxdepth:
                    continue
                if info.type == pafs.FileType.Directory and not withdirs:
                    continue
                out[info.path] = self._make_entry(info)
            if not out and self.isfile(path):
                out[path] = self.info(path)
            names = sorted(out)
            return {n: out[n] for n in names} if detail else names

    return _ListingWrapper(options.filesystem())


def register(con: Any, options: S3Options) -> None:
    """Let DuckDB connection ``con`` read ``s3://`` paths (and globs) through pyarrow's S3 client
    (DuckDB's own, httpfs, is not installed). A filesystem registered before is replaced."""
    if "s3" in con.list_filesystems():
        con.unregister_filesystem("s3")
    con.register_filesystem(filesystem_for_duckdb(options))


def inbox_store(settings: Any) -> ObjectStore | None:
    """The inbox on object storage (``inbox_url``), or None when it is the local ``<home>/inbox``."""
    url = getattr(settings, "inbox_url", None)
    return ObjectStore(url, S3Options.from_settings(settings)) if url else None


def lake_store(settings: Any) -> ObjectStore | None:
    """The lake on object storage (``lake_url``), or None when it is the local ``<home>/lake``."""
    url = getattr(settings, "lake_url", None)
    return ObjectStore(url, S3Options.from_settings(settings)) if url else None


def store_for(url: str, settings: Any) -> ObjectStore:
    """A store for any ``s3://`` URL, reached with the settings' endpoint and credentials."""
    return ObjectStore(url, S3Options.from_settings(settings))
