"""A scriptable, fault-injecting HTTP reverse proxy in front of a registry.

    with FaultProxy(registry) as proxy:           # client talks to proxy.url / proxy.host
        proxy.inject(reset_after(1000), method="GET", path=r"/blobs/sha256:", times=1)
        proxy.inject(status(429), path=r"/manifests/")     # Retry-After: 1 by default
        proxy.inject(append(10), path=r"/blobs/sha256:")    # more bytes than the blob has
        ... run the client ...
        [r.path for r in proxy.requests], proxy.requests[-1].range

Every request is forwarded with all its end-to-end headers (Authorization, Range, Accept...);
responses are streamed back, ``Location`` headers pointing at the upstream are rewritten to
point at the proxy, ``WWW-Authenticate`` is passed unchanged (so a token realm still points at
the token server, not through the proxy). Each response ends with ``Connection: close``: one
request per connection keeps the fault semantics unambiguous.

Rules are tried in insertion order; the first one whose ``method`` (None: any) matches and
whose ``path`` regex ``re.search``-es the request path (without the query) applies, and counts
down its ``times``.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from tests.registry import Stoppable
from tests.registry.server import LOCALHOST

# Hop-by-hop headers (RFC 9110 7.6.1) plus the ones the proxy recomputes itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",  # BaseHTTPRequestHandler already answered 100-continue
    }
)
_CHUNK = 64 * 1024


# --- faults -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetAfter:
    """Status + headers + the first ``n_bytes`` of the body, then an abrupt close: a TCP RST
    (SO_LINGER 0) when ``rst``, a plain FIN otherwise. A RST makes the client's kernel drop
    whatever it has not read yet, so with ``pause`` seconds between the bytes and the close
    the client gets to consume them first (a connection that breaks *after* a while)."""

    n_bytes: int
    rst: bool = True
    pause: float = 0.0


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering anything (RST when ``rst``)."""

    rst: bool = True


@dataclass(frozen=True)
class Status:
    """Answer ``code`` without contacting the upstream."""

    code: int
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Corrupt:
    """Flip one byte of the body (at ``offset``, default the middle); same length."""

    offset: int | None = None


@dataclass(frozen=True)
class Hang:
    """Stall ``seconds``: before anything (``after_bytes`` None), after the headers (0), or
    after ``after_bytes`` body bytes; then carry on normally if the client is still there."""

    seconds: float
    after_bytes: int | None = None


@dataclass(frozen=True)
class NoRange:
    """Strip ``Range``/``If-Range``: the upstream answers 200 with the whole body."""


@dataclass(frozen=True)
class Append:
    """Send ``n_bytes`` more (zeros) after the real body. ``announce``: Content-Length counts
    them; otherwise there is no Content-Length and the close delimits the body, so the client
    only notices by counting (or never, if it does not)."""

    n_bytes: int
    announce: bool = True


Fault = ResetAfter | Drop | Status | Corrupt | Hang | NoRange | Append


def reset_after(n_bytes: int, *, rst: bool = True, pause: float = 0.0) -> ResetAfter:
    return ResetAfter(n_bytes, rst, pause)


def drop(*, rst: bool = True) -> Drop:
    return Drop(rst)


def status(code: int, headers: Mapping[str, str] | None = None, body: bytes = b"") -> Status:
    """``headers`` default to ``{"Retry-After": "1"}``; pass ``{}`` for none."""
    return Status(code, {"Retry-After": "1"} if headers is None else dict(headers), body)


def corrupt(offset: int | None = None) -> Corrupt:
    return Corrupt(offset)


def hang(seconds: float, *, after_bytes: int | None = None) -> Hang:
    return Hang(seconds, after_bytes)


def no_range() -> NoRange:
    return NoRange()


def append(n_bytes: int, *, announce: bool = True) -> Append:
    return Append(n_bytes, announce)


@dataclass
class Rule:
    fault: Fault
    method: str | None
    path: re.Pattern[str]
    times: int
    hits: int = 0

    @property
    def remaining(self) -> int:
        return self.times - self.hits

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method.upper() == method)
            and self.path.search(path) is not None
        )


