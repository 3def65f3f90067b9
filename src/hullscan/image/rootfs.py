"""``dir:PATH``: a root filesystem directory, scanned as one pseudo-layer.

The layer's opener does not extract or copy anything: it produces an *uncompressed tar
stream* of the directory lazily, so the same single-pass walker reads it like any image
layer. The stream is deterministic (names sorted bytewise, depth first) and safe:

- symlinks are stored as symlinks (their targets are data, never followed);
- the walk goes through directory file descriptors opened with ``O_NOFOLLOW``
  (``openat``-style), so a directory or file swapped for a symlink during the walk is
  refused rather than followed out of ``PATH``;
- sockets, devices and FIFOs are skipped (no content; opening a FIFO would block);
- files with several links are stored once, later names as hard links;
- entries that cannot be read (permission denied) are left out, as ``tar`` and the other
  scanners' rootfs modes do;
- a file that shrinks while it is read is padded with zeros to the size in its header.

There is no image config: the Target has ``kind="dir"`` and the single ``LayerRef`` has
``diff_id=""`` -- it is only known once the stream has been read. Callers compute it while
streaming (``hullscan.image.layer`` always does), and an empty diff_id disables the layer
cache for this source (a directory's contents can change between scans).

Example::

    src = RootfsSource("/srv/rootfs")
    info = src.resolve(None)
    with info.layers[0].opener.open() as tar_stream:
        ...
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hullscan.errors import LimitExceededError, SourceNotFoundError
from hullscan.image.limits import DEFAULT_LIMITS, Limits
from hullscan.image.source import ImageInfo, LayerSpec
from hullscan.model import LayerRef, Target

_CHUNK = 1024 * 1024
_BLOCK = 512
_DIR_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_DIRECTORY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_FILE_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
)
TAR_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"


def _header(
    name: str, st: os.stat_result, typ: bytes, *, size: int = 0, linkname: str = ""
) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = typ
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid = st.st_uid
    info.gid = st.st_gid
    info.mtime = max(0, int(st.st_mtime))
    info.size = size
    info.linkname = linkname
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _sort_key(name: str) -> bytes:
    return os.fsencode(name)


def tar_stream(root: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[bytes]:
    """Chunks of an uncompressed tar of ``root``'s contents (see the module docstring)."""
    try:
        root_fd = os.open(root, _DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise SourceNotFoundError(f"{root}: cannot open directory: {exc.strerror}") from exc
    # Stack of (directory fd, its path prefix inside the tar, remaining sorted names).
    stack: list[tuple[int, str, list[str]]] = []
    try:
        stack.append((root_fd, "", _list(root_fd)))
        entries = 0
        hardlinks: dict[tuple[int, int], str] = {}
        while stack:
            dir_fd, prefix, names = stack[-1]
            if not names:
                os.close(dir_fd)
                stack.pop()
                continue
            name = names.pop()
            rel = prefix + name
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                continue  # vanished or unreadable
            mode = st.st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                continue  # sockets, devices, FIFOs
            entries += 1
            if entries > limits.max_entries_per_layer:
                raise LimitExceededError(
                    f"{root}: more than {limits.max_entries_per_layer} entries "
                    "(max_entries_per_layer)"
                )
            if stat.S_ISLNK(mode):
                try:
                    target = os.readlink(name, dir_fd=dir_fd)
                except OSError:
                    continue
                yield _header(rel, st, tarfile.SYMTYPE, linkname=target)
            elif stat.S_ISDIR(mode):
                if len(stack) >= limits.max_path_depth:
                    raise LimitExceededError(
                        f"{root}: {rel} is nested deeper than {limits.max_path_depth} "
                        "directories (max_path_depth)"
                    )
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError:
                    continue  # unreadable, or replaced by a symlink since the stat
                try:
                    children = _list(child)
                except OSError:
                    os.close(child)
                    continue
                stack.append((child, rel + "/", children))  # before yielding: closed on exit
                yield _header(rel + "/", st, tarfile.DIRTYPE)
            else:
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in hardlinks:
                    yield _header(rel, st, tarfile.LNKTYPE, linkname=hardlinks[key])
                    continue
                stored = yield from _file(dir_fd, name, rel)
                if stored and st.st_nlink > 1:
                    hardlinks[key] = rel
        yield bytes(2 * _BLOCK)
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def _list(dir_fd: int) -> list[str]:
    """Names in a directory, sorted so that ``pop()`` yields them in bytewise order."""
    with os.scandir(dir_fd) as it:
        names = [e.name for e in it]
    names.sort(key=_sort_key, reverse=True)
    return names


def _file(dir_fd: int, name: str, rel: str) -> Generator[bytes, None, bool]:
    """Header and contents of one regular file; False when it could not be opened."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return False  # unreadable, or replaced by a symlink since the stat
    with io.FileIO(fd, "rb") as f:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            return False
        size = fst.st_size
        yield _header(rel, fst, tarfile.REGTYPE, size=size)
        remaining = size
        while remaining > 0:
            try:
                chunk = f.read(min(_CHUNK, remaining))
            except OSError:
                chunk = b""
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
        if remaining > 0:  # the file shrank while being read
            yield bytes(remaining)
        pad = -size % _BLOCK
        if pad:
            yield bytes(pad)
    return True


class _IterReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while self._pos >= len(self._buf):
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
            self._pos = 0
        n = min(len(view), len(self._buf) - self._pos)
        view[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()  # closes the directory fds of an unfinished walk
        super().close()


@dataclass(frozen=True, slots=True)
class DirTarOpener:
    """Opens a directory as a lazily generated tar stream. Picklable."""

    root: str
    limits: Limits = field(default=DEFAULT_LIMITS)

    def open(self) -> IO[bytes]:
        return io.BufferedReader(_IterReader(tar_stream(self.root, self.limits)), _CHUNK)


class RootfsSource:
    """``dir:PATH`` (see the module docstring)."""

    kind = "dir"

    def __init__(
        self,
        path: str | Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.limits = limits
        self.name = name or f"dir:{path}"
        if not self.path.exists():
            raise SourceNotFoundError(f"{path}: no such directory")
        if not self.path.is_dir():
            raise SourceNotFoundError(f"{path}: not a directory (dir: expects a root filesystem)")

    def resolve(self, platform: str | None) -> ImageInfo:
        """One layer, diff_id unknown (""); ``platform`` does not apply to a directory."""
        opener = DirTarOpener(os.path.realpath(self.path), self.limits)
        ref = LayerRef(index=0, diff_id="", media_type=TAR_MEDIA_TYPE)
        layer = LayerSpec(
            ref=ref, opener=opener, blob_digest=None, media_type=TAR_MEDIA_TYPE, size=None
        )
        return ImageInfo(target=Target(name=self.name, kind="dir"), config={}, layers=(layer,))

    def close(self) -> None:
        return None

    def __enter__(self) -> RootfsSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
