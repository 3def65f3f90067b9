"""Parse one RPM header blob, as every rpmdb backend stores it (rpm's ``headerImport`` input).

Layout, all integers big-endian::

    il: int32                 number of index entries
    dl: int32                 length of the data store
    il x (tag: int32, type: uint32, offset: int32, count: uint32)
    dl bytes                  data store; every offset is relative to its start

Types used here: INT32 (4), INT64 (5), STRING (6), STRING_ARRAY (8), I18NSTRING (9). Strings
are NUL-terminated; an array of ``count`` strings is ``count`` consecutive NUL-terminated ones.
Region tags (61-63, e.g. HEADERIMMUTABLE) are ordinary BIN entries pointing at a 16-byte
trailer; they are skipped. Entries rpm added at install time ("dribbles") follow the region
entries in the index, so when a tag repeats, the later entry wins, as in rpm.

Only the entries that are read are validated; an image is hostile, so every offset and count
is checked against the data store before use, and any violation raises ParseError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hullscan.errors import ParseError

# rpm's own limits (hdrchkTags / HEADER_DATA_MAX): far above any real package.
MAX_INDEX_ENTRIES = 0xFFFF
MAX_DATA_LENGTH = 0x0FFFFFFF

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_SIZE = 1009
TAG_VENDOR = 1011
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_OLDFILENAMES = 1027
TAG_SOURCERPM = 1044
TAG_DIRINDEXES = 1116
TAG_BASENAMES = 1117
TAG_DIRNAMES = 1118
TAG_LONGSIZE = 5009
TAG_MODULARITYLABEL = 5096

TYPE_INT32 = 4
TYPE_INT64 = 5
TYPE_STRING = 6
TYPE_STRING_ARRAY = 8
TYPE_I18NSTRING = 9

_WANTED = frozenset(
    {
        TAG_NAME,
        TAG_VERSION,
        TAG_RELEASE,
        TAG_EPOCH,
        TAG_SIZE,
        TAG_VENDOR,
        TAG_LICENSE,
        TAG_ARCH,
        TAG_OLDFILENAMES,
        TAG_SOURCERPM,
        TAG_DIRINDEXES,
        TAG_BASENAMES,
        TAG_DIRNAMES,
        TAG_LONGSIZE,
        TAG_MODULARITYLABEL,
    }
)

# Bound on the joined file paths of one header: characters per blob byte, plus a floor.
_FILES_EXPANSION = 16
_FILES_SLACK = 1 << 20

_PREAMBLE = struct.Struct(">ii")
_ENTRY = struct.Struct(">iIiI")


@dataclass(frozen=True, slots=True)
class RpmHeaderInfo:
    """What a scanner needs from one installed package's header. ``None`` = tag absent.

    ``files`` are absolute paths in header order, as ``rpm -ql`` prints them.
    """

    name: str
    epoch: int | None
    version: str
    release: str
    arch: str | None
    source_rpm: str | None
    license: str | None
    vendor: str | None
    modularity_label: str | None
    size: int | None
    files: tuple[str, ...]
    # Why ``files`` is empty although the header lists files: a corrupt file list (counts
    # that disagree, an index past DIRNAMES, an expansion bomb) loses the files, not the
    # package, as with rpm -qa.
    files_error: str | None = None


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


class _Header:
    """Bounds-checked accessors over one blob's index and data store."""

    __slots__ = ("_blob", "_end", "_entries", "_start")

    def __init__(self, blob: bytes) -> None:
        if len(blob) < _PREAMBLE.size:
            raise ParseError(f"rpm header: {len(blob)} bytes is too short")
        il, dl = _PREAMBLE.unpack_from(blob, 0)
        if not 0 < il <= MAX_INDEX_ENTRIES:
            raise ParseError(f"rpm header: bad index entry count {il}")
        if not 0 <= dl <= MAX_DATA_LENGTH:
            raise ParseError(f"rpm header: bad data length {dl}")
        start = _PREAMBLE.size + il * _ENTRY.size
        # rpm requires the blob to be exactly preamble + index + data (hdrblobVerifyLengths).
        if start + dl != len(blob):
            raise ParseError(
                f"rpm header: {il} entries and {dl} data bytes need {start + dl} bytes, "
                f"blob has {len(blob)}"
            )
        entries: dict[int, tuple[int, int, int]] = {}
        for tag, typ, offset, count in _ENTRY.iter_unpack(memoryview(blob)[_PREAMBLE.size : start]):
            if tag in _WANTED:
                entries[tag] = (typ, offset, count)  # later (dribble) entries win
        self._blob = blob
        self._entries = entries
        self._start = start
        self._end = start + dl

    def _locate(self, tag: int, types: tuple[int, ...]) -> tuple[int, int, int] | None:
        """(type, absolute offset, count) of ``tag``, or None when absent."""
        found = self._entries.get(tag)
        if found is None:
            return None
        typ, offset, count = found
        if typ not in types:
            raise ParseError(f"rpm header: tag {tag} has type {typ}, expected one of {types}")
        if not 0 <= offset < self._end - self._start:
            raise ParseError(f"rpm header: tag {tag} offset {offset} outside the data store")
        if count == 0:
            raise ParseError(f"rpm header: tag {tag} has count 0")
        return typ, self._start + offset, count

    def string(self, tag: int) -> str | None:
        found = self._locate(tag, (TYPE_STRING, TYPE_I18NSTRING))
        if found is None:
            return None
        _, pos, _ = found
        # For I18NSTRING the first string is the default (C locale) one.
        nul = self._blob.find(b"\0", pos, self._end)
        if nul < 0:
            raise ParseError(f"rpm header: tag {tag} string is not NUL-terminated")
        return _decode(self._blob[pos:nul])

    def string_array(self, tag: int) -> list[str] | None:
        found = self._locate(tag, (TYPE_STRING_ARRAY, TYPE_I18NSTRING))
        if found is None:
            return None
        _, pos, count = found
        # Each string takes at least one byte (its NUL): this bounds count before splitting.
        if count > self._end - pos:
            raise ParseError(f"rpm header: tag {tag} count {count} exceeds the data store")
        parts = self._blob[pos : self._end].split(b"\0", count)
        if len(parts) <= count:
            raise ParseError(f"rpm header: tag {tag} has fewer than {count} strings")
        del parts[count]
        return [_decode(p) for p in parts]

    def uints(self, tag: int, typ: int, limit: int | None = None) -> tuple[int, ...] | None:
        """The tag's unsigned integers (all of them, or the first ``limit``)."""
        found = self._locate(tag, (typ,))
        if found is None:
            return None
        _, pos, count = found
        width = 4 if typ == TYPE_INT32 else 8
        if count > (self._end - pos) // width:
            raise ParseError(f"rpm header: tag {tag} count {count} exceeds the data store")
        if limit is not None:
            count = min(count, limit)
        code = "I" if typ == TYPE_INT32 else "Q"
        values: tuple[int, ...] = struct.unpack_from(f">{count}{code}", self._blob, pos)
        return values

    def uint(self, tag: int, typ: int) -> int | None:
        values = self.uints(tag, typ, limit=1)
        return None if values is None else values[0]

    def required(self, tag: int, label: str) -> str:
        value = self.string(tag)
        if value is None:
            raise ParseError(f"rpm header: no {label} tag")
        return value

    def files(self) -> tuple[str, ...]:
        basenames = self.string_array(TAG_BASENAMES)
        if basenames is None:
            old = self.string_array(TAG_OLDFILENAMES)
            return () if old is None else tuple(old)
        dirnames = self.string_array(TAG_DIRNAMES)
        indexes = self.uints(TAG_DIRINDEXES, TYPE_INT32)
        if dirnames is None or indexes is None or len(indexes) != len(basenames):
            raise ParseError("rpm header: BASENAMES without matching DIRNAMES/DIRINDEXES")
        if max(indexes) >= len(dirnames):
            raise ParseError("rpm header: DIRINDEXES points past DIRNAMES")
        # Joining repeats dirnames: a long dirname indexed many times would blow up memory.
        # Real headers need under half a byte of path text per blob byte.
        dir_lengths = [len(d) for d in dirnames]
        total = sum(map(dir_lengths.__getitem__, indexes)) + sum(map(len, basenames))
        if total > _FILES_EXPANSION * len(self._blob) + _FILES_SLACK:
            raise ParseError(f"rpm header: file list expands to {total} characters")
        return tuple([dirnames[i] + b for i, b in zip(indexes, basenames, strict=True)])


