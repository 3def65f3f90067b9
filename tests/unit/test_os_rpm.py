"""RpmAnalyzer (the rpm database as packages) against every real rpm database in
shared/fixtures/pkgdb/rpm.

The container readers are tested in test_rpmdb.py; this module checks what the analyzer makes of
them: the package set equals ``rpm -qa`` (expected-rpm-qa.tsv) minus the ``gpg-pubkey``
pseudo-packages, NEVRA / source rpm / vendor / size are those rpm printed, go-rpmdb's expected
lists (license, modularity label; the only truth for the NDB database) hold, the database in use
is chosen when an image shows several, and purls are valid.

TSV conventions: ``(none)`` = tag absent. The dive package's VENDOR tag is present but empty
(rpm prints an empty column); the analyzer reports an empty vendor as absent too.
"""

from __future__ import annotations

import collections
import functools
import json
import sqlite3
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.analyzers.base import AnalyzedFile, AssembleContext, Assembly
from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.os.dpkg import leaf_paths
from hullscan.analyzers.os.rpm import PATHS, RpmAnalyzer, RpmRecord, db_format, split_source_rpm
from hullscan.analyzers.os.rpmdb import read_rpmdb
from hullscan.errors import ParseError
from hullscan.model import Distro, Package, RpmMeta
from tests.unit.osfixtures import LAYER, PKGDB, analyze, analyzed, pkgdb, read_bytes, tsv_rows

A = RpmAnalyzer()
BDB, NDB, SQLITE = "var/lib/rpm/Packages", "var/lib/rpm/Packages.db", "var/lib/rpm/rpmdb.sqlite"
SYSIMAGE_SQLITE = "usr/lib/sysimage/rpm/rpmdb.sqlite"

# folder -> (database file, where the image keeps it, distro per the fixture's notes)
DATABASES: dict[str, tuple[str, str, Distro]] = {
    "centos-5-bdb-plain": ("Packages.xz", BDB, Distro(id="centos", version="5")),
    "centos-6-bdb-plain": ("Packages.xz", BDB, Distro(id="centos", version="6")),
    "centos-7-bdb-plain": ("Packages.xz", BDB, Distro(id="centos", version="7")),
    "centos-7-bdb-httpd24": ("Packages.xz", BDB, Distro(id="centos", version="7")),
    "centos-7-bdb-many": ("Packages.xz", BDB, Distro(id="centos", version="7")),
    "centos-8-bdb-modularitylabel": ("Packages.xz", BDB, Distro(id="centos", version="8")),
    "rhel-8.0-bdb-ubi": ("Packages.xz", BDB, Distro(id="rhel", version="8.0")),
    "rhel-8-bdb-libuuid": ("Packages", BDB, Distro(id="rhel", version="8.8")),
    "centos-8-bdb-dive-only": ("Packages", BDB, Distro(id="centos", version="8")),
    "fedora-32-bdb-epoch-hello": ("Packages", BDB, Distro(id="fedora", version="32")),
    "fedora-modular-26-bdb": ("Packages.xz", BDB, Distro(id="fedora-modular", version="26")),
    "sles-12sp4-bdb": ("Packages", BDB, Distro(id="sles", version="12.4")),
    "empty-bdb": ("Packages", BDB, Distro(id="centos", version="7")),
    "sle-15-ndb-bci": ("Packages.db", NDB, Distro(id="sles", version="15.3")),
    "cbl-mariner-2.0-sqlite": ("rpmdb.sqlite", SQLITE, Distro(id="mariner", version="2.0")),
    "fedora-38-sqlite-2pkgs": ("rpmdb.sqlite", SQLITE, Distro(id="fedora", version="38")),
    "rhel-8.0-sqlite-DERIVED-from-bdb": (
        "rpmdb.sqlite.xz",
        SQLITE,
        Distro(id="rhel", version="8.0"),
    ),
}
# MANIFEST.md's package counts (rpm -qa, gpg-pubkey included) and gpg-pubkey counts
MANIFEST_COUNTS = {
    "centos-5-bdb-plain": (110, 0),
    "centos-6-bdb-plain": (129, 0),
    "centos-7-bdb-plain": (144, 0),
    "centos-7-bdb-httpd24": (225, 3),
    "centos-7-bdb-many": (396, 1),
    "centos-8-bdb-modularitylabel": (518, 1),
    "rhel-8.0-bdb-ubi": (101, 2),
    "rhel-8-bdb-libuuid": (1, 0),
    "centos-8-bdb-dive-only": (1, 0),
    "fedora-32-bdb-epoch-hello": (1, 0),
    "fedora-modular-26-bdb": (114, 1),
    "sles-12sp4-bdb": (108, 2),
    "empty-bdb": (0, 0),
    "sle-15-ndb-bci": (35, 0),
    "cbl-mariner-2.0-sqlite": (129, 0),
    "fedora-38-sqlite-2pkgs": (2, 0),
    "rhel-8.0-sqlite-DERIVED-from-bdb": (101, 2),
}
RPM_VENDORS = {"centos": "centos", "rhel": "redhat", "fedora": "fedora", "fedora-modular": "fedora"}
RPM_VENDORS |= {"sles": "suse", "mariner": "mariner"}


