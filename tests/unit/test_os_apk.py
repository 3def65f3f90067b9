"""ApkAnalyzer against the real apk databases in shared/fixtures/pkgdb/apk.

No apk tool runs here (not packaged in Debian 12), so the expectations are those the source
projects' tests assert, as written in MANIFEST.md (counts, names, versions, origins), plus a
line-level cross-check of every stanza's ``P:``/``V:``/``A:``/``o:``/``L:`` and ``F:``/``R:``
lines done here without the analyzer's parser.

One deliberate disagreement: apko rejects ``wolfi-bad-top-level-perms`` ("M entry cannot be
associated with top level dir"); apk-tools accepts an ``M:`` line after the root ``F:`` (it sets
the root directory's permissions), so the package is reported (see the analyzer docstring).
"""

from __future__ import annotations

import collections
import functools
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.analyzers.base import AnalyzedFile, AssembleContext
from hullscan.analyzers.os.apk import ApkAnalyzer, ApkRecord
from hullscan.errors import ParseError
from hullscan.model import ApkMeta, Distro, Package
from tests.unit.osfixtures import LAYER, PKGDB, analyze, assemble, pkgdb, tree

A = ApkAnalyzer()
DB = "lib/apk/db/installed"
USR_DB = "usr/lib/apk/db/installed"

# folder -> package count the source project asserts (MANIFEST.md)
COUNTS = {
    "alpine-3.16.1-layer": 14,
    "alpine-3.18.0": 15,
    "alpine-3.19-bash": 4,
    "alpine-3.16-base": 14,
    "alpine-3.16-usr-lib-apk": 14,
    "alpine-3.12-full-installed": 14,
    "alpine-3.12-small-installed": 14,
    "alpine-3.11-trivy-minimal": 1,
    "alpine-3.4-trivy-edited": 15,
    "wolfi-base": 15,
    "wolfi-redis-operator-compat": 16,
    "wolfi-bad-top-level-perms": 1,  # apko: error; here: reported (module docstring)
}
# (name, version) pairs the source projects' tests name
NAMED = {
    "alpine-3.16.1-layer": {
        ("alpine-baselayout-data", "3.2.0-r22"),
        ("musl", "1.2.3-r0"),
        ("busybox", "1.35.0-r15"),
        ("ca-certificates-bundle", "20211220-r0"),
        ("libcrypto1.1", "1.1.1q-r0"),
        ("apk-tools", "2.12.9-r3"),
        ("libc-utils", "0.7.2-r3"),
    },
    "alpine-3.18.0": {
        ("alpine-baselayout", "3.4.3-r1"),
        ("busybox-binsh", "1.36.0-r9"),
        ("libcrypto3", "3.1.0-r4"),
        ("musl", "1.2.4-r0"),
        ("zlib", "1.2.13-r1"),
    },
    "alpine-3.19-bash": {
        ("bash", "5.2.21-r0"),
        ("busybox-binsh", "1.36.1-r15"),
        ("musl", "1.2.4_git20230717-r4"),
        ("readline", "8.2.1-r2"),
    },
    "alpine-3.16-base": {("musl", "1.2.3-r0"), ("busybox", "1.35.0-r17")},
    "alpine-3.16-usr-lib-apk": {("musl", "1.2.3-r0"), ("busybox", "1.35.0-r17")},
    "alpine-3.12-full-installed": {
        ("musl", "1.1.24-r8"),
        ("busybox", "1.31.1-r16"),
        ("alpine-baselayout", "3.2.0-r6"),
    },
    "alpine-3.12-small-installed": {
        ("musl", "1.1.24-r0"),
        ("busybox", "1.31.1-r9"),
        ("alpine-baselayout", "3.2.0-r3"),
    },
    "alpine-3.11-trivy-minimal": {("musl", "1.1.24-r2")},
    "alpine-3.4-trivy-edited": {
        ("musl", "1.1.14-r10"),
        ("busybox", "1.24.2-r9"),
        ("alpine-baselayout", "3.0.3-r0"),
        ("alpine-keys", "1.1-r0"),
        ("zlib", "1.2.8-r2"),
        ("libcrypto1.0", "1.0.2h-r1"),
        ("apk-tools", "2.6.7-r0"),
        ("scanelf", "1.1.6-r0"),
        ("libc-utils", "0.7-r0"),
        ("pkgconf", "1.6.0-r0"),
        ("sqlite-libs", "3.26.0-r3"),
        ("test", "2.9.11_pre20061021-r2"),
        ("ada-libs", "2.7.4-r0"),
    },
    "wolfi-base": {
        ("wolfi-baselayout", "20230201-r23"),
        ("glibc", "2.41-r55"),
        ("busybox", "1.37.0-r47"),
        ("libcrypto3", "3.5.1-r1"),
        ("wolfi-base", "1-r7"),
    },
    "wolfi-redis-operator-compat": {("redis-operator-compat", "0.21.0-r1")},
    "wolfi-bad-top-level-perms": {("redis-operator-compat", "0.21.0-r1")},
}
WOLFI_NAMES = {
    "apk-tools",
    "busybox",
    "ca-certificates-bundle",
    "glibc",
    "glibc-locale-posix",
    "ld-linux",
    "libcrypt1",
    "libcrypto3",
    "libgcc",
    "libssl3",
    "libxcrypt",
    "wolfi-base",
    "wolfi-baselayout",
    "wolfi-keys",
    "zlib",
}


