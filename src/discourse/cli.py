"""`discourse`: the command line. Each command is a thin shell over ``discourse.pipeline`` and friends.

Errors are one clear line on stderr (with the file/record they concern) and a non-zero exit code.
"""

from __future__ import annotations

import inspect
import json
import sys
import threading
import time
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal

import typer

from discourse.settings import Settings, SettingsError, load_settings

# What a command gets: the parsed command line (global options, the command's own, ``fn`` to run).
Args = SimpleNamespace


class CliError(Exception):
    pass


def _echo(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- progress

class Counter:
    """One counted piece of work (a file's records, posts generated, dbt nodes), shown by its
    ``Reporter``: advanced by increments (``counter(k)``, as ingest reports) or set to a running total
    (``counter.set(n)``, as the generator and dbt report)."""

    def __init__(self, reporter: Reporter, label: str, unit: str, total: int | None = None):
        self.reporter, self.label, self.unit, self.total = reporter, label, unit, total
        self.n, self.detail = 0, ""
        self.t0 = self.shown = time.perf_counter()
        self.printed: int | None = None  # the count last written as a plain line
        self.task: Any = None  # the rich task, on a terminal

    def __call__(self, k: int) -> None:
        self.set(self.n + k)

    def set(self, n: int, total: int | None = None, detail: str | None = None) -> None:
        self.n = n
        if total is not None:
            self.total = total
        if detail is not None:
            self.detail = detail
        self.reporter._update(self)

    def line(self) -> str:
        """The counter as a log line: ``[dbt build] 120/600 nodes (model posts: success), 41s``."""
        seconds = time.perf_counter() - self.t0
        count = f"{self.n:,}/{self.total:,}" if self.total else f"{self.n:,}"
        detail = f" ({self.detail})" if self.detail else ""
        rate = f"{self.n / max(seconds, 1e-9):,.0f}/s, " if self.n else ""
        return f"[{self.label}] {count} {self.unit}{detail}, {rate}{_duration(seconds)}"

    def close(self) -> None:
        self.reporter._close(self)

    def __enter__(self) -> Counter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _duration(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{seconds:.0f}s"


class Reporter:
    """Where a long command says how far it is. Used as the pipeline's ``echo`` (each line goes to
    stdout) and as its source of counters (``counter``; ``discourse.pipeline.counter`` asks for them).

    When stderr is a terminal, counters are rich progress bars (count, rate, elapsed time) under the
    printed lines, beside a spinner with the time since the last line. Otherwise (CI logs, cron) they
    are plain lines on stderr, at most one per counter every ``every`` seconds, and whenever nothing was
    written for ``quiet`` seconds a line says what is still at work: no minutes of silence either way.
    """

    def __init__(self, live: bool | None = None, *, every: float = 5.0, quiet: float = 30.0,
                 console: Any = None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.live = (self.console.is_terminal and not self.console.is_dumb_terminal) if live is None else live
        self.every, self.quiet = every, quiet
        self._lock = threading.RLock()
        self._counters: list[Counter] = []
        self._last_out = self._last_line_at = time.perf_counter()
        self._last_line = ""
        self._progress: Any = None
        self._status: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.progress import Progress

            self._progress = Progress(
                *_columns(), console=self.console, transient=True,
                # printed lines go above the bars; stdout only when it is the terminal too
                redirect_stdout=sys.stdout.isatty(), redirect_stderr=True)
            self._progress.start()
        else:
            self._thread = threading.Thread(target=self._heartbeat, name="discourse-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for c in list(self._counters):
            c.close()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, msg: str) -> None:
        with self._lock:
            print(msg, flush=True)
            self._last_out = self._last_line_at = time.perf_counter()
            self._last_line = msg.strip()
            if self._progress is not None:
                # a spinner and the time since this line, until the next one
                if self._status is not None:
                    self._progress.remove_task(self._status)
                self._status = self._progress.add_task(_clip(self._last_line), total=None, status=True)

    def counter(self, label: str, unit: str = "records", total: int | None = None) -> Counter:
        c = Counter(self, label, unit, total)
        with self._lock:
            self._counters.append(c)
            if self._progress is not None:
                c.task = self._progress.add_task(label, total=total, unit=unit, detail="")
        return c

    def _update(self, c: Counter) -> None:
        with self._lock:
            if self._progress is not None and c.task is not None:
                self._progress.update(c.task, completed=c.n, total=c.total, detail=c.detail)
                return
            now = time.perf_counter()
            if now - c.shown >= self.every:
                self._plain(c.line())
                c.shown, c.printed = now, c.n

    def _close(self, c: Counter) -> None:
        with self._lock:
            if c not in self._counters:
                return
            self._counters.remove(c)
            if self._progress is not None and c.task is not None:
                self._progress.remove_task(c.task)
            elif c.printed is not None and c.printed != c.n:  # a long count ends with its total
                self._plain(c.line())

    def _plain(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        self._last_out = time.perf_counter()

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(1.0, self.quiet)):
            with self._lock:
                now = time.perf_counter()
                if now - self._last_out < self.quiet:
                    continue
                if self._counters:
                    for c in self._counters:
                        self._plain(c.line())
                        c.shown, c.printed = now, c.n
                elif self._last_line:
                    self._plain(f"  ... still working, {_duration(now - self._last_line_at)} since: "
                                f"{_clip(self._last_line)}")


def _clip(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _columns() -> list[Any]:
    """The columns of the bars: spinner, label, bar, count (with rate or the last dbt node), elapsed.
    The spinner and elapsed time of the last printed line have no bar and no count."""
    from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Bar(BarColumn):
        def render(self, task: Any) -> Any:
            return Text("") if task.fields.get("status") else super().render(task)

    class Count(ProgressColumn):
        """``120/600 nodes (model posts: success)``, ``1,204,000 records 240,118/s`` or
        ``105,000/200,000 posts 52,310/s``."""

        def render(self, task: Any) -> Text:
            if task.fields.get("status"):
                return Text("")
            n, total = int(task.completed), task.total
            text = f"{n:,}/{int(total):,}" if total else f"{n:,}"
            text += f" {task.fields.get('unit', '')}"
            if task.fields.get("detail"):
                text += f" ({_clip(task.fields['detail'], 40)})"
            elif task.speed:
                text += f" {task.speed:,.0f}/s"
            return Text(text, no_wrap=True, overflow="ellipsis")

    return [SpinnerColumn(), TextColumn("{task.description}", markup=False), Bar(bar_width=24), Count(),
            TimeElapsedColumn()]


def _expand_paths(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*")
                if f.is_file() and not any(x.startswith((".", "_")) for x in f.relative_to(p).parts)
            )
        elif p.is_file():
            out.append(p)
        else:
            raise CliError(f"{p}: no such file or directory")
    return out


# ---------------------------------------------------------------- commands

def cmd_ingest(s: Settings, a: Args) -> int:
    from discourse.pipeline import lake_lock

    # a writer of the lake: shared with other ingests, never beside a run's cleanup (docs/recovery.md)
    with lake_lock(s, shared=True, echo=lambda m: print(m, file=sys.stderr)):
        return _ingest(s, a)


def _ingest(s: Settings, a: Args) -> int:
    from discourse.pipeline import ensure_home, ingest_one

    ensure_home(s)
    from ingest.registry import option_declarations

    # the formats' options offered as flags (see _ingest_command), read the way each format declares
    options: dict[str, Any] = {}
    for opt in option_declarations():
        text = getattr(a, opt.name, None) if opt.flag else None
        if text:
            try:
                options[opt.name] = opt.from_text(text)
            except ValueError as exc:
                raise CliError(f"{opt.flag}: {exc}") from exc
    rc = 0
    totals = {"records_in": 0, "loaded": 0, "quarantined": 0, "duplicates_within_batch": 0,
              "skipped_total": 0}
    paths = _expand_paths(a.paths)
    with Reporter() as out:
        for path in paths:
            with out.counter(f"ingest {path.name}", "records") as count:
                res = ingest_one(s, str(path), fmt=a.format, options=options or None, force=a.force,
                                 progress=count)
            if res.get("error"):
                print(f"{path}: not ingested: {res['error']}", file=sys.stderr)
                rc = 1
                continue
            for k in totals:
                totals[k] += res[k]
            skipped = ", ".join(f"{k}={v}" for k, v in sorted(res["skipped"].items())) or "none"
            out(f"{path}: format {res['format']} → {res['loaded']} loaded, {res['quarantined']} "
                f"quarantined, {res['duplicates_within_batch']} duplicates, skipped: {skipped} "
                f"[{res['status']}; batch {', '.join(res['batch_ids'])}]")
            for note in res.get("notes", []):
                print(f"  warning: {note}", file=sys.stderr)
            for m in res.get("unrecognised_members") or []:
                print(f"  skipped member: {m}", file=sys.stderr)
    _echo("total: " + ", ".join(f"{k}={v}" for k, v in totals.items()))
    return rc


def _gate_line(stage: str, gate: dict[str, Any]) -> str:
    """One gate in the run summary: its status, expectations and what it read (rows, or for the
    freshness check, which reads the lake's manifests, the sources)."""
    status = "passed" if gate.get("success") else ("FAILED" if gate.get("severity", "error") == "error"
                                                   else "warning")
    st = gate.get("statistics", {})
    if "row_count" in st:
        size = f"{st['row_count']:,} rows"
    elif stage == "freshness":
        size = f"{st.get('evaluated_expectations', 0)} sources"
    else:
        size = "no rows read"
    return (f"gate {stage:<6} {status} ({st.get('successful_expectations', '?')}/"
            f"{st.get('evaluated_expectations', '?')} expectations, {size})")


def _print_run_summary(s: Settings, summary: dict[str, Any]) -> None:
    import duckdb

    _echo("")
    _echo("== discourse run summary ==")
    _echo(f"run id:      {summary['run_id']} ({summary['seconds']:.1f}s)")
    per_platform: dict[str, int] = {}
    quarantined = loaded = 0
    for r in summary["ingest"]:
        quarantined += r.get("quarantined", 0)
        loaded += r.get("loaded", 0)
        for p, n in r.get("platforms", {}).items():
            per_platform[p] = per_platform.get(p, 0) + n
    unrec = [r for r in summary["ingest"] if r.get("error")]
    _echo(f"ingested:    {len(summary['ingest']) - len(unrec)} file(s), {loaded:,} posts loaded, "
          f"{quarantined:,} records quarantined, {len(unrec)} unrecognised file(s)")
    for p, n in sorted(per_platform.items()):
        _echo(f"  {p:<10} {n:>10,} posts this run")
    for stage, g in summary["gates"].items():
        _echo(_gate_line(stage, g))
        for f in g.get("failures", [])[:5]:
            _echo(f"    - {f.get('expectation')} {f.get('column') or ''}: observed {f.get('observed')}, "
                  f"expected {f.get('expected')}")
    if summary.get("nothing_new"):
        _echo(f"published:   unchanged — nothing new since run {summary.get('published_run_id')}")
    else:
        _echo(f"published:   {'yes' if summary['published'] else 'NO — previous marts kept'}")
    if s.warehouse.exists():
        con = duckdb.connect(str(s.warehouse), read_only=True)
        try:
            rows = con.execute(
                "select platform, count(*) from marts.posts group by 1 order by 1").fetchall()
        finally:
            con.close()
        _echo(f"marts:       {s.warehouse} (schema marts)")
        for p, n in rows:
            _echo(f"  marts.posts {p:<10} {n:>10,}")
    if summary.get("report"):
        _echo(f"report:      {summary['report']}")
    docs = s.data_docs_dir / "index.html"
    if docs.exists():
        _echo(f"data docs:   {docs}")
    _echo(f"quarantine:  {s.lake_location}/quarantine")
    _echo(f"alerts:      {s.alerts_dir}")


def cmd_run(s: Settings, a: Args) -> int:
    from discourse.pipeline import run

    with Reporter() as out:
        summary = run(s, echo=out, full_refresh=a.full_refresh)
    _print_run_summary(s, summary)
    if a.json:
        Path(a.json).write_text(json.dumps(summary, indent=1, default=str))
    return 1 if summary.get("failed") else 0


def cmd_generate(s: Settings, a: Args) -> int:
    from synth import generate

    kwargs: dict[str, Any] = {}
    if a.start:
        from datetime import date

        kwargs["start"] = date.fromisoformat(a.start)
    if a.formats:
        kwargs["formats"] = tuple(f.strip() for f in a.formats.split(",") if f.strip())
    try:
        # the generator reports the running number of posts written: set, not added up
        with Reporter() as out, out.counter("generate", "posts", total=a.posts) as count:
            truth = generate(Path(a.out), posts=a.posts, seed=a.seed, days=a.days, compress=a.compress,
                             progress=count.set, **kwargs)
    except ValueError as exc:
        raise CliError(f"generate: {exc}") from exc
    _echo(f"wrote {a.posts:,} posts of synthetic exports to {a.out} "
          f"(ground truth: {Path(a.out) / '_ground_truth.json'})")
    by_format: dict[str, list[int]] = {}
    for _name, f in sorted(truth.get("files", {}).items()):
        by_format.setdefault(f["format"], []).append(f["valid_posts"])
    for fmt, counts in by_format.items():
        _echo(f"  {fmt}: {len(counts)} file(s), {sum(counts):,} posts")
    return 0


def cmd_demo(s: Settings, a: Args) -> int:
    from synth import generate

    # The one place that runs on demo settings: the public demo key is allowed, the warehouse is
    # published as demo (marts.about, the report's banner).
    s = s.with_(is_demo=True)
    if s.pseudonymise and not s.pseudonym_key:
        others = _non_demo_inbox_files(s)
        if others:
            raise CliError(
                f"{s.home} has exports that are not the demo's ({others[0]}"
                + (f" and {len(others) - 1} more" if len(others) > 1 else "")
                + "): `discourse demo` would pseudonymise them with the public demo key. "
                "Use a fresh --home for the demo, or set DISCOURSE_PSEUDONYM_KEY")
        _echo("demo: using the built-in demo pseudonymisation key "
              "(set DISCOURSE_PSEUDONYM_KEY for real data)")
    out = s.inbox / f"demo-seed{a.seed}-{a.posts}"
    if not (out / "_ground_truth.json").exists():
        _echo(f"[generate] {a.posts:,} synthetic posts → {out}")
        with Reporter() as reporter, reporter.counter("generate", "posts", total=a.posts) as count:
            generate(out, posts=a.posts, seed=a.seed, days=a.days, progress=count.set)
    return cmd_run(s, a)


def _non_demo_inbox_files(s: Settings) -> list[str]:
    """Inbox files outside the demo's own ``demo-seed*`` folders."""
    if not s.inbox.is_dir():
        return []
    return [str(p.relative_to(s.inbox)) for p in sorted(s.inbox.rglob("*"))
            if p.is_file() and not p.relative_to(s.inbox).parts[0].startswith("demo-seed")]


def cmd_report(s: Settings, a: Args) -> int:
    from discourse.pipeline import report

    if not s.warehouse.exists():
        raise CliError(f"{s.warehouse}: no published marts yet; run `discourse run` first")
    _echo(report(s)["report"])
    return 0


# What analyst SQL may not do: read or write files (COPY … TO, read_csv, glob, EXPORT DATABASE), attach
# databases, install or load extensions. Set when the connection opens, then locked.
ANALYST_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def connect_analyst(s: Settings):
    """The published warehouse, read-only, with no file, network or extension access, and its
    configuration locked so the SQL cannot switch any of that back on."""
    from discourse.publish import PublishError, open_published

    try:
        con = open_published(s, config=dict(ANALYST_CONFIG))
    except PublishError as exc:
        raise CliError(str(exc)) from exc
    con.execute("set lock_configuration = true")
    return con


def _refusal(exc: Exception) -> str:
    import duckdb

    text = str(exc).strip()
    if isinstance(exc, duckdb.PermissionException):
        return (f"query refused: `discourse query` only reads the published marts; it cannot read or "
                f"write files, attach databases or load extensions ({text.splitlines()[0]})")
    if "configuration has been locked" in text:
        return f"query refused: settings cannot be changed in `discourse query` ({text.splitlines()[0]})"
    if "read-only mode" in text:
        return f"query refused: the published warehouse is read-only ({text.splitlines()[0]})"
    return f"query failed: {text}"


def _cell(v: Any) -> Any:
    """A value for CSV or a text table: nested values as JSON, not DuckDB's repr."""
    if v is None:
        return ""
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, default=str, ensure_ascii=False)
    return v


def _print_table(columns: list[str], rows: list[tuple], width: int = 80) -> None:
    def clip(v: Any) -> str:
        text = "NULL" if v is None else str(_cell(v))
        text = text.replace("\n", " ")
        return text if len(text) <= width else text[: width - 1] + "…"

    cells = [[clip(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def _print_saved_queries() -> None:
    from discourse.analyst import saved_queries

    queries = saved_queries()
    width = max((len(n) for n in queries), default=0)
    for q in queries.values():
        print(f"{q.name.ljust(width)}  {q.description}")
    print("(run one with `discourse query --saved NAME`)", file=sys.stderr)


def cmd_query(s: Settings, a: Args) -> int:
    import duckdb

    from discourse.analyst import AnalystError, saved_query

    if a.limit < 0:
        raise CliError("--limit must be 0 or more")
    if a.saved is not None and a.sql:
        raise CliError("give either SQL or --saved NAME, not both")
    if a.saved == "":
        _print_saved_queries()
        return 0
    if a.saved is not None:
        try:
            sql = saved_query(a.saved).sql
        except AnalystError as exc:
            raise CliError(str(exc)) from None
    elif a.sql:
        sql = a.sql
    else:
        raise CliError("give the SQL to run, or --saved NAME (--saved alone lists the saved queries)")
    con = connect_analyst(s)
    try:
        rel = con.sql(sql)
        if rel is None:
            return 0
        cols = list(rel.columns)
        rows = rel.limit(a.limit + 1).fetchall()
        more, rows = len(rows) > a.limit, rows[: a.limit]
        if a.format == "table":
            _print_table(cols, rows)
        elif a.format == "csv":
            import csv

            w = csv.writer(sys.stdout)
            w.writerow(cols)
            for row in rows:
                w.writerow([_cell(v) for v in row])
        else:
            for row in rows:
                print(json.dumps(dict(zip(cols, row, strict=True)), default=str, ensure_ascii=False))
        if more:
            print(f"(first {a.limit:,} rows shown; raise --limit for more)", file=sys.stderr)
    except duckdb.Error as exc:
        raise CliError(_refusal(exc)) from exc
    finally:
        con.close()
    return 0


def cmd_export(s: Settings, a: Args) -> int:
    """A mart, filtered, to CSV, JSON Lines or Parquet, through the same locked-down read-only
    connection as `discourse query` (it cannot write files: the rows come back as Arrow batches)."""
    import duckdb

    from discourse.analyst import AnalystError, export_format, export_query, write_export

    if a.table in ("network", "marts.network"):  # `discourse export network` = `discourse network export`
        return cmd_network_export(s, a)
    if a.format in ("gexf", "graphml"):
        raise CliError(f"--format {a.format} is for the network: "
                       f"`discourse export network --format {a.format}`")
    out = Path(a.out)
    name = a.table.removeprefix("marts.")
    if name == a.table and "." in name:
        raise CliError(f"{a.table!r}: only marts can be exported (e.g. posts or marts.topic_daily)")
    filters = {"since": a.since, "until": a.until, "platform": a.platform, "topic": a.topic, "lang": a.lang}
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        fmt = export_format(out, a.format)
        con = connect_analyst(s)
        try:
            sql, params, columns = export_query(con, name, where=a.where, filters=filters)
            n = write_export(con, sql, params, columns, fmt, tmp)
        finally:
            con.close()
    except AnalystError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(str(exc)) from None
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        msg = str(exc).strip().splitlines()[0]
        if a.where and isinstance(exc, duckdb.BinderException | duckdb.ParserException):
            raise CliError(f"--where does not apply to marts.{name}: {msg}") from None
        raise CliError(f"export of marts.{name} failed: {_refusal(exc)}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    _echo(f"exported {n:,} rows of marts.{name} to {out} ({fmt})")
    return 0


def cmd_validate(s: Settings, a: Args) -> int:
    from ingest.lake import lake_manifests
    from quality.gates import run_marts_gate, run_raw_gate, run_staging_gate
    from quality.volume import check_volume

    results = []
    if a.stage in ("raw", "all"):
        results.append(run_raw_gate(s, [m["batch_id"] for m in lake_manifests(s)]))
    if a.stage in ("staging", "all"):
        # staging lives in the build warehouse only (analysts get the marts): it is checked there
        if s.build_warehouse.exists():
            results.append(run_staging_gate(s, s.build_warehouse))
        elif a.stage == "staging":
            raise CliError(f"{s.build_warehouse}: no build warehouse, so no staging to validate (run first)")
        else:
            _echo(f"staging: skipped ({s.build_warehouse} does not exist: no build to check)")
    if a.stage in ("marts", "all"):
        db = s.build_warehouse if a.build else s.warehouse
        if not db.exists():
            raise CliError(f"{db}: no warehouse to validate")
        results.append(run_marts_gate(s, db))
        results.append(check_volume(s, db))
    rc = 0
    for r in results:
        d = r.to_dict()
        ok = "passed" if r.success else ("FAILED" if d.get("severity", "error") == "error" else "warning")
        _echo(f"{d['stage']}: {ok}")
        for f in d.get("failures", []):
            _echo(f"  - {f.get('expectation')} {f.get('column') or ''}: observed {f.get('observed')}, "
                  f"expected {f.get('expected')}")
        if not r.success and d.get("severity", "error") == "error":
            rc = 1
    docs = s.data_docs_dir / "index.html"
    if docs.exists():
        _echo(f"data docs: {docs}")
    return rc


def cmd_remap(s: Settings, a: Args) -> int:
    from discourse.pipeline import lake_lock
    from ingest.registry import UnrecognisedFormat
    from ingest.remap import RemapError, remap

    try:
        with lake_lock(s, shared=False, echo=lambda m: print(m, file=sys.stderr)):
            done = remap(s, fmt=a.format, batch_ids=a.batch or None, echo=_echo)
    except (RemapError, UnrecognisedFormat) as exc:
        raise CliError(str(exc)) from exc
    if not done:
        _echo("[remap] no batches" + (f" of format {a.format}" if a.format else "") + " in the lake")
        return 0
    before = sum(d["loaded_before"] for d in done)
    after = sum(d["loaded_after"] for d in done)
    quarantined = sum(d["quarantined_added"] for d in done)
    _echo(f"[remap] {len(done)} batch(es) re-mapped from raw: {before:,} -> {after:,} posts, "
          f"{quarantined:,} newly quarantined; `discourse run` rebuilds the marts")
    return 0


def cmd_forget(s: Settings, a: Args) -> int:
    from datetime import date

    from discourse.forget import ForgetError, forget
    from discourse.pipeline import run_lock

    try:
        before = date.fromisoformat(a.before) if a.before else None
    except ValueError as exc:
        raise CliError(f"--before {a.before!r}: not a date (YYYY-MM-DD)") from exc
    try:
        with run_lock(s, echo=lambda m: print(m, file=sys.stderr)):
            audit = forget(s, author=a.author, post=a.post, before=before, inbox=a.inbox, echo=_echo)
    except ForgetError as exc:
        raise CliError(str(exc)) from exc
    _echo(f"[forget] {audit['posts']:,} post(s) and {audit['quarantined']:,} quarantined record(s) removed "
          f"from {len(audit['batches']) + len(audit['rejected_batches'])} batch(es), "
          f"{audit['inbox_files_removed']} inbox export(s) deleted; `discourse run` rebuilds the marts")
    return 0


def cmd_domains_import(s: Settings, a: Args) -> int:
    from discourse.transform.importers import ReferenceImportError, import_domains

    try:
        n = import_domains(s, Path(a.file), a.format, source=a.source)
    except ReferenceImportError as exc:
        raise CliError(str(exc)) from exc
    _echo(f"{n:,} domain ratings imported into {s.reference_dir / 'domains_extra.parquet'} "
          "(used from the next run)")
    return 0


def cmd_claims_import(s: Settings, a: Args) -> int:
    from discourse.transform.importers import ReferenceImportError, import_claims

    try:
        n = import_claims(s, Path(a.file))
    except ReferenceImportError as exc:
        raise CliError(str(exc)) from exc
    _echo(f"{n:,} claims imported into {s.reference_dir / 'claims_extra.parquet'} (used from the next run)")
    return 0


def cmd_sentiment_train(s: Settings, a: Args) -> int:
    from discourse.transform.sentiment_train import SentimentTrainError, train_overlay

    try:
        res = train_overlay(s, Path(a.file), Path(a.out) if a.out else None)
    except SentimentTrainError as exc:
        raise CliError(str(exc)) from exc
    _echo(json.dumps(res, indent=1, default=str))
    return 0


def cmd_emotion_train(s: Settings, a: Args) -> int:
    from discourse.transform.emotion_train import EmotionTrainError, train_overlay

    try:
        res = train_overlay(s, Path(a.file), Path(a.out) if a.out else None)
    except EmotionTrainError as exc:
        raise CliError(str(exc)) from exc
    _echo(json.dumps(res, indent=1, default=str))
    return 0


def cmd_misinfo_train(s: Settings, a: Args) -> int:
    from discourse.transform.misinfo_train import MisinfoTrainError, train_misinfo

    try:
        res = train_misinfo(s, Path(a.file), name=a.name)
    except MisinfoTrainError as exc:
        raise CliError(str(exc)) from exc
    _echo(json.dumps(res, indent=1, default=str))
    return 0


def cmd_network_export(s: Settings, a: Args) -> int:
    """The published conversation network as a GEXF, GraphML or CSV graph (``discourse.network``)."""
    import duckdb

    from discourse.network import EdgeFilter, NetworkExportError, export_network, parse_date, parse_types

    for flag in ("where", "platform", "lang"):
        if getattr(a, flag, None):
            raise CliError(f"--{flag} does not apply to the network export")
    try:
        flt = EdgeFilter(topic=a.topic, since=parse_date(a.since, "--since"),
                         until=parse_date(a.until, "--until"), window_days=getattr(a, "window_days", None),
                         types=parse_types(getattr(a, "types", None)))
        con = connect_analyst(s)
        try:
            nodes, edges, files = export_network(con, Path(a.out), a.format, flt)
        finally:
            con.close()
    except NetworkExportError as exc:
        raise CliError(str(exc)) from None
    except duckdb.Error as exc:
        raise CliError(f"network export failed: {_refusal(exc)}") from None
    _echo(f"exported {nodes:,} accounts and {edges:,} edges to {', '.join(map(str, files))}")
    return 0


def cmd_serve(s: Settings, a: Args) -> int:
    """The report, Data Docs and dbt docs over HTTP, read-only (``discourse.serve``)."""
    from discourse.serve import ServeError, serve

    try:
        serve(s, host=a.host, port=a.port, echo=_echo)
    except ServeError as exc:
        raise CliError(str(exc)) from None
    return 0


# ---------------------------------------------------------------- command line (typer)
#
# Each command below only collects its parameters: it returns the ``Args`` that ``main`` runs (``fn``),
# so parsing (typer) and running (``main``'s error handling) stay apart, and ``build_parser`` can parse
# without running anything.

Opt = typer.Option
Arg = typer.Argument


def _args(ctx: typer.Context, fn: Any, **values: Any) -> Args:
    """The command line as ``Args``: the global options (kept by ``_root`` in ``ctx.obj``), the
    command's own, the command's name and the function that runs it."""
    return Args(**(ctx.obj or {}), command=ctx.command_path.partition(" ")[2], fn=fn, **values)


def _root(
    ctx: typer.Context,
    home: Annotated[str | None, Opt(
        "--home", metavar="HOME", help="runtime home (default: $DISCOURSE_HOME or ./discourse_home)")] = None,
    debug: Annotated[bool, Opt("--debug", help="show the full traceback of an error")] = False,
) -> None:
    ctx.obj = {"home": home, "debug": debug}


def _ingest_command() -> Any:
    """``discourse ingest``, with one flag per format option that declares one
    (``ingest.formats.<name>.options``; ``cmd_ingest`` reads them back). The flags are known only at run
    time, so the signature typer reads is built here. Loads the option declarations, not the adapters."""
    from ingest.registry import option_declarations

    def ingest(ctx: typer.Context, **values: Any) -> Args:
        return _args(ctx, cmd_ingest, **values)

    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("ctx", kw, annotation=typer.Context),
        inspect.Parameter("paths", kw, annotation=Annotated[list[str], Arg(metavar="PATHS")]),
        inspect.Parameter("format", kw, default=None, annotation=Annotated[
            str | None, Opt("--format", metavar="FORMAT", help="skip detection and use this adapter")]),
    ]
    for opt in option_declarations():
        if opt.flag:
            params.append(inspect.Parameter(opt.name, kw, default=None, annotation=Annotated[
                str | None, Opt(opt.flag, metavar=opt.name.upper(), help=opt.help)]))
    params.append(inspect.Parameter("force", kw, default=False, annotation=Annotated[
        bool, Opt("--force", help="re-ingest even if the content was ingested")]))
    ingest.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return ingest


RunJson = Annotated[str | None, Opt("--json", metavar="PATH", help="also write the run summary as JSON here")]
FullRefresh = Annotated[bool, Opt(
    "--full-refresh", help="build the marts even when none of their inputs changed since the last publish")]


def run_command(ctx: typer.Context, json_out: RunJson = None, full_refresh: FullRefresh = False) -> Args:
    return _args(ctx, cmd_run, json=json_out, full_refresh=full_refresh)


def demo_command(
    ctx: typer.Context,
    json_out: RunJson = None,
    full_refresh: FullRefresh = False,
    posts: Annotated[int, Opt("--posts", metavar="N")] = 20_000,
    seed: Annotated[int, Opt("--seed", metavar="N")] = 7,
    days: Annotated[int, Opt("--days", metavar="N")] = 14,
) -> Args:
    return _args(ctx, cmd_demo, json=json_out, full_refresh=full_refresh, posts=posts, seed=seed, days=days)


def generate_command(
    ctx: typer.Context,
    posts: Annotated[int, Opt("--posts", metavar="N")],
    out: Annotated[str, Opt("--out", metavar="DIR")],
    seed: Annotated[int, Opt("--seed", metavar="N")] = 7,
    days: Annotated[int, Opt("--days", metavar="N")] = 14,
    compress: Annotated[bool, Opt("--compress", help="write compressed exports")] = False,
    start: Annotated[str | None, Opt("--start", metavar="DATE",
                                     help="first day, YYYY-MM-DD (default 2026-11-01)")] = None,
    formats: Annotated[str | None, Opt(
        "--formats", metavar="FORMATS",
        help="comma-separated, from x_v2, x_archive, telegram_desktop, generic, reddit, mastodon, "
             "bluesky_jetstream, youtube_comments, zeeschuimer (short names x, telegram, bluesky, youtube "
             "also work; default all)")] = None,
) -> Args:
    return _args(ctx, cmd_generate, posts=posts, out=out, seed=seed, days=days, compress=compress,
                 start=start, formats=formats)


def report_command(ctx: typer.Context) -> Args:
    return _args(ctx, cmd_report)


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, Opt("--host", metavar="HOST",
                             help="address to listen on (0.0.0.0 in a container)")] = "127.0.0.1",
    port: Annotated[int, Opt("--port", metavar="PORT")] = 8080,
) -> Args:
    return _args(ctx, cmd_serve, host=host, port=port)


def query_command(
    ctx: typer.Context,
    sql: Annotated[str | None, Arg(metavar="SQL", help="the SQL (omit with --saved)")] = None,
    saved: Annotated[str | None, Opt("--saved", metavar="[NAME]",
                                     help="run a saved query by name; without a name, list them")] = None,
    fmt: Annotated[Literal["table", "csv", "json"], Opt("--format")] = "table",
    limit: Annotated[int, Opt("--limit", metavar="N", help="show the first N rows (default 50)",
                               show_default=False)] = 50,
) -> Args:
    return _args(ctx, cmd_query, sql=sql, saved=saved, format=fmt, limit=limit)


def _saved_without_name(argv: list[str]) -> list[str]:
    """``query --saved`` with no name lists the saved queries (argparse's ``nargs="?"``). Typer's
    options always take a value, so a bare ``--saved`` (last, or before another option) is passed on
    as ``--saved=``, the empty name that means "list"."""
    i = 0
    while i < len(argv) and argv[i] != "query":  # the global options come before the command
        i += 2 if argv[i] == "--home" else 1
    out = list(argv)
    for j in range(i + 1, len(out)):
        if out[j] == "--":
            break
        if out[j] == "--saved" and (j + 1 == len(out) or out[j + 1].startswith("-")):
            out[j] = "--saved="
    return out


def export_command(
    ctx: typer.Context,
    table: Annotated[str, Arg(metavar="TABLE", help="mart name, e.g. posts or marts.topic_daily")],
    out: Annotated[str, Opt("--out", metavar="PATH")],
    fmt: Annotated[Literal["csv", "jsonl", "parquet", "json", "gexf", "graphml"] | None, Opt(
        "--format",
        help="default: from --out's extension (.csv, .jsonl/.ndjson/.json, .parquet); json = jsonl; "
             "gexf and graphml for `export network` (see `discourse network export`)")] = None,
    where: Annotated[str | None, Opt("--where", metavar="SQL", help="a SQL predicate over the mart's "
                                     "columns, e.g. \"sentiment_label = 'negative'\"")] = None,
    since: Annotated[str | None, Opt("--since", metavar="DATE",
                                     help="first date, YYYY-MM-DD (the mart's date column)")] = None,
    until: Annotated[str | None, Opt("--until", metavar="DATE",
                                     help="last date, YYYY-MM-DD, inclusive")] = None,
    platform: Annotated[str | None, Opt("--platform", metavar="LIST",
                                        help="platform(s), comma-separated")] = None,
    topic: Annotated[str | None, Opt("--topic", metavar="LIST",
                                     help="topic id(s), comma-separated (topic_id or primary_topic)")] = None,
    lang: Annotated[str | None, Opt("--lang", metavar="LIST", help="language(s), comma-separated")] = None,
) -> Args:
    return _args(ctx, cmd_export, table=table, out=out, format=fmt, where=where, since=since, until=until,
                 platform=platform, topic=topic, lang=lang)


def validate_command(
    ctx: typer.Context,
    stage: Annotated[Literal["raw", "staging", "marts", "all"], Opt("--stage")] = "all",
    build: Annotated[bool, Opt("--build", help="validate the unpublished build warehouse")] = False,
) -> Args:
    return _args(ctx, cmd_validate, stage=stage, build=build)


def remap_command(
    ctx: typer.Context,
    fmt: Annotated[str | None, Opt("--format", metavar="FORMAT",
                                   help="only batches of this export format (default: all)")] = None,
    batch: Annotated[list[str] | None, Opt("--batch", metavar="BATCH",
                                           help="only this batch id (repeatable)")] = None,
) -> Args:
    return _args(ctx, cmd_remap, format=fmt, batch=batch or None)


def forget_command(
    ctx: typer.Context,
    author: Annotated[str | None, Opt("--author", metavar="AUTHOR",
                                      help="<platform>:<author id>, or [<platform>:]@<handle>")] = None,
    post: Annotated[str | None, Opt("--post", metavar="POST_UID",
                                    help="a post_uid (<platform>:<post id>)")] = None,
    before: Annotated[str | None, Opt("--before", metavar="DATE",
                                      help="every post created before this day (YYYY-MM-DD, UTC)")] = None,
    inbox: Annotated[bool, Opt("--inbox", help="also delete the inbox exports they came from")] = False,
) -> Args:
    chosen = (("--author", author), ("--post", post), ("--before", before))
    given = [flag for flag, value in chosen if value is not None]
    if not given:
        ctx.fail("one of the options --author --post --before is required")
    if len(given) > 1:
        ctx.fail(f"option {given[1]}: not allowed with option {given[0]}")
    return _args(ctx, cmd_forget, author=author, post=post, before=before, inbox=inbox)


def domains_import_command(
    ctx: typer.Context,
    file: Annotated[str, Arg(metavar="FILE")],
    fmt: Annotated[Literal["pc1", "iffy", "csv"], Opt("--format")],
    source: Annotated[str | None, Opt("--source", metavar="NAME", help="name recorded as the ratings' "
                                      "source (default: from the file)")] = None,
) -> Args:
    return _args(ctx, cmd_domains_import, file=file, format=fmt, source=source)


def claims_import_command(ctx: typer.Context, file: Annotated[str, Arg(metavar="FILE")]) -> Args:
    return _args(ctx, cmd_claims_import, file=file)


def sentiment_train_command(
    ctx: typer.Context,
    file: Annotated[str, Arg(metavar="FILE")],
    out: Annotated[str | None, Opt("--out", metavar="PATH", help="overlay path (default "
                                   "<home>/reference/sentiment_overlay.parquet)")] = None,
) -> Args:
    return _args(ctx, cmd_sentiment_train, file=file, out=out)


def emotion_train_command(
    ctx: typer.Context,
    file: Annotated[str, Arg(metavar="FILE")],
    out: Annotated[str | None, Opt("--out", metavar="PATH", help="overlay path (default "
                                   "<home>/reference/emotion_overlay.parquet)")] = None,
) -> Args:
    return _args(ctx, cmd_emotion_train, file=file, out=out)


def misinfo_train_command(
    ctx: typer.Context,
    file: Annotated[str, Arg(metavar="LABELLED.csv")],
    name: Annotated[str | None, Opt("--name", metavar="NAME", help="name of the training set, given in "
                                    "the score's reasons (default: the file's stem)")] = None,
) -> Args:
    return _args(ctx, cmd_misinfo_train, file=file, name=name)


def network_export_command(
    ctx: typer.Context,
    out: Annotated[str, Opt("--out", metavar="PATH",
                            help="file to write (csv: also <stem>.nodes.csv beside it)")],
    fmt: Annotated[Literal["gexf", "graphml", "csv"] | None, Opt(
        "--format", help="default: from --out's extension")] = None,
    topic: Annotated[str | None, Opt("--topic", metavar="TOPIC", help="only edges between accounts of "
                                     "this topic's repost+quote network")] = None,
    window_days: Annotated[int | None, Opt("--window-days", metavar="N", help="only the last N days, "
                                           "ending at the newest edge")] = None,
    since: Annotated[str | None, Opt("--since", metavar="DATE", help="first day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, Opt("--until", metavar="DATE",
                                     help="last day, YYYY-MM-DD, inclusive")] = None,
    types: Annotated[str | None, Opt("--types", metavar="TYPES", help="edge types, comma-separated "
                                     "(default repost,quote,reply,mention)")] = None,
) -> Args:
    return _args(ctx, cmd_network_export, out=out, format=fmt, topic=topic, window_days=window_days,
                 since=since, until=until, types=types)


# (group, its help, [(command, its help, function)]): the commands with subcommands
GROUPS = (
    ("domains", "domain-credibility lists",
     [("import", "import a public domain-rating list", domains_import_command)]),
    ("claims", "fact-checked claims",
     [("import", "import fact-checked claims (CSV or JSON lines)", claims_import_command)]),
    ("sentiment", "sentiment lexicon overlay",
     [("train", "fit token weights from a labelled CSV (text,label)", sentiment_train_command)]),
    ("emotion", "emotion lexicon overlay",
     [("train", "fit token weights per emotion from a labelled CSV (text,label)", emotion_train_command)]),
    ("misinfo", "misinformation text model",
     [("train", "fit the text model's term weights from claims labelled true or false (CSV text,label)",
       misinfo_train_command)]),
    ("network", "the conversation network (docs/network.md)",
     [("export", "write the published author_edges (+ communities) as a graph file",
       network_export_command)]),
)

_SETTINGS: dict[str, Any] = {
    "add_completion": False,
    "rich_markup_mode": None,  # help texts are plain text: [..] and <..> in them stay as written
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}


def build_app() -> typer.Typer:
    """The `discourse` command line as a typer app."""
    app = typer.Typer(name="discourse", help=__doc__.splitlines()[0], **_SETTINGS)
    app.callback()(_root)
    commands = (
        ("ingest", "ingest export files or folders into the lake", _ingest_command()),
        ("run", "the nightly job: ingest new inbox files, gates, dbt, publish, report", run_command),
        ("demo", "generate sample exports into the inbox, then run", demo_command),
        ("generate", "write synthetic exports with planted signals", generate_command),
        ("report", "(re)write the HTML report from the published marts", report_command),
        ("serve", "serve the reports, Data Docs and dbt docs over HTTP (read-only)", serve_command),
        ("query", "run SQL, or a saved query, against the published marts (read-only)", query_command),
        ("export", "export a mart, optionally filtered, to CSV, JSON Lines or Parquet", export_command),
        ("validate", "run the data-quality gates on the lake and/or the marts", validate_command),
        ("remap", "re-derive the canonical columns of ingested batches from raw", remap_command),
        ("forget", "erase an author's or a post's data, or everything before a date", forget_command),
    )
    for name, hlp, fn in commands:
        app.command(name, help=hlp)(fn)
    for group, hlp, subcommands in GROUPS:
        sub = typer.Typer(name=group, help=hlp, **_SETTINGS)
        for name, sub_hlp, fn in subcommands:
            sub.command(name, help=sub_hlp)(fn)
        app.add_typer(sub, name=group, help=hlp)
    return app


@cache
def _command() -> Any:
    return typer.main.get_command(build_app())


def parse(argv: list[str]) -> Args | int:
    """The command line parsed into ``Args``, or an exit code: 0 after ``--help``, 2 after a usage
    error (its message and the usage on stderr, as argparse did)."""
    try:
        return _command().main(args=_saved_without_name(list(argv)), prog_name="discourse",
                               standalone_mode=False)
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            print(f"discourse: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))


class Parser:
    """``parse_args`` as argparse has it (``SystemExit`` on ``--help`` or a usage error), for callers
    that check what the command line offers without running anything."""

    def parse_args(self, argv: list[str] | None = None) -> Args:
        args = parse(sys.argv[1:] if argv is None else argv)
        if isinstance(args, int):
            raise SystemExit(args)
        return args


def build_parser() -> Parser:
    return Parser()


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args
    try:
        settings = load_settings(home=args.home)
        return int(args.fn(settings, args) or 0)
    except (CliError, SettingsError) as exc:
        print(f"discourse: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("discourse: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one clear line, details in the log
        from discourse.pipeline import RunLocked

        kind = "locked" if isinstance(exc, RunLocked) else type(exc).__name__
        print(f"discourse: error ({kind}): {exc}", file=sys.stderr)
        if args.debug:
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
