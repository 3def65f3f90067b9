"""rpmdb readers (BDB, NDB, SQLite) and the header blob parser.

Ground truth: every real database under shared/fixtures/pkgdb/rpm must give exactly the
package set the real ``rpm -qa`` printed (expected-rpm-qa.tsv) and go-rpmdb's expectations
(expected-source.json, with license and modularity label); file lists are compared with
``rpm -qa --qf '[%{FILENAMES}]'`` when an ``rpm`` binary is installed. Hostile input
(truncation, bit flips, random bytes, loops, huge counts) must give a result or ParseError.
"""

from __future__ import annotations

import collections
import csv
import functools
import json
import lzma
import random
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.os.rpmdb import (
    RpmHeaderInfo,
    detect_format,
    parse_header_blob,
    read_rpmdb,
)
from hullscan.analyzers.os.rpmdb.bdb import read_bdb
from hullscan.analyzers.os.rpmdb.ndb import read_ndb
from hullscan.analyzers.os.rpmdb.sqlite import read_sqlite
from hullscan.errors import ParseError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
RPM_FIXTURES = SHARED / "fixtures" / "pkgdb" / "rpm"

# folder -> (database file, format)
DATABASES: dict[str, tuple[str, str]] = {
    "centos-5-bdb-plain": ("Packages.xz", "bdb"),
    "centos-6-bdb-plain": ("Packages.xz", "bdb"),
    "centos-7-bdb-plain": ("Packages.xz", "bdb"),
    "centos-7-bdb-httpd24": ("Packages.xz", "bdb"),
    "centos-7-bdb-many": ("Packages.xz", "bdb"),
    "centos-8-bdb-modularitylabel": ("Packages.xz", "bdb"),
    "rhel-8.0-bdb-ubi": ("Packages.xz", "bdb"),
    "rhel-8-bdb-libuuid": ("Packages", "bdb"),
    "centos-8-bdb-dive-only": ("Packages", "bdb"),
    "fedora-32-bdb-epoch-hello": ("Packages", "bdb"),
    "fedora-modular-26-bdb": ("Packages.xz", "bdb"),
    "sles-12sp4-bdb": ("Packages", "bdb"),
    "empty-bdb": ("Packages", "bdb"),
    "sle-15-ndb-bci": ("Packages.db", "ndb"),
    "cbl-mariner-2.0-sqlite": ("rpmdb.sqlite", "sqlite"),
    "fedora-38-sqlite-2pkgs": ("rpmdb.sqlite", "sqlite"),
    "rhel-8.0-sqlite-DERIVED-from-bdb": ("rpmdb.sqlite.xz", "sqlite"),
}
# Package counts stated in MANIFEST.md, so a broken ground-truth file cannot hide a bug.
MANIFEST_COUNTS = {
    "centos-5-bdb-plain": 110,
    "centos-6-bdb-plain": 129,
    "centos-7-bdb-plain": 144,
    "centos-7-bdb-httpd24": 225,
    "centos-7-bdb-many": 396,
    "centos-8-bdb-modularitylabel": 518,
    "rhel-8.0-bdb-ubi": 101,
    "rhel-8-bdb-libuuid": 1,
    "centos-8-bdb-dive-only": 1,
    "fedora-32-bdb-epoch-hello": 1,
    "fedora-modular-26-bdb": 114,
    "sles-12sp4-bdb": 108,
    "empty-bdb": 0,
    "sle-15-ndb-bci": 35,
    "cbl-mariner-2.0-sqlite": 129,
    "fedora-38-sqlite-2pkgs": 2,
    "rhel-8.0-sqlite-DERIVED-from-bdb": 101,
}
RPM_BACKEND = {"bdb": "bdb_ro", "sqlite": "sqlite"}  # Debian's rpm has no ndb backend
RPM_DB_NAME = {"bdb": "Packages", "sqlite": "rpmdb.sqlite"}

Row = tuple[str, ...]


def _fixture_dir(folder: str) -> Path:
    path = RPM_FIXTURES / folder
    if not path.is_dir():
        pytest.skip(f"shared fixtures absent: {path}")
    return path


@functools.cache
def _load(folder: str) -> bytes:
    name, _ = DATABASES[folder]
    raw = (_fixture_dir(folder) / name).read_bytes()
    return lzma.decompress(raw) if name.endswith(".xz") else raw


@functools.cache
def _read(folder: str) -> tuple[RpmHeaderInfo, ...]:
    return tuple(read_rpmdb(_load(folder), DATABASES[folder][1]))


def _none(value: object) -> str:
    return "(none)" if value is None else str(value)


def _qa_row(info: RpmHeaderInfo) -> Row:
    fields = (info.name, info.epoch, info.version, info.release, info.arch)
    rest = (info.source_rpm, info.size, info.vendor)
    return tuple(_none(v) for v in (*fields, *rest))


def _sorted_rows(rows: list[Row]) -> list[Row]:
    return sorted(rows)


