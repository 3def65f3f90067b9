"""Open a layer blob as a verified, decompressed stream of tar bytes.

The compression is sniffed from the first bytes (gzip ``1f 8b``, zstd ``28 b5 2f fd``, else
an uncompressed tar), never trusted from a media type: docker-save archives do not say.
Two digests are computed while the bytes stream: the blob digest (compressed bytes, checked
against the manifest when the source knows it) and the diff_id (uncompressed tar, checked
against the config's ``rootfs.diff_ids``). The check happens when the stream is exhausted;
a mismatch raises ``DigestMismatchError``, so nothing derived from an unverified layer is
ever returned or cached.

gzip goes through isal's igzip and zstd through zstandard (both several times faster than
the stdlib/CLI equivalents); output is pulled in bounded chunks so a decompression bomb is
stopped by the byte and ratio limits before it fills memory.
"""

from __future__ import annotations

import hashlib
import io
import queue
import threading
import zlib
from collections.abc import Iterator
from typing import IO, Any

import zstandard
from isal import igzip, isal_zlib

from hullscan.errors import DigestMismatchError, LayerFormatError, LimitExceededError
from hullscan.image.limits import Limits

# Decompressed chunk size. The reader thread needs the GIL between its C calls, and the
# parsing thread holds it most of the time: fewer, larger chunks mean fewer hand-overs.
# Measured on a 1M-file layer: 1 MiB 3.3 s, 4 MiB 2.65 s, 8 MiB 2.9 s (and more memory).
CHUNK = 4 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (  # type: ignore[assignment]
    OSError,
    EOFError,
    zlib.error,
    isal_zlib.error,
    zstandard.ZstdError,
)
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _HashingReader(io.RawIOBase):
    """Wraps the raw blob: hashes and counts the compressed bytes as they are read."""

    def __init__(self, raw: IO[bytes], head: bytes, algorithm: str = "sha256") -> None:
        super().__init__()
        self._raw = raw
        self._head = head
        self.algorithm = algorithm
        self.hash = hashlib.new(algorithm, head)
        self.count = len(head)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]  # already hashed and counted
            return n
        data = self._raw.read(len(view))
        n = len(data)
        view[:n] = data
        self.hash.update(data)
        self.count += n
        return n

    def drain(self) -> None:
        """Read (and hash) anything left after the decompressor stopped."""
        buf = bytearray(CHUNK)
        while self.readinto(buf):
            pass


def sniff_compression(head: bytes) -> str:
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


