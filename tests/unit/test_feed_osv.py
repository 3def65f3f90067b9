"""OSV parser (``hullscan.vulndb.build.osv``) on the real bundles of shared/vulndata.

Every bundle is parsed once (module-scoped fixture, ~12 s here); tests then check the record
counts against MANIFEST.md, spot-check real records field by field (raw JSON read by hand),
and fuzz the parser with arbitrary bytes and mutated real records.
"""

from __future__ import annotations

import collections
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, ParseIssue, RangeEvent, Severity
from hullscan.model.namespaces import scheme_of
from hullscan.vulndb.build.containers import iter_zip
from hullscan.vulndb.build.osv import (
    iter_osv_container,
    looks_withdrawn,
    origin_of,
    parse_osv,
    parse_osv_yaml,
)
from hullscan.vulndb.cvss import base_score

pytestmark = pytest.mark.xdist_group("feed-osv")  # one worker parses the bundles once

# --- expectations, from MANIFEST.md ----------------------------------------------------------

# bundle -> (records, {id prefix: records} or None)
BUNDLES: dict[str, tuple[int, dict[str, int] | None]] = {
    "osv-dev/PyPI/all.zip.zst": (15555, {"MAL": 8892, "GHSA": 3476, "PYSEC": 3181, "OSV": 6}),
    "osv-dev/npm/all.zip.zst": (23224, {"MAL": 19431, "GHSA": 3792, "GSD": 1}),
    "osv-dev/Maven/all.zip.zst": (5309, {"GHSA": 5309}),
    "osv-dev/NuGet/all.zip": (1427, {"MAL": 743, "GHSA": 684}),
    "osv-dev/RubyGems/all.zip": (1699, {"GHSA": 892, "MAL": 807}),
    "osv-dev/Packagist/all.zip.zst": (4288, {"GHSA": 4288}),
    "osv-dev/Go/all.zip.zst": (3954, {"GHSA": 2117, "GO": 1836, "OSV": 1}),
    "osv-dev/crates.io/all.zip": (1614, {"GHSA": 900, "RUSTSEC": 712, "MAL": 2}),
    "osv-dev/Debian/all.zip.zst": (
        44152,
        {"CVE": 33844, "DSA": 5883, "DLA": 4218, "DTSA": 207},
    ),
    "osv-dev/Alpine/all.zip.zst": (3655, {"CVE": 3655}),
    "osv-dev/Rocky-Linux/all.zip": (1491, {"RLSA": 1477, "RXSA": 14}),
    "ghsa/npm/github-reviewed.zip.zst": (3792, {"GHSA": 3792}),
    "ghsa/Maven/github-reviewed.zip.zst": (5305, {"GHSA": 5305}),
    "ghsa/PyPI/github-reviewed.zip.zst": (3465, {"GHSA": 3465}),
    "ghsa/Packagist/github-reviewed.zip.zst": (4348, {"GHSA": 4348}),
    "ghsa/Go/github-reviewed.zip": (2125, {"GHSA": 2125}),
    "ghsa/NuGet/github-reviewed.zip": (685, {"GHSA": 685}),
    "ghsa/RubyGems/github-reviewed.zip": (892, {"GHSA": 892}),
    "ghsa/crates.io/github-reviewed.zip": (895, {"GHSA": 895}),
    "golang-vulndb/all.zip.zst": (4291, {"GO": 4291}),
    "rustsec/all.zip": (1206, {"RUSTSEC": 1206}),
    "almalinux-osv/advisories.zip.zst": (5680, {"ALSA": 4480, "ALBA": 978, "ALEA": 222}),
    "kubernetes-cve-feed-osv/all.zip": (47, None),
    "ossf-malicious-packages/npm.zip.zst": (22241, {"MAL": 22241}),
    "ossf-malicious-packages/pypi.zip.zst": (9207, {"MAL": 9207}),
    "ossf-malicious-packages/rubygems.zip": (815, {"MAL": 815}),
    "ossf-malicious-packages/nuget.zip": (746, {"MAL": 746}),
    "ossf-malicious-packages/go.zip": (8, {"MAL": 8}),
    "ossf-malicious-packages/crates-io.zip": (2, {"MAL": 2}),
    "ossf-malicious-packages/maven.zip": (1, {"MAL": 1}),
    "ossf-malicious-packages/withdrawn.zip": (56, {"MAL": 56}),
    "pypa-advisory-database/vulns.zip": (2661, {"PYSEC": 2661}),
    "samples/osv-all-zip/go/all.zip": (3, {"GO": 3}),
    "samples/osv-all-zip/rust/all.zip": (3, {"RUSTSEC": 3}),
}
# natively withdrawn records (MANIFEST: golang 17, rustsec 13, withdrawn.zip 56)
WITHDRAWN = {
    "golang-vulndb/all.zip.zst": 17,
    "rustsec/all.zip": 13,
    "ossf-malicious-packages/withdrawn.zip": 56,
    "pypa-advisory-database/vulns.zip": 10,  # not in MANIFEST: 10 PYSEC yaml files say so
}
# records picked for field-by-field checks
PICK: dict[str, set[str]] = {
    "osv-dev/Debian/all.zip.zst": {"CVE-2020-11721", "CVE-2023-5363", "DSA-5532-1"},
    "osv-dev/Alpine/all.zip.zst": {"CVE-2016-10002"},
    "osv-dev/Go/all.zip.zst": {"GO-2024-2442"},
    "osv-dev/Rocky-Linux/all.zip": {"RLSA-2019:0975", "RLSA-2019:0981"},
    "ghsa/PyPI/github-reviewed.zip.zst": {"GHSA-2p78-8hh6-96xc"},
    "golang-vulndb/all.zip.zst": {"GO-2024-2442"},
    "rustsec/all.zip": {"RUSTSEC-2020-0055"},
    "almalinux-osv/advisories.zip.zst": {"ALBA-2019:0986"},
    "ossf-malicious-packages/nuget.zip": {"MAL-2024-3991"},
    "ossf-malicious-packages/npm.zip.zst": {"MAL-2023-41"},
    "pypa-advisory-database/vulns.zip": {"PYSEC-2021-335"},
}


