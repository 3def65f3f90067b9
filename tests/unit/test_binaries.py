"""BinaryClassifierAnalyzer on REAL programs and libraries from Debian bookworm packages.

The files (``apt-get download`` + ``dpkg-deb -x``, only the files the tests read kept) are cached
in ``/var/tmp/hullscan-fixtures/binaries/v1`` (``$HULLSCAN_FIXTURE_CACHE``); a test skips with
the reason when that cache is absent and the packages cannot be downloaded.

Two oracles, independent of the classifier:

1. the Debian package's upstream version (``<Package>_<Version>_<Arch>.deb``: epoch, Debian
   revision and ``+dfsg``-style repack suffixes removed) must equal the version found;
2. the trusted Debian binary itself, run here with a timeout (never image content): its
   ``--version`` (``openssl version``, ``nginx -v``, ``redis-server --version``...), a CLI
   linked against the cached library (``curl --version`` prints ``libcurl/x``, ``sqlite3
   --version`` the library's version), ``ld.so --version``, ``libc.so.6`` run through ld.so,
   or the library's own version function called with ctypes in a child process
   (``zlibVersion``, ``Py_GetVersion``). The JVM cannot run without its 100 MB module image:
   the JDK's ``release`` file from the same package is its second oracle.

Also: files that only print a product's compile-time version (``nginx -V`` embeds
``OpenSSL 3.0.x``; ``mod_ssl.so`` ``Apache/2.4.x``; ``mariadb-upgrade``, ``redis-cli``,
``initdb`` the server's version) give nothing for it; hostile inputs; a hypothesis fuzz.
"""

from __future__ import annotations

import fnmatch
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.base import AnalyzedFile, AssembleContext
from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.lang import binaries
from hullscan.analyzers.lang.binaries import (
    CLASSIFIERS,
    BinaryClassifierAnalyzer,
    BinaryRecord,
    classify,
    cpe23,
    generic_purl,
)
from hullscan.errors import ParseError
from tests.unit import debfixtures
from tests.unit.osfixtures import LAYER, analyze, assemble

BINARY = BinaryClassifierAnalyzer()
CACHE = debfixtures.CACHE.parent / "binaries" / "v1"
RUN_TIMEOUT = 30


@dataclass(frozen=True)
class Case:
    """One real file: the Debian package and the path (a glob) in it, the products the
    classifier must find there (``()``: none), and how to get the version at run time."""

    id: str
    deb: str
    glob: str
    products: tuple[str, ...]
    # argv of the runtime oracle: "@self" is this file ("@self:name" a symlink to it called
    # name), "@<glob>" another cached file; a regex takes the version from the output.
    argv: tuple[str, ...] = ()
    rx: str = ""
    ctypes_call: str = ""  # or: this library's function returning the version (char *)
    lib_path: bool = True  # run with the cached libraries on LD_LIBRARY_PATH
    debian_oracle: bool = True  # the package version is this product's (not an embedded one)


