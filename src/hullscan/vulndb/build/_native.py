"""Helpers shared by the native (non-OSV) advisory parsers: version sets, YAML, dates.

Version sets are sorted, disjoint intervals, translated into OSV-style ranges.

Native advisory formats state affected versions as requirement sets (RubyGems ``~> 1.2,
>= 1.2.3``; npm ``^8.1.4 || ^7.10.1``; Composer ``['>=1.0', '<1.2.3']``), sometimes as the
complement of the patched/unaffected sets. The parsers turn each statement into intervals, do
the set algebra here with the ecosystem's own comparison (``hullscan.versions``), and emit one
``AffectedRange`` per affected interval:

* lower bound: none -> ``introduced "0"`` (OSV's "from the beginning", so a literal ``>= 0``
  also takes in the pre-releases of 0 such as ``0-alpha``); inclusive ``v`` -> ``introduced
  v``; **exclusive**
  ``v`` cannot be said with OSV events (there is no "introduced after") -> the set is reported
  as not exactly expressible and the caller records a ``problem``;
* upper bound: none -> no closing event; exclusive ``v`` -> ``fixed v``; inclusive ``v`` ->
  ``last_affected v``.

One interval per range keeps ``fixed`` and ``last_affected`` out of the same range (OSV forbids
mixing them). Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import yaml

from hullscan.model.advisory import AffectedRange, RangeEvent, RangeType
from hullscan.versions import VersionParseError, compare

_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(data: bytes) -> object:
    """``yaml.safe_load`` (libyaml's C loader when available). Raises ``yaml.YAMLError``."""
    return yaml.load(data, Loader=_YamlLoader)  # noqa: S506 (a SafeLoader)


def rfc3339(value: object) -> str | None:
    """A date/time from a feed as RFC 3339 UTC (``2024-02-21`` -> ``2024-02-21T00:00:00Z``).

    Accepts ``datetime``/``date`` objects (YAML timestamps) and strings ``YYYY-MM-DD``,
    ``YYYY-MM-DD HH:MM:SS``, ``YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm]``; naive times are read as
    UTC. None for anything else (never a made-up date).
    """
    if isinstance(value, datetime.datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    elif isinstance(value, datetime.date):
        dt = datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.UTC)
    elif isinstance(value, str) and _DATE.match(value.strip()):
        text = value.strip().replace(" ", "T", 1)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.UTC)
    else:
        return None
    if dt.year < 1970:  # zero dates ("0001-01-01") mean "unknown"
        return None
    return dt.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?\Z"
)

Cmp = Callable[[str, str], int]


@dataclass(frozen=True, slots=True)
class Interval:
    """``lo``/``hi`` None: unbounded on that side (then the ``*_incl`` flag is ignored)."""

    lo: str | None = None
    lo_incl: bool = True
    hi: str | None = None
    hi_incl: bool = False


EVERYTHING: tuple[Interval, ...] = (Interval(),)


def comparator(scheme: str) -> Cmp:
    """``compare`` of ``hullscan.versions`` for one scheme (raises ``VersionParseError``)."""
    return functools.partial(compare, scheme)


def _cmp_lo(a: Interval, b: Interval, cmp: Cmp) -> int:
    if a.lo is None or b.lo is None:
        return (b.lo is None) - (a.lo is None)
    c = cmp(a.lo, b.lo)
    if c:
        return c
    return (not a.lo_incl) - (not b.lo_incl)  # inclusive starts first


def _cmp_hi(a: Interval, b: Interval, cmp: Cmp) -> int:
    if a.hi is None or b.hi is None:
        return (a.hi is None) - (b.hi is None)
    c = cmp(a.hi, b.hi)
    if c:
        return c
    return a.hi_incl - b.hi_incl  # exclusive ends first


def is_empty(iv: Interval, cmp: Cmp) -> bool:
    if iv.lo is None or iv.hi is None:
        return False
    c = cmp(iv.lo, iv.hi)
    return c > 0 or (c == 0 and not (iv.lo_incl and iv.hi_incl))


