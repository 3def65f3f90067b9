"""Build a DB file from feeds: run each source's parser, normalize, dedupe, write atomically.

The new DB is written to a temporary file beside the destination and renamed over it only
when complete (``os.replace``): a build killed at any point leaves the previous DB in place,
and a reader that opened the old file keeps reading the old file (its inode) -- old or new,
never a mix.

Duplicates: the same advisory id can come from several sources (osv.dev's bundles and the
native Go/RustSec/malicious-packages exports). The copy with the newest ``modified`` wins;
``withdrawn`` is kept from any copy (the vuls-mirrored bundles lost that field, the native
ones carry it: see shared/vulndata MANIFEST, caveat 1).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from hullscan import versions
from hullscan.errors import ParseError
from hullscan.model.advisory import (
    Advisory,
    Affected,
    CveSeverity,
    EpssScore,
    KevEntry,
    ParseIssue,
    SupportStatus,
)
from hullscan.vulndb.build.feed import Record
from hullscan.vulndb.schema import DDL, MAX_ISSUES_STORED_PER_SOURCE, SCHEMA_VERSION

Reader = Callable[[Path, str], Iterator[Record]]


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One feed: ``pattern`` is a glob relative to the feed directory; every file it matches
    is handed to ``read(path, source_name)``."""

    name: str
    pattern: str
    read: Reader
    group: str | None = None  # sources shipping copies of the same records share a group


@dataclass(slots=True)
class SourceStats:
    name: str
    files: list[str] = field(default_factory=list)
    records: int = 0
    issues: int = 0
    upstream_date: str | None = None
    seconds: float = 0.0
    failed: str | None = None  # the whole source could not be read


@dataclass(slots=True)
class BuildReport:
    path: Path
    seconds: float
    size: int
    sources: list[SourceStats]
    advisories: int
    affected: int


_encoder = msgspec.msgpack.Encoder()


@dataclass(slots=True)
class _Seen:
    rowid: int
    source: str
    modified: str
    withdrawn: str | None
    aliases: set[str]
    entries: set[bytes]  # encoded Affected rows stored for this advisory


# Statements are written to a temporary table while the feeds are read (appends; replaced
# advisories delete theirs by advisory) and copied into ``affected`` sorted by its key at the
# end: inserting them in key order as they come costs ~15% more build time than this copy.
_STAGE_DDL = """
CREATE TABLE temp.affected_stage (
    namespace TEXT NOT NULL, package TEXT NOT NULL, advisory INTEGER NOT NULL,
    ord INTEGER NOT NULL, fix_state TEXT NOT NULL, fixed_version TEXT, upper TEXT,
    body BLOB NOT NULL
);
CREATE INDEX temp.affected_stage_advisory ON affected_stage (advisory);
"""
_UNSTAGE = (
    "INSERT INTO affected SELECT * FROM temp.affected_stage "
    "ORDER BY namespace, package, advisory, ord"
)