@functools.cache
def _bytes(folder: str) -> bytes:
    name, _, _ = DATABASES[folder]
    return read_bytes(pkgdb("rpm", folder, name))


@functools.cache
def _record(folder: str) -> RpmRecord:
    rec = analyze(A, DATABASES[folder][1], _bytes(folder))
    assert isinstance(rec, RpmRecord)
    return rec


def _assemble(
    files: dict[str, RpmRecord],
    distro: Distro | None = None,
    links: dict[str, str] | None = None,
) -> Assembly:
    """Assemble records; ``links``: path -> real path, as squash shows a symlink."""
    done = {p: AnalyzedFile(p, p, LAYER, rec) for p, rec in files.items()}
    for link, real in (links or {}).items():
        done[link] = AnalyzedFile(link, real, LAYER, done[real].record)
    return A.assemble(done, AssembleContext(distro=distro))


@functools.cache
def _packages(folder: str, with_distro: bool = True) -> tuple[Package, ...]:
    _, path, distro = DATABASES[folder]
    result = _assemble({path: _record(folder)}, distro if with_distro else None)
    assert result.errors == []
    return tuple(result.packages)


def _meta(p: Package) -> RpmMeta:
    assert isinstance(p.metadata, RpmMeta)
    return p.metadata


def _none(value: str) -> str | None:
    return None if value in ("(none)", "") else value


# -- ground truth: rpm -qa --------------------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", sorted(DATABASES))
def test_matches_rpm_qa(folder: str) -> None:
    tsv = PKGDB / "rpm" / folder / "expected-rpm-qa.tsv"
    if not tsv.exists():
        pytest.skip(f"{folder}: rpm cannot read this format; see test_matches_go_rpmdb")
    rows = tsv_rows(tsv)
    total, keys = MANIFEST_COUNTS[folder]
    assert len(rows) == total
    assert sum(r["NAME"] == "gpg-pubkey" for r in rows) == keys
    expected = collections.Counter(
        (
            r["NAME"],
            None if r["EPOCH"] == "(none)" else int(r["EPOCH"]),
            r["VERSION"],
            r["RELEASE"],
            _none(r["ARCH"]),
            _none(r["SOURCERPM"]),
            None if r["SIZE"] == "(none)" else int(r["SIZE"]),
            _none(r["VENDOR"]),
        )
        for r in rows
        if r["NAME"] != "gpg-pubkey"
    )
    got = collections.Counter(
        (
            p.name,
            _meta(p).epoch,
            p.version.rpartition(":")[2].rsplit("-", 1)[0],
            _meta(p).release,
            p.arch,
            _meta(p).source_rpm,
            _meta(p).size,
            _meta(p).vendor,
        )
        for p in _packages(folder)
    )
    assert got == expected
    assert len(_packages(folder)) == total - keys


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", sorted(DATABASES))
def test_versions_and_sources(folder: str) -> None:
    for p in _packages(folder):
        meta = _meta(p)
        epoch = "" if meta.epoch is None else f"{meta.epoch}:"
        assert p.version == f"{epoch}{p.version.rpartition(':')[2]}"
        assert p.version.endswith(f"-{meta.release}")
        split = split_source_rpm(meta.source_rpm)
        if split is None:
            assert (p.source_name, p.source_version) == (p.name, p.version)
        else:
            name, version, release = split
            assert meta.source_rpm == f"{name}-{version}-{release}.src.rpm"
            assert (p.source_name, p.source_version) == (name, f"{epoch}{version}-{release}")
        assert p.type == "rpm"
        assert p.found_by == "os/rpm"
        assert [loc.path for loc in p.locations] == [DATABASES[folder][1]]


