"""CISA KEV parser (``hullscan.vulndb.build.kev``): the 2026 JSON (1,662), the 2025 JSON and
CSV (1,404 each) and the official JSON schema that ships with them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import KevEntry, ParseIssue
from hullscan.vulndb.build import kev

NEW = ("cisa-kev", "known_exploited_vulnerabilities.json")
OLD_DIR = ("cisa-kev", "cisagov-kev-data-2025-08-25")


def _path(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


def _entries(path: Path) -> list[KevEntry]:
    out = []
    for r in kev.read(path):
        assert not isinstance(r, ParseIssue), r
        out.append(r)
    return out


@pytest.mark.needs_shared
@pytest.mark.parametrize(
    "parts", [NEW, (*OLD_DIR, "known_exploited_vulnerabilities.json")], ids=["2026", "2025"]
)
def test_real_catalogs_validate_against_the_official_schema(
    shared_dir: Path, parts: tuple[str, ...]
) -> None:
    schema = json.loads(
        _path(shared_dir, *OLD_DIR, "known_exploited_vulnerabilities_schema.json").read_bytes()
    )
    doc = json.loads(_path(shared_dir, *parts).read_bytes())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert errors == []
    # the schema's $defs/$ref are really applied: a broken entry is caught
    doc["vulnerabilities"][0]["cveID"] = "CVE-21-1"
    assert list(validator.iter_errors(doc))


@pytest.mark.needs_shared
def test_counts_and_meta(shared_dir: Path) -> None:
    new = _entries(_path(shared_dir, *NEW))
    old = _entries(_path(shared_dir, *OLD_DIR, "known_exploited_vulnerabilities.json"))
    csv = _entries(_path(shared_dir, *OLD_DIR, "known_exploited_vulnerabilities.csv"))
    assert (len(new), len(old), len(csv)) == (1662, 1404, 1404)
    assert len({e.cve for e in new}) == 1662
    assert csv == old  # the two layouts of one catalog give the same entries, in order
    assert {e.cve for e in old} <= {e.cve for e in new}  # nothing withdrawn in that year
    assert sum(e.known_ransomware is True for e in new) == 338
    meta, _ = kev.parse_json(_path(shared_dir, *NEW).read_bytes())
    assert meta["catalogVersion"] == "2026.08.07"
    assert meta["count"] == "1662"
    assert meta["dateReleased"] == "2026-08-07T16:45:47.0648Z"


@pytest.mark.needs_shared
def test_log4shell(shared_dir: Path) -> None:
    (e,) = [e for e in _entries(_path(shared_dir, *NEW)) if e.cve == "CVE-2021-44228"]
    assert e == KevEntry(
        cve="CVE-2021-44228",
        date_added="2021-12-10",
        due_date="2021-12-24",
        vendor="Apache",
        product="Log4j2",
        name="Apache Log4j2 Remote Code Execution Vulnerability",
        known_ransomware=True,
    )


def test_bad_entries_and_count_mismatch() -> None:
    doc = {
        "count": 3,
        "vulnerabilities": [
            {"cveID": "CVE-2024-0001", "dateAdded": "2024-01-01", "knownRansomwareCampaignUse": "Unknown"},
            {"cveID": "CVE-24-1", "dateAdded": "2024-01-01"},
            {"cveID": "CVE-2024-0002", "dateAdded": "yesterday"},
            "junk",
        ],
    }  # fmt: skip
    meta, records = kev.parse_json(json.dumps(doc).encode(), "k.json")
    out = list(records)
    assert meta == {"count": "3"}
    assert out[0] == KevEntry(cve="CVE-2024-0001", date_added="2024-01-01")
    assert all(isinstance(r, ParseIssue) for r in out[1:])
    assert "count says 3, 4 entries" in out[-1].error  # type: ignore[union-attr]
    _, bad = kev.parse_json(b"{]", "k.json")
    assert isinstance(next(bad), ParseIssue)
    _, no_col = kev.parse_csv(b"a,b\n1,2\n", "k.csv")
    assert isinstance(next(no_col), ParseIssue)


_value = st.none() | st.text(max_size=30) | st.integers() | st.lists(st.text(max_size=5))
_entry = st.fixed_dictionaries(
    {},
    optional={
        k: _value | st.sampled_from(["CVE-2021-44228", "2021-12-10", "Known"])
        for k in ("cveID", "dateAdded", "dueDate", "vendorProject", "knownRansomwareCampaignUse")
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entry | _value, max_size=5), _value)
def test_arbitrary_catalogs(vulns: list[object], count: object) -> None:
    data = msgspec.json.encode({"count": count, "vulnerabilities": vulns})
    for r in kev.parse_json(data)[1]:
        assert isinstance(r, KevEntry | ParseIssue)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes(data: bytes) -> None:
    for parse in (kev.parse_json, kev.parse_csv):
        for r in parse(data)[1]:
            assert isinstance(r, KevEntry | ParseIssue)
    header = b"cveID,dateAdded,knownRansomwareCampaignUse\n"
    for r in kev.parse_csv(header + data)[1]:
        assert isinstance(r, KevEntry | ParseIssue)
