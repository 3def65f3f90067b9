"""DB file management: default location, info, export/import as one compressed file.

Export is a logical dump of the tables in one zstd stream (checksummed); import rebuilds the
SQLite file beside the destination (bounded, checked as it reads), opens it as a store, and
only then renames it over the current DB. Any failure leaves the current DB untouched.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import quote

import msgspec
import platformdirs
import zstandard

from hullscan.vulndb.schema import DDL, SCHEMA_VERSION
from hullscan.vulndb.store import DbError, SourceInfo, VulnStore

DB_FILE_NAME = "hullscan-vuln.sqlite"
MAX_IMPORT_BYTES = 8 * 1024**3


def default_db_path() -> Path:
    """``$HULLSCAN_DB``, else ``<user cache dir>/hullscan/db/hullscan-vuln.sqlite``."""
    env = os.environ.get("HULLSCAN_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("hullscan")) / "db" / DB_FILE_NAME


@dataclass(frozen=True, slots=True)
class DbInfo:
    path: Path
    size: int
    schema_version: str
    built_at: str | None
    age_days: float | None
    counts: dict[str, int]
    sources: list[SourceInfo]


def db_info(path: Path, now: datetime | None = None) -> DbInfo:
    with VulnStore(path) as store:
        built = store.meta.get("built_at")
        age = None
        if built:
            try:
                when = datetime.strptime(built, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                age = ((now or datetime.now(UTC)) - when).total_seconds() / 86400
            except ValueError:
                age = None
        return DbInfo(
            path=path,
            size=path.stat().st_size,
            schema_version=store.meta.get("schema_version", "?"),
            built_at=built,
            age_days=age,
            counts=store.counts(),
            sources=store.sources(),
        )


EXPORT_MAGIC = b"HULLSCAN-VULNDB-EXPORT\n"
_FRAME_ROWS = 5000
_MAX_FRAME = 256 * 1024 * 1024
_TABLES = (
    "meta",
    "sources",
    "issues",
    "advisories",
    "aliases",
    "affected",
    "kev",
    "epss",
    "cve_severity",
    "support",
)


class _Header(msgspec.Struct, frozen=True):
    schema_version: int
    built_at: str | None
    tables: dict[str, int]  # row counts, checked on import


def export_db(db: Path, out: Path, level: int = 12) -> int:
    """Write ``db`` as one compressed file; returns its size.

    The export is a logical dump, not the SQLite file: a header, then each table's rows as
    length-prefixed msgpack frames, all in one zstd stream (checksummed). Without SQLite's
    indexes and page slack it is about a third of a compressed copy of the file, and
    compresses in seconds instead of minutes; ``import_db`` rebuilds the file and indexes.
    """
    with VulnStore(db) as store:
        built_at = store.meta.get("built_at")
    con = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES}  # noqa: S608
        header = _Header(SCHEMA_VERSION, built_at, counts)
        cctx = zstandard.ZstdCompressor(level=level, write_checksum=True, threads=-1)
        with tmp.open("wb") as raw, cctx.stream_writer(raw) as dst:
            dst.write(EXPORT_MAGIC)
            _write_frame(dst, msgspec.msgpack.encode(header))
            for table in _TABLES:
                cur = con.execute(f"SELECT * FROM {table}")  # noqa: S608
                while rows := cur.fetchmany(_FRAME_ROWS):
                    _write_frame(dst, msgspec.msgpack.encode([table, rows]))
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return out.stat().st_size


def _write_frame(dst: IO[bytes], payload: bytes) -> None:
    dst.write(len(payload).to_bytes(4, "big"))
    dst.write(payload)


def _read_exact(src: IO[bytes], n: int, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise DbError(f"{what}: truncated export")
    return data


def import_db(archive: Path, db: Path, max_bytes: int = MAX_IMPORT_BYTES) -> DbInfo:
    """Replace ``db`` with the DB in ``archive`` (from ``export_db``), atomically.

    The archive is checked as it is read (magic, schema version, frame sizes, row counts,
    zstd checksum); the new DB is built beside ``db`` and renamed over it only when all of
    it was read. Any failure leaves ``db`` as it was.
    """
    if not archive.is_file():
        raise DbError(f"{archive}: no such file")
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.importing")
    tmp.unlink(missing_ok=True)
    try:
        try:
            _import_into(archive, tmp, max_bytes)
        except zstandard.ZstdError as exc:
            raise DbError(f"{archive}: not a hullscan DB export (zstd: {exc})") from None
        except (msgspec.DecodeError, msgspec.ValidationError, sqlite3.DatabaseError) as exc:
            raise DbError(f"{archive}: corrupt DB export ({exc})") from None
        try:
            VulnStore(tmp).close()
        except DbError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise DbError(f"{archive}: {reason}; the current DB is unchanged") from None
        tmp.replace(db)
    finally:
        tmp.unlink(missing_ok=True)
    return db_info(db)


def _import_into(archive: Path, tmp: Path, max_bytes: int) -> None:
    from hullscan.vulndb.build.builder import split_ddl

    what = str(archive)
    with archive.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as src:
        if src.read(len(EXPORT_MAGIC)) != EXPORT_MAGIC:
            raise DbError(f"{what}: not a hullscan DB export")
        size = int.from_bytes(_read_exact(src, 4, what), "big")
        if size > 1 << 20:
            raise DbError(f"{what}: corrupt DB export (header of {size} bytes)")
        header = msgspec.msgpack.decode(_read_exact(src, size, what), type=_Header)
        if header.schema_version != SCHEMA_VERSION:
            raise DbError(
                f"{what}: DB schema version {header.schema_version} is not supported "
                f"(this hullscan reads version {SCHEMA_VERSION}); the current DB is unchanged"
            )
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            early, late = split_ddl(DDL)
            con.executescript(early)
            con.execute("BEGIN")
            seen = dict.fromkeys(_TABLES, 0)
            total = 0
            while head := src.read(4):
                size = int.from_bytes(head if len(head) == 4 else b"\xff" * 4, "big")
                total += size
                if len(head) != 4 or size > _MAX_FRAME or total > max_bytes:
                    raise DbError(f"{what}: decompresses to more than {max_bytes} bytes")
                table, rows = msgspec.msgpack.decode(_read_exact(src, size, what))
                if table not in seen or not isinstance(rows, list) or not rows:
                    raise DbError(f"{what}: corrupt DB export (table {str(table)[:40]!r})")
                marks = ", ".join("?" * len(rows[0]))
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
                seen[table] += len(rows)
            if seen != {t: header.tables.get(t, 0) for t in _TABLES}:
                raise DbError(f"{what}: truncated export (row counts differ from its header)")
            con.execute("COMMIT")
            con.executescript(late)
        finally:
            con.close()
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