def intersect(a: Interval, b: Interval, cmp: Cmp) -> Interval | None:
    lo = a if _cmp_lo(a, b, cmp) >= 0 else b
    hi = a if _cmp_hi(a, b, cmp) <= 0 else b
    iv = Interval(lo.lo, lo.lo_incl, hi.hi, hi.hi_incl)
    return None if is_empty(iv, cmp) else iv


def union(intervals: Iterable[Interval], cmp: Cmp) -> list[Interval]:
    """Sorted, disjoint, merged (touching intervals such as ``[a, b)`` + ``[b, c)`` join)."""

    def by_lower(x: Interval, y: Interval) -> int:
        return _cmp_lo(x, y, cmp)

    ivs = sorted(
        (iv for iv in intervals if not is_empty(iv, cmp)), key=functools.cmp_to_key(by_lower)
    )
    out: list[Interval] = []
    for iv in ivs:
        if out:
            cur = out[-1]
            touching = (
                cur.hi is None
                or iv.lo is None
                or (c := cmp(iv.lo, cur.hi)) < 0
                or (c == 0 and (iv.lo_incl or cur.hi_incl))
            )
            if touching:
                hi = cur if _cmp_hi(cur, iv, cmp) >= 0 else iv
                out[-1] = Interval(cur.lo, cur.lo_incl, hi.hi, hi.hi_incl)
                continue
        out.append(iv)
    return out


def complement(intervals: Iterable[Interval], cmp: Cmp) -> list[Interval]:
    ivs = union(intervals, cmp)
    out: list[Interval] = []
    lo: str | None = None
    lo_incl = True
    for iv in ivs:
        if iv.lo is not None:
            gap = Interval(lo, lo_incl, iv.lo, not iv.lo_incl)
            if not is_empty(gap, cmp):
                out.append(gap)
        if iv.hi is None:
            return out
        lo, lo_incl = iv.hi, not iv.hi_incl
    out.append(Interval(lo, lo_incl, None, False))
    return out


def intersect_sets(a: Sequence[Interval], b: Sequence[Interval], cmp: Cmp) -> list[Interval]:
    out = [iv for x in a for y in b if (iv := intersect(x, y, cmp)) is not None]
    return union(out, cmp)


def difference(a: Sequence[Interval], b: Sequence[Interval], cmp: Cmp) -> list[Interval]:
    return intersect_sets(union(a, cmp), complement(b, cmp), cmp)


def to_ranges(
    intervals: Sequence[Interval], type_: RangeType = "ECOSYSTEM"
) -> tuple[tuple[AffectedRange, ...], list[Interval]]:
    """One range per interval, and the intervals that cannot be written as events (their
    lower bound is exclusive: OSV has no "introduced after")."""
    ranges: list[AffectedRange] = []
    bad: list[Interval] = []
    for iv in intervals:
        if iv.lo is None:
            events = [RangeEvent("introduced", "0")]
        elif iv.lo_incl:
            events = [RangeEvent("introduced", iv.lo)]
        else:
            bad.append(iv)
            continue
        if iv.hi is not None:
            events.append(RangeEvent("last_affected" if iv.hi_incl else "fixed", iv.hi))
        ranges.append(AffectedRange(type=type_, events=tuple(events)))
    return tuple(ranges), bad


def highest_fixed(ranges: Sequence[AffectedRange], cmp: Cmp) -> str | None:
    """The greatest ``fixed`` event (the newest line's fix), None when there is none."""
    fixed = [e.version for r in ranges for e in r.events if e.kind == "fixed"]
    if not fixed:
        return None
    try:
        return max(fixed, key=functools.cmp_to_key(cmp))
    except VersionParseError:  # pragma: no cover - the versions were compared before
        return fixed[-1]


def describe(intervals: Sequence[Interval]) -> str:
    """``[1.0, 1.2.3) [2.0, +inf)``: for problem texts and test messages."""
    parts = []
    for iv in intervals:
        lo = "(-inf" if iv.lo is None else ("[" if iv.lo_incl else "(") + iv.lo
        hi = "+inf)" if iv.hi is None else iv.hi + ("]" if iv.hi_incl else ")")
        parts.append(f"{lo}, {hi}")
    return " ".join(parts) or "(none)"
