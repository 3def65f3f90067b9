"""VEX parsing (OpenVEX, CycloneDX VEX, CSAF VEX) and suppression by ``apply_policy``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hullscan.errors import UsageError
from hullscan.model.finding import Finding, PackageRef, ScanResult
from hullscan.model.sbom import Target
from hullscan.policy import Policy, apply_policy, load_vex, parse_vex
from hullscan.policy.vex import normalize_id, parse_purl

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata" / "samples"

ZLIB = "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"


def finding(
    fid: str = "CVE-2023-45853",
    aliases: tuple[str, ...] = ("GHSA-mq29-j5xf-cjwr",),
    purl: str = ZLIB,
    name: str = "zlib1g",
    version: str = "1:1.2.13.dfsg-1",
    source: str | None = "zlib",
) -> Finding:
    return Finding(
        id=fid,
        aliases=aliases,
        package=PackageRef(
            id=f"{name}-id",
            name=name,
            version=version,
            type=purl[4:].split("/")[0],
            purl=purl,
            source_name=source,
            source_version=version if source else None,
        ),
        namespace="debian:12",
        fix_state="affected",
    )


def dump(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def openvex(status: str = "not_affected", products: list[Any] | None = None, **extra: Any) -> bytes:
    st: dict[str, Any] = {
        "vulnerability": {"name": "CVE-2023-45853", "aliases": ["GHSA-mq29-j5xf-cjwr"]},
        "products": products if products is not None else [{"@id": "pkg:deb/debian/zlib1g"}],
        "status": status,
        **extra,
    }
    return dump({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "statements": [st]})


def scan_result(*findings: Finding) -> ScanResult:
    return ScanResult(target=Target(name="t", kind="dir"), findings=findings, package_count=1)


# --------------------------------------------------------------------------- OpenVEX


def test_openvex_not_affected_suppresses_with_justification() -> None:
    vex = parse_vex(
        openvex(justification="vulnerable_code_not_in_execute_path", impact_statement="no minizip"),
        "a.json",
    )
    assert len(vex) == 1 and vex[0].suppresses
    f, other = finding(), finding(fid="CVE-2099-1", aliases=())
    out = apply_policy(scan_result(f, other), Policy(vex=vex, show_suppressed=True))
    assert out.result.findings == (other,)
    (s,) = out.result.suppressed
    assert s.by == "vex" and s.finding == f
    assert s.reason is not None
    assert "not_affected" in s.reason and "vulnerable_code_not_in_execute_path" in s.reason
    assert "no minizip" in s.reason and "a.json" in s.reason


@pytest.mark.parametrize("status", ["affected", "under_investigation"])
def test_openvex_non_suppressing_status(status: str) -> None:
    vex = parse_vex(openvex(status))
    out = apply_policy(scan_result(finding()), Policy(vex=vex))
    assert len(out.result.findings) == 1 and out.result.suppressed_count == 0


def test_openvex_fixed_by_alias_and_versioned_purl() -> None:
    doc = dump(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [
                {
                    "vulnerability": {"name": "GHSA-mq29-j5xf-cjwr"},
                    "products": [{"@id": "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=arm64"}],
                    "status": "fixed",
                }
            ],
        }
    )
    (st,) = parse_vex(doc)
    assert st.matches(finding())  # alias match, qualifiers ignored, version percent-decoded
    assert not st.matches(finding(version="1:1.2.13.dfsg-2", purl=ZLIB.replace("-1?", "-2?")))


def test_purl_matching_rules() -> None:
    (other_ns,) = parse_vex(openvex(products=[{"@id": "pkg:deb/ubuntu/zlib1g"}]))
    assert not other_ns.matches(finding())
    (source,) = parse_vex(openvex(products=[{"@id": "pkg:deb/debian/zlib@1:1.2.13.dfsg-1?arch=source"}]))
    assert source.matches(finding())  # arch=source names the source package
    (none,) = parse_vex(openvex(products=[]))
    assert not none.matches(finding())  # no product: applies to nothing
    (sub,) = parse_vex(
        openvex(products=[{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:deb/debian/zlib1g"}]}])
    )
    assert sub.matches(finding())


def test_url_aliases_are_reduced_to_ids() -> None:
    assert normalize_id("https://www.cve.org/CVERecord?id=CVE-2023-38545") == "CVE-2023-38545"
    assert normalize_id("https://ubuntu.com/security/notices/USN-6429-1") == "USN-6429-1"
    assert normalize_id("https://curl.se/docs/CVE-2023-38545.html") == "CVE-2023-38545"
    p = parse_purl("pkg:npm/%40scope/name@1.0.0?x=1")
    assert p is not None and (p.namespace, p.name, p.version) == ("@scope", "name", "1.0.0")


# --------------------------------------------------------------------------- CycloneDX


def cdx(state: str, **analysis: Any) -> bytes:
    return dump(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "components": [{"bom-ref": "zl", "name": "zlib1g", "purl": "pkg:deb/debian/zlib1g"}],
            "vulnerabilities": [
                {
                    "id": "GHSA-mq29-j5xf-cjwr",
                    "references": [{"id": "CVE-2023-45853"}],
                    "analysis": {"state": state, **analysis},
                    "affects": [{"ref": "zl"}, {"ref": "pkg:deb/debian/other@1"}],
                }
            ],
        }
    )


@pytest.mark.parametrize(
    ("state", "status", "suppresses"),
    [
        ("not_affected", "not_affected", True),
        ("false_positive", "not_affected", True),
        ("resolved", "fixed", True),
        ("exploitable", "affected", False),
        ("in_triage", "under_investigation", False),
    ],
)
def test_cyclonedx_states(state: str, status: str, suppresses: bool) -> None:
    (st,) = parse_vex(cdx(state, justification="code_not_reachable", detail="d"), "c.json")
    assert st.status == status and st.suppresses is suppresses
    assert st.matches(finding())  # bom-ref resolved to the component's purl
    assert {p.name for p in st.products} == {"zlib1g", "other"}
    assert st.justification == "code_not_reachable" and st.detail == "d"


# --------------------------------------------------------------------------- CSAF


def csaf() -> bytes:
    return dump(
        {
            "document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "t"},
            "product_tree": {
                "branches": [
                    {
                        "category": "vendor",
                        "name": "Debian",
                        "branches": [
                            {
                                "category": "product_version",
                                "name": "zlib1g",
                                "product": {
                                    "name": "zlib1g",
                                    "product_id": "zlib1g-pkg",
                                    "product_identification_helper": {
                                        "purl": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"
                                    },
                                },
                            }
                        ],
                    },
                    {"category": "product_name", "name": "OS", "product": {"name": "OS", "product_id": "os"}},
                ],
                "relationships": [
                    {
                        "category": "default_component_of",
                        "product_reference": "zlib1g-pkg",
                        "relates_to_product_reference": "os",
                        "full_product_name": {"name": "zlib1g on OS", "product_id": "os:zlib1g"},
                    }
                ],
            },
            "vulnerabilities": [
                {
                    "cve": "CVE-2023-45853",
                    "product_status": {"known_not_affected": ["os:zlib1g"], "known_affected": ["os"]},
                    "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["os:zlib1g"]}],
                    "threats": [{"category": "impact", "details": "minizip not built", "product_ids": ["os:zlib1g"]}],
                }
            ],
        }
    )


def test_csaf_known_not_affected_through_relationship() -> None:
    (st,) = parse_vex(csaf(), "r.json")  # "os" has no purl: no statement for it
    assert st.status == "not_affected" and st.format == "csaf"
    assert st.justification == "vulnerable_code_not_present" and st.detail == "minizip not built"
    assert st.matches(finding())
    out = apply_policy(scan_result(finding()), Policy(vex=(st,), show_suppressed=True))
    assert out.result.findings == () and out.result.suppressed[0].by == "vex"


# --------------------------------------------------------------------------- real samples


def test_real_redhat_csaf_vex_samples() -> None:
    files = sorted((SAMPLES / "redhat-csaf-vex").glob("*.json"))
    if not files:
        pytest.skip(f"samples absent: {SAMPLES}")
    for path in files:
        statements = load_vex(path)
        assert all(st.format == "csaf" for st in statements)
    curl = load_vex(SAMPLES / "redhat-csaf-vex" / "cve-2023-38545.json")
    assert any("CVE-2023-38545" in st.ids and st.products for st in curl)
    assert {st.status for st in curl} & {"fixed", "not_affected"}


def test_real_ubuntu_openvex_sample() -> None:
    path = SAMPLES / "ubuntu-vex" / "cve" / "2023" / "CVE-2023-38545.json"
    if not path.is_file():
        pytest.skip(f"sample absent: {path}")
    statements = load_vex(path)
    assert statements and all(st.format == "openvex" for st in statements)
    assert all("CVE-2023-38545" in st.ids for st in statements)
    ubuntu_curl = finding(
        fid="CVE-2023-38545",
        aliases=(),
        purl="pkg:deb/ubuntu/libcurl4@7.81.0-1ubuntu1.24?arch=amd64&distro=jammy",
        name="libcurl4",
        version="7.81.0-1ubuntu1.24",
        source="curl",
    )
    assert any(st.matches(ubuntu_curl) and st.suppresses for st in statements)


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a VEX document"),
        (b'{"hello": 1}', "not a VEX document"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
        (dump({"@context": "https://openvex.dev/ns/v0.2.0", "statements": {}}), "must be a list"),
        (dump({"@context": "https://openvex.dev/ns/v0.2.0", "statements": [1]}), "must be an object"),
        (openvex(status="maybe"), "unknown status"),
        (dump({"@context": "https://openvex.dev/ns", "statements": [{"status": "fixed", "vulnerability": {}}]}), "no vulnerability"),
        (dump({"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "X", "analysis": {"state": "nope"}}]}), "unknown analysis state"),
        (dump({"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "X", "affects": 3, "analysis": {"state": "resolved"}}]}), "must be a list"),
        (dump({"document": {"csaf_version": "2.0"}, "product_tree": []}), "must be an object"),
        (dump({"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"cve": "CVE-1", "product_status": {"fixed": "x"}}]}), "must be a list"),
    ],
)
def test_malformed_is_one_usage_error_naming_the_file(data: bytes, needle: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_vex(data, "bad.json")
    msg = str(exc.value)
    assert msg.startswith("--vex bad.json: ") and needle in msg and "\n" not in msg


def test_deep_product_tree_is_bounded() -> None:
    branch: dict[str, Any] = {"name": "leaf"}
    for _ in range(100):
        branch = {"name": "b", "branches": [branch]}
    doc = dump({"document": {"csaf_version": "2.0"}, "product_tree": {"branches": [branch]}})
    with pytest.raises(UsageError, match="nested deeper"):
        parse_vex(doc, "deep.json")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--vex .*nope.json"):
        load_vex(tmp_path / "nope.json")
