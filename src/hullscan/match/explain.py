"""``explain``: why one advisory id does (or does not) give a finding for an SBOM's packages.

``explain(sbom, store, advisory_id, package=None)`` returns an :class:`Explanation`: the
distro namespace chosen and why, the advisory ids the query resolves to (the id itself and the
advisories that name it as an alias, plus their aliases), and per package concerned: the name
looked up (source or binary), the installed version, every DB statement about that
(namespace, package) from those advisories, each range event compared with the installed
version (-1/0/1), the verdict per statement and overall, and, when affected, the finding the
scan reports (merged alias group, primary id, severity and its source, KEV, EPSS).

When nothing in the SBOM concerns the id, ``packages`` is empty and ``reasons`` says why (the
advisory names packages of other namespaces only, or no package of that name is installed).
An id the DB does not know raises :class:`UnknownAdvisoryError` (exit 2). Pure: reads the store,
never writes.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from hullscan import versions
from hullscan.errors import EXIT_INPUT_ERROR, HullscanError
from hullscan.match.engine import Lookup, Matcher, lookup_for
from hullscan.match.ranges import evaluate
from hullscan.model.advisory import Advisory, Affected, AffectedRange
from hullscan.model.distro import Distro
from hullscan.model.finding import EventCheck, Finding, RangeCheck
from hullscan.model.namespaces import distro_namespace
from hullscan.model.package import Package
from hullscan.model.sbom import SBOM
from hullscan.versions import Version, VersionParseError
from hullscan.vulndb.store import VulnStore

StatementVerdict = Literal[
    "affected", "not-affected", "could-not-compare", "withdrawn", "not-affected-statement"
]
PackageVerdict = Literal["affected", "not-affected", "could-not-compare"]


class UnknownAdvisoryError(HullscanError):
    """The id is neither an advisory id nor an alias in the DB."""

    exit_code = EXIT_INPUT_ERROR


class StatementExplanation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One DB statement about the looked-up package, and what it says for the installed version.

    ``ranges`` carry every event compared with the installed version (``cmp`` -1/0/1 =
    installed below/equal/above the event version; None for ``0``, ``*`` or unparsable).
    """

    advisory_id: str
    source: str
    aliases: tuple[str, ...] = ()
    withdrawn: str | None = None
    namespace: str
    package: str
    scheme: str
    fix_state: str
    fixed_version: str | None = None
    listed_versions: int = 0
    ranges: tuple[RangeCheck, ...] = ()
    problem: str | None = None
    rule: str | None = None
    verdict: StatementVerdict
    reason: str


