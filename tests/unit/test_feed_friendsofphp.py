"""FriendsOfPHP parser (``hullscan.vulndb.build.friendsofphp``) on friendsofphp/advisories.zip
(1,592 files).

Oracle: composer's security checkers' rule, evaluated directly: a version is vulnerable when
it satisfies every constraint of some branch. Checked on every version the file mentions and
on neighbours just below and above each.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, ParseIssue, RangeEvent
from hullscan.versions import VersionParseError, compare, parse
from hullscan.vulndb.build import friendsofphp
from hullscan.vulndb.build._native import load_yaml
from hullscan.vulndb.build.containers import iter_zip
from tests.unit.test_feed_native import affected_by


@pytest.fixture(scope="module")
def zip_path(shared_dir: Path) -> Path:
    p = shared_dir / "vulndata" / "friendsofphp" / "advisories.zip"
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


@pytest.fixture(scope="module")
def advisories(zip_path: Path) -> dict[str, Advisory]:
    out = {}
    for r in friendsofphp.read(zip_path):
        assert not isinstance(r, ParseIssue), r
        assert r.id not in out
        out[r.id] = r
    return out


@pytest.mark.needs_shared
def test_counts(advisories: dict[str, Advisory]) -> None:
    assert len(advisories) == 1592  # MANIFEST
    states = collections.Counter(a.affected[0].fix_state for a in advisories.values())
    assert states == {"fixed": 1576, "affected": 13, "unknown": 3}
    assert sum(bool(a.aliases) for a in advisories.values()) == 1160
    problems = sorted(a.id for a in advisories.values() if a.affected[0].problem)
    assert problems == [
        "friendsofphp:amphp/artax/CVE-2016-5385",
        "friendsofphp:drupal/core/CVE-2019-6342",
        "friendsofphp:drupal/drupal/CVE-2019-6342",
        "friendsofphp:livewire/livewire/2020-09-22-1",
    ]
    assert all(a.affected[0].namespace == "composer" for a in advisories.values())
    assert all(a.affected[0].package == a.affected[0].package.lower() for a in advisories.values())


@pytest.mark.needs_shared
def test_symfony_branch_set(advisories: dict[str, Advisory]) -> None:
    a = advisories["friendsofphp:symfony/symfony/CVE-2026-45064"]
    assert a.aliases == ("CVE-2026-45064",)
    assert a.references == ("https://symfony.com/cve-2026-45064",)
    assert a.published == "2026-05-20T08:00:00Z"
    (aff,) = a.affected
    assert (aff.package, aff.scheme) == ("symfony/symfony", "composer")
    # ten branches 6.1.x ... 8.0.x; the unfixed ones (6.1-6.3, 7.0-7.3) join their neighbours
    assert [r.events for r in aff.ranges] == [
        (RangeEvent("introduced", "6.1.0"), RangeEvent("fixed", "6.4.40")),
        (RangeEvent("introduced", "7.0.0"), RangeEvent("fixed", "7.4.12")),
        (RangeEvent("introduced", "8.0.0"), RangeEvent("fixed", "8.0.12")),
    ]
    assert (aff.fix_state, aff.fixed_version) == ("fixed", "8.0.12")
    assert affected_by(aff, "6.2.5")
    assert not affected_by(aff, "6.4.40")
    assert not affected_by(aff, "6.0.9")


@pytest.mark.needs_shared
def test_inclusive_upper_bounds(advisories: dict[str, Advisory]) -> None:
    (aff,) = advisories["friendsofphp:illuminate/database/CVE-2020-24940"].affected
    assert aff.ranges[0].events == (
        RangeEvent("introduced", "5.5.0"),
        RangeEvent("last_affected", "5.5.44"),
    )


_OPS = re.compile(r"\s*(>=|<=|==|!=|>|<|=)?\s*(\S+)\s*\Z")


def _satisfies(version: str, constraints: list[str]) -> bool:
    for c in constraints:
        m = _OPS.match(c)
        assert m is not None
        op, v = m.group(1) or "=", m.group(2)
        r = compare("composer", version, v)
        ok = {"=": r == 0, "==": r == 0, "!=": r != 0, ">": r > 0, "<": r < 0,
              ">=": r >= 0, "<=": r <= 0}[op]  # fmt: skip
        if not ok:
            return False
    return True


def _valid(v: str) -> bool:
    try:
        parse("composer", v)
    except VersionParseError:
        return False
    return True


@pytest.mark.needs_shared
def test_ranges_agree_with_the_branch_rule(zip_path: Path, advisories: dict[str, Advisory]) -> None:
    checked = 0
    for item in iter_zip(zip_path, suffixes=(".yaml",)):
        assert not isinstance(item, ParseIssue)
        name, data = item
        doc = load_yaml(data)
        assert isinstance(doc, dict)
        branches = [b["versions"] for b in doc["branches"].values()]
        (aff,) = advisories["friendsofphp:" + name.removesuffix(".yaml")].affected
        versions = {m.group(2) for b in branches for c in b if (m := _OPS.match(c))}
        candidates = {"0.0.1", "99999"} | versions
        candidates |= {f"{v}.1" for v in versions} | {f"{v}-alpha" for v in versions}
        for v in filter(_valid, candidates):
            if compare("composer", v, "0") < 0:
                continue  # "0-alpha": ">=0" becomes OSV's "introduced 0", the very bottom
            vulnerable = any(_satisfies(v, b) for b in branches)
            ours = affected_by(aff, v)
            if ours:
                assert vulnerable, (name, v)
            elif vulnerable:
                assert aff.problem, (name, v)
            checked += 1
    assert checked > 25000


def test_bad_input() -> None:
    assert isinstance(friendsofphp.parse_advisory(b"- a\n- b\n", "a/b/c.yaml"), ParseIssue)
    assert isinstance(friendsofphp.parse_advisory(b"title: [", "a/b/c.yaml"), ParseIssue)
    doc = {
        "title": "t",
        "reference": "composer://Acme/Widget",
        "branches": {
            "1.x": {"time": None, "versions": [">=1.0", "<1.5"]},
            "2.x": {"time": "2020-01-02 03:04:05", "versions": ["~2.0"]},
            "3.x": {"versions": "junk"},
        },
    }
    a = friendsofphp.parse_advisory(yaml.safe_dump(doc).encode(), "acme/widget/2020-01-02.yaml")
    assert isinstance(a, Advisory)
    (aff,) = a.affected
    assert aff.package == "acme/widget"
    assert aff.ranges[0].events == (RangeEvent("introduced", "1.0"), RangeEvent("fixed", "1.5"))
    assert aff.problem is not None
    assert "branch 2.x" in aff.problem
    assert "branch 3.x" in aff.problem
    assert a.published == "2020-01-02T03:04:05Z"


_yaml_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=15),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_constraint = st.tuples(
    st.sampled_from([">=", "<", "<=", ">", "=", "==", "!=", "", "~", "^"]),
    st.from_regex(r"v?[0-9]{1,2}(\.[0-9x*]{1,2}){0,3}(-(alpha|beta|RC|p)[0-9]?)?", fullmatch=True),
).map("".join)
_branch = st.fixed_dictionaries(
    {"versions": st.lists(_constraint, max_size=3) | _yaml_value},
    optional={"time": _yaml_value | st.just("2020-01-01 00:00:00")},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=5), _branch | _yaml_value, max_size=4) | _yaml_value,
    st.sampled_from(["composer://a/b", "composer://", "x"]) | _yaml_value,
)
def test_arbitrary_advisories(branches: object, reference: object) -> None:
    data = yaml.safe_dump({"reference": reference, "branches": branches, "cve": None}).encode()
    r = friendsofphp.parse_advisory(data, "a/b/x.yaml")
    assert isinstance(r, Advisory | ParseIssue)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    assert isinstance(friendsofphp.parse_advisory(data, "a/b/c.yaml"), Advisory | ParseIssue)
