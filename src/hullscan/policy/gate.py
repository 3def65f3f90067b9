"""Which findings are shown, which are suppressed, and whether the scan passes the gate.

``apply_policy(result, policy)`` returns a :class:`PolicyOutcome`: the result with only the
shown findings (sorted, remediations and layer summary recomputed over them), the suppressed
ones (kept in the result only with ``show_suppressed``), messages for stderr, and the exit code.

Order of the filters (each finding is suppressed by the first that removes it):

0. ``vex`` statements (``--vex``): ``not_affected``/``fixed`` statements (``policy/vex.py``);
1. ``ignore`` entries (``.hullscanignore.yaml``); expired entries warn and do not suppress;
2. ``ignore_unfixed``: findings whose ``fix_state`` is not ``fixed``;
3. ``severities``: findings whose ``severity_rating`` is not listed.

Gate (exit codes from ``hullscan.errors``): with ``fail_on``, the scan fails when any shown
finding's rating is at or above it (order unknown < negligible < low < medium < high <
critical) or any shown finding is a malicious package; with ``exit_code`` alone, when any
finding is shown. A failed gate exits ``exit_code`` when given, else 1. "Nothing could be
scanned" (no packages and no distro) raises :class:`NothingScannedError` (exit 2) unless
``allow_empty``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from hullscan.errors import EXIT_INPUT_ERROR, EXIT_OK, EXIT_POLICY_FAILED, HullscanError
from hullscan.match import risk_key
from hullscan.match.remediation import base_layer_indexes, layer_summary, remediations
from hullscan.model.finding import Finding, ScanResult, Suppressed
from hullscan.policy.ignore import IgnoreEntry
from hullscan.policy.vex import VexStatement, vex_for

#: Ratings from lowest to highest; ``--fail-on X`` fails on X and everything after it.
SEVERITY_ORDER: tuple[str, ...] = ("unknown", "negligible", "low", "medium", "high", "critical")
_RANK = {s: n for n, s in enumerate(SEVERITY_ORDER)}
SORT_KEYS = ("risk", "severity", "package")


class NothingScannedError(HullscanError):
    """No packages and no distro: a scan that looked at nothing must not pass silently."""

    exit_code = EXIT_INPUT_ERROR


def parse_severity(text: str, what: str = "--fail-on") -> str:
    from hullscan.errors import UsageError

    s = text.strip().lower()
    if s not in _RANK:
        raise UsageError(f"{what}: unknown severity {text!r} (valid: {', '.join(SEVERITY_ORDER)})")
    return s


def parse_severity_list(text: str) -> frozenset[str]:
    from hullscan.errors import UsageError

    items = [parse_severity(t, "--severity") for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError("--severity: give one or more of " + ", ".join(SEVERITY_ORDER))
    return frozenset(items)


@dataclass(frozen=True, slots=True)
class Policy:
    severities: frozenset[str] | None = None
    fail_on: str | None = None
    exit_code: int | None = None
    ignore_unfixed: bool = False
    ignore: tuple[IgnoreEntry, ...] = ()
    show_suppressed: bool = False
    allow_empty: bool = False
    sort: str = "risk"
    base_layers: int | None = None
    today: dt.date | None = None
    vex: tuple[VexStatement, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    result: ScanResult
    exit_code: int
    failed: bool
    messages: tuple[str, ...] = ()
    suppressed: tuple[Suppressed, ...] = field(default=())


def check_scannable(result: ScanResult, *, allow_empty: bool = False) -> None:
    """Raise :class:`NothingScannedError` when the scan found neither packages nor a distro."""
    if allow_empty or result.package_count > 0 or result.distro is not None:
        return
    why = "; ".join(result.warnings)
    raise NothingScannedError(
        f"nothing could be scanned in {result.target.name}: no packages and no distro found"
        + (f" ({why})" if why else "")
        + "; pass --allow-empty to accept an empty result"
    )


def sort_findings(findings: Sequence[Finding], how: str = "risk") -> tuple[Finding, ...]:
    """``risk`` (the matcher's order: KEV, malicious, EPSS x severity...), ``severity``
    (rating, then score, highest first; ties in risk order) or ``package`` (name, version,
    then risk order)."""
    ordered = sorted(findings, key=risk_key)
    if how == "severity":
        ordered.sort(key=lambda f: (-_RANK.get(f.severity_rating, 0), -(f.severity_score or 0.0)))
    elif how == "package":
        ordered.sort(key=lambda f: (f.package.type, f.package.name, f.package.version))
    elif how != "risk":
        from hullscan.errors import UsageError

        raise UsageError(f"--sort: unknown order {how!r} (valid: {', '.join(SORT_KEYS)})")
    return tuple(ordered)


def _ignored_by(
    finding: Finding,
    entries: Sequence[IgnoreEntry],
    paths: Mapping[str, tuple[str, ...]],
    used: set[int],
) -> IgnoreEntry | None:
    for entry in entries:
        if entry.matches(finding, paths.get(finding.package.id, ())):
            used.add(entry.line)
            return entry
    return None


def fails_gate(findings: Sequence[Finding], policy: Policy) -> bool:
    if policy.fail_on is not None:
        threshold = _RANK[policy.fail_on]
        return any(f.malicious or _RANK.get(f.severity_rating, 0) >= threshold for f in findings)
    if policy.exit_code is not None:
        return bool(findings)
    return False


def apply_policy(
    result: ScanResult,
    policy: Policy,
    *,
    paths: Mapping[str, tuple[str, ...]] | None = None,
) -> PolicyOutcome:
    """Filter, sort and gate one scan result (see the module doc).

    ``paths``: package id -> the package's file locations, for ``path`` ignore entries.
    """
    check_scannable(result, allow_empty=policy.allow_empty)
    today = policy.today or dt.datetime.now(dt.UTC).date()
    messages: list[str] = []
    active: list[IgnoreEntry] = []
    for entry in policy.ignore:
        if entry.expired(today):
            messages.append(
                f"ignore entry {entry.line} ({entry.describe()}) expired on "
                f"{entry.expires}: it no longer suppresses anything"
            )
        else:
            active.append(entry)
    shown: list[Finding] = []
    suppressed: list[Suppressed] = []
    used: set[int] = set()
    for f in result.findings:
        vex = vex_for(f, policy.vex) if policy.vex else None
        hit = None if vex is not None else _ignored_by(f, active, paths or {}, used)
        if vex is not None:
            suppressed.append(Suppressed(finding=f, by="vex", reason=vex.reason()))
        elif hit is not None:
            reason = hit.reason or f"ignore entry {hit.line} ({hit.describe()})"
            suppressed.append(Suppressed(finding=f, by="ignorefile", reason=reason))
        elif policy.ignore_unfixed and (f.fix_state != "fixed" or not f.fixed_version):
            suppressed.append(Suppressed(finding=f, by="unfixed", reason=f"state {f.fix_state}"))
        elif policy.severities is not None and f.severity_rating not in policy.severities:
            suppressed.append(
                Suppressed(finding=f, by="severity", reason=f"severity {f.severity_rating}")
            )
        else:
            shown.append(f)
    ordered = sort_findings(shown, policy.sort)
    failed = fails_gate(ordered, policy)
    code = EXIT_OK
    if failed:
        code = policy.exit_code if policy.exit_code is not None else EXIT_POLICY_FAILED
    base, _ = base_layer_indexes(result.layers, result.target.labels, policy.base_layers)
    new = msgspec.structs.replace(
        result,
        findings=ordered,
        remediations=remediations(ordered, result.distro, base),
        layer_summary=layer_summary(
            ordered, result.layers, result.target.labels, policy.base_layers
        )
        if result.layers or result.layer_summary is not None
        else None,
        suppressed=tuple(suppressed) if policy.show_suppressed else (),
        suppressed_count=len(suppressed),
    )
    return PolicyOutcome(
        result=new,
        exit_code=code,
        failed=failed,
        messages=tuple(messages),
        suppressed=tuple(suppressed),
    )
