"""Is an installed version affected by one ``Affected`` statement? OSV's evaluation, exactly.

The OSV schema (``docs/schema.md``, *Evaluation*) defines, per range::

    if BeforeLimits(v, range):          # no limit events: True; else v < some limit
        vulnerable = False
        for evt in sorted(range.events):   # sorted by version; introduced "0" first
            if evt.introduced and v >= evt.introduced: vulnerable = True
            elif evt.fixed and v >= evt.fixed:         vulnerable = False
            elif evt.last_affected and v > evt.last_affected: vulnerable = False
        if vulnerable: return True

and a version is affected when it is listed in ``versions`` or inside any range. ``limit``
versions containing ``*`` mean infinity. Events of equal version keep their upstream order
(a stable sort). GIT ranges cannot be evaluated against a package version and are ignored.

Beyond OSV (entries from the distro trackers' own formats): an entry without version ranges
and without a version list is decided by its ``fixed_version`` (affected below it) or, when it
names no version at all, by its state (``affected``/``will-not-fix``/``deferred``/``unknown``:
every version is affected). Anything that cannot be decided (a version the scheme cannot parse,
an entry whose ``problem`` says part of it was dropped) is ``None``: "could not compare", never
a silent "not affected".
"""

from __future__ import annotations

from dataclasses import dataclass

from hullscan import versions
from hullscan.model.advisory import Affected, AffectedRange
from hullscan.model.finding import EventCheck, RangeCheck
from hullscan.versions import Version, VersionParseError

_UNVERSIONED_STATES = frozenset({"affected", "will-not-fix", "deferred", "unknown"})


@dataclass(frozen=True, slots=True)
class Evaluation:
    """``affected`` True/False, or None when it could not be decided (``error`` says why).

    ``rule`` names what decided it (see ``MatchReason``); ``fixed_version`` is the fix that
    closes the interval the installed version is in (None: no fix for that interval).
    """

    affected: bool | None
    rule: str
    fixed_version: str | None = None
    ranges: tuple[RangeCheck, ...] = ()
    error: str | None = None


_NOT_AFFECTED = RangeCheck(type="ECOSYSTEM", events=(), affected=False)


def _cmp(a: Version, b: Version) -> int:
    # Keys of one scheme compare like the versions (Version's own operators add a type check).
    ak, bk = a.key, b.key
    return -1 if ak < bk else (1 if ak > bk else 0)


def evaluate_range(
    scheme: str, installed: Version, rng: AffectedRange, cache: ParseCache | None = None
) -> tuple[RangeCheck, str | None]:
    """One ECOSYSTEM/SEMVER range: (the check, the fixed version closing the matched interval).

    A range that does not contain the version gives a check without its events (nobody shows
    it; building them is most of the cost of a miss). ``cache``: parsed event versions of
    ``scheme`` shared across calls (see ``ParseCache``).
    """
    if cache is None:
        cache = {}
    parsed: list[tuple[str, str, Version | None]] = []  # (kind, text, parsed or None for 0/*)
    error: str | None = None
    for e in rng.events:
        kind, text = e.kind, e.version
        if (kind == "introduced" and text == "0") or (kind == "limit" and "*" in text):
            parsed.append((kind, text, None))
            continue
        v = parse_cached(scheme, text, cache)
        if v is None:
            error = error or f"{kind} {text!r}: {_parse_error(scheme, text)}"
        else:
            parsed.append((kind, text, v))
    if error is not None:
        checks = tuple(
            EventCheck(kind=e.kind, version=e.version) for e in rng.events
        )  # nothing is compared when the range cannot be ordered
        return RangeCheck(type=rng.type, events=checks, affected=None, error=error), None

    key = installed.key
    limits = [v for kind, _, v in parsed if kind == "limit"]
    before_limits = not limits or any(v is None or key < v.key for v in limits)
    if not before_limits:
        return RangeCheck(type=rng.type, events=(), affected=False, before_limits=False), None
    return _walk(installed, rng.type, parsed)