@dataclass
class Parsed:
    advisories: int = 0
    issues: list[ParseIssue] = field(default_factory=list)
    prefixes: collections.Counter[str] = field(default_factory=collections.Counter)
    withdrawn: int = 0
    looks_withdrawn: int = 0
    zero_dates: int = 0
    published_none: int = 0
    modified_none: int = 0
    unscored_cvss: int = 0
    bad_affected: list[str] = field(default_factory=list)
    picked: dict[str, Advisory] = field(default_factory=dict)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def vulndata(shared_dir: Path) -> Path:
    root = shared_dir / "vulndata"
    if not (root / "MANIFEST.md").is_file():
        pytest.skip(f"shared vulnerability data absent: {root}")
    return root


@pytest.fixture(scope="module")
def parsed(vulndata: Path) -> dict[str, Parsed]:
    out: dict[str, Parsed] = {}
    for rel in BUNDLES:
        res = Parsed()
        want = PICK.get(rel, set())
        t0 = time.perf_counter()
        for rec in iter_osv_container(vulndata / rel, source=f"test:{rel}"):
            if isinstance(rec, ParseIssue):
                res.issues.append(rec)
                continue
            res.advisories += 1
            res.prefixes[rec.id.split("-", 1)[0]] += 1
            res.withdrawn += rec.withdrawn is not None
            res.looks_withdrawn += looks_withdrawn(rec)
            res.published_none += rec.published is None
            res.modified_none += rec.modified is None
            for ts in (rec.published, rec.modified, rec.withdrawn):
                res.zero_dates += bool(ts and ts.startswith("0001"))
            res.unscored_cvss += sum(
                1 for s in rec.severities if s.type.startswith("CVSS") and s.score is None
            )
            for a in rec.affected:
                if not a.package or scheme_of(a.namespace) != a.scheme or a.problem:
                    res.bad_affected.append(f"{rec.id}: {a.namespace} {a.package!r} {a.problem}")
            if rec.id in want:
                res.picked[rec.id] = rec
        res.seconds = time.perf_counter() - t0
        out[rel] = res
    return out


# --- counts -----------------------------------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("rel", [r for r in BUNDLES if not r.startswith("kubernetes")])
def test_bundle_counts_match_manifest(parsed: dict[str, Parsed], rel: str) -> None:
    res = parsed[rel]
    total, prefixes = BUNDLES[rel]
    assert res.issues == []
    assert res.advisories == total
    if prefixes is not None:
        assert dict(res.prefixes) == prefixes
    assert res.withdrawn == WITHDRAWN.get(rel, 0)
    assert res.zero_dates == 0
    assert res.unscored_cvss == 0  # every real CVSS vector scores
    assert res.bad_affected == []