# -- ground truth ---------------------------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", sorted(DATABASES))
def test_matches_rpm_qa(folder: str) -> None:
    tsv = _fixture_dir(folder) / "expected-rpm-qa.tsv"
    if not tsv.exists():
        pytest.skip(f"{folder}: no rpm -qa ground truth (rpm cannot read this format)")
    with tsv.open(newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader)
        expected = [tuple(r) for r in reader]
    assert header == ["NAME", "EPOCH", "VERSION", "RELEASE", "ARCH", "SOURCERPM", "SIZE", "VENDOR"]
    got = [_qa_row(i) for i in _read(folder)]
    # Multiset equality: the same set, and no package reported twice.
    assert collections.Counter(got) == collections.Counter(expected)
    assert len(got) == MANIFEST_COUNTS[folder]


def _source_expectations(folder: str) -> list[dict[str, object]]:
    path = _fixture_dir(folder) / "expected-source.json"
    if not path.exists():
        pytest.skip(f"{folder}: no expected-source.json")
    doc = json.loads(path.read_text())
    packages: list[dict[str, object]] = doc["packages"]
    assert len(packages) == doc["count"]
    return packages


def _go_rpmdb_row(info: RpmHeaderInfo) -> Row:
    # go-rpmdb reports an absent string tag as "" where we say None.
    def s(v: str | None) -> str:
        return "" if v is None else v

    return (
        info.name,
        _none(info.epoch),
        info.version,
        info.release,
        s(info.arch),
        s(info.source_rpm),
        _none(info.size),
        s(info.license),
        s(info.vendor),
        s(info.modularity_label),
    )


@pytest.mark.needs_shared
@pytest.mark.parametrize(
    "folder",
    [
        "centos-5-bdb-plain",
        "centos-6-bdb-plain",
        "centos-7-bdb-plain",
        "centos-7-bdb-httpd24",
        "centos-7-bdb-many",
        "centos-8-bdb-modularitylabel",
        "sle-15-ndb-bci",
    ],
)
def test_matches_go_rpmdb_expectations(folder: str) -> None:
    expected = [
        (
            str(p["name"]),
            _none(p["epoch"]),
            str(p["version"]),
            str(p["release"]),
            str(p["arch"]),
            str(p["sourcerpm"]),
            _none(p["size"]),
            str(p["license"]),
            str(p["vendor"]),
            str(p["modularitylabel"]),
        )
        for p in _source_expectations(folder)
    ]
    got = [_go_rpmdb_row(i) for i in _read(folder)]
    assert collections.Counter(got) == collections.Counter(expected)


@pytest.mark.needs_shared
def test_ndb_matches_go_rpmdb_order() -> None:
    # go-rpmdb lists NDB packages in on-disk order, which is rpm's order too.
    names = [str(p["name"]) for p in _source_expectations("sle-15-ndb-bci")]
    assert [i.name for i in _read("sle-15-ndb-bci")] == names


@pytest.mark.needs_shared
def test_known_packages() -> None:
    (hello,) = _read("fedora-32-bdb-epoch-hello")
    assert (hello.name, hello.epoch, hello.version, hello.release) == ("hello", 1, "0.0.1", "rls")
    assert hello.license == "GPL"
    (dive,) = _read("centos-8-bdb-dive-only")
    assert dive.files == ("/usr/local/bin/dive",)
    assert (dive.epoch, dive.size, dive.source_rpm) == (None, 12406784, "dive-0.9.2-1.src.rpm")
    (libuuid,) = _read("rhel-8-bdb-libuuid")
    # Same list and order as `rpm --dbpath DIR -D '_db_backend bdb_ro' -ql libuuid`.
    assert libuuid.files == (
        "/usr/lib/.build-id",
        "/usr/lib/.build-id/df/ef6a880adac817216ab9866779a0725e017647",
        "/usr/lib64/libuuid.so.1",
        "/usr/lib64/libuuid.so.1.3.0",
        "/usr/share/licenses/libuuid",
        "/usr/share/licenses/libuuid/COPYING",
        "/usr/share/licenses/libuuid/COPYING.BSD-3",
    )
    assert (libuuid.license, libuuid.vendor, libuuid.size) == ("BSD", "Red Hat, Inc.", 35104)
    nodejs = [i for i in _read("centos-8-bdb-modularitylabel") if i.name == "nodejs"]
    assert [(n.epoch, n.version, n.release, n.arch) for n in nodejs] == [
        (1, "10.21.0", "3.module_el8.2.0+391+8da3adc6", "x86_64")
    ]
    assert nodejs[0].modularity_label is not None
    assert nodejs[0].modularity_label.startswith("nodejs:10:")
    curl = [i for i in _read("cbl-mariner-2.0-sqlite") if i.name == "curl"]
    assert [(c.version, c.release, c.size, c.license, c.vendor) for c in curl] == [
        ("7.76.0", "6.cm2", 326023, "MIT", "Microsoft Corporation")
    ]
    bash = next(i for i in _read("sle-15-ndb-bci") if i.name == "bash")
    assert "/usr/bin/bash" in bash.files
    assert bash.files_error is None


