"""`discourse`: the command line. Each command is a thin shell over ``discourse.pipeline`` and friends.

Errors are one clear line on stderr (with the file/record they concern) and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from discourse.settings import Settings, SettingsError, load_settings


class CliError(Exception):
    pass


def _echo(msg: str) -> None:
    print(msg, flush=True)


class Progress:
    """Counts records; prints a line to stderr at most every two seconds (only on a terminal)."""

    def __init__(self, label: str, enabled: bool | None = None):
        self.label, self.n, self.t0, self.last = label, 0, time.perf_counter(), 0.0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def __call__(self, k: int) -> None:
        self.n += k
        now = time.perf_counter()
        if self.enabled and now - self.last > 2:
            self.last = now
            rate = self.n / max(now - self.t0, 1e-9)
            print(f"\r{self.label}: {self.n:,} ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)

    def total(self, n: int) -> None:
        """For callers that report a running total (the generator), not increments."""
        self(n - self.n)

    def done(self) -> None:
        if self.enabled and self.last:
            print(file=sys.stderr)


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

def cmd_ingest(s: Settings, a: argparse.Namespace) -> int:
    from discourse.pipeline import lake_lock

    # a writer of the lake: shared with other ingests, never beside a run's cleanup (docs/recovery.md)
    with lake_lock(s, shared=True, echo=lambda m: print(m, file=sys.stderr)):
        return _ingest(s, a)


def _ingest(s: Settings, a: argparse.Namespace) -> int:
    from discourse.pipeline import ensure_home, ingest_one

    ensure_home(s)
    from ingest.registry import option_declarations

    # the formats' options offered as flags (see ingest_flags), read the way each format declares
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
    for path in _expand_paths(a.paths):
        prog = Progress(path.name)
        res = ingest_one(s, str(path), fmt=a.format, options=options or None, force=a.force,
                         progress=prog)
        prog.done()
        if res.get("error"):
            print(f"{path}: not ingested: {res['error']}", file=sys.stderr)
            rc = 1
            continue
        for k in totals:
            totals[k] += res[k]
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(res["skipped"].items())) or "none"
        _echo(f"{path}: format {res['format']} → {res['loaded']} loaded, {res['quarantined']} "
              f"quarantined, {res['duplicates_within_batch']} duplicates, skipped: {skipped} "
              f"[{res['status']}; batch {', '.join(res['batch_ids'])}]")
        for note in res.get("notes", []):
            print(f"  warning: {note}", file=sys.stderr)
        if res.get("unrecognised_members"):
            for m in res["unrecognised_members"]:
                print(f"  skipped member: {m}", file=sys.stderr)
    _echo("total: " + ", ".join(f"{k}={v}" for k, v in totals.items()))
    return rc


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
        status = "passed" if g.get("success") else ("FAILED" if g.get("severity", "error") == "error"
                                                    else "warning")
        st = g.get("statistics", {})
        _echo(f"gate {stage:<6} {status} ({st.get('successful_expectations', '?')}/"
              f"{st.get('evaluated_expectations', '?')} expectations, {st.get('row_count', '?')} rows)")
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


def cmd_run(s: Settings, a: argparse.Namespace) -> int:
    from discourse.pipeline import run

    summary = run(s, echo=_echo, full_refresh=a.full_refresh)
    _print_run_summary(s, summary)
    if a.json:
        Path(a.json).write_text(json.dumps(summary, indent=1, default=str))
    return 1 if summary.get("failed") else 0


def cmd_generate(s: Settings, a: argparse.Namespace) -> int:
    from synth import generate

    prog = Progress("generate")
    kwargs: dict[str, Any] = {}
    if a.start:
        from datetime import date

        kwargs["start"] = date.fromisoformat(a.start)
    if a.formats:
        kwargs["formats"] = tuple(f.strip() for f in a.formats.split(",") if f.strip())
    try:
        truth = generate(Path(a.out), posts=a.posts, seed=a.seed, days=a.days, compress=a.compress,
                         progress=prog.total, **kwargs)
    except ValueError as exc:
        raise CliError(f"generate: {exc}") from exc
    prog.done()
    _echo(f"wrote {a.posts:,} posts of synthetic exports to {a.out} "
          f"(ground truth: {Path(a.out) / '_ground_truth.json'})")
    by_format: dict[str, list[int]] = {}
    for _name, f in sorted(truth.get("files", {}).items()):
        by_format.setdefault(f["format"], []).append(f["valid_posts"])
    for fmt, counts in by_format.items():
        _echo(f"  {fmt}: {len(counts)} file(s), {sum(counts):,} posts")
    return 0


def cmd_demo(s: Settings, a: argparse.Namespace) -> int:
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
        prog = Progress("generate")
        generate(out, posts=a.posts, seed=a.seed, days=a.days, progress=prog.total)
        prog.done()
    return cmd_run(s, a)


def _non_demo_inbox_files(s: Settings) -> list[str]:
    """Inbox files outside the demo's own ``demo-seed*`` folders."""
    if not s.inbox.is_dir():
        return []
    return [str(p.relative_to(s.inbox)) for p in sorted(s.inbox.rglob("*"))
            if p.is_file() and not p.relative_to(s.inbox).parts[0].startswith("demo-seed")]


