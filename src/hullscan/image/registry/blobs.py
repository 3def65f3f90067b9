"""Layer blobs streamed from a registry: resumable, bounded, and picklable to open.

``BlobReader`` is the raw stream the layer walk reads (``hullscan.image.layer`` hashes and
verifies it against the manifest's digest and the config's diff_id as it goes; nothing
derived from it is kept unless both match). When the connection breaks or stalls mid-blob,
the reader asks again from where it stopped (``Range: bytes=N-``); a registry that ignores
the range answers 200 with the whole blob, and the first N bytes are skipped. More bytes
than the manifest announced is an error at once (the digest could never match), so a
hostile registry cannot make the download unbounded.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import IO, Any

import httpx

from hullscan.errors import DigestMismatchError
from hullscan.image.digests import show
from hullscan.image.registry.client import BLOB_CHUNK, Endpoint, RegistryClient
from hullscan.image.registry.errors import RegistryError, RegistryNotFoundError, error_detail
from hullscan.image.registry.settings import RegistrySettings
from hullscan.net import content_range, parse_int, transport_reason

# Bound on re-opening one blob, progress or not: a registry cutting every response short
# after a few bytes must not keep the scan busy forever.
_MAX_REOPENS = 64


class BlobReader(io.RawIOBase):
    """The bytes of one blob, resumed across broken connections."""

    def __init__(
        self,
        client: RegistryClient,
        endpoint: Endpoint,
        repository: str,
        digest: str,
        size: int | None,
        *,
        max_bytes: int,
        owns_client: bool = False,
    ) -> None:
        super().__init__()
        self._client = client
        self._ep = endpoint
        self._repo = repository
        self._digest = digest
        self._size = size
        self._max = size if size is not None else max_bytes
        self._owns_client = owns_client
        self._resp: httpx.Response | None = None
        self._iter: Any = None
        self._pending = memoryview(b"")
        self._pos = 0
        self._skip = 0
        self._total: int | None = None
        self._done = False
        self._failures = 0  # consecutive interruptions without progress
        self._reopens = 0
        self._progress_at_failure = 0
        self.resumed = 0  # interruptions recovered (for tests and benchmarks)
        self.what = f"{endpoint.label}: {repository}: blob {digest}"

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        while True:
            if self._pending:
                n = min(len(view), len(self._pending))
                view[:n] = self._pending[:n]
                self._pending = self._pending[n:]
                return n
            if self._done:
                return 0
            if self._iter is None:
                self._open()
            try:
                data = next(self._iter)
            except StopIteration:
                data = None
            except httpx.TimeoutException as exc:
                self._close_response()
                self._interrupted(f"timed out ({type(exc).__name__})")
                continue
            except httpx.TransportError as exc:
                self._close_response()
                self._interrupted(f"connection broken: {transport_reason(exc)}")
                continue
            if data is None:  # the response ended
                self._close_response()
                if self._total is not None and self._pos < self._total:
                    self._interrupted(f"the body ended after {self._pos} of {self._total} bytes")
                    continue
                if self._size is not None and self._pos != self._size:
                    raise DigestMismatchError(
                        f"{self.what}: {self._pos} bytes, the manifest says {self._size}"
                    )
                self._done = True
                return 0
            if self._skip:
                cut = min(self._skip, len(data))
                self._skip -= cut
                data = data[cut:]
            self._pos += len(data)
            if self._pos > self._max:
                raise DigestMismatchError(
                    f"{self.what}: more than the {self._max} bytes the manifest announces"
                )
            self._pending = memoryview(data)

    def _interrupted(self, reason: str) -> None:
        policy = self._client.settings.retry
        if self._pos > self._progress_at_failure:
            self._failures = 0
        self._progress_at_failure = self._pos
        self._failures += 1
        self._reopens += 1
        if self._failures > policy.retries or self._reopens > _MAX_REOPENS:
            raise RegistryError(
                f"{self.what}: {reason} (gave up after {self._reopens} attempts at byte "
                f"{self._pos})"
            )
        delay = policy.delay(self._failures, None)
        time.sleep(delay or 0.0)

    def _open(self) -> None:
        headers = {"Accept-Encoding": "identity"}
        offset = self._pos
        if offset:
            headers["Range"] = f"bytes={offset}-"
            self.resumed += 1
        resp = self._client.request(
            self._ep,
            "GET",
            f"/v2/{self._repo}/blobs/{self._digest}",
            scope=f"repository:{self._repo}:pull",
            what=self.what,
            headers=headers,
            stream=True,
        )
        code = resp.status_code
        if code not in (200, 206):
            detail = error_detail(resp.read())
            resp.close()
            suffix = f" ({detail})" if detail else ""
            if code == 404:
                raise RegistryNotFoundError(f"{self.what}: not found{suffix}")
            raise RegistryError(f"{self.what}: HTTP {code}{suffix}")
        length = parse_int(resp.headers.get("Content-Length"))
        if code == 206:
            crange = content_range(resp.headers.get("Content-Range"))
            if not offset or crange is None or crange[0] != offset:
                resp.close()
                raise RegistryError(
                    f"{self.what}: HTTP 206 with an unexpected Content-Range "
                    f"{show(resp.headers.get('Content-Range'))}"
                )
            self._skip = 0
            self._total = crange[1] if crange[1] is not None else (
                offset + length if length is not None else None
            )  # fmt: skip
        else:
            self._skip = offset  # the registry ignored the range: skip what we have
            self._total = length
        if self._size is not None and self._total is not None and self._total != self._size:
            resp.close()
            raise DigestMismatchError(
                f"{self.what}: the registry sends {self._total} bytes, the manifest says "
                f"{self._size}"
            )
        self._resp = resp
        # No chunk size: httpx would hold bytes back until a whole chunk arrived, and lose
        # them (and the resume point) when the connection breaks first.
        self._iter = resp.iter_raw()

    def _close_response(self) -> None:
        if self._resp is not None:
            self._resp.close()
        self._resp = None
        self._iter = None

    def close(self) -> None:
        if not self.closed:
            self._close_response()
            if self._owns_client:
                self._client.close()
        super().close()


@dataclass(frozen=True, slots=True)
class RegistryBlobOpener:
    """Opens one layer blob in a worker process: a client of its own, the endpoint state
    (scheme, challenge, tokens) the parent learnt. Picklable."""

    registry: str
    settings: RegistrySettings
    endpoint: Endpoint
    repository: str
    digest: str
    size: int | None
    max_bytes: int

    def open(self) -> IO[bytes]:
        client = RegistryClient(self.registry, self.settings, endpoints=[self.endpoint])
        reader = BlobReader(
            client,
            self.endpoint,
            self.repository,
            self.digest,
            self.size,
            max_bytes=self.max_bytes,
            owns_client=True,
        )
        return io.BufferedReader(reader, BLOB_CHUNK)

    def __repr__(self) -> str:  # the endpoint holds tokens: never print them
        return f"RegistryBlobOpener({self.registry}/{self.repository}@{self.digest})"
