"""Binary classifiers: the product and version of well-known software installed by hand or copied
into an image (``COPY openssl /usr/local/bin/``, ``make install`` into ``/usr/local``, a JDK
unpacked in ``/opt``), read from the bytes of the ELF file itself, with the evidence.

One classifier per product (the launcher of the JDK has a second), each a short list of
patterns. What each looks for was taken from real binaries (Debian bookworm packages, read with
``strings``); "gate" is what must also be in the file:

* ``openssl``: ``OPENSSL_VERSION_TEXT`` (``OpenSSL 3.0.11 19 Sep 2023``); gate: libcrypto's
  ``OPENSSLDIR: "`` (shared or linked in statically) or the ``openssl`` CLI's usage error.
  Programs built against the headers (``nginx -V``, ``mod_ssl.so``) carry the same text and are
  not OpenSSL. ``libssl.so.3`` has no version text at all (it asks libcrypto).
* ``python``: ``PY_VERSION`` as a lone string (``\x003.11.2\x00``) nearest ``Python %s``;
  screen ``PYTHONDONTWRITEBYTECODE``, gate ``_PyRuntime``/``Py_InitializeEx`` (interpreter and
  libpython); a ``pythonX.Y`` in the file name must agree.
* ``node``: ``node.js/v18.20.4`` (node, or Debian's libnode where the version lives).
* ``openjdk``: libjvm's banner ``OpenJDK 64-Bit Server VM (...) for linux-amd64 JRE
  (17.0.9+9)`` (the JRE's version: Java 8's VM version differs); the ``java`` launcher's
  ``\0openjdk\0java\0<dot>\0<version>\0``.
* ``busybox``: ``BusyBox v1.36.1``. ``bash``: ``@(#)Bash version 5.2.15(1) release``.
* ``curl``: the CLI's ``curl 8.4.0 (x86_64-pc-linux-gnu) %s``; ``libcurl``: ``libcurl/8.4.0``
  (a static curl is ``curl`` only).
* ``nginx``: ``nginx version: nginx/1.25.3``.
* ``httpd``: ``Apache/2.4.58``; screen ``Server built:`` (modules carry the version too).
* ``redis``: ``REDIS_VERSION`` as a lone string nearest ``redis_version:``; screen ``Redis
  server v=`` (redis-server and its aliases redis-check-rdb/aof, not redis-cli).
* ``postgresql``: ``PG_VERSION_STR`` (``PostgreSQL 16.1 on x86_64-pc-linux-gnu, compiled by
  ...``); screen ``postgres (PostgreSQL)``: the server, not psql or initdb.
* ``mariadb``: ``10.11.6-MariaDB``; screen ``Starts the MariaDB database server`` (mariadbd, not
  the client tools and libraries with the same string).
* ``sqlite``: the exported ``sqlite3_version`` symbol (through the ELF hash table); without it
  (static builds: fossil, cgo programs), the lone ``3.x.y`` nearest ``SQLITE_SOURCE_ID``
  (``2023-02-21 18:09:37 05941c2a...``, found with a bounded regex: it has no fixed text);
  screen ``sqlite_source_id``. Debian's ``sqlite3`` shell links libsqlite3: nothing of its own.
* ``zlib``: ``deflate 1.2.13 Copyright 1995-`` / ``inflate ...`` (zlib's own code, also when
  bundled: node, the JDK, gRPC).
* ``glibc``: ``GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36`` (libc.so.6),
  ``ld.so (...) stable release version 2.36`` (the dynamic loader).

MySQL (Oracle's ``mysqld``) has no classifier yet: no real ``mysqld`` binary was at hand to take
the pattern from (Debian ships MariaDB).

Cost: every executable of at least 64 KiB is offered (``Interests.executables``), plus shared
libraries by name (Debian installs them without an x bit). Non-ELF files stop at the magic.
Then each classifier costs one ``bytes.find`` of its screen, a long literal (``bytes.find``
skips faster on those) that every build of the product has; the rest runs only on files that
have it. Each pattern's anchor is found with ``bytes.find`` (the SQLite source id with a regex
without nested repeats), and its regex runs only on a bounded window around each of at most
``max_hits`` hits (``re`` ``pos``/``endpos``, no copy): the work stays linear in the file size,
also on hostile files made of repeated pattern prefixes. Measured: ~5 ms per MB of ELF without
a match (47 MB libnode: 0.2 s).

One file gives one package per product. Several products come from one file only when each
one's own code is in it (Debian's libnode: node and a bundled zlib; NodeSource's node: node and
OpenSSL), and ``suppressed_by`` keeps one name per product family.

Packages: type ``generic``, purl ``pkg:generic/<product>@<version>``, ``found_by`` this
analyzer, one per file (a file reached through symlinks counts once). The record also carries
CPE 2.3 names of the upstream product (``cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*``).
These are upstream identities: matching them against advisories needs CPE-based data (NVD
configurations), which the vulnerability DB does not hold yet. A file an OS package owns
(Debian's ``/usr/bin/openssl``) is found here too; dropping those (the package database
reports them, with the distro's patched version) is the integrator's ownership filter.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec
from packageurl import PackageURL

from hullscan.analyzers.base import (
    EXEC_MIN_SIZE,
    AnalyzedFile,
    Analyzer,
    AssembleContext,
    Assembly,
    Interests,
    unique_files,
)
from hullscan.analyzers.lang.elf import ElfImage
from hullscan.errors import ParseError
from hullscan.model import BinaryMeta

ELF_MAGIC = b"\x7fELF"
MAX_FILE_SIZE = 512 * 1024 * 1024  # as the Go and Rust analyzers (same files offered)
MAX_HITS = 4096  # occurrences of one anchor examined
EVIDENCE_MAX = 160
_VERSION_OK = re.compile(r"[0-9][0-9A-Za-z.+_~-]{0,63}\Z")


class BinaryMatch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One product found in a file. ``evidence`` is the text matched (escaped, truncated),
    ``offset`` where the version string sits in the file, ``method`` how it was found
    (``pattern``, ``nearest``, ``symbol``)."""

    product: str
    version: str
    cpes: tuple[str, ...] = ()
    evidence: str = ""
    offset: int = 0
    method: str = "pattern"


class BinaryRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["binary", "ignored"]
    path: str = ""
    matches: tuple[BinaryMatch, ...] = ()


_IGNORED = BinaryRecord(kind="ignored")


# --------------------------------------------------------------------------- classifiers


@dataclass(frozen=True, slots=True)
class Pattern:
    """``anchor`` (a literal) is located with ``bytes.find`` (or, for the rare anchor that has
    no fixed text, with ``anchor_regex``, a bounded regex without nested repeats);
    ``regex`` (group ``version``) then runs on ``[hit - before, hit end + after)``: ``match``
    at the hit when ``before`` is 0, else ``search`` in the window. At most ``max_hits``
    hits are looked at. ``mode``:

    * ``pattern``: the first match wins;
    * ``nearest``: of the matches in the windows of all the hits, the one closest to its hit
      (a version kept as a lone string, which the linker places near the strings of the code
      that uses it: ``REDIS_VERSION`` near the ``INFO`` fields).
    """

    anchor: bytes
    regex: re.Pattern[bytes]
    before: int = 0
    after: int = 256
    mode: Literal["pattern", "nearest"] = "pattern"
    max_hits: int = MAX_HITS
    anchor_regex: re.Pattern[bytes] | None = None


def _plain_cpe_version(version: str) -> tuple[str, str]:
    """(CPE version, CPE update): the leading dotted number (plus a letter, OpenSSL's
    ``1.1.1w``), the rest dropped (``7.88.1-DEV``, ``1.3.0.1-motley``)."""
    m = re.match(r"\d+(?:\.\d+)*[a-z]?", version)
    return (m.group(0) if m else version), "*"


def _python_cpe_version(version: str) -> tuple[str, str]:
    """``3.12.0rc1`` -> (``3.12.0``, ``rc1``): NVD puts pre-releases in the update field."""
    m = re.match(r"(\d+(?:\.\d+)*)((?:a|b|rc)\d+)?", version)
    if not m:
        return version, "*"
    return m.group(1), m.group(2) or "*"


