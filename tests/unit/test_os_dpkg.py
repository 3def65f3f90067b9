"""DpkgAnalyzer against the real dpkg databases in shared/fixtures/pkgdb/dpkg.

Ground truth is ``expected-dpkg-query.tsv``, written by the real ``dpkg-query -W`` (columns
Package, Version, Architecture, db:Status-Abbrev, Source). A package is expected exactly when its
status letter (2nd of Status-Abbrev) is not ``n`` (not-installed) or ``c`` (config-files): the
analyzer reports every state whose files are on disk. The source package is dpkg's
``${source:Package}`` / ``${source:Version}``, derived here from the raw Source column by dpkg's
rule (``name (version)``, ``name``, or absent = the binary's own name and version) and, when a
``dpkg-query`` binary is installed, also asked of dpkg-query itself.

Owned files are compared with the ``.list`` files dpkg wrote (``libc6:amd64.list`` naming for
``Multi-Arch: same``), minus the directories that hold other listed paths, and with
``dpkg-query -L`` when available.
"""

from __future__ import annotations

import collections
import functools
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.analyzers.base import AnalyzedFile, AssembleContext
from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.os.dpkg import DpkgAnalyzer, DpkgRecord, leaf_paths
from hullscan.errors import ParseError
from hullscan.model import Distro, DpkgMeta, Package
from tests.unit.osfixtures import (
    LAYER,
    PKGDB,
    analyze,
    analyzed,
    assemble,
    folders,
    pkgdb,
    tree,
    tsv_rows,
)

A = DpkgAnalyzer()

# Counts stated in MANIFEST.md (so a broken ground-truth file cannot hide a bug).
MANIFEST_COUNTS = {
    "debian-11-arm64": 96,
    "debian-12-minbase-debootstrap": 88,
    "debian-12-osv-scalibr-valid": 7,
    "ubuntu-18.04-scancode-basic": 6,
    "ubuntu-18.04": 90,
    "ubuntu-20.04-scancode-lists": 5,
    "ubuntu-tar-md5sums": 1,
}
DISTROS = {
    "debian-11-arm64": Distro(id="debian", version="11", codename="bullseye"),
    "debian-12-minbase-debootstrap": Distro(id="debian", version="12", codename="bookworm"),
    "debian-12-osv-scalibr-valid": Distro(id="debian", version="12", codename="bookworm"),
    "ubuntu-18.04-scancode-basic": Distro(id="ubuntu", version="18.04", id_like=("debian",)),
    "ubuntu-18.04": Distro(id="ubuntu", version="18.04", id_like=("debian",)),
    "ubuntu-20.04-scancode-lists": Distro(id="ubuntu", version="20.04", id_like=("debian",)),
    "ubuntu-tar-md5sums": Distro(id="ubuntu", version="18.04", id_like=("debian",)),
}
GROUND_TRUTH = folders("dpkg", "expected-dpkg-query.tsv") or sorted(MANIFEST_COUNTS)
PRESENT = set("iUFHWt")  # dpkg status letters whose files are on disk
ABBREV_STATE = {
    "n": "not-installed",
    "c": "config-files",
    "H": "half-installed",
    "U": "unpacked",
    "F": "half-configured",
    "W": "triggers-awaited",
    "t": "triggers-pending",
    "i": "installed",
}


@functools.cache
def _fixture(folder: str) -> tuple[Package, ...]:
    root = pkgdb("dpkg", folder)
    return tuple(assemble(A, tree(root, A), distro=DISTROS.get(folder)).packages)


def _by_key(packages: tuple[Package, ...]) -> dict[tuple[str, str | None], Package]:
    out = {(p.name, p.arch): p for p in packages}
    assert len(out) == len(packages), "a package is reported twice"
    return out