@pytest.mark.needs_shared
def test_gpg_pubkey_pseudo_packages_are_returned() -> None:
    keys = [i for i in _read("sles-12sp4-bdb") if i.name == "gpg-pubkey"]
    assert len(keys) == 2
    for key in keys:
        # rpm stores the literal "(none)" as SOURCERPM in these headers; it means absent.
        assert (key.arch, key.source_rpm, key.vendor, key.size, key.files) == (
            None,
            None,
            None,
            0,
            (),
        )


@pytest.mark.needs_shared
def test_empty_bdb_has_no_packages() -> None:
    assert read_rpmdb(_load("empty-bdb"), "bdb") == []


@pytest.mark.needs_shared
def test_bdb_and_sqlite_copies_agree_entirely() -> None:
    bdb = sorted(_read("rhel-8.0-bdb-ubi"), key=repr)
    sqlite = sorted(_read("rhel-8.0-sqlite-DERIVED-from-bdb"), key=repr)
    assert bdb == sqlite


@pytest.mark.needs_shared
def test_header_blob_fixture() -> None:
    blob = (_fixture_dir("header-blob") / "blob.bin").read_bytes()
    info = parse_header_blob(blob)
    assert (info.name, info.epoch, info.version, info.release, info.arch) == (
        "publicsuffix-list-dafsa",
        None,
        "20210518",
        "2.fc35",
        "noarch",
    )
    # go-rpmdb's test expects its file list to be unreadable: DIRINDEXES has an index past
    # DIRNAMES. The package survives; the file list is reported as broken.
    assert info.files == ()
    assert info.files_error is not None
    assert "DIRINDEXES" in info.files_error


def _rpm_file_lists(folder: str) -> collections.Counter[tuple[str, str]]:
    fmt = DATABASES[folder][1]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / RPM_DB_NAME[fmt]).write_bytes(_load(folder))
        out = subprocess.run(
            [
                "rpm",
                "--dbpath",
                tmp,
                "-D",
                f"_db_backend {RPM_BACKEND[fmt]}",
                "-qa",
                "--qf",
                "[%{=NAME}-%{=VERSION}-%{=RELEASE}.%{=ARCH}\t%{FILENAMES}\n]",
            ],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
    pairs: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in out.decode("utf-8", "replace").splitlines():
        nevra, _, path = line.partition("\t")
        pairs[(nevra, path)] += 1
    return pairs


@pytest.mark.needs_shared
@pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm command not installed")
@pytest.mark.parametrize(
    "folder", sorted(f for f, (_, fmt) in DATABASES.items() if fmt in RPM_BACKEND)
)
def test_owned_files_match_rpm(folder: str) -> None:
    ours: collections.Counter[tuple[str, str]] = collections.Counter()
    for info in _read(folder):
        assert info.files_error is None
        nevra = f"{info.name}-{info.version}-{info.release}.{_none(info.arch)}"
        for path in info.files:
            ours[(nevra, path)] += 1
    assert ours == _rpm_file_lists(folder)


@pytest.mark.needs_shared
def test_biggest_database_is_fast() -> None:
    data = _load("centos-7-bdb-many")
    start = time.perf_counter()
    infos = read_rpmdb(data, "bdb")
    elapsed = time.perf_counter() - start
    assert len(infos) == 396
    assert elapsed < 1.0, f"33 MB BDB took {elapsed:.2f}s"


def test_detect_format() -> None:
    assert detect_format("Packages") == "bdb"
    assert detect_format("Packages.db") == "ndb"
    assert detect_format("rpmdb.sqlite") == "sqlite"
    assert detect_format("Name") is None
    assert detect_format("rpmdb.sqlite-wal") is None


def test_unknown_format_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="unknown rpmdb format"):
        read_rpmdb(b"", "lmdb")


# -- synthetic headers ----------------------------------------------------------------------

Entry = tuple[int, int, bytes, int]  # tag, type, payload, count


def s_(tag: int, value: str | bytes, typ: int = 6) -> Entry:
    raw = value.encode() if isinstance(value, str) else value
    return (tag, typ, raw + b"\0", 1)


def a_(tag: int, values: list[str]) -> Entry:
    return (tag, 8, b"".join(v.encode() + b"\0" for v in values), len(values))


def i32(tag: int, *values: int) -> Entry:
    return (tag, 4, struct.pack(f">{len(values)}I", *values), len(values))


def i64(tag: int, *values: int) -> Entry:
    return (tag, 5, struct.pack(f">{len(values)}Q", *values), len(values))


def build_header(*entries: Entry) -> bytes:
    index: list[bytes] = []
    store = bytearray()
    for tag, typ, payload, count in entries:
        store.extend(b"\0" * (-len(store) % {3: 2, 4: 4, 5: 8}.get(typ, 1)))
        index.append(struct.pack(">iIiI", tag, typ, len(store), count))
        store.extend(payload)
    return struct.pack(">ii", len(entries), len(store)) + b"".join(index) + bytes(store)