@functools.cache
def _fixture(folder: str, distro: Distro | None = None) -> tuple[Package, ...]:
    files = tree(pkgdb("apk", folder), A)
    assert len(files) == 1, files
    return tuple(assemble(A, files, distro=distro).packages)


def _meta(p: Package) -> ApkMeta:
    assert isinstance(p.metadata, ApkMeta)
    return p.metadata


def _stanzas(text: str) -> list[list[str]]:
    """Stanzas as line lists; a line shorter than "X:" ends one (what apk-tools does)."""
    out: list[list[str]] = [[]]
    for line in text.split("\n"):
        if len(line) < 2:
            out.append([])
        else:
            out[-1].append(line)
    return [s for s in out if s]


def _line_level(text: str) -> dict[tuple[str, str, str | None], dict[str, object]]:
    """Per (P, V, A): first o:/L: values and the F:/R: file paths, read line by line."""
    out: dict[tuple[str, str, str | None], dict[str, object]] = {}
    for stanza in _stanzas(text):
        first: dict[str, str] = {}
        files: set[str] = set()
        cur = ""
        for line in stanza:
            key, value = line[0], line[2:]
            first.setdefault(key, value)
            if key == "F":
                cur = value
            elif key == "R":
                files.add(f"{cur}/{value}" if cur else value)
        if first.get("P") and first.get("V"):
            key3 = (first["P"], first["V"], first.get("A"))
            out[key3] = {"origin": first.get("o"), "license": first.get("L"), "files": files}
    return out


# -- the source projects' expectations -----------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", sorted(COUNTS))
def test_counts_and_named_packages(folder: str) -> None:
    packages = _fixture(folder)
    assert len(packages) == COUNTS[folder]
    assert len({(p.name, p.version, p.arch) for p in packages}) == len(packages)
    assert NAMED[folder] <= {(p.name, p.version) for p in packages}
    for p in packages:
        assert p.type == "apk"
        assert p.found_by == "os/apk"
        assert p.source_version == p.version


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", sorted(COUNTS))
def test_every_field_matches_the_lines(folder: str) -> None:
    (path,) = tree(pkgdb("apk", folder), A)
    text = pkgdb("apk", folder, *path.split("/")).read_text()
    lines = _line_level(text)
    packages = _fixture(folder)
    assert {(p.name, p.version, p.arch) for p in packages} == set(lines)
    for p in packages:
        want = lines[(p.name, p.version, p.arch)]
        assert _meta(p).origin == want["origin"]
        assert p.source_name == (want["origin"] or p.name)
        assert p.licenses == ((want["license"],) if want["license"] else ())
        assert set(p.files) == want["files"], p.name
        assert list(p.files) == sorted(p.files)
        assert [loc.path for loc in p.locations] == [path]