@pytest.mark.needs_shared
def test_kubernetes_feed_is_one_issue_per_record(parsed: dict[str, Parsed]) -> None:
    # Ecosystem "kubernetes" (k8s.io/kubelet at Kubernetes release versions, not Go module
    # versions) has no namespace in namespaces.py: every record is reported, none is dropped
    # silently and none is mis-filed under golang.
    res = parsed["kubernetes-cve-feed-osv/all.zip"]
    assert res.advisories + len(res.issues) == 47
    assert all("kubernetes" in i.error for i in res.issues)


@pytest.mark.needs_shared
def test_withdrawn_markers_in_vuls_mirrors(parsed: dict[str, Parsed]) -> None:
    # MANIFEST caveat 1: the mirrors lost `withdrawn`; the text markers find at least the
    # counts the MANIFEST gives (the first-details-line rule finds some more GHSA ones).
    minimum = {"Go": 51, "Maven": 56, "Packagist": 42, "npm": 38, "PyPI": 36}
    minimum |= {"RubyGems": 15, "NuGet": 14, "crates.io": 7}
    for eco, n in minimum.items():
        res = next(v for k, v in parsed.items() if k.startswith(f"osv-dev/{eco}/"))
        assert res.withdrawn == 0
        assert res.looks_withdrawn >= n, eco
    # native sources: the field itself
    assert parsed["golang-vulndb/all.zip.zst"].looks_withdrawn == 17
    assert parsed["ossf-malicious-packages/withdrawn.zip"].looks_withdrawn == 56


@pytest.mark.needs_shared
def test_golang_zero_dates_are_unknown(parsed: dict[str, Parsed]) -> None:
    # caveat 4: data/osv/GO-*.json carry 0001-01-01T00:00:00Z dates: `modified` in all 4,291,
    # `published` in 4,039 (252 GO-2021/2022 records have a real `published`; counted by hand)
    res = parsed["golang-vulndb/all.zip.zst"]
    assert res.modified_none == res.advisories == 4291
    assert res.published_none == 4039
    assert res.zero_dates == 0


@pytest.mark.needs_shared
def test_throughput_is_reasonable(parsed: dict[str, Parsed]) -> None:
    # the Debian bundle: 44k records, 278 MB of JSON (~3 s here); generous for slow CI
    assert parsed["osv-dev/Debian/all.zip.zst"].seconds < 60


# --- spot checks (raw records read by hand) ---------------------------------------------------


def _pick(parsed: dict[str, Parsed], rel: str, vid: str) -> Advisory:
    return parsed[rel].picked[vid]


def _ev(*pairs: tuple[str, str]) -> tuple[RangeEvent, ...]:
    return tuple(RangeEvent(k, v) for k, v in pairs)


@pytest.mark.needs_shared
def test_debian_cve_per_release_urgency_and_gitless(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "osv-dev/Debian/all.zip.zst", "CVE-2020-11721")
    assert adv.related == ("UBUNTU-CVE-2020-11721",)
    assert adv.published == "2020-04-12T19:15:10Z"
    assert adv.severities == (
        Severity(
            source="osv",
            type="CVSS_V3",
            vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H",
            score=6.5,
        ),
    )
    # three Debian entries; the package-less GIT entry (last_affected commit) is skipped
    assert [a.namespace for a in adv.affected] == ["debian:11", "debian:12", "debian:13"]
    d11, d12, _ = adv.affected
    assert (d11.package, d11.scheme, d11.fix_state, d11.fixed_version) == (
        "libsixel",
        "deb",
        "affected",
        None,
    )
    assert d11.ranges[0].events == _ev(("introduced", "0"))
    assert d11.versions[:2] == ("1.10.3-1", "1.10.3-2")
    assert d11.severity == Severity(source="debian", type="vendor", rating="low")
    assert (d12.fix_state, d12.fixed_version) == ("fixed", "1.10.3-1")
    assert d12.ranges[0].events == _ev(("introduced", "0"), ("fixed", "1.10.3-1"))
    assert d12.severity is not None and d12.severity.rating == "low"