NVR = (s_(1000, "pkg"), s_(1001, "1.0"), s_(1002, "1.el9"))


def make_blob(name: str = "pkg", files: int = 2, pad: int = 0) -> bytes:
    bases = [f"f{i}" for i in range(files)]
    return build_header(
        s_(1000, name),
        s_(1001, "1.0"),
        s_(1002, "1.el9"),
        s_(1022, "x86_64"),
        i32(1009, 1234),
        s_(1044, f"{name}-1.0-1.el9.src.rpm"),
        s_(1014, "MIT"),
        s_(1011, "Vendor"),
        s_(1004, "x" * pad, typ=9),
        i32(1116, *[i % 2 for i in range(files)]),
        a_(1117, bases),
        a_(1118, ["/usr/bin/", "/etc/"]),
    )


def test_synthetic_header_all_fields() -> None:
    blob = build_header(
        (63, 7, b"\0" * 16, 16),  # a region tag is skipped
        *NVR,
        i32(1003, 7),
        s_(1022, "noarch"),
        s_(1044, "pkg-1.0-1.el9.src.rpm"),
        s_(1014, "GPL-2.0-or-later", typ=9),
        s_(1011, "ACME"),
        s_(5096, "mod:1:2:3"),
        i32(1009, 0xFFFFFFFF),  # SIZE is unsigned
        i32(1116, 0, 1, 0),
        a_(1117, ["a", "b", "c"]),
        a_(1118, ["/x/", "/y/z/"]),
    )
    assert parse_header_blob(blob) == RpmHeaderInfo(
        name="pkg",
        epoch=7,
        version="1.0",
        release="1.el9",
        arch="noarch",
        source_rpm="pkg-1.0-1.el9.src.rpm",
        license="GPL-2.0-or-later",
        vendor="ACME",
        modularity_label="mod:1:2:3",
        size=0xFFFFFFFF,
        files=("/x/a", "/y/z/b", "/x/c"),
    )


def test_synthetic_header_minimal_and_fallbacks() -> None:
    info = parse_header_blob(
        build_header(*NVR, i64(5009, 5 << 32), a_(1027, ["/old/style", "/paths"]))
    )
    assert (info.epoch, info.arch, info.source_rpm, info.license, info.vendor) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert info.size == 5 << 32  # LONGSIZE when SIZE is absent
    assert info.files == ("/old/style", "/paths")  # OLDFILENAMES before rpm 4.1


def test_later_entry_wins_like_rpm_dribbles() -> None:
    info = parse_header_blob(build_header(*NVR, s_(1022, "i686"), s_(1022, "x86_64")))
    assert info.arch == "x86_64"


def test_bad_utf8_is_replaced_not_raised() -> None:
    info = parse_header_blob(build_header(s_(1000, b"p\xffk\xc3"), s_(1001, "1"), s_(1002, "1")))
    assert info.name == "p\ufffdk\ufffd"


