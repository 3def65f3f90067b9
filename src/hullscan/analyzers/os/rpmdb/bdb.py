"""Read the header blobs out of a Berkeley DB hash database (rpm's ``/var/lib/rpm/Packages``).

The file is an array of equal-size pages. Page 0 is the hash metadata page: magic 0x061561
at offset 12 (its byte order gives the byte order of the whole file), version at 16, page
size at 20, page type 8 at 25, last page number at 32. Every page starts with a 26-byte
header: pgno at 8, prev/next pgno at 12/16, entry count (u16) at 20, "high free offset"
(u16) at 22, page type at 25. Hash pages (type 2 or 13) then hold an array of u16 item
offsets, in key/value pairs; an item starts with its kind: H_KEYDATA (1) holds the bytes
inline, H_OFFPAGE (3) is ``kind, 3 unused bytes, pgno u32, total length u32`` and points at a
chain of overflow pages (type 7) whose u16 at 22 is the number of payload bytes after their
header, linked through next pgno. rpm's key is the header number (u32); key 0 holds rpm's
instance counter, not a package; every other value is one header blob.

Pages are scanned in file order, as go-rpmdb does, not bucket by bucket as rpm does: the
result does not depend on the hash metadata being intact. Each overflow page may be used
once, which also stops chain loops, so the work is linear in the file size.
"""

from __future__ import annotations

import struct

from hullscan.errors import ParseError

HASH_MAGIC = 0x061561
_META_SIZE = 512
_PAGE_HEADER = 26
_P_HASH_UNSORTED = 2
_P_OVERFLOW = 7
_P_HASHMETA = 8
_P_HASH = 13
_H_KEYDATA = 1
_H_OFFPAGE = 3
_OFFPAGE_ITEM = 12
_PAGE_SIZES = frozenset(1 << n for n in range(9, 17))  # 512 .. 65536
_INSTANCE_KEY = b"\0\0\0\0"


class _Db:
    __slots__ = ("data", "endian", "last_pgno", "page_size", "used_overflow")

    def __init__(self, data: bytes) -> None:
        if len(data) < _META_SIZE:
            raise ParseError(f"bdb: {len(data)} bytes is too short for a metadata page")
        if struct.unpack_from("<I", data, 12)[0] == HASH_MAGIC:
            endian = "<"
        elif struct.unpack_from(">I", data, 12)[0] == HASH_MAGIC:
            endian = ">"
        else:
            raise ParseError("bdb: not a Berkeley DB hash database (bad magic)")
        version, page_size = struct.unpack_from(endian + "II", data, 16)
        last_pgno = struct.unpack_from(endian + "I", data, 32)[0]
        if data[25] != _P_HASHMETA:
            raise ParseError(f"bdb: metadata page has type {data[25]}")
        if not 8 <= version <= 10:
            raise ParseError(f"bdb: unsupported hash version {version}")
        if page_size not in _PAGE_SIZES:
            raise ParseError(f"bdb: bad page size {page_size}")
        if (last_pgno + 1) * page_size > len(data):
            raise ParseError(
                f"bdb: truncated: last page {last_pgno} of {page_size} bytes "
                f"needs {(last_pgno + 1) * page_size} bytes, have {len(data)}"
            )
        self.data = data
        self.endian = endian
        self.page_size = page_size
        self.last_pgno = last_pgno
        self.used_overflow: set[int] = set()

    def page_header(self, pgno: int) -> tuple[int, int, int, int, int]:
        """(pgno, prev, next, entries, high free offset) of page ``pgno``."""
        fields: tuple[int, int, int, int, int] = struct.unpack_from(
            self.endian + "IIIHH", self.data, pgno * self.page_size + 8
        )
        return fields

    def overflow(self, pgno: int, total: int) -> bytes:
        """Concatenate an overflow chain of ``total`` bytes starting at page ``pgno``."""
        if total == 0 or total > len(self.data):
            raise ParseError(f"bdb: off-page item of {total} bytes")
        chunks: list[memoryview] = []
        view = memoryview(self.data)
        remaining = total
        while remaining:
            if not 0 < pgno <= self.last_pgno:
                raise ParseError(f"bdb: overflow page {pgno} out of range")
            if pgno in self.used_overflow:
                raise ParseError(f"bdb: overflow page {pgno} used twice (loop or shared chain)")
            self.used_overflow.add(pgno)
            start = pgno * self.page_size
            if self.data[start + 25] != _P_OVERFLOW:
                raise ParseError(f"bdb: page {pgno} in an overflow chain has wrong type")
            own, _, next_pgno, _, length = self.page_header(pgno)
            if own != pgno:
                raise ParseError(f"bdb: page {pgno} claims to be page {own}")
            if length == 0 or length > remaining or _PAGE_HEADER + length > self.page_size:
                raise ParseError(f"bdb: overflow page {pgno} holds a bad length {length}")
            chunks.append(view[start + _PAGE_HEADER : start + _PAGE_HEADER + length])
            remaining -= length
            pgno = next_pgno
        return b"".join(chunks)

    def item(self, page_start: int, offset: int, length: int) -> tuple[int, bytes]:
        """(kind, bytes) of the item at ``offset`` in a hash page; ``length`` bounds it."""
        kind = self.data[page_start + offset]
        if kind == _H_KEYDATA:
            return kind, self.data[page_start + offset + 1 : page_start + offset + length]
        if kind == _H_OFFPAGE:
            if length < _OFFPAGE_ITEM:
                raise ParseError("bdb: truncated off-page item")
            pgno, total = struct.unpack_from(self.endian + "II", self.data, page_start + offset + 4)
            return kind, self.overflow(pgno, total)
        raise ParseError(f"bdb: unsupported hash item kind {kind}")

    def hash_page_values(self, pgno: int) -> list[bytes]:
        own, _, _, entries, _ = self.page_header(pgno)
        if own != pgno:
            raise ParseError(f"bdb: page {pgno} claims to be page {own}")
        if entries % 2:
            raise ParseError(f"bdb: hash page {pgno} has an odd number of items")
        ps = self.page_size
        index_end = _PAGE_HEADER + 2 * entries
        if index_end > ps:
            raise ParseError(f"bdb: hash page {pgno} has too many items ({entries})")
        start = pgno * ps
        offsets = struct.unpack_from(f"{self.endian}{entries}H", self.data, start + _PAGE_HEADER)
        values: list[bytes] = []
        for i in range(0, entries, 2):
            key_off, value_off = offsets[i], offsets[i + 1]
            # Items are packed downwards from the page end in index order, so an item ends
            # where the previous one starts (this is how rpm's own reader sizes them).
            key_end = ps if i == 0 else offsets[i - 1]
            if not index_end <= value_off < key_off < key_end <= ps:
                raise ParseError(f"bdb: hash page {pgno} has overlapping or stray items")
            _, key = self.item(start, key_off, key_end - key_off)
            if key == _INSTANCE_KEY:
                continue
            values.append(self.item(start, value_off, key_off - value_off)[1])
        return values


def read_bdb(data: bytes) -> list[bytes]:
    """Every header blob stored in a BDB ``Packages`` file, in page order."""
    db = _Db(data)
    blobs: list[bytes] = []
    for pgno in range(1, db.last_pgno + 1):
        if data[pgno * db.page_size + 25] in (_P_HASH, _P_HASH_UNSORTED):
            blobs.extend(db.hash_page_values(pgno))
    return blobs