def _source_rpm(value: str | None) -> str | None:
    # rpm writes the literal "(none)" into gpg-pubkey headers; it means "no source package".
    return None if value in (None, "", "(none)") else value


def parse_header_blob(blob: bytes) -> RpmHeaderInfo:
    """Decode the fields hullscan uses from one stored header; ParseError on any malformation."""
    h = _Header(bytes(blob))
    try:
        files, files_error = h.files(), None
    except ParseError as exc:
        files, files_error = (), str(exc)
    size = h.uint(TAG_SIZE, TYPE_INT32)
    if size is None:
        # Packages of 4 GiB and more carry only the 64-bit tag.
        size = h.uint(TAG_LONGSIZE, TYPE_INT64)
    return RpmHeaderInfo(
        name=h.required(TAG_NAME, "NAME"),
        epoch=h.uint(TAG_EPOCH, TYPE_INT32),
        version=h.required(TAG_VERSION, "VERSION"),
        release=h.required(TAG_RELEASE, "RELEASE"),
        arch=h.string(TAG_ARCH),
        source_rpm=_source_rpm(h.string(TAG_SOURCERPM)),
        license=h.string(TAG_LICENSE),
        vendor=h.string(TAG_VENDOR),
        modularity_label=h.string(TAG_MODULARITYLABEL),
        size=size,
        files=files,
        files_error=files_error,
    )
