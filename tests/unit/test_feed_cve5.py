"""CVE JSON 5 parser (``hullscan.vulndb.build.cve5``) on cisagov/vulnrichment (44,130 records).

The bundle is read once per module (one pass: parser records plus facts from the raw bytes).
CVE-2021-44228 is not in this snapshot; CVE-2024-3400 (CVSS 10.0, in KEV) is the spot check.
"""

from __future__ import annotations

import collections
import json
import re
import time
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import CveSeverity, ParseIssue, Severity
from hullscan.vulndb.build import cve5, kev
from hullscan.vulndb.build.containers import iter_tar

pytestmark = pytest.mark.xdist_group("feed-cve5")


_CWE_ID = re.compile(rb'"cweId"\s*:\s*"(CWE-\d+)"')


class Parsed:
    """One pass over the bundle: the parser's records, plus facts read from the raw bytes."""

    def __init__(self, tar: Path) -> None:
        self.records: dict[str, CveSeverity] = {}
        self.issues: list[ParseIssue] = []
        self.members = 0
        self.rejected = 0
        self.cwe_ids: dict[str, set[str]] = {}
        self.kev_flags: dict[str, str] = {}
        seconds = 0.0
        for item in iter_tar(tar, suffixes=(".json",)):
            assert not isinstance(item, ParseIssue)
            name, data = item
            self.members += 1
            t0 = time.perf_counter()
            out = list(cve5.parse_record(data, name))
            seconds += time.perf_counter() - t0
            recs = [r for r in out if isinstance(r, CveSeverity)]
            self.issues += [r for r in out if isinstance(r, ParseIssue)]
            if not recs:
                assert b'"REJECTED"' in data, name
                self.rejected += 1
                continue
            (rec,) = recs
            assert rec.cve not in self.records
            self.records[rec.cve] = rec
            self.cwe_ids[rec.cve] = {m.decode() for m in _CWE_ID.findall(data)}
            if b'"kev"' in data:
                doc = json.loads(data)
                for adp in doc["containers"].get("adp", []):
                    for m in adp.get("metrics", []):
                        other = m.get("other", {})
                        if other.get("type") == "kev":
                            self.kev_flags[rec.cve] = other["content"]["dateAdded"]
        self.seconds = seconds


@pytest.fixture(scope="module")
def parsed(shared_dir: Path) -> Parsed:
    p = shared_dir / "vulndata" / "cve-vulnrichment" / "vulnrichment.tar.zst"
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return Parsed(p)


@pytest.mark.needs_shared
def test_counts(parsed: Parsed) -> None:
    assert parsed.members == 44130  # MANIFEST
    assert parsed.rejected == 104
    assert len(parsed.records) == 44026
    assert parsed.issues == []
    kinds = collections.Counter(
        (s.source if s.source == "cisa-adp" else "cna", s.type)
        for r in parsed.records.values()
        for s in r.severities
    )
    assert kinds == {
        ("cna", "CVSS_V3"): 28618,
        ("cna", "CVSS_V2"): 2424,
        ("cna", "CVSS_V4"): 2334,
        ("cisa-adp", "CVSS_V3"): 6064,
    }
    assert sum(bool(r.cwes) for r in parsed.records.values()) == 27856
    print(f"cve5: {parsed.members / parsed.seconds:,.0f} records/s (parse only)")


@pytest.mark.needs_shared
def test_pan_os_globalprotect(parsed: Parsed) -> None:
    r = parsed.records["CVE-2024-3400"]
    v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert r.severities == (
        Severity(source="palo_alto", type="CVSS_V3", vector=v31, score=10.0, rating="Critical"),
    )
    assert r.published == "2024-04-12T07:20:00Z"
    assert r.modified == "2024-08-01T20:12:06Z"


@pytest.mark.needs_shared
def test_adp_scores_and_cwes(parsed: Parsed) -> None:
    r = parsed.records["CVE-2019-1069"]  # Microsoft CNA gave no metric; CISA-ADP did
    assert [(s.source, s.score, s.rating) for s in r.severities] == [("cisa-adp", 7.8, "High")]
    assert r.cwes == ("CWE-59",)
    for cve_id, rec in parsed.records.items():  # every cweId of the raw record is kept
        assert parsed.cwe_ids[cve_id] <= set(rec.cwes), cve_id