def _parse_error(scheme: str, text: str) -> str:
    """Why ``text`` is not a ``scheme`` version (the cache keeps only the failure)."""
    try:
        versions.parse(scheme, text)
    except VersionParseError as exc:
        return exc.reason
    return "not a valid version"  # pragma: no cover - the cache said it failed


def _event_order(p: tuple[str, str, Version | None]) -> tuple[int, object]:
    return (0, ()) if p[2] is None else (1, p[2].key)


def _is_sorted(events: list[tuple[str, str, Version | None]]) -> bool:
    previous: Version | None = None
    for _, _, v in events:
        if v is None:
            if previous is not None:
                return False  # "0" after a version
        elif previous is not None and v.key < previous.key:
            return False
        else:
            previous = v
    return True


def _walk(
    installed: Version, rtype: str, parsed: list[tuple[str, str, Version | None]]
) -> tuple[RangeCheck, str | None]:
    """OSV's walk over the sorted events of a range whose limits the version is below."""
    events = [p for p in parsed if p[0] != "limit"]
    # Sort by version ("0" first; a stable sort keeps equal versions in upstream order). Most
    # ranges arrive sorted: checking that is cheaper than the keyed sort.
    ordered = events if _is_sorted(events) else sorted(events, key=_event_order)
    key = installed.key
    vulnerable = False
    opened_at = -1
    for i, (kind, _, ev) in enumerate(ordered):
        if kind == "introduced":
            if ev is None or key >= ev.key:
                vulnerable = True
                opened_at = i
        elif ev is None:
            continue
        elif (kind == "fixed" and key >= ev.key) or (kind == "last_affected" and key > ev.key):
            vulnerable = False
    if not vulnerable:
        return _NOT_AFFECTED, None  # not shown anywhere: skip building the event checks
    fixed: str | None = None
    for kind, text, _ in ordered[opened_at + 1 :]:
        if kind == "fixed":
            fixed = text
            break
        if kind == "last_affected":
            break
    checks = tuple(
        EventCheck(kind=k, version=t, cmp=None if v is None else _cmp(installed, v))
        for k, t, v in parsed
    )
    return RangeCheck(type=rtype, events=checks, affected=True), fixed


def evaluate(installed: Version, aff: Affected, cache: ParseCache | None = None) -> Evaluation:
    """Decide one statement for a parsed installed version (of the statement's scheme).

    ``cache``: parsed versions of the scheme shared across calls (see ``ParseCache``)."""
    scheme = aff.scheme
    if cache is None:
        cache = {}
    checks: list[RangeCheck] = []
    errors: list[str] = []
    hit: tuple[str, str | None] | None = None
    version_ranges = [r for r in aff.ranges if r.type != "GIT"]
    for rng in version_ranges:
        check, fixed = evaluate_range(scheme, installed, rng, cache)
        checks.append(check)
        if check.affected is None and check.error:
            errors.append(check.error)
        elif check.affected and hit is None:
            hit = ("range", fixed)
    if hit is None and aff.versions and _listed(scheme, installed, aff.versions, cache):
        hit = ("versions", None)

    if hit is None and not version_ranges and not aff.versions:
        if aff.fixed_version and aff.fixed_version != "0":
            fixed_v = parse_cached(scheme, aff.fixed_version, cache)
            if fixed_v is None:
                reason = _parse_error(scheme, aff.fixed_version)
                errors.append(f"fixed {aff.fixed_version!r}: {reason}")
            else:
                if installed.key < fixed_v.key:
                    hit = ("fixed-version", aff.fixed_version)
                else:
                    return Evaluation(False, "fixed-version", aff.fixed_version)
        elif aff.ranges:
            errors.append("only GIT ranges: a package version cannot be placed in them")
        elif aff.fix_state in _UNVERSIONED_STATES:
            hit = ("unversioned", None)
        elif aff.fix_state == "fixed":
            errors.append("fixed, but the statement names no version")

    ranges = tuple(checks)
    if hit is not None:
        return Evaluation(True, hit[0], hit[1], ranges, aff.problem)
    if errors or aff.problem:
        return Evaluation(
            None, "problem", None, ranges, "; ".join(filter(None, [aff.problem, *errors]))
        )
    return Evaluation(False, "range" if version_ranges else "versions", None, ranges)