CASES = (
    Case("openssl-cli", "openssl", "usr/bin/openssl", ("openssl",),
         ("@self", "version"), r"^OpenSSL (\S+) "),
    Case("libcrypto", "libssl3", "usr/lib/*/libcrypto.so.3", ("openssl",),
         ("@usr/bin/openssl", "version"), r"\(Library: OpenSSL (\S+) "),
    Case("curl-cli", "curl", "usr/bin/curl", ("curl",), ("@self", "--version"), r"^curl (\S+) "),
    Case("libcurl", "libcurl4", "usr/lib/*/libcurl.so.4.*", ("libcurl",),
         ("@usr/bin/curl", "--version"), r" libcurl/(\S+) "),
    Case("nginx", "nginx", "usr/sbin/nginx", ("nginx",), ("@self", "-v"),
         r"nginx version: nginx/(\S+)"),
    Case("httpd", "apache2-bin", "usr/sbin/apache2", ("httpd",), ("@self", "-v"),
         r"Server version: Apache/(\S+) "),
    Case("redis-server", "redis-tools", "usr/bin/redis-check-rdb", ("redis",),
         ("@self:redis-server", "--version"), r"Redis server v=(\S+) "),
    Case("postgres", "postgresql-15", "usr/lib/postgresql/15/bin/postgres", ("postgresql",),
         ("@self", "--version"), r"\(PostgreSQL\) (\d[\d.]*)"),
    Case("mariadbd", "mariadb-server-core", "usr/sbin/mariadbd", ("mariadb",),
         ("@self", "--version"), r" Ver (\d+\.\d+\.\d+)-MariaDB"),
    Case("bash", "bash", "bin/bash", ("bash",), ("@self", "--version"),
         r"GNU bash, version (\d+\.\d+\.\d+)\("),
    Case("busybox", "busybox", "bin/busybox", ("busybox",), ("@self",), r"BusyBox v(\S+) "),
    Case("libsqlite3", "libsqlite3-0", "usr/lib/*/libsqlite3.so.0.*", ("sqlite",),
         ("@usr/bin/sqlite3", "--version"), r"^(\d+\.\d+\.\d+) "),
    # fossil links SQLite statically (no exported symbol): found next to SQLITE_SOURCE_ID
    Case("fossil-static-sqlite", "fossil", "usr/bin/fossil", ("sqlite",),
         ("@self", "version", "-v"), r"(?m)^SQLite (\d+\.\d+\.\d+) ", debian_oracle=False),
    Case("zlib", "zlib1g", "lib/*/libz.so.1.*", ("zlib",), ctypes_call="zlibVersion"),
    Case("glibc-libc", "libc6", "lib/*/libc.so.6", ("glibc",),
         ("@lib/*/ld-linux*.so.*", "--library-path", "@dir", "@self"),
         r"release version (\d+\.\d+)", lib_path=False),
    Case("glibc-ld.so", "libc6", "lib/*/ld-linux*.so.*", ("glibc",), ("@self", "--version"),
         r"release version (\d+\.\d+)", lib_path=False),
    Case("libnode", "libnode108", "usr/lib/*/libnode.so.*", ("node", "zlib"),
         ("@usr/bin/node", "--version"), r"^v(\S+)"),
    Case("python-interpreter", "python3.11-minimal", "usr/bin/python3.11", ("python",),
         ("@self", "--version"), r"^Python (\S+)"),
    Case("libpython", "libpython3.11", "usr/lib/*/libpython3.11.so.1.0", ("python",),
         ctypes_call="Py_GetVersion"),
    Case("libjvm", "openjdk-17-jre-headless", "usr/lib/jvm/*/lib/server/libjvm.so", ("openjdk",)),
    Case("java-launcher", "openjdk-17-jre-headless", "usr/lib/jvm/*/bin/java", ("openjdk",)),
    # Real files that must give nothing: no version text of their own (libssl 3 asks libcrypto;
    # Debian's sqlite3 shell links libsqlite3), or only a compile-time copy of another
    # product's version string (the gates).
    Case("libssl-no-version", "libssl3", "usr/lib/*/libssl.so.3", ()),
    Case("sqlite3-shell-dynamic", "sqlite3", "usr/bin/sqlite3", ()),
    Case("mod_ssl-not-httpd-not-openssl", "apache2-bin", "usr/lib/apache2/modules/mod_ssl.so", ()),
    Case("mariadb-upgrade-not-server", "mariadb-server-core", "usr/bin/mariadb-upgrade", ()),
    Case("redis-cli-not-server", "redis-tools", "usr/bin/redis-cli", ()),
    Case("initdb-not-server", "postgresql-15", "usr/lib/postgresql/15/bin/initdb", ()),
)  # fmt: skip