@pytest.mark.needs_shared
def test_known_packages() -> None:
    libuuid = {p.name: p for p in _packages("rhel-8-bdb-libuuid")}["libuuid"]
    assert (libuuid.version, libuuid.arch, libuuid.source_name, libuuid.source_version) == (
        "2.32.1-42.el8_8",
        "x86_64",
        "util-linux",
        "2.32.1-42.el8_8",
    )
    assert libuuid.licenses == ("BSD",)
    assert (_meta(libuuid).vendor, _meta(libuuid).size) == ("Red Hat, Inc.", 35104)
    # rpm -ql minus the two directories that hold listed files (.build-id, licenses/libuuid)
    assert libuuid.files == (
        "usr/lib/.build-id/df/ef6a880adac817216ab9866779a0725e017647",
        "usr/lib64/libuuid.so.1",
        "usr/lib64/libuuid.so.1.3.0",
        "usr/share/licenses/libuuid/COPYING",
        "usr/share/licenses/libuuid/COPYING.BSD-3",
    )
    bind = {p.name: p for p in _packages("centos-7-bdb-httpd24")}["bind-license"]
    assert (bind.version, bind.arch, bind.source_name, bind.source_version) == (
        "32:9.9.4-73.el7_6",
        "noarch",
        "bind",
        "32:9.9.4-73.el7_6",
    )
    (hello,) = _packages("fedora-32-bdb-epoch-hello")
    assert (hello.version, _meta(hello).epoch, hello.licenses) == ("1:0.0.1-rls", 1, ("GPL",))
    (dive,) = _packages("centos-8-bdb-dive-only")
    assert (dive.version, _meta(dive).epoch, _meta(dive).vendor, dive.files) == (
        "0.9.2-1",
        None,
        None,
        ("usr/local/bin/dive",),
    )
    curl = {p.name: p for p in _packages("cbl-mariner-2.0-sqlite")}["curl"]
    assert (curl.version, curl.licenses, _meta(curl).size) == ("7.76.0-6.cm2", ("MIT",), 326023)


@pytest.mark.needs_shared
def test_modularity_label_is_kept() -> None:
    packages = _packages("centos-8-bdb-modularitylabel")
    nodejs = {p.name: p for p in packages}["nodejs"]
    assert nodejs.version == "1:10.21.0-3.module_el8.2.0+391+8da3adc6"
    label = _meta(nodejs).modularity_label
    assert label is not None
    assert label.startswith("nodejs:10:")
    assert sum(_meta(p).modularity_label is not None for p in packages) > 1


@pytest.mark.needs_shared
def test_gpg_pubkeys_are_not_packages() -> None:
    for folder in ("sles-12sp4-bdb", "centos-7-bdb-httpd24", "rhel-8.0-bdb-ubi"):
        headers = read_rpmdb(_bytes(folder), "bdb")
        assert any(h.name == "gpg-pubkey" for h in headers)
        assert "gpg-pubkey" not in {p.name for p in _packages(folder)}


@pytest.mark.needs_shared
def test_empty_database_has_no_packages() -> None:
    assert _packages("empty-bdb") == ()


# -- go-rpmdb's expectations (the only truth for NDB) -----------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize(
    "folder", sorted(f for f in DATABASES if (PKGDB / "rpm" / f / "expected-source.json").exists())
)
def test_matches_go_rpmdb(folder: str) -> None:
    doc = json.loads(pkgdb("rpm", folder, "expected-source.json").read_text())
    assert len(doc["packages"]) == doc["count"]
    expected = collections.Counter(
        (
            e["name"],
            e["epoch"],
            e["version"],
            e["release"],
            e["arch"] or None,
            e["sourcerpm"] or None,
            e["size"],
            (e["license"],) if e["license"] else (),
            e["vendor"] or None,
            e["modularitylabel"] or None,
        )
        for e in doc["packages"]
        if e["name"] != "gpg-pubkey"
    )
    got = collections.Counter(
        (
            p.name,
            _meta(p).epoch,
            p.version.rpartition(":")[2].rsplit("-", 1)[0],
            _meta(p).release,
            p.arch,
            _meta(p).source_rpm,
            _meta(p).size,
            p.licenses,
            _meta(p).vendor,
            _meta(p).modularity_label,
        )
        for p in _packages(folder)
    )
    assert got == expected


