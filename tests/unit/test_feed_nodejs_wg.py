"""Node.js Security WG parser (``hullscan.vulndb.build.nodejs_wg``) on nodejs-security-wg/vuln.zip
(467 npm + 171 core + 6 deps records, plus three index.json files).

Oracle: node-semver's ``satisfies`` (``hullscan.versions.npm``): npm records are affected where
``vulnerable_versions`` is satisfied; core records where ``vulnerable`` is and ``patched`` is
not. Checked on every version the ranges name and the versions just around them (releases
only: pre-releases follow interval order on purpose, see the module doc).
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, ParseIssue, RangeEvent, Severity
from hullscan.versions.npm import parse_range, satisfies
from hullscan.vulndb.build import nodejs_wg
from hullscan.vulndb.build.containers import iter_zip
from tests.unit.test_feed_native import affected_by


@pytest.fixture(scope="module")
def zip_path(shared_dir: Path) -> Path:
    p = shared_dir / "vulndata" / "nodejs-security-wg" / "vuln.zip"
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


@pytest.fixture(scope="module")
def advisories(zip_path: Path) -> dict[str, Advisory]:
    out = {}
    for r in nodejs_wg.read(zip_path):
        assert not isinstance(r, ParseIssue), r
        assert r.id not in out
        out[r.id] = r
    return out


@pytest.mark.needs_shared
def test_counts(advisories: dict[str, Advisory]) -> None:
    kinds = collections.Counter(a.id.rsplit("-", 1)[0] for a in advisories.values())
    assert kinds == {"NSWG-ECO": 467, "NSWG-CORE": 171, "NSWG-DEPS": 6}  # 647 files - 3 indexes
    states = collections.Counter(
        (a.id.rsplit("-", 1)[0], a.affected[0].fix_state) for a in advisories.values()
    )
    assert states == {
        ("NSWG-ECO", "fixed"): 265,
        ("NSWG-ECO", "affected"): 202,
        ("NSWG-CORE", "fixed"): 170,
        ("NSWG-CORE", "affected"): 1,
        ("NSWG-DEPS", "not-affected"): 6,
    }
    problems = sorted(a.id for a in advisories.values() if a.affected[0].problem)
    assert problems == [
        "NSWG-CORE-26",
        "NSWG-CORE-69",
        "NSWG-ECO-309",
        "NSWG-ECO-49",
        "NSWG-ECO-74",
        "NSWG-ECO-75",
    ]


@pytest.mark.needs_shared
def test_bassmaster(advisories: dict[str, Advisory]) -> None:
    a = advisories["NSWG-ECO-1"]
    assert a.aliases == ("CVE-2014-7205",)
    assert a.published == "2014-09-27T00:00:00Z"
    assert a.severities == (
        Severity(
            source="nodejs-security-wg",
            type="CVSS_V3",
            vector="CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N",
            score=6.5,
            rating="Medium",
        ),
    )
    (aff,) = a.affected
    assert (aff.namespace, aff.package, aff.scheme) == ("npm", "bassmaster", "npm")
    assert aff.ranges[0].events == (
        RangeEvent("introduced", "0"),
        RangeEvent("last_affected", "1.5.1"),
    )
    assert (aff.fix_state, aff.fixed_version) == ("fixed", "1.5.2")  # from patched_versions


@pytest.mark.needs_shared
def test_core_and_deps(advisories: dict[str, Advisory]) -> None:
    a = advisories["NSWG-CORE-1"]  # vulnerable "8.x || 7.x || 4.x || 6.x || 5.x"
    (aff,) = a.affected
    assert (aff.namespace, aff.package, aff.scheme) == ("binary", "node", "npm")
    assert [[(e.kind, e.version) for e in r.events] for r in aff.ranges] == [
        [("introduced", "4.0.0"), ("fixed", "4.8.4")],
        [("introduced", "5.0.0"), ("fixed", "6.0.0-0")],  # 5.x has no fix
        [("introduced", "6.0.0"), ("fixed", "6.11.1")],
        [("introduced", "7.0.0"), ("fixed", "7.10.1")],
        [("introduced", "8.0.0"), ("fixed", "8.1.4")],
    ]
    assert aff.fixed_version == "8.1.4"
    assert a.severities == (Severity(source="nodejs-security-wg", type="vendor", rating="high"),)
    d = advisories["NSWG-DEPS-1"]
    assert d.aliases == ("CVE-2023-45853",)
    assert d.affected[0].fix_state == "not-affected"
    assert d.details is not None
    assert d.details.endswith("Reason: vulnerable_code_not_present")


def _candidates(ranges: list[str]) -> set[str]:
    out = {"0.0.0", "0.0.1", "99999.0.0"}
    for r in ranges:
        for cs in parse_range(r):
            for c in cs:
                if c.semver is None:
                    continue
                s = c.semver
                out |= {f"{s.major}.{s.minor}.{s.patch}", f"{s.major}.{s.minor}.{s.patch + 1}"}
                if s.patch:
                    out.add(f"{s.major}.{s.minor}.{s.patch - 1}")
                if s.minor:
                    out.add(f"{s.major}.{s.minor - 1}.99")
                if s.major:
                    out.add(f"{s.major - 1}.99.99")
    return out


@pytest.mark.needs_shared
def test_ranges_agree_with_node_semver(zip_path: Path, advisories: dict[str, Advisory]) -> None:
    checked = 0
    for item in iter_zip(zip_path, suffixes=(".json",)):
        assert not isinstance(item, ParseIssue)
        name, data = item
        kind, num = name.split("/")[-2], name.split("/")[-1].removesuffix(".json")
        if num == "index" or kind == "deps":
            continue
        doc = json.loads(data)
        if kind == "npm":
            vulnerable, patched = doc["vulnerable_versions"], None
            (aff,) = advisories[f"NSWG-ECO-{num}"].affected
        else:
            vulnerable, patched = doc["vulnerable"], doc["patched"]
            (aff,) = advisories[f"NSWG-CORE-{num}"].affected
        for v in _candidates([vulnerable] + ([patched] if patched else [])):
            want = satisfies(v, vulnerable) and not (patched and satisfies(v, patched))
            ours = affected_by(aff, v)
            if ours:
                assert want, (name, v)
            elif want:
                assert aff.problem, (name, v)
            checked += 1
    assert checked > 8000


def test_bad_input() -> None:
    assert isinstance(nodejs_wg.parse_advisory(b"{", "vuln/npm/1.json"), ParseIssue)
    assert isinstance(nodejs_wg.parse_advisory(b"[]", "vuln/npm/1.json"), ParseIssue)
    assert isinstance(nodejs_wg.parse_advisory(b"{}", "vuln/npm/1.json"), ParseIssue)
    assert isinstance(nodejs_wg.parse_advisory(b"{}", "vuln/other/1.json"), ParseIssue)
    a = nodejs_wg.parse_advisory(
        b'{"module_name": "x", "vulnerable_versions": "not a range ^^", "cvss_vector": "junk"}',
        "vuln/npm/9.json",
    )
    assert isinstance(a, Advisory)
    assert a.severities == ()
    assert a.affected[0].problem is not None
    assert a.affected[0].ranges == ()


_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=15),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_range = st.lists(
    st.tuples(
        st.sampled_from(["", "<", "<=", ">", ">=", "^", "~", "="]),
        st.from_regex(r"[0-9]{1,2}(\.([0-9]{1,2}|x|\*)){0,2}(-[a-z0-9]{1,3})?", fullmatch=True),
    ).map("".join),
    min_size=1,
    max_size=3,
).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["npm", "core", "deps"]),
    st.lists(_range, max_size=3).map(" || ".join) | _value,
    st.lists(_range, max_size=3).map(" || ".join) | _value,
    _value,
)
def test_arbitrary_advisories(
    kind: str, vulnerable: object, patched: object, extra: object
) -> None:
    doc = {"module_name": "m", "vulnerable_versions": vulnerable, "patched_versions": patched,
           "vulnerable": vulnerable, "patched": patched, "cve": extra, "cves": extra,
           "cvss_vector": extra, "severity": extra, "publish_date": extra}  # fmt: skip
    r = nodejs_wg.parse_advisory(json.dumps(doc).encode(), f"vuln/{kind}/1.json")
    assert isinstance(r, Advisory | ParseIssue)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    assert isinstance(nodejs_wg.parse_advisory(data, "vuln/core/1.json"), Advisory | ParseIssue)