PRODUCT_DEBS = tuple(dict.fromkeys(c.deb for c in CASES))
# Only what the runtime oracles need to start (shared libraries the host may lack).
RUNTIME_DEBS = (
    "libapr1", "libaprutil1", "liblzf1", "libjemalloc2", "liburing2", "libaio1",
    "libc-ares2", "libfuse2", "libtcl8.6",
)  # fmt: skip
RUNTIME_LIBS = (
    "libapr-1.so*", "libaprutil-1.so*", "liblzf.so*", "libjemalloc.so*", "liburing.so*",
    "libaio.so*", "libcares.so*", "libfuse.so*", "libtcl8.6.so*", "libssl.so*", "libcurl.so*",
    "libsqlite3.so*", "libnode.so*", "libcrypto.so*",
)  # fmt: skip
KEEP_GLOBS = (
    *(c.glob for c in CASES),
    "usr/bin/node",
    "usr/lib/jvm/*/release",
    *(f"usr/lib/*/{lib}" for lib in RUNTIME_LIBS),
    *(f"lib/*/{lib}" for lib in RUNTIME_LIBS),
)


# --------------------------------------------------------------------------- the cache


def _libnode_debian_version() -> str | None:
    """The candidate version of libnode108, to download Debian's node of the same build (a
    host may have another vendor's nodejs installed as the candidate)."""
    r = debfixtures.run(["apt-cache", "show", "--no-all-versions", "libnode108"], timeout=60)
    m = re.search(r"(?m)^Version: (\S+)", r.stdout)
    return m.group(1) if m else None


def _build(staging: Path) -> None:
    def keep(p: Path) -> bool:
        rel = p.relative_to(staging / "root").as_posix()
        return any(fnmatch.fnmatch(rel, g) for g in KEEP_GLOBS)

    def fetch() -> None:
        node = _libnode_debian_version()
        packages = (*PRODUCT_DEBS, *RUNTIME_DEBS, *([f"nodejs={node}"] if node else []))
        debfixtures.extract_debs(staging, packages, keep, must="libssl3")

    try:
        fetch()
    except RuntimeError:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            raise
        debfixtures.run(["apt-get", "update"], timeout=600)  # stale or absent apt lists
        for leftover in ("download", "root"):
            shutil.rmtree(staging / leftover, ignore_errors=True)
        fetch()
    # The runtime oracles' libraries get a directory of their own (relative symlinks into
    # root/), so LD_LIBRARY_PATH never brings in the cached libc.so.6, which lives next to
    # libz and libfuse in lib/<triplet>.
    rtlib = staging / "rtlib"
    rtlib.mkdir()
    root = staging / "root"
    for p in sorted(root.glob("*lib/*/*.so*")) + sorted(root.glob("usr/lib/*/*.so*")):
        if any(fnmatch.fnmatch(p.name, lib) for lib in RUNTIME_LIBS):
            dest = rtlib / p.name
            if not (dest.exists() or dest.is_symlink()):
                dest.symlink_to(os.path.relpath(p, rtlib))


@pytest.fixture(scope="module")
def cache() -> Path:
    root = debfixtures.cached_at(CACHE, _build, "Debian binaries for the binary classifiers")
    return root


def deb_versions(cache: Path) -> dict[str, str]:
    """Package -> Debian version, from the downloaded .deb names (``name_version_arch.deb``,
    as apt-get download names them from the control fields; ``:`` quoted as ``%3a``)."""
    out = {}
    for line in (cache / "PACKAGES").read_text().split():
        name, version, _ = line.split("_", 2)
        out[name] = unquote(version)
    return out


def upstream(debian_version: str) -> str:
    """``1:1.2.13.dfsg-1`` -> ``1.2.13``; ``17.0.21.1+2-1~deb12u1`` -> ``17.0.21.1+2``."""
    version = debian_version.split(":", 1)[-1]
    version = version.rsplit("-", 1)[0] if "-" in version else version
    return re.sub(r"[.+~](?:dfsg|ds|repack)\d*$", "", version)


def one(root: Path, pattern: str) -> Path:
    found = sorted(p for p in root.glob(pattern) if p.is_file() and not p.is_symlink()) or sorted(
        p for p in root.glob(pattern) if p.is_file()
    )
    if not found:
        pytest.skip(f"{pattern} is not in the cache {root} (package missing for this arch?)")
    return found[0]


def case_file(cache: Path, case: Case) -> Path:
    return one(cache / "root", case.glob)


def found_products(rel: str, data: bytes) -> dict[str, str]:
    rec = analyze(BINARY, rel, data)
    assert isinstance(rec, BinaryRecord)
    return {m.product: m.version for m in rec.matches}


