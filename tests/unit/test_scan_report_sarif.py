"""SARIF 2.1.0 scan writer: validated against the official OASIS schema, structure checked."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from hullscan.model.finding import ScanResult
from hullscan.report.scan.sarif import FINGERPRINT_KEY, SarifWriter, advisory_url
from tests.unit.test_scan_report_support import DIGEST, TARGET, empty_result, sample_result

SCHEMA = Path("/work/shared/schemas/sarif-schema-2.1.0.json")


def render(result: ScanResult) -> dict[str, Any]:
    buf = io.StringIO()
    SarifWriter().write_scan(result, buf)
    doc: dict[str, Any] = json.loads(buf.getvalue())
    return doc


def validate(doc: dict[str, Any]) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"official SARIF schema not present at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(doc)


def test_writer_attributes() -> None:
    assert SarifWriter.id == "sarif"
    assert SarifWriter.media_type == "application/sarif+json"


def test_sample_is_schema_valid_and_complete(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    doc = render(result)
    validate(doc)
    assert doc["version"] == "2.1.0"
    [run] = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "hullscan" and driver["version"] and driver["informationUri"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) == len({f.id for f in result.findings})
    assert len(run["results"]) == len(result.findings)
    for res, f in zip(run["results"], result.findings, strict=True):
        assert res["ruleId"] == f.id
        assert driver["rules"][res["ruleIndex"]]["id"] == f.id
        text = res["message"]["text"]
        assert f.package.name in text and f.package.version in text
        if f.fixed_version:
            assert f.fixed_version in text
        [loc] = res["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"]
        assert loc["logicalLocations"][0]["name"] == DIGEST
        assert len(res["partialFingerprints"][FINGERPRINT_KEY]) == 64


def test_levels_and_security_severity(tmp_path: Path) -> None:
    doc = render(sample_result(tmp_path))
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    crit = rules["CVE-2024-0001"]
    assert crit["properties"]["security-severity"] == "9.8"
    assert "critical" in crit["properties"]["tags"]
    assert crit["helpUri"] == advisory_url("CVE-2024-0001")
    assert "DSA-5700-1" in crit["fullDescription"]["text"]
    assert rules["GHSA-aaaa-bbbb-cccc"]["helpUri"].startswith("https://github.com/advisories/")
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert ("CVE-2024-0001", "error") in levels
    assert ("CVE-2024-0003", "warning") in levels
    assert ("CVE-2024-0002", "note") in levels
    for r in rules.values():
        float(r["properties"]["security-severity"])  # a number in a string


def test_fingerprints_stable_across_rebuilds_and_unfixed_bumps(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    again = render(result)["runs"][0]["results"]
    # Same image rebuilt under a new digest, packages bumped to another vulnerable version.
    bumped = msgspec.structs.replace(
        result,
        target=msgspec.structs.replace(TARGET, manifest_digest="sha256:" + "99" * 32),
        findings=tuple(
            msgspec.structs.replace(
                f, package=msgspec.structs.replace(f.package, version=f.package.version + "+b9")
            )
            for f in result.findings
        ),
    )
    later = render(bumped)["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in again] == [r["partialFingerprints"] for r in later]
    # Different packages with the same CVE get different fingerprints.
    fps = [r["partialFingerprints"][FINGERPRINT_KEY] for r in again]
    assert len(set(fps)) == len(fps)


def test_image_reference_is_uri_when_no_path(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    no_paths = tuple(
        msgspec.structs.replace(f, package=msgspec.structs.replace(f.package, path=None))
        for f in result.findings
    )
    short = msgspec.structs.replace(
        result,
        target=msgspec.structs.replace(TARGET, name="alpine:3.19"),
        findings=no_paths,
    )
    doc = render(short)
    validate(doc)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ]
    assert uri == "alpine%3A3.19"  # not read as scheme "alpine"


def test_package_path_is_the_location_uri(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    with_paths = tuple(
        msgspec.structs.replace(
            f, package=msgspec.structs.replace(f.package, path=f"var/lib/{f.package.name}/db")
        )
        for f in result.findings
    )
    doc = render(msgspec.structs.replace(result, findings=with_paths))
    validate(doc)
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in doc["runs"][0]["results"]
    )
    assert uris == sorted(f"var/lib/{f.package.name}/db" for f in with_paths)


def test_empty_result_and_warnings() -> None:
    r = msgspec.structs.replace(empty_result(), warnings=("distro is past end of support",))
    doc = render(r)
    validate(doc)
    run = doc["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "distro is past end of support"