def test_source_rpm_placeholder_means_absent() -> None:
    assert parse_header_blob(build_header(*NVR, s_(1044, "(none)"))).source_rpm is None


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((s_(1001, "1"), s_(1002, "1")), "NAME"),
        ((*NVR, i32(1022, 5)), "type"),
        ((*NVR, (1003, 4, b"\0\0", 1)), "exceeds"),
        ((*NVR, (1003, 4, b"\0\0\0\0", 2)), "exceeds"),
        ((*NVR, (1003, 4, b"\0\0\0\0", 0)), "count 0"),
        ((*NVR, (1022, 6, b"no-nul", 1)), "NUL"),
    ],
)
def test_malformed_header_entries(entries: tuple[Entry, ...], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_header_blob(build_header(*entries))


def test_malformed_header_preamble() -> None:
    good = build_header(*NVR)
    il, dl = struct.unpack_from(">ii", good)
    for blob in (
        b"",
        good[:7],
        struct.pack(">ii", 0, 0),
        struct.pack(">ii", -1, 0),
        struct.pack(">ii", 0x10000, 0) + b"\0" * 0x100000,
        struct.pack(">ii", il, -5) + good[8:],
        struct.pack(">ii", il, dl + 1) + good[8:],
        good + b"\0",
        good[:-1],
        struct.pack(">ii", 0x7FFFFFFF, 0x7FFFFFFF) + good[8:],
    ):
        with pytest.raises(ParseError):
            parse_header_blob(blob)


def test_offset_outside_data_store() -> None:
    blob = bytearray(build_header(*NVR))
    struct.pack_into(">i", blob, 8 + 8, 1 << 20)  # NAME's offset
    with pytest.raises(ParseError, match="outside"):
        parse_header_blob(bytes(blob))
    struct.pack_into(">i", blob, 8 + 8, -1)
    with pytest.raises(ParseError, match="outside"):
        parse_header_blob(bytes(blob))


def test_huge_declared_counts_are_bounded() -> None:
    files = (a_(1118, ["/"]), i32(1116, 0), a_(1117, ["a"]))
    for entries in (
        (*files, (1117, 8, b"a\0", 0xFFFFFFFF)),  # the later entry wins
        (*files, (1118, 8, b"a\0", 0x7FFFFFFF)),
        (*files, (1116, 4, b"\0\0\0\0", 0xFFFFFFFF)),
        ((1027, 8, b"a\0", 0xFFFFFFFF),),
    ):
        blob = build_header(*NVR, *entries)
        start = time.perf_counter()
        info = parse_header_blob(blob)
        assert time.perf_counter() - start < 0.5
        assert info.files == ()
        assert info.files_error is not None


@pytest.mark.parametrize(
    "entries",
    [
        (i32(1116, 0, 1), a_(1117, ["a", "b"]), a_(1118, ["/"])),  # index past DIRNAMES
        (i32(1116, 0), a_(1117, ["a", "b"]), a_(1118, ["/"])),  # count mismatch
        (a_(1117, ["a"]),),  # BASENAMES alone
    ],
)
def test_inconsistent_file_list_keeps_the_package(entries: tuple[Entry, ...]) -> None:
    info = parse_header_blob(build_header(*NVR, *entries))
    assert info.name == "pkg"
    assert info.files == ()
    assert info.files_error


def test_file_list_expansion_bomb_is_refused() -> None:
    # One 1 MiB dirname referenced by 100k one-byte basenames would be 100 GiB of paths.
    n = 100_000
    blob = build_header(
        *NVR,
        a_(1118, ["/" + "d" * (1 << 20) + "/"]),
        (1116, 4, b"\0" * (4 * n), n),
        (1117, 8, b"a\0" * n, n),
    )
    info = parse_header_blob(blob)
    assert info.files == ()
    assert info.files_error is not None
    assert "expands" in info.files_error


# -- synthetic containers -------------------------------------------------------------------


def build_bdb(
    values: list[bytes],
    endian: str = "<",
    page_size: int = 512,
    inline_max: int = 64,
) -> bytearray:
    """A hash DB with rpm's layout: key 0 = instance counter, keys 1..n = header blobs.

    All items go on hash page 1 (large values go off-page, so they fit in 4096 bytes of
    index if page_size allows); overflow chains follow from page 2 on."""
    e = endian
    pages: list[bytearray] = [bytearray(page_size), bytearray(page_size)]
    items: list[bytes] = [b"\x01" + b"\0" * 4, b"\x01" + struct.pack(e + "I", len(values) + 1)]
    for number, value in enumerate(values, start=1):
        items.append(b"\x01" + struct.pack(e + "I", number))
        if len(value) <= inline_max:
            items.append(b"\x01" + value)
            continue
        first = len(pages)
        chunk = page_size - 26
        parts = [value[i : i + chunk] for i in range(0, len(value), chunk)]
        for k, part in enumerate(parts):
            page = bytearray(page_size)
            nxt = first + k + 1 if k + 1 < len(parts) else 0
            struct.pack_into(e + "IIIHH", page, 8, first + k, 0, nxt, 1, len(part))
            page[25] = 7
            page[26 : 26 + len(part)] = part
            pages.append(page)
        items.append(b"\x03\0\0\0" + struct.pack(e + "II", first, len(value)))
    hash_page = pages[1]
    offsets: list[int] = []
    top = page_size
    for item in items:
        top -= len(item)
        hash_page[top : top + len(item)] = item
        offsets.append(top)
    assert 26 + 2 * len(offsets) <= top, "too many items for one hash page"
    struct.pack_into(e + "IIIHH", hash_page, 8, 1, 0, 0, len(items), top)
    hash_page[25] = 13
    struct.pack_into(f"{e}{len(offsets)}H", hash_page, 26, *offsets)
    meta = pages[0]
    struct.pack_into(e + "IIII", meta, 8, 0, 0x061561, 9, page_size)
    meta[25] = 8
    struct.pack_into(e + "I", meta, 32, len(pages) - 1)
    return bytearray(b"".join(pages))


def build_ndb(blobs: list[bytes], slot_pages: int = 1) -> bytearray:
    data = bytearray(slot_pages * 4096)
    for off in range(0, len(data), 16):
        data[off : off + 4] = b"Slot"
    struct.pack_into("<4sIII", data, 0, b"RpmP", 0, 1, slot_pages)
    struct.pack_into("<I", data, 16, len(blobs) + 1)
    blkoff = slot_pages * 256
    # Slots are written in reverse so the reader must order blobs by block offset itself.
    for n, blob in enumerate(blobs, start=1):
        total = 16 + len(blob) + 12
        blkcnt = (total + 15) // 16
        struct.pack_into("<4sIII", data, 16 * (len(blobs) - n + 2), b"Slot", n, blkoff, blkcnt)
        body = bytearray(blkcnt * 16)
        struct.pack_into("<4sIII", body, 0, b"BlbS", n, 1700000000, len(blob))
        body[16 : 16 + len(blob)] = blob
        adler = zlib.adler32(bytes(body[: blkcnt * 16 - 12]))
        struct.pack_into("<II4s", body, len(body) - 12, adler, len(blob), b"BlbE")
        assert len(data) == blkoff * 16
        data.extend(body)
        blkoff += blkcnt
    return data


def build_sqlite(blobs: list[object], schema: str | None = None, wal: bool = True) -> bytes:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        schema
        or "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"
    )
    if schema is None:
        conn.executemany("INSERT INTO Packages(blob) VALUES (?)", [(b,) for b in blobs])
    conn.commit()
    image = bytearray(conn.serialize())
    conn.close()
    if wal:  # what rpm leaves on disk: the WAL-mode marker in the file header
        image[18] = image[19] = 2
    return bytes(image)