# --------------------------------------------------------------------------- oracle 1: Debian


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_products_equal_the_debian_package_version(cache: Path, case: Case) -> None:
    path = case_file(cache, case)
    rel = path.relative_to(cache / "root").as_posix()
    found = found_products(rel, path.read_bytes())
    assert sorted(found) == sorted(case.products), found
    if not case.products:
        return
    main = case.products[0]
    if case.debian_oracle:
        expected = upstream(deb_versions(cache)[case.deb])
        assert found[main] == expected, (rel, found, deb_versions(cache)[case.deb])


def test_libnode_also_carries_its_own_zlib(cache: Path) -> None:
    """Debian's libnode links the system zlib *and* holds a copy of zlib 1.2.11's deflate
    code (node's bundled deps): a real embedded copy, reported as such. No runtime oracle
    (``process.versions`` needs node's externalized builtins); the strings are zlib's own
    ``deflate_copyright``/``inflate_copyright``."""
    path = one(cache / "root", "usr/lib/*/libnode.so.*")
    found = found_products(path.name, path.read_bytes())
    assert found["zlib"] == "1.2.11"
    assert found["node"] == upstream(deb_versions(cache)["libnode108"])


def test_jdk_release_file_agrees(cache: Path) -> None:
    """Second oracle for the JVM: the JDK's ``release`` file (same package)."""
    release = one(cache / "root", "usr/lib/jvm/*/release").read_text()
    fields = dict(re.findall(r'(?m)^(\w+)="([^"]*)"', release))
    for glob in ("usr/lib/jvm/*/lib/server/libjvm.so", "usr/lib/jvm/*/bin/java"):
        path = one(cache / "root", glob)
        version = found_products(path.name, path.read_bytes())["openjdk"]
        assert version.split("+")[0] == fields["JAVA_VERSION"]
        assert fields["JAVA_RUNTIME_VERSION"].startswith(version)


# --------------------------------------------------------------------------- oracle 2: run it