@pytest.mark.needs_shared
def test_origins_licenses_and_metadata() -> None:
    got = {p.name: p for p in _fixture("alpine-3.18.0")}
    baselayout = got["alpine-baselayout"]
    assert _meta(baselayout).origin == "alpine-baselayout"
    assert (_meta(baselayout).commit or "").startswith("65502ca9")
    assert baselayout.arch == "x86_64"
    assert (got["busybox-binsh"].source_name, got["libcrypto3"].source_name) == (
        "busybox",
        "openssl",
    )
    assert got["libcrypto3"].licenses == ("Apache-2.0",)
    musl = got["musl"]
    assert musl.licenses == ("MIT",)
    assert _meta(musl).maintainer == "Timo Teräs <timo.teras@iki.fi>"  # UTF-8 kept
    assert _meta(musl).installed_size == 634880
    assert _meta(musl).url == "https://musl.libc.org/"
    assert _meta(musl).provides == ("so:libc.musl-x86_64.so.1=1",)
    assert musl.files == ("lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1")
    edited = {p.name: p for p in _fixture("alpine-3.4-trivy-edited")}
    assert edited["libcrypto1.0"].source_name == "openssl"
    assert edited["ada-libs"].licenses == ("( Apache-2.0 OR MIT ) AND MPL-2.0",)


@pytest.mark.needs_shared
def test_stanza_without_version_is_dropped_with_an_error() -> None:
    files = tree(pkgdb("apk", "alpine-3.4-trivy-edited"), A)
    result = assemble(A, files)
    assert "invalidPackageWithoutAVersion" not in {p.name for p in result.packages}
    assert result.errors == [
        (DB, "stanza at line 23 (invalidPackageWithoutAVersion) dropped: no V field")
    ]


def _resolve(packages: tuple[Package, ...]) -> dict[str, set[str]]:
    """name -> names of the installed packages its D: tokens resolve to (via p: provides)."""
    providers: dict[str, str] = {}
    for p in packages:
        providers[p.name] = p.name
        for token in _meta(p).provides:
            providers[re.split(r"[=<>~]", token, maxsplit=1)[0]] = p.name
    deps: dict[str, set[str]] = {}
    for p in packages:
        names = {re.split(r"[=<>~]", t, maxsplit=1)[0] for t in _meta(p).depends}
        deps[p.name] = {providers[n] for n in names if not n.startswith("!") and n in providers}
    return deps


@pytest.mark.needs_shared
def test_dependencies_resolve_as_syft_expects() -> None:
    deps = _resolve(_fixture("alpine-3.19-bash"))
    # syft: busybox-binsh -> bash, readline -> bash, musl -> readline, musl -> bash
    assert deps["bash"] == {"busybox-binsh", "readline", "musl"}
    assert "musl" in deps["readline"]
    base = _resolve(_fixture("alpine-3.16-base"))
    assert {"busybox", "alpine-baselayout-data", "musl"} <= base["alpine-baselayout"]
    assert {"ca-certificates-bundle", "musl", "libcrypto1.1", "libssl1.1", "zlib"} <= base[
        "apk-tools"
    ]
    assert {"musl", "libcrypto1.1"} <= base["libssl1.1"]
    assert {"scanelf", "musl"} <= base["musl-utils"]
    assert base["zlib"] == {"musl"}


@pytest.mark.needs_shared
def test_wolfi_package_sets() -> None:
    assert {p.name for p in _fixture("wolfi-base")} == WOLFI_NAMES
    assert {p.name for p in _fixture("wolfi-redis-operator-compat")} == WOLFI_NAMES | {
        "redis-operator-compat"
    }


@pytest.mark.needs_shared
def test_wolfi_bad_top_level_perms_is_read_like_apk_tools_reads_it() -> None:
    (p,) = _fixture("wolfi-bad-top-level-perms")
    assert (p.name, p.version, p.arch, p.source_name) == (
        "redis-operator-compat",
        "0.21.0-r1",
        "x86_64",
        "redis-operator",
    )
    # "F:" (the root), "R:operator", "M:0:0:711" (root permissions), then var/lib/db/sbom
    assert p.files == ("operator", "var/lib/db/sbom/redis-operator-compat-0.21.0-r1.spdx.json")
    assert assemble(A, tree(pkgdb("apk", "wolfi-bad-top-level-perms"), A)).errors == []


