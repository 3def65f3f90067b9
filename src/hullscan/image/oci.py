"""OCI image layouts: ``oci-dir:PATH[:REF]`` (a directory) and ``oci-archive:PATH[:REF]`` (a tar).

Also home of what the docker-archive source shares with them: the two *stores* a layout
can live in (:class:`DirStore`, :class:`TarStore`), the picklable :class:`FileRangeOpener`,
bounded JSON reading, and the parsers for descriptors, indexes, manifests and image configs.

Resolution: ``oci-layout`` (version 1.x) -> ``index.json`` -> optionally the descriptor whose
``org.opencontainers.image.ref.name`` (or ``io.containerd.image.name``, or digest) equals
``REF`` -> nested image indexes expanded -> one image manifest chosen by platform (default
``linux/amd64``; a lone manifest is taken as is unless a platform was asked for explicitly)
-> manifest -> config. Every document is read with ``limits.max_metadata_bytes`` and checked
against the digest (and size) that names it. Layers are not read here: each gets an opener
and the blob digest, which :mod:`hullscan.image.layer` verifies while streaming.

Accepted: OCI image manifests/indexes and Docker v2 schema 2 manifests/manifest lists.
Rejected with a ``ManifestError`` naming what was found: Docker schema 1, OCI artifacts
(cosign signatures, SBOM/in-toto attestations, anything whose config or layers are not an
image's), encrypted layers.

Example::

    src = OciDirSource("/tmp/layout", limits=DEFAULT_LIMITS)
    try:
        info = src.resolve("linux/arm64")
        for layer in info.layers:
            with layer.opener.open() as blob:  # the stored (compressed) bytes
                ...
    finally:
        src.close()
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import re
import stat
import tempfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, cast

import msgspec
import zstandard
from isal import igzip, isal_zlib

from hullscan.errors import (
    DigestMismatchError,
    LayerFormatError,
    LimitExceededError,
    ManifestError,
    SourceNotFoundError,
)
from hullscan.image.digests import (
    SHA256,
    Digest,
    blob_path,
    parse_digest,
    show,
    verify_digest,
)
from hullscan.image.limits import DEFAULT_LIMITS, Limits
from hullscan.image.platform import (
    Platform,
    best_match,
    match_score,
    parse_platform,
    platform_from_json,
)
from hullscan.image.source import ImageInfo, LayerOpener, LayerSpec
from hullscan.model import LayerRef, Target

# --- media types --------------------------------------------------------------------------

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type"
_COSIGN_TAG = re.compile(r"(?:.*:)?sha256-[0-9a-f]{64}\.(?:sig|att|sbom)$")
_MAX_INDEX_DEPTH = 8
_MAX_CANDIDATES = 4096
_MAX_LINK_HOPS = 40
_CHUNK = 1024 * 1024
_BLOCK = 512
_NOT_AN_IMAGE = "not a docker-archive or OCI image"
_DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (  # type: ignore[assignment]
    OSError,
    EOFError,
    zlib.error,
    isal_zlib.error,
    zstandard.ZstdError,
)

# --- openers ------------------------------------------------------------------------------


class _RangeReader(io.RawIOBase):
    """Reads ``size`` bytes of a file starting at ``offset``; refuses to run short."""

    def __init__(self, f: io.FileIO, offset: int, size: int, label: str) -> None:
        super().__init__()
        self._f = f
        self._remaining = size
        self._label = label
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._remaining <= 0:
            return 0
        view = memoryview(b).cast("B")
        n = min(len(view), self._remaining)
        got = self._f.readinto(view[:n])
        if not got:
            raise LayerFormatError(
                f"{self._label}: file ended {self._remaining} bytes early (truncated?)"
            )
        self._remaining -= got
        return got

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


@dataclass(frozen=True, slots=True)
class FileRangeOpener:
    """Opens ``size`` bytes at ``offset`` of a regular file: a blob in a layout directory, or a
    member of an uncompressed tar (random access, so layers are read in parallel).

    Picklable (three plain fields); the file is opened without following a symlink, so a file
    swapped for a symlink after ``resolve()`` is refused rather than followed.
    """

    path: str
    offset: int
    size: int

    def open(self) -> IO[bytes]:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise SourceNotFoundError(f"{self.path}: cannot open: {exc.strerror}") from exc
        f = io.FileIO(fd, "rb")
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise LayerFormatError(f"{self.path}: not a regular file")
            if st.st_size < self.offset + self.size:
                raise LayerFormatError(
                    f"{self.path}: file is {st.st_size} bytes, expected at least "
                    f"{self.offset + self.size} (truncated or changed since it was listed)"
                )
            raw = _RangeReader(f, self.offset, self.size, self.path)
        except BaseException:
            f.close()
            raise
        return io.BufferedReader(raw, buffer_size=_CHUNK)


# --- stores -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Located:
    """A file found in a store: ``size`` bytes at ``offset`` of the host file ``path``."""

    path: str
    offset: int
    size: int


class LayoutStore(Protocol):
    """Where a layout's files live. ``locate`` takes a safe relative path (see
    :func:`safe_relpath`) and returns None when the file is absent."""

    label: str

    def locate(self, rel: str) -> Located | None: ...

    def close(self) -> None: ...


def safe_relpath(value: object, *, where: str) -> str:
    """A relative path named by a document, normalised; ``ManifestError`` when it is not a
    string, empty, absolute, or has a ``..`` component (path traversal)."""
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: path must be a non-empty string, got {show(value)}")
    if "\0" in value or value.startswith("/") or "\\" in value:
        raise ManifestError(f"{where}: unsafe path {show(value)}")
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ManifestError(f"{where}: unsafe path {show(value)} (empty or with '..')")
    return "/".join(parts)


def read_located(loc: Located, *, limit: int, where: str) -> bytes:
    """The bytes of a located file, refusing more than ``limit`` bytes."""
    if loc.size > limit:
        raise LimitExceededError(
            f"{where}: {loc.size} bytes, over the limit of {limit} (max_metadata_bytes)"
        )
    with FileRangeOpener(loc.path, loc.offset, loc.size).open() as f:
        return f.read()


class DirStore:
    """A layout in a directory. Files may be symlinks only if they resolve inside the layout;
    anything else (outside, dangling, a loop, not a regular file) is a ``ManifestError``."""

    def __init__(self, root: Path, *, label: str) -> None:
        self.label = label
        self._root = os.path.realpath(root)

    def locate(self, rel: str) -> Located | None:
        path = str(Path(self._root, rel))
        try:
            Path(path).lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ManifestError(f"{self.label}: {rel}: {exc.strerror}") from exc
        real = os.path.realpath(path)
        if real != self._root and not real.startswith(self._root + os.sep):
            raise ManifestError(
                f"{self.label}: {rel} is a symlink pointing outside the layout; refusing to "
                "follow it"
            )
        try:
            st = Path(real).stat()
        except OSError as exc:
            raise ManifestError(f"{self.label}: {rel}: {exc.strerror}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise ManifestError(f"{self.label}: {rel} is not a regular file")
        return Located(real, 0, st.st_size)

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class TarMember:
    """One member of an outer archive, as listed once at open."""

    name: str
    type: bytes
    offset: int
    size: int
    linkname: str
    truncated: bool = False


_REGULAR = (b"0", b"\0", b"7")
_DATA_LESS = (b"1", b"2", b"3", b"4", b"5", b"6")


def _tar_number(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256 (GNU)
        if field[0] & 0x40:
            raise ValueError("negative number")
        n = field[0] & 0x3F
        for byte in field[1:]:
            n = (n << 8) | byte
        return n
    text = field.split(b"\0", 1)[0].strip(b" \0")
    return int(text, 8) if text else 0


def _tar_header_ok(block: bytes) -> bool:
    try:
        stored = _tar_number(block[148:156])
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 256 + sum(block[156:])
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:] if b >= 0x80)
    return stored in (unsigned, signed)


def looks_like_tar(head: bytes) -> bool:
    """True when ``head`` starts with a valid tar header block."""
    block = head[:_BLOCK]
    return len(block) == _BLOCK and block != bytes(_BLOCK) and _tar_header_ok(block)


def _decode(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise ManifestError(f"{where}: corrupt pax header")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ManifestError(f"{where}: corrupt pax header length") from None
        record = data[space + 1 : pos + length]
        if length <= 0 or pos + length > len(data) or not record.endswith(b"\n"):
            raise ManifestError(f"{where}: corrupt pax record")
        key, eq, value = record[:-1].partition(b"=")
        if eq:
            out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def _normalize_member(name: str) -> str | None:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or name.startswith("/") or ".." in parts:
        return None  # never referenced by a safe path
    return "/".join(parts)


def scan_tar(f: IO[bytes], file_size: int, *, limits: Limits, label: str) -> dict[str, TarMember]:
    """List an outer archive's members (ustar, GNU and pax headers) without reading their data.

    Bounded: at most ``limits.max_archive_members`` members and ``limits.max_tar_header_bytes``
    per pax/GNU long-name header. Names with ``..`` or absolute names are left out (nothing
    safe refers to them). A later member with the same name replaces an earlier one.
    """
    members: dict[str, TarMember] = {}
    offset = 0
    count = 0
    pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    while True:
        f.seek(offset)
        block = f.read(_BLOCK)
        if offset == 0 and not block:
            raise SourceNotFoundError(f"{label}: {_NOT_AN_IMAGE}: empty file")
        if len(block) < _BLOCK or block == bytes(_BLOCK):
            if offset == 0:
                raise SourceNotFoundError(f"{label}: {_NOT_AN_IMAGE}: not a tar archive")
            if block.strip(b"\0"):
                raise LayerFormatError(
                    f"{label}: truncated archive: it ends inside a tar header at offset "
                    f"{offset} (incomplete download or copy?)"
                )
            break
        if not _tar_header_ok(block):
            if offset == 0:
                raise SourceNotFoundError(f"{label}: {_NOT_AN_IMAGE}: not a tar archive")
            raise ManifestError(f"{label}: corrupt tar header at offset {offset}")
        typ = block[156:157]
        try:
            size = _tar_number(block[124:136])
        except ValueError:
            raise ManifestError(f"{label}: corrupt tar header at offset {offset}") from None
        data_offset = offset + _BLOCK
        padded = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        if typ in (b"x", b"g", b"L", b"K"):
            if size > limits.max_tar_header_bytes:
                raise LimitExceededError(
                    f"{label}: tar header of {size} bytes at offset {offset}, over the limit "
                    f"of {limits.max_tar_header_bytes} (max_tar_header_bytes)"
                )
            data = f.read(size)
            if len(data) < size:
                raise ManifestError(f"{label}: truncated tar header at offset {offset}")
            if typ == b"x":
                pax.update(_parse_pax(data, label))
            elif typ == b"L":
                long_name = _decode(data)
            elif typ == b"K":
                long_link = _decode(data)
            offset = data_offset + padded
            continue
        count += 1
        if count > limits.max_archive_members:
            raise LimitExceededError(
                f"{label}: more than {limits.max_archive_members} archive members "
                "(max_archive_members)"
            )
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise ManifestError(f"{label}: corrupt pax size at offset {offset}") from None
            padded = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        name = pax.get("path") or long_name
        if name is None:
            name = _decode(block[0:100])
            if block[257:263] == b"ustar\0":  # POSIX prefix field (GNU uses it otherwise)
                prefix = _decode(block[345:500])
                if prefix:
                    name = f"{prefix}/{name}"
        linkname = pax.get("linkpath") or long_link or _decode(block[157:257])
        pax, long_name, long_link = {}, None, None
        has_data = typ not in _DATA_LESS
        if has_data and data_offset + size > file_size:
            # Whatever was cut off (often index.json or manifest.json, written last) is
            # missing: say so rather than "not an image".
            raise LayerFormatError(
                f"{label}: truncated archive: member {show(name)} needs "
                f"{data_offset + size} bytes, the file has {file_size} (incomplete download "
                "or copy?)"
            )
        norm = _normalize_member(name)
        if norm is not None:
            members[norm] = TarMember(
                name=norm,
                type=typ,
                offset=data_offset,
                size=size if has_data else 0,
                linkname=linkname,
                truncated=has_data and data_offset + size > file_size,
            )
        offset = data_offset + (padded if has_data else 0)
    return members


def _decompress_outer(
    src: Path, dest: Path, compression: str, *, limits: Limits, label: str
) -> None:
    """Decompress a whole-archive gzip/zstd into ``dest``, bounded like a layer."""
    total = 0
    head = b""  # held back until a whole tar header block is there to check
    checked = False
    with open(src, "rb") as raw, open(dest, "wb") as out:
        stream: IO[bytes]
        if compression == "gzip":
            stream = cast(
                "IO[bytes]",
                igzip.IGzipFile(fileobj=raw, mode="rb"),  # type: ignore[no-untyped-call]
            )
        else:
            dctx = zstandard.ZstdDecompressor(max_window_size=1 << 31)
            stream = dctx.stream_reader(raw, read_across_frames=True)
        try:
            with stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    if not checked:
                        head += chunk
                        if len(head) < _BLOCK:
                            continue
                        if not looks_like_tar(head):
                            raise SourceNotFoundError(
                                f"{label}: {_NOT_AN_IMAGE}: {compression} data is not a tar archive"
                            )
                        checked, chunk, head = True, head, b""
                    total += len(chunk)
                    if total > limits.max_image_bytes:
                        raise LimitExceededError(
                            f"{label}: archive decompresses to more than "
                            f"{limits.max_image_bytes} bytes (max_image_bytes)"
                        )
                    if total > limits.ratio_grace_bytes and total > (
                        limits.max_compression_ratio * max(raw.tell(), 1)
                    ):
                        raise LimitExceededError(
                            f"{label}: compression ratio over {limits.max_compression_ratio}:1: "
                            "decompression bomb?"
                        )
                    out.write(chunk)
        except _DECOMPRESSION_ERRORS as exc:
            raise LayerFormatError(f"{label}: corrupt {compression} archive: {exc}") from exc
    if not checked:
        what = "empty" if not head else "not a tar archive"
        if not head and compression == "zstd" and src.stat().st_size > 32:
            # zstandard's reader stops quietly at a cut frame, before emitting its blocks
            what = "empty (a truncated zstd stream?)"
        raise SourceNotFoundError(f"{label}: {_NOT_AN_IMAGE}: {compression} data is {what}")


def _spool(src: Path, dest: Path, *, limits: Limits, label: str) -> None:
    """Copy a non-seekable input (a pipe) to ``dest``, bounded by ``max_image_bytes``."""
    total = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            total += len(chunk)
            if total > limits.max_image_bytes:
                raise LimitExceededError(
                    f"{label}: more than {limits.max_image_bytes} bytes (max_image_bytes)"
                )
            fout.write(chunk)


def sniff_file(path: Path) -> bytes:
    """The first 512 bytes of a file (for kind detection)."""
    with open(path, "rb") as f:
        return f.read(_BLOCK)


class TarStore:
    """A layout (or docker-save tree) inside a tar file, listed once.

    Members are read in place by offset (random access), so every layer opener is just the
    file path plus a byte range. A tar compressed *as a whole* (``docker save | gzip``) has
    no random access: it is decompressed once, bounded by the limits, into a temporary file
    in ``work_dir`` (or a private temporary directory), which :meth:`close` removes. The
    alternative -- one sequential pass per layer through the compressed stream -- would read
    the whole archive once per layer and rule out parallel layers.
    """

    def __init__(
        self,
        tar_path: Path,
        members: dict[str, TarMember],
        *,
        label: str,
        compression: str = "none",
        cleanup: Callable[[], None] | None = None,
        complete: bool = True,
    ) -> None:
        self.label = label
        self.tar_path = tar_path
        self.complete = complete
        """False when the file stops right after a member's data, without the tar
        end-of-archive blocks: tolerated, but the likely reason when a file is missing."""
        self.members = members
        self.compression = compression
        self._cleanup = cleanup

    @classmethod
    def open(
        cls, path: Path, *, limits: Limits, work_dir: Path | None = None, label: str | None = None
    ) -> TarStore:
        """List the archive at ``path``; a pipe (``<(docker save img)``) or a character
        device is first spooled to a temporary file, as it cannot be read randomly."""
        label = label or str(path)
        cleanups: list[Callable[[], None]] = []

        def cleanup() -> None:
            while cleanups:
                cleanups.pop()()

        try:
            try:
                st = path.stat()
            except FileNotFoundError:
                raise SourceNotFoundError(f"{label}: no such file") from None
            except OSError as exc:
                raise SourceNotFoundError(f"{label}: cannot read: {exc.strerror}") from exc
            if stat.S_ISDIR(st.st_mode):
                raise SourceNotFoundError(f"{label}: is a directory, not an archive")
            src = path
            if not stat.S_ISREG(st.st_mode):
                src, remove = _temp_file(work_dir)
                cleanups.append(remove)
                _spool(path, src, limits=limits, label=label)
            try:
                head = sniff_file(src)
            except OSError as exc:
                raise SourceNotFoundError(f"{label}: cannot read: {exc.strerror}") from exc
            if not head:
                raise SourceNotFoundError(f"{label}: {_NOT_AN_IMAGE}: empty file")
            compression = "none"
            if head.startswith(b"\x1f\x8b"):
                compression = "gzip"
            elif head.startswith(b"\x28\xb5\x2f\xfd"):
                compression = "zstd"
            tar_path = Path(os.path.realpath(src))
            if compression != "none":
                tar_path, remove = _temp_file(work_dir)
                cleanups.append(remove)
                _decompress_outer(src, tar_path, compression, limits=limits, label=label)
            with open(tar_path, "rb") as f:
                tar_size = os.fstat(f.fileno()).st_size
                members = scan_tar(f, tar_size, limits=limits, label=label)
            end = max(
                (m.offset + (m.size + _BLOCK - 1) // _BLOCK * _BLOCK for m in members.values()),
                default=0,
            )
        except BaseException:
            cleanup()
            raise
        return cls(
            tar_path,
            members,
            label=label,
            compression=compression,
            cleanup=cleanup if cleanups else None,
            complete=tar_size > end,
        )

    def _member(self, rel: str) -> TarMember | None:
        name = rel
        for _ in range(_MAX_LINK_HOPS):
            m = self.members.get(name)
            if m is None:
                return None
            if m.type == b"2":  # symlink: relative to its directory, kept inside the archive
                target = posixpath.join(posixpath.dirname(m.name), m.linkname)
            elif m.type == b"1":  # hard link: an archive path
                target = m.linkname
            else:
                return m
            norm = _normalize_member(posixpath.normpath(target)) if target else None
            if norm is None or target.startswith("/"):
                raise ManifestError(
                    f"{self.label}: {rel} links to {show(m.linkname)}, outside the archive"
                )
            name = norm
        raise ManifestError(f"{self.label}: {rel}: too many levels of links")

    def locate(self, rel: str) -> Located | None:
        m = self._member(rel)
        if m is None:
            return None
        if m.type not in _REGULAR:
            raise ManifestError(f"{self.label}: {rel} is not a regular file in the archive")
        if m.truncated:
            raise ManifestError(f"{self.label}: {rel} is truncated (the archive is incomplete)")
        return Located(str(self.tar_path), m.offset, m.size)

    def close(self) -> None:
        if self._cleanup is not None:
            cleanup, self._cleanup = self._cleanup, None
            cleanup()


def truncation_hint(store: LayoutStore) -> str:
    """Appended to "file missing" messages: an archive cut short loses the files written last
    (``index.json``, ``manifest.json``)."""
    if isinstance(store, TarStore) and not store.complete:
        return " (the archive ends without a tar end-of-archive marker: truncated?)"
    return ""


def _temp_file(work_dir: Path | None) -> tuple[Path, Callable[[], None]]:
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hullscan-")
        return Path(tmp.name) / "archive.tar", tmp.cleanup
    fd, name = tempfile.mkstemp(prefix="hullscan-", suffix=".tar", dir=work_dir)
    os.close(fd)

    def remove() -> None:
        with contextlib.suppress(FileNotFoundError):
            Path(name).unlink()

    return Path(name), remove


# --- JSON documents -----------------------------------------------------------------------


def parse_json(data: bytes, *, where: str) -> object:
    """Decode one JSON document; ``ManifestError`` naming ``where`` on any error."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ManifestError(f"{where}: invalid JSON: {msg}") from None