def run_oracle(cache: Path, case: Case, path: Path, tmp: Path) -> str:
    root = cache / "root"
    if case.ctypes_call:
        code = (
            "import ctypes, sys\n"
            "f = getattr(ctypes.CDLL(sys.argv[1]), sys.argv[2])\n"
            "f.restype = ctypes.c_char_p\n"
            "print(f().decode())\n"
        )
        argv = [sys.executable, "-c", code, str(path), case.ctypes_call]
    else:
        argv = []
        for arg in case.argv:
            if arg == "@self":
                argv.append(str(path))
            elif arg.startswith("@self:"):
                link = tmp / arg.split(":", 1)[1]
                link.symlink_to(path)
                argv.append(str(link))
            elif arg == "@dir":
                argv.append(str(path.parent))
            elif arg.startswith("@"):
                argv.append(str(one(root, arg[1:])))
            else:
                argv.append(arg)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": str(tmp)}
    if case.lib_path and not case.ctypes_call:
        env["LD_LIBRARY_PATH"] = str(cache / "rtlib")
    try:
        r = subprocess.run(
            argv, capture_output=True, text=True, errors="replace", timeout=RUN_TIMEOUT,
            env=env, stdin=subprocess.DEVNULL, cwd=tmp, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot run {argv[0]} here: {exc}")
    output = r.stdout + r.stderr
    if "error while loading shared libraries" in output:
        pytest.skip(f"{Path(argv[0]).name} cannot start here: {output.strip()[:200]}")
    m = re.search(case.rx or r"^(\S+)", output, re.MULTILINE)
    assert m, f"{argv}: no version in {output[:400]!r}"
    return m.group(1)


RUNNABLE = [c for c in CASES if c.products and (c.argv or c.ctypes_call)]


@pytest.mark.parametrize("case", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_products_equal_what_the_binary_says(cache: Path, case: Case, tmp_path: Path) -> None:
    path = case_file(cache, case)
    expected = run_oracle(cache, case, path, tmp_path)
    found = found_products(path.name, path.read_bytes())
    assert found[case.products[0]] == expected


# --------------------------------------------------------------------------- the analyzer


def test_interests_offer_libraries_without_an_x_bit(cache: Path) -> None:
    """Debian's shared libraries are 0644: the names must bring them in; executables come
    through ``Interests.executables``."""
    dispatch = Dispatch([BINARY])
    assert BINARY in dispatch.exec_analyzers
    root = cache / "root"
    for case in CASES:
        if not case.products:
            continue
        path = case_file(cache, case)
        rel = path.relative_to(root).as_posix()
        if path.stat().st_mode & 0o111 and path.stat().st_size >= 64 * 1024:
            continue
        assert BINARY in dispatch.match(rel, path.stat().st_size), rel
    for rel in ("usr/lib/x86_64-linux-gnu/libz.so.1", "lib64/libc-2.17.so", "lib/ld-2.31.so",
                "usr/lib/libcrypto.so.1.1", "usr/local/lib/libpython3.12.so.1.0"):  # fmt: skip
        assert BINARY in dispatch.match(rel, 1 << 20), rel
        # below wants_min_size the name is not even looked at (the walker's hot path)
        assert BINARY not in dispatch.match(rel, 100), rel
    for rel in ("usr/share/doc/libssl3/changelog.gz", "usr/lib/libzstd.so.1", "usr/lib/libc.so"):
        assert BINARY not in dispatch.match(rel, 1 << 20), rel


def test_assemble_packages_purls_cpes_and_links_counted_once(cache: Path) -> None:
    lib = one(cache / "root", "usr/lib/*/libcrypto.so.3")
    cli = one(cache / "root", "usr/bin/openssl")
    version = upstream(deb_versions(cache)["libssl3"])
    out = assemble(
        BINARY,
        {"usr/lib/x86_64-linux-gnu/libcrypto.so.3": lib.read_bytes(),
         "usr/local/bin/openssl": cli.read_bytes()},
        links={"usr/lib/x86_64-linux-gnu/libcrypto.so": "usr/lib/x86_64-linux-gnu/libcrypto.so.3"},
    )  # fmt: skip
    assert not out.errors
    assert sorted((p.purl, p.locations[0].path) for p in out.packages) == [
        (f"pkg:generic/openssl@{version}", "usr/lib/x86_64-linux-gnu/libcrypto.so.3"),
        (f"pkg:generic/openssl@{version}", "usr/local/bin/openssl"),
    ]
    for p in out.packages:
        assert (p.name, p.version, p.type, p.found_by) == (
            "openssl",
            version,
            "generic",
            BINARY.name,
        )
    rec = analyze(BINARY, "usr/local/bin/openssl", cli.read_bytes())
    assert isinstance(rec, BinaryRecord) and rec.path == "usr/local/bin/openssl"
    (m,) = rec.matches
    assert m.cpes == (f"cpe:2.3:a:openssl:openssl:{version}:*:*:*:*:*:*:*",)
    assert m.evidence.startswith(f"OpenSSL {version} ") and m.method == "pattern"
    raw = cli.read_bytes()
    assert raw[m.offset : m.offset + len(version)] == version.encode()


def test_evidence_and_cpes_of_every_product(cache: Path) -> None:
    """Every match names where the version sits and carries well-formed CPE 2.3 names."""
    cpe = re.compile(r"cpe:2\.3:a(?::(?:[a-z0-9._-]|\\.)+){3}:(?:[a-z0-9._-]+|\*)(?::\*){6}\Z")
    for case in CASES:
        if not case.products:
            continue
        path = case_file(cache, case)
        data = path.read_bytes()
        rec = analyze(BINARY, path.name, data)
        assert isinstance(rec, BinaryRecord)
        for m in rec.matches:
            assert m.cpes and all(cpe.match(c) for c in m.cpes), m.cpes
            assert 0 < len(m.evidence) <= binaries.EVIDENCE_MAX
            digits = re.match(r"[\d.]+", m.version)
            assert digits and data[m.offset :].startswith(digits.group(0).encode()), m


def test_host_programs_that_are_none_of_the_products_give_nothing() -> None:
    for prog in ("/bin/true", "/usr/bin/ls", "/usr/bin/dpkg", "/usr/bin/tar"):
        p = Path(prog)
        if p.is_file():
            assert analyze(BINARY, prog.lstrip("/"), p.read_bytes()) == BinaryRecord(
                kind="ignored"
            ), prog


def test_statically_embedded_openssl_in_a_real_node(tmp_path: Path) -> None:
    """Opportunistic: a node built with its bundled OpenSSL (NodeSource's), when this host
    has one; the oracle is ``node -p process.versions``."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on this host")
    path = Path(node).resolve()
    if os.stat(path).st_size < 16 * 1024 * 1024:
        pytest.skip(f"{path} links libnode (not a self-contained node)")
    r = subprocess.run(
        [str(path), "-p", "process.versions.node + ' ' + process.versions.openssl"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False, cwd=tmp_path,
    )  # fmt: skip
    if r.returncode != 0:
        pytest.skip(f"node does not run here: {r.stderr[:200]}")
    node_version, openssl_version = r.stdout.split()
    found = found_products(path.name, path.read_bytes())
    assert found["node"] == node_version
    if "openssl" in found:  # bundled OpenSSL (OPENSSLDIR compiled in), not a shared libcrypto
        assert found["openssl"] == openssl_version.split("+")[0]


# --------------------------------------------------------------------------- units


def test_cpe_names() -> None:
    assert cpe23("openssl", "openssl", "3.0.11") == "cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*"
    assert cpe23("a", "b", "1.0+x") == "cpe:2.3:a:a:b:1.0\\+x:*:*:*:*:*:*:*"
    assert binaries._java_cpe_version("1.8.0_392-b08") == ("1.8.0", "update392")
    assert binaries._java_cpe_version("17.0.9+9") == ("17.0.9", "*")
    assert binaries._python_cpe_version("3.12.0rc1") == ("3.12.0", "rc1")
    assert binaries._plain_cpe_version("1.3.0.1-motley") == ("1.3.0.1", "*")
    assert binaries._plain_cpe_version("1.1.1w") == ("1.1.1w", "*")
    assert generic_purl("openjdk", "17.0.9+9") == "pkg:generic/openjdk@17.0.9%2B9"


def test_non_elf_and_truncated_files() -> None:
    assert BINARY.analyze_file("x", b"#!/bin/sh\nOpenSSL 3.0.11 19 Sep 2023\n") == BinaryRecord(
        kind="ignored"
    )
    assert BINARY.analyze_file("x", b"") == BinaryRecord(kind="ignored")
    assert BINARY.analyze_file("x", b"\x7fEL") == BinaryRecord(kind="ignored")


def test_truncated_real_libraries_raise_nothing_but_parse_error(cache: Path) -> None:
    """Cut a real library (ELF headers, the hash table, the string) at many places: the
    symbol lookup must not escape with anything but ParseError (it falls back instead)."""
    data = one(cache / "root", "usr/lib/*/libsqlite3.so.0.*").read_bytes()
    rng = random.Random(7)
    cuts = [64, 100, 4096, 65536, *(rng.randrange(len(data)) for _ in range(40))]
    for cut in cuts:
        try:
            rec = BINARY.analyze_file("libsqlite3.so.0", data[:cut])
        except ParseError:
            continue
        assert isinstance(rec, BinaryRecord)
    # corrupt the section headers: still no exception, still a version (or none)
    broken = bytearray(data)
    broken[0x28:0x30] = b"\xff" * 8  # e_shoff
    rec = BINARY.analyze_file("libsqlite3.so.0", bytes(broken))
    assert isinstance(rec, BinaryRecord)


def _hostile(size: int) -> bytes:
    """An ELF file made only of the products' screens and gates, then every anchor followed by
    runs of what its regex accepts (digits and dots, letters, spaces, parentheses) with no
    proper end, over and over: each hit fails its regex as late as it can."""
    head = b"\x7fELF" + b"".join(b"\x00".join([c.screen, *c.requires]) for c in CLASSIFIERS)
    fillers = (b"9." * 40, b"a" * 80, b" " * 80, b"(" * 40, b"1.2.3-" * 20, b"OpenJDK " * 10)
    unit = b"".join(
        [p.anchor + f + b"\x01" for c in CLASSIFIERS for p in c.patterns for f in fillers]
        + [b"Python %s\x002.7.\x00", b"\x001.2.\x00", b"2023-02-21 18:09:37 0123456789abcdef"]
    )
    return head + unit * ((size - len(head)) // len(unit) + 1)


def test_hostile_repeated_prefixes_stay_linear() -> None:
    small, big = _hostile(1 << 20), _hostile(8 << 20)
    t0 = time.perf_counter()
    assert isinstance(BINARY.analyze_file("x", small), BinaryRecord)
    t1 = time.perf_counter()
    rec = BINARY.analyze_file("x", big)
    t2 = time.perf_counter()
    assert isinstance(rec, BinaryRecord)
    assert t2 - t1 < 10, f"8 MiB of hostile anchors took {t2 - t1:.1f} s"
    # bounded by max_hits, the big file costs little more than the small one's finds
    assert t2 - t1 < 20 * (t1 - t0) + 1


def test_random_bytes_with_elf_magic() -> None:
    rng = random.Random(1)
    for _ in range(20):
        data = b"\x7fELF" + rng.randbytes(rng.randrange(1, 200_000))
        assert isinstance(BINARY.analyze_file("x", data), BinaryRecord)


_ATOMS = [
    b"\x00", b"\x01", b"3.", b"1.2.", b"3.40.1", b"\x003.11.2\x00", b" ", b"(", b")",
    *(c.screen for c in CLASSIFIERS if c.screen),
    *(r for c in CLASSIFIERS for r in c.requires),
    *(p.anchor for c in CLASSIFIERS for p in c.patterns if p.anchor),
    b"2022-12-28 14:03:47 df5c253c0b3dd24916e4ec7cf77d3db5294cc9fd45ae7b9c5e82ad8197f38a24",
    b"sqlite3_version", b"OpenSSL 3.0.11 19 Sep 2023", b"node.js/v20.1.0",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_ATOMS), st.binary(max_size=24)), max_size=60))
def test_fuzz_only_parse_error_or_records(chunks: list[bytes]) -> None:
    data = b"\x7fELF" + b"".join(chunks)
    try:
        rec = BINARY.analyze_file("usr/lib/libpython3.11.so.1.0", data)
    except ParseError:
        return
    assert isinstance(rec, BinaryRecord)
    assert BINARY.decode(BINARY.encode(rec)) == rec
    for m in rec.matches:
        assert binaries._VERSION_OK.match(m.version)
        assert all(c.startswith("cpe:2.3:a:") for c in m.cpes)


def test_assemble_skips_ignored_and_foreign_records() -> None:
    files = {
        "a": AnalyzedFile("a", "a", LAYER, BinaryRecord(kind="ignored")),
        "b": AnalyzedFile("b", "b", LAYER, object()),
    }
    assert BINARY.assemble(files, AssembleContext()).packages == []


def test_classify_prefers_one_name_per_product_family() -> None:
    """A static curl holds the CLI and libcurl: it is ``curl`` once, not also ``libcurl``."""
    data = (
        b"\x7fELF\x00Usage: curl [options...] <url>\x00curl 8.4.0 (x86_64-pc-linux-gnu) %s\x00"
        b"A libcurl function was given a bad argument\x00libcurl/8.4.0\x00"
    )
    assert [(m.product, m.version) for m in classify("curl", data)] == [("curl", "8.4.0")]


def test_cache_holds_only_what_the_tests_read(cache: Path) -> None:
    files = [p for p in (cache / "root").rglob("*") if p.is_file() and not p.is_symlink()]
    for p in files:
        rel = p.relative_to(cache / "root").as_posix()
        assert any(fnmatch.fnmatch(rel, g) for g in KEEP_GLOBS), rel
    assert all(p.is_symlink() and p.exists() for p in (cache / "rtlib").iterdir())
    assert sum(p.stat().st_size for p in files) < 200 * 1024 * 1024
    assert all(stat.S_ISREG(p.stat().st_mode) for p in files)