@pytest.mark.needs_shared
def test_debian_combined_record_with_alpine_entries(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "osv-dev/Debian/all.zip.zst", "CVE-2023-5363")
    assert [a.namespace for a in adv.affected] == [
        "alpine:3.17",
        "alpine:3.18",
        "alpine:3.19",
        "alpine:3.20",
        "alpine:3.21",
        "debian:12",
        "debian:13",
    ]
    assert {a.package for a in adv.affected} == {"openssl"}
    assert adv.affected[0].scheme == "apk" and adv.affected[0].fixed_version == "3.0.12-r0"
    deb12 = adv.affected[5]
    assert deb12.fixed_version == "3.0.11-1~deb12u2"
    assert deb12.severity is None  # urgency "not yet assigned" is no rating
    assert "DSA-5532-1" in adv.related and "USN-6450-1" in adv.related
    assert adv.severities[0].score == 7.5
    assert adv.details is not None and adv.details.startswith("Issue summary: A bug")

    dsa = _pick(parsed, "osv-dev/Debian/all.zip.zst", "DSA-5532-1")
    assert dsa.summary == "openssl - security update"
    assert dsa.related == ("CVE-2023-5363",)
    assert dsa.published == "2023-10-24T00:00:00Z"
    (a,) = dsa.affected
    assert (a.namespace, a.package, a.fixed_version) == ("debian:12", "openssl", "3.0.11-1~deb12u2")
    assert a.versions == ("3.0.10-1", "3.0.10-1~deb12u1", "3.0.11-1~deb12u1", "3.0.9-1")


@pytest.mark.needs_shared
def test_alpine_combined_record_skips_packageless(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "osv-dev/Alpine/all.zip.zst", "CVE-2016-10002")
    assert [(a.namespace, a.package, a.fixed_version) for a in adv.affected] == [
        ("alpine:3.2", "squid", "3.5.23-r0"),
        ("alpine:3.3", "squid", "3.5.23-r0"),
    ]
    assert adv.severities[0].vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    assert adv.severities[0].score == 7.5


@pytest.mark.needs_shared
def test_ghsa_cvss_and_database_severity(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "ghsa/PyPI/github-reviewed.zip.zst", "GHSA-2p78-8hh6-96xc")
    assert adv.aliases == ("CVE-2011-1157",)
    assert adv.summary == "feedparser Cross-site Scripting vulnerability"
    assert adv.modified == "2024-09-20T17:20:05Z"
    assert adv.cwes == ("CWE-79",)
    assert adv.severities == (
        Severity(
            source="ghsa",
            type="CVSS_V3",
            vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            score=6.1,
        ),
        Severity(
            source="ghsa",
            type="CVSS_V4",
            vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N",
            score=5.3,
        ),
        Severity(source="ghsa", type="vendor", rating="moderate"),
    )
    (a,) = adv.affected
    assert (a.namespace, a.package, a.fix_state, a.fixed_version) == (
        "pypi",
        "feedparser",
        "fixed",
        "5.0.1",
    )
    assert a.ranges[0].events == _ev(("introduced", "5.0"), ("fixed", "5.0.1"))
    assert len(adv.references) == 13
    assert adv.references[4] == "https://github.com/advisories/GHSA-2p78-8hh6-96xc"


@pytest.mark.needs_shared
def test_pysec_yaml(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "pypa-advisory-database/vulns.zip", "PYSEC-2021-335")
    assert adv.aliases == ("CVE-2021-32807", "GHSA-qcx9-j53g-ccgf")
    assert adv.published == "2021-07-30T22:15:00Z"
    assert adv.modified == "2021-09-26T23:32:08.989778Z"
    (a,) = adv.affected
    assert (a.namespace, a.package) == ("pypi", "accesscontrol")
    git, eco = a.ranges
    assert git.type == "GIT" and git.repo == "https://github.com/zopefoundation/AccessControl"
    assert git.events == _ev(
        ("introduced", "0"), ("fixed", "b42dd4badf803bb9fb71ac34cd9cb0c249262f2c")
    )
    assert eco.type == "ECOSYSTEM" and eco.repo is None
    assert eco.events == _ev(
        ("introduced", "4.0"), ("fixed", "4.3"), ("introduced", "5.0"), ("fixed", "5.2")
    )
    # two different fixes (4.3, 5.2): the matcher picks from the ranges
    assert (a.fix_state, a.fixed_version) == ("fixed", None)
    assert a.versions == ("4.0", "4.1", "4.2", "5.0", "5.1")  # strings, not floats


