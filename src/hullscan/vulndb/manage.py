"""DB file management: default location, info, export/import as one compressed file.

Export is the SQLite file compressed with zstd (frame checksum on); import decompresses into a
temporary file beside the destination (bounded), opens it as a store (which checks that it is
a hullscan DB of a schema version this hullscan reads), and only then renames it over the
current DB. Any failure leaves the current DB untouched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import zstandard

from hullscan.vulndb.store import DbError, SourceInfo, VulnStore

DB_FILE_NAME = "hullscan-vuln.sqlite"
MAX_IMPORT_BYTES = 8 * 1024**3
_CHUNK = 1 << 20


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


def export_db(db: Path, out: Path, level: int = 19) -> int:
    """Write ``db`` as one zstd file (checked as a readable DB first); returns its size."""
    VulnStore(db).close()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        cctx = zstandard.ZstdCompressor(level=level, write_checksum=True, threads=-1)
        with db.open("rb") as src, tmp.open("wb") as dst:
            cctx.copy_stream(src, dst, size=db.stat().st_size)
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out.stat().st_size


def import_db(archive: Path, db: Path, max_bytes: int = MAX_IMPORT_BYTES) -> DbInfo:
    """Replace ``db`` with the DB in ``archive`` (from ``export_db``), atomically."""
    if not archive.is_file():
        raise DbError(f"{archive}: no such file")
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.importing")
    try:
        total = 0
        try:
            with (
                archive.open("rb") as src,
                zstandard.ZstdDecompressor().stream_reader(src) as reader,
                tmp.open("wb") as dst,
            ):
                while chunk := reader.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise DbError(f"{archive}: decompresses to more than {max_bytes} bytes")
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        except zstandard.ZstdError as exc:
            raise DbError(f"{archive}: not a hullscan DB export (zstd: {exc})") from None
        try:
            VulnStore(tmp).close()  # refuses foreign files and unreadable schema versions
        except DbError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise DbError(f"{archive}: {reason}; the current DB is unchanged") from None
        tmp.replace(db)
    finally:
        tmp.unlink(missing_ok=True)
    return db_info(db)