def _java_cpe_version(version: str) -> tuple[str, str]:
    """``17.0.9+9`` -> ``17.0.9``; ``1.8.0_392-b08`` -> (``1.8.0``, ``update392``)."""
    m = re.match(r"(\d+(?:\.\d+)*)(?:_(\d+))?", version)
    if not m:
        return version, "*"
    return m.group(1), f"update{m.group(2)}" if m.group(2) else "*"


@dataclass(frozen=True, slots=True)
class Classifier:
    """How to recognise one product. ``requires``: at least one of these literals must be in
    the file (the product's own code is there, not just a header's version text).
    ``symbol``: an exported ELF data symbol holding the version string (tried first).
    ``name_version``: a ``major.minor`` the file name states (``libpython3.11.so.1.0``); a
    version that disagrees is not taken. ``suppressed_by``: products that, found in the same
    file, stand for this one too. ``screen``: the one literal looked for first in every file
    offered (default: the patterns' anchors); nothing else is done on a file without it. It
    costs one ``bytes.find`` over every executable of the image, so it is a long literal
    (``bytes.find`` skips faster) that every build of the product has. ``names``: only files
    with one of these base names. A product may have several classifiers: the first that
    matches gives it."""

    product: str
    cpes: tuple[tuple[str, str], ...]
    patterns: tuple[Pattern, ...]
    requires: tuple[bytes, ...] = ()
    screen: bytes = b""
    names: tuple[str, ...] = ()
    symbol: str = ""
    name_version: re.Pattern[str] | None = None
    suppressed_by: tuple[str, ...] = ()
    cpe_version: Callable[[str], tuple[str, str]] = _plain_cpe_version


def _rx(pattern: bytes) -> re.Pattern[bytes]:
    return re.compile(pattern)


_LONE_VERSION = rb"(?<=\x00)(?P<version>\d{1,2}\.\d{1,2}\.\d{1,3})(?=\x00)"