class PackageExplanation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One installed package the advisory concerns."""

    package_id: str
    name: str
    version: str
    purl: str
    namespace: str
    looked_up: str  # the name looked up in the namespace
    name_kind: str  # "source", "binary" or "normalized" (language packages)
    installed_version: str  # the version compared (the source version for deb)
    scheme: str
    statements: tuple[StatementExplanation, ...] = ()
    verdict: PackageVerdict
    reason: str
    finding: Finding | None = None  # what the scan reports (merged group, severity, KEV, EPSS)


class Explanation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    query: str
    ids: tuple[str, ...]  # the advisory ids the query resolves to
    aliases: tuple[str, ...] = ()  # every id of those advisories' alias group
    related: tuple[str, ...] = ()  # OSV related/upstream ids (a DSA's CVEs): not merged
    target: str
    distro: Distro | None = None
    namespace: str | None = None
    namespace_reason: str
    package_filter: str | None = None
    packages: tuple[PackageExplanation, ...] = ()
    reasons: tuple[str, ...] = ()  # why nothing (more) matched


def resolve_ids(store: VulnStore, query: str) -> tuple[list[Advisory], set[str]]:
    """Advisories whose id is ``query`` or that name it as an alias (and, one step further,
    those of their aliases); plus every id of the group."""
    q = query.strip()
    ids = {q, *store.ids_for_alias(q)}
    if q.upper() != q:
        ids |= {q.upper(), *store.ids_for_alias(q.upper())}
    found: dict[tuple[str, str], Advisory] = {}
    group: set[str] = set()
    for i in sorted(ids):
        for adv in store.advisories(i):
            found[(adv.id, adv.source)] = adv
            group.add(adv.id)
            group.update(adv.aliases)
    # one step further: advisories that are the group's aliases (DSA -> CVE records)
    for i in sorted(group - ids):
        for adv in store.advisories(i):
            found.setdefault((adv.id, adv.source), adv)
            group.add(adv.id)
    return list(found.values()), group


def _namespace_reason(distro: Distro | None, namespace: str | None) -> str:
    if distro is None:
        return "no distro detected: OS packages are not looked up"
    what = f"distro id {distro.id!r}, version {distro.version or '(none)'!r}"
    if namespace is None:
        return f"{what}: no vulnerability data namespace for this distro"
    return f"{what} -> namespace {namespace}"


def _name_kind(pkg: Package, look: Lookup) -> str:
    if not look.distro:
        return "normalized"
    return "source" if pkg.source_name and look.names == (pkg.source_name,) else "binary"


def _cmp(a: Version, b: Version) -> int:
    return -1 if a < b else (1 if a > b else 0)


def range_events(scheme: str, installed: Version, rng: AffectedRange) -> RangeCheck:
    """Every event of a range compared with the installed version (the matcher keeps events
    only for ranges that contain the version)."""
    checks: list[EventCheck] = []
    error: str | None = None
    for e in rng.events:
        if (e.kind == "introduced" and e.version == "0") or (
            e.kind == "limit" and "*" in e.version
        ):
            checks.append(EventCheck(kind=e.kind, version=e.version))
            continue
        try:
            v = versions.parse(scheme, e.version)
        except VersionParseError as exc:
            error = error or f"{e.kind} {e.version!r}: {exc.reason}"
            checks.append(EventCheck(kind=e.kind, version=e.version))
            continue
        checks.append(EventCheck(kind=e.kind, version=e.version, cmp=_cmp(installed, v)))
    from hullscan.match.ranges import evaluate_range

    decided, _ = evaluate_range(scheme, installed, rng)
    return RangeCheck(
        type=rng.type,
        events=tuple(checks),
        affected=decided.affected,
        before_limits=decided.before_limits,
        error=error,
    )


def _why_not(installed: str, stmt: Affected, ranges: tuple[RangeCheck, ...]) -> str:
    """Why a statement does not contain the installed version, in words."""
    if not stmt.ranges and not stmt.versions and stmt.fixed_version:
        return f"version {installed} is at or above fixed {stmt.fixed_version}"
    parts: list[str] = []
    for r in ranges:
        if not r.before_limits:
            lim = next((e.version for e in r.events if e.kind == "limit"), "?")
            parts.append(f"version {installed} is at or above limit {lim}")
            continue
        intro = [e for e in r.events if e.kind == "introduced"]
        if intro and all(e.cmp == -1 for e in intro):
            low = ", ".join(e.version for e in intro)
            parts.append(f"version {installed} is below introduced {low}")
            continue
        fixed = [e for e in r.events if e.kind == "fixed" and e.cmp is not None and e.cmp >= 0]
        if fixed:
            parts.append(f"version {installed} is at or above fixed {fixed[-1].version}")
            continue
        last = [e for e in r.events if e.kind == "last_affected" and e.cmp == 1]
        if last:
            parts.append(f"version {installed} is above last_affected {last[-1].version}")
            continue
        parts.append(f"version {installed} is outside the range")
    if stmt.versions:
        parts.append(f"version {installed} is not among the {len(stmt.versions)} listed versions")
    return "; ".join(dict.fromkeys(parts)) or f"version {installed} is not affected"


def _statement(adv: Advisory, stmt: Affected, installed: Version) -> StatementExplanation:
    base = StatementExplanation(
        advisory_id=adv.id,
        source=adv.source,
        aliases=adv.aliases,
        withdrawn=adv.withdrawn,
        namespace=stmt.namespace,
        package=stmt.package,
        scheme=stmt.scheme,
        fix_state=stmt.fix_state,
        fixed_version=stmt.fixed_version,
        listed_versions=len(stmt.versions),
        problem=stmt.problem,
        verdict="could-not-compare",
        reason="",
    )
    replace = msgspec.structs.replace
    if stmt.scheme != installed.scheme:
        return replace(
            base,
            reason=f"statement uses version scheme {stmt.scheme}, the package {installed.scheme}",
        )
    ev = evaluate(installed, stmt)
    ranges = tuple(range_events(stmt.scheme, installed, r) for r in stmt.ranges if r.type != "GIT")
    full = replace(base, ranges=ranges, rule=ev.rule)
    if adv.withdrawn:
        return replace(full, verdict="withdrawn", reason=f"advisory withdrawn on {adv.withdrawn}")
    if stmt.fix_state == "not-affected":
        return replace(
            full,
            verdict="not-affected-statement",
            reason=f"{adv.source} states the package is not affected",
        )
    if ev.affected is None:
        return replace(full, reason=f"could not compare because {ev.error}")
    if ev.affected:
        fixed = ev.fixed_version or stmt.fixed_version
        how = {
            "range": "inside a range",
            "versions": "listed among the affected versions",
            "fixed-version": f"below fixed {stmt.fixed_version}",
            "unversioned": f"the statement names no version (state {stmt.fix_state})",
        }.get(ev.rule, ev.rule)
        tail = f"; fixed in {fixed}" if fixed else "; no fix for this version"
        return replace(full, verdict="affected", reason=f"version {installed.text} is {how}{tail}")
    return replace(full, verdict="not-affected", reason=_why_not(installed.text, stmt, ranges))


def _package(
    pkg: Package,
    look: Lookup,
    stmts: list[tuple[Advisory, Affected]],
    matcher: Matcher,
    group: set[str],
) -> PackageExplanation:
    head = PackageExplanation(
        package_id=pkg.id,
        name=pkg.name,
        version=pkg.version,
        purl=pkg.purl,
        namespace=look.namespace,
        looked_up=look.names[0],
        name_kind=_name_kind(pkg, look),
        installed_version=look.version,
        scheme=look.scheme,
        verdict="could-not-compare",
        reason="",
    )
    try:
        installed = versions.parse(look.scheme, look.version)
    except VersionParseError as exc:
        return msgspec.structs.replace(
            head,
            reason=f"could not compare because installed version {look.version!r} is not a "
            f"valid {look.scheme} version: {exc.reason}",
        )
    explained = tuple(_statement(adv, stmt, installed) for adv, stmt in stmts)
    found = matcher.match_package(pkg, look)
    finding = None
    if not isinstance(found, str):
        finding = next((f for f in found if group & {f.id, *f.aliases}), None)
    verdicts = {s.verdict for s in explained}
    verdict: PackageVerdict
    if finding is not None and finding.compared:
        verdict, reason = "affected", f"reported as {finding.id}"
    elif finding is not None:
        verdict = "could-not-compare"
        reason = f"reported as {finding.id}, but could not compare: " + "; ".join(finding.notes)
    elif "could-not-compare" in verdicts:
        verdict = "could-not-compare"
        reason = "; ".join(s.reason for s in explained if s.verdict == "could-not-compare")
    else:
        verdict = "not-affected"
        reason = "not affected because " + "; ".join(
            f"{s.advisory_id} ({s.source}): {s.reason}" for s in explained
        )
    return msgspec.structs.replace(
        head, statements=explained, verdict=verdict, reason=reason, finding=finding
    )


def explain(
    sbom: SBOM, store: VulnStore, advisory_id: str, *, package: str | None = None
) -> Explanation:
    """The reasoning for ``advisory_id`` (an id or an alias) against ``sbom`` (module doc)."""
    advisories, group = resolve_ids(store, advisory_id)
    if not advisories:
        raise UnknownAdvisoryError(
            f"{advisory_id}: no advisory with this id or alias in the vulnerability DB"
        )
    distro = sbom.distro
    distro_ns = distro_namespace(distro.id, distro.version) if distro is not None else None
    by_key: dict[tuple[str, str], list[tuple[Advisory, Affected]]] = {}
    for adv in sorted(advisories, key=lambda a: (a.id, a.source)):
        for stmt in adv.affected:
            by_key.setdefault((stmt.namespace, stmt.package), []).append((adv, stmt))
    matcher = Matcher(store)
    packages: list[PackageExplanation] = []
    seen_keys: set[tuple[str, str]] = set()
    name_found = package is None
    for pkg in sbom.packages:
        if package is not None:
            if package not in (pkg.name, pkg.source_name):
                continue
            name_found = True
        look = lookup_for(pkg, distro_ns)
        if isinstance(look, str):
            continue
        stmts = [s for n in look.names for s in by_key.get((look.namespace, n), [])]
        if not stmts:
            continue
        seen_keys.update((look.namespace, n) for n in look.names)
        packages.append(_package(pkg, look, stmts, matcher, group))
    reasons: list[str] = []
    if package is not None and not name_found:
        reasons.append(f"no package named {package} in {sbom.target.name}")
    namespaces = sorted({ns for ns, _ in by_key})
    image_spaces = {distro_ns} if distro_ns else set()
    for p in sbom.packages:
        lk = lookup_for(p, distro_ns)
        if not isinstance(lk, str):
            image_spaces.add(lk.namespace)
    for ns, name in sorted(by_key):
        if (ns, name) in seen_keys or ns not in image_spaces:
            continue
        if package is not None and name != package:
            continue
        reasons.append(f"no package named {name} in namespace {ns}")
    if not packages and not any(ns in image_spaces for ns in namespaces):
        where = ", ".join(namespaces) or "no namespace"
        mine = ", ".join(sorted(image_spaces)) or "none"
        reasons.append(
            f"the advisory has statements for {where} only; this target's namespaces: {mine}"
        )
    ids = tuple(sorted({a.id for a in advisories}))
    return Explanation(
        query=advisory_id,
        ids=ids,
        aliases=tuple(sorted(group - set(ids))),
        related=tuple(sorted({r for a in advisories for r in (*a.related, *a.upstream)} - group)),
        target=sbom.target.name,
        distro=distro,
        namespace=distro_ns,
        namespace_reason=_namespace_reason(distro, distro_ns),
        package_filter=package,
        packages=tuple(packages),
        reasons=tuple(reasons),
    )
