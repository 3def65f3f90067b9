"""Read-only access to a DB file: the only thing matchers see.

The file is opened read-only (``mode=ro``); a DB being replaced by ``db update`` is renamed
over, so an open store keeps reading the file it opened. A file that is not a hullscan DB, or
one with another schema version, is refused with ``DbError``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec

from hullscan.errors import HullscanError
from hullscan.model.advisory import (
    Advisory,
    Affected,
    CveSeverity,
    EpssScore,
    KevEntry,
    Severity,
    SupportStatus,
)
from hullscan.vulndb.schema import SCHEMA_VERSION


class DbError(HullscanError):
    """Missing, unreadable, foreign or incompatible DB file (exit code 2: the user fixes it)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class SourceInfo:
    name: str
    path: str | None
    upstream_date: str | None
    records: int
    issues: int
    seconds: float | None


@dataclass(frozen=True, slots=True)
class Match:
    """One affected entry with the advisory it belongs to."""

    advisory: Advisory  # affected=() (use ``affected``)
    affected: Affected


class AdvisoryHead(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of an ``Advisory`` the matcher reads, decoded from the same stored body
    (``details``, ``references``... are skipped, not decoded). Defaults are ``Advisory``'s:
    the body omits fields at their default."""

    id: str
    source: str
    aliases: tuple[str, ...] = ()
    summary: str | None = None
    withdrawn: str | None = None
    malicious: bool = False
    severities: tuple[Severity, ...] = ()


_CHUNK = 500  # keys per IN (...) query (SQLite's default limit is 999 or 32766)

_adv_decoder = msgspec.msgpack.Decoder(Advisory)
_aff_decoder = msgspec.msgpack.Decoder(Affected)
_kev_decoder = msgspec.msgpack.Decoder(KevEntry)
_sev_decoder = msgspec.msgpack.Decoder(CveSeverity)
_sup_decoder = msgspec.msgpack.Decoder(SupportStatus)
_head_decoder = msgspec.msgpack.Decoder(AdvisoryHead)


class VulnStore:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise DbError(
                f"{path}: no vulnerability DB here (build one with 'hullscan db build' "
                "or 'hullscan db import')"
            )
        self.path = path
        try:
            self._db = sqlite3.connect(
                f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, check_same_thread=False
            )
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise DbError(f"{path}: not a hullscan vulnerability DB ({exc})") from None
        self.meta: dict[str, str] = meta
        version = meta.get("schema_version")
        if version != str(SCHEMA_VERSION):
            raise DbError(
                f"{path}: DB schema version {version} is not supported "
                f"(this hullscan reads version {SCHEMA_VERSION}); rebuild or update the DB"
            )
        self._advisory_cache: dict[int, Advisory] = {}
        self._head_cache: dict[int, AdvisoryHead] = {}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> VulnStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookups --------------------------------------------------------------------------
    def affected(self, namespace: str, package: str) -> list[Match]:
        """Every statement about ``package`` in ``namespace`` (withdrawn ones included:
        the matcher decides, and ``explain`` shows them)."""
        rows = self._db.execute(
            "SELECT advisory, body FROM affected WHERE namespace = ? AND package = ?",
            (namespace, package),
        ).fetchall()
        self._load_advisories({rowid for rowid, _ in rows})
        return [Match(self._advisory(rowid), _aff_decoder.decode(body)) for rowid, body in rows]

    def affected_bodies(
        self, namespace: str, packages: Iterable[str]
    ) -> dict[str, list[tuple[int, str | None, bytes]]]:
        """The statements ``affected`` gives for each of many packages of one namespace, not
        decoded: package -> [(advisory rowid, upper bound, msgpack ``Affected``)], in
        ``affected``'s order (by advisory, then its entries' order). The upper bound is a
        version from which on the statement affects nothing (None: none known; see the
        builder's ``upper_bound``).
        ``not-affected`` statements, which never match, are left out (the ``fix_state``
        column is written from the body's). A few queries for any number of packages;
        packages without statements are absent."""
        out: dict[str, list[tuple[int, str | None, bytes]]] = {}
        sql = (
            "SELECT package, advisory, upper, body FROM affected WHERE namespace = ? "
            "AND package IN ({}) AND fix_state != 'not-affected' ORDER BY package, advisory, ord"
        )
        for package, advisory, upper, body in self._many(sql, packages, (namespace,)):
            rows = out.get(package)
            if rows is None:
                rows = out[package] = []
            rows.append((advisory, upper, body))
        return out

    def advisory_heads(self, rowids: Iterable[int]) -> dict[int, AdvisoryHead]:
        """``AdvisoryHead`` of many advisories by rowid (the ``advisory`` of ``affected``
        rows), each body decoded once per store."""
        cache = self._head_cache
        wanted = list(dict.fromkeys(rowids))
        decode = _head_decoder.decode
        for rowid, body in self._many(
            "SELECT rowid, body FROM advisories WHERE rowid IN ({})",
            [r for r in wanted if r not in cache],
        ):
            cache[rowid] = decode(body)
        return {r: cache[r] for r in wanted if r in cache}

    def support_many(
        self, namespace: str, packages: Iterable[str]
    ) -> dict[str, list[SupportStatus]]:
        """``support(namespace, package)`` for many packages (absent ones are left out)."""
        out: dict[str, list[SupportStatus]] = {}
        for package, body in self._many(
            "SELECT package, body FROM support WHERE namespace = ? AND package IN ({}) "
            "ORDER BY rowid",
            packages,
            (namespace,),
        ):
            out.setdefault(package, []).append(_sup_decoder.decode(body))
        return out

    def advisories(self, advisory_id: str) -> list[Advisory]:
        """Every advisory with this id (not an alias), with all its affected entries: one
        per publisher group (the Debian tracker's CVE-x and Red Hat's CVE-x are two)."""
        out = []
        for (rowid,) in self._db.execute(
            "SELECT rowid FROM advisories WHERE id = ? ORDER BY rowid", (advisory_id,)
        ).fetchall():
            entries = tuple(
                _aff_decoder.decode(body)
                for (body,) in self._db.execute(
                    "SELECT body FROM affected WHERE advisory = ? ORDER BY ord", (rowid,)
                )
            )
            out.append(msgspec.structs.replace(self._advisory(rowid), affected=entries))
        return out

    def advisory(self, advisory_id: str) -> Advisory | None:
        """The first advisory with this id (see ``advisories``)."""
        found = self.advisories(advisory_id)
        return found[0] if found else None

    def ids_for_alias(self, alias: str) -> list[str]:
        """Ids of advisories that are, or name as alias, ``alias``."""
        rows = self._db.execute(
            "SELECT DISTINCT a.id FROM aliases x JOIN advisories a ON a.rowid = x.advisory "
            "WHERE x.alias = ? ORDER BY a.id",
            (alias,),
        )
        return [r[0] for r in rows]

    def kev_many(self, cves: Iterable[str]) -> dict[str, KevEntry]:
        """``kev`` for many CVEs in a few queries (absent ones are left out)."""
        return {
            cve: _kev_decoder.decode(body)
            for cve, body in self._many("SELECT cve, body FROM kev WHERE cve IN ({})", cves)
        }

    def kev_all(self) -> dict[str, KevEntry]:
        """The whole KEV catalog (about 1,500 entries: cheaper to read at once than to probe
        for tens of thousands of CVEs)."""
        return {
            cve: _kev_decoder.decode(body)
            for cve, body in self._db.execute("SELECT cve, body FROM kev")
        }

    def epss_many(self, cves: Iterable[str]) -> dict[str, EpssScore]:
        return {
            row[0]: EpssScore(*row)
            for row in self._many("SELECT cve, epss, percentile FROM epss WHERE cve IN ({})", cves)
        }

    def cve_severities_many(self, cves: Iterable[str]) -> dict[str, list[CveSeverity]]:
        out: dict[str, list[CveSeverity]] = {}
        for cve, body in self._many(
            "SELECT cve, body FROM cve_severity WHERE cve IN ({}) ORDER BY rowid", cves
        ):
            out.setdefault(cve, []).append(_sev_decoder.decode(body))
        return out

    def _many(
        self, sql: str, keys: Iterable[object], before: tuple[object, ...] = ()
    ) -> Iterator[tuple[Any, ...]]:
        todo = list(dict.fromkeys(keys))
        for i in range(0, len(todo), _CHUNK):
            chunk = todo[i : i + _CHUNK]
            yield from self._db.execute(
                sql.format(",".join("?" * len(chunk))), (*before, *chunk)
            ).fetchall()

    def _load_advisories(self, rowids: set[int]) -> None:
        missing = [r for r in rowids if r not in self._advisory_cache]
        for rowid, body in self._many(
            "SELECT rowid, body FROM advisories WHERE rowid IN ({})", missing
        ):
            self._advisory_cache[rowid] = _adv_decoder.decode(body)

    def kev(self, cve: str) -> KevEntry | None:
        row = self._db.execute("SELECT body FROM kev WHERE cve = ?", (cve,)).fetchone()
        return _kev_decoder.decode(row[0]) if row else None

    def epss(self, cve: str) -> EpssScore | None:
        row = self._db.execute(
            "SELECT cve, epss, percentile FROM epss WHERE cve = ?", (cve,)
        ).fetchone()
        return EpssScore(*row) if row else None

    def cve_severities(self, cve: str) -> list[CveSeverity]:
        rows = self._db.execute("SELECT body FROM cve_severity WHERE cve = ?", (cve,))
        return [_sev_decoder.decode(r[0]) for r in rows]

    def support(self, namespace: str, package: str | None = None) -> list[SupportStatus]:
        if package is None:
            rows = self._db.execute(
                "SELECT body FROM support WHERE namespace = ? AND package IS NULL", (namespace,)
            )
        else:
            rows = self._db.execute(
                "SELECT body FROM support WHERE namespace = ? AND package = ?",
                (namespace, package),
            )
        return [_sup_decoder.decode(r[0]) for r in rows]

    # -- metadata -------------------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        rows = self._db.execute(
            "SELECT name, path, upstream_date, records, issues, seconds FROM sources ORDER BY name"
        )
        return [SourceInfo(*r) for r in rows]

    def issues(self, source: str | None = None) -> Iterator[tuple[str, str, str]]:
        if source is None:
            yield from self._db.execute("SELECT source, item, error FROM issues")
        else:
            yield from self._db.execute(
                "SELECT source, item, error FROM issues WHERE source = ?", (source,)
            )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in ("advisories", "affected", "kev", "epss", "cve_severity", "support"):
            out[table] = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        return out

    def _advisory(self, rowid: int) -> Advisory:
        adv = self._advisory_cache.get(rowid)
        if adv is None:
            (body,) = self._db.execute(
                "SELECT body FROM advisories WHERE rowid = ?", (rowid,)
            ).fetchone()
            adv = self._advisory_cache[rowid] = _adv_decoder.decode(body)
        return adv