@pytest.mark.needs_shared
def test_ndb_order_and_content() -> None:
    doc = json.loads(pkgdb("rpm", "sle-15-ndb-bci", "expected-source.json").read_text())
    packages = _packages("sle-15-ndb-bci")
    assert [p.name for p in packages] == [e["name"] for e in doc["packages"]]
    assert len(packages) == 35
    glibc = {p.name: p for p in packages}["glibc"]
    assert (glibc.version, glibc.arch) == ("2.31-9.3.2", "x86_64")
    assert _meta(glibc).vendor == "SUSE LLC <https://www.suse.com/>"
    bash = {p.name: p for p in packages}["bash"]
    assert "usr/bin/bash" in bash.files


@pytest.mark.needs_shared
def test_bdb_and_sqlite_copies_give_the_same_packages() -> None:
    bdb = sorted(_packages("rhel-8.0-bdb-ubi"), key=lambda p: (p.name, p.version, p.arch or ""))
    sqlite = sorted(
        _packages("rhel-8.0-sqlite-DERIVED-from-bdb"),
        key=lambda p: (p.name, p.version, p.arch or ""),
    )
    assert len(bdb) == len(sqlite) == 99
    for a, b in zip(bdb, sqlite, strict=True):
        assert a.purl == b.purl
        assert a.files == b.files
        assert a.metadata == b.metadata


# -- owned files ----------------------------------------------------------------------------------


def _leaves(paths: tuple[str, ...]) -> set[str]:
    rel = {p.strip("/") for p in paths} - {""}
    ancestors = {"/".join(p.split("/")[:i]) for p in rel for i in range(1, p.count("/") + 1)}
    return rel - ancestors


@pytest.mark.needs_shared
@pytest.mark.parametrize(
    "folder", ["centos-7-bdb-plain", "sle-15-ndb-bci", "cbl-mariner-2.0-sqlite"]
)
def test_owned_files_are_the_header_files_minus_parent_directories(folder: str) -> None:
    fmt = db_format(DATABASES[folder][1])
    assert fmt is not None
    headers = read_rpmdb(_bytes(folder), fmt)
    by_nevra = {(h.name, h.version, h.release, h.arch): h.files for h in headers}
    for p in _packages(folder):
        key = (p.name, p.version.rpartition(":")[2].rsplit("-", 1)[0], _meta(p).release, p.arch)
        assert set(p.files) == _leaves(by_nevra[key]), p.name
        assert list(p.files) == sorted(p.files)
    assert leaf_paths(["/usr", "/usr/bin", "/usr/bin/x"]) == ("usr/bin/x",)


# -- which database --------------------------------------------------------------------------------


def test_dispatch_claims_exactly_the_database_files() -> None:
    dispatch = Dispatch([A])
    for path in PATHS:
        assert A in dispatch.match(path, 1)
    for path in (
        "var/lib/rpm/Name",
        "var/lib/rpm/rpmdb.sqlite-shm",
        "var/lib/rpm/__db.001",
        "opt/var/lib/rpm/Packages",
        "var/lib/rpmmanifest/container-manifest-2",
    ):
        assert A not in dispatch.match(path, 1)
    with pytest.raises(ParseError):
        A.analyze_file("var/lib/rpm/Name", b"")


@pytest.mark.needs_shared
def test_newest_format_wins_when_a_converted_database_left_the_old_one() -> None:
    files = {BDB: _record("rhel-8.0-bdb-ubi"), SQLITE: _record("rhel-8.0-sqlite-DERIVED-from-bdb")}
    result = _assemble(files, Distro(id="rhel", version="8.0"))
    assert len(result.packages) == 99
    assert {p.locations[0].path for p in result.packages} == {SQLITE}
    # NDB beats BDB the same way (SUSE converted SLE 15 SP3 databases to ndb)
    ndb = _assemble({BDB: _record("sles-12sp4-bdb"), NDB: _record("sle-15-ndb-bci")})
    assert len(ndb.packages) == 35
    assert {p.locations[0].path for p in ndb.packages} == {NDB}