CLASSIFIERS: tuple[Classifier, ...] = (
    Classifier(
        product="openjdk",
        cpes=(("oracle", "openjdk"),),
        patterns=(
            # libjvm.so: "OpenJDK 64-Bit Server VM (17.0.9+9) for linux-amd64 JRE (17.0.9+9),
            # built on ..." (Java 8: "VM (25.392-b08) ... JRE (1.8.0_392-b08)": the JRE's).
            Pattern(
                b"JRE (",
                _rx(
                    rb"OpenJDK [\w -]{0,60}VM \([^()\x00]{1,100}\) for [\w.-]{1,40} JRE \("
                    rb"(?P<version>\d+(?:\.\d+){0,4}(?:_\d+)?(?:\+\d+|-b\d+)?)[^()\x00]{0,80}\)"
                ),
                before=220,
                after=100,
            ),
        ),
        screen=b"UnlockDiagnosticVMOptions",  # a HotSpot flag: in every libjvm
        cpe_version=_java_cpe_version,
    ),
    Classifier(
        product="openjdk",
        cpes=(("oracle", "openjdk"),),
        patterns=(
            # the java launcher: "\0openjdk\0java\0<dot version>\0<version string>\0"
            Pattern(
                b"\x00openjdk\x00java\x00",
                _rx(
                    rb"\x00openjdk\x00java\x00[0-9.]{1,20}\x00"
                    rb"(?P<version>\d+(?:\.\d+){0,4}(?:_\d+)?(?:\+\d+|-b\d+)?)[^\x00]{0,80}\x00"
                ),
                after=120,
            ),
        ),
        names=("java",),
        cpe_version=_java_cpe_version,
    ),
    Classifier(
        product="node",
        cpes=(("nodejs", "node.js"),),
        patterns=(Pattern(b"node.js/v", _rx(rb"node\.js/v(?P<version>\d+\.\d+\.\d+)"), after=16),),
    ),
    Classifier(
        product="python",
        cpes=(("python", "python"),),
        patterns=(
            Pattern(
                b"Python %s",
                _rx(
                    rb"(?<=\x00)(?P<version>[23]\.\d{1,2}\.\d{1,2}(?:(?:a|b|rc)\d{1,2})?\+?)"
                    rb"(?=\x00)"
                ),
                before=4096,
                after=4096,
                mode="nearest",
                max_hits=16,
            ),
        ),
        requires=(b"_PyRuntime", b"Py_InitializeEx"),
        screen=b"PYTHONDONTWRITEBYTECODE",  # read by the interpreter's start-up code
        name_version=re.compile(r"python(\d\.\d{1,2})"),
        cpe_version=_python_cpe_version,
    ),
    Classifier(
        product="postgresql",
        cpes=(("postgresql", "postgresql"),),
        patterns=(
            # PG_VERSION_STR, the server's version(): only the postgres binary has it.
            Pattern(
                b", compiled by ",
                _rx(
                    rb"PostgreSQL (?P<version>\d+(?:\.\d+){0,2}(?:(?:beta|rc)\d{1,2})?)"
                    rb"(?: \([^()\x00]{1,80}\))? on [\w.-]{1,80}, compiled by "
                ),
                before=200,
            ),
        ),
        screen=b"postgres (PostgreSQL) ",  # postgres --version: not psql, not initdb
    ),
    Classifier(
        product="mariadb",
        cpes=(("mariadb", "mariadb"),),
        patterns=(
            Pattern(
                b"-MariaDB",
                _rx(rb"(?<=\x00)(?P<version>\d{1,2}\.\d{1,2}\.\d{1,3})-MariaDB"),
                before=12,
                after=0,
            ),
        ),
        # the server, not the client tools and libraries that carry the same version string
        screen=b"Starts the MariaDB database server",
    ),
    Classifier(
        product="redis",
        cpes=(("redis", "redis"), ("redislabs", "redis")),
        patterns=(
            Pattern(
                b"redis_version:",
                _rx(_LONE_VERSION),
                before=65536,
                after=65536,
                mode="nearest",
                max_hits=4,
            ),
        ),
        requires=(b"Redis server v=",),  # redis-server --version: not redis-cli/benchmark
    ),
    Classifier(
        product="nginx",
        cpes=(("f5", "nginx"), ("nginx", "nginx")),
        patterns=(
            Pattern(
                b"nginx version: nginx/",
                _rx(rb"nginx version: nginx/(?P<version>\d+\.\d+\.\d+)"),
                after=16,
            ),
        ),
    ),
    Classifier(
        product="httpd",
        cpes=(("apache", "http_server"),),
        patterns=(
            Pattern(b"Apache/", _rx(rb"Apache/(?P<version>\d+\.\d+\.\d+)(?=[\x00 ])"), after=16),
        ),
        screen=b"Server built:   ",  # httpd -v; modules carry "Apache/x.y.z" too
    ),
    Classifier(
        product="busybox",
        cpes=(("busybox", "busybox"),),
        patterns=(
            Pattern(b"BusyBox v", _rx(rb"BusyBox v(?P<version>\d+\.\d+(?:\.\d+)?)"), after=16),
        ),
    ),
    Classifier(
        product="bash",
        cpes=(("gnu", "bash"),),
        patterns=(
            Pattern(
                b"@(#)Bash version ",
                _rx(rb"@\(#\)Bash version (?P<version>\d+\.\d+(?:\.\d+)?)\(\d+\) [\w -]{0,20}"),
                after=48,
            ),
        ),
    ),
    Classifier(
        product="curl",
        cpes=(("haxx", "curl"),),
        patterns=(
            # the first line of curl --version: "curl 8.4.0 (x86_64-pc-linux-gnu) %s"
            Pattern(
                b"curl ",
                _rx(rb"curl (?P<version>\d+\.\d+\.\d+(?:-DEV)?) \([\w.-]{1,64}\) "),
                after=96,
            ),
        ),
        screen=b"Usage: curl [options...] <url>",
    ),
    Classifier(
        product="libcurl",
        cpes=(("haxx", "libcurl"), ("haxx", "curl")),
        patterns=(
            Pattern(
                b"libcurl/",
                _rx(rb"(?<=\x00)libcurl/(?P<version>\d+\.\d+\.\d+(?:-DEV)?)\x00"),
                after=24,
            ),
        ),
        screen=b"A libcurl function was given a bad argument",  # curl_easy_strerror
        suppressed_by=("curl",),
    ),
    Classifier(
        product="glibc",
        cpes=(("gnu", "glibc"),),
        patterns=(
            Pattern(
                b" release version ",
                _rx(
                    rb"(?:GNU C Library|ld\.so)(?: \([^()\x00\n]{1,80}\))? "
                    rb"(?:stable |development )?release version (?P<version>\d+\.\d+(?:\.\d+)?)"
                ),
                before=140,
                after=16,
            ),
        ),
    ),
    Classifier(
        product="openssl",
        cpes=(("openssl", "openssl"),),
        patterns=(
            Pattern(
                b"OpenSSL ",
                _rx(
                    rb"OpenSSL (?P<version>\d+\.\d+\.\d+[a-z]{0,2}(?:-(?:alpha|beta|pre)\d{0,2})?)"
                    rb"(?:\+quic)?(?:-fips)? {1,2}\d{1,2} [A-Z][a-z]{2} \d{4}"
                ),
                after=48,
            ),
        ),
        # OPENSSL_VERSION_TEXT is in every program built against the headers (nginx -V,
        # mod_ssl): count only libcrypto's code (static or shared) and the openssl CLI.
        requires=(
            b'OPENSSLDIR: "',
            b"Invalid command '%s'; type \"help\" for a list.",
            b"openssl:Error: '%s' is an invalid command.",
        ),
    ),
    Classifier(
        product="sqlite",
        cpes=(("sqlite", "sqlite"),),
        patterns=(
            # No exported symbol (static builds: fossil, Go programs with cgo SQLite): the
            # lone version string nearest SQLITE_SOURCE_ID ("2023-02-21 18:09:37 05941c2a...").
            Pattern(
                b"",
                _rx(rb"(?<![0-9.])(?P<version>3\.\d{1,2}\.\d{1,2})(?=\x00)"),
                before=4096,
                after=4096,
                mode="nearest",
                max_hits=8,
                anchor_regex=_rx(rb"20\d\d-[01]\d-[0-3]\d [0-2]\d:[0-5]\d:[0-5]\d [0-9a-f]{40}"),
            ),
        ),
        screen=b"sqlite_source_id",  # the SQL function's name: in every build of SQLite
        symbol="sqlite3_version",
    ),
    Classifier(
        product="zlib",
        cpes=(("zlib", "zlib"),),
        patterns=(
            Pattern(
                b" Copyright 1995-",
                _rx(
                    rb"(?:de|in)flate (?P<version>\d+\.\d+(?:\.\d+){0,2}(?:-motley)?)"
                    rb" Copyright 1995-\d{4} (?:Jean-loup Gailly|Mark Adler)"
                ),
                before=40,
                after=40,
            ),
        ),
    ),
)