SYNTHETIC_BLOBS = [make_blob("small", files=1), make_blob("big", files=50, pad=3000)]


@pytest.mark.parametrize("endian", ["<", ">"])
def test_synthetic_bdb_both_byte_orders(endian: str) -> None:
    data = build_bdb(SYNTHETIC_BLOBS, endian=endian, inline_max=300)
    assert read_bdb(bytes(data)) == SYNTHETIC_BLOBS
    infos = read_rpmdb(bytes(data), "bdb")
    assert [i.name for i in infos] == ["small", "big"]
    assert infos[1].files[:2] == ("/usr/bin/f0", "/etc/f1")


def test_synthetic_ndb_and_sqlite() -> None:
    assert read_ndb(bytes(build_ndb(SYNTHETIC_BLOBS))) == SYNTHETIC_BLOBS
    assert read_ndb(bytes(build_ndb(SYNTHETIC_BLOBS, slot_pages=2))) == SYNTHETIC_BLOBS
    assert read_sqlite(build_sqlite(list(SYNTHETIC_BLOBS))) == SYNTHETIC_BLOBS
    assert read_sqlite(build_sqlite(list(SYNTHETIC_BLOBS), wal=False)) == SYNTHETIC_BLOBS


def _overflow_item_offset(data: bytearray) -> int:
    """Offset of the last (off-page) value item on hash page 1 of a build_bdb file."""
    page = 512
    entries: int = struct.unpack_from("<H", data, page + 20)[0]
    off: int = struct.unpack_from("<H", data, page + 26 + 2 * (entries - 1))[0]
    assert data[page + off] == 3
    return page + off


def test_bdb_overflow_loop_is_detected_quickly() -> None:
    data = build_bdb([make_blob(pad=3000)])
    last = struct.unpack_from("<I", data, 32)[0]
    struct.pack_into("<I", data, last * 512 + 16, 2)  # last overflow page -> first
    item = _overflow_item_offset(data)
    struct.pack_into("<I", data, item + 8, len(data) - 1)  # claim more bytes than the chain
    start = time.perf_counter()
    with pytest.raises(ParseError, match="used twice"):
        read_bdb(bytes(data))
    assert time.perf_counter() - start < 0.5


def test_bdb_self_loop_and_shared_chains() -> None:
    data = build_bdb([make_blob(pad=3000)])
    struct.pack_into("<I", data, 2 * 512 + 16, 2)  # page 2 points at itself
    with pytest.raises(ParseError):
        read_bdb(bytes(data))
    # Two values pointing at the same chain: the second use is refused.
    data = build_bdb([make_blob("a", pad=3000), make_blob("b", pad=3000)])
    page = 512
    entries = struct.unpack_from("<H", data, page + 20)[0]
    offs = struct.unpack_from(f"<{entries}H", data, page + 26)
    first_chain = data[page + offs[3] : page + offs[3] + 12]
    data[page + offs[5] : page + offs[5] + 12] = first_chain
    with pytest.raises(ParseError, match="used twice"):
        read_bdb(bytes(data))


@pytest.mark.parametrize(
    ("field_offset", "value", "message"),
    [
        (4, 0xFFFFFFFF, "overflow page"),  # page number past the end
        (4, 0, "overflow page"),  # page 0 is the metadata page
        (8, 0xFFFFFFFF, "off-page item"),  # huge total length
        (8, 0, "off-page item"),
    ],
)
def test_bdb_bad_offpage_items(field_offset: int, value: int, message: str) -> None:
    data = build_bdb([make_blob(pad=3000)])
    struct.pack_into("<I", data, _overflow_item_offset(data) + field_offset, value)
    with pytest.raises(ParseError, match=message):
        read_bdb(bytes(data))


def test_bdb_bad_metadata() -> None:
    good = build_bdb([make_blob()])
    cases: list[tuple[int, bytes]] = [
        (12, b"\0\0\0\0"),  # magic
        (16, struct.pack("<I", 7)),  # version
        (20, struct.pack("<I", 1000)),  # page size
        (25, b"\x05"),  # page type
        (32, struct.pack("<I", 0xFFFFFFFF)),  # last page far past the end
    ]
    for offset, raw in cases:
        data = bytearray(good)
        data[offset : offset + len(raw)] = raw
        with pytest.raises(ParseError):
            read_bdb(bytes(data))
    with pytest.raises(ParseError):
        read_bdb(bytes(good[:100]))


