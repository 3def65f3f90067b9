"""Reading the containers feeds ship in: ``all.zip``, ``*.zip.zst``, ``*.tar.zst``, ``*.gz``.

Every member is bounded (``MAX_RECORD_BYTES``); a member over the bound, or a member whose
name is absolute or climbs out with ``..``, is reported as a ``ParseIssue``, never read.
Nothing is extracted to disk except a zstd-compressed zip, which needs random access: it is
decompressed into an anonymous temporary file (bounded by ``max_total``) that is gone when
the iteration ends.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import zstandard

from hullscan.errors import ParseError
from hullscan.model.advisory import ParseIssue
from hullscan.vulndb.build.feed import MAX_RECORD_BYTES

MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024  # a decompressed container (the Debian OSV zip: 278 MB)
_COPY_CHUNK = 1 << 20


def _safe_name(name: str) -> bool:
    return not name.startswith("/") and ".." not in name.split("/")


def _zstd_to_temp(path: Path, max_total: int) -> IO[bytes]:
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the caller closes it)
    total = 0
    try:
        with path.open("rb") as src, zstandard.ZstdDecompressor().stream_reader(src) as reader:
            while chunk := reader.read(_COPY_CHUNK):
                total += len(chunk)
                if total > max_total:
                    raise ParseError(f"{path}: decompresses to more than {max_total} bytes")
                tmp.write(chunk)
    except zstandard.ZstdError as exc:
        tmp.close()
        raise ParseError(f"{path}: corrupt zstd stream: {exc}") from None
    except BaseException:
        tmp.close()
        raise
    tmp.seek(0)
    return tmp


def iter_zip(
    path: Path,
    *,
    suffixes: tuple[str, ...] = (".json",),
    source: str = "",
    max_member: int = MAX_RECORD_BYTES,
    max_total: int = MAX_TOTAL_BYTES,
) -> Iterator[tuple[str, bytes] | ParseIssue]:
    """``(member name, bytes)`` for each member ending in one of ``suffixes``, in zip order.

    Works for ``.zip`` and ``.zip.zst``. A corrupt container raises ``ParseError`` (the whole
    source is unusable); a bad member is yielded as a ``ParseIssue`` and skipped.
    """
    src = source or path.name
    fh: IO[bytes] | None = None
    try:
        fh = _zstd_to_temp(path, max_total) if path.name.endswith(".zst") else path.open("rb")
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ParseError(f"{path}: not a readable zip: {exc}") from None
        with zf:
            for info in zf.infolist():
                name = info.filename
                if info.is_dir() or not name.endswith(suffixes):
                    continue
                if not _safe_name(name):
                    yield ParseIssue(source=src, item=name, error="unsafe member name")
                    continue
                if info.file_size > max_member:
                    yield ParseIssue(
                        source=src, item=name, error=f"member of {info.file_size} bytes skipped"
                    )
                    continue
                try:
                    with zf.open(info) as member:
                        data = member.read(max_member + 1)
                except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                    yield ParseIssue(source=src, item=name, error=f"unreadable member: {exc}")
                    continue
                if len(data) > max_member:  # the directory lied about the size
                    yield ParseIssue(source=src, item=name, error="member larger than declared")
                    continue
                yield name, data
    finally:
        if fh is not None:
            fh.close()


def iter_tar(
    path: Path,
    *,
    suffixes: tuple[str, ...] = (".json",),
    source: str = "",
    max_member: int = MAX_RECORD_BYTES,
) -> Iterator[tuple[str, bytes] | ParseIssue]:
    """``(member name, bytes)`` for regular-file members of a ``.tar``, ``.tar.zst``,
    ``.tar.gz`` ending in one of ``suffixes`` (``()`` = all), streamed in tar order."""
    src = source or path.name
    with path.open("rb") as raw:
        stream: IO[bytes] | gzip.GzipFile
        if path.name.endswith(".zst"):
            stream = zstandard.ZstdDecompressor().stream_reader(raw)
        elif path.name.endswith(".gz"):
            stream = gzip.GzipFile(fileobj=raw)
        else:
            stream = raw
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tf:
                for member in tf:
                    name = member.name
                    if not member.isfile() or (suffixes and not name.endswith(suffixes)):
                        continue
                    if not _safe_name(name):
                        yield ParseIssue(source=src, item=name, error="unsafe member name")
                        continue
                    if member.size > max_member:
                        yield ParseIssue(
                            source=src, item=name, error=f"member of {member.size} bytes skipped"
                        )
                        continue
                    f = tf.extractfile(member)
                    if f is None:
                        continue
                    yield name, f.read()
        except (tarfile.TarError, zstandard.ZstdError, OSError, EOFError) as exc:
            raise ParseError(f"{path}: corrupt archive: {exc}") from None


def read_bounded(path: Path, max_bytes: int = MAX_TOTAL_BYTES) -> bytes:
    """A whole single-file feed (``.json``, ``.json.gz``, ``.csv``...), decompressed, bounded."""
    with path.open("rb") as raw:
        stream: IO[bytes] | gzip.GzipFile = (
            gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
        )
        try:
            data = stream.read(max_bytes + 1)
        except (OSError, EOFError) as exc:
            raise ParseError(f"{path}: unreadable: {exc}") from None
    if len(data) > max_bytes:
        raise ParseError(f"{path}: larger than {max_bytes} bytes")
    return data


def open_text(data: bytes) -> io.StringIO:
    return io.StringIO(data.decode("utf-8", "replace"))