def read_json(store: LayoutStore, rel: str, *, limits: Limits, missing: str) -> object:
    """Read and decode the JSON file ``rel``; ``missing`` is the message when it is absent."""
    where = f"{store.label}: {rel}"
    loc = store.locate(rel)
    if loc is None:
        raise ManifestError(f"{store.label}: {missing}{truncation_hint(store)}")
    return parse_json(read_located(loc, limit=limits.max_metadata_bytes, where=where), where=where)


# --- descriptors, indexes, manifests ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor, validated."""

    media_type: str | None
    digest: Digest
    size: int | None
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    urls: tuple[str, ...] = ()
    artifact_type: str | None = None

    def annotation(self, key: str) -> str | None:
        for k, v in self.annotations:
            if k == key:
                return v
        return None


def _str_map(obj: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(obj, dict):
        return ()
    return tuple((k, v) for k, v in obj.items() if isinstance(k, str) and isinstance(v, str))


def _opt_str(obj: object) -> str | None:
    return obj if isinstance(obj, str) and obj else None


def parse_descriptor(obj: object, *, where: str) -> Descriptor:
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: descriptor must be a JSON object, got {show(obj)}")
    media_type = obj.get("mediaType")
    if media_type is not None and not isinstance(media_type, str):
        raise ManifestError(f"{where}: mediaType must be a string, got {show(media_type)}")
    digest = parse_digest(obj.get("digest"), where=where)
    size = obj.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ManifestError(f"{where}: size must be a non-negative integer, got {show(size)}")
    urls = obj.get("urls")
    return Descriptor(
        media_type=media_type or None,
        digest=digest,
        size=size,
        platform=platform_from_json(obj.get("platform")),
        annotations=_str_map(obj.get("annotations")),
        urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else (),
        artifact_type=_opt_str(obj.get("artifactType")),
    )


@dataclass(frozen=True, slots=True)
class Index:
    media_type: str | None
    manifests: tuple[Descriptor, ...]


def _check_schema2(obj: dict[str, Any], where: str, what: str) -> None:
    """Schema 1 is rejected by name; ``mediaType``/``artifactType`` must be strings."""
    for key in ("mediaType", "artifactType"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise ManifestError(f"{where}: {key} must be a string, got {show(value)}")
    version = obj.get("schemaVersion")
    media_type = obj.get("mediaType")
    if version == 1 or media_type in DOCKER_SCHEMA1 or "fsLayers" in obj:
        raise ManifestError(
            f"{where}: Docker schema 1 {what} is not supported (deprecated since 2017; "
            "convert it with a current docker/skopeo)"
        )
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version != 2
    ):
        raise ManifestError(f"{where}: unsupported schemaVersion {show(version)} (expected 2)")


def parse_index(obj: object, *, where: str) -> Index:
    """An image index (``index.json`` or a nested index / Docker manifest list)."""
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: index must be a JSON object, got {show(obj)}")
    _check_schema2(obj, where, "index")
    media_type = obj.get("mediaType")
    if media_type is not None and media_type not in INDEX_TYPES:
        raise ManifestError(f"{where}: media type {show(media_type)} is not an image index")
    manifests = obj.get("manifests")
    if not isinstance(manifests, list):
        raise ManifestError(f"{where}: index has no 'manifests' list")
    return Index(
        media_type=media_type,
        manifests=tuple(
            parse_descriptor(d, where=f"{where}: manifests[{i}]") for i, d in enumerate(manifests)
        ),
    )


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


def artifact_hint(media_type: str) -> str:
    if media_type.startswith("application/vnd.dev.cosign"):
        return "a cosign signature or attestation, not an image"
    if "in-toto" in media_type or "spdx" in media_type or "cyclonedx" in media_type:
        return "an SBOM or attestation artifact, not an image"
    if "encrypted" in media_type:
        return "an encrypted layer, which hullscan cannot read"
    if media_type == "application/vnd.oci.empty.v1+json":
        return "an OCI artifact with an empty config, not an image"
    return "not an image (an OCI artifact?)"


def parse_manifest(obj: object, *, where: str, media_type: str | None = None) -> Manifest:
    """An image manifest (OCI or Docker v2 schema 2); artifacts and schema 1 are rejected.

    ``media_type`` is the descriptor's, used when the document does not say.
    """
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: manifest must be a JSON object, got {show(obj)}")
    _check_schema2(obj, where, "manifest")
    if "manifests" in obj:
        raise ManifestError(f"{where}: expected an image manifest, found an image index")
    mt = obj.get("mediaType") or media_type
    if mt is None and "config" in obj and "layers" in obj:
        mt = OCI_MANIFEST
    if mt not in MANIFEST_TYPES:
        raise ManifestError(f"{where}: unsupported manifest media type {show(mt)}")
    artifact_type = obj.get("artifactType")
    if artifact_type is not None and artifact_type not in CONFIG_TYPES:
        hint = artifact_hint(str(artifact_type))
        raise ManifestError(f"{where}: artifactType {show(artifact_type)}: {hint}")
    config = parse_descriptor(obj.get("config"), where=f"{where}: config")
    if config.media_type not in CONFIG_TYPES:
        hint = artifact_hint(str(config.media_type))
        raise ManifestError(f"{where}: config media type {show(config.media_type)}: {hint}")
    raw_layers = obj.get("layers")
    if not isinstance(raw_layers, list):
        raise ManifestError(f"{where}: manifest has no 'layers' list")
    layers = []
    for i, raw in enumerate(raw_layers):
        d = parse_descriptor(raw, where=f"{where}: layers[{i}]")
        if d.media_type not in LAYER_TYPES:
            hint = artifact_hint(str(d.media_type))
            raise ManifestError(f"{where}: layers[{i}] has media type {show(d.media_type)}: {hint}")
        layers.append(d)
    return Manifest(media_type=str(mt), config=config, layers=tuple(layers))


# --- image config -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryStep:
    created_by: str | None
    created: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The facts hullscan takes from an image config, validated."""

    raw: dict[str, object]
    diff_ids: tuple[str, ...]
    steps: tuple[HistoryStep | None, ...]  # one per layer, aligned; None when unknown
    os: str | None
    architecture: str | None
    variant: str | None
    created: str | None
    user: str | None
    env: tuple[str, ...]
    exposed_ports: tuple[str, ...]
    labels: dict[str, str]
    warnings: tuple[str, ...]

    @property
    def platform(self) -> Platform | None:
        return platform_from_json(self.raw)


def align_history(
    history: object, n_layers: int, *, where: str
) -> tuple[tuple[HistoryStep | None, ...], tuple[str, ...]]:
    """One build step per filesystem layer: entries with ``empty_layer: true`` (ENV, CMD...)
    consume no layer. When the remaining entries do not match the layer count one-to-one, no
    step is attributed (a warning says so) rather than attributing the wrong ones."""
    unknown: tuple[HistoryStep | None, ...] = (None,) * n_layers
    if history is None or history == []:
        return unknown, ()
    if not isinstance(history, list):
        return unknown, (f"{where}: config history is not a list; build steps not attributed",)
    steps: list[HistoryStep] = []
    for entry in history:
        if not isinstance(entry, dict):
            return unknown, (
                f"{where}: config history has a non-object entry; build steps not attributed",
            )
        if entry.get("empty_layer") is True:
            continue
        steps.append(
            HistoryStep(
                created_by=_opt_str(entry.get("created_by")),
                created=_opt_str(entry.get("created")),
                comment=_opt_str(entry.get("comment")),
            )
        )
    if len(steps) != n_layers:
        return unknown, (
            f"{where}: config history has {len(steps)} non-empty entries for {n_layers} "
            "layers; build steps not attributed",
        )
    return tuple(steps), ()


def parse_image_config(obj: object, *, where: str) -> ImageConfig:
    """Validate an image config: ``rootfs.diff_ids`` (sha256 digests) is required; the other
    fields are informative and taken only when they have the right type."""
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: image config must be a JSON object, got {show(obj)}")
    rootfs = obj.get("rootfs")
    if not isinstance(rootfs, dict):
        raise ManifestError(f"{where}: image config has no 'rootfs' object")
    if rootfs.get("type", "layers") != "layers":
        raise ManifestError(f"{where}: unsupported rootfs type {show(rootfs.get('type'))}")
    raw_ids = rootfs.get("diff_ids")
    if not isinstance(raw_ids, list):
        raise ManifestError(f"{where}: image config has no 'rootfs.diff_ids' list")
    diff_ids = []
    for i, raw in enumerate(raw_ids):
        d = parse_digest(raw, where=f"{where}: rootfs.diff_ids[{i}]")
        if d.algorithm != SHA256:
            raise ManifestError(f"{where}: rootfs.diff_ids[{i}] must be a sha256 digest")
        diff_ids.append(str(d))
    steps, warnings = align_history(obj.get("history"), len(diff_ids), where=where)
    cfg = obj.get("config")
    if not isinstance(cfg, dict):
        cfg = {}
    env = cfg.get("Env")
    ports = cfg.get("ExposedPorts")
    return ImageConfig(
        raw=obj,
        diff_ids=tuple(diff_ids),
        steps=steps,
        os=_opt_str(obj.get("os")),
        architecture=_opt_str(obj.get("architecture")),
        variant=_opt_str(obj.get("variant")),
        created=_opt_str(obj.get("created")),
        user=_opt_str(cfg.get("User")),
        env=tuple(e for e in env if isinstance(e, str)) if isinstance(env, list) else (),
        exposed_ports=tuple(sorted(k for k in ports if isinstance(k, str)))
        if isinstance(ports, dict)
        else (),
        labels=dict(_str_map(cfg.get("Labels"))),
        warnings=warnings,
    )


# --- assembling ImageInfo -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayerBlob:
    """Where one layer's blob is and what the manifest says about it."""

    opener: LayerOpener
    blob_digest: str | None
    media_type: str | None
    size: int | None


def build_image_info(
    *,
    label: str,
    name: str,
    kind: str,
    config: ImageConfig,
    config_digest: str,
    manifest_digest: str | None,
    layers: Sequence[LayerBlob],
    repo_tags: Sequence[str] = (),
    repo_digests: Sequence[str] = (),
    warnings: Sequence[str] = (),
) -> ImageInfo:
    """Join the config's diff_ids and history with the manifest's layers into ImageInfo."""
    if len(config.diff_ids) != len(layers):
        raise ManifestError(
            f"{label}: config {config_digest} lists {len(config.diff_ids)} diff_ids but the "
            f"manifest has {len(layers)} layers"
        )
    specs = []
    for i, (diff_id, step, blob) in enumerate(
        zip(config.diff_ids, config.steps, layers, strict=True)
    ):
        ref = LayerRef(
            index=i,
            diff_id=diff_id,
            digest=blob.blob_digest,
            media_type=blob.media_type,
            size=blob.size,
            created_by=step.created_by if step else None,
            created=step.created if step else None,
            comment=step.comment if step else None,
        )
        specs.append(
            LayerSpec(
                ref=ref,
                opener=blob.opener,
                blob_digest=blob.blob_digest,
                media_type=blob.media_type,
                size=blob.size,
            )
        )
    target = Target(
        name=name,
        kind=kind,
        manifest_digest=manifest_digest,
        config_digest=config_digest,
        image_id=config_digest,
        repo_tags=tuple(repo_tags),
        repo_digests=tuple(repo_digests),
        os=config.os,
        architecture=config.architecture,
        variant=config.variant,
        created=config.created,
        user=config.user,
        env=config.env,
        exposed_ports=config.exposed_ports,
        labels=config.labels,
    )
    return ImageInfo(
        target=target,
        config=config.raw,
        layers=tuple(specs),
        warnings=(*warnings, *config.warnings),
    )


def read_blob(store: LayoutStore, desc: Descriptor, *, limits: Limits, what: str) -> bytes:
    """A small blob (manifest, index, config) read whole, its size and digest verified."""
    where = f"{store.label}: {what} {desc.digest}"
    if desc.size is not None and desc.size > limits.max_metadata_bytes:
        raise LimitExceededError(
            f"{where}: {desc.size} bytes, over the limit of {limits.max_metadata_bytes} "
            "(max_metadata_bytes)"
        )
    loc = store.locate(blob_path(desc.digest))
    if loc is None:
        raise ManifestError(f"{store.label}: {what} blob {desc.digest} is missing")
    data = read_located(loc, limit=limits.max_metadata_bytes, where=where)
    if desc.size is not None and len(data) != desc.size:
        raise DigestMismatchError(
            f"{where}: size mismatch: descriptor says {desc.size} bytes, blob has {len(data)}"
        )
    verify_digest(data, desc.digest, where=where)
    return data


def layer_blob(store: LayoutStore, desc: Descriptor, *, index: int, what: str) -> LayerBlob:
    """Locate one layer blob named by digest; check it exists and has the described size."""
    loc = store.locate(blob_path(desc.digest))
    if loc is None:
        extra = " (a foreign layer with URLs: not available offline)" if desc.urls else ""
        raise ManifestError(
            f"{store.label}: {what} names missing layer blob {desc.digest} (layers[{index}]){extra}"
        )
    if desc.size is not None and loc.size != desc.size:
        raise DigestMismatchError(
            f"{store.label}: layer blob {desc.digest} is {loc.size} bytes, the manifest says "
            f"{desc.size}"
        )
    return LayerBlob(
        opener=FileRangeOpener(loc.path, loc.offset, loc.size),
        blob_digest=str(desc.digest),
        media_type=desc.media_type,
        size=loc.size,
    )


# --- OCI layout resolution ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    desc: Descriptor
    kind: str  # "manifest" | "other"
    names: tuple[str, ...]  # ref names of the top-level descriptor it came from


def check_layout_version(store: LayoutStore, *, limits: Limits) -> None:
    """``oci-layout`` must exist (else this is not a layout at all) and say version 1.x."""
    if store.locate("oci-layout") is None:
        hint = ""
        if store.locate("manifest.json") is not None:
            hint = " (it has a manifest.json: use docker-archive:)"
        hint += truncation_hint(store)
        raise SourceNotFoundError(f"{store.label}: {_NOT_AN_IMAGE}: no oci-layout file{hint}")
    doc = read_json(store, "oci-layout", limits=limits, missing="no oci-layout file")
    version = doc.get("imageLayoutVersion") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("1."):
        raise ManifestError(
            f"{store.label}: oci-layout: unsupported imageLayoutVersion {show(version)} "
            "(expected 1.x)"
        )


def _ref_names(desc: Descriptor) -> tuple[str, ...]:
    return tuple(n for n in (desc.annotation(CONTAINERD_NAME), desc.annotation(REF_NAME)) if n)


def is_attestation(desc: Descriptor) -> bool:
    """A buildx attestation manifest (provenance/SBOM), listed in an index next to images."""
    if desc.annotation(_DOCKER_REFERENCE_TYPE) == "attestation-manifest":
        return True
    p = desc.platform
    return p is not None and p.os == "unknown" and p.architecture == "unknown"


def _descriptor_kind(
    store: LayoutStore, desc: Descriptor, *, limits: Limits
) -> tuple[str, object | None]:
    """("index" | "manifest" | "schema1" | "other", the parsed document if it was read)."""
    mt = desc.media_type
    if mt in INDEX_TYPES:
        return "index", None
    if mt in MANIFEST_TYPES:
        return "manifest", None
    if mt in DOCKER_SCHEMA1:
        return "schema1", None
    if mt is not None:
        return "other", None
    doc = parse_json(
        read_blob(store, desc, limits=limits, what="manifest"),
        where=f"{store.label}: manifest {desc.digest}",
    )
    if isinstance(doc, dict):
        doc_mt = doc.get("mediaType")
        if not isinstance(doc_mt, str):
            doc_mt = None
        if doc_mt in INDEX_TYPES or (doc_mt is None and "manifests" in doc):
            return "index", doc
        if doc_mt in MANIFEST_TYPES or (doc_mt is None and "layers" in doc):
            return "manifest", doc
        if doc.get("schemaVersion") == 1 or doc_mt in DOCKER_SCHEMA1:
            return "schema1", doc
    return "other", doc


def expand_index(
    store: LayoutStore,
    descriptors: Sequence[Descriptor],
    *,
    limits: Limits,
    names: tuple[str, ...] | None = None,
    depth: int = 0,
    seen: frozenset[str] = frozenset(),
    skip_missing: bool = False,
) -> list[_Candidate]:
    """Every manifest reachable from ``descriptors``, nested indexes expanded (bounded).

    ``skip_missing`` leaves out descriptors whose blob is absent (a ``docker save`` of one
    platform of a multi-platform image keeps the index but not the other platforms)."""
    out: list[_Candidate] = []
    for desc in descriptors:
        if skip_missing and store.locate(blob_path(desc.digest)) is None:
            continue
        top_names = names if names is not None else _ref_names(desc)
        kind, doc = _descriptor_kind(store, desc, limits=limits)
        if kind == "index":
            key = str(desc.digest)
            if depth >= _MAX_INDEX_DEPTH or key in seen:
                raise ManifestError(
                    f"{store.label}: image index {desc.digest} nests too deeply or loops"
                )
            where = f"{store.label}: index {desc.digest}"
            if doc is None:
                doc = parse_json(read_blob(store, desc, limits=limits, what="index"), where=where)
            nested = parse_index(doc, where=where)
            out.extend(
                expand_index(
                    store,
                    nested.manifests,
                    limits=limits,
                    names=top_names,
                    depth=depth + 1,
                    seen=seen | {key},
                    skip_missing=skip_missing,
                )
            )
        else:
            out.append(_Candidate(desc=desc, kind=kind, names=top_names))
        if len(out) > _MAX_CANDIDATES:
            raise LimitExceededError(f"{store.label}: more than {_MAX_CANDIDATES} manifests")
    return out


def _platforms_text(cands: Sequence[_Candidate]) -> str:
    names = sorted({str(c.desc.platform) for c in cands if c.desc.platform is not None})
    return ", ".join(names) if names else "none declared"


def select_manifest(
    store: LayoutStore,
    index: Index,
    *,
    ref: str | None,
    platform: str | None,
    limits: Limits,
    kind: str,
) -> _Candidate:
    """The image manifest to scan: by ``ref`` first, then by platform (see module doc)."""
    top = list(index.manifests)
    if ref is not None:
        top = [d for d in top if ref in _ref_names(d) or ref == str(d.digest)]
        if not top:
            available = sorted({n for d in index.manifests for n in _ref_names(d)})
            raise ManifestError(
                f"{store.label}: no image named {show(ref)} in index.json (available: "
                f"{', '.join(available) or 'no ref names'})"
            )
    if not top:
        raise ManifestError(f"{store.label}: index.json lists no manifests")
    cands = [c for c in expand_index(store, top, limits=limits) if not is_attestation(c.desc)]
    if not cands:
        raise ManifestError(f"{store.label}: the index holds only attestations, no image")
    if len(cands) > 1:  # cosign stores signatures/attestations as tags next to the image
        images = [c for c in cands if not (c.names and all(_COSIGN_TAG.match(n) for n in c.names))]
        cands = images or cands
    explicit = bool(platform)
    want = parse_platform(platform)
    if len(cands) == 1 and (not explicit or cands[0].desc.platform is None):
        return cands[0]
    with_platform = [c for c in cands if c.desc.platform is not None]
    if not with_platform:
        names = sorted({n for c in cands for n in c.names})
        raise ManifestError(
            f"{store.label}: index.json lists {len(cands)} images and none declares a "
            f"platform; choose one with {kind}:PATH:REF (refs: {', '.join(names) or 'none'})"
        )
    best = best_match(want, [c.desc.platform for c in cands])
    if best is None:
        raise ManifestError(
            f"{store.label}: no image for platform {want} (available: {_platforms_text(cands)})"
        )
    return cands[best]


def check_config_platform(config: ImageConfig, platform: str | None, *, label: str) -> None:
    """When a platform was asked for explicitly, a lone image must be for it."""
    if not platform:
        return
    have = config.platform
    want = parse_platform(platform)
    if have is not None and match_score(want, have) is None:
        raise ManifestError(f"{label}: the image is for {have.normalized()}, not {want}")


class OciLayoutSource(ABC):
    """Shared resolution of OCI layouts; see :class:`OciDirSource`, :class:`OciArchiveSource`."""

    kind = "oci"

    def __init__(
        self,
        path: str | Path,
        *,
        ref: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.ref = ref or None
        self.limits = limits
        self.label = str(path)
        self.name = name or f"{self.kind}:{path}" + (f":{ref}" if ref else "")
        self._store: LayoutStore | None = None

    @abstractmethod
    def _open_store(self) -> LayoutStore:
        """The layout's blob store (a directory or a tar)."""

    def store(self) -> LayoutStore:
        if self._store is None:
            self._store = self._open_store()
        return self._store

    def resolve(self, platform: str | None) -> ImageInfo:
        parse_platform(platform)  # a bad --platform fails before anything is read
        store = self.store()
        limits = self.limits
        check_layout_version(store, limits=limits)
        index_where = f"{self.label}: index.json"
        missing = f"{_NOT_AN_IMAGE}: no index.json"
        index = parse_index(
            read_json(store, "index.json", limits=limits, missing=missing), where=index_where
        )
        chosen = select_manifest(
            store, index, ref=self.ref, platform=platform, limits=limits, kind=self.kind
        )
        desc = chosen.desc
        where = f"{self.label}: manifest {desc.digest}"
        if chosen.kind == "schema1":
            raise ManifestError(f"{where}: Docker schema 1 manifest is not supported")
        if chosen.kind == "other":
            hint = artifact_hint(str(desc.media_type))
            raise ManifestError(f"{where}: media type {show(desc.media_type)}: {hint}")
        if desc.artifact_type is not None and desc.artifact_type not in CONFIG_TYPES:
            hint = artifact_hint(desc.artifact_type)
            raise ManifestError(f"{where}: artifactType {show(desc.artifact_type)}: {hint}")
        doc = parse_json(read_blob(store, desc, limits=limits, what="manifest"), where=where)
        manifest = parse_manifest(doc, where=where, media_type=desc.media_type)
        return resolve_manifest(
            store,
            manifest,
            label=self.label,
            name=self.name,
            kind=self.kind,
            manifest_digest=str(desc.digest),
            repo_tags=chosen.names[:1],
            platform=platform,
            limits=limits,
        )

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> OciLayoutSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_manifest(
    store: LayoutStore,
    manifest: Manifest,
    *,
    label: str,
    name: str,
    kind: str,
    manifest_digest: str | None,
    repo_tags: Sequence[str],
    platform: str | None,
    limits: Limits,
    warnings: Sequence[str] = (),
) -> ImageInfo:
    """Config and layers of one verified manifest -> ImageInfo."""
    if len(manifest.layers) > limits.max_layers:
        raise LimitExceededError(
            f"{label}: manifest has {len(manifest.layers)} layers, over the limit of "
            f"{limits.max_layers} (max_layers)"
        )
    cwhere = f"{label}: config {manifest.config.digest}"
    config = parse_image_config(
        parse_json(read_blob(store, manifest.config, limits=limits, what="config"), where=cwhere),
        where=cwhere,
    )
    check_config_platform(config, platform, label=label)
    what = f"manifest {manifest_digest}" if manifest_digest else "manifest"
    blobs = [layer_blob(store, d, index=i, what=what) for i, d in enumerate(manifest.layers)]
    return build_image_info(
        label=label,
        name=name,
        kind=kind,
        config=config,
        config_digest=str(manifest.config.digest),
        manifest_digest=manifest_digest,
        layers=blobs,
        repo_tags=repo_tags,
        warnings=warnings,
    )


class OciDirSource(OciLayoutSource):
    """``oci-dir:PATH[:REF]``: an OCI image layout directory (``skopeo copy ... oci:DIR``,
    ``docker buildx build --output type=oci,tar=false``). Symlinked files are followed only
    while they stay inside the layout directory."""

    kind = "oci-dir"

    def __init__(
        self,
        path: str | Path,
        *,
        ref: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        name: str | None = None,
    ) -> None:
        super().__init__(path, ref=ref, limits=limits, name=name)
        if not self.path.exists():
            raise SourceNotFoundError(f"{self.label}: no such directory")
        if not self.path.is_dir():
            raise SourceNotFoundError(
                f"{self.label}: not a directory (use oci-archive: for a tar of a layout)"
            )

    def _open_store(self) -> LayoutStore:
        return DirStore(self.path, label=self.label)


class OciArchiveSource(OciLayoutSource):
    """``oci-archive:PATH[:REF]``: an OCI image layout in a tar file (optionally gzip/zstd
    compressed as a whole; see :class:`TarStore` for why that is decompressed to a temporary
    file in ``work_dir``)."""

    kind = "oci-archive"

    def __init__(
        self,
        path: str | Path,
        *,
        ref: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        work_dir: Path | None = None,
        name: str | None = None,
        store: TarStore | None = None,
    ) -> None:
        super().__init__(path, ref=ref, limits=limits, name=name)
        self.work_dir = work_dir
        self._store = store
        if store is None:
            if not self.path.exists():
                raise SourceNotFoundError(f"{self.label}: no such file")
            if self.path.is_dir():
                raise SourceNotFoundError(
                    f"{self.label}: is a directory (use oci-dir: for a layout directory)"
                )

    def _open_store(self) -> LayoutStore:
        return TarStore.open(
            self.path, limits=self.limits, work_dir=self.work_dir, label=self.label
        )