def test_bdb_hash_page_with_absurd_entry_count() -> None:
    data = build_bdb([make_blob()])
    struct.pack_into("<H", data, 512 + 20, 0xFFFE)
    with pytest.raises(ParseError, match="too many items"):
        read_bdb(bytes(data))


def test_ndb_structural_errors() -> None:
    good = build_ndb(SYNTHETIC_BLOBS)
    first_slot = 32
    blkoff = struct.unpack_from("<I", good, first_slot + 8)[0]
    patches: list[tuple[int, bytes, str]] = [
        (0, b"XXXX", "magic"),
        (4, struct.pack("<I", 1), "version"),
        (12, struct.pack("<I", 0), "slot page"),
        (12, struct.pack("<I", 0xFFFFFFFF), "slot page"),
        (first_slot, b"Slqt", "slot magic"),
        (first_slot + 8, struct.pack("<I", 3), "bad slot"),  # inside the slot pages
        (first_slot + 12, struct.pack("<I", 0xFFFFFFF), "past the end"),
        (first_slot + 4, struct.pack("<I", 0), "bad slot"),
        (blkoff * 16, b"BlbX", "blob head"),
        (blkoff * 16 + 12, struct.pack("<I", 1 << 30), "disagrees"),
    ]
    for offset, raw, message in patches:
        data = bytearray(good)
        data[offset : offset + len(raw)] = raw
        with pytest.raises(ParseError, match=message):
            read_ndb(bytes(data))
    # Two slots claiming the same blocks.
    data = bytearray(good)
    data[48:64] = data[32:48]
    with pytest.raises(ParseError, match="overlaps"):
        read_ndb(bytes(data))
    with pytest.raises(ParseError, match="whole number of blocks"):
        read_ndb(bytes(good[:-1]))


def test_sqlite_hostile_schemas() -> None:
    looping_view = (
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS "
        "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT zeroblob(8) AS blob FROM c"
    )
    for schema in (
        looping_view,
        "CREATE TABLE Other (blob BLOB)",
        "CREATE VIRTUAL TABLE Packages USING fts5(blob)",
    ):
        with pytest.raises(ParseError, match="Packages table"):
            read_sqlite(build_sqlite([], schema=schema))


def test_sqlite_generated_column_cannot_allocate_past_file_size() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, n INT, "
        "blob BLOB GENERATED ALWAYS AS (zeroblob(n)) VIRTUAL)"
    )
    conn.execute("INSERT INTO Packages(n) VALUES (1000000000)")
    conn.commit()
    image = conn.serialize()
    with pytest.raises(ParseError):
        read_sqlite(image)


def test_sqlite_work_budget_aborts_long_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    import hullscan.analyzers.os.rpmdb.sqlite as sqlite_reader

    data = build_sqlite([make_blob(str(n)) for n in range(3000)])
    assert len(read_sqlite(data)) == 3000
    monkeypatch.setattr(sqlite_reader, "_PROGRESS_EVERY", 100)
    monkeypatch.setattr(sqlite_reader, "_PROGRESS_BUDGET", 10)
    with pytest.raises(ParseError, match="interrupt"):
        read_sqlite(data)


def test_sqlite_non_blob_values_and_garbage() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob)")
    conn.execute("INSERT INTO Packages(blob) VALUES ('text')")
    conn.commit()
    with pytest.raises(ParseError, match="str"):
        read_sqlite(conn.serialize())
    with pytest.raises(ParseError, match="not an SQLite"):
        read_sqlite(b"not a database at all" * 10)
    with pytest.raises(ParseError):
        read_sqlite(b"SQLite format 3\x00" + b"\xff" * 4000)


# -- hostile input: truncation, bit flips, random bytes -------------------------------------

Reader = Callable[[bytes], object]
READERS: dict[str, Reader] = {
    "bdb": lambda d: read_rpmdb(d, "bdb"),
    "ndb": lambda d: read_rpmdb(d, "ndb"),
    "sqlite": lambda d: read_rpmdb(d, "sqlite"),
    "header": parse_header_blob,
}


def _survives(reader: Reader, data: bytes) -> None:
    """Result or ParseError; anything else (IndexError, struct.error, ...) fails the test."""
    try:
        reader(data)
    except ParseError:
        pass


def _small_real(fmt: str) -> bytes:
    folder = {
        "bdb": "rhel-8-bdb-libuuid",
        "ndb": "sle-15-ndb-bci",
        "sqlite": "fedora-38-sqlite-2pkgs",
    }[fmt]
    return _load(folder)


def _synthetic(fmt: str) -> bytes:
    blobs = [make_blob("a", files=3), make_blob("b", files=20, pad=900)]
    if fmt == "bdb":
        return bytes(build_bdb(blobs))
    if fmt == "ndb":
        return bytes(build_ndb(blobs))
    if fmt == "sqlite":
        return build_sqlite(list(blobs))
    return make_blob("h", files=20)


