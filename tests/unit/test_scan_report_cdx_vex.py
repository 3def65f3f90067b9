"""CycloneDX 1.6 VEX scan writer: library-validated, bom-refs shared with the SBOM writer."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from hullscan.model.finding import Finding, ScanResult
from hullscan.report.cyclonedx import CycloneDXWriter
from hullscan.report.scan.cdx_vex import CycloneDxVexWriter, analysis_for
from tests.unit.test_scan_report_support import DIGEST, empty_result, sample_result, sbom


def render(result: ScanResult, **kw: Any) -> str:
    buf = io.StringIO()
    CycloneDxVexWriter(**kw).write_scan(result, buf)
    return buf.getvalue()


def valid(text: str) -> dict[str, Any]:
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc: dict[str, Any] = json.loads(text)
    return doc


def test_writer_attributes() -> None:
    assert CycloneDxVexWriter.id == "cyclonedx"
    assert "cyclonedx-vex" in CycloneDxVexWriter.aliases


def test_valid_and_affects_point_at_sbom_bom_refs(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    doc = valid(render(result))
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"
    assert doc["metadata"]["component"]["bom-ref"] == "image"
    assert doc["metadata"]["component"]["version"] == DIGEST
    comp_refs = {c["bom-ref"] for c in doc["components"]}
    vex_refs = {a["ref"] for v in doc["vulnerabilities"] for a in v["affects"]}
    assert vex_refs <= comp_refs
    assert vex_refs == {f.package.id for f in result.findings}
    # The SBOM writer, run on the SBOM that was scanned, gives those packages the same bom-refs.
    buf = io.StringIO()
    CycloneDXWriter().write_sbom(sbom(), buf)
    sbom_doc = json.loads(buf.getvalue())
    sbom_refs = {c["bom-ref"]: c.get("purl") for c in sbom_doc["components"]}
    for c in doc["components"]:
        assert sbom_refs[c["bom-ref"]] == c["purl"]


def test_every_finding_is_represented(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    doc = valid(render(result))
    pairs = {
        (v["id"], a["ref"], a["versions"][0]["version"])
        for v in doc["vulnerabilities"]
        for a in v["affects"]
    }
    assert pairs == {(f.id, f.package.id, f.package.version) for f in result.findings}
    # libssl3 and openssl (same source, same verdict) share one entry.
    [openssl] = [v for v in doc["vulnerabilities"] if v["id"] == "CVE-2024-0001"]
    assert len(openssl["affects"]) == 2


def test_fields_and_analysis_mapping(tmp_path: Path) -> None:
    doc = valid(render(sample_result(tmp_path)))
    by_id = {v["id"]: v for v in doc["vulnerabilities"]}
    crit = by_id["CVE-2024-0001"]
    [rating] = crit["ratings"]
    assert rating["severity"] == "critical" and rating["method"] == "CVSSv31"
    assert rating["source"]["name"] == "nvd" and rating["score"] == 9.8
    assert crit["analysis"] == {
        "state": "exploitable",
        "response": ["update"],
        "detail": crit["analysis"]["detail"],
    }
    assert "3.0.14-1~deb12u1" in crit["recommendation"]
    assert [r["id"] for r in crit["references"]] == ["DSA-5700-1"]
    assert crit["description"].startswith("openssl: buffer")
    props = {p["name"]: p["value"] for p in crit["properties"]}
    assert props["hullscan:kev"] == "true" and props["hullscan:fix_state"] == "fixed"

    bash = by_id["CVE-2024-0002"]
    assert bash["analysis"]["state"] == "exploitable"
    assert bash["analysis"]["response"] == ["will_not_fix"]
    assert bash["ratings"][0]["method"] == "other" and bash["ratings"][0]["severity"] == "low"

    zlib = by_id["CVE-2024-0003"]
    assert "response" not in zlib["analysis"]
    assert "No fix" in zlib["recommendation"]

    ghsa = by_id["GHSA-aaaa-bbbb-cccc"]
    assert ghsa["ratings"][0]["severity"] == "medium"  # "Moderate"
    assert ghsa["source"]["url"].startswith("https://github.com/advisories/")


def test_state_mapping_never_resolved(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    f: Finding = result.findings[0]
    for state in ("fixed", "affected", "will-not-fix", "deferred", "end-of-life", "unknown"):
        st, _, _ = analysis_for(msgspec.structs.replace(f, fix_state=state))  # type: ignore[arg-type]
        assert st.value == "exploitable"
        st, _, detail = analysis_for(
            msgspec.structs.replace(f, fix_state=state, compared=False, notes=("bad version",))  # type: ignore[arg-type]
        )
        assert st.value == "in_triage" and "bad version" in detail
    _, responses, _ = analysis_for(msgspec.structs.replace(f, fix_state="end-of-life"))
    assert [r.value for r in responses] == ["will_not_fix", "update"]


def test_cwes_when_present_and_pinned_output(tmp_path: Path) -> None:
    result = sample_result(tmp_path)

    class WithCwes(msgspec.Struct, frozen=True):
        base: Finding
        cwes: tuple[str, ...]

        def __getattr__(self, name: str) -> Any:
            return getattr(self.base, name)

    fake = WithCwes(result.findings[0], ("CWE-787", "NVD-CWE-noinfo"))
    one = msgspec.structs.replace(result, findings=(fake,))  # type: ignore[arg-type]
    pin = {"serial_number": UUID(int=1), "timestamp": datetime(2025, 1, 1, tzinfo=UTC)}
    doc = valid(render(one, **pin))
    assert doc["vulnerabilities"][0]["cwes"] == [787]
    assert render(result, **pin) == render(result, **pin)


def test_empty_result_is_valid() -> None:
    r = msgspec.structs.replace(empty_result(), warnings=("no distro",))
    doc = valid(render(r))
    assert doc.get("vulnerabilities", []) == []
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["hullscan:warning"] == "no distro"
