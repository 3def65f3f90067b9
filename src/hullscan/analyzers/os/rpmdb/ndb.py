"""Read the header blobs out of rpm's NDB backend file (``/var/lib/rpm/Packages.db``, SUSE).

All integers are little-endian u32; the file is counted in 16-byte blocks. It starts with
``slotnpages`` pages of 4096 bytes of 16-byte slots; the first two slots hold the file header
(``"RpmP"``, version 0, generation, slotnpages, next package index). Each slot is
``"Slot", pkgidx, blkoff, blkcnt``; blkoff 0 marks a free slot. A used slot points at
``blkcnt`` blocks starting at block ``blkoff`` that hold one blob: a 16-byte head
``"BlbS", pkgidx, timestamp, bloblen``, the header blob, zero padding, and a 12-byte tail
``adler32, bloblen, "BlbE"`` ending the last block.

Checks follow rpm's reader (rpmpkgReadSlots/rpmpkgReadBlob): slots inside the file and past
the slot pages, non-overlapping, head and tail agreeing with the slot. Like rpm when reading
(not verifying), the adler32 is not checked. Blobs are returned in on-disk order, as rpm
lists them.
"""

from __future__ import annotations

import struct

from hullscan.errors import ParseError

_HEADER_MAGIC = int.from_bytes(b"RpmP", "little")
_SLOT_MAGIC = int.from_bytes(b"Slot", "little")
_BLOB_HEAD_MAGIC = int.from_bytes(b"BlbS", "little")
_BLOB_TAIL_MAGIC = int.from_bytes(b"BlbE", "little")
_VERSION = 0
_PAGE = 4096
_BLK = 16
_SLOT = struct.Struct("<4I")
_HEADER_SLOTS = 2  # the file header occupies the first two slots of page 0
_BLOB_HEAD = struct.Struct("<4I")
_BLOB_TAIL = struct.Struct("<3I")


def _blob(data: bytes, pkgidx: int, blkoff: int, blkcnt: int) -> bytes:
    start = blkoff * _BLK
    magic, head_pkgidx, _, bloblen = _BLOB_HEAD.unpack_from(data, start)
    if magic != _BLOB_HEAD_MAGIC or head_pkgidx != pkgidx:
        raise ParseError(f"ndb: no blob head for package {pkgidx} at block {blkoff}")
    if blkcnt != (_BLOB_HEAD.size + bloblen + _BLOB_TAIL.size + _BLK - 1) // _BLK:
        raise ParseError(f"ndb: package {pkgidx}: blob length {bloblen} disagrees with slot")
    _, tail_len, tail_magic = _BLOB_TAIL.unpack_from(data, start + blkcnt * _BLK - _BLOB_TAIL.size)
    if tail_magic != _BLOB_TAIL_MAGIC or tail_len != bloblen:
        raise ParseError(f"ndb: package {pkgidx}: bad blob tail")
    return data[start + _BLOB_HEAD.size : start + _BLOB_HEAD.size + bloblen]


def read_ndb(data: bytes) -> list[bytes]:
    """Every header blob stored in an NDB ``Packages.db`` file."""
    if len(data) < _PAGE:
        raise ParseError(f"ndb: {len(data)} bytes is too short")
    magic, version, _, slot_pages = struct.unpack_from("<4I", data, 0)
    if magic != _HEADER_MAGIC:
        raise ParseError("ndb: not an rpm NDB package database (bad magic)")
    if version != _VERSION:
        raise ParseError(f"ndb: unsupported version {version}")
    if len(data) % _BLK:
        raise ParseError("ndb: file size is not a whole number of blocks (truncated?)")
    if not 0 < slot_pages <= len(data) // _PAGE:
        raise ParseError(f"ndb: bad slot page count {slot_pages}")
    file_blocks = len(data) // _BLK
    first_data_block = slot_pages * (_PAGE // _BLK)
    used: list[tuple[int, int, int]] = []
    view = memoryview(data)[_HEADER_SLOTS * _SLOT.size : slot_pages * _PAGE]
    for slot_magic, pkgidx, blkoff, blkcnt in _SLOT.iter_unpack(view):
        if slot_magic != _SLOT_MAGIC:
            raise ParseError("ndb: bad slot magic")
        if blkoff == 0:
            continue  # free slot
        if not pkgidx or not blkcnt or blkoff < first_data_block:
            raise ParseError(f"ndb: bad slot for package {pkgidx}")
        if blkoff + blkcnt > file_blocks:
            raise ParseError(f"ndb: package {pkgidx} lies past the end of the file (truncated?)")
        used.append((blkoff, blkcnt, pkgidx))
    used.sort()
    blobs: list[bytes] = []
    end = 0
    for blkoff, blkcnt, pkgidx in used:
        # Disjoint extents keep the total work bounded by the file size.
        if blkoff < end:
            raise ParseError(f"ndb: package {pkgidx} overlaps another blob")
        end = blkoff + blkcnt
        blobs.append(_blob(data, pkgidx, blkoff, blkcnt))
    return blobs
