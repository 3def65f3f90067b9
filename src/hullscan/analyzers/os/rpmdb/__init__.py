"""Pure-Python readers for the three on-disk rpm databases, no librpm.

rpm has stored its installed-package headers in three containers over time:

* ``bdb``: Berkeley DB hash file ``/var/lib/rpm/Packages`` (RHEL/CentOS <= 8, SLES <= 15 SP2),
* ``ndb``: rpm's own ``/var/lib/rpm/Packages.db`` (SUSE since SLE 15 SP3),
* ``sqlite``: ``/var/lib/rpm/rpmdb.sqlite`` (Fedora 33+, RHEL 9, CBL-Mariner).

Each container holds one header blob per package (see :mod:`.header`); the container readers
only find the blobs. Everything is read from bytes already in memory, every read is bounded,
and malformed input of any kind raises :class:`hullscan.errors.ParseError` and nothing else.
``gpg-pubkey`` pseudo packages are returned like any other; callers filter them.
"""

from __future__ import annotations

from collections.abc import Callable

from hullscan.analyzers.os.rpmdb.bdb import read_bdb
from hullscan.analyzers.os.rpmdb.header import RpmHeaderInfo, parse_header_blob
from hullscan.analyzers.os.rpmdb.ndb import read_ndb
from hullscan.analyzers.os.rpmdb.sqlite import read_sqlite
from hullscan.errors import ParseError

__all__ = ["FORMATS", "RpmHeaderInfo", "detect_format", "parse_header_blob", "read_rpmdb"]

_READERS: dict[str, Callable[[bytes], list[bytes]]] = {
    "bdb": read_bdb,
    "ndb": read_ndb,
    "sqlite": read_sqlite,
}
FORMATS = tuple(_READERS)

_BASENAMES = {"Packages": "bdb", "Packages.db": "ndb", "rpmdb.sqlite": "sqlite"}


def detect_format(path_basename: str) -> str | None:
    """The rpmdb format a file of this basename holds, or None if it is not a package DB."""
    return _BASENAMES.get(path_basename)


def read_rpmdb(data: bytes, fmt: str) -> list[RpmHeaderInfo]:
    """Every package header in an rpm database file of format ``fmt`` ("bdb", "ndb", "sqlite").

    Raises ValueError for an unknown ``fmt`` (a caller bug) and ParseError for bad input; one
    malformed header fails the whole file, so a corrupt database is never reported as a
    shorter package list.
    """
    reader = _READERS.get(fmt)
    if reader is None:
        raise ValueError(f"unknown rpmdb format {fmt!r}; expected one of {FORMATS}")
    infos: list[RpmHeaderInfo] = []
    for number, blob in enumerate(reader(bytes(data))):
        try:
            infos.append(parse_header_blob(blob))
        except ParseError as exc:
            raise ParseError(f"rpmdb ({fmt}) header #{number}: {exc}") from exc
    return infos