SUPPRESSED_BY = {c.product: c.suppressed_by for c in CLASSIFIERS if c.suppressed_by}


# --------------------------------------------------------------------------- matching


def _printable(raw: bytes) -> str:
    text = "".join(chr(b) if 0x20 <= b < 0x7F else "\\0" if b == 0 else f"\\x{b:02x}" for b in raw)
    return text if len(text) <= EVIDENCE_MAX else text[: EVIDENCE_MAX - 3] + "..."


def _version_text(m: re.Match[bytes]) -> str | None:
    version = m.group("version").decode("ascii", "replace")
    return version if _VERSION_OK.match(version) else None


@dataclass(frozen=True, slots=True)
class _Found:
    version: str
    evidence: str
    offset: int
    method: str


def _hits(data: bytes, pat: Pattern) -> Iterator[tuple[int, int]]:
    """(start, end) of the anchor's first ``max_hits`` occurrences."""
    if pat.anchor_regex is not None:
        for n, m in enumerate(pat.anchor_regex.finditer(data)):
            if n >= pat.max_hits:
                return
            yield m.start(), m.end()
        return
    start = 0
    for _ in range(pat.max_hits):
        pos = data.find(pat.anchor, start)
        if pos < 0:
            return
        start = pos + 1
        yield pos, pos + len(pat.anchor)


