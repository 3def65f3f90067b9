"""The scan JSON report: versioned, round-trips, schema file in sync with the model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema

from hullscan.model.finding import Finding, PackageRef, Remediation, ScanResult
from hullscan.model.sbom import Target
from hullscan.report.scan.json import JsonWriter, decode, schema_text
from hullscan.report.scan.registry import get_scan_writer
from hullscan.report.scan.table import TableWriter

REPO = Path(__file__).resolve().parents[2]


def sample() -> ScanResult:
    pkg = PackageRef(id="p1", name="curl", version="7.0-1", type="deb", purl="pkg:deb/debian/curl@7.0-1", layer_index=0)
    f = Finding(id="CVE-1", package=pkg, namespace="debian:12", fix_state="fixed", fixed_version="8.0-1", severity_rating="high")
    rem = Remediation(package=pkg, scheme="deb", findings=("CVE-1",), fixed_version="8.0-1",
                      command="apt-get install --only-upgrade curl")
    return ScanResult(target=Target(name="img", kind="docker-archive"), findings=(f,), remediations=(rem,), package_count=1)


def test_round_trip_and_schema() -> None:
    buf = io.StringIO()
    JsonWriter().write_scan(sample(), buf)
    doc = json.loads(buf.getvalue())
    assert doc["schema_version"] == 1 and doc["tool"] == "hullscan"
    assert decode(buf.getvalue()).result == sample()
    schema = json.loads((REPO / "docs/schema/scan-v1.json").read_text())
    jsonschema.validate(doc, schema)


def test_committed_schema_is_current() -> None:
    committed = (REPO / "docs" / "schema" / "scan-v1.json").read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "docs/schema/scan-v1.json is stale: regenerate it with python -c "
        "'from hullscan.report.scan.json import schema_text; print(schema_text(), end=\"\")'"
    )


def test_registry_and_table() -> None:
    assert get_scan_writer("hullscan-json").id == "json"
    buf = io.StringIO()
    get_scan_writer("table").write_scan(sample(), buf)
    text = buf.getvalue()
    assert "CVE-1" in text and "apt-get install --only-upgrade curl" in text
    assert "\x1b[" not in text
    assert isinstance(get_scan_writer("table"), TableWriter)


def test_every_registered_writer_loads_with_matching_id_and_aliases() -> None:
    from hullscan.report.scan.registry import ALIASES, WRITERS

    for name in WRITERS:
        writer = get_scan_writer(name)
        assert writer.id == name
        for alias in writer.aliases:
            assert ALIASES.get(alias) == name
    assert all(target in WRITERS for target in ALIASES.values())
