"""RubySec parser (``hullscan.vulndb.build.rubysec``) on rubysec/advisories.zip (1,381 files).

Oracle: bundler-audit's rule, evaluated directly: a version is vulnerable unless it satisfies
one of ``patched_versions`` or ``unaffected_versions`` (each a ``Gem::Requirement``). The
emitted ranges are checked against it on every version the advisory mentions and on neighbours
just below and above each one.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, ParseIssue, RangeEvent, Severity
from hullscan.versions import compare
from hullscan.vulndb.build import rubysec
from hullscan.vulndb.build._native import load_yaml
from hullscan.vulndb.build.containers import iter_zip
from tests.unit.test_feed_native import affected_by


@pytest.fixture(scope="module")
def zip_path(shared_dir: Path) -> Path:
    p = shared_dir / "vulndata" / "rubysec" / "advisories.zip"
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


@pytest.fixture(scope="module")
def advisories(zip_path: Path) -> dict[str, Advisory]:
    out = {}
    for r in rubysec.read(zip_path):
        assert not isinstance(r, ParseIssue), r
        assert r.id not in out
        out[r.id] = r
    return out


@pytest.mark.needs_shared
def test_counts(advisories: dict[str, Advisory]) -> None:
    assert len(advisories) == 1381  # MANIFEST
    kinds = collections.Counter(a.affected[0].namespace for a in advisories.values())
    assert kinds == {"gem": 1234, "binary": 147}
    states = collections.Counter(a.affected[0].fix_state for a in advisories.values())
    assert states == {"fixed": 1268, "affected": 102, "unknown": 9, "not-affected": 2}
    problems = [a.id for a in advisories.values() if a.affected[0].problem]
    assert len(problems) == 13
    assert "rubysec:gems/nokogiri/CVE-2022-23476" in problems
    engines = {
        a.affected[0].package for a in advisories.values() if a.id.startswith("rubysec:rubies/")
    }
    assert engines == {"ruby", "jruby", "mruby", "mrubyc", "rbx"}


@pytest.mark.needs_shared
def test_rack_range_header_dos(advisories: dict[str, Advisory]) -> None:
    a = advisories["rubysec:gems/rack/CVE-2024-26141"]
    assert a.aliases == ("CVE-2024-26141", "GHSA-xj5v-6v4g-jfw6")
    assert a.summary == "Possible DoS Vulnerability with Range Header in Rack"
    assert a.published == "2024-02-21T00:00:00Z"
    (aff,) = a.affected
    assert (aff.namespace, aff.package, aff.scheme) == ("gem", "rack", "gem")
    # unaffected "< 1.3.0"; patched "~> 2.2.8, >= 2.2.8.1" and ">= 3.0.9.1"
    assert [r.events for r in aff.ranges] == [
        (RangeEvent("introduced", "1.3.0"), RangeEvent("fixed", "2.2.8.1")),
        (RangeEvent("introduced", "2.3"), RangeEvent("fixed", "3.0.9.1")),
    ]
    assert (aff.fix_state, aff.fixed_version) == ("fixed", "3.0.9.1")
    assert "https://github.com/rack/rack/releases/tag/v3.0.9.1" in a.references


@pytest.mark.needs_shared
def test_several_patched_ranges_and_scores(advisories: dict[str, Advisory]) -> None:
    a = advisories["rubysec:gems/recurly/CVE-2017-0905"]  # 12 patched "~> 2.x.y" lines
    (aff,) = a.affected
    assert len(aff.ranges) == 12
    assert aff.ranges[0].events == (RangeEvent("introduced", "0"), RangeEvent("fixed", "2.0.13"))
    assert aff.ranges[-1].events == (
        RangeEvent("introduced", "2.11"),
        RangeEvent("fixed", "2.11.3"),
    )
    assert affected_by(aff, "2.1.10")
    assert not affected_by(aff, "2.1.11")
    assert not affected_by(aff, "2.12.0")
    rack = advisories["rubysec:gems/rack/CVE-2026-34835"]
    assert rack.severities == (
        Severity(source="rubysec", type="CVSS_V3", score=4.8, rating="Medium"),
    )


@pytest.mark.needs_shared
def test_inexpressible_parts_are_named(advisories: dict[str, Advisory]) -> None:
    (aff,) = advisories["rubysec:gems/bundler/CVE-2020-36327"].affected
    # patched "= 2.2.10" and ">= 2.2.18", unaffected "< 1.16.0": (2.2.10, 2.2.18) starts after
    assert aff.ranges[0].events == (
        RangeEvent("introduced", "1.16.0"),
        RangeEvent("fixed", "2.2.10"),
    )
    assert aff.problem is not None
    assert "(2.2.10, 2.2.18)" in aff.problem
    assert "'= 2.2.10'" in aff.problem


# --- the oracle ------------------------------------------------------------------------------

_OPS = re.compile(r"\s*(=|!=|>=|<=|~>|>|<)?\s*(\S+)\s*\Z")


def _satisfies(version: str, requirement: str) -> bool:
    for part in requirement.split(","):
        m = _OPS.match(part)
        assert m is not None
        op, v = m.group(1) or "=", m.group(2)
        c = compare("gem", version, v)
        ok = {
            "=": c == 0,
            "!=": c != 0,
            ">": c > 0,
            "<": c < 0,
            ">=": c >= 0,
            "<=": c <= 0,
            "~>": c >= 0 and compare("gem", version, rubysec.gem_bump(v)) < 0,
        }[op]
        if not ok:
            return False
    return True


def _candidates(reqs: list[str]) -> set[str]:
    out = {"0", "0.0.1", "99999"}
    for req in reqs:
        for part in req.split(","):
            m = _OPS.match(part)
            assert m is not None
            v = m.group(2)
            out |= {v, f"{v}.1", f"{v}.a", rubysec.gem_bump(v), rubysec.gem_bump(v) + ".a"}
    return out


@pytest.mark.needs_shared
def test_ranges_agree_with_bundler_audit_rule(
    zip_path: Path, advisories: dict[str, Advisory]
) -> None:
    checked = 0
    for item in iter_zip(zip_path, suffixes=(".yml",)):
        assert not isinstance(item, ParseIssue)
        name, data = item
        doc = load_yaml(data)
        assert isinstance(doc, dict)
        patched = [str(x) for x in doc.get("patched_versions") or []]
        unaffected = [str(x) for x in doc.get("unaffected_versions") or []]
        (aff,) = advisories["rubysec:" + name.removesuffix(".yml")].affected
        for v in _candidates(patched + unaffected):
            vulnerable = not any(_satisfies(v, r) for r in patched + unaffected)
            ours = affected_by(aff, v)
            if ours:
                assert vulnerable, (name, v)  # never a false positive
            elif vulnerable:
                assert aff.problem, (name, v)  # a miss only where the problem says so
            checked += 1
    assert checked > 15000


@pytest.mark.parametrize(
    ("version", "bumped"),
    [("1.2.3", "1.3"), ("1.2", "2"), ("1", "2"), ("3.2.0-rc", "3.3"), ("1.8.6.230", "1.8.7"),
     ("2.0.0.beta1", "2.1"), ("5.0.0.beta1.1", "5.1")],
)  # fmt: skip
def test_gem_bump_is_rubygems(version: str, bumped: str) -> None:
    assert rubysec.gem_bump(version) == bumped


def test_requirement_errors_become_problems() -> None:
    aff = rubysec.affected_for("gem", "x", ["~> not.a.version"], [])
    assert aff.fix_state == "unknown"
    assert aff.ranges == ()
    assert aff.problem is not None
    assert "not.a.version" in aff.problem
    everything = rubysec.affected_for("gem", "x", [], [])
    assert everything.fix_state == "affected"
    assert everything.ranges[0].events == (RangeEvent("introduced", "0"),)


_yaml_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=15),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_req = st.lists(
    st.sampled_from(["=", "!=", ">", "<", ">=", "<=", "~>", "", "=>"]).flatmap(
        lambda op: st.from_regex(r"[0-9]{1,2}(\.[0-9a-z]{1,2}){0,3}", fullmatch=True).map(
            lambda v: f"{op} {v}"
        )
    ),
    min_size=1,
    max_size=3,
).map(", ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["gem", "engine", "other"]),
    st.text(max_size=10) | _yaml_value,
    st.lists(_req, max_size=4) | _yaml_value,
    st.lists(_req, max_size=3) | _yaml_value,
    _yaml_value,
)
def test_arbitrary_advisories(
    key: str, name: object, patched: object, unaffected: object, cve: object
) -> None:
    import yaml

    doc = {key: name, "patched_versions": patched, "unaffected_versions": unaffected, "cve": cve,
           "date": "2020-01-01", "cvss_v3": 11}  # fmt: skip
    data = yaml.safe_dump(doc).encode()
    r = rubysec.parse_advisory(data, "gems/x/CVE-2020-0001.yml")
    assert isinstance(r, Advisory | ParseIssue)
    if isinstance(r, Advisory):
        assert r.severities == ()  # 11 is not a CVSS score


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    assert isinstance(rubysec.parse_advisory(data, "gems/x/y.yml"), Advisory | ParseIssue)