class _Writer:
    """Writes records; decides what a repeated advisory id means.

    An advisory's identity is (id, group). Sources that ship copies of the same upstream
    records share a group (all OSV bundles: ``osv``); others are their own group (a bare
    ``CVE-…`` from the Debian tracker and one from Red Hat are different statements). When
    an (id, group) comes again:

    * from another source with a newer ``modified``: the newer copy replaces the older;
    * from another source with an older ``modified``: it is dropped;
    * otherwise (same source, or same ``modified``: a secdb that repeats a CVE per branch, the
      one combined CVE record osv.dev puts in both its Debian and Alpine bundles): the
      affected entries are merged, identical entries stored once.

    A withdrawal known from any copy is kept.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.seen: dict[tuple[str, str], _Seen] = {}
        self.stored_issues: dict[str, int] = {}
        self.affected_rows = 0
        self.check = _VersionCheck()

    def add(self, record: Record, stats: SourceStats, group: str) -> None:
        if isinstance(record, ParseIssue):
            stats.issues += 1
            if self.stored_issues.get(stats.name, 0) < MAX_ISSUES_STORED_PER_SOURCE:
                self.stored_issues[stats.name] = self.stored_issues.get(stats.name, 0) + 1
                self.db.execute(
                    "INSERT INTO issues VALUES (?, ?, ?)",
                    (stats.name, record.item[:500], record.error[:1000]),
                )
            return
        stats.records += 1
        if isinstance(record, Advisory):
            self._advisory(record, stats, group)
        elif isinstance(record, KevEntry):
            self.db.execute(
                "INSERT OR REPLACE INTO kev VALUES (?, ?)", (record.cve, _encoder.encode(record))
            )
        elif isinstance(record, EpssScore):
            self.db.execute(
                "INSERT OR REPLACE INTO epss VALUES (?, ?, ?)",
                (record.cve, record.epss, record.percentile),
            )
        elif isinstance(record, CveSeverity):
            self.db.execute(
                "INSERT INTO cve_severity VALUES (?, ?, ?)",
                (record.cve, stats.name, _encoder.encode(record)),
            )
        elif isinstance(record, SupportStatus):
            self.db.execute(
                "INSERT INTO support VALUES (?, ?, ?)",
                (record.namespace, record.package, _encoder.encode(record)),
            )

    def _advisory(self, adv: Advisory, stats: SourceStats, group: str) -> None:
        date = adv.modified or adv.published
        if date and (stats.upstream_date is None or date > stats.upstream_date):
            stats.upstream_date = date
        key = (adv.id, group)
        modified = adv.modified or ""
        prior = self.seen.get(key)
        if prior is None:
            self._insert(key, adv, stats.name, modified)
            return
        other_source = prior.source != stats.name
        if other_source and modified > prior.modified:
            self._delete(prior)
            if prior.withdrawn and not adv.withdrawn:
                adv = msgspec.structs.replace(adv, withdrawn=prior.withdrawn)
            self._insert(key, adv, stats.name, modified)
            return
        if adv.withdrawn and not prior.withdrawn:
            self._set_withdrawn(prior, adv.withdrawn)
        if other_source and modified < prior.modified:
            return
        self._add_affected(prior, adv)
        new_aliases = [a for a in adv.aliases if a not in prior.aliases]
        prior.aliases.update(new_aliases)
        self.db.executemany(
            "INSERT INTO aliases VALUES (?, ?)", [(a, prior.rowid) for a in new_aliases]
        )

    def _insert(self, key: tuple[str, str], adv: Advisory, source: str, modified: str) -> None:
        cur = self.db.execute(
            "INSERT INTO advisories (id, grp, source, withdrawn, malicious, modified, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                adv.id,
                key[1],
                adv.source,
                adv.withdrawn,
                int(adv.malicious),
                adv.modified,
                _encoder.encode(_compact_advisory(adv)),
            ),
        )
        rowid = cur.lastrowid
        assert rowid is not None
        ids = set(dict.fromkeys((adv.id, *adv.aliases)))
        seen = _Seen(rowid, source, modified, adv.withdrawn, ids, set())
        self.seen[key] = seen
        self.db.executemany("INSERT INTO aliases VALUES (?, ?)", [(i, rowid) for i in ids])
        self._add_affected(seen, adv)

    def _add_affected(self, seen: _Seen, adv: Advisory) -> None:
        rows = []
        for a in map(self.check, map(_compact, adv.affected)):
            body = _encoder.encode(a)
            if body in seen.entries:
                continue
            seen.entries.add(body)
            rows.append(
                (
                    a.namespace,
                    a.package,
                    seen.rowid,
                    len(seen.entries),  # ord: the entry's place in its advisory
                    a.fix_state,
                    a.fixed_version,
                    self.check.upper_bound(a),
                    body,
                )
            )
        self.db.executemany("INSERT INTO temp.affected_stage VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.affected_rows += len(rows)

    def _delete(self, seen: _Seen) -> None:
        self.db.execute("DELETE FROM temp.affected_stage WHERE advisory = ?", (seen.rowid,))
        self.db.execute("DELETE FROM aliases WHERE advisory = ?", (seen.rowid,))
        self.db.execute("DELETE FROM advisories WHERE rowid = ?", (seen.rowid,))
        self.affected_rows -= len(seen.entries)

    def _set_withdrawn(self, seen: _Seen, withdrawn: str) -> None:
        (body,) = self.db.execute(
            "SELECT body FROM advisories WHERE rowid = ?", (seen.rowid,)
        ).fetchone()
        kept = msgspec.msgpack.decode(body, type=Advisory)
        body = _encoder.encode(msgspec.structs.replace(kept, withdrawn=withdrawn))
        self.db.execute(
            "UPDATE advisories SET withdrawn = ?, body = ? WHERE rowid = ?",
            (withdrawn, body, seen.rowid),
        )
        seen.withdrawn = withdrawn


MAX_DETAILS_CHARS = 300
MAX_REFERENCES = 8


def _compact_advisory(adv: Advisory) -> Advisory:
    """The advisory as stored (without its affected entries, which get their own rows).

    Long ``details`` and reference lists are most of the DB's size (and of the export a
    team ships to air-gapped hosts) and none of the matching: details are cut at
    ``MAX_DETAILS_CHARS`` (a report shows a line or two; the advisory's page has the rest)
    and references at ``MAX_REFERENCES`` (the advisory's own page is among the first
    references of every feed we read).
    """
    details = adv.details
    if details and len(details) > MAX_DETAILS_CHARS:
        details = details[: MAX_DETAILS_CHARS - 1].rstrip() + "…"
    return msgspec.structs.replace(
        adv, affected=(), details=details, references=adv.references[:MAX_REFERENCES]
    )


class _VersionCheck:
    """Records, on the entry, the versions its scheme cannot parse.

    Such an entry is kept (dropping it would hide the advisory); ``problem`` says which
    version could not be read, so the matcher can report "could not compare" instead of a
    silent "not affected". Results are memoized per (scheme, version): the same strings
    recur across releases and sources.
    """

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], object] = {}  # parsed sort key, None: invalid

    def __call__(self, a: Affected) -> Affected:
        if a.problem or a.scheme not in _SCHEMES:
            return a
        bad = [v for v in dict.fromkeys(_versions_of(a)) if self._key(a.scheme, v) is None]
        if not bad:
            return a
        listed = ", ".join(repr(v) for v in bad[:3]) + (" ..." if len(bad) > 3 else "")
        return msgspec.structs.replace(
            a, problem=f"version(s) not valid for scheme {a.scheme}: {listed}"
        )

    def _key(self, scheme: str, version: str) -> object:
        memo = (scheme, version)
        try:
            return self._keys[memo]
        except KeyError:
            pass
        try:
            key: object = versions.parse(scheme, version).key
        except versions.VersionParseError:
            key = None
        self._keys[memo] = key
        return key

    def upper_bound(self, a: Affected) -> str | None:
        """A version from which on the entry affects nothing, for the matcher to skip the
        entry without decoding it (``affected.upper``); None when there is no such version
        or it is not obvious.

        Exact under OSV's evaluation (``hullscan.match.ranges``): when no range has a
        ``limit`` and, in every version range, the last event in sorted order (by version; a
        stable sort, ``introduced 0`` first) is ``fixed``, a version at or above the highest
        of those fixes passes every event and ends every range "fixed"; the entry names no
        ``versions`` and has no ``problem``. An entry without ranges is bounded by its
        ``fixed_version`` (affected below it). Checked against the evaluator on every entry
        of the real data in ``tests/integration/test_match_fastpath.py``.
        """
        if a.problem is not None or a.versions or a.scheme not in _SCHEMES:
            return None
        scheme = a.scheme
        version_ranges = [r for r in a.ranges if r.type != "GIT"]
        if not version_ranges:
            fixed = a.fixed_version
            if a.ranges or not fixed or fixed == "0" or self._key(scheme, fixed) is None:
                return None
            return fixed
        best: tuple[Any, str] | None = None
        for r in version_ranges:
            keyed: list[tuple[int, Any, str, str]] = []
            for e in r.events:
                if e.kind == "limit":
                    return None
                if e.kind == "introduced" and e.version == "0":
                    keyed.append((0, (), e.kind, e.version))
                    continue
                key = self._key(scheme, e.version)
                if key is None:
                    return None
                keyed.append((1, key, e.kind, e.version))
            if not keyed:
                return None
            last = max(enumerate(keyed), key=lambda p: (p[1][0], p[1][1], p[0]))[1]
            if last[2] != "fixed":
                return None
            if best is None or last[1] > best[0]:
                best = (last[1], last[3])
        return None if best is None else best[1]


_SCHEMES = frozenset(versions.schemes())


def _versions_of(a: Affected) -> Iterator[str]:
    if a.fixed_version and a.fixed_version != "0":
        yield a.fixed_version
    for r in a.ranges:
        if r.type == "GIT":
            continue
        for e in r.events:
            if e.version != "0":  # "introduced 0": from the beginning, in every scheme
                yield e.version
    yield from a.versions


def _compact(affected: Affected) -> Affected:
    """Drop the enumerated ``versions`` of an entry that has version ranges.

    osv.dev enumerates every affected version from the ranges (``versions``); it is most of
    the size of the Debian and Alpine bundles and says nothing the ranges do not, since the
    matcher tests a version against the ranges. Entries without a version range (GIT-only
    or versions-only records) keep their list.
    """
    if affected.versions and any(r.type != "GIT" for r in affected.ranges):
        return msgspec.structs.replace(affected, versions=())
    return affected


def build_db(
    feed_dir: Path,
    out: Path,
    sources: Sequence[SourceSpec],
    *,
    progress: Callable[[SourceStats], None] | None = None,
) -> BuildReport:
    """Read every source under ``feed_dir`` and write the DB to ``out`` atomically."""
    t0 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.building")
    tmp.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            # Tables first, indexes after the inserts (much faster than indexing per row).
            tables, indexes = split_ddl(DDL)
            db.executescript(tables)
            db.executescript(_STAGE_DDL)
            db.execute("BEGIN")
            writer = _Writer(db)
            all_stats = [_run_source(feed_dir, spec, writer) for spec in sources]
            if progress:
                for s in all_stats:
                    progress(s)
            _write_meta(db, all_stats)
            db.execute(_UNSTAGE)
            db.execute("DROP TABLE temp.affected_stage")
            db.execute("COMMIT")
            db.executescript(indexes)
            db.execute("PRAGMA optimize")
            advisories = db.execute("SELECT count(*) FROM advisories").fetchone()[0]
        finally:
            db.close()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        tmp.replace(out)  # atomic on POSIX: readers see the old file or the new one
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BuildReport(
        path=out,
        seconds=time.perf_counter() - t0,
        size=out.stat().st_size,
        sources=all_stats,
        advisories=advisories,
        affected=writer.affected_rows,
    )


def _run_source(feed_dir: Path, spec: SourceSpec, writer: _Writer) -> SourceStats:
    stats = SourceStats(name=spec.name)
    group = spec.group or spec.name
    t0 = time.perf_counter()
    for path in sorted(feed_dir.glob(spec.pattern)):
        if not path.is_file():
            continue
        stats.files.append(path.relative_to(feed_dir).as_posix())
        try:
            for record in spec.read(path, spec.name):
                writer.add(record, stats, group)
        except ParseError as exc:  # the whole file is unusable: counted, the build goes on
            stats.failed = str(exc)
            issue = ParseIssue(source=spec.name, item=path.name, error=str(exc))
            writer.add(issue, stats, group)
    stats.seconds = time.perf_counter() - t0
    return stats


def _write_meta(db: sqlite3.Connection, stats: Iterable[SourceStats]) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("schema_version", str(SCHEMA_VERSION)), ("built_at", now)],
    )
    db.executemany(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                s.name,
                ", ".join(s.files) or None,
                s.upstream_date,
                s.records,
                s.issues,
                round(s.seconds, 3),
            )
            for s in stats
        ],
    )


def split_ddl(ddl: str) -> tuple[str, str]:
    """(statements to run before the inserts, indexes to create after them).

    Indexes are built after the inserts (much faster than per row), except those the builder
    itself needs while inserting (marked ``-- early`` in the schema).
    """
    statements = [s.strip() for s in ddl.split(";\n") if s.strip()]
    early, late = [], []
    for statement in statements:
        code = "\n".join(line.split("--", 1)[0] for line in statement.splitlines()).strip()
        if code.upper().startswith("CREATE INDEX") and "-- early" not in statement:
            late.append(code)
        else:
            early.append(code)
    return ";\n".join(early) + ";", ";\n".join(late) + ";"