def _listed(scheme: str, installed: Version, listed: tuple[str, ...], cache: ParseCache) -> bool:
    if installed.text in listed:
        return True
    key = installed.key
    for text in listed:
        v = parse_cached(scheme, text, cache)
        if v is not None and v.key == key:
            return True
    return False


# --------------------------------------------------------------------------- fast path
#
# Almost every statement is one ECOSYSTEM/SEMVER range ``introduced X[, fixed Y]`` or
# ``introduced X, last_affected Y`` and nothing else (no ``versions``, no ``problem``).
# ``evaluate_fast`` decides those with the same walk as ``evaluate``, unrolled for two events,
# and returns exactly what ``evaluate`` returns; anything else gives None (use ``evaluate``).
# ``tests/unit/test_match_fastpath.py`` checks both agree statement by statement on real data.

_MISS = Evaluation(False, "range", None, (_NOT_AFFECTED,))
_SECOND = frozenset({"fixed", "last_affected"})

ParseCache = dict[str, Version | None]
"""Parsed event versions of one scheme (None: not a valid version), for ``evaluate_fast``."""


def parse_cached(scheme: str, text: str, cache: ParseCache) -> Version | None:
    try:
        return cache[text]
    except KeyError:
        pass
    try:
        v: Version | None = versions.parse(scheme, text)
    except VersionParseError:
        v = None
    cache[text] = v
    return v


def evaluate_fast(installed: Version, aff: Affected, cache: ParseCache) -> Evaluation | None:
    """``evaluate(installed, aff)`` for the common statement shapes; None for any other.

    ``cache`` holds parsed versions of ``installed.scheme`` (shared across calls)."""
    if aff.versions or aff.problem is not None or len(aff.ranges) != 1:
        return None
    scheme = installed.scheme
    if aff.scheme != scheme:
        return None
    rng = aff.ranges[0]
    if rng.type == "GIT":
        return None
    events = rng.events
    n = len(events)
    if n == 2:
        first, second = events
        kind = second.kind
        if kind not in _SECOND:
            return None
    elif n == 1:
        first, second, kind = events[0], None, "fixed"
    else:
        return None
    if first.kind != "introduced":
        return None
    key = installed.key
    intro_text = first.version
    if intro_text == "0":
        intro = None
    else:
        intro = parse_cached(scheme, intro_text, cache)
        if intro is None:
            return None
    if second is None:
        # one "introduced": affected from it on, no fix for the interval
        if intro is not None and key < intro.key:
            return _MISS
        check = RangeCheck(
            type=rng.type,
            events=(
                EventCheck(
                    kind="introduced",
                    version=intro_text,
                    cmp=None if intro is None else _cmp(installed, intro),
                ),
            ),
            affected=True,
        )
        return Evaluation(True, "range", None, (check,), None)
    other = parse_cached(scheme, second.version, cache)
    if other is None:
        return None
    # OSV sorts the events by version ("introduced 0" first; equal versions keep their order)
    if intro is None or not other.key < intro.key:
        # introduced, then fixed / last_affected
        if intro is not None and key < intro.key:
            return _MISS
        if (key >= other.key) if kind == "fixed" else (key > other.key):
            return _MISS
        fixed = second.version if kind == "fixed" else None
    else:
        # fixed / last_affected sorts first (it closes nothing), then introduced: open-ended
        if key < intro.key:
            return _MISS
        fixed = None
    check = RangeCheck(
        type=rng.type,
        events=(
            EventCheck(
                kind="introduced",
                version=intro_text,
                cmp=None if intro is None else _cmp(installed, intro),
            ),
            EventCheck(kind=kind, version=second.version, cmp=_cmp(installed, other)),
        ),
        affected=True,
    )
    return Evaluation(True, "range", fixed, (check,), None)
