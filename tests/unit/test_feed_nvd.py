"""NVD CVE API 2.0 parser (``hullscan.vulndb.build.nvd``) on the samples of shared/vulndata:
one-CVE API responses (23), result pages, a yearly-feed excerpt."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import CveSeverity, ParseIssue, Severity
from hullscan.vulndb.build import nvd


def _root(shared_dir: Path) -> Path:
    p = shared_dir / "vulndata" / "samples" / "nvd-api-2.0"
    if not p.is_dir():
        pytest.skip(f"{p} absent")
    return p


def _records(path: Path) -> list[CveSeverity]:
    out = []
    for r in nvd.read(path):
        assert not isinstance(r, ParseIssue), r
        out.append(r)
    return out


@pytest.mark.needs_shared
def test_counts_match_the_documents(shared_dir: Path) -> None:
    root = _root(shared_dir)
    per_cve = sorted((root / "per-cve").glob("*.json"))
    assert len(per_cve) == 23
    for f in per_cve:
        (rec,) = _records(f)
        assert rec.cve == f.stem
    total = 0
    for f in sorted(root.glob("*/*.json")):
        doc = json.loads(f.read_bytes())
        live = [
            v["cve"]["id"] for v in doc["vulnerabilities"] if v["cve"]["vulnStatus"] != "Rejected"
        ]
        assert [r.cve for r in _records(f)] == live, f.name
        total += len(live)
    assert total == 66  # of 67 CVEs: CVE-2016-3197 (yearly-feed/feed.json) is Rejected


@pytest.mark.needs_shared
def test_every_metric_kept_with_its_rater_and_published_score(shared_dir: Path) -> None:
    root = _root(shared_dir)
    for f in sorted(root.glob("*/*.json")):
        doc = json.loads(f.read_bytes())
        by_cve = {r.cve: r for r in _records(f)}
        for v in doc["vulnerabilities"]:
            cve = v["cve"]
            want = set()
            for metrics in cve.get("metrics", {}).values():
                for m in metrics:
                    if "cvssData" in m:
                        d = m["cvssData"]
                        want.add((nvd.rater(m["source"]), d["vectorString"], d["baseScore"]))
            rec = by_cve.get(cve["id"])
            got = {(s.source, s.vector, s.score) for s in rec.severities} if rec else set()
            assert got == want, (f.name, cve["id"])


@pytest.mark.needs_shared
def test_xz_backdoor_record(shared_dir: Path) -> None:
    (rec,) = _records(_root(shared_dir) / "per-cve" / "CVE-2024-3094.json")
    v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    assert rec.severities == (
        Severity(source="secalert@redhat.com", type="CVSS_V3", vector=v31, score=10.0,
                 rating="Critical"),
        Severity(source="nvd", type="CVSS_V3", vector=v31, score=10.0, rating="Critical"),
    )  # fmt: skip
    assert rec.cwes == ("CWE-506",)
    assert rec.published == "2024-03-29T17:15:21Z"
    assert rec.modified == "2026-06-17T07:43:17Z"


@pytest.mark.needs_shared
def test_v2_and_v4_and_cwe_placeholders(shared_dir: Path) -> None:
    root = _root(shared_dir)
    (rec,) = _records(root / "api-page" / "single-entry.json")
    assert rec.cve == "CVE-2022-1576"
    assert [(s.type, s.score, s.rating) for s in rec.severities] == [
        ("CVSS_V3", 6.5, "Medium"),
        ("CVSS_V2", 4.3, "Medium"),
    ]
    assert rec.cwes == ("CWE-352",)
    feed = {r.cve: r for r in _records(root / "yearly-feed" / "nvdcve-2.0-2025.json")}
    v4 = [s for s in feed["CVE-2025-0168"].severities if s.type == "CVSS_V4"]
    assert [(s.source, s.score) for s in v4] == [("cna@vuldb.com", 5.3)]
    every = [r for f in sorted(root.glob("*/*.json")) for r in _records(f)]
    assert all(c.startswith("CWE-") for r in every for c in r.cwes)  # no NVD-CWE-Other


def _doc(cve: dict[str, object]) -> bytes:
    return json.dumps({"vulnerabilities": [{"cve": cve}]}).encode()


def test_raters_rejected_and_bad_vectors() -> None:
    assert nvd.rater("nvd@nist.gov") == "nvd"
    assert nvd.rater("134c704f-9b21-4f2e-91b3-4a467353bcc0") == "cisa-adp"
    assert nvd.rater(None) == "unknown"
    assert list(nvd.parse(_doc({"id": "CVE-2020-0001", "vulnStatus": "Rejected"}), "x")) == []
    out = list(
        nvd.parse(
            _doc(
                {
                    "id": "CVE-2020-0002",
                    "published": "2020-01-01T00:00:00.000",
                    "metrics": {
                        "cvssMetricV31": [
                            {"source": "nvd@nist.gov", "cvssData": {"vectorString": "junk"}},
                            {
                                "source": "x@y",
                                "cvssData": {"vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
                            },
                        ]
                    },
                    "weaknesses": [{"description": [{"value": "NVD-CWE-noinfo"}]}],
                }
            ),
            "x",
        )
    )
    assert isinstance(out[0], ParseIssue)
    assert "junk" in out[0].error
    rec = out[1]
    assert isinstance(rec, CveSeverity)
    assert [(s.source, s.type, s.score) for s in rec.severities] == [("x@y", "CVSS_V2", 7.5)]
    assert rec.cwes == ()
    assert rec.published == "2020-01-01T00:00:00Z"
    bad = list(nvd.parse(_doc({"id": "CVE-20-1"}), "x"))
    assert len(bad) == 1
    assert isinstance(bad[0], ParseIssue)
    assert isinstance(next(iter(nvd.parse(b"{", "x"))), ParseIssue)
    assert isinstance(next(iter(nvd.parse(b"[]", "x"))), ParseIssue)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=30,
)  # fmt: skip
_cve_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["CVE-2021-44228", "CVE-1-1", ""]) | st.text(max_size=5),
        "vulnStatus": st.sampled_from(["Analyzed", "Rejected"]) | _json,
        "published": st.text(max_size=30) | _json,
        "metrics": st.dictionaries(
            st.sampled_from(["cvssMetricV2", "cvssMetricV31", "cvssMetricV40", "x"]),
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "source": _json,
                        "cvssData": st.fixed_dictionaries(
                            {}, optional={"vectorString": st.text(max_size=60) | _json}
                        )
                        | _json,
                    },
                )
                | _json,
                max_size=3,
            )
            | _json,
        )
        | _json,
        "weaknesses": _json,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_cve_like | _json, max_size=4))
def test_arbitrary_documents_give_records_or_issues(cves: list[object]) -> None:
    data = msgspec.json.encode({"vulnerabilities": [{"cve": c} for c in cves]})
    for r in nvd.parse(data, "fuzz"):
        assert isinstance(r, CveSeverity | ParseIssue)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    for r in nvd.parse(data, "fuzz"):
        assert isinstance(r, CveSeverity | ParseIssue)
