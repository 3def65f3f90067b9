"""``hullscan db update``: download the live feeds into a feed directory, then build the DB.

The feed directory is laid out exactly like ``shared/vulndata`` (see its MANIFEST), so the same
source table that ``hullscan db build --from DIR`` uses reads it. ``LIVE_FEEDS`` maps each feed
to its public URL and to its path under the feed directory.

Downloads are careful because the network is not:

* every request has connect/read timeouts; connection errors, timeouts, 429 and 5xx are retried
  with exponential backoff and jitter (a 429/503 ``Retry-After`` is honoured, up to a bound);
* a body goes to ``<dest>.part`` and is renamed over ``<dest>`` only once it is complete
  (length checked against ``Content-Length``/``Content-Range``) and passes a sanity check by
  type (zip central directory, whole gzip stream, JSON syntax), under a size limit per file:
  the final path never holds a half-written or garbage file;
* an interrupted body is resumed with ``Range``/``If-Range`` when the server answered with a
  validator (ETag or Last-Modified) and supports ranges; otherwise it restarts from zero;
* the ETag/Last-Modified of every complete file is kept in a small JSON state file in the
  feed directory (``.hullscan-update.json``) and sent back as ``If-None-Match``/
  ``If-Modified-Since``: an unchanged feed costs one ``304 Not Modified``.

``update_db`` builds only when every selected feed is in place (unless ``keep_going``); the build
itself is atomic (``build_db``), so any failure leaves the previous DB byte-identical.

Nothing printed or stored names credentials: URLs are shown without user-info and query.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import os
import re
import threading
import time
import urllib.parse
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import msgspec
import platformdirs

from hullscan.errors import EXIT_INPUT_ERROR, HullscanError, UsageError
from hullscan.net import (
    RetryPolicy,
    content_range,
    parse_int,
    redact_url,
    retry_after,
    transport_reason,
)
from hullscan.vulndb.build.builder import BuildReport, SourceSpec, SourceStats, build_db

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

STATE_FILE = ".hullscan-update.json"
LOCK_FILE = ".hullscan-update.lock"
PART_SUFFIX = ".part"
MIRRORS_ENV = "HULLSCAN_FEED_MIRRORS"
FEED_DIR_ENV = "HULLSCAN_FEED_DIR"
_STATE_VERSION = 1
_CHUNK = 256 * KiB


class UpdateError(HullscanError):
    """A feed could not be downloaded or the DB could not be rebuilt (the old DB is kept)."""

    exit_code = EXIT_INPUT_ERROR


# --------------------------------------------------------------------------- the feed table

FeedKind = Literal["zip", "gzip", "json"]


@dataclass(frozen=True, slots=True)
class LiveFeed:
    """One file of one feed: where it lives upstream and where it goes in the feed directory.

    ``name`` is ``group/detail`` (``osv/PyPI``, ``alpine-secdb/3.21/main``); ``--feeds`` takes
    a name or any ``/``-prefix of one (``osv``, ``alpine-secdb/3.21``). ``default`` feeds are
    downloaded unless a selection says otherwise; the others (NVD) only when asked for.
    """

    name: str
    url: str
    dest: str  # relative POSIX path under the feed directory
    max_bytes: int
    default: bool = True

    @property
    def kind(self) -> FeedKind:
        if self.dest.endswith(".zip"):
            return "zip"
        if self.dest.endswith(".gz"):
            return "gzip"
        return "json"

    @property
    def group(self) -> str:
        return self.name.split("/", 1)[0]


OSV_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
DEBIAN_TRACKER_BASE = "https://security-tracker.debian.org"
ALPINE_SECDB_BASE = "https://secdb.alpinelinux.org"
CISA_BASE = "https://www.cisa.gov"
EPSS_BASE = "https://epss.cyentia.com"
NVD_BASE = "https://nvd.nist.gov"

# osv.dev ecosystem name (as in the bucket URL) -> directory under osv-dev/
OSV_ECOSYSTEMS: tuple[tuple[str, str], ...] = (
    ("PyPI", "PyPI"),
    ("npm", "npm"),
    ("Maven", "Maven"),
    ("Go", "Go"),
    ("crates.io", "crates.io"),
    ("RubyGems", "RubyGems"),
    ("Packagist", "Packagist"),
    ("NuGet", "NuGet"),
    ("Debian", "Debian"),
    ("Alpine", "Alpine"),
    ("Rocky Linux", "Rocky-Linux"),
    ("AlmaLinux", "AlmaLinux"),
    ("Ubuntu", "Ubuntu"),
    ("Wolfi", "Wolfi"),
    ("Chainguard", "Chainguard"),
)

# Every secdb branch from 3.12 (2020) on: EOL branches stay useful for scanning old images and
# cost a few hundred KB. A branch released after this list: ``--alpine-branch 3.NN``.
ALPINE_BRANCHES: tuple[str, ...] = (
    *(f"3.{minor}" for minor in range(12, 24)),
    "edge",
)
ALPINE_REPOS = ("main", "community")

NVD_FIRST_YEAR = 2002


def osv_feeds() -> list[LiveFeed]:
    return [
        LiveFeed(
            name=f"osv/{directory}",
            url=f"{OSV_BASE}/{urllib.parse.quote(ecosystem)}/all.zip",
            dest=f"osv-dev/{directory}/all.zip",
            max_bytes=4 * GiB,
        )
        for ecosystem, directory in OSV_ECOSYSTEMS
    ]


def alpine_feeds(branches: Sequence[str] = ALPINE_BRANCHES) -> list[LiveFeed]:
    out: list[LiveFeed] = []
    for branch in branches:
        if branch != "edge" and not re.fullmatch(r"v?\d+\.\d+", branch):
            raise UsageError(f"alpine branch {branch!r}: expected 3.NN or edge")
        branch = branch.removeprefix("v")
        remote = branch if branch == "edge" else f"v{branch}"
        out.extend(
            LiveFeed(
                name=f"alpine-secdb/{branch}/{repo}",
                url=f"{ALPINE_SECDB_BASE}/{remote}/{repo}.json",
                dest=f"alpine-secdb/{branch}/{repo}.json",
                max_bytes=256 * MiB,
            )
            for repo in ALPINE_REPOS
        )
    return out


def nvd_feeds(last_year: int | None = None) -> list[LiveFeed]:
    last = last_year or datetime.now(UTC).year
    return [
        LiveFeed(
            name=f"nvd/{year}",
            url=f"{NVD_BASE}/feeds/json/cve/2.0/nvdcve-2.0-{year}.json.gz",
            dest=f"samples/nvd-api-2.0/yearly-feed/nvdcve-2.0-{year}.json.gz",
            max_bytes=1 * GiB,
            default=False,
        )
        for year in range(NVD_FIRST_YEAR, last + 1)
    ]


def live_feeds(
    alpine_branches: Sequence[str] = ALPINE_BRANCHES, nvd_last_year: int | None = None
) -> tuple[LiveFeed, ...]:
    """Every feed ``db update`` knows, in download order."""
    return (
        *osv_feeds(),
        LiveFeed(
            name="debian-tracker",
            url=f"{DEBIAN_TRACKER_BASE}/tracker/data/json",
            dest="samples/debian-tracker-json/debian.json",
            max_bytes=2 * GiB,
        ),
        *alpine_feeds(alpine_branches),
        LiveFeed(
            name="kev",
            url=f"{CISA_BASE}/sites/default/files/feeds/known_exploited_vulnerabilities.json",
            dest="cisa-kev/known_exploited_vulnerabilities.json",
            max_bytes=256 * MiB,
        ),
        LiveFeed(
            name="epss",
            url=f"{EPSS_BASE}/epss_scores-current.csv.gz",
            dest="samples/epss-csv/epss_scores-current.csv.gz",
            max_bytes=512 * MiB,
        ),
        *nvd_feeds(nvd_last_year),
    )


LIVE_FEEDS: tuple[LiveFeed, ...] = live_feeds()


def select_feeds(
    names: Sequence[str] | None = None,
    *,
    with_nvd: bool = False,
    table: Sequence[LiveFeed] = LIVE_FEEDS,
) -> list[LiveFeed]:
    """The feeds to download: ``names`` (each a feed name or a ``/``-prefix of names; an
    explicitly named optional feed is included), else every default feed (+ NVD if asked)."""
    if not names:
        return [f for f in table if f.default or (with_nvd and f.group == "nvd")]
    chosen: dict[str, LiveFeed] = {}
    unknown = []
    for raw in names:
        name = raw.strip().strip("/")
        hits = [f for f in table if f.name == name or f.name.startswith(name + "/")]
        if not hits:
            unknown.append(raw)
        for f in hits:
            chosen[f.name] = f
    if unknown:
        groups = sorted({f.group for f in table})
        raise UsageError(
            f"unknown feed(s) {', '.join(unknown)}; feed groups: {', '.join(groups)} "
            "(see 'hullscan db update --list')"
        )
    if with_nvd:
        for f in table:
            if f.group == "nvd":
                chosen.setdefault(f.name, f)
    order = {f.name: i for i, f in enumerate(table)}
    return sorted(chosen.values(), key=lambda f: order[f.name])


# --------------------------------------------------------------------------- mirrors, URLs


@dataclass(frozen=True, slots=True)
class Mirrors:
    """URL prefix rewrites: ``https://osv-vulnerabilities.storage.googleapis.com`` ->
    ``http://127.0.0.1:8080/osv`` sends every OSV download to the mirror, path kept."""

    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, specs: Sequence[str], env: Mapping[str, str] | None = None) -> Mirrors:
        """``FROM=TO`` pairs: ``$HULLSCAN_FEED_MIRRORS`` (whitespace/comma separated) first,
        then ``specs`` (the command line), a later rule for the same ``FROM`` winning."""
        env = os.environ if env is None else env
        items = [s for s in re.split(r"[\s,]+", env.get(MIRRORS_ENV, "")) if s]
        rules: dict[str, str] = {}
        for spec in [*items, *specs]:
            src, sep, dst = spec.partition("=")
            if not sep:
                raise UsageError(f"mirror {redact_url(spec)!r}: expected FROM_URL=TO_URL")
            rules[_check_base(src, "FROM")] = _check_base(dst, "TO")
        return cls(tuple(sorted(rules.items(), key=lambda kv: -len(kv[0]))))

    def apply(self, url: str) -> str:
        for src, dst in self.rules:  # longest prefix first
            if url == src or url.startswith(src + "/"):
                return dst + url[len(src) :]
        return url