class LayerStream:
    """Iterate over the decompressed chunks of one layer; verifies digests at the end.

    After iteration, ``diff_id``, ``blob_digest``, ``compressed_bytes`` and
    ``uncompressed_bytes`` hold what was measured.
    """

    def __init__(
        self,
        raw: IO[bytes],
        *,
        name: str,
        limits: Limits,
        expected_diff_id: str | None,
        expected_blob_digest: str | None,
    ) -> None:
        self.name = name
        self._raw = raw
        self._limits = limits
        self._expected_diff_id = expected_diff_id
        self._expected_blob_digest = expected_blob_digest
        self.compression = "none"
        self.diff_id: str | None = None
        self.blob_digest: str | None = None
        self.compressed_bytes = 0
        self.uncompressed_bytes = 0

    def chunks(self) -> Iterator[bytes]:
        """Decompressed chunks, produced by a reader thread.

        Decompression and both digests run in C code that releases the GIL, so a helper
        thread doing them overlaps with the tar parsing done by the consumer: the walk costs
        max(decompress, parse) instead of their sum. The queue is small (bounded memory) and
        the thread stops as soon as the consumer goes away.
        """
        q: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
        stop = threading.Event()

        def put(item: bytes | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for chunk in self._verified_chunks():
                    if not put(chunk):
                        return
                put(None)
            except BaseException as exc:  # handed to the consumer, re-raised there
                put(exc)

        thread = threading.Thread(target=produce, name=f"hullscan-{self.name}", daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join()

    def _verified_chunks(self) -> Iterator[bytes]:
        head = self._raw.read(4)
        self.compression = sniff_compression(head)
        algorithm = "sha256"
        if self._expected_blob_digest and self._expected_blob_digest.startswith("sha512:"):
            algorithm = "sha512"
        reader = _HashingReader(self._raw, head, algorithm)
        tar_hash = hashlib.sha256()
        total = 0
        lim = self._limits
        try:
            for chunk in self._decompressed(reader):
                total += len(chunk)
                if total > lim.max_layer_bytes:
                    raise LimitExceededError(
                        f"{self.name}: layer exceeds {lim.max_layer_bytes} uncompressed bytes"
                    )
                if total > lim.ratio_grace_bytes and total > lim.max_compression_ratio * max(
                    reader.count, 1
                ):
                    raise LimitExceededError(
                        f"{self.name}: compression ratio over {lim.max_compression_ratio}:1 "
                        f"({reader.count} -> {total} bytes): decompression bomb?"
                    )
                tar_hash.update(chunk)
                self.uncompressed_bytes = total
                self.compressed_bytes = reader.count  # live, for progress reporting
                yield chunk
            reader.drain()
        except _DECOMPRESSION_ERRORS as exc:
            self._check_blob_digest_after_error(reader)
            raise LayerFormatError(
                f"{self.name}: corrupt {self.compression} stream: {exc}"
            ) from exc
        self.compressed_bytes = reader.count
        self.blob_digest = f"{reader.algorithm}:{reader.hash.hexdigest()}"
        self.diff_id = "sha256:" + tar_hash.hexdigest()
        self._verify()

    def _decompressed(self, reader: _HashingReader) -> Iterator[bytes]:
        if self.compression == "gzip":
            # IGzipFile handles multi-member streams and raises on truncation/bad CRC.
            gz = igzip.IGzipFile(fileobj=reader, mode="rb")  # type: ignore[no-untyped-call]
            while True:
                chunk = gz.read(CHUNK)
                if not chunk:
                    return
                yield chunk
        elif self.compression == "zstd":
            dctx = zstandard.ZstdDecompressor(max_window_size=1 << 31)
            with dctx.stream_reader(
                reader,  # type: ignore[arg-type]
                read_across_frames=True,
                closefd=False,
            ) as zr:
                while True:
                    chunk = zr.read(CHUNK)
                    if not chunk:
                        return
                    yield chunk
        else:
            while True:
                chunk = reader.read(CHUNK)
                if not chunk:
                    return
                yield chunk

    def _check_blob_digest_after_error(self, reader: _HashingReader) -> None:
        """A stream that does not decompress may be bytes that are not the blob at all (a
        corrupted download): when the manifest names the blob, read the rest (bounded by the
        source: the descriptor's size for registries, the file for layouts) and say so."""
        if not self._expected_blob_digest:
            return
        try:
            reader.drain()
        except (OSError, ValueError):
            return
        got = f"{reader.algorithm}:{reader.hash.hexdigest()}"
        if got != self._expected_blob_digest:
            raise DigestMismatchError(
                f"{self.name}: blob digest mismatch: manifest says "
                f"{self._expected_blob_digest}, bytes hash to {got} (they do not decompress "
                f"as {self.compression} either)"
            )

    def _verify(self) -> None:
        if self._expected_blob_digest and self.blob_digest != self._expected_blob_digest:
            raise DigestMismatchError(
                f"{self.name}: blob digest mismatch: manifest says "
                f"{self._expected_blob_digest}, bytes hash to {self.blob_digest}"
            )
        if self._expected_diff_id and self.diff_id != self._expected_diff_id:
            raise DigestMismatchError(
                f"{self.name}: diff_id mismatch: config says {self._expected_diff_id}, "
                f"uncompressed layer hashes to {self.diff_id}"
            )
