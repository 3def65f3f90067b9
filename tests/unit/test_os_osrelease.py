"""OsReleaseAnalyzer over every real OS-identification sample in shared/fixtures/pkgdb.

The expected values in ``SAMPLES`` were written by reading each file (``ID`` / ``VERSION_ID`` /
``VERSION_CODENAME`` or the release line), not by running the analyzer. Where the analyzer's
answer is a decision rather than a copy of a field, the table says so in a comment (and the
analyzer's docstring explains it): the opensuse-leap ID of Leap 42.3, the ``edge`` codename of
Alpine edge, Debian codenames filled from the release number or ``VERSION``, and ``VERSION_ID``
winning over a more precise ``etc/debian_version``.

A sample is a folder that holds an ``etc/`` or ``usr/`` tree (``os-release/<name>/``, and the
four folders of ``os-release/redhat-family-release-files/``); all files of a sample are analyzed
together, as they would sit in one image.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.base import AnalyzedFile, AssembleContext
from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.os.osrelease import PATHS, OsReleaseAnalyzer, parse_os_release
from hullscan.errors import ParseError
from hullscan.model import Distro
from tests.unit.osfixtures import LAYER, PKGDB, analyze, analyzed, assemble, pkgdb, tree

A = OsReleaseAnalyzer()

# sample folder (under pkgdb/) -> (id, version, codename, file the answer comes from)
SAMPLES: dict[str, tuple[str, str | None, str | None, str]] = {
    # Alpine: claircore's samples, os-release VERSION_ID (etc/issue is not read)
    "os-release/alpine-3.3": ("alpine", "3.3.3", None, "etc/os-release"),
    "os-release/alpine-3.4": ("alpine", "3.4.6", None, "etc/os-release"),
    "os-release/alpine-3.5": ("alpine", "3.5.3", None, "etc/os-release"),
    "os-release/alpine-3.6": ("alpine", "3.6.5", None, "etc/os-release"),
    "os-release/alpine-3.7": ("alpine", "3.7.3", None, "etc/os-release"),
    "os-release/alpine-3.8": ("alpine", "3.8.5", None, "etc/os-release"),
    "os-release/alpine-3.9": ("alpine", "3.9.6", None, "etc/os-release"),
    "os-release/alpine-3.10": ("alpine", "3.10.9", None, "etc/os-release"),
    "os-release/alpine-3.11": ("alpine", "3.11.13", None, "etc/os-release"),
    "os-release/alpine-3.12": ("alpine", "3.12.9", None, "etc/os-release"),
    "os-release/alpine-3.13": ("alpine", "3.13.7", None, "etc/os-release"),
    "os-release/alpine-3.14": ("alpine", "3.14.3", None, "etc/os-release"),
    "os-release/alpine-3.15": ("alpine", "3.15.0", None, "etc/os-release"),
    "os-release/alpine-3.15.4": ("alpine", "3.15.4", None, "etc/os-release"),
    "os-release/alpine-3.16": ("alpine", "3.16.0", None, "etc/os-release"),
    "os-release/alpine-3.17": ("alpine", "3.17.5", None, "etc/os-release"),
    "os-release/alpine-3.18": ("alpine", "3.18.4", None, "etc/os-release"),
    # PRETTY_NAME="Alpine Linux edge": version as stated, codename "edge" (decision)
    "os-release/alpine-edge": ("alpine", "3.19_alpha20230901", "edge", "etc/os-release"),
    "apk/alpine-3.16.1-layer": ("alpine", "3.16.1", None, "etc/os-release"),
    "apk/alpine-3.11-trivy-minimal": ("alpine", "3.11.6", None, "etc/alpine-release"),
    "os-release/postmarketos-25.06": ("postmarketos", "v25.06", None, "etc/os-release"),
    "os-release/wolfi": ("wolfi", "20220914", None, "etc/os-release"),
    "os-release/chainguard": ("chainguard", "20230214", None, "etc/os-release"),
    # Debian: 7/8 and distroless have no VERSION_CODENAME; it comes from the number (decision)
    "os-release/debian-7": ("debian", "7", "wheezy", "etc/os-release"),
    "os-release/debian-8": ("debian", "8", "jessie", "etc/os-release"),
    # etc/debian_version says 9.8; VERSION_ID "9" wins (decision, see the analyzer docstring)
    "os-release/debian-9": ("debian", "9", "stretch", "etc/os-release"),
    "os-release/debian-10": ("debian", "10", "buster", "etc/os-release"),
    "os-release/debian-11": ("debian", "11", "bullseye", "etc/os-release"),
    "os-release/debian-12": ("debian", "12", "bookworm", "etc/os-release"),
    # no VERSION_ID; PRETTY_NAME "Debian GNU/Linux trixie/sid" (the trivy debian_version next
    # to it says "buster/sid": os-release wins)
    "os-release/debian-sid": ("debian", "trixie/sid", "trixie", "usr/lib/os-release"),
    "os-release/distroless-debian-9": ("debian", "9", "stretch", "etc/os-release"),
    "os-release/distroless-debian-10": ("debian", "10", "buster", "etc/os-release"),
    "os-release/distroless-debian-11": ("debian", "11", "bullseye", "etc/os-release"),
    # debootstrap rootfs: usr/lib/os-release "12", etc/debian_version "12.15"
    "dpkg/debian-12-minbase-debootstrap": ("debian", "12", "bookworm", "usr/lib/os-release"),
    "os-release/raspbian-9": ("raspbian", "9", "stretch", "etc/os-release"),
    "os-release/ubuntu-20.04": ("ubuntu", "20.04", "focal", "etc/os-release"),
    "os-release/ubuntu-lsb-release": ("ubuntu", "18.04", "bionic", "etc/lsb-release"),
    # Red Hat family
    "os-release/rhel-7.3": ("rhel", "7.3", None, "usr/lib/os-release"),
    "os-release/rhel-9.4": ("rhel", "9.4", None, "etc/os-release"),
    "os-release/centos-5": ("centos", "5.7", None, "etc/redhat-release"),
    "os-release/centos-6": ("centos", "6", None, "etc/system-release-cpe"),
    "os-release/centos-7": ("centos", "7", None, "etc/os-release"),
    "os-release/centos-8": ("centos", "8", None, "usr/lib/os-release"),
    "os-release/centos-stream-8": ("centos", "8", None, "etc/os-release"),
    "os-release/rockylinux-8.4": ("rocky", "8.4", None, "etc/os-release"),
    "os-release/rockylinux-9.3": ("rocky", "9.3", None, "etc/os-release"),
    "os-release/almalinux-8.4": ("almalinux", "8.4", None, "etc/os-release"),
    "os-release/almalinux-9.4": ("almalinux", "9.4", None, "etc/os-release"),
    "os-release/oraclelinux-8.3": ("ol", "8.3", None, "etc/os-release"),
    "os-release/oraclelinux-8.10": ("ol", "8.10", None, "etc/os-release"),
    "os-release/scientific-6": ("scientific", "6.10", None, "etc/redhat-release"),
    "os-release/scientific-7.5": ("scientific", "7.5", None, "etc/os-release"),
    "os-release/amazonlinux-2": ("amzn", "2", None, "etc/os-release"),
    "os-release/fedora-31": ("fedora", "31", None, "usr/lib/os-release"),  # VERSION_CODENAME=""
    "os-release/fedora-42": ("fedora", "42", None, "etc/os-release"),
    "rpm/fedora-modular-26-bdb": ("fedora-modular", "26", None, "usr/lib/os-release"),
    "os-release/redhat-family-release-files/almalinux-release": (
        "almalinux",
        "8.4",
        None,
        "etc/almalinux-release",
    ),
    "os-release/redhat-family-release-files/centos-release": (
        "centos",
        "7.6.1810",
        None,
        "etc/centos-release",
    ),
    "os-release/redhat-family-release-files/fedora-29": (
        "fedora",
        "29",
        None,
        "etc/fedora-release",
    ),
    "os-release/redhat-family-release-files/oraclelinux-7": (
        "ol",
        "7.6",
        None,
        "etc/oracle-release",
    ),
    # "Red Hat Linux release 6.2 (Zoot)" is literally pre-RHEL Red Hat Linux 6.2; read as RHEL
    # 6.2 like trivy's test (no container carries the old distro; the file is a RHEL-6 stand-in)
    "os-release/redhat-family-release-files/rhel-6": ("rhel", "6.2", None, "etc/redhat-release"),
    "os-release/redhat-family-release-files/rocky-release": (
        "rocky",
        "8.4",
        None,
        "etc/rocky-release",
    ),
    # SUSE: Leap 42.3 says ID=opensuse; normalized to the Leap 15+ ID (decision)
    "os-release/opensuse-leap-42.3": ("opensuse-leap", "42.3", None, "etc/os-release"),
    "os-release/opensuse-leap-15.2": ("opensuse-leap", "15.2", None, "etc/os-release"),
    "os-release/opensuse-leap-15.2.1": ("opensuse-leap", "15.2.1", None, "etc/os-release"),
    "os-release/opensuse-tumbleweed": ("opensuse-tumbleweed", "20220412", None, "etc/os-release"),
    "os-release/sles-15.2": ("sles", "15.2", None, "etc/os-release"),
    "os-release/sles-15.3": ("sles", "15.3", None, "etc/os-release"),
    "os-release/sle-micro-5.3": ("sle-micro", "5.3", None, "etc/os-release"),
    "os-release/sl-micro-6.0": ("sl-micro", "6.0", None, "etc/os-release"),
    # Microsoft, VMware and the rest
    "os-release/mariner-1.0": ("mariner", "1.0", None, "etc/os-release"),
    "os-release/mariner-1.0-trivy": ("mariner", "1.0", None, "etc/os-release"),
    "os-release/mariner-2.0": ("mariner", "2.0", None, "etc/os-release"),
    "os-release/azurelinux-3.0": ("azurelinux", "3.0", None, "etc/os-release"),
    "os-release/azurelinux-3.0-trivy": ("azurelinux", "3.0", None, "etc/os-release"),
    "os-release/photon-2.0": ("photon", "2.0", None, "etc/os-release"),
    "os-release/photon-4.0": ("photon", "4.0", None, "etc/os-release"),
    "os-release/bottlerocket-1.34": ("bottlerocket", "1.34.0", None, "etc/os-release"),
    "os-release/arch": ("arch", None, None, "etc/os-release"),  # rolling: no VERSION_ID
    "os-release/gentoo": ("gentoo", None, None, "etc/os-release"),
}

# Symlinks of the real rootfs that the fixture stores as plain files (see its SYMLINKS.txt).
LINKS = {"dpkg/debian-12-minbase-debootstrap": {"etc/os-release": "usr/lib/os-release"}}


def _roots(base: Path) -> list[Path]:
    return sorted({p.parent for p in base.rglob("*") if p.is_dir() and p.name in ("etc", "usr")})


def _distro(sample: str) -> Distro | None:
    root = pkgdb(*sample.split("/"))
    files = tree(root, A)
    assert files, f"{sample}: no file the analyzer wants"
    return assemble(A, files, links=LINKS.get(sample)).distro


def _distro_of(files: dict[str, bytes]) -> Distro | None:
    return assemble(A, files).distro


# -- every sample ----------------------------------------------------------------------------


@pytest.mark.needs_shared
def test_table_covers_every_sample() -> None:
    base = pkgdb("os-release")
    found = {r.relative_to(PKGDB).as_posix() for r in _roots(base)}
    in_table = {s for s in SAMPLES if s.startswith("os-release/")}
    assert found == in_table
    # All 95 files of os-release/ lie in those samples.
    files = [p for p in base.rglob("*") if p.is_file()]
    assert len(files) == 95
    assert all(any(p.is_relative_to(PKGDB / s) for s in in_table) for p in files)


@pytest.mark.needs_shared
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_sample(sample: str) -> None:
    distro_id, version, codename, source = SAMPLES[sample]
    d = _distro(sample)
    assert d is not None
    assert (d.id, d.version, d.codename) == (distro_id, version, codename)
    assert d.source == (
        "etc/os-release" if sample in LINKS and source == "usr/lib/os-release" else source
    )


@pytest.mark.needs_shared
def test_names_and_extra_fields_come_from_the_file() -> None:
    ubuntu = _distro("os-release/ubuntu-20.04")
    assert ubuntu is not None
    assert (ubuntu.name, ubuntu.pretty_name, ubuntu.id_like) == (
        "Ubuntu",
        "Ubuntu 20.04 LTS",
        ("debian",),
    )
    rocky = _distro("os-release/rockylinux-9.3")
    assert rocky is not None
    assert rocky.id_like == ("rhel", "centos", "fedora")
    assert rocky.cpe == "cpe:/o:rocky:rocky:9::baseos"
    fedora = _distro("os-release/fedora-42")
    assert fedora is not None
    assert fedora.variant == "container"
    bottlerocket = _distro("os-release/bottlerocket-1.34")
    assert bottlerocket is not None
    assert bottlerocket.variant == "aws-ecs-2"
    centos6 = _distro("os-release/centos-6")
    assert centos6 is not None
    assert centos6.cpe == "cpe:/o:centos:linux:6:GA"
    centos5 = _distro("os-release/centos-5")
    assert centos5 is not None
    assert (centos5.name, centos5.pretty_name) == ("CentOS", "CentOS release 5.7 (Final)")
    tumbleweed = _distro("os-release/opensuse-tumbleweed")
    assert tumbleweed is not None
    assert tumbleweed.name == "openSUSE Tumbleweed"  # the commented-out VERSION is ignored


@pytest.mark.needs_shared
def test_dispatch_wants_every_identification_file_but_issue() -> None:
    dispatch = Dispatch([A])
    base = pkgdb("os-release")
    for p in base.rglob("*"):
        if not p.is_file():
            continue
        rel = p.relative_to(next(r for r in _roots(base) if p.is_relative_to(r))).as_posix()
        wanted = A in dispatch.match(rel, p.stat().st_size)
        assert wanted == (rel != "etc/issue"), rel


# -- one file at a time ------------------------------------------------------------------------


def _file(sample: str, rel: str) -> dict[str, bytes]:
    return {rel: pkgdb(*sample.split("/"), *rel.split("/")).read_bytes()}


@pytest.mark.needs_shared
def test_debian_version_alone_gives_the_stated_release() -> None:
    d = _distro_of(_file("os-release/debian-9", "etc/debian_version"))  # "9.8"
    assert d is not None
    assert (d.id, d.version, d.codename, d.source) == (
        "debian",
        "9.8",
        "stretch",
        "etc/debian_version",
    )
    sid = _distro_of(_file("os-release/debian-sid", "etc/debian_version"))  # "buster/sid"
    assert sid is not None
    assert (sid.id, sid.version, sid.codename) == ("debian", "buster/sid", "buster")
    point = _distro_of(_file("dpkg/debian-12-minbase-debootstrap", "etc/debian_version"))
    assert point is not None
    assert (point.version, point.codename) == ("12.15", "bookworm")


@pytest.mark.needs_shared
def test_os_release_alone_in_two_file_samples() -> None:
    sid = _distro_of(_file("os-release/debian-sid", "usr/lib/os-release"))
    assert sid is not None
    assert (sid.version, sid.codename) == ("trixie/sid", "trixie")
    d9 = _distro_of(_file("os-release/debian-9", "etc/os-release"))
    assert d9 is not None
    assert (d9.version, d9.codename) == ("9", "stretch")
    fedora = _distro_of(_file("rpm/fedora-modular-26-bdb", "usr/lib/fedora-release"))
    assert fedora is not None
    # "Fedora modular release 26 (Twenty Six)": the release file alone says fedora
    assert (fedora.id, fedora.version, fedora.codename) == ("fedora", "26", None)
    alpine = _distro_of(_file("apk/alpine-3.16.1-layer", "etc/alpine-release"))
    assert alpine is not None
    assert (alpine.id, alpine.version, alpine.name) == ("alpine", "3.16.1", "Alpine Linux")


@pytest.mark.needs_shared
def test_issue_file_alone_identifies_nothing() -> None:
    # etc/issue is not an interest; assembling nothing gives no distro
    assert A.assemble({}, AssembleContext()).distro is None
    issue = pkgdb("os-release", "alpine-3.18", "etc", "issue")
    assert A not in Dispatch([A]).match("etc/issue", issue.stat().st_size)


# -- precedence --------------------------------------------------------------------------------


@pytest.mark.needs_shared
def test_etc_os_release_beats_usr_lib() -> None:
    files = {
        "etc/os-release": _file("os-release/rhel-9.4", "etc/os-release")["etc/os-release"],
        "usr/lib/os-release": _file("os-release/centos-8", "usr/lib/os-release")[
            "usr/lib/os-release"
        ],
    }
    d = _distro_of(files)
    assert d is not None
    assert (d.id, d.version, d.source) == ("rhel", "9.4", "etc/os-release")


@pytest.mark.needs_shared
def test_etc_os_release_symlink_to_usr_lib_is_one_file() -> None:
    sample = "dpkg/debian-12-minbase-debootstrap"
    files = _file(sample, "usr/lib/os-release")
    d = assemble(A, files, links={"etc/os-release": "usr/lib/os-release"}).distro
    assert d is not None
    assert (d.id, d.version, d.source) == ("debian", "12", "etc/os-release")


@pytest.mark.needs_shared
def test_os_release_beats_lsb_release() -> None:
    files = {
        **_file("os-release/ubuntu-20.04", "etc/os-release"),
        **_file("os-release/ubuntu-lsb-release", "etc/lsb-release"),  # says 18.04 bionic
    }
    d = _distro_of(files)
    assert d is not None
    assert (d.id, d.version, d.codename, d.source) == ("ubuntu", "20.04", "focal", "etc/os-release")


@pytest.mark.needs_shared
def test_os_release_version_id_beats_precise_legacy_release_files() -> None:
    centos = _distro_of(
        {
            **_file("os-release/centos-7", "etc/os-release"),
            **_file("os-release/redhat-family-release-files/centos-release", "etc/centos-release"),
        }
    )
    assert centos is not None
    assert (centos.id, centos.version, centos.source) == ("centos", "7", "etc/os-release")
    debian = _distro("dpkg/debian-12-minbase-debootstrap")  # debian_version 12.15
    assert debian is not None
    assert debian.version == "12"


@pytest.mark.needs_shared
def test_distro_specific_release_file_beats_redhat_release() -> None:
    # Oracle Linux ships a redhat-release that claims to be RHEL.
    files = {
        **_file("os-release/redhat-family-release-files/oraclelinux-7", "etc/oracle-release"),
        "etc/redhat-release": b"Red Hat Enterprise Linux Server release 7.6 (Maipo)\n",
    }
    d = _distro_of(files)
    assert d is not None
    assert (d.id, d.version, d.source) == ("ol", "7.6", "etc/oracle-release")
    alone = _distro_of({"etc/redhat-release": files["etc/redhat-release"]})
    assert alone is not None
    assert (alone.id, alone.version, alone.name) == (
        "rhel",
        "7.6",
        "Red Hat Enterprise Linux Server",
    )


def test_id_less_os_release_yields_to_a_release_file() -> None:
    files = {
        "etc/os-release": b'NAME="Custom"\nPRETTY_NAME="Custom build"\n',
        "etc/centos-release": b"CentOS Linux release 7.9.2009 (Core)\n",
    }
    d = _distro_of(files)
    assert d is not None
    assert (d.id, d.version, d.source) == ("centos", "7.9.2009", "etc/centos-release")
    alone = _distro_of({"etc/os-release": files["etc/os-release"]})
    assert alone is not None
    assert (alone.id, alone.name) == ("linux", "Custom")  # os-release(5): ID defaults to linux


def test_empty_and_garbage_os_release() -> None:
    assert _distro_of({"etc/os-release": b""}) is None
    assert _distro_of({"etc/os-release": b"\n\n# only a comment\n"}) is None
    with pytest.raises(ParseError):
        A.analyze_file("etc/os-release", b"this is not an os-release file\n")
    with pytest.raises(ParseError):
        A.analyze_file("etc/os-release", b"ID=debian\0\n")


def test_non_utf8_bytes_do_not_lose_the_distro() -> None:
    d = _distro_of({"etc/os-release": b'ID=debian\nVERSION_ID="12"\nNAME="Debian \xe9"\n'})
    assert d is not None
    assert (d.id, d.version) == ("debian", "12")


# -- synthetic files of distros without a real sample here (written from the distros' files) --


def test_amazon_linux_2023_and_legacy_amazon_files() -> None:
    al2023 = (
        b'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
        b'PLATFORM_ID="platform:al2023"\nPRETTY_NAME="Amazon Linux 2023.6.20250107"\n'
        b'CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"\n'
    )
    d = _distro_of({"etc/os-release": al2023})
    assert d is not None
    assert (d.id, d.version, d.id_like) == ("amzn", "2023", ("fedora",))
    release = _distro_of({"etc/system-release": b"Amazon Linux release 2 (Karoo)\n"})
    assert release is not None
    assert (release.id, release.version) == ("amzn", "2")
    cpe = _distro_of({"etc/system-release-cpe": b"cpe:2.3:o:amazon:amazon_linux:2\n"})
    assert cpe is not None
    assert (cpe.id, cpe.version) == ("amzn", "2")


def test_legacy_suse_mariner_and_photon_release_files() -> None:
    sles = _distro_of(
        {
            "etc/SuSE-release": b"SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\n"
            b"PATCHLEVEL = 4\n# This file is deprecated and will be removed in a future service pack"
        }
    )
    assert sles is not None
    assert (sles.id, sles.version) == ("sles", "12.4")
    mariner = _distro_of(
        {"etc/mariner-release": b"CBL-Mariner 2.0.20220226\nMARINER_BUILD_NUMBER=x"}
    )
    assert mariner is not None
    assert (mariner.id, mariner.version) == ("mariner", "2.0.20220226")
    photon = _distro_of(
        {"etc/photon-release": b"VMware Photon OS 4.0\nPHOTON_BUILD_NUMBER=1526e30ba\n"}
    )
    assert photon is not None
    assert (photon.id, photon.version) == ("photon", "4.0")


def test_ubuntu_codename_from_lsb_release_when_os_release_lacks_it() -> None:
    trusty = (
        b'NAME="Ubuntu"\nVERSION="14.04.6 LTS, Trusty Tahr"\nID=ubuntu\nID_LIKE=debian\n'
        b'PRETTY_NAME="Ubuntu 14.04.6 LTS"\nVERSION_ID="14.04"\n'
    )
    lsb = b"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\nDISTRIB_CODENAME=trusty\n"
    d = _distro_of({"etc/os-release": trusty, "etc/lsb-release": lsb})
    assert d is not None
    assert (d.id, d.version, d.codename, d.source) == (
        "ubuntu",
        "14.04",
        "trusty",
        "etc/os-release",
    )
    assert _distro_of({"etc/os-release": trusty}) == msgspec.structs.replace(d, codename=None)


def test_alpine_edge_from_alpine_release_alone() -> None:
    d = _distro_of({"etc/alpine-release": b"3.20_alpha20240329\n"})
    assert d is not None
    assert (d.id, d.version, d.codename) == ("alpine", "3.20_alpha20240329", "edge")


def test_os_release_quoting() -> None:
    text = (
        "# comment\n"
        'A="double \\"quoted\\" \\$x \\\\ \\`"\n'
        "B='single $x \\n'\n"
        "C=bare\\ escaped # trailing comment\n"
        "  D = spaced\n"
        'E="unterminated\n'
        "9BAD=x\n"
        "F=\n"
        "G=\"a\"b'c'\n"
    )
    assert parse_os_release(text) == {
        "A": 'double "quoted" $x \\ `',
        "B": "single $x \\n",
        "C": "bare escaped",
        "D": "spaced",
        "F": "",
        "G": "abc",
    }


def test_records_are_small_and_round_trip() -> None:
    big = b"Red Hat Enterprise Linux release 9.4 (Plow)\n" + b"x\n" * 1000
    rec = analyze(A, "etc/redhat-release", big)
    assert len(rec.lines) <= 8  # type: ignore[attr-defined]
    assert A.decode(A.encode(rec)) == rec


# -- hostile input ------------------------------------------------------------------------------


def _fixture_texts() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    base = PKGDB / "os-release"
    if not base.is_dir():
        return [("etc/os-release", b'ID=debian\nVERSION_ID="12"\n')]
    for root in _roots(base):
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and rel in PATHS:
                out.append((rel, p.read_bytes()))
    return out


FIXTURES = _fixture_texts()


def _check_file(path: str, data: bytes) -> None:
    start = time.perf_counter()
    try:
        rec = analyze(A, path, data)
    except ParseError:
        return
    finally:
        assert time.perf_counter() - start < 1.0
    f = AnalyzedFile(path, path, LAYER, rec)
    result = A.assemble({path: f}, AssembleContext())
    if result.distro is not None:
        assert result.distro.id == result.distro.id.strip().lower()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    path, data = draw(st.sampled_from(FIXTURES))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cut", "flip", "insert"]))
        at = draw(st.integers(0, len(buf)))
        if op == "cut":
            del buf[at:]
        elif op == "flip" and at < len(buf):
            buf[at] ^= draw(st.integers(1, 255))
        else:
            token = draw(
                st.sampled_from([b"=", b'"', b"'", b"\\", b"\n", b"ID=", b" release ", b"/sid"])
            )
            buf[at:at] = token + draw(st.binary(max_size=8))
    return path, bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), data=st.binary(max_size=512))
def test_arbitrary_bytes_give_a_record_or_parse_error(path: str, data: bytes) -> None:
    _check_file(path, data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_mutated_fixtures_give_a_record_or_parse_error(case: tuple[str, bytes]) -> None:
    _check_file(*case)


@settings(max_examples=100, deadline=None)
@given(
    files=st.dictionaries(
        st.sampled_from(PATHS),
        st.text(alphabet=st.sampled_from('=" \n/.0123456789IDVERSION_abdeinrsu()\\'), max_size=60),
        max_size=5,
    )
)
def test_any_combination_of_files_assembles(files: dict[str, str]) -> None:
    done, _ = analyzed(A, {k: v.encode() for k, v in files.items()})
    A.assemble(done, AssembleContext())


@pytest.mark.parametrize(
    ("path", "data"),
    [
        # each of these was quadratic in an earlier version (lazy regexes on a 64 KiB line)
        ("etc/redhat-release", b"a" + b" " * 65000 + b"b"),
        ("etc/centos-release", b"x " + b"1." * 32000 + b"x"),
        ("etc/os-release", b"ID=debian\nPRETTY_NAME=" + b"a" * 65000 + b"\n"),
        ("etc/os-release", b"ID=debian\nVERSION=" + b"(" * 65000 + b"\n"),
        ("etc/os-release", b'A="' + b"\\" * 65000 + b'"\nID=x\n'),
        ("etc/debian_version", b"1" * 65000 + b"x"),
        ("etc/os-release", b"ID=alpine\nPRETTY_NAME=" + b"edge " * 13000 + b"\n"),
    ],
)
def test_worst_case_files_at_the_size_limit_are_fast(path: str, data: bytes) -> None:
    assert len(data) <= A.max_file_size
    start = time.perf_counter()
    _distro_of({path: data})
    assert time.perf_counter() - start < 1.0