@pytest.mark.needs_shared
def test_usr_lib_apk_db_path() -> None:
    files = tree(pkgdb("apk", "alpine-3.16-usr-lib-apk"), A)
    assert list(files) == [USR_DB]  # triggers and scripts.tar are not read
    packages = _fixture("alpine-3.16-usr-lib-apk")
    assert {p.locations[0].path for p in packages} == {USR_DB}
    assert {p.arch for p in packages} == {"aarch64"}
    base = _fixture("alpine-3.16-base")
    assert {(p.name, p.version) for p in packages} == {(p.name, p.version) for p in base}


@pytest.mark.needs_shared
def test_one_database_seen_through_a_symlink_is_read_once() -> None:
    data = pkgdb("apk", "alpine-3.16-usr-lib-apk", *USR_DB.split("/")).read_bytes()
    result = assemble(A, {USR_DB: data}, links={DB: USR_DB})
    assert len(result.packages) == 14
    assert {p.locations[0].path for p in result.packages} == {USR_DB}
    # two distinct copies of the same database: each package once, from the first path
    both = assemble(A, {DB: data, USR_DB: data})
    assert len(both.packages) == 14
    assert {p.locations[0].path for p in both.packages} == {DB}


@pytest.mark.needs_shared
def test_syft_single_entries() -> None:
    base = pkgdb("apk", "syft-single-entries")
    got = {}
    for name in ("base", "single", "empty-deps-and-provides", "extra-file-attributes"):
        rec = analyze(A, DB, (base / name).read_bytes())
        assert isinstance(rec, ApkRecord)
        (entry,) = rec.packages
        assert rec.errors == ()
        got[name] = entry
    assert (got["base"].name, got["base"].version, got["base"].origin) == (
        "alpine-baselayout",
        "3.2.0-r6",
        "alpine-baselayout",
    )
    assert (got["single"].name, got["single"].version, got["single"].origin) == (
        "musl-utils",
        "1.1.24-r2",
        "musl",
    )
    empty = got["empty-deps-and-provides"]
    assert (empty.name, empty.version, empty.depends, empty.provides) == (
        "alpine-baselayout-data",
        "3.4.0-r0",
        (),
        (),
    )
    jre = got["extra-file-attributes"]
    assert (jre.name, jre.version) == ("openjdk8-jre", "8.212.04-r0")
    # the a:...:<digest> attribute line does not make a file
    assert jre.files == ("usr/lib/jvm/java-1.8-openjdk/bin/policytool",)


# -- purls -------------------------------------------------------------------------------------


def _purl_ok(p: Package) -> PackageURL:
    errors = [m for m in PackageURL.validate_string(p.purl) if m.severity.value == "error"]
    assert not errors, (p.purl, errors)
    return PackageURL.from_string(p.purl)


@pytest.mark.needs_shared
@pytest.mark.parametrize(
    ("folder", "distro", "namespace", "qualifier"),
    [
        ("alpine-3.16.1-layer", Distro(id="alpine", version="3.16.1"), "alpine", "alpine-3.16.1"),
        ("alpine-3.18.0", None, "alpine", None),
        ("wolfi-base", Distro(id="wolfi", version="20220914"), "wolfi", "wolfi-20220914"),
        (
            "wolfi-base",
            Distro(id="chainguard", version="20230214"),
            "chainguard",
            "chainguard-20230214",
        ),
        (
            "alpine-3.19-bash",
            Distro(id="postmarketos", version="v25.06", id_like=("alpine",)),
            "postmarketos",
            "postmarketos-v25.06",
        ),
    ],
)
def test_purls(folder: str, distro: Distro | None, namespace: str, qualifier: str | None) -> None:
    for p in _fixture(folder, distro):
        purl = _purl_ok(p)
        assert (purl.type, purl.namespace, purl.name, purl.version) == (
            "apk",
            namespace,
            p.name.lower(),
            p.version,
        )
        want = {"arch": p.arch} if qualifier is None else {"arch": p.arch, "distro": qualifier}
        assert purl.qualifiers == want


# -- parser details ------------------------------------------------------------------------------