def _cut_points(size: int, rng: random.Random, n: int) -> list[int]:
    step = max(1, size // n)
    return sorted({*range(0, size, step), *(rng.randrange(size) for _ in range(n // 4))})


@pytest.mark.parametrize("fmt", ["bdb", "ndb", "sqlite", "header"])
def test_truncated_and_flipped_synthetic(fmt: str) -> None:
    rng = random.Random(f"synthetic-{fmt}")
    data = _synthetic(fmt)
    reader = READERS[fmt]
    start = time.perf_counter()
    for cut in _cut_points(len(data), rng, 300):
        _survives(reader, data[:cut])
    for _ in range(300):
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        _survives(reader, bytes(flipped))
    assert time.perf_counter() - start < 30


@pytest.mark.needs_shared
@pytest.mark.parametrize("fmt", ["bdb", "ndb", "sqlite"])
def test_truncated_and_flipped_real(fmt: str) -> None:
    rng = random.Random(f"real-{fmt}")
    data = _small_real(fmt)
    reader = READERS[fmt]
    start = time.perf_counter()
    for cut in _cut_points(len(data), rng, 60):
        _survives(reader, data[:cut])
    for _ in range(60):
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 16)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        _survives(reader, bytes(flipped))
    assert time.perf_counter() - start < 60


@pytest.mark.needs_shared
def test_real_header_blobs_flipped() -> None:
    rng = random.Random("blobs")
    blobs = read_bdb(_load("rhel-8.0-bdb-ubi"))[:20]
    for blob in blobs:
        for _ in range(40):
            flipped = bytearray(blob)
            # Concentrate flips in the preamble and index, where they matter most.
            limit = min(len(flipped), 8 + 16 * 80)
            for _ in range(rng.randint(1, 3)):
                flipped[rng.randrange(limit)] ^= 1 << rng.randrange(8)
            _survives(parse_header_blob, bytes(flipped))


@pytest.mark.parametrize("fmt", ["bdb", "ndb", "sqlite", "header"])
def test_random_bytes(fmt: str) -> None:
    rng = random.Random(f"random-{fmt}")
    prefix = {
        "bdb": bytes(_synthetic("bdb")[:32]),
        "ndb": b"RpmP" + b"\0" * 8 + b"\x01\0\0\0",
        "sqlite": b"SQLite format 3\x00",
        "header": b"",
    }[fmt]
    for size in (0, 1, 7, 8, 16, 100, 511, 512, 4096, 8192, 20000):
        for _ in range(5):
            _survives(READERS[fmt], prefix + rng.randbytes(size))
            _survives(READERS[fmt], bytes(prefix + bytes(size)))


# -- property tests -------------------------------------------------------------------------

TAGS = st.sampled_from(
    [1000, 1001, 1002, 1003, 1009, 1011, 1014, 1022, 1027, 1044, 1116, 1117, 1118, 5009, 5096]
)
INDEX_ENTRY = st.tuples(
    st.one_of(TAGS, st.integers(-(2**31), 2**31 - 1)),
    st.integers(0, 10),
    st.one_of(st.integers(-4, 64), st.integers(-(2**31), 2**31 - 1)),
    st.one_of(st.integers(0, 8), st.integers(0, 2**32 - 1)),
)


@st.composite
def near_valid_headers(draw: st.DrawFn) -> bytes:
    entries = draw(st.lists(INDEX_ENTRY, min_size=0, max_size=12))
    store = draw(st.binary(max_size=96))
    if draw(st.booleans()):
        store = draw(st.sampled_from([b"\0", b"a\0", b"/\0b\0"])) * 8 + store
    il = draw(st.one_of(st.just(len(entries)), st.integers(-2, 2**31 - 1)))
    dl = draw(st.one_of(st.just(len(store)), st.integers(-2, 2**31 - 1)))
    index = b"".join(struct.pack(">iIiI", *e) for e in entries)
    return struct.pack(">ii", il, dl) + index + store


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(near_valid_headers(), st.binary(max_size=300)))
def test_property_parse_header_blob(blob: bytes) -> None:
    try:
        info = parse_header_blob(blob)
    except ParseError:
        return
    assert isinstance(info.name, str)
    assert all(isinstance(f, str) for f in info.files)


MUTATIONS = st.lists(st.tuples(st.integers(0, 2**32), st.integers(0, 255)), max_size=8)


@pytest.mark.parametrize("fmt", ["bdb", "ndb", "sqlite"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=MUTATIONS, cut=st.one_of(st.none(), st.integers(0, 2**32)))
def test_property_readers(fmt: str, mutations: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray(_synthetic(fmt))
    for position, value in mutations:
        data[position % len(data)] = value
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    _survives(READERS[fmt], bytes(data))


@pytest.mark.parametrize("fmt", ["bdb", "ndb", "sqlite"])
@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2048))
def test_property_readers_arbitrary_bytes(fmt: str, data: bytes) -> None:
    _survives(READERS[fmt], data)
