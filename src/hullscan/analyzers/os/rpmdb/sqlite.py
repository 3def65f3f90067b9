"""Read the header blobs out of rpm's SQLite backend file (``rpmdb.sqlite``, rpm >= 4.16).

rpm keeps one row per installed package in ``Packages(hnum INTEGER PRIMARY KEY AUTOINCREMENT,
blob BLOB NOT NULL)``; ``blob`` is the header blob. The other tables are indexes.

The bytes are opened in memory only (``deserialize``), never from the filesystem. rpm puts the
file in WAL mode (bytes 18/19 of the SQLite header = 2), which an in-memory database cannot
open, so a copy is switched to rollback mode first; frames still in a ``-wal`` file are not
seen. The file is hostile: schema code is untrusted (``trusted_schema=OFF``), ``Packages``
must be a real table, values cannot exceed the file size, and a progress handler caps the
work, so a crafted file ends in ParseError rather than a hang or a huge allocation.
"""

from __future__ import annotations

import sqlite3

from hullscan.errors import ParseError

_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_WAL = 2
_LEGACY = 1
_PROGRESS_EVERY = 10_000  # virtual-machine instructions between progress callbacks
_PROGRESS_BUDGET = 2_000  # callbacks before the query is aborted (20 M instructions)
# CPython decodes SQLite's error messages strictly; a message quoting corrupt schema text
# then surfaces as UnicodeDecodeError instead of sqlite3.Error.
_SQLITE_ERRORS = (sqlite3.Error, UnicodeDecodeError)


def _lenient_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _open(data: bytes) -> sqlite3.Connection:
    if len(data) < _HEADER_SIZE or not data.startswith(_MAGIC):
        raise ParseError("sqlite: not an SQLite 3 database")
    image = bytearray(data)
    if image[18] == _WAL or image[19] == _WAL:
        image[18] = image[19] = _LEGACY
    conn = sqlite3.connect(":memory:")
    # TEXT in a corrupt file need not be UTF-8; decoding it must not raise.
    conn.text_factory = _lenient_text
    # A stored value cannot be longer than the file holding it.
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(len(data), _HEADER_SIZE))
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    calls = 0

    def progress() -> int:
        nonlocal calls
        calls += 1
        return 1 if calls > _PROGRESS_BUDGET else 0

    conn.set_progress_handler(progress, _PROGRESS_EVERY)
    try:
        conn.deserialize(bytes(image))
        for pragma in (
            "trusted_schema=OFF",
            "cell_size_check=ON",
            "query_only=ON",
            "temp_store=MEMORY",
        ):
            conn.execute(f"PRAGMA {pragma}")
    except BaseException:
        conn.close()
        raise
    return conn


def read_sqlite(data: bytes) -> list[bytes]:
    """Every header blob in an ``rpmdb.sqlite`` file, in ``hnum`` order."""
    try:
        conn = _open(data)
    except _SQLITE_ERRORS as exc:
        raise ParseError(f"sqlite: cannot open: {exc}") from exc
    try:
        schema = conn.execute(
            "SELECT type, sql FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE"
        ).fetchall()
        # A view or virtual table could run arbitrary (slow) code when read; rpm makes a table.
        if (
            len(schema) != 1
            or schema[0][0] != "table"
            or not str(schema[0][1]).upper().startswith("CREATE TABLE")
        ):
            raise ParseError("sqlite: no plain Packages table")
        blobs: list[bytes] = []
        for (blob,) in conn.execute("SELECT blob FROM Packages"):
            if not isinstance(blob, bytes):
                raise ParseError(f"sqlite: Packages.blob holds a {type(blob).__name__}")
            blobs.append(blob)
        return blobs
    except _SQLITE_ERRORS as exc:
        raise ParseError(f"sqlite: {exc}") from exc
    finally:
        conn.close()