def _run_pattern(data: bytes, pat: Pattern, accept: Callable[[str], bool]) -> _Found | None:
    if pat.mode == "nearest":
        return _nearest(data, pat, accept)
    for pos, end in _hits(data, pat):
        hi = min(len(data), end + pat.after)
        if pat.before == 0:
            m = pat.regex.match(data, pos, hi)
        else:
            m = pat.regex.search(data, max(0, pos - pat.before), hi)
        if m is None:
            continue
        version = _version_text(m)
        if version is not None and accept(version):
            return _Found(version, _printable(m.group(0)), m.start("version"), "pattern")
    return None


def _nearest(data: bytes, pat: Pattern, accept: Callable[[str], bool]) -> _Found | None:
    best: tuple[int, int, int, re.Match[bytes], str] | None = None  # distance, hit, match...
    for pos, end in _hits(data, pat):
        lo = max(0, pos - pat.before)
        hi = min(len(data), end + pat.after)
        for m in pat.regex.finditer(data, lo, hi):
            version = _version_text(m)
            if version is None or not accept(version):
                continue
            distance = abs(m.start() - pos)
            if best is None or distance < best[0]:
                best = (distance, pos, end, m, version)
    if best is None:
        return None
    distance, pos, end, m, version = best
    first, last = min(m.start(), pos), max(m.end(), end)
    if last - first <= EVIDENCE_MAX:
        evidence = _printable(data[first:last])
    else:
        anchor = _printable(data[pos : min(end, pos + 64)])
        evidence = f"{_printable(m.group(0))} ({distance} bytes from {anchor})"[:EVIDENCE_MAX]
    return _Found(version, evidence, m.start("version"), "nearest")


def _symbol_string(data: bytes, symbol: str) -> tuple[str, int] | None:
    """The NUL-terminated string an exported data symbol points at, through the ELF hash
    table (no walk over every symbol); None when the file does not export it."""
    from elftools.elf.elffile import ELFFile

    try:
        elf = ElfImage(data)
        ef = ELFFile(io.BytesIO(data))
        sym = None
        for name in (".gnu.hash", ".hash"):
            table = ef.get_section_by_name(name)
            if table is not None and hasattr(table, "get_symbol"):
                sym = table.get_symbol(symbol)
                if sym is not None:
                    break
        if sym is None or sym["st_shndx"] == "SHN_UNDEF":
            return None
        addr, size = int(sym["st_value"]), int(sym["st_size"])
        if not 0 < size <= 64:
            return None
        raw = elf.read(addr, size).split(b"\0", 1)[0]
        offset = next((off + addr - va for va, off, fs, _ in elf.loads if va <= addr < va + fs), -1)
    except ParseError:
        return None
    except Exception:  # pyelftools/construct errors on a hostile file: no symbol, go on
        return None
    version = raw.decode("ascii", "replace")
    return (version, offset) if _VERSION_OK.match(version) else None


def classify(path: str, data: bytes) -> tuple[BinaryMatch, ...]:
    """Every product whose classifier matches the ELF file ``data`` (at ``path``)."""
    if not data.startswith(ELF_MAGIC):
        return ()
    base = path.rsplit("/", 1)[-1]
    found: dict[str, BinaryMatch] = {}
    for c in CLASSIFIERS:
        if c.product in found or (c.names and base not in c.names):
            continue
        if c.screen:
            if c.screen not in data:
                continue
        elif not any(p.anchor in data for p in c.patterns):
            continue
        if c.requires and not any(r in data for r in c.requires):
            continue
        match = _classify_one(c, base, data)
        if match is not None:
            found[c.product] = match
    return tuple(
        m for m in found.values() if not any(p in found for p in SUPPRESSED_BY.get(m.product, ()))
    )