def _check_base(url: str, what: str) -> str:
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"mirror {what} {redact_url(url)!r}: expected an http(s) URL")
    if parts.query or parts.fragment:
        raise UsageError(f"mirror {what} {redact_url(url)!r}: a base URL has no query")
    return url


def _state_key(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    base = redact_url(url).removesuffix("?...")
    if parts.query:
        return f"{base}?sha256:{hashlib.sha256(parts.query.encode()).hexdigest()[:16]}"
    return base


def default_feed_dir() -> Path:
    """``$HULLSCAN_FEED_DIR``, else ``<user cache dir>/hullscan/feeds``."""
    env = os.environ.get(FEED_DIR_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("hullscan")) / "feeds"


# --------------------------------------------------------------------------- settings, results


@dataclass(frozen=True, slots=True)
class HttpSettings:
    connect_timeout: float = 15.0
    read_timeout: float = 60.0  # longest silence while waiting for headers or body bytes
    retries: int = 4  # further attempts after the first one
    backoff: float = 1.0  # first retry after ~backoff s, then doubling, with jitter
    max_backoff: float = 60.0
    max_retry_after: float = 300.0  # a longer Retry-After fails the feed instead of waiting
    jobs: int = 4  # downloads in parallel
    user_agent: str = "hullscan-db-update/1"


Status = Literal["downloaded", "not-modified", "failed"]


@dataclass(slots=True)
class FeedResult:
    feed: LiveFeed
    url: str  # redacted
    status: Status
    size: int = 0  # bytes of the file now in place (0 when failed and absent)
    transferred: int = 0  # body bytes received over all attempts
    seconds: float = 0.0
    attempts: int = 0
    resumed: bool = False
    error: str | None = None


@dataclass(slots=True)
class UpdateReport:
    feed_dir: Path
    results: list[FeedResult]
    build: BuildReport | None = None
    failed: list[FeedResult] = field(default_factory=list)


# --------------------------------------------------------------------------- state file


class _Validators(msgspec.Struct, omit_defaults=True):
    etag: str | None = None
    last_modified: str | None = None


class _Entry(msgspec.Struct, omit_defaults=True):
    dest: str
    etag: str | None = None
    last_modified: str | None = None
    size: int | None = None
    sha256: str | None = None
    fetched_at: str | None = None
    partial: _Validators | None = None  # validators of the response <dest>.part came from


class _StateDoc(msgspec.Struct):
    version: int = _STATE_VERSION
    entries: dict[str, _Entry] = msgspec.field(default_factory=dict)


class _State:
    """ETag/Last-Modified per URL (keyed without credentials), saved atomically on change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.doc = _StateDoc()
        try:
            doc = msgspec.json.decode(path.read_bytes(), type=_StateDoc)
            if doc.version == _STATE_VERSION:
                self.doc = doc
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            pass  # missing or unreadable: start over (only costs full downloads)

    def get(self, key: str) -> _Entry | None:
        with self.lock:
            entry = self.doc.entries.get(key)
            return msgspec.structs.replace(entry) if entry else None

    def put(self, key: str, entry: _Entry | None) -> None:
        with self.lock:
            if entry is None:
                self.doc.entries.pop(key, None)
            else:
                self.doc.entries[key] = entry
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(msgspec.json.format(msgspec.json.encode(self.doc)))
            tmp.replace(self.path)


# --------------------------------------------------------------------------- downloading


class _RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _FeedError(Exception):
    pass


class _CancelledError(Exception):
    pass


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class _Downloader:
    def __init__(
        self,
        feed_dir: Path,
        client: httpx.Client,
        settings: HttpSettings,
        state: _State,
        cancel: threading.Event,
    ) -> None:
        self.feed_dir = feed_dir
        self.client = client
        self.settings = settings
        self.state = state
        self.cancel = cancel

    def fetch(self, feed: LiveFeed, url: str) -> FeedResult:
        t0 = time.monotonic()
        result = FeedResult(feed=feed, url=redact_url(url), status="failed")
        dest = self.feed_dir / feed.dest
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            while True:
                result.attempts += 1
                try:
                    self._attempt(feed, url, dest, result)
                    break
                except _RetryableError as exc:
                    if result.attempts > self.settings.retries:
                        raise _FeedError(
                            f"{exc} (gave up after {result.attempts} attempts)"
                        ) from None
                    delay = self._delay(result.attempts, exc.retry_after)
                    if delay is None:
                        raise _FeedError(f"{exc}; the server asks to wait too long") from None
                    if self.cancel.wait(delay):
                        raise _CancelledError from None
        except _FeedError as exc:
            result.status = "failed"
            result.error = f"{exc} ({result.url})"
        except _CancelledError:
            result.status = "failed"
            result.error = "interrupted"
        except OSError as exc:  # the feed directory: full disk, permissions
            result.status = "failed"
            result.error = f"cannot write {dest}: {exc.strerror or exc}"
        if result.status == "failed" and dest.is_file():
            result.size = dest.stat().st_size
        result.seconds = time.monotonic() - t0
        return result

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        s = self.settings
        policy = RetryPolicy(s.retries, s.backoff, s.max_backoff, s.max_retry_after)
        return policy.delay(attempt, retry_after)

    def _attempt(self, feed: LiveFeed, url: str, dest: Path, result: FeedResult) -> None:
        key = _state_key(url)
        part = dest.with_name(dest.name + PART_SUFFIX)
        entry = self.state.get(key)
        # Content-Encoding would make byte ranges and stored bytes differ: ask for the bytes.
        headers = {"Accept-Encoding": "identity"}
        conditional = (
            entry is not None
            and entry.dest == feed.dest
            and dest.is_file()
            and entry.size == dest.stat().st_size
            and bool(entry.etag or entry.last_modified)
        )
        if conditional and entry is not None:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        offset = 0
        partial = entry.partial if entry is not None and entry.dest == feed.dest else None
        if part.is_file() and partial is not None:
            offset = part.stat().st_size
            if offset:
                headers["Range"] = f"bytes={offset}-"
                # Resume only onto the same representation (an ETag must be strong for that).
                if partial.etag and not partial.etag.startswith("W/"):
                    headers["If-Range"] = partial.etag
                elif partial.last_modified:
                    headers["If-Range"] = partial.last_modified
                else:
                    offset = 0
                    del headers["Range"]
        try:
            with self.client.stream("GET", url, headers=headers) as resp:
                self._receive(feed, url, dest, part, resp, offset, conditional, entry, result)
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timed out ({type(exc).__name__})") from None
        except httpx.TooManyRedirects:
            raise _FeedError("too many redirects") from None
        except httpx.TransportError as exc:
            raise _RetryableError(f"connection failed: {transport_reason(exc)}") from None
        except httpx.RequestError as exc:  # a body that does not decode
            raise _RetryableError(f"bad response: {transport_reason(exc)}") from None

    def _receive(
        self,
        feed: LiveFeed,
        url: str,
        dest: Path,
        part: Path,
        resp: httpx.Response,
        offset: int,
        conditional: bool,
        entry: _Entry | None,
        result: FeedResult,
    ) -> None:
        code = resp.status_code
        key = _state_key(url)
        if code == 304:
            if not conditional:
                raise _FeedError("HTTP 304 to a request that was not conditional")
            result.status = "not-modified"
            result.size = dest.stat().st_size
            if offset:  # a part of some other version: the complete file is current
                self._discard(part, key)
            return
        if code == 429 or code >= 500:
            raise _RetryableError(f"HTTP {code}", retry_after(resp.headers.get("Retry-After")))
        if code == 416 and offset:
            part.unlink(missing_ok=True)  # the part is longer than the file now: start over
            raise _RetryableError("HTTP 416 to a resumed download")
        if code not in (200, 206):
            raise _FeedError(f"HTTP {code}")
        total: int | None
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        # A .gz file announced as gzip-encoded (a common server setting) is kept as it is.
        encoded = encoding not in ("identity", "") and not (
            feed.kind == "gzip" and encoding in ("gzip", "x-gzip")
        )
        length = parse_int(resp.headers.get("Content-Length")) if not encoded else None
        if code == 206:
            crange = content_range(resp.headers.get("Content-Range"))
            if not offset or crange is None or crange[0] != offset:
                part.unlink(missing_ok=True)
                raise _RetryableError("HTTP 206 with an unexpected Content-Range")
            total = crange[1]
            result.resumed = True
        else:
            offset = 0
            total = length
        if total is not None and total > feed.max_bytes:
            raise _FeedError(f"{_mb(total)} is over the {_mb(feed.max_bytes)} limit for this feed")
        validators = _Validators(
            etag=resp.headers.get("ETag"), last_modified=resp.headers.get("Last-Modified")
        )
        resumable = not encoded and bool(validators.etag or validators.last_modified)
        base = entry or _Entry(dest=feed.dest)
        if base.dest != feed.dest:
            base = _Entry(dest=feed.dest)
        base.partial = validators if resumable else None
        self.state.put(key, base)
        received = offset
        with part.open("ab" if offset else "wb") as fh:
            stream: Iterator[bytes] = resp.iter_bytes(_CHUNK) if encoded else resp.iter_raw(_CHUNK)
            for chunk in stream:
                if self.cancel.is_set():
                    raise _CancelledError
                received += len(chunk)
                result.transferred += len(chunk)
                if received > feed.max_bytes:
                    fh.close()
                    self._discard(part, key)
                    raise _FeedError(f"over the {_mb(feed.max_bytes)} limit for this feed")
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if total is not None and received != total:
            raise _RetryableError(f"body ended after {received} of {total} bytes")
        if received == 0:
            self._discard(part, key)
            raise _FeedError("empty body")
        try:
            digest = _validate(part, feed)
        except _FeedError:
            self._discard(part, key)
            if result.resumed:  # the pieces may not belong together: once more from zero
                raise _RetryableError("the resumed file is corrupt") from None
            raise
        part.replace(dest)
        _fsync_dir(dest.parent)
        self.state.put(
            key,
            _Entry(
                dest=feed.dest,
                etag=validators.etag,
                last_modified=validators.last_modified,
                size=received,
                sha256=digest,
                fetched_at=_now(),
            ),
        )
        result.status = "downloaded"
        result.size = received

    def _discard(self, part: Path, key: str) -> None:
        part.unlink(missing_ok=True)
        entry = self.state.get(key)
        if entry is not None and entry.partial is not None:
            entry.partial = None
            self.state.put(key, entry)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- validation

GZIP_MAX_RATIO = 64  # a feed's gzip member never decompresses to more than this times its size


def _validate(path: Path, feed: LiveFeed) -> str:
    """Sanity check of a complete download by type; returns its sha256. Raises ``_FeedError``."""
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    kind = feed.kind
    if kind == "zip":
        try:
            with zipfile.ZipFile(path) as zf:
                zf.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise _FeedError(f"not a zip archive: {exc}") from None
    elif kind == "gzip":
        limit = max(path.stat().st_size * GZIP_MAX_RATIO, 64 * MiB)
        try:
            with gzip.open(path, "rb") as gz:
                _check_stream(gz, feed, limit)
        except (OSError, EOFError, zlib.error) as exc:
            raise _FeedError(f"not a complete gzip file: {exc}") from None
    else:
        try:
            msgspec.json.decode(path.read_bytes(), type=dict[str, msgspec.Raw] | list[msgspec.Raw])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise _FeedError(f"not a JSON document: {exc}") from None
    return sha.hexdigest()


def _check_stream(stream: gzip.GzipFile, feed: LiveFeed, limit: int) -> None:
    first = stream.read(1 << 16)
    if not first.strip():
        raise _FeedError("the gzip file holds no data")
    if feed.dest.endswith(".json.gz") and first.lstrip()[:1] not in (b"{", b"["):
        raise _FeedError("the gzip file does not hold JSON")
    total = len(first)
    while chunk := stream.read(1 << 20):
        total += len(chunk)
        if total > limit:
            raise _FeedError(f"decompresses to more than {_mb(limit)}")


# --------------------------------------------------------------------------- the whole update


@contextlib.contextmanager
def _feed_dir_lock(feed_dir: Path) -> Iterator[None]:
    """One update per feed directory at a time (``.part`` files and the state are shared)."""
    try:
        feed_dir.mkdir(parents=True, exist_ok=True)
        lock = (feed_dir / LOCK_FILE).open("a")
    except OSError as exc:
        raise UpdateError(f"feed directory {feed_dir}: {exc.strerror or exc}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UpdateError(
                f"{feed_dir}: another 'hullscan db update' is using this feed directory"
            ) from None
        yield


def download_feeds(
    feed_dir: Path,
    feeds: Sequence[LiveFeed],
    *,
    mirrors: Mirrors | None = None,
    settings: HttpSettings | None = None,
    progress: Callable[[FeedResult], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[FeedResult]:
    """Download ``feeds`` into ``feed_dir`` (in parallel); one result per feed, table order.

    Never raises for a feed that fails: its result says why. The caller holds the lock."""
    settings = settings or HttpSettings()
    mirrors = mirrors or Mirrors()
    state = _State(feed_dir / STATE_FILE)
    cancel = threading.Event()
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout + settings.read_timeout,
    )
    limits = httpx.Limits(max_connections=max(settings.jobs, 1) * 2)
    client = httpx.Client(
        timeout=timeout,
        limits=limits,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": settings.user_agent},
        transport=transport,
        trust_env=True,
    )
    results: dict[str, FeedResult] = {}
    with client, ThreadPoolExecutor(max_workers=max(settings.jobs, 1)) as pool:
        downloader = _Downloader(feed_dir, client, settings, state, cancel)
        pending: set[Future[FeedResult]] = {
            pool.submit(downloader.fetch, feed, mirrors.apply(feed.url)) for feed in feeds
        }
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    res = fut.result()
                    results[res.feed.name] = res
                    if progress:
                        progress(res)
        except BaseException:
            cancel.set()
            raise
    return [results[f.name] for f in feeds]


def update_db(
    feed_dir: Path,
    db_path: Path,
    *,
    feeds: Sequence[LiveFeed] | None = None,
    mirrors: Mirrors | None = None,
    settings: HttpSettings | None = None,
    keep_going: bool = False,
    sources: Sequence[SourceSpec] | None = None,
    progress: Callable[[FeedResult], None] | None = None,
    build_progress: Callable[[SourceStats], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> UpdateReport:
    """Download ``feeds`` (default: ``select_feeds()``) into ``feed_dir``, then build
    ``db_path`` from the whole feed directory with ``sources`` (default: the same table as
    ``hullscan db build``).

    A failed feed raises ``UpdateError`` before anything is built, unless ``keep_going``: then
    the DB is built from what the feed directory holds (files of failed feeds from earlier runs
    included) and the failures are in ``report.failed``. The build is atomic: on any error the
    previous DB is left as it was."""
    feeds = select_feeds() if feeds is None else list(feeds)
    if not feeds:
        raise UsageError("no feeds selected")
    if sources is None:
        from hullscan.vulndb.build.sources import default_sources

        sources = default_sources()
    with _feed_dir_lock(feed_dir):
        results = download_feeds(
            feed_dir,
            feeds,
            mirrors=mirrors,
            settings=settings,
            progress=progress,
            transport=transport,
        )
        report = UpdateReport(feed_dir=feed_dir, results=results)
        report.failed = [r for r in results if r.status == "failed"]
        if report.failed and not keep_going:
            raise UpdateError(_failure_line(report.failed, "the DB was not changed"))
        if not any((feed_dir / f.dest).is_file() for f in feeds):
            raise UpdateError(_failure_line(report.failed, "no feed data to build from"))
        try:
            report.build = build_db(feed_dir, db_path, sources, progress=build_progress)
        except OSError as exc:
            raise UpdateError(
                f"cannot build {db_path}: {exc.strerror or exc}; the DB was not changed"
            ) from None
        return report


def _failure_line(failed: Sequence[FeedResult], outcome: str) -> str:
    first = failed[0]
    more = f" (and {len(failed) - 1} more feed(s) failed)" if len(failed) > 1 else ""
    return f"feed {first.feed.name}: {first.error}{more}; {outcome}"