@pytest.mark.needs_shared
def test_malicious_homoglyph_name(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "ossf-malicious-packages/nuget.zip", "MAL-2024-3991")
    assert adv.malicious
    assert adv.summary == "Malicious code in 2Captc\u04bbaAP\u0406 (NuGet)"
    (a,) = adv.affected
    # NuGet names compare case-insensitively: lower-cased, Cyrillic kept (not "2captchaapi")
    assert a.namespace == "nuget" and a.package == "2captc\u04bbaap\u0456"
    assert a.versions == ("1.10.1",) and a.ranges == () and a.fix_state == "unknown"
    # MAL details quote a withdrawn GHSA malware advisory; the MAL record itself is live
    mal = _pick(parsed, "ossf-malicious-packages/npm.zip.zst", "MAL-2023-41")
    assert mal.details is not None and "This advisory has been withdrawn" in mal.details
    assert mal.withdrawn is None and not looks_withdrawn(mal)


@pytest.mark.needs_shared
def test_go_withdrawn_native_and_mirrored(parsed: dict[str, Parsed]) -> None:
    native = _pick(parsed, "golang-vulndb/all.zip.zst", "GO-2024-2442")
    assert native.withdrawn == "2024-01-23T12:50:23Z"
    assert native.published is None and native.modified is None  # zero dates
    assert native.aliases == ("GHSA-76cc-p55w-63g3",)
    (a,) = native.affected
    assert (a.namespace, a.package, a.scheme) == (
        "golang",
        "github.com/gravitational/teleport",
        "golang",
    )
    assert a.ranges[0].type == "SEMVER" and a.fix_state == "affected"
    mirrored = _pick(parsed, "osv-dev/Go/all.zip.zst", "GO-2024-2442")
    assert mirrored.withdrawn is None  # caveat 1: the vuls mirror dropped the field
    assert mirrored.published == "2024-06-28T15:28:53Z"
    assert looks_withdrawn(mirrored)


@pytest.mark.needs_shared
def test_rustsec_withdrawn(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "rustsec/all.zip", "RUSTSEC-2020-0055")
    assert adv.withdrawn == "2020-10-22T12:00:00Z"
    assert adv.affected[0].namespace == "cargo"
    assert adv.affected[0].package == "libpulse-binding"


@pytest.mark.needs_shared
def test_rocky_modular_packages(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "osv-dev/Rocky-Linux/all.zip", "RLSA-2019:0975")
    assert adv.summary == "Important: container-tools:rhel8 security and bug fix update"
    assert adv.related == ("CVE-2019-5736",)
    assert adv.severities[0].source == "rocky" and adv.severities[0].score == 7.7
    assert [(a.namespace, a.package, a.module) for a in adv.affected] == [
        ("rocky:8", "oci-systemd-hook", "container-tools:rhel8"),
        ("rocky:8", "oci-umount", "container-tools:rhel8"),
    ]
    assert adv.affected[0].fixed_version == "1:0.1.15-2.git2d0b8a3.module+el8.4.0+557+48ba8b2f"
    # the same package twice: a plain el8 build (no module) and the python27:2.7 module build
    adv = _pick(parsed, "osv-dev/Rocky-Linux/all.zip", "RLSA-2019:0981")
    plain, modular = adv.affected[:2]
    assert (plain.package, plain.fixed_version, plain.module) == (
        "python-markupsafe",
        "0:0.23-19.el8",
        None,
    )
    assert modular.package == "python-markupsafe" and modular.module == "python27:2.7"


@pytest.mark.needs_shared
def test_alma_modular_packages(parsed: dict[str, Parsed]) -> None:
    adv = _pick(parsed, "almalinux-osv/advisories.zip.zst", "ALBA-2019:0986")
    assert adv.severities == ()
    assert {a.namespace for a in adv.affected} == {"alma:8"}
    assert {a.module for a in adv.affected} == {"rhn-tools:1.0"}
    koan = [a.fixed_version for a in adv.affected if a.package == "koan"]
    assert koan == [
        "2.0.7.1-6.module_el8.3.0+2041+d1f204ad",
        "2.0.7.1-6.module_el8.5.0+94+18674043",
    ]