def _dpkg_source(row: dict[str, str]) -> tuple[str, str]:
    """dpkg's ${source:Package} ${source:Version} from the raw Source field."""
    source = row["Source"].strip()
    if not source:
        return row["Package"], row["Version"]
    name, _, rest = source.partition(" ")
    version = rest.strip()
    if version:
        assert version.startswith("(") and version.endswith(")"), source
        return name, version[1:-1]
    return name, row["Version"]


def _meta(p: Package) -> DpkgMeta:
    assert isinstance(p.metadata, DpkgMeta)
    return p.metadata


# -- ground truth: dpkg-query -W ----------------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", GROUND_TRUTH)
def test_matches_dpkg_query(folder: str) -> None:
    rows = tsv_rows(pkgdb("dpkg", folder, "expected-dpkg-query.tsv"))
    assert rows, folder
    present = [r for r in rows if r["db:Status-Abbrev"][1] in PRESENT]
    got = _by_key(_fixture(folder))
    expected = collections.Counter(
        (r["Package"], r["Version"], r["Architecture"] or None) for r in present
    )
    assert collections.Counter((p.name, p.version, p.arch) for p in got.values()) == expected
    assert len(got) == MANIFEST_COUNTS[folder]
    for r in present:
        p = got[(r["Package"], r["Architecture"] or None)]
        assert (p.source_name, p.source_version) == _dpkg_source(r), p.name
        abbrev = r["db:Status-Abbrev"]
        status = _meta(p).status
        assert status is not None
        assert status.split()[2] == ABBREV_STATE[abbrev[1]]
        assert p.type == "deb"
        assert p.found_by == "os/dpkg"
        assert [loc.path for loc in p.locations] == ["var/lib/dpkg/status"]
    absent = {r["Package"] for r in rows if r["db:Status-Abbrev"][1] not in PRESENT}
    assert not absent & {p.name for p in got.values()}


@pytest.mark.needs_shared
def test_removed_package_in_rc_state_is_absent() -> None:
    rows = tsv_rows(pkgdb("dpkg", "ubuntu-18.04", "expected-dpkg-query.tsv"))
    rc = [r for r in rows if r["db:Status-Abbrev"].startswith("rc")]
    assert [(r["Package"], r["Version"]) for r in rc] == [("git", "1:2.20.1-2+deb10u3")]
    assert "git" not in {p.name for p in _fixture("ubuntu-18.04")}


@pytest.mark.needs_shared
def test_source_versions_of_binnmus_and_epochs() -> None:
    deb12 = _by_key(_fixture("debian-12-minbase-debootstrap"))
    bash = deb12[("bash", "amd64")]
    assert (bash.version, bash.source_name, bash.source_version) == (
        "5.2.15-2+b13",
        "bash",
        "5.2.15-2",
    )
    assert deb12[("base-files", "amd64")].version == "12.4+deb12u15"
    assert deb12[("zlib1g", "amd64")].version == "1:1.2.13.dfsg-1"
    deb11 = _by_key(_fixture("debian-11-arm64"))
    bsdutils = deb11[("bsdutils", "arm64")]
    # the binary has an epoch the source does not
    assert (bsdutils.version, bsdutils.source_name, bsdutils.source_version) == (
        "1:2.36.1-8+deb11u1",
        "util-linux",
        "2.36.1-8+deb11u1",
    )
    scalibr = _by_key(_fixture("debian-12-osv-scalibr-valid"))
    extra = scalibr[("util-linux-extra", "amd64")]
    assert (extra.version, extra.source_name, extra.source_version) == (
        "2.38.1-5+b1",
        "util-linux",
        "2.38.1-5",
    )
    libacl = scalibr[("libacl1", "amd64")]
    assert (libacl.source_name, libacl.source_version) == ("acl", "2.3.1-3")
    admin = scalibr[("admin-session", "amd64")]  # a vendor package without Source
    assert (admin.source_name, admin.source_version) == (
        "admin-session",
        "2023.06.26.c543406313-00",
    )
    basic = _by_key(_fixture("ubuntu-18.04-scancode-basic"))
    assert {p.source_name for p in basic.values()} == {
        "apt",
        "audit",
        "e2fsprogs",
        "ncurses",
        "perl",
        "systemd",
    }
    assert basic[("libaudit1", "amd64")].version == "1:2.8.2-1ubuntu1"


