"""Ubuntu CVE tracker parser (``hullscan.vulndb.build.ubuntu_uct``) on the real UCT snapshot
(MANIFEST: 47,185 files; active 14,843, retired 31,931, ignored 380, of which 47,152 are CVE
records: the rest are README/supported lists and two non-CVE files)."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, Affected, ParseIssue, Severity
from hullscan.vulndb.build import ubuntu_uct as uct

WANTED = ("CVE-2022-2795", "CVE-2023-0466", "CVE-2023-0030")


class _Run:
    def __init__(self) -> None:
        self.advisories = 0
        self.issues: list[ParseIssue] = []
        self.states: collections.Counter[str] = collections.Counter()
        self.namespaces: set[str] = set()
        self.problems: collections.Counter[str] = collections.Counter()
        self.kept: dict[str, Advisory] = {}


@pytest.fixture(scope="module")
def run(shared_dir: Path) -> _Run:
    path = shared_dir / "vulndata" / "ubuntu-cve-tracker" / "uct.tar.zst"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    out = _Run()
    for r in uct.iter_uct_archive(path):
        if isinstance(r, ParseIssue):
            out.issues.append(r)
            continue
        out.advisories += 1
        for a in r.affected:
            out.states[a.fix_state] += 1
            out.namespaces.add(a.namespace)
            if a.problem:
                out.problems[a.problem.split(" (")[0]] += 1
        if r.id in WANTED:
            out.kept[r.id] = r
    return out


def _aff(adv: Advisory) -> dict[tuple[str, str], Affected]:
    out = {(a.namespace, a.package): a for a in adv.affected}
    assert len(out) == len(adv.affected)
    return out


def test_release_keys() -> None:
    assert uct.release_of("jammy") == ("ubuntu:22.04", False)
    assert uct.release_of("esm-infra/bionic") == ("ubuntu:18.04", True)
    assert uct.release_of("esm-apps/jammy") == ("ubuntu:22.04", True)
    assert uct.release_of("trusty/esm") == ("ubuntu:14.04", True)
    assert uct.release_of("noble") == ("ubuntu:24.04", False)
    for skipped in (
        "upstream",
        "devel",
        "snap",
        "fips/focal",
        "fips-updates/xenial",
        "ros-esm/xenial",
    ):
        assert uct.release_of(skipped) is None, skipped
    assert uct.release_of("vivid/ubuntu-core") is None
    with pytest.raises(KeyError):
        uct.release_of("nonesuch")


@pytest.mark.needs_shared
def test_release_table_matches_distro_info_data(shared_dir: Path) -> None:
    path = shared_dir / "vulndata" / "distro-info-data" / "ubuntu.csv"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    rows = [r.split(",") for r in path.read_text().splitlines()[1:]]
    assert {r[2]: r[0].split()[0] for r in rows} == uct.UBUNTU_RELEASES


@pytest.mark.needs_shared
def test_archive_counts(run: _Run) -> None:
    # 47,152 CVE files: 9 are retired placeholders named CVE-YYYY-NNNx with no real id
    assert run.advisories == 47143
    assert len(run.issues) == 9
    assert all(i.error.startswith("no Candidate CVE id ('CVE-") for i in run.issues)
    assert all("-NNN" in i.item for i in run.issues)
    assert set(run.states) == {"fixed", "affected", "will-not-fix", "deferred", "not-affected"}
    assert run.states["fixed"] > 160_000 and run.states["affected"] > 60_000
    assert {
        "ubuntu:14.04",
        "ubuntu:16.04",
        "ubuntu:18.04",
        "ubuntu:20.04",
        "ubuntu:22.04",
    } <= run.namespaces
    assert all(ns.startswith("ubuntu:") for ns in run.namespaces)
    # "released" with no version in parentheses (or a note instead of one): 107 lines
    assert run.problems == {"released without a version": 107}


@pytest.mark.needs_shared
def test_record_with_releases_esm_and_priority_override(run: _Run) -> None:
    adv = run.kept["CVE-2022-2795"]
    assert adv.source == "ubuntu-uct"
    assert adv.published == "2022-09-21T11:15:00Z"
    assert adv.details is not None and adv.details.startswith("By flooding the target resolver")
    assert "https://ubuntu.com/security/notices/USN-5626-1" in adv.references
    assert [(s.source, s.type, s.rating, s.vector, s.score) for s in adv.severities] == [
        ("ubuntu", "vendor", "medium", None, None),
        ("nvd", "CVSS_V3", None, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
    ]
    aff = _aff(adv)
    bind = {ns: (a.fix_state, a.fixed_version) for (ns, pkg), a in aff.items() if pkg == "bind9"}
    assert bind == {
        # trusty/xenial: "ignored (end of standard support)", the ESM line is what counts
        "ubuntu:14.04": ("fixed", "1:9.9.5.dfsg-3ubuntu0.19+esm7"),
        "ubuntu:16.04": ("fixed", "1:9.10.3.dfsg.P4-8ubuntu1.19+esm3"),
        "ubuntu:18.04": ("fixed", "1:9.11.3+dfsg-1ubuntu1.18"),
        "ubuntu:20.04": ("fixed", "1:9.16.1-0ubuntu2.11"),
        "ubuntu:22.04": ("fixed", "1:9.18.1-1ubuntu1.2"),
        "ubuntu:22.10": ("fixed", "1:9.18.4-2ubuntu2"),
        "ubuntu:23.04": ("fixed", "1:9.18.4-2ubuntu2"),
        "ubuntu:23.10": ("fixed", "1:9.18.4-2ubuntu2"),
        # upstream_ and devel_ lines are not releases
    }
    assert all(a.severity is None for (_, pkg), a in aff.items() if pkg == "bind9")
    assert aff[("ubuntu:22.04", "bind9")].scheme == "deb"
    dhcp = {ns: a.fix_state for (ns, pkg), a in aff.items() if pkg == "isc-dhcp"}
    assert dhcp == {
        "ubuntu:14.04": "not-affected",
        "ubuntu:16.04": "not-affected",
        "ubuntu:18.04": "not-affected",
        "ubuntu:20.04": "not-affected",
        "ubuntu:22.04": "not-affected",
        "ubuntu:22.10": "will-not-fix",  # ignored (end of life, was needed)
        "ubuntu:23.04": "will-not-fix",
        "ubuntu:23.10": "affected",  # needed
    }
    # Priority_isc-dhcp: low overrides the CVE's medium for that package
    assert {a.severity for (_, pkg), a in aff.items() if pkg == "isc-dhcp"} == {
        Severity(source="ubuntu", type="vendor", rating="low")
    }


@pytest.mark.needs_shared
def test_record_esm_placeholders_and_fips(run: _Run) -> None:
    aff = _aff(run.kept["CVE-2023-0466"])
    # esm-apps/xenial_nodejs: needs-triage next to xenial_nodejs: not-affected -> not-affected
    assert aff[("ubuntu:16.04", "nodejs")].fix_state == "not-affected"
    # esm-apps/jammy_nodejs: needs-triage next to jammy_nodejs: needed -> affected
    assert aff[("ubuntu:22.04", "nodejs")].fix_state == "affected"
    # fips/fips-updates lines ("needed") do not leak into the release
    assert aff[("ubuntu:20.04", "openssl")].fixed_version == "1.1.1f-1ubuntu2.18"
    assert aff[("ubuntu:14.04", "openssl")].fixed_version == "1.0.1f-1ubuntu2.27+esm7"
    # deferred/needs-triage/ignored: edk2 in bionic is "ignored (end of standard support, was
    # needs-triage)" and esm-apps/bionic says needs-triage: the ESM line wins
    assert aff[("ubuntu:18.04", "edk2")].fix_state == "affected"
    assert aff[("ubuntu:22.10", "edk2")].fix_state == "will-not-fix"
    kernel = _aff(run.kept["CVE-2023-0030"])
    assert kernel[("ubuntu:16.04", "linux")].fix_state == "not-affected"  # esm-infra/xenial
    assert ("ubuntu:14.04", "linux-hwe") not in kernel  # DNE: no statement


def test_states_and_dne() -> None:
    text = (
        b"Candidate: CVE-2099-0001\nPublicDate: 2099-01-02\nPriority: high\n"
        b"Description:\n first line\n second line\n\n"
        b"Patches_pkg:\n upstream: https://example.invalid/fix\n"
        b"upstream_pkg: released (2.0)\n"
        b"focal_pkg: deferred (2023-01-01)\n"
        b"jammy_pkg: pending (1.0-1ubuntu1)\n"
        b"noble_pkg: DNE\n"
        b"mantic_pkg: released\n"
        b"lunar_pkg: frobbed\n"
        b"kinetic_pkg: ignored (end of life)\n"
        b"Priority_pkg_jammy: critical\n"
        b"nonesuch_pkg: needed\n"
    )
    records = list(uct.parse_uct(text, item="x"))
    issues = [r for r in records if isinstance(r, ParseIssue)]
    (adv,) = [r for r in records if isinstance(r, Advisory)]
    assert [i.error for i in issues] == ["unknown release 'nonesuch'"]
    assert adv.published == "2099-01-02T00:00:00Z"
    assert adv.details == "first line second line"
    aff = {a.namespace: a for a in adv.affected}
    assert aff["ubuntu:20.04"].fix_state == "deferred"
    assert aff["ubuntu:22.04"].fix_state == "affected"
    assert (
        aff["ubuntu:22.04"].severity is not None
        and aff["ubuntu:22.04"].severity.rating == "critical"
    )
    assert aff["ubuntu:20.04"].severity is None
    assert "ubuntu:24.04" not in aff  # DNE skipped by default
    assert (aff["ubuntu:23.10"].fix_state, aff["ubuntu:23.10"].problem) == (
        "fixed",
        "released without a version ('')",
    )
    assert aff["ubuntu:23.04"].problem == "unknown UCT status 'frobbed'"
    assert aff["ubuntu:22.10"].fix_state == "will-not-fix"
    (adv_dne,) = [
        r for r in uct.parse_uct(text, item="x", keep_dne=True) if isinstance(r, Advisory)
    ]
    assert {a.namespace: a.fix_state for a in adv_dne.affected}["ubuntu:24.04"] == "not-affected"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_arbitrary_bytes_give_records_or_issues(data: bytes) -> None:
    for r in uct.parse_uct(data, item="x"):
        assert isinstance(r, Advisory | ParseIssue)


_LINES = st.sampled_from(
    [
        "Candidate: CVE-2099-0001",
        "Candidate: CVE-2099-XXXX",
        "PublicDate: 2099-13-45 99:99:99 UTC",
        "Priority: medium",
        "Priority_pkg: low",
        "Priority_pkg_esm-infra/bionic: high",
        "CVSS:",
        " nvd: CVSS:3.1/AV:N [99.9 HIGH]",
        "References:",
        " https://example.invalid/x",
        "Patches_pkg:",
        "bionic_pkg: released (1.0-1)",
        "esm-infra/bionic_pkg: needs-triage",
        "trusty/esm_pkg: DNE",
        "jammy_pkg: needed (",
        "jammy_: needed",
        "weird line",
        "#comment",
        "",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINES, max_size=15), st.booleans())
def test_mutated_records_give_records_or_issues(lines: list[str], keep_dne: bool) -> None:
    for r in uct.parse_uct("\n".join(lines).encode(), item="x", keep_dne=keep_dne):
        assert isinstance(r, Advisory | ParseIssue)
        if isinstance(r, Advisory):
            assert all(a.namespace.startswith("ubuntu:") for a in r.affected)


def test_read_directory(tmp_path: Path) -> None:
    (tmp_path / "active").mkdir()
    (tmp_path / "retired").mkdir()
    (tmp_path / "active" / "CVE-2099-0001").write_bytes(
        b"Candidate: CVE-2099-0001\njammy_p: needed\n"
    )
    (tmp_path / "retired" / "CVE-2099-0002").write_bytes(
        b"Candidate: CVE-2099-0002\nfocal_p: released (1-1)\n"
    )
    (tmp_path / "active" / "10autotriage.linux").write_bytes(b"not a record")
    got = {r.id: r.affected[0].fix_state for r in uct.read(tmp_path) if isinstance(r, Advisory)}
    assert got == {"CVE-2099-0001": "affected", "CVE-2099-0002": "fixed"}