@pytest.mark.needs_shared
def test_ubuntu_osv_samples(vulndata: Path) -> None:
    files = sorted((vulndata / "samples/ubuntu-osv").rglob("*.json"))
    assert len(files) == 10
    got: dict[str, Advisory] = {}
    for f in files:
        (rec,) = parse_osv(f.read_bytes(), source="ubuntu-osv", item=f.name)
        assert isinstance(rec, Advisory), rec
        got[rec.id] = rec
    adv = got["UBUNTU-CVE-2021-3782"]
    assert adv.upstream == ("CVE-2021-3782",)
    assert adv.related == ("USN-5614-1", "USN-5614-2")
    # the CVSS vector is listed twice upstream: kept once; the Ubuntu priority is a rating
    assert adv.severities == (
        Severity(
            source="ubuntu",
            type="CVSS_V3",
            vector="CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:H",
            score=6.6,
        ),
        Severity(source="ubuntu", type="vendor", rating="medium"),
    )
    assert adv.affected[0].namespace == "ubuntu:16.04"  # Ubuntu:Pro:16.04:LTS
    assert adv.affected[0].fixed_version == "1.12.0-1~ubuntu16.04.3+esm1"
    bionic = adv.affected[1]
    assert (bionic.namespace, bionic.package) == ("ubuntu:18.04", "wayland")
    assert bionic.binaries == (
        "libwayland-bin",
        "libwayland-client0",
        "libwayland-cursor0",
        "libwayland-egl1",
        "libwayland-server0",
    )
    # withdrawn Ubuntu records carry the field
    assert got["UBUNTU-CVE-2013-2208"].withdrawn == "2025-07-18T16:42:51Z"
    assert got["UBUNTU-CVE-2020-36325"].withdrawn == "2025-06-23T15:53:49Z"
    assert got["UBUNTU-CVE-2016-20013"].severities[-1].rating == "negligible"
    assert got["USN-5614-1"].upstream == ("UBUNTU-CVE-2021-3782",)


@pytest.mark.needs_shared
def test_chainguard_osv_samples(vulndata: Path) -> None:
    root = vulndata / "samples/chainguard-osv"
    recs = [
        r
        for f in sorted(root.glob("CGA-*.json"))
        for r in parse_osv(f.read_bytes(), source="cg", item=f.name)
    ]
    assert len(recs) == 3 and all(isinstance(r, Advisory) for r in recs)
    cga = next(r for r in recs if isinstance(r, Advisory) and r.id == "CGA-224q-ccj5-2p53")
    assert cga.upstream == ("CVE-2025-32464", "GHSA-frg5-h47x-75j9")
    assert cga.severities[0].source == "chainguard" and cga.severities[0].score == 9.1
    assert [(a.namespace, a.package, a.fixed_version) for a in cga.affected][:3] == [
        ("chainguard", "haproxy-2.2", "2.2.34-r0"),
        ("chainguard", "haproxy-2.8", "2.8.18-r0"),
        ("wolfi", "haproxy-3.0", "3.0.10-r0"),
    ]
    # "introduced 0, fixed 0": never affected (a compat package that ships no vulnerable code)
    cgx = next(r for r in recs if isinstance(r, Advisory) and r.id == "CGA-xcpc-gm23-prj9")
    states = {a.package: a.fix_state for a in cgx.affected}
    assert states["syncthing-compat"] == "not-affected"
    assert states["syncthing"] == "fixed"
    # all.json is the index (a list of ids), not a record
    (idx,) = parse_osv((root / "all.json").read_bytes(), source="cg", item="all.json")
    assert isinstance(idx, ParseIssue)


# --- pure unit tests (no shared data) -----------------------------------------------------------


def _one(data: bytes, yaml_form: bool = False) -> Advisory | ParseIssue:
    parse = parse_osv_yaml if yaml_form else parse_osv
    items = list(parse(data, source="t", item="x"))
    assert len(items) == 1
    return items[0]


def _record(**over: Any) -> bytes:
    rec: dict[str, Any] = {
        "id": "GHSA-xxxx-yyyy-zzzz",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Foo_Bar"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    rec.update(over)
    return json.dumps(rec).encode()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "truncated"),
        (b"{", "truncated"),
        (b"[]", "Expected `object`"),
        (b"\xff\xfe", "malformed"),
        (b'{"affected": []}', "missing required field `id`"),
        (_record(affected="x"), "$.affected"),
        (_record(id=""), "empty id"),
        (_record(id="A" * 100_000), "record id of 100000"),
        (_record(affected=[]), "no affected entries"),
        (
            _record(affected=[{"package": {"ecosystem": "SwiftURL", "name": "x"}}]),
            "no affected entry in a known ecosystem: SwiftURL",
        ),
    ],
)
def test_bad_records_are_issues(data: bytes, fragment: str) -> None:
    rec = _one(data)
    assert isinstance(rec, ParseIssue)
    assert fragment in rec.error
    assert len(rec.error) <= 300