@pytest.mark.needs_shared
def test_a_database_seen_through_a_symlink_is_read_once() -> None:
    rec = _record("fedora-38-sqlite-2pkgs")
    # Fedora 36+: var/lib/rpm -> ../../usr/lib/sysimage/rpm
    result = _assemble({SYSIMAGE_SQLITE: rec}, links={SQLITE: SYSIMAGE_SQLITE})
    assert [p.name for p in result.packages] == ["libgcc", "coreutils"]
    assert {p.locations[0].path for p in result.packages} == {SYSIMAGE_SQLITE}
    # RHEL 9 the other way round: the real file is located at its real path
    back = _assemble({SQLITE: rec}, links={SYSIMAGE_SQLITE: SQLITE})
    assert {p.locations[0].path for p in back.packages} == {SQLITE}


@pytest.mark.needs_shared
def test_sysimage_wins_between_two_distinct_databases_of_one_format() -> None:
    files = {
        BDB: _record("centos-7-bdb-plain"),
        "usr/lib/sysimage/rpm/Packages": _record("rhel-8-bdb-libuuid"),
    }
    result = _assemble(files)
    assert [p.name for p in result.packages] == ["libuuid"]
    assert result.packages[0].locations[0].path == "usr/lib/sysimage/rpm/Packages"


# -- purls --------------------------------------------------------------------------------------


def _purl_ok(purl: str) -> PackageURL:
    errors = [m for m in PackageURL.validate_string(purl) if m.severity.value == "error"]
    assert not errors, (purl, errors)
    return PackageURL.from_string(purl)


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", sorted(DATABASES))
def test_purls_with_the_distro(folder: str) -> None:
    distro = DATABASES[folder][2]
    for p in _packages(folder):
        purl = _purl_ok(p.purl)
        meta = _meta(p)
        assert (purl.type, purl.namespace, purl.name) == ("rpm", RPM_VENDORS[distro.id], p.name)
        assert purl.version == p.version.rpartition(":")[2]  # no epoch in the purl version
        want = {"arch": p.arch, "distro": f"{distro.id}-{distro.version}"}
        if meta.epoch is not None:
            want["epoch"] = str(meta.epoch)
        assert purl.qualifiers == {k: v for k, v in want.items() if v}


@pytest.mark.needs_shared
def test_purl_namespace_from_the_vendor_tag_without_a_distro() -> None:
    expected = {
        "centos-7-bdb-httpd24": {"centos", "fedora"},  # two EPEL-like "Fedora Project" packages
        "rhel-8.0-bdb-ubi": {"redhat"},
        "sles-12sp4-bdb": {"suse"},
        "cbl-mariner-2.0-sqlite": {"mariner"},
        "fedora-38-sqlite-2pkgs": {"fedora"},
        "centos-8-bdb-dive-only": {"unknown"},  # empty Vendor tag
        "fedora-32-bdb-epoch-hello": {"unknown"},  # no Vendor tag
    }
    for folder, namespaces in expected.items():
        got = {_purl_ok(p.purl).namespace for p in _packages(folder, with_distro=False)}
        assert got == namespaces, folder
    (hello,) = _packages("fedora-32-bdb-epoch-hello", with_distro=False)
    assert hello.purl == "pkg:rpm/unknown/hello@0.0.1-rls?arch=x86_64&epoch=1"


# -- synthetic databases (real header blob or built headers in an rpm-shaped SQLite file) -------


def _header(name: str = "pkg", version: str = "1.0", release: str = "1") -> bytes:
    entries = [(1000, name), (1001, version), (1002, release), (1022, "x86_64")]
    store = bytearray()
    index = []
    for tag, value in entries:
        index.append(struct.pack(">iIiI", tag, 6, len(store), 1))
        store += value.encode() + b"\0"
    return struct.pack(">ii", len(entries), len(store)) + b"".join(index) + bytes(store)