def test_stanza_rules() -> None:
    text = (
        b"P:a\nV:1-r0\nA:x86_64\nI:12\nF:usr/bin\nR:a\nR:b\nF:\nR:top\n\n"
        b"P:b\nV:2\nbroken line\nR:x\n\n"  # a bad line drops its stanza
        b"P:c/d\nV:1\n\n"  # not a name apk (or a purl) can have
        b"P:e\nV:1 2\n\n"  # nor a version
        b"V:3\n\n"  # no P:
        b"P:f\r\nV:4\r\nI:\xc2\xb2\r\n"  # CRLF; a non-ASCII digit is not a size
    )
    rec = analyze(A, DB, text)
    assert isinstance(rec, ApkRecord)
    assert [(e.name, e.version) for e in rec.packages] == [("a", "1-r0"), ("f", "4")]
    assert rec.packages[0].files == ("top", "usr/bin/a", "usr/bin/b")
    assert rec.packages[0].installed_size == 12
    assert rec.packages[1].installed_size is None
    assert len(rec.errors) == 4
    assert "line 11 (b) dropped: line 13" in rec.errors[0]
    with pytest.raises(ParseError):
        A.analyze_file(DB, b"not an apk database\n")
    with pytest.raises(ParseError):
        A.analyze_file(DB, b"P:a\nV:1\0\n")
    assert analyze(A, DB, b"") == ApkRecord()
    assert analyze(A, DB, b"\n\n") == ApkRecord()


# -- hostile input ------------------------------------------------------------------------------


def _samples() -> list[bytes]:
    base = PKGDB / "apk"
    if not base.is_dir():
        return [b"P:a\nV:1\nF:usr\nR:x\n"]
    return [p.read_bytes() for p in sorted(base.rglob("installed"))]


SAMPLES = _samples()


def _check(data: bytes, distro: Distro | None = None) -> None:
    start = time.perf_counter()
    try:
        rec = analyze(A, DB, data)
    except ParseError:
        return
    finally:
        assert time.perf_counter() - start < 2.0
    result = A.assemble({DB: AnalyzedFile(DB, DB, LAYER, rec)}, AssembleContext(distro))
    for p in result.packages:
        assert _purl_ok(p).name == p.name.lower()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    buf = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "dup"]))
        at = draw(st.integers(0, len(buf)))
        if op == "cut":
            del buf[at:]
        elif op == "flip" and at < len(buf):
            buf[at] ^= draw(st.integers(1, 255))
        elif op == "dup":
            buf[at:at] = buf[at : at + draw(st.integers(1, 300))]
        else:
            token = draw(
                st.sampled_from([b"\n", b"\n\n", b":", b"P:", b"V:", b"F:", b"R:", b"I:", b"/"])
            )
            buf[at:at] = token + draw(st.binary(max_size=8))
    return bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=1024))
def test_arbitrary_bytes_give_a_record_or_parse_error(data: bytes) -> None:
    _check(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=mutated(),
    distro=st.sampled_from([None, Distro(id="wolfi"), Distro(id="x y", id_like=("alpine",))]),
)
def test_mutated_fixtures_give_a_record_or_parse_error(data: bytes, distro: Distro | None) -> None:
    _check(data, distro)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("PVAoLFRIDpMa:\n\r /.-_=0123456789xyz²")), max_size=300
    )
)
def test_fdb_like_text(text: str) -> None:
    _check(text.encode())


@pytest.mark.parametrize(
    "data",
    [
        b"P:a\nV:1\nF:usr\n" + b"".join(b"R:%d\n" % i for i in range(400_000)),
        b"P:a\nV:1\nD:" + b"x " * 7_000_000 + b"\n",
        b"P:a\nV:1\n\n" * 300_000,
        b"P:a\nV:1\nF:" + b"d/" * 7_000_000 + b"\nR:x\n",
    ],
    ids=["many-files", "huge-depends", "many-stanzas", "deep-dir"],
)
def test_worst_case_files_at_the_size_limit_are_bounded(data: bytes) -> None:
    assert len(data) <= A.max_file_size
    start = time.perf_counter()
    rec = analyze(A, DB, data)
    assert isinstance(rec, ApkRecord)
    assert time.perf_counter() - start < 3.0
    counts = collections.Counter(len(e.files) for e in rec.packages)
    assert counts