def cmd_report(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_query(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_export(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_validate(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_remap(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_forget(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_domains_import(s: Settings, a: argparse.Namespace) -> int:
    from discourse.transform.importers import ReferenceImportError, import_domains

    try:
        n = import_domains(s, Path(a.file), a.format, source=a.source)
    except ReferenceImportError as exc:
        raise CliError(str(exc)) from exc
    _echo(f"{n:,} domain ratings imported into {s.reference_dir / 'domains_extra.parquet'} "
          "(used from the next run)")
    return 0


def cmd_claims_import(s: Settings, a: argparse.Namespace) -> int:
    from discourse.transform.importers import ReferenceImportError, import_claims

    try:
        n = import_claims(s, Path(a.file))
    except ReferenceImportError as exc:
        raise CliError(str(exc)) from exc
    _echo(f"{n:,} claims imported into {s.reference_dir / 'claims_extra.parquet'} (used from the next run)")
    return 0


def cmd_sentiment_train(s: Settings, a: argparse.Namespace) -> int:
    from discourse.transform.sentiment_train import SentimentTrainError, train_overlay

    try:
        res = train_overlay(s, Path(a.file), Path(a.out) if a.out else None)
    except SentimentTrainError as exc:
        raise CliError(str(exc)) from exc
    _echo(json.dumps(res, indent=1, default=str))
    return 0


def cmd_emotion_train(s: Settings, a: argparse.Namespace) -> int:
    from discourse.transform.emotion_train import EmotionTrainError, train_overlay

    try:
        res = train_overlay(s, Path(a.file), Path(a.out) if a.out else None)
    except EmotionTrainError as exc:
        raise CliError(str(exc)) from exc
    _echo(json.dumps(res, indent=1, default=str))
    return 0


def cmd_network_export(s: Settings, a: argparse.Namespace) -> int:
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


def cmd_serve(s: Settings, a: argparse.Namespace) -> int:
    """The report, Data Docs and dbt docs over HTTP, read-only (``discourse.serve``)."""
    from discourse.serve import ServeError, serve

    try:
        serve(s, host=a.host, port=a.port, echo=_echo)
    except ServeError as exc:
        raise CliError(str(exc)) from None
    return 0


# ---------------------------------------------------------------- parser

def ingest_flags(sp: argparse.ArgumentParser) -> None:
    """One flag per format option that declares one (``ingest.formats.<name>.options``); ``cmd_ingest``
    reads them back. Loads the option declarations only, not the adapters."""
    from ingest.registry import option_declarations

    for opt in option_declarations():
        if opt.flag:
            sp.add_argument(opt.flag, dest=opt.name, help=opt.help)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="discourse", description=__doc__.splitlines()[0])
    p.add_argument("--home", help="runtime home (default: $DISCOURSE_HOME or ./discourse_home)")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("ingest", help="ingest export files or folders into the lake")
    sp.add_argument("paths", nargs="+")
    sp.add_argument("--format", help="skip detection and use this adapter")
    ingest_flags(sp)
    sp.add_argument("--force", action="store_true", help="re-ingest even if the content was ingested")
    sp.set_defaults(fn=cmd_ingest)

    commands = (("run", cmd_run, "the nightly job: ingest new inbox files, gates, dbt, publish, report"),
                ("demo", cmd_demo, "generate sample exports into the inbox, then run"))
    for name, fn, hlp in commands:
        sp = sub.add_parser(name, help=hlp)
        sp.add_argument("--json", help="also write the run summary as JSON here")
        sp.add_argument("--full-refresh", action="store_true",
                        help="build the marts even when none of their inputs changed since the last publish")
        if name == "demo":
            sp.add_argument("--posts", type=int, default=20_000)
            sp.add_argument("--seed", type=int, default=7)
            sp.add_argument("--days", type=int, default=14)
        sp.set_defaults(fn=fn)

    sp = sub.add_parser("generate", help="write synthetic exports with planted signals")
    sp.add_argument("--posts", type=int, required=True)
    sp.add_argument("--out", required=True)
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--days", type=int, default=14)
    sp.add_argument("--compress", action="store_true", help="write compressed exports")
    sp.add_argument("--start", help="first day, YYYY-MM-DD (default 2026-11-01)")
    sp.add_argument("--formats", help="comma-separated, from x_v2, x_archive, telegram_desktop, generic, "
                    "reddit, mastodon, bluesky_jetstream, youtube_comments, zeeschuimer (short names x, "
                    "telegram, bluesky, youtube also work; default all)")
    sp.set_defaults(fn=cmd_generate)

    sp = sub.add_parser("report", help="(re)write the HTML report from the published marts")
    sp.set_defaults(fn=cmd_report)

    sp = sub.add_parser("serve", help="serve the reports, Data Docs and dbt docs over HTTP (read-only)")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    sp.add_argument("--port", type=int, default=8080)
    sp.set_defaults(fn=cmd_serve)

    sp = sub.add_parser("query", help="run SQL, or a saved query, against the published marts (read-only)")
    sp.add_argument("sql", nargs="?", help="the SQL (omit with --saved)")
    sp.add_argument("--saved", nargs="?", const="", metavar="NAME",
                    help="run a saved query by name; without a name, list them")
    sp.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sp.add_argument("--limit", type=int, default=50, help="show the first N rows (default 50)")
    sp.set_defaults(fn=cmd_query)

    sp = sub.add_parser("export", help="export a mart, optionally filtered, to CSV, JSON Lines or Parquet")
    sp.add_argument("table", help="mart name, e.g. posts or marts.topic_daily")
    sp.add_argument("--out", required=True)
    sp.add_argument("--format", choices=("csv", "jsonl", "parquet", "json", "gexf", "graphml"),
                    help="default: from --out's extension (.csv, .jsonl/.ndjson/.json, .parquet); "
                    "json = jsonl; gexf and graphml for `export network` (see `discourse network export`)")
    sp.add_argument("--where", help="a SQL predicate over the mart's columns, "
                    "e.g. \"sentiment_label = 'negative'\"")
    sp.add_argument("--since", help="first date, YYYY-MM-DD (the mart's date column)")
    sp.add_argument("--until", help="last date, YYYY-MM-DD, inclusive")
    sp.add_argument("--platform", help="platform(s), comma-separated")
    sp.add_argument("--topic", help="topic id(s), comma-separated (topic_id or primary_topic)")
    sp.add_argument("--lang", help="language(s), comma-separated")
    sp.set_defaults(fn=cmd_export)

    sp = sub.add_parser("validate", help="run the data-quality gates on the lake and/or the marts")
    sp.add_argument("--stage", choices=("raw", "staging", "marts", "all"), default="all")
    sp.add_argument("--build", action="store_true", help="validate the unpublished build warehouse")
    sp.set_defaults(fn=cmd_validate)

    sp = sub.add_parser("remap", help="re-derive the canonical columns of ingested batches from raw")
    sp.add_argument("--format", help="only batches of this export format (default: all)")
    sp.add_argument("--batch", action="append", help="only this batch id (repeatable)")
    sp.set_defaults(fn=cmd_remap)

    sp = sub.add_parser("forget", help="erase an author's or a post's data, or everything before a date")
    what = sp.add_mutually_exclusive_group(required=True)
    what.add_argument("--author", help="<platform>:<author id>, or [<platform>:]@<handle>")
    what.add_argument("--post", help="a post_uid (<platform>:<post id>)")
    what.add_argument("--before", help="every post created before this day (YYYY-MM-DD, UTC)")
    sp.add_argument("--inbox", action="store_true", help="also delete the inbox exports they came from")
    sp.set_defaults(fn=cmd_forget)

    sp = sub.add_parser("domains", help="domain-credibility lists")
    dsub = sp.add_subparsers(dest="domains_command", required=True)
    dp = dsub.add_parser("import", help="import a public domain-rating list")
    dp.add_argument("file")
    dp.add_argument("--format", choices=("pc1", "iffy", "csv"), required=True)
    dp.add_argument("--source", help="name recorded as the ratings' source (default: from the file)")
    dp.set_defaults(fn=cmd_domains_import)

    sp = sub.add_parser("claims", help="fact-checked claims")
    csub = sp.add_subparsers(dest="claims_command", required=True)
    cp = csub.add_parser("import", help="import fact-checked claims (CSV or JSON lines)")
    cp.add_argument("file")
    cp.set_defaults(fn=cmd_claims_import)

    sp = sub.add_parser("sentiment", help="sentiment lexicon overlay")
    ssub = sp.add_subparsers(dest="sentiment_command", required=True)
    tp = ssub.add_parser("train", help="fit token weights from a labelled CSV (text,label)")
    tp.add_argument("file")
    tp.add_argument("--out", help="overlay path (default <home>/reference/sentiment_overlay.parquet)")
    tp.set_defaults(fn=cmd_sentiment_train)

    sp = sub.add_parser("emotion", help="emotion lexicon overlay")
    esub = sp.add_subparsers(dest="emotion_command", required=True)
    tp = esub.add_parser("train", help="fit token weights per emotion from a labelled CSV (text,label)")
    tp.add_argument("file")
    tp.add_argument("--out", help="overlay path (default <home>/reference/emotion_overlay.parquet)")
    tp.set_defaults(fn=cmd_emotion_train)

    sp = sub.add_parser("network", help="the conversation network (docs/network.md)")
    nsub = sp.add_subparsers(dest="network_command", required=True)
    np_ = nsub.add_parser("export", help="write the published author_edges (+ communities) as a graph file")
    np_.add_argument("--out", required=True, help="file to write (csv: also <stem>.nodes.csv beside it)")
    np_.add_argument("--format", choices=("gexf", "graphml", "csv"), help="default: from --out's extension")
    np_.add_argument("--topic", help="only edges between accounts of this topic's repost+quote network")
    np_.add_argument("--window-days", type=int, help="only the last N days, ending at the newest edge")
    np_.add_argument("--since", help="first day, YYYY-MM-DD")
    np_.add_argument("--until", help="last day, YYYY-MM-DD, inclusive")
    np_.add_argument("--types", help="edge types, comma-separated (default repost,quote,reply,mention)")
    np_.set_defaults(fn=cmd_network_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
