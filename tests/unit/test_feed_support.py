"""End-of-life parsers (``hullscan.vulndb.build.support``): distro-info-data's debian.csv and
ubuntu.csv, debian-security-support's security-support-ended.deb{9..12} and -limited."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import ParseIssue, SupportStatus
from hullscan.model.namespaces import distro_namespace
from hullscan.vulndb.build import support


def _path(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


def _records(path: Path) -> list[SupportStatus]:
    out = []
    for r in support.read(path):
        assert not isinstance(r, ParseIssue), r
        out.append(r)
    return out


@pytest.mark.needs_shared
def test_debian_releases(shared_dir: Path) -> None:
    recs = {r.namespace: r for r in _records(_path(shared_dir, "distro-info-data", "debian.csv"))}
    assert len(recs) == 20  # 22 rows: sid and experimental are not releases
    assert recs["debian:10"] == SupportStatus(
        namespace="debian:10",
        released="2019-07-06",
        eol="2022-09-10",
        extended_until="2024-06-30",
        codename="buster",
        note="ELTS (Freexian) until 2029-06-30",
    )
    assert recs["debian:12"].codename == "bookworm"
    assert recs["debian:12"].eol == "2026-07-11"
    assert recs["debian:6"].codename == "squeeze"  # "6.0"
    assert recs["debian:3.1"].codename == "sarge"
    assert recs["debian:15"].released is None  # duke: not released yet
    # the namespace an image's os-release maps to is the one these records use
    assert distro_namespace("debian", "12.7") in recs
    assert distro_namespace("debian", "10") in recs


@pytest.mark.needs_shared
def test_ubuntu_releases(shared_dir: Path) -> None:
    recs = {r.namespace: r for r in _records(_path(shared_dir, "distro-info-data", "ubuntu.csv"))}
    assert len(recs) == 45
    assert recs["ubuntu:22.04"] == SupportStatus(
        namespace="ubuntu:22.04",
        released="2022-04-21",
        eol="2027-06-01",
        extended_until="2032-04-21",
        codename="jammy",
        note="Legacy support until 2034-04-25",
    )
    assert recs["ubuntu:6.06"].eol == "2011-06-01"  # eol-server is later than eol (2009)
    assert recs["ubuntu:24.10"].extended_until is None
    assert distro_namespace("ubuntu", "22.04") in recs


@pytest.mark.needs_shared
@pytest.mark.parametrize(("release", "count"), [("9", 21), ("10", 8), ("11", 0), ("12", 16)])
def test_security_support_ended(shared_dir: Path, release: str, count: int) -> None:
    path = _path(shared_dir, "debian-security-support", f"security-support-ended.deb{release}")
    recs = _records(path)
    assert len(recs) == count
    assert all(r.namespace == f"debian:{release}" and r.state == "ended" for r in recs)
    if release == "10":
        assert recs[0] == SupportStatus(
            namespace="debian:10",
            package="libperlspeak-perl",
            state="ended",
            eol="2020-04-16",
            note="last supported version 2.01-2; https://bugs.debian.org/954238 "
            "(CVE-2020-10674) and https://bugs.debian.org/954297 and 954298",
        )
        assert recs[-1].package == "pluxml"
        assert (
            recs[-1].note
            == "last supported version 5.6-1; Removed from Debian. No upstream response to CVE."
        )


@pytest.mark.needs_shared
def test_security_support_limited(shared_dir: Path) -> None:
    recs = _records(_path(shared_dir, "debian-security-support", "security-support-limited"))
    assert len(recs) == 32
    by_pkg = {r.package: r for r in recs}
    assert by_pkg["binutils"].state == "limited"
    assert by_pkg["binutils"].namespace == "debian:12"
    assert by_pkg["golang.*"].note is not None  # a pattern, kept as written
    assert (
        by_pkg["hdf5"].note
        == "limited  Not covered by security support, only suitable for trusted content, see #1117722"
    )


def test_other_files_and_bad_lines(tmp_path: Path) -> None:
    f = tmp_path / "README"
    f.write_text("x")
    (issue,) = support.read(f)
    assert isinstance(issue, ParseIssue)
    out = list(
        support.parse_security_support_ended(
            b"# c\nfoo 1.0 2020-01-01\nBad 1 2020-01-01\nbar 1.0 someday\nbaz\n", "11"
        )
    )
    assert out[0] == SupportStatus(
        namespace="debian:11",
        package="foo",
        state="ended",
        eol="2020-01-01",
        note="last supported version 1.0",
    )
    assert [type(r).__name__ for r in out[1:]] == ["ParseIssue"] * 3
    (bad,) = support.parse_distro_info(b"a,b\n1,2\n", "debian.csv")
    assert isinstance(bad, ParseIssue)


_line = st.text(alphabet="abc019.-,: #LTS\t", max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(_line, max_size=6), st.sampled_from(["debian.csv", "ubuntu.csv", "x.csv"]))
def test_arbitrary_csv(lines: list[str], name: str) -> None:
    header = "version,codename,series,created,release,eol,eol-lts,eol-elts,eol-server,eol-esm"
    data = "\n".join([header, *lines]).encode()
    for r in support.parse_distro_info(data, name):
        assert isinstance(r, SupportStatus | ParseIssue)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.lists(_line, max_size=6).map(lambda ls: "\n".join(ls).encode()))
def test_arbitrary_bytes(data: bytes) -> None:
    for r in [
        *support.parse_distro_info(data, "debian.csv"),
        *support.parse_security_support_ended(data, "12"),
        *support.parse_security_support_limited(data),
    ]:
        assert isinstance(r, SupportStatus | ParseIssue)


@pytest.mark.parametrize(
    ("distro_id", "version", "namespace"),
    [
        ("debian", "12.15", "debian:12"),  # /etc/debian_version, as Trivy reports it
        ("centos", "7.6.1810", "rhel:7"),
        ("alpine", "3.19.1", "alpine:3.19"),
        ("amazon", "2 (Karoo)", "amazon:2"),  # Trivy's Amazon Linux 2
        ("amzn", "2023", "amazon:2023"),
        ("redhat", "9.4", "rhel:9"),
        ("oracle", "8.10", "oracle:8"),
        ("cbl-mariner", "2.0", "mariner:2"),
        ("ubuntu", "22.04 LTS", "ubuntu:22.04"),
        ("debian", "(none)", "debian"),
        ("nosuch", "1", None),
    ],
)
def test_distro_namespace_of_os_names_other_tools_write(
    distro_id: str, version: str, namespace: str | None
) -> None:
    assert distro_namespace(distro_id, version) == namespace
