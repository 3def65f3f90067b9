"""Version-set algebra of the native advisory parsers (``hullscan.vulndb.build._native``).

Properties are checked against brute-force membership on small integer versions; the range
translation against OSV's event semantics. ``in_ranges`` is also the oracle side used by the
rubysec/friendsofphp/nodejs_wg tests.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Affected, AffectedRange
from hullscan.versions import compare
from hullscan.vulndb.build import _native
from hullscan.vulndb.build._native import Interval


def in_ranges(ranges: Sequence[AffectedRange], version: str, scheme: str) -> bool:
    """OSV semantics for ranges of one interval each (what ``_native.to_ranges`` emits)."""
    for r in ranges:
        ev = {e.kind: e.version for e in r.events}
        lo = ev.get("introduced", "0")
        if lo != "0" and compare(scheme, version, lo) < 0:
            continue
        if "fixed" in ev and compare(scheme, version, ev["fixed"]) >= 0:
            continue
        if "last_affected" in ev and compare(scheme, version, ev["last_affected"]) > 0:
            continue
        return True
    return False


def affected_by(a: Affected, version: str) -> bool:
    return version in a.versions or in_ranges(a.ranges, version, a.scheme)


def _icmp(a: str, b: str) -> int:
    return (int(a) > int(b)) - (int(a) < int(b))


def _member(iv: Interval, v: int) -> bool:
    if iv.lo is not None and (v < int(iv.lo) or (v == int(iv.lo) and not iv.lo_incl)):
        return False
    return not (iv.hi is not None and (v > int(iv.hi) or (v == int(iv.hi) and not iv.hi_incl)))


def _in(ivs: Sequence[Interval], v: int) -> bool:
    return any(_member(iv, v) for iv in ivs)


_bound = st.none() | st.integers(0, 12).map(str)
_interval = st.builds(Interval, _bound, st.booleans(), _bound, st.booleans())
_set = st.lists(_interval, max_size=5)
_UNIVERSE = range(-1, 15)


@settings(max_examples=400, deadline=None)
@given(_set, _set)
def test_set_algebra_matches_brute_force(a: list[Interval], b: list[Interval]) -> None:
    u = _native.union(a, _icmp)
    c = _native.complement(a, _icmp)
    i = _native.intersect_sets(a, b, _icmp)
    d = _native.difference(a, b, _icmp)
    for v in _UNIVERSE:
        assert _in(u, v) == _in(a, v)
        assert _in(c, v) == (not _in(a, v))
        assert _in(i, v) == (_in(a, v) and _in(b, v))
        assert _in(d, v) == (_in(a, v) and not _in(b, v))
    # union's output is sorted, disjoint, non-touching and free of empty intervals
    for x, y in itertools.pairwise(u):
        assert x.hi is not None
        assert y.lo is not None
        assert int(x.hi) < int(y.lo) or (x.hi == y.lo and not x.hi_incl and not y.lo_incl)
    assert not any(_native.is_empty(iv, _icmp) for iv in u)


@settings(max_examples=400, deadline=None)
@given(_set)
def test_ranges_say_exactly_the_expressible_intervals(a: list[Interval]) -> None:
    ivs = _native.union(a, _icmp)
    ranges, bad = _native.to_ranges(ivs)
    assert len(ranges) + len(bad) == len(ivs)
    assert all(iv.lo is not None and not iv.lo_incl for iv in bad)
    good = [iv for iv in ivs if iv not in bad]
    for v in range(15):  # "introduced 0" is the bottom: no negative versions here
        assert _in_events(ranges, v) == _in(good, v)


def _in_events(ranges: Sequence[AffectedRange], v: int) -> bool:
    for r in ranges:
        ev = {e.kind: int(e.version) for e in r.events}
        if v < ev["introduced"]:
            continue
        if "fixed" in ev and v >= ev["fixed"]:
            continue
        if "last_affected" in ev and v > ev["last_affected"]:
            continue
        return True
    return False


def test_range_shapes() -> None:
    ranges, bad = _native.to_ranges(
        [
            Interval(None, True, "1", False),
            Interval("2", True, "3", True),
            Interval("4", False, "5", False),
            Interval("6", True),
        ]
    )
    assert [[(e.kind, e.version) for e in r.events] for r in ranges] == [
        [("introduced", "0"), ("fixed", "1")],
        [("introduced", "2"), ("last_affected", "3")],
        [("introduced", "6")],
    ]
    assert bad == [Interval("4", False, "5", False)]
    assert _native.describe(bad) == "(4, 5)"
    assert _native.highest_fixed(ranges, _icmp) == "1"


def test_rfc3339() -> None:
    r = _native.rfc3339
    assert r("2024-02-21") == "2024-02-21T00:00:00Z"
    assert r("2019-11-13 08:00:00") == "2019-11-13T08:00:00Z"
    assert r("2024-03-29T17:15:21.150") == "2024-03-29T17:15:21Z"
    assert r("2024-06-18T20:43:22.718803Z") == "2024-06-18T20:43:22Z"
    assert r("2025-02-20T00:00:00+0100") == "2025-02-19T23:00:00Z"
    assert r(datetime.date(2020, 1, 2)) == "2020-01-02T00:00:00Z"
    assert r(datetime.datetime(2020, 1, 2, 3, 4, 5)) == "2020-01-02T03:04:05Z"
    for bad in ("0001-01-01T00:00:00Z", "2024-13-01", "yesterday", None, 5, "2024-02-30"):
        assert r(bad) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789-:TZ .+", max_size=30))
def test_rfc3339_never_raises(text: str) -> None:
    out = _native.rfc3339(text)
    assert out is None or (len(out) == 20 and out.endswith("Z"))
