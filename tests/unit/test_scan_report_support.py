"""Realistic ScanResults for the scan-report writer tests (shared by test_scan_report_*.py).

A small vulnerability DB is built from handcrafted advisories with the real builder and an SBOM
is matched against it with the real matcher, so the writers see what ``hullscan image`` gives
them: merged alias groups, fix states, vendor and CVSS severities, KEV/EPSS, layers.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hullscan.match import match_sbom
from hullscan.model.advisory import EpssScore, KevEntry, Severity
from hullscan.model.distro import Distro
from hullscan.model.finding import ScanResult
from hullscan.model.sbom import SBOM, Target
from hullscan.vulndb.store import VulnStore
from tests.unit.test_match import NOW, adv, aff, build, deb, lang, rng

DIGEST = "sha256:" + "ab" * 32
TARGET = Target(
    name="registry.example/app:1.0",
    kind="docker-archive",
    manifest_digest=DIGEST,
    config_digest="sha256:" + "cd" * 32,
    repo_tags=("registry.example/app:1.0",),
)

NVD_CRIT = Severity(
    source="nvd",
    type="CVSS_V3",
    vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    score=9.8,
)


def _records() -> list[object]:
    return [
        adv(
            "CVE-2024-0001",
            aff("openssl", rng(("introduced", "0"), ("fixed", "3.0.14-1~deb12u1"))),
            severities=(NVD_CRIT,),
            summary="openssl: buffer | overflow in `X509` parsing <script>alert(1)</script>",
            aliases=("DSA-5700-1",),
        ),
        adv(
            "CVE-2024-0002",
            aff("bash", fix_state="will-not-fix"),
            severities=(Severity(source="debian", type="vendor", rating="low"),),
            summary="bash: minor issue",
        ),
        adv(
            "CVE-2024-0003",
            aff("zlib", rng(("introduced", "0"))),
            severities=(
                Severity(
                    source="nvd",
                    type="CVSS_V3",
                    vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
                    score=5.4,
                ),
            ),
            summary="zlib: no fix yet",
        ),
        adv(
            "GHSA-aaaa-bbbb-cccc",
            aff(
                "requests",
                rng(("introduced", "0"), ("fixed", "2.32.0")),
                namespace="pypi",
                scheme="pypi",
            ),
            source="osv:PyPI",
            aliases=("CVE-2024-35195",),
            severities=(Severity(source="ghsa", type="vendor", rating="Moderate"),),
            summary="Requests `Session` object does not verify requests after making first request",
        ),
        KevEntry(cve="CVE-2024-0001", date_added="2024-05-01"),
        EpssScore("CVE-2024-0001", 0.5, 0.9),
    ]


def sbom() -> SBOM:
    from hullscan.model.location import Location

    packages = (
        msgspec.structs.replace(
            deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
            locations=(Location(path="var/lib/dpkg/status"),),
        ),
        deb("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
        deb("bash", "5.2.15-2+b2", "bash", "5.2.15-2"),
        deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
        msgspec.structs.replace(
            lang("pypi", "requests", "2.31.0"),
            locations=(Location(path="usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"),),
            layer_index=2,
            layer_diff_id="sha256:" + "ee" * 32,
        ),
    )
    return SBOM(target=TARGET, distro=Distro(id="debian", version="12"), packages=packages)


def sample_result(tmp_path: Path) -> ScanResult:
    """Five findings: fixed (KEV, CVSS 9.8), will-not-fix, affected without fix, a pypi GHSA."""
    db = build(tmp_path, _records())  # type: ignore[arg-type]
    with VulnStore(db) as store:
        return match_sbom(sbom(), store, now=NOW)


def empty_result() -> ScanResult:
    return ScanResult(target=Target(name="scratch:latest", kind="oci-dir"))


def test_sample_result_is_realistic(tmp_path: Path) -> None:
    r = sample_result(tmp_path)
    got = {(f.package.name, f.id, f.fix_state) for f in r.findings}
    assert ("libssl3", "CVE-2024-0001", "fixed") in got
    assert ("openssl", "CVE-2024-0001", "fixed") in got
    assert ("bash", "CVE-2024-0002", "will-not-fix") in got
    assert ("zlib1g", "CVE-2024-0003", "affected") in got
    assert any(f.package.name == "requests" for f in r.findings)
    assert any(f.kev for f in r.findings)
