"""``hullscan db build|update|info|export|import``: thin wiring over ``hullscan.vulndb``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from hullscan.errors import UsageError
from hullscan.net import redact_url

if TYPE_CHECKING:
    from hullscan.vulndb.build.builder import SourceStats
    from hullscan.vulndb.manage import DbInfo
    from hullscan.vulndb.update import FeedResult

DEFAULT_MAX_AGE_DAYS = 7


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="update, build, inspect, export and import the vulnerability DB")
    dbsub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")

    def with_db(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            type=Path,
            default=None,
            help="DB file (env HULLSCAN_DB; default: the user cache dir)",
        )

    p = dbsub.add_parser("build", help="build a DB offline from feed files laid out as upstream")
    p.add_argument("--from", dest="feed_dir", type=Path, required=True, help="feed directory")
    p.add_argument("-o", "--output", type=Path, default=None, help="DB file to write")
    p.add_argument(
        "--source",
        action="append",
        default=None,
        help="only these sources (repeatable; see 'hullscan db sources')",
    )
    p.add_argument("-q", "--quiet", action="store_true")

    p = dbsub.add_parser(
        "update", help="download the live feeds into a feed directory and rebuild the DB"
    )
    with_db(p)
    p.add_argument(
        "--feed-dir",
        type=Path,
        default=None,
        help="where the feed files are kept between runs (env HULLSCAN_FEED_DIR; "
        "default: <user cache dir>/hullscan/feeds)",
    )
    p.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="download from TO instead of FROM, e.g. "
        "https://osv-vulnerabilities.storage.googleapis.com=http://mirror.local/osv "
        "(repeatable; env HULLSCAN_FEED_MIRRORS)",
    )
    p.add_argument(
        "--feeds",
        action="append",
        default=None,
        metavar="NAME",
        help="only these feeds: a name or group (osv, osv/PyPI, alpine-secdb/3.21, kev, ...; "
        "repeatable or comma-separated; see --list)",
    )
    p.add_argument("--with-nvd", action="store_true", help="also the NVD 2.0 yearly feeds (large)")
    p.add_argument(
        "--alpine-branch",
        action="append",
        default=[],
        metavar="3.NN",
        help="also this Alpine secdb branch (repeatable)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="connect and read timeout in seconds (default 15 / 60)",
    )
    p.add_argument(
        "--retries", type=int, default=None, metavar="N", help="retries per file (default 4)"
    )
    p.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="parallel downloads (default 4)"
    )
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="build even when feeds failed (from the copies already in the feed directory)",
    )
    p.add_argument("--list", action="store_true", help="list the feeds and their URLs, then exit")
    p.add_argument("-q", "--quiet", action="store_true")

    p = dbsub.add_parser("info", help="sources, counts and age of a DB")
    with_db(p)
    p.add_argument(
        "--max-age-days",
        type=float,
        default=DEFAULT_MAX_AGE_DAYS,
        help=f"warn when the DB is older (default {DEFAULT_MAX_AGE_DAYS})",
    )
    p.add_argument("--issues", action="store_true", help="list the records feeds could not use")

    p = dbsub.add_parser("export", help="write the DB as one compressed file (air-gapped hosts)")
    with_db(p)
    p.add_argument("-o", "--output", type=Path, required=True)

    p = dbsub.add_parser("import", help="replace the DB with an exported file")
    with_db(p)
    p.add_argument("file", type=Path)

    from hullscan.cli.registry_opts import add_registry_args

    p = dbsub.add_parser(
        "push", help="push the DB to a registry as an OCI artifact (ORAS-compatible)"
    )
    with_db(p)
    p.add_argument("reference", help="registry/repository[:tag] (tag default latest)")
    add_registry_args(p)

    p = dbsub.add_parser("pull", help="replace the DB with the artifact at a registry reference")
    with_db(p)
    p.add_argument("reference", help="registry/repository[:tag|@digest]")
    add_registry_args(p)

    dbsub.add_parser("sources", help="list the feed sources 'db build' reads")


def run(args: argparse.Namespace, stderr: Console) -> int:
    from hullscan.vulndb import manage

    cmd = args.db_command
    if cmd is None:
        raise UsageError(
            "hullscan db: give a command: update, build, info, export, import, push, pull, sources"
        )
    if cmd == "sources":
        from hullscan.vulndb.build.sources import default_sources

        for spec in default_sources():
            print(f"{spec.name}\t{spec.pattern}")
        return 0
    if cmd == "build":
        return _build(args, stderr)
    if cmd == "update":
        return _update(args, stderr)
    db = args.db or manage.default_db_path()
    if cmd == "info":
        return _info(manage.db_info(db), args, stderr)
    if cmd == "export":
        size = manage.export_db(db, args.output)
        stderr.print(
            f"exported {db} -> {args.output} ({size / 1e6:.1f} MB)", markup=False, soft_wrap=True
        )
        return 0
    if cmd in ("push", "pull"):
        return _registry(cmd, args, db, stderr)
    if cmd == "import":
        info = manage.import_db(args.file, db)
        stderr.print(
            f"imported {args.file} -> {db} (built {info.built_at}, "
            f"{info.counts.get('advisories', 0)} advisories)",
            markup=False,
            soft_wrap=True,
        )
        return 0
    raise UsageError(f"unknown db command {cmd!r}")


def _registry(cmd: str, args: argparse.Namespace, db: Path, stderr: Console) -> int:
    from hullscan.cli.registry_opts import registry_settings
    from hullscan.vulndb.registry import pull_db, push_db

    settings = registry_settings(args, args.reference)
    if cmd == "push":
        pushed = push_db(db, args.reference, settings)
        line = f"pushed {db} -> {pushed.reference}@{pushed.digest} ({pushed.size / 1e6:.1f} MB)"
    else:
        pulled = pull_db(args.reference, db, settings)
        info = pulled.info
        line = (
            f"pulled {pulled.reference} ({pulled.digest}) -> {db} (built {info.built_at}, "
            f"{info.counts.get('advisories', 0)} advisories)"
        )
    stderr.print(line, markup=False, soft_wrap=True)
    return 0


def _build(args: argparse.Namespace, stderr: Console) -> int:
    from hullscan.vulndb import manage
    from hullscan.vulndb.build.builder import build_db
    from hullscan.vulndb.build.sources import default_sources

    if not args.feed_dir.is_dir():
        raise UsageError(f"--from {args.feed_dir}: not a directory")
    specs = default_sources()
    if args.source:
        known = {s.name for s in specs}
        unknown = sorted(set(args.source) - known)
        if unknown:
            raise UsageError(f"unknown source(s) {', '.join(unknown)}; see 'hullscan db sources'")
        specs = [s for s in specs if s.name in set(args.source)]
    out = args.output or manage.default_db_path()
    report = build_db(args.feed_dir, out, specs)
    if not args.quiet:
        for s in report.sources:
            if not s.files:
                continue
            line = f"{s.name}: {s.records} records, {s.issues} unusable, {s.seconds:.1f} s"
            if s.failed:
                line += f" (failed: {s.failed})"
            stderr.print(line, markup=False, highlight=False, soft_wrap=True)
        stderr.print(
            f"built {out}: {report.advisories} advisories, {report.affected} affected entries, "
            f"{report.size / 1e6:.1f} MB in {report.seconds:.1f} s",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    return 0


def _update(args: argparse.Namespace, stderr: Console) -> int:
    from hullscan.vulndb import manage, update

    def say(line: str) -> None:
        stderr.print(line, markup=False, highlight=False, soft_wrap=True)

    extra = [b for spec in args.alpine_branch for b in spec.split(",") if b.strip()]
    table = update.live_feeds((*update.ALPINE_BRANCHES, *extra))
    names = [n for spec in args.feeds or () for n in spec.split(",") if n.strip()]
    if args.feeds and not names:
        raise UsageError("--feeds: give a feed name")
    if extra:
        names = names or [f.name for f in table if f.default]
        names += [f"alpine-secdb/{b.strip().removeprefix('v')}" for b in extra]
    feeds = update.select_feeds(names or None, with_nvd=args.with_nvd, table=table)
    mirrors = update.Mirrors.parse(args.mirror)
    if args.list:
        for f in feeds:
            url = redact_url(mirrors.apply(f.url))
            sys.stdout.write(f"{f.name}\t{url}\t{f.dest}\n")
        return 0
    for flag, value in (("--timeout", args.timeout), ("--retries", args.retries)):
        if value is not None and value < 0:
            raise UsageError(f"{flag}: must not be negative")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs: must be at least 1")
    defaults = update.HttpSettings()
    settings = update.HttpSettings(
        connect_timeout=args.timeout or defaults.connect_timeout,
        read_timeout=args.timeout or defaults.read_timeout,
        retries=defaults.retries if args.retries is None else args.retries,
        jobs=args.jobs or defaults.jobs,
    )
    feed_dir = args.feed_dir or update.default_feed_dir()
    db = args.db or manage.default_db_path()

    def feed_line(r: FeedResult) -> None:
        if args.quiet:
            return
        if r.status == "failed":
            say(f"{r.feed.name}: failed after {r.seconds:.1f} s: {r.error}")
            return
        what = "downloaded" if r.status == "downloaded" else "not modified"
        notes = [n for n in ("resumed" if r.resumed else "",) if n]
        if r.attempts > 1:
            notes.append(f"{r.attempts} attempts")
        tail = f" ({', '.join(notes)})" if notes else ""
        say(f"{r.feed.name}: {what}, {r.size / 1e6:.1f} MB in {r.seconds:.1f} s{tail}")

    def source_line(s: SourceStats) -> None:
        if args.quiet or not s.files:
            return
        line = f"{s.name}: {s.records} records, {s.issues} unusable, {s.seconds:.1f} s"
        say(line + (f" (failed: {s.failed})" if s.failed else ""))

    report = update.update_db(
        feed_dir,
        db,
        feeds=feeds,
        mirrors=mirrors,
        settings=settings,
        keep_going=args.keep_going,
        progress=feed_line,
        build_progress=source_line,
    )
    if report.failed:
        what = [
            f"{r.feed.name}: " + ("kept the copy from an earlier run" if r.size else "no data")
            for r in report.failed
        ]
        say(f"warning: {len(report.failed)} feed(s) failed; built anyway ({'; '.join(what)})")
    build = report.build
    if build is not None and not args.quiet:
        fetched = sum(r.transferred for r in report.results)
        say(
            f"updated {db}: {build.advisories} advisories, {build.affected} affected entries, "
            f"{build.size / 1e6:.1f} MB; {fetched / 1e6:.1f} MB downloaded"
        )
    return 0


def _info(info: DbInfo, args: argparse.Namespace, stderr: Console) -> int:
    from hullscan.vulndb.store import VulnStore

    out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    out.print(f"DB: {info.path} ({info.size / 1e6:.1f} MB)", markup=False)
    out.print(f"schema version: {info.schema_version}; built: {info.built_at}", markup=False)
    out.print("records: " + ", ".join(f"{k} {v}" for k, v in info.counts.items()), markup=False)
    table = Table("source", "records", "unusable", "upstream date", "files")
    for s in info.sources:
        table.add_row(s.name, str(s.records), str(s.issues), s.upstream_date or "-", s.path or "-")
    out.print(table)
    if args.issues:
        with VulnStore(info.path) as store:
            for source, item, error in store.issues():
                out.print(f"{source}\t{item}\t{error}", markup=False)
    if info.age_days is not None and info.age_days > args.max_age_days:
        stderr.print(
            f"warning: the DB is {info.age_days:.0f} days old (over {args.max_age_days:g}); "
            "run 'hullscan db update' or import a newer export",
            markup=False,
            soft_wrap=True,
        )
    return 0