def _sqlite_db(*blobs: bytes) -> bytes:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"
    )
    conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    conn.commit()
    data = conn.serialize()
    conn.close()
    return data


@pytest.mark.needs_shared
def test_unreadable_file_list_keeps_the_package_and_reports_it() -> None:
    blob = pkgdb("rpm", "header-blob", "blob.bin").read_bytes()
    files, rejected = analyzed(A, {SQLITE: _sqlite_db(blob, _header())})
    assert not rejected
    result = A.assemble(files, AssembleContext())
    assert [(p.name, p.version, p.files) for p in result.packages] == [
        ("publicsuffix-list-dafsa", "20210518-2.fc35", ()),
        ("pkg", "1.0-1", ()),
    ]
    assert len(result.errors) == 1
    path, message = result.errors[0]
    assert path == SQLITE
    assert message.startswith("publicsuffix-list-dafsa: file list unreadable")


@pytest.mark.parametrize(
    ("name", "version", "release"),
    [("", "1", "1"), ("a/b", "1", "1"), ("a b", "1", "1"), ("pkg", "", "1"), ("pkg", "1 2", "1")],
)
def test_a_header_no_rpm_could_write_fails_the_database(
    name: str, version: str, release: str
) -> None:
    data = _sqlite_db(_header(), _header(name, version, release))
    with pytest.raises(ParseError, match="header #1"):
        A.analyze_file(SQLITE, data)


def test_a_valid_synthetic_database() -> None:
    files, rejected = analyzed(A, {SQLITE: _sqlite_db(_header("zlib", "1.3", "2.el9"))})
    assert not rejected
    (p,) = A.assemble(files, AssembleContext(Distro(id="rocky", version="9.3"))).packages
    assert p.purl == "pkg:rpm/rocky/zlib@1.3-2.el9?arch=x86_64&distro=rocky-9.3"


# -- hostile input ------------------------------------------------------------------------------


def _samples() -> list[tuple[str, bytes]]:
    out = []
    for folder, path in (
        ("rhel-8-bdb-libuuid", BDB),
        ("centos-8-bdb-dive-only", BDB),
        ("fedora-32-bdb-epoch-hello", BDB),
        ("empty-bdb", BDB),
        ("fedora-38-sqlite-2pkgs", SQLITE),
        ("sle-15-ndb-bci", NDB),
    ):
        p = PKGDB / "rpm" / folder / DATABASES[folder][0]
        if p.exists():
            out.append((path, p.read_bytes()))
    return out or [(SQLITE, _sqlite_db(_header()))]


SAMPLES = _samples()


def _check(path: str, data: bytes, distro: Distro | None = None) -> None:
    start = time.perf_counter()
    try:
        rec = analyze(A, path, data)
    except ParseError:
        return
    finally:
        assert time.perf_counter() - start < 3.0
    result = A.assemble({path: AnalyzedFile(path, path, LAYER, rec)}, AssembleContext(distro))
    for p in result.packages:
        assert _purl_ok(p.purl).name == p.name


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    path, data = draw(st.sampled_from(SAMPLES))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "zero"]))
        at = draw(st.integers(0, len(buf)))
        if op == "cut":
            del buf[at:]
        elif op == "flip" and at < len(buf):
            buf[at] ^= draw(st.integers(1, 255))
        elif op == "zero":
            buf[at : at + 64] = bytes(len(buf[at : at + 64]))
        else:
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
    return path, bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), data=st.binary(max_size=4096))
def test_arbitrary_bytes_give_a_record_or_parse_error(path: str, data: bytes) -> None:
    _check(path, data)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    case=mutated(), distro=st.sampled_from([None, Distro(id="rhel", version="9"), Distro(id="/")])
)
def test_mutated_databases_give_a_record_or_parse_error(
    case: tuple[str, bytes], distro: Distro | None
) -> None:
    _check(*case, distro)


@pytest.mark.needs_shared
def test_biggest_database_is_analyzed_quickly() -> None:
    data = _bytes("centos-7-bdb-many")
    start = time.perf_counter()
    rec = A.analyze_file(BDB, data)
    A.assemble({BDB: AnalyzedFile(BDB, BDB, LAYER, rec)}, AssembleContext())
    assert time.perf_counter() - start < 3.0
    assert len(rec.packages) == 395
