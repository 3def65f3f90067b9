"""A real HTTP server on 127.0.0.1 that serves feed files the way the live feeds do.

ETag, Last-Modified, conditional GET (304), ``Range``/``If-Range`` (206), and faults queued per
path: ``404``, ``500``, ``429`` (``Retry-After: 1``), ``reset`` (half the body, then a TCP
reset), ``truncate`` (``Content-Length`` promises more than is sent), ``garbage`` (200 with a
body that is not what the file type says), ``hang`` (no answer for ``HANG_SECONDS``).
A fault queued with ``always=True`` never runs out.

Also the simple ``SourceSpec`` readers the update tests build with, so they do not depend on
the real feed parsers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from hullscan.model.advisory import Advisory, Affected, KevEntry
from hullscan.vulndb.build.builder import SourceSpec
from hullscan.vulndb.build.feed import Record

HANG_SECONDS = 4.0


@dataclass
class Resource:
    data: bytes
    mtime: float

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest()[:20] + '"'

    @property
    def last_modified(self) -> str:
        return formatdate(self.mtime, usegmt=True)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int | None = None  # None: no status line was sent (hang)


@dataclass
class FeedServer:
    resources: dict[str, Resource] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)
    sticky: dict[str, str] = field(default_factory=dict)
    no_ranges: set[str] = field(default_factory=set)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    httpd: ThreadingHTTPServer | None = None

    # -- control -----------------------------------------------------------------------------

    def add(self, path: str, data: bytes, mtime: float | None = None) -> None:
        self.resources[path] = Resource(data, time.time() - 3600 if mtime is None else mtime)

    def fault(self, path: str, *kinds: str, always: bool = False) -> None:
        with self.lock:
            if always:
                self.sticky[path] = kinds[0]
            else:
                self.faults.setdefault(path, []).extend(kinds)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.sticky.clear()

    def requests(self, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.log if path is None or r.path == path]

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()

    def _next_fault(self, path: str) -> str | None:
        with self.lock:
            if path in self.sticky:
                return self.sticky[path]
            queue = self.faults.get(path)
            return queue.pop(0) if queue else None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FeedServer:
        server = self

        class Handler(_Handler):
            feeds = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    feeds: FeedServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self, path: str) -> Request:
        req = Request(path, {k.lower(): v for k, v in self.headers.items()})
        with self.feeds.lock:
            self.feeds.log.append(req)
        return req

    def _simple(self, req: Request, status: int, extra: dict[str, str] | None = None) -> None:
        body = f"status {status}\n".encode()
        req.status = status
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        req = self._record(path)
        try:
            self._serve(path, req)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _serve(self, path: str, req: Request) -> None:
        res = self.feeds.resources.get(path)
        if res is None:
            self._simple(req, 404)
            return
        fault = self.feeds._next_fault(path)
        if fault == "404":
            self._simple(req, 404)
            return
        if fault == "500":
            self._simple(req, 500)
            return
        if fault == "429":
            self._simple(req, 429, {"Retry-After": "1"})
            return
        if fault == "hang":
            self.feeds.stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if fault == "garbage":
            res = Resource(
                b"<html><body>Service temporarily unavailable</body></html>\n" * 50, res.mtime
            )
        h = req.headers
        not_modified = False
        if "if-none-match" in h:
            not_modified = res.etag in [t.strip() for t in h["if-none-match"].split(",")]
        elif "if-modified-since" in h:
            try:
                since = parsedate_to_datetime(h["if-modified-since"]).timestamp()
                not_modified = int(res.mtime) <= since
            except (TypeError, ValueError):
                pass
        if not_modified and fault is None:
            req.status = 304
            self.send_response(304)
            self.send_header("ETag", res.etag)
            self.send_header("Last-Modified", res.last_modified)
            self.end_headers()
            return
        start = 0
        ranges = path not in self.feeds.no_ranges
        rng = h.get("range", "")
        if ranges and rng.startswith("bytes=") and rng.endswith("-"):
            if_range = h.get("if-range")
            if if_range is None or if_range in (res.etag, res.last_modified):
                start = int(rng[len("bytes=") : -1])
        if start >= len(res.data) and start:
            self._simple(req, 416, {"Content-Range": f"bytes */{len(res.data)}"})
            return
        body = res.data[start:]
        req.status = 206 if start else 200
        self.send_response(req.status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", res.etag)
        self.send_header("Last-Modified", res.last_modified)
        if ranges:
            self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(res.data) - 1}/{len(res.data)}")
        self.end_headers()
        if fault == "reset":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(0.2)  # let the client read the half before the reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault == "truncate":
            self.wfile.write(body[: max(0, len(body) - 1000)])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.close_connection = True
            return
        self.wfile.write(body)


def basic_auth(header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    return base64.b64decode(header[6:]).decode()


# --------------------------------------------------------------------------- simple sources


def _read_osv_zip(path: Path, source: str) -> Iterator[Record]:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".json"):
                continue
            doc = json.loads(zf.read(name))
            yield Advisory(
                id=doc["id"],
                source=f"{source}:{path.parent.name}",
                modified=doc.get("modified"),
                aliases=tuple(doc.get("aliases") or ()),
            )


def _read_kev(path: Path, source: str) -> Iterator[Record]:
    for v in json.loads(path.read_bytes())["vulnerabilities"]:
        yield KevEntry(cve=v["cveID"], date_added=v.get("dateAdded"))


def _read_alpine(path: Path, source: str) -> Iterator[Record]:
    doc = json.loads(path.read_bytes())
    branch = path.parent.name
    for entry in doc.get("packages", []):
        pkg = entry["pkg"]
        yield Advisory(
            id=f"alpine-{branch}-{path.stem}-{pkg['name']}",
            source=source,
            affected=(Affected(namespace=f"alpine:{branch}", package=pkg["name"], scheme="apk"),),
        )


def simple_sources() -> list[SourceSpec]:
    return [
        SourceSpec("osv", "osv-dev/*/all.zip", _read_osv_zip),
        SourceSpec("kev", "cisa-kev/known_exploited_vulnerabilities.json", _read_kev),
        SourceSpec("alpine", "alpine-secdb/*/*.json", _read_alpine),
    ]