def _classify_one(c: Classifier, base: str, data: bytes) -> BinaryMatch | None:
    wanted = ""
    if c.name_version is not None:
        hint = c.name_version.search(base)
        wanted = hint.group(1) + "." if hint else ""

    def accept(version: str) -> bool:
        return not wanted or version.startswith(wanted)

    found: _Found | None = None
    if c.symbol and c.symbol.encode() in data:
        sym = _symbol_string(data, c.symbol)
        if sym is not None and accept(sym[0]):
            evidence = f"{c.symbol} = {_printable(sym[0].encode())}"
            found = _Found(sym[0], evidence, sym[1], "symbol")
    for pat in c.patterns:
        if found is not None:
            break
        found = _run_pattern(data, pat, accept)
    if found is None:
        return None
    return BinaryMatch(
        product=c.product,
        version=found.version,
        cpes=tuple(cpe23(v, p, *c.cpe_version(found.version)) for v, p in c.cpes),
        evidence=found.evidence,
        offset=found.offset,
        method=found.method,
    )


# --------------------------------------------------------------------------- identities

_CPE_SAFE = re.compile(r"[A-Za-z0-9._-]")


def _cpe_escape(value: str) -> str:
    if value == "*":
        return value
    return "".join(ch if _CPE_SAFE.match(ch) else "\\" + ch for ch in value.lower())


def cpe23(vendor: str, product: str, version: str, update: str = "*") -> str:
    """A CPE 2.3 formatted string for an application (part ``a``)."""
    # part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other
    fields = [vendor, product, version, update, "*", "*", "*", "*", "*", "*"]
    return "cpe:2.3:a:" + ":".join(_cpe_escape(f) for f in fields)


def generic_purl(product: str, version: str) -> str:
    purl: str = PackageURL(type="generic", name=product, version=version).to_string()
    return purl


# --------------------------------------------------------------------------- analyzer

#: Shared libraries by name: Debian (and most distros) install them without an x bit, so
#: ``executables`` alone would miss them. Real files carry the full version in their name
#: (``libz.so.1.2.13``, pre-2.34 glibc's ``libc-2.31.so``), so these are name prefixes, checked
#: in ``wants``: as ``**/libz.so*`` globs they would cost every path of the image ~3 us in the
#: dispatch regex, against ~0.3 us for one ``str.startswith``. The symlinks to them
#: (``libz.so.1``) are wanted too and count once (``unique_files``).
LIBRARY_PREFIXES = (
    "libssl.so",
    "libcrypto.so",
    "libcurl.so",
    "libcurl-gnutls.so",
    "libz.so",
    "libsqlite3.so",
    "libpython",
    "libnode.so",
    "libc-2.",
    "ld-2.",
)
BASENAMES = (
    "libc.so.6",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "ld-linux-armhf.so.3",
    "ld-linux.so.2",
    "ld64.so.2",
    "libjvm.so",
    "java",  # the launcher is ~15 KiB: under the executables' size floor
)


class BinaryClassifierAnalyzer(Analyzer):
    """Well-known programs and libraries identified from their bytes."""

    name = "lang/binary"
    version = 1
    interests = Interests(executables=True, basenames=BASENAMES)
    max_file_size = MAX_FILE_SIZE
    record_type = BinaryRecord

    wants_min_size = EXEC_MIN_SIZE  # every library of interest is far larger

    def wants(self, path: str, size: int) -> bool:
        base = path[path.rfind("/") + 1 :]
        return base.startswith(LIBRARY_PREFIXES) and ".so" in base

    def analyze_file(self, path: str, data: bytes) -> BinaryRecord:
        matches = classify(path, data)
        if not matches:
            return _IGNORED
        return BinaryRecord(kind="binary", path=path, matches=matches)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):
            rec = f.record
            if not isinstance(rec, BinaryRecord) or rec.kind != "binary":
                continue
            for m in rec.matches:
                out.packages.append(
                    self.package_at(
                        f,
                        name=m.product,
                        version=m.version,
                        type="generic",
                        purl=generic_purl(m.product, m.version),
                        metadata=BinaryMeta(
                            evidence=m.evidence, offset=m.offset, method=m.method, cpes=m.cpes
                        ),
                    )
                )
        return out