@pytest.mark.needs_shared
def test_metadata_fields() -> None:
    deb11 = _by_key(_fixture("debian-11-arm64"))
    adduser = deb11[("adduser", "all")]
    meta = _meta(adduser)
    assert meta.status == "install ok installed"
    assert meta.priority == "important"
    assert meta.section == "admin"
    assert meta.multi_arch == "foreign"
    assert meta.installed_size is not None
    assert meta.installed_size > 0
    assert meta.maintainer is not None
    assert "Debian Adduser Developers" in meta.maintainer
    apt = deb11[("apt", "arm64")]
    assert _meta(apt).depends is not None
    assert "libapt-pkg6.0" in (_meta(apt).depends or "")


@pytest.mark.needs_shared
@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="dpkg-query not installed")
@pytest.mark.parametrize("folder", GROUND_TRUTH)
def test_source_fields_match_live_dpkg_query(folder: str) -> None:
    root = pkgdb("dpkg", folder, "var", "lib", "dpkg")
    with tempfile.TemporaryDirectory() as tmp:
        admin = Path(tmp)
        shutil.copy(root / "status", admin / "status")
        (admin / "info").mkdir()
        (admin / "updates").mkdir()
        (admin / "available").write_bytes(b"")
        out = subprocess.run(
            [
                "dpkg-query",
                f"--admindir={admin}",
                "-W",
                "-f",
                "${Package}\\t${Architecture}\\t${db:Status-Abbrev}\\t"
                "${source:Package}\\t${source:Version}\\n",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout.decode()
    live = {}
    for line in out.splitlines():
        name, arch, abbrev, src, srcver = line.split("\t")
        if abbrev[1] in PRESENT:
            live[(name, arch or None)] = (src, srcver)
    got = _by_key(_fixture(folder))
    assert {k: (p.source_name, p.source_version) for k, p in got.items()} == live


# -- owned files ------------------------------------------------------------------------------


def _expected_leaves(paths: list[str]) -> set[str]:
    """Listed paths (relative) minus every directory that is an ancestor of another one."""
    rel = {p.strip().strip("/") for p in paths} - {"", "."}
    ancestors = set()
    for p in rel:
        parts = p.split("/")
        ancestors.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return rel - ancestors


def _list_file(info: Path, name: str, arch: str | None, suffix: str) -> Path | None:
    for candidate in (info / f"{name}:{arch}{suffix}", info / f"{name}{suffix}"):
        if candidate.exists():
            return candidate
    return None


@pytest.mark.needs_shared
def test_owned_files_of_every_debootstrap_package_match_its_list() -> None:
    info = pkgdb("dpkg", "debian-12-minbase-debootstrap", "var", "lib", "dpkg", "info")
    packages = _fixture("debian-12-minbase-debootstrap")
    multiarch = 0
    for p in packages:
        list_file = _list_file(info, p.name, p.arch, ".list")
        assert list_file is not None, p.name
        multiarch += ":" in list_file.name
        expected = _expected_leaves(list_file.read_text().splitlines())
        assert set(p.files) == expected, p.name
        assert list(p.files) == sorted(p.files)
    # every Multi-Arch: same package (48 here) has a "<name>:amd64.list"
    assert multiarch == sum(_meta(p).multi_arch == "same" for p in packages) == 48
    libc6 = next(p for p in packages if p.name == "libc6")
    assert "lib/x86_64-linux-gnu/libc.so.6" in libc6.files
    assert "lib/x86_64-linux-gnu" not in libc6.files  # a directory holding listed files
    bash = next(p for p in packages if p.name == "bash")
    assert "bin/bash" in bash.files  # as dpkg lists it (the rootfs is usr-merged by links)
    assert all(not f.startswith("/") for p in packages for f in p.files)


@pytest.mark.needs_shared
@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="dpkg-query not installed")
def test_owned_files_match_live_dpkg_query_listfiles() -> None:
    root = pkgdb("dpkg", "debian-12-minbase-debootstrap", "var", "lib", "dpkg")
    packages = {f"{p.name}:{p.arch}": p for p in _fixture("debian-12-minbase-debootstrap")}
    with tempfile.TemporaryDirectory() as tmp:
        admin = Path(tmp)
        shutil.copy(root / "status", admin / "status")
        shutil.copytree(root / "info", admin / "info")
        # dpkg writes info/format "1" when it converts to the multiarch layout (the fixture
        # keeps only .list/.md5sums); without it dpkg looks for gcc-12-base.list, not
        # gcc-12-base:amd64.list.
        (admin / "info" / "format").write_text("1\n")
        (admin / "updates").mkdir()
        (admin / "available").write_bytes(b"")
        for spec, p in sorted(packages.items()):
            out = subprocess.run(
                ["dpkg-query", f"--admindir={admin}", "-L", spec],
                capture_output=True,
                check=True,
                timeout=60,
            ).stdout.decode()
            listed = [ln for ln in out.splitlines() if ln.startswith("/")]
            assert set(p.files) == _expected_leaves(listed), spec


@pytest.mark.needs_shared
def test_list_wins_over_md5sums_and_md5sums_fill_a_missing_list() -> None:
    info = pkgdb("dpkg", "ubuntu-20.04-scancode-lists", "var", "lib", "dpkg", "info")
    got = {p.name: p for p in _fixture("ubuntu-20.04-scancode-lists")}
    # bash has both: the .list (which also has directories, symlinks and conffiles) is used
    bash_list = _expected_leaves((info / "bash.list").read_text().splitlines())
    assert set(got["bash"].files) == bash_list
    assert "etc/bash.bashrc" in got["bash"].files  # a conffile: in .list, not in .md5sums
    assert "etc/bash.bashrc" not in (info / "bash.md5sums").read_text()
    assert set(got["base-files"].files) == _expected_leaves(
        (info / "base-files.list").read_text().splitlines()
    )
    # base-passwd has only its .md5sums
    md5 = [ln.split(None, 1)[1] for ln in (info / "base-passwd.md5sums").read_text().splitlines()]
    assert set(got["base-passwd"].files) == set(md5)
    assert len(got["base-passwd"].files) == 17
    assert got["e2fsprogs"].files == ()
    assert got["tar"].files == ()


@pytest.mark.needs_shared
def test_md5sums_only_package_tar() -> None:
    (tar,) = _fixture("ubuntu-tar-md5sums")
    assert (tar.name, tar.version, tar.arch) == ("tar", "1.29b-2", "amd64")
    assert len(tar.files) == 13  # trivy's expectation: 13 installed files
    assert tar.files[0] == "usr/bin/tar"
    assert "usr/share/man/man8/rmt-tar.8.gz" in tar.files


@pytest.mark.needs_shared
def test_info_md5sums_sample_is_parsed() -> None:
    files = tree(pkgdb("dpkg", "syft-info-samples"), A)
    assert list(files) == ["var/lib/dpkg/info/zlib1g.md5sums"]  # .conffiles is not read
    rec = analyze(A, *next(iter(files.items())))
    assert isinstance(rec, DpkgRecord)
    assert rec.kind == "files"
    assert rec.files == (
        "lib/x86_64-linux-gnu/libz.so.1.2.11",
        "usr/share/doc/zlib1g/changelog.Debian.gz",
        "usr/share/doc/zlib1g/changelog.gz",
        "usr/share/doc/zlib1g/copyright",
    )


def test_multiarch_lists_are_matched_by_architecture() -> None:
    status = (
        b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
        b"Multi-Arch: same\nVersion: 2.36-9\n\n"
        b"Package: libc6\nStatus: install ok installed\nArchitecture: i386\n"
        b"Multi-Arch: same\nVersion: 2.36-9\n\n"
        b"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2\n"
    )
    files = {
        "var/lib/dpkg/status": status,
        "var/lib/dpkg/info/libc6:amd64.list": b"/.\n/lib\n/lib/x86_64-linux-gnu\n"
        b"/lib/x86_64-linux-gnu/libc.so.6\n",
        "var/lib/dpkg/info/libc6:i386.list": b"/.\n/lib\n/lib/i386-linux-gnu\n"
        b"/lib/i386-linux-gnu/libc.so.6\n",
        "var/lib/dpkg/info/bash.list": b"/.\n/bin\n/bin/bash\n",
    }
    got = {(p.name, p.arch): p.files for p in assemble(A, files).packages}
    assert got == {
        ("libc6", "amd64"): ("lib/x86_64-linux-gnu/libc.so.6",),
        ("libc6", "i386"): ("lib/i386-linux-gnu/libc.so.6",),
        ("bash", "amd64"): ("bin/bash",),
    }


# -- distroless status.d ------------------------------------------------------------------------


@pytest.mark.needs_shared
def test_distroless_syft_libsqlite() -> None:
    (p,) = assemble(A, tree(pkgdb("dpkg", "distroless-debian-11-syft"), A)).packages
    assert (p.name, p.version, p.arch, p.source_name, p.source_version) == (
        "libsqlite3-0",
        "3.34.1-3",
        "arm64",
        "sqlite3",
        "3.34.1-3",
    )
    assert [loc.path for loc in p.locations] == ["var/lib/dpkg/status.d/libsqlite3-0"]
    assert _meta(p).status is None  # status.d stanzas say no Status
    assert p.files == (
        "usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6",
        "usr/share/doc/libsqlite3-0/README.Debian",
        "usr/share/doc/libsqlite3-0/changelog.Debian.gz",
        "usr/share/doc/libsqlite3-0/changelog.gz",
        "usr/share/doc/libsqlite3-0/changelog.html.gz",
        "usr/share/doc/libsqlite3-0/copyright",
    )


@pytest.mark.needs_shared
def test_distroless_stackrox() -> None:
    got = assemble(A, tree(pkgdb("dpkg", "distroless-stackrox"), A)).packages
    assert sorted((p.name, p.version, p.arch) for p in got) == [
        ("base-files", "10.3+deb10u6", "amd64"),
        ("netbase", "5.6", "all"),
    ]


@pytest.mark.needs_shared
def test_distroless_osv_scalibr_md5sums_is_not_a_status_file() -> None:
    files = tree(pkgdb("dpkg", "distroless-osv-scalibr"), A)
    assert sorted(files) == [
        "var/lib/dpkg/status.d/foo",
        "var/lib/dpkg/status.d/foo.md5sums",
    ]
    result = assemble(A, files)
    # foo 1.2.3 (no Status: installed); bar "deinstall ok config-files": not in the image
    assert [(p.name, p.version) for p in result.packages] == [("foo", "1.2.3")]
    assert not result.errors
    assert result.packages[0].files[0] == "usr/lib/os-release"
    assert len(result.packages[0].files) == 6


@pytest.mark.needs_shared
def test_syft_status_d_samples() -> None:
    files = tree(pkgdb("dpkg", "syft-status.d-samples"), A)
    done, rejected = analyzed(A, files)
    assert list(rejected) == ["var/lib/dpkg/status.d/corrupt"]  # syft: parse error expected
    result = A.assemble(done, AssembleContext())
    by_file: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for p in result.packages:
        by_file[p.locations[0].path.rsplit("/", 1)[1]].append((p.name, p.version))
    # "single" and "installed-size-4KB" hold the same apt 1.8.2 amd64: reported once, from the
    # first file in path order
    assert by_file["installed-size-4KB"] == [("apt", "1.8.2")]
    assert "single" not in by_file
    assert by_file["multiple"] == [("tzdata", "2020a-0+deb10u1"), ("util-linux", "2.33.1-0.1")]
    assert by_file["deinstall"] == [("linux-image-6.14.0-1012-aws", "6.14.0-1012.12~24.04.1")]
    assert by_file["coreutils-relationships"][0] == ("coreutils", "9.1-1")
    assert len(by_file["coreutils-relationships"]) == 9
    assert by_file["doc-examples"] == [
        ("mutt", "1.3.17-1"),
        ("made-up-package-1", "1.0.0"),
        ("made-up-package-2", "2.0.0"),
        ("made-up-package-3", "3.0.0"),
        ("made-up-package-4", "3.0.0"),
    ]
    assert by_file["libpam-runtime"] == [("libpam-runtime", "1.5.2-6+deb12u1")]
    # The version-less stub stanzas are reported, not silently dropped.
    errors = collections.Counter(path.rsplit("/", 1)[1] for path, _ in result.errors)
    assert errors == {"doc-examples": 11, "libpam-runtime": 5, "multiple": 2}
    four_kb = analyze(
        A,
        "var/lib/dpkg/status.d/installed-size-4KB",
        files["var/lib/dpkg/status.d/installed-size-4KB"],
    )
    assert isinstance(four_kb, DpkgRecord)
    assert four_kb.packages[0].installed_size == 4


@pytest.mark.needs_shared
def test_opkg_status_is_not_claimed() -> None:
    assert tree(pkgdb("dpkg", "opkg-syft"), A) == {}


def test_main_status_is_reported_once_over_status_d() -> None:
    stanza = b"Package: base-files\nVersion: 12.4\nArchitecture: amd64\n"
    files = {
        "var/lib/dpkg/status": b"Status: install ok installed\n" + stanza,
        "var/lib/dpkg/status.d/base-files": stanza,
    }
    (p,) = assemble(A, files).packages
    assert p.locations[0].path == "var/lib/dpkg/status"


# -- status semantics ---------------------------------------------------------------------------


def _status(*stanzas: str) -> bytes:
    return "\n\n".join(stanzas).encode()


@pytest.mark.parametrize(
    ("status", "reported"),
    [
        ("install ok installed", True),
        ("hold ok installed", True),
        ("deinstall ok installed", True),  # marked for removal, still on disk
        ("purge ok installed", True),
        ("install ok unpacked", True),
        ("install ok half-configured", True),
        ("install reinstreq half-installed", True),
        ("install ok triggers-awaited", True),
        ("install ok triggers-pending", True),
        ("deinstall ok config-files", False),
        ("purge ok not-installed", False),
        ("install ok not-installed", False),
    ],
)
def test_status_states(status: str, reported: bool) -> None:
    data = _status(f"Package: p\nStatus: {status}\nVersion: 1.0\nArchitecture: amd64")
    result = assemble(A, {"var/lib/dpkg/status": data})
    assert [p.name for p in result.packages] == (["p"] if reported else [])
    assert not result.errors
    if reported:
        assert _meta(result.packages[0]).status == status


def test_missing_status_means_not_installed_in_status_but_installed_in_status_d() -> None:
    stanza = "Package: p\nVersion: 1.0\nArchitecture: amd64"
    assert assemble(A, {"var/lib/dpkg/status": _status(stanza)}).packages == []
    (p,) = assemble(A, {"var/lib/dpkg/status.d/p": _status(stanza)}).packages
    assert p.name == "p"


@pytest.mark.parametrize(
    ("stanza", "message"),
    [
        ("Package: p\nStatus: install ok\nVersion: 1", "malformed Status"),
        ("Package: p\nStatus: install ok sideways\nVersion: 1", "malformed Status"),
        ("Package: p/q\nStatus: install ok installed\nVersion: 1", "not a valid package name"),
        ("Package: -p\nStatus: install ok installed\nVersion: 1", "not a valid package name"),
        ("Package: p\nStatus: install ok installed", "no Version"),
        ("Package: p\nStatus: install ok installed\nVersion: 1 2", "invalid Version"),
        ("Status: install ok installed\nVersion: 1", "without a Package"),
    ],
)
def test_bad_stanzas_are_dropped_and_reported(stanza: str, message: str) -> None:
    good = "Package: ok\nStatus: install ok installed\nVersion: 1\nArchitecture: all"
    result = assemble(A, {"var/lib/dpkg/status": _status(good, stanza)})
    assert [p.name for p in result.packages] == ["ok"]
    assert len(result.errors) == 1
    assert message in result.errors[0][1]


def test_a_malformed_line_drops_only_its_stanza() -> None:
    data = _status(
        "Package: a\nStatus: install ok installed\nVersion: 1\nthis line is broken",
        "Package: b\nStatus: install ok installed\nVersion: 2",
    )
    result = assemble(A, {"var/lib/dpkg/status": data})
    assert [p.name for p in result.packages] == ["b"]
    assert "stanza at line 1 (a) dropped" in result.errors[0][1]
    with pytest.raises(ParseError):
        A.analyze_file("var/lib/dpkg/status", b"garbage without any field\n")
    with pytest.raises(ParseError):
        A.analyze_file("var/lib/dpkg/status", b"Package: a\0\n")


def test_continuations_crlf_and_source_forms() -> None:
    data = (
        b"Package: p\r\nStatus: install ok installed\r\nVersion: 1:2.0-1+b1\r\n"
        b"Source: src (2.0-1)\r\nPre-Depends: libc6\r\nDepends: a,\r\n b (>= 1),\r\n\tc\r\n"
        b"Description: x\r\n more text\r\n .\r\n\r\n"
        b"Package: q\nStatus: install ok installed\nVersion: 3\nSource: other\n"
    )
    p, q = assemble(A, {"var/lib/dpkg/status": data}).packages
    assert (p.version, p.source_name, p.source_version) == ("1:2.0-1+b1", "src", "2.0-1")
    assert _meta(p).depends == "libc6, a, b (>= 1), c"
    assert (q.source_name, q.source_version) == ("other", "3")
    assert p.arch is None
    assert p.purl == "pkg:deb/debian/p@1:2.0-1%2Bb1"


def test_leaf_paths() -> None:
    assert leaf_paths(
        ["/.", "/usr", "/usr/bin", "/usr/bin/x", "/usr/share/empty", "/a-b", "/a"]
    ) == (
        "a",
        "a-b",
        "usr/bin/x",
        "usr/share/empty",
    )
    assert leaf_paths([]) == ()
    assert leaf_paths(["/", "/."]) == ()


# -- purls -------------------------------------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("folder", GROUND_TRUTH)
def test_purls_are_valid(folder: str) -> None:
    distro = DISTROS[folder]
    for p in _fixture(folder):
        purl = PackageURL.from_string(p.purl)
        errors = [m for m in PackageURL.validate_string(p.purl) if m.severity.value == "error"]
        assert not errors, (p.purl, errors)
        assert (purl.type, purl.namespace, purl.name, purl.version) == (
            "deb",
            distro.id,
            p.name.lower(),
            p.version,
        )
        assert purl.qualifiers == {"arch": p.arch, "distro": f"{distro.id}-{distro.version}"}


# -- hostile input ------------------------------------------------------------------------------


def _samples() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    base = PKGDB / "dpkg"
    if not base.is_dir():
        return [("var/lib/dpkg/status", b"Package: a\nVersion: 1\n")]
    dispatch = Dispatch([A])
    for p in sorted(base.rglob("*")):
        if not p.is_file() or p.stat().st_size > 100_000:
            continue
        parts = p.relative_to(base).parts
        rel = "/".join(parts[1:])
        if A in dispatch.match(rel, p.stat().st_size):
            out.append((rel, p.read_bytes()))
    return out


SAMPLES = _samples()
FUZZ_PATHS = (
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/pkg",
    "var/lib/dpkg/status.d/pkg.md5sums",
    "var/lib/dpkg/info/pkg.list",
    "var/lib/dpkg/info/pkg:amd64.md5sums",
)


def _check(path: str, data: bytes, distro: Distro | None = None) -> None:
    start = time.perf_counter()
    try:
        rec = analyze(A, path, data)
    except ParseError:
        return
    finally:
        assert time.perf_counter() - start < 2.0
    result = A.assemble({path: AnalyzedFile(path, path, LAYER, rec)}, AssembleContext(distro))
    for p in result.packages:
        assert p.name
        assert PackageURL.from_string(p.purl).name == p.name.lower()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    path, data = draw(st.sampled_from(SAMPLES))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "dup"]))
        at = draw(st.integers(0, len(buf)))
        if op == "cut":
            del buf[at:]
        elif op == "flip" and at < len(buf):
            buf[at] ^= draw(st.integers(1, 255))
        elif op == "dup":
            buf[at:at] = buf[at : at + draw(st.integers(1, 200))]
        else:
            token = draw(
                st.sampled_from(
                    [b"\n", b"\n\n", b" ", b":", b"Status: ", b"Package: ", b"(", b"/", b"\xff"]
                )
            )
            buf[at:at] = token + draw(st.binary(max_size=8))
    return path, bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(FUZZ_PATHS), data=st.binary(max_size=1024))