@pytest.mark.needs_shared
def test_adp_kev_flags_against_the_kev_feed(parsed: Parsed, shared_dir: Path) -> None:
    """The ADP's KEV flag is dropped (see cve5.py): the KEV feed has all but two."""
    feed = shared_dir / "vulndata" / "cisa-kev" / "known_exploited_vulnerabilities.json"
    if not feed.is_file():
        pytest.skip(f"{feed} absent")
    catalog = {e.cve: e.date_added for e in kev.read(feed) if not isinstance(e, ParseIssue)}
    flags = parsed.kev_flags
    assert len(flags) == 224
    assert flags["CVE-2024-3400"] == catalog["CVE-2024-3400"] == "2024-04-12"
    assert {c for c in flags if c not in catalog} == {"CVE-2021-4043", "CVE-2024-43491"}
    differ = {c: (catalog[c], d) for c, d in flags.items() if c in catalog and catalog[c] != d}
    assert differ == {"CVE-2019-1069": ("2022-03-15", "2024-09-18")}


def _record(state: str, cna: object, adp: object = None) -> bytes:
    doc = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2024-0001", "state": state, "datePublished": "2024-01-02"},
        "containers": {"cna": cna, "adp": adp or []},
    }
    return json.dumps(doc).encode()


def test_synthetic_records() -> None:
    assert list(cve5.parse_record(_record("REJECTED", {}), "x")) == []
    cna = {
        "providerMetadata": {"shortName": "acme"},
        "metrics": [
            {"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
            {"cvssV4_0": {"vectorString": "CVSS:4.0/AV:N"}},  # invalid
            {"other": {"type": "unknown", "content": {"value": "Low"}}},
        ],
        "problemTypes": [
            {"descriptions": [{"type": "CWE", "description": "CWE-79 Cross-site Scripting"}]},
            {"descriptions": [{"type": "text", "description": "CWE-1 is not a type CWE"}]},
        ],
    }
    adp = [{"providerMetadata": {"shortName": "CISA-ADP"}, "metrics": [{"cvssV2_0": {}}]}]
    out = list(cve5.parse_record(_record("PUBLISHED", cna, adp), "x"))
    rec, *issues = out
    assert isinstance(rec, CveSeverity)
    assert [(s.source, s.type, s.score) for s in rec.severities] == [("acme", "CVSS_V3", 9.8)]
    assert rec.cwes == ("CWE-79",)
    assert rec.published == "2024-01-02T00:00:00Z"
    assert [i.item for i in issues] == ["CVE-2024-0001", "CVE-2024-0001"]
    assert "acme cvssV4_0" in issues[0].error
    assert "cisa-adp cvssV2_0" in issues[1].error


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=30,
)  # fmt: skip
_metric = st.dictionaries(
    st.sampled_from(["cvssV3_1", "cvssV4_0", "cvssV2_0", "other", "format"]),
    st.fixed_dictionaries({}, optional={"vectorString": st.text(max_size=50) | _json}) | _json,
    max_size=3,
)
_container = st.fixed_dictionaries(
    {},
    optional={
        "providerMetadata": st.fixed_dictionaries({}, optional={"shortName": _json}) | _json,
        "metrics": st.lists(_metric | _json, max_size=3) | _json,
        "problemTypes": _json,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["PUBLISHED", "REJECTED"]) | _json,
    _container | _json,
    st.lists(_container | _json, max_size=2) | _json,
    st.sampled_from(["CVE-2024-0001", "CVE-1"]) | _json,
)
def test_arbitrary_records(state: object, cna: object, adp: object, cve_id: object) -> None:
    doc = {"cveMetadata": {"cveId": cve_id, "state": state}, "containers": {"cna": cna, "adp": adp}}
    for r in cve5.parse_record(msgspec.json.encode(doc), "fuzz"):
        assert isinstance(r, CveSeverity | ParseIssue)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    for r in cve5.parse_record(data, "fuzz"):
        assert isinstance(r, CveSeverity | ParseIssue)