def test_mapping_details() -> None:
    rec = _one(
        _record(
            published="0001-01-01T00:00:00Z",
            modified="2024-01-01T00:00:00Z",
            details="é" * 10_000,
            summary="Duplicate Advisory: old",
            aliases=["CVE-1", "CVE-1", "GHSA-xxxx-yyyy-zzzz"],
            severity=[
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                {"type": "CVSS_V3", "score": "not a vector"},
                {"type": "SOMETHING_NEW", "score": "x"},
            ],
            database_specific={"severity": "CRITICAL", "cwe_ids": ["CWE-1", 5, None]},
            affected=[
                {"package": {"ecosystem": "PyPI", "name": "Foo_Bar.baz"}, "versions": ["1", "1"]},
                {"package": {"ecosystem": "Hex", "name": "plug"}, "ranges": [{"type": "X"}]},
                {"package": {"ecosystem": "SwiftURL", "name": "x"}},
                {"package": {}, "ranges": [{"type": "GIT", "repo": "r", "events": []}]},
            ],
        )
    )
    assert isinstance(rec, Advisory)
    assert rec.published is None and rec.modified == "2024-01-01T00:00:00Z"
    assert rec.details is not None and len(rec.details.encode()) <= 4096
    assert rec.aliases == ("CVE-1",)
    assert rec.severities[0].score == 9.8
    assert rec.severities[1] == Severity(source="ghsa", type="CVSS_V3", vector="not a vector")
    assert rec.severities[2] == Severity(source="ghsa", type="vendor", rating="critical")
    assert rec.cwes == ("CWE-1",)
    pypi, hex_ = rec.affected
    assert (pypi.package, pypi.versions, pypi.fix_state) == ("foo-bar-baz", ("1",), "unknown")
    assert hex_.ranges == () and hex_.problem is not None and "unsupported" in hex_.problem
    assert looks_withdrawn(rec)