def test_arbitrary_bytes_give_a_record_or_parse_error(path: str, data: bytes) -> None:
    _check(path, data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=mutated(),
    distro=st.sampled_from([None, Distro(id="ubuntu", version="22.04"), Distro(id="a/b")]),
)
def test_mutated_fixtures_give_a_record_or_parse_error(
    case: tuple[str, bytes], distro: Distro | None
) -> None:
    _check(*case, distro)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("PackgVrsionSt: \n\t\r()/,.-+_0123456789aiuelnd")),
        max_size=300,
    )
)
def test_deb822_like_text(text: str) -> None:
    _check("var/lib/dpkg/status", text.encode())
    _check("var/lib/dpkg/status.d/x", text.encode())


@pytest.mark.parametrize(
    ("path", "data"),
    [
        # one field continued over 1 M lines (was quadratic: += on a dict value; ~30 s)
        (
            "var/lib/dpkg/status",
            b"Package: a\nStatus: install ok installed\nVersion: 1\nDepends: a\n"
            + b" ,b\n" * 1_000_000,
        ),
        # a path 100,000 directories deep plus 2,000 of its prefixes (was quadratic)
        (
            "var/lib/dpkg/info/a.list",
            b"/"
            + b"a/" * 100_000
            + b"\n"
            + b"".join(b"/" + b"a/" * i + b"\n" for i in range(2000)),
        ),
        ("var/lib/dpkg/status", b"Package: a\nX" + b"a" * 15_000_000 + b"\n"),
        ("var/lib/dpkg/info/a.md5sums", b"0" * 32 + b"  x\n" + b"z" * 15_000_000),
    ],
    ids=["continuations", "deep-list", "long-line", "long-md5sums"],
)
def test_worst_case_files_at_the_size_limit_are_bounded(path: str, data: bytes) -> None:
    assert len(data) <= A.max_file_size
    start = time.perf_counter()
    try:
        rec = analyze(A, path, data)
    except ParseError:
        rec = None
    assert time.perf_counter() - start < 5.0
    if rec is not None:
        assert isinstance(rec, DpkgRecord)