@dataclass
class ProxiedRequest:
    """What the proxy saw and did. Filled in as the exchange progresses."""

    method: str
    path: str  # without the query
    query: str
    range: str | None  # the client's Range header, before any no_range()
    authorization: bool
    headers: dict[str, str]  # the client's headers (Authorization value redacted)
    fault: Fault | None = None
    upstream_status: int | None = None  # None: upstream not contacted
    status: int | None = None  # what the client was sent (None: nothing)
    bytes_sent: int = 0  # body bytes written to the client
    content_length: int | None = None  # as announced to the client
    aborted: bool = False  # closed early (reset/drop/client went away)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None


class Upstream(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def ca_cert(self) -> Path | None: ...


# --- proxy --------------------------------------------------------------------------------


class FaultProxy(Stoppable):
    """Reverse proxy on 127.0.0.1:free-port to ``upstream`` (a URL or a RegistryServer)."""

    def __init__(
        self,
        upstream: str | Upstream,
        *,
        ca_cert: Path | None = None,
        upstream_timeout: float = 30.0,
    ) -> None:
        if not isinstance(upstream, str):
            ca_cert = ca_cert or upstream.ca_cert
            upstream = upstream.url
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"bad upstream URL {upstream!r}")
        self.upstream_url = f"{parts.scheme}://{parts.netloc}"
        self._upstream_https = parts.scheme == "https"
        self._upstream_netloc = parts.netloc
        self._upstream_ctx = (
            ssl.create_default_context(cafile=str(ca_cert) if ca_cert else None)
            if self._upstream_https
            else None
        )
        self.upstream_timeout = upstream_timeout
        self.ca_cert: Path | None = None  # the proxy itself speaks plain HTTP
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._requests: list[ProxiedRequest] = []
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((LOCALHOST, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    # --- public API ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def inject(
        self, fault: Fault, *, method: str | None = None, path: str = "", times: int = 1
    ) -> Rule:
        """Apply ``fault`` to the next ``times`` requests matching ``method`` and ``path``."""
        rule = Rule(fault, method, re.compile(path), times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def matching(self, method: str | None = None, path: str = "") -> list[ProxiedRequest]:
        """Recorded requests with ``method`` (None: any) whose path ``re.search``-es ``path``."""
        pattern = re.compile(path)
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and pattern.search(r.path)
        ]

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"<FaultProxy {self.url} -> {self.upstream_url}>"

    # --- internals -------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule.fault
        return None

    def _connect(self) -> http.client.HTTPConnection:
        if self._upstream_https:
            return http.client.HTTPSConnection(
                self._upstream_netloc, timeout=self.upstream_timeout, context=self._upstream_ctx
            )
        return http.client.HTTPConnection(self._upstream_netloc, timeout=self.upstream_timeout)

    def _rewrite_location(self, value: str) -> str:
        if value.startswith(self.upstream_url):
            return self.url + value[len(self.upstream_url) :]
        return value

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        split = urllib.parse.urlsplit(h.path)
        body = _read_request_body(h)
        rec = ProxiedRequest(
            method=h.command,
            path=split.path,
            query=split.query,
            range=h.headers.get("Range"),
            authorization="Authorization" in h.headers,
            headers={
                k: ("<redacted>" if k.lower() == "authorization" else v)
                for k, v in h.headers.items()
            },
        )
        with self._lock:
            self._requests.append(rec)
        rec.fault = fault = self._take_fault(h.command, split.path)
        try:
            self._serve(h, rec, fault, body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            rec.aborted = True  # the client gave up (e.g. its read timeout during a hang)
        finally:
            rec.finished = time.monotonic()

    def _serve(
        self, h: BaseHTTPRequestHandler, rec: ProxiedRequest, fault: Fault | None, body: bytes
    ) -> None:
        if isinstance(fault, Drop):
            rec.aborted = True
            _abort(h, rst=fault.rst)
            return
        if isinstance(fault, Status):
            rec.status = fault.code
            h.send_response_only(fault.code)
            for name, value in fault.headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(fault.body)))
            h.send_header("Connection", "close")
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(fault.body)
                rec.bytes_sent = len(fault.body)
            return
        if isinstance(fault, Hang) and fault.after_bytes is None:
            self._stopping.wait(fault.seconds)

        headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.pop("Host", None)
        headers.pop("Content-Length", None)
        if isinstance(fault, NoRange):
            headers = {k: v for k, v in headers.items() if k.lower() not in ("range", "if-range")}
        if body or h.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = self._connect()
        try:
            try:
                conn.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", self._upstream_netloc)
                for name, value in headers.items():
                    conn.putheader(name, value)
                conn.endheaders(body or None)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                msg = f"fault proxy: upstream {self.upstream_url} failed: {exc!r}".encode()
                rec.status = 502
                h.send_response_only(502)
                h.send_header("Content-Length", str(len(msg)))
                h.send_header("Connection", "close")
                h.end_headers()
                h.wfile.write(msg)
                return
            rec.upstream_status = resp.status
            self._relay(h, rec, fault, resp)
        finally:
            conn.close()

    def _relay(
        self,
        h: BaseHTTPRequestHandler,
        rec: ProxiedRequest,
        fault: Fault | None,
        resp: http.client.HTTPResponse,
    ) -> None:
        out_headers: list[tuple[str, str]] = []
        length: int | None = None
        for name, value in resp.getheaders():
            lower = name.lower()
            if lower in _HOP_BY_HOP:
                continue
            if lower == "location":
                value = self._rewrite_location(value)
            if lower == "content-length":
                length = int(value)
                if isinstance(fault, Append):
                    if not fault.announce:
                        continue
                    value = str(length + fault.n_bytes)
            out_headers.append((name, value))

        whole: bytes | None = None
        if isinstance(fault, Corrupt):
            buf = bytearray(resp.read())
            if buf:
                at = len(buf) // 2 if fault.offset is None else fault.offset
                buf[at] ^= 0xFF
            whole = bytes(buf)
            if length is None and h.command != "HEAD":
                out_headers.append(("Content-Length", str(len(whole))))
                length = len(whole)

        if isinstance(fault, Append):
            length = None if not fault.announce or length is None else length + fault.n_bytes
        rec.status = resp.status
        rec.content_length = length
        h.send_response_only(resp.status, resp.reason)
        for name, value in out_headers:
            h.send_header(name, value)
        # Without a length (upstream was chunked) the close delimits the body.
        h.send_header("Connection", "close")
        h.end_headers()

        limit: int | None = None
        if isinstance(fault, ResetAfter):
            limit = fault.n_bytes
        stall_at, stall_for = (
            (fault.after_bytes, fault.seconds) if isinstance(fault, Hang) else (None, 0.0)
        )
        if stall_at == 0:
            self._stopping.wait(stall_for)
            stall_at = None

        def chunks() -> Any:
            if whole is not None:
                for i in range(0, len(whole), _CHUNK):
                    yield whole[i : i + _CHUNK]
                return
            while data := resp.read(_CHUNK):
                yield data
            if isinstance(fault, Append) and h.command != "HEAD":
                zeros = bytes(_CHUNK)
                for i in range(0, fault.n_bytes, _CHUNK):
                    yield zeros[: min(_CHUNK, fault.n_bytes - i)]

        for data in chunks():
            if limit is not None and rec.bytes_sent + len(data) >= limit:
                data = data[: limit - rec.bytes_sent]
                h.wfile.write(data)
                rec.bytes_sent += len(data)
                break
            if stall_at is not None and rec.bytes_sent + len(data) >= stall_at:
                head = data[: stall_at - rec.bytes_sent]
                h.wfile.write(head)
                rec.bytes_sent += len(head)
                data = data[len(head) :]
                self._stopping.wait(stall_for)
                stall_at = None
            h.wfile.write(data)
            rec.bytes_sent += len(data)
        if isinstance(fault, ResetAfter):
            rec.aborted = True
            if fault.pause:
                h.wfile.flush()
                self._stopping.wait(fault.pause)
            _abort(h, rst=fault.rst)


def _read_request_body(h: BaseHTTPRequestHandler) -> bytes:
    """The whole request body (test uploads are small); chunked bodies are de-chunked."""
    if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
        parts: list[bytes] = []
        while True:
            size_line = h.rfile.readline(1024)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(h.rfile.read(size))
            h.rfile.readline(1024)
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""


def _abort(h: BaseHTTPRequestHandler, *, rst: bool) -> None:
    """Close the client connection now; with ``rst`` the kernel sends a RST, not a FIN."""
    sock: socket.socket = h.connection
    if rst:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    # rfile (a makefile()) holds the fd open: close it first or sock.close() is deferred.
    # wfile is a plain writer the handler still flushes afterwards, so it stays "open".
    h.rfile.close()
    sock.close()


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            proxy.handle(self)

        do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request list is the log

    return Handler
