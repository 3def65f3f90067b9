"""JUnit XML scan writer: well-formed, one suite per type, one failure per finding."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec

from hullscan.model.finding import ScanResult, Unmatched
from hullscan.report.scan.junit import JunitWriter
from tests.unit.test_scan_report_support import DIGEST, empty_result, sample_result


def parse(result: ScanResult) -> ET.Element:
    buf = io.StringIO()
    JunitWriter().write_scan(result, buf)
    return ET.fromstring(buf.getvalue().encode())


def test_writer_attributes() -> None:
    assert JunitWriter.id == "junit"
    assert JunitWriter.media_type == "application/xml"


def test_structure(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    root = parse(result)
    assert root.tag == "testsuites"
    assert int(root.get("failures", "")) == len(result.findings)
    suites = root.findall("testsuite")
    assert {s.get("name") for s in suites} == {
        f"{result.target.name} [{t}]" for t in {f.package.type for f in result.findings}
    }
    for s in suites:
        props = {p.get("name"): p.get("value") for p in s.iter("property")}
        assert props["image.digest"] == DIGEST
        assert int(s.get("tests", "")) == len(s.findall("testcase"))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len({f.package.id for f in result.findings})
    failures = {
        (c.get("name"), fl.get("message", "").split(" ")[0])
        for c in cases
        for fl in c.findall("failure")
    }
    assert failures == {(f"{f.package.name}@{f.package.version}", f.id) for f in result.findings}
    [crit] = [
        fl
        for c in cases
        if c.get("name", "").startswith("libssl3@")
        for fl in c.findall("failure")
    ]
    assert crit.get("type") == "critical"
    assert "fixed in 3.0.14-1~deb12u1" in crit.get("message", "")
    # Markup in advisory text is escaped, not parsed.
    assert crit.text is not None and "<script>alert(1)</script>" in crit.text


def test_hostile_text_stays_well_formed(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    f = result.findings[0]
    nasty = 'a"b\'c<d>&e]]>\x00\x1b\n\ud800 ✓'
    bad = msgspec.structs.replace(
        f,
        summary=nasty,
        notes=(nasty,),
        package=msgspec.structs.replace(f.package, name=nasty, version=nasty),
    )
    r = msgspec.structs.replace(
        result,
        findings=(bad,),
        warnings=(nasty,),
        unmatched=(Unmatched(package_id="x", name=nasty, version="1", type="deb", reason=nasty),),
    )
    root = parse(r)
    names = [c.get("name") for c in root.iter("testcase")]
    assert any(n and n.startswith('a"b\'c<d>&e]]>') for n in names)
    assert any(s.find("skipped") is not None for s in root.iter("testcase"))


def test_empty_result() -> None:
    root = parse(empty_result())
    assert root.get("failures") == "0"
    assert len(root.findall("testsuite")) == 1