def test_packageless_only_record_is_an_advisory() -> None:
    rec = _one(
        _record(
            affected=[{"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "a"}]}]}]
        )
    )
    assert isinstance(rec, Advisory) and rec.affected == ()


def test_withdrawn_without_entries_is_kept() -> None:
    rec = _one(_record(affected=[], withdrawn="2024-01-01T00:00:00Z"))
    assert isinstance(rec, Advisory) and rec.withdrawn == "2024-01-01T00:00:00Z"


def test_events_keep_order_and_fix_state() -> None:
    rec = _one(
        _record(
            affected=[
                {
                    "package": {"ecosystem": "npm", "name": "x"},
                    "ranges": [
                        {
                            "type": "SEMVER",
                            "events": [
                                {"introduced": "1.0.0"},
                                {"last_affected": "1.2.0"},
                                {"introduced": "2.0.0"},
                                {"fixed": "2.1.0"},
                            ],
                        },
                        {
                            "type": "GIT",
                            "repo": "https://x",
                            "events": [{"introduced": "0"}, {"limit": "abc"}],
                        },
                    ],
                },
                {
                    "package": {"ecosystem": "npm", "name": "y"},
                    "ranges": [
                        {"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "1"}]}
                    ],
                },
            ]
        )
    )
    assert isinstance(rec, Advisory)
    x, y = rec.affected
    assert x.ranges[0].events == _ev(
        ("introduced", "1.0.0"),
        ("last_affected", "1.2.0"),
        ("introduced", "2.0.0"),
        ("fixed", "2.1.0"),
    )
    assert x.ranges[1].repo == "https://x" and x.ranges[1].events[1] == RangeEvent("limit", "abc")
    assert (x.fix_state, x.fixed_version) == ("fixed", "2.1.0")
    assert (y.fix_state, y.fixed_version) == ("affected", None)


def test_debian_and_ubuntu_specifics() -> None:
    rec = _one(
        _record(
            id="UBUNTU-CVE-2024-1",
            severity=[{"type": "Ubuntu", "score": "Negligible"}],
            affected=[
                {
                    "package": {"ecosystem": "Debian:12", "name": "openssl"},
                    "ecosystem_specific": {"urgency": "unimportant"},
                },
                {
                    "package": {"ecosystem": "Debian:11", "name": "openssl"},
                    "ecosystem_specific": {"urgency": ["not", "a", "string"]},
                },
                {
                    "package": {"ecosystem": "Ubuntu:Pro:18.04:LTS", "name": "wayland"},
                    "ecosystem_specific": {"binaries": [{"libwayland0": "1.0"}, "libx"]},
                },
                {
                    "package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "w"},
                    "ecosystem_specific": {"binaries": {"a": "1", "b": "2"}},
                },
            ],
        )
    )
    assert isinstance(rec, Advisory)
    assert rec.severities == (Severity(source="ubuntu", type="vendor", rating="negligible"),)
    d12, d11, u18, u22 = rec.affected
    assert d12.severity == Severity(source="debian", type="vendor", rating="unimportant")
    assert d11.severity is None
    assert (u18.namespace, u18.binaries) == ("ubuntu:18.04", ("libwayland0", "libx"))
    assert u22.binaries == ("a", "b")


def test_yaml_scalars_stay_strings_and_aliases_are_refused() -> None:
    doc = b"""id: PYSEC-0
affected:
- package: {name: no, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: 0
    - fixed: 4.10
  versions: [1.0, 2021-01-01]
published: 2021-07-30T22:15:00Z
withdrawn: null
"""
    rec = _one(doc, yaml_form=True)
    assert isinstance(rec, Advisory)
    (a,) = rec.affected
    assert a.package == "no" and a.fixed_version == "4.10"
    assert a.versions == ("1.0", "2021-01-01")
    assert rec.published == "2021-07-30T22:15:00Z" and rec.withdrawn is None
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\nid: X\n"
    assert isinstance(_one(bomb, yaml_form=True), ParseIssue)
    evil = b'!!python/object/apply:os.system ["true"]'
    assert isinstance(_one(evil, yaml_form=True), ParseIssue)


def test_origin_of() -> None:
    assert origin_of("GHSA-1") == "ghsa"
    assert origin_of("GO-2024-1") == "go"
    assert origin_of("CVE-2024-1") == "osv"
    assert origin_of("RLSA-2019:0975") == "rocky"


@pytest.mark.parametrize(
    ("vector", "kind", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS_V3", 9.8),
        ("CVSS:3.0/AV:L/AC:H/PR:N/UI:R/S:C/C:H/I:H/A:H", "CVSS_V3", 7.7),  # scope changed
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "CVSS_V3", 6.1),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", "CVSS_V3", 0.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS_V4", 9.3),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS_V2", 7.5),
        ("(AV:N/AC:M/Au:N/C:N/I:P/A:N)", "CVSS_V2", 4.3),
        ("CVSS:3.1/AV:N", "CVSS_V3", None),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS_V4", None),  # kind mismatch
        ("x" * 10_000, None, None),
    ],
)
def test_cvss_base_scores(vector: str, kind: str | None, score: float | None) -> None:
    assert base_score(vector, kind) == score


# --- fuzzing ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    for parse in (parse_osv, parse_osv_yaml):
        items = list(parse(data, source="fuzz", item="x"))
        assert len(items) == 1 and isinstance(items[0], Advisory | ParseIssue)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def real_records(vulndata: Path) -> list[bytes]:
    """A few dozen real records of every flavour, raw bytes."""
    out: list[bytes] = []
    for rel, n in [
        ("osv-dev/Debian/all.zip.zst", 8),
        ("osv-dev/Alpine/all.zip.zst", 4),
        ("ghsa/PyPI/github-reviewed.zip.zst", 6),
        ("golang-vulndb/all.zip.zst", 4),
        ("ossf-malicious-packages/nuget.zip", 4),
        ("almalinux-osv/advisories.zip.zst", 4),
        ("rustsec/all.zip", 4),
    ]:
        taken = 0
        for i, member in enumerate(iter_zip(vulndata / rel)):
            if isinstance(member, tuple) and i % 37 == 0:
                out.append(member[1])
                taken += 1
                if taken == n:
                    break
    out.extend(f.read_bytes() for f in sorted((vulndata / "samples/ubuntu-osv").rglob("*.json")))
    return out


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found += _paths(v, (*prefix, i))
    return found


@pytest.mark.needs_shared
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_real_records(real_records: list[bytes], data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(real_records))
    obj = msgspec.json.decode(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(obj)
        path = data.draw(st.sampled_from(paths))
        value = data.draw(_JSON)
        if not path:
            obj = value
            continue
        parent = obj
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    mutated = json.dumps(obj).encode()
    if data.draw(st.booleans()):  # byte-level damage too
        cut = data.draw(st.integers(0, len(mutated)))
        mutated = mutated[:cut] + data.draw(st.binary(max_size=8)) + mutated[cut:]
    for parse in (parse_osv, parse_osv_yaml):
        items = list(parse(mutated, source="fuzz", item="x"))
        assert len(items) == 1 and isinstance(items[0], Advisory | ParseIssue)
        if isinstance(items[0], ParseIssue):
            assert not items[0].error.startswith("internal")
