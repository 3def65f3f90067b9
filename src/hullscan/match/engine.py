"""Match an SBOM's packages against the vulnerability DB: ``match_sbom``.

Rules (the full text, with examples, is ``docs/matching.md``):

* distro packages (purl types deb/rpm/apk) are looked up in the image distro's namespace
  (``distro_namespace``) under their **source** package name (binary name when the SBOM has
  none; Amazon Linux's feed names binary RPMs, so there the binary name is used). The installed
  version compared is the source version for deb (trackers publish source versions; binNMUs
  ``+bN`` only exist on binaries) and the package's own ``[epoch:]version-release`` for rpm and
  apk (binary and source carry the same EVR; a missing epoch is 0).
* language packages (purl types pypi/npm/maven/golang/cargo/gem/composer/nuget) are looked up in
  the namespace named by their purl type, name normalized with ``normalize_package``.
* a statement matches by OSV's range evaluation (``hullscan.match.ranges``); ``not-affected``
  statements and withdrawn advisories never match; undecidable statements give findings with
  ``compared=False`` and a note.
* matches of advisories that share an id or alias are one finding (primary id: ``primary_id``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import unquote

import msgspec

from hullscan import versions
from hullscan.match.ranges import Evaluation, ParseCache, evaluate, evaluate_fast, parse_cached
from hullscan.model.advisory import Affected, Severity
from hullscan.model.finding import (
    Finding,
    FindingFixState,
    MatchReason,
    PackageRef,
    ScanResult,
    Unmatched,
)
from hullscan.model.namespaces import distro_namespace, normalize_package, scheme_of
from hullscan.model.package import Package
from hullscan.model.sbom import SBOM
from hullscan.versions import Version, VersionParseError
from hullscan.vulndb.store import AdvisoryHead, VulnStore

DISTRO_TYPES = frozenset({"deb", "rpm", "apk"})
LANGUAGE_TYPES = frozenset({"pypi", "npm", "maven", "golang", "cargo", "gem", "composer", "nuget"})
# Feeds that key their statements by binary package name (docs/feeds.md).
_BINARY_NAME_NAMESPACES = frozenset({"amazon"})

_RATINGS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "negligible",
    "unimportant": "negligible",
}
#: A number for a rating that has none (used by the risk order only).
RATING_SCORES = {
    "critical": 9.5,
    "high": 7.5,
    "medium": 5.0,
    "low": 2.5,
    "negligible": 0.5,
    "unknown": 0.0,
}
_CVSS_ORDER = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}
_STATE_ORDER: dict[str, int] = {
    "fixed": 0,
    "affected": 1,
    "deferred": 2,
    "will-not-fix": 3,
    "end-of-life": 4,
    "unknown": 5,
}


# --------------------------------------------------------------------------- ids


def primary_id(ids: Iterable[str], *, distro: bool) -> str:
    """The id a merged finding is shown under: deterministic, whatever order ids come in.

    Distro namespaces prefer a ``CVE-`` id (the trackers are CVE-keyed), then ``GHSA-``;
    language namespaces prefer ``GHSA-`` (the reviewed, package-aware record), then ``CVE-``.
    Then ``MAL-`` (OpenSSF malicious-packages), then any other id (``PYSEC-``, ``GO-``,
    ``RUSTSEC-``, ``DSA-``...). Ties: the smallest id by the natural order of its numbers
    (``CVE-2024-9`` before ``CVE-2024-10``), then the string.
    """
    return min(ids, key=_DISTRO_ID_KEY if distro else _LANGUAGE_ID_KEY)


_IdKey = tuple[int, tuple[int, ...], str]


def _id_key(order: tuple[str, ...]) -> Callable[[str], _IdKey]:
    @functools.lru_cache(maxsize=1 << 16)
    def key(i: str) -> _IdKey:
        rank = next((n for n, p in enumerate(order) if i.startswith(p)), len(order))
        numbers = tuple(int(x) for x in _digits(i))
        return rank, numbers, i

    return key


_DISTRO_ID_KEY = _id_key(("CVE-", "GHSA-", "MAL-"))
_LANGUAGE_ID_KEY = _id_key(("GHSA-", "CVE-", "MAL-"))


_DIGITS = re.compile(r"[0-9]+")


def _digits(text: str) -> list[str]:
    return _DIGITS.findall(text)


# --------------------------------------------------------------------------- lookups


@dataclass(frozen=True, slots=True)
class Lookup:
    """How one package is looked up: where, under which name, with which version."""

    namespace: str
    names: tuple[str, ...]
    scheme: str
    version: str
    distro: bool


def lookup_for(pkg: Package, distro_ns: str | None) -> Lookup | str:
    """The lookup for a package, or the reason it is not looked up."""
    if pkg.type in DISTRO_TYPES:
        if distro_ns is None:
            return "no distro (or no vulnerability data namespace for it) detected"
        scheme = scheme_of(distro_ns)
        if scheme != pkg.type:
            return f"{pkg.type} package in a {distro_ns} image (version scheme {scheme})"
        prefix = distro_ns.partition(":")[0]
        if prefix in _BINARY_NAME_NAMESPACES:
            names: tuple[str, ...] = (pkg.name,)
        else:
            names = (pkg.source_name or pkg.name,)
        version = pkg.version
        if pkg.type == "deb" and pkg.source_version:
            version = pkg.source_version
        return Lookup(distro_ns, names, scheme, version, True)
    if pkg.type in LANGUAGE_TYPES:
        name = _purl_name(pkg)
        if name is None:
            return f"purl {pkg.purl!r} names no package"
        version = pkg.version or _purl_version(pkg.purl) or ""
        ns = pkg.type
        return Lookup(ns, (normalize_package(ns, name),), ns, version, False)
    return f"no vulnerability data for package type {pkg.type!r}"


def _purl_parts(purl: str) -> tuple[str, str, str] | None:
    """(type, namespace, name) of a purl, percent-decoded; None when it is not one."""
    if not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("#", 1)[0].split("?", 1)[0]
    body = body.rsplit("@", 1)[0] if "@" in body.rsplit("/", 1)[-1] else body
    parts = [unquote(p) for p in body.strip("/").split("/")]
    if len(parts) < 2:
        return None
    return parts[0].lower(), "/".join(parts[1:-1]), parts[-1]


def _purl_version(purl: str) -> str | None:
    last = purl.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
    return unquote(last.rsplit("@", 1)[1]) if "@" in last else None


def _purl_name(pkg: Package) -> str | None:
    parts = _purl_parts(pkg.purl)
    if parts is None:
        return pkg.name or None
    ptype, namespace, name = parts
    if ptype == "maven":
        return f"{namespace}:{name}" if namespace else name
    if ptype in ("npm", "golang", "composer") and namespace:
        return f"{namespace}/{name}"
    return name


# --------------------------------------------------------------------------- matching


_affected_decoder = msgspec.msgpack.Decoder(Affected)


class _Hit(NamedTuple):
    """A statement that matches, with its advisory and how it was decided."""

    advisory: AdvisoryHead
    affected: Affected
    evaluation: Evaluation


# (advisory rowid, statement, evaluation): a statement that matches, before its advisory is
# read (a withdrawn advisory then drops it).
_Candidate = tuple[int, Affected, Evaluation]


_KEV_READ_ALL = 300


class _Enrichment:
    """Per-scan caches of the CVE-keyed tables (the same CVE recurs across packages)."""

    def __init__(self, store: VulnStore) -> None:
        self.store = store
        self._kev: dict[str, str | bool | None] = {}
        self._epss: dict[str, tuple[float, float] | None] = {}
        self._sev: dict[str, tuple[Severity, ...]] = {}
        self._support: dict[tuple[str, str], bool] = {}

    def prefetch(self, cves: Iterable[str]) -> None:
        """Load the CVE-keyed rows of many CVEs at once (a few queries instead of 3 per CVE)."""
        todo = [c for c in dict.fromkeys(cves) if c not in self._kev]
        if not todo:
            return
        # KEV is small: past a few hundred CVEs reading all of it beats probing per CVE.
        kev = self.store.kev_all() if len(todo) > _KEV_READ_ALL else self.store.kev_many(todo)
        epss = self.store.epss_many(todo)
        sev = self.store.cve_severities_many(todo)
        for cve in todo:
            k = kev.get(cve)
            self._kev[cve] = False if k is None else k.date_added
            e = epss.get(cve)
            self._epss[cve] = None if e is None else (e.epss, e.percentile)
            rated = sev.get(cve)
            self._sev[cve] = tuple(s for c in rated for s in c.severities) if rated else ()

    def kev(self, cve: str) -> str | bool | None:
        """False: not in KEV; else the date added (None when unknown)."""
        if cve not in self._kev:
            entry = self.store.kev(cve)
            self._kev[cve] = False if entry is None else entry.date_added
        return self._kev[cve]

    def kev_epss(self, cves: Iterable[str]) -> tuple[bool, str | None, tuple[float, float] | None]:
        """(in KEV, the first known date added, the highest (EPSS, percentile)) of ``cves``."""
        in_kev, kev_date = False, None
        best: tuple[float, float] | None = None
        for cve in cves:
            k = self.kev(cve)
            if k is not False and not in_kev:
                in_kev, kev_date = True, k if isinstance(k, str) else None
            e = self.epss(cve)
            if e is not None and (best is None or e[0] > best[0]):
                best = e
        return in_kev, kev_date, best

    def epss(self, cve: str) -> tuple[float, float] | None:
        if cve not in self._epss:
            e = self.store.epss(cve)
            self._epss[cve] = None if e is None else (e.epss, e.percentile)
        return self._epss[cve]

    def severities(self, cve: str) -> tuple[Severity, ...]:
        if cve not in self._sev:
            self._sev[cve] = tuple(s for c in self.store.cve_severities(cve) for s in c.severities)
        return self._sev[cve]

    def prefetch_support(self, namespace: str, packages: Iterable[str]) -> None:
        """``support_ended`` of many packages in a few queries."""
        todo = [p for p in packages if (namespace, p) not in self._support]
        if not todo:
            return
        found = self.store.support_many(namespace, todo)
        for p in todo:
            self._support[(namespace, p)] = any(s.state == "ended" for s in found.get(p, ()))

    def support_ended(self, namespace: str, package: str) -> bool:
        key = (namespace, package)
        if key not in self._support:
            self._support[key] = any(
                s.state == "ended" for s in self.store.support(namespace, package)
            )
        return self._support[key]


class Matcher:
    """Matches packages against one store; caches lookups across packages of one scan.

    ``match_sbom`` uses it in phases so that the store is asked a few batched queries per scan:
    ``prepare`` (every statement of every looked-up name), ``candidates`` per package (the
    statements that match, evaluated), ``hits`` (their advisories, withdrawn ones dropped),
    ``prefetch`` (KEV/EPSS/CVSS and support rows) and ``findings``.
    """

    def __init__(self, store: VulnStore) -> None:
        self.store = store
        self.enrich = _Enrichment(store)
        self._rows: dict[tuple[str, str], list[tuple[int, str | None, bytes]]] = {}
        self._candidates: dict[tuple[str, str, str], list[_Candidate]] = {}
        self._parse_cache: dict[str, ParseCache] = {}

    def match_package(self, pkg: Package, look: Lookup) -> list[Finding] | str:
        """Findings for one package, or the reason its version cannot be compared at all."""
        cands = self.candidates(look)
        if isinstance(cands, str):
            return cands
        hits = self.hits([cands])[0]
        self.prefetch([(look, hits)])
        return self.findings(pkg, look, hits)

    def prepare(self, looks: Iterable[Lookup]) -> None:
        """Read the statements of every name the lookups need (a few queries per namespace)."""
        todo: dict[str, dict[str, None]] = {}
        for look in looks:
            for name in look.names:
                if (look.namespace, name) not in self._rows:
                    todo.setdefault(look.namespace, {})[name] = None
        for namespace, names in todo.items():
            found = self.store.affected_bodies(namespace, names)
            for name in names:
                self._rows[(namespace, name)] = found.get(name, [])

    def candidates(self, look: Lookup) -> list[_Candidate] | str:
        """The statements that match the package (or cannot be decided), in store order; or
        the reason its version cannot be compared at all."""
        try:
            installed = versions.parse(look.scheme, look.version)
        except VersionParseError as exc:
            return (
                f"installed version {look.version!r} is not a valid {look.scheme} version: "
                f"{exc.reason}"
            )
        out: list[_Candidate] = []
        for name in look.names:
            out += self._candidates_for(look.namespace, name, installed)
        return out

    def _candidates_for(self, namespace: str, name: str, installed: Version) -> list[_Candidate]:
        key = (namespace, name, installed.text)
        cached = self._candidates.get(key)
        if cached is not None:
            return cached
        rows = self._rows.get((namespace, name))
        if rows is None:
            self.prepare([Lookup(namespace, (name,), installed.scheme, installed.text, False)])
            rows = self._rows[(namespace, name)]
        out: list[_Candidate] = []
        scheme = installed.scheme
        cache = self._parse_cache.setdefault(scheme, {})
        decode = _affected_decoder.decode
        installed_key = installed.key
        for advisory, upper, body in rows:
            if upper is not None:
                # At or above the statement's upper bound nothing is affected: skip the
                # decode and the evaluation (most statements of a package, in a real image).
                bound = parse_cached(scheme, upper, cache)
                if bound is not None and installed_key >= bound.key:
                    continue
            aff = decode(body)
            if aff.fix_state == "not-affected" or aff.scheme != scheme:
                continue
            ev = evaluate_fast(installed, aff, cache)
            if ev is None:
                ev = evaluate(installed, aff, cache)
            if ev.affected is not False:
                out.append((advisory, aff, ev))
        self._candidates[key] = out
        return out

    def hits(self, batches: Sequence[Sequence[_Candidate]]) -> list[list[_Hit]]:
        """The candidates of many packages with their advisories (read in one go); statements
        of withdrawn advisories never match."""
        heads = self.store.advisory_heads(c[0] for batch in batches for c in batch)
        out: list[list[_Hit]] = []
        for batch in batches:
            hits: list[_Hit] = []
            for advisory, stmt, ev in batch:
                head = heads[advisory]
                if head.withdrawn:
                    continue
                hits.append(_Hit(head, stmt, ev))
            out.append(hits)
        return out

    def prefetch(self, matched: Iterable[tuple[Lookup, Sequence[_Hit]]]) -> None:
        """Load the CVE-keyed rows and the per-package support rows the findings will need."""
        cves: dict[str, None] = {}
        support: dict[str, dict[str, None]] = {}
        for look, hits in matched:
            if not hits:
                continue
            for h in hits:
                if h.advisory.id.startswith("CVE-"):
                    cves[h.advisory.id] = None
                for alias in h.advisory.aliases:
                    if alias.startswith("CVE-"):
                        cves[alias] = None
            if look.distro:
                names = support.setdefault(look.namespace, {})
                for name in look.names:
                    names[name] = None
        self.enrich.prefetch(cves)
        for namespace, packages in support.items():
            self.enrich.prefetch_support(namespace, packages)

    def findings(self, pkg: Package, look: Lookup, hits: list[_Hit]) -> list[Finding]:
        """One finding per alias group of the package's hits."""
        if not hits:
            return []
        ref = _ref(pkg)
        if len(hits) == 1:
            return [self._finding_one(ref, look, hits[0])]
        return [
            self._finding_one(ref, look, group[0])
            if len(group) == 1
            else self._finding(ref, look, group)
            for group in _alias_groups(hits)
        ]

    def _finding_one(self, ref: PackageRef, look: Lookup, h: _Hit) -> Finding:
        """``_finding`` of a group of one hit (most of them): the same result, computed
        inline (no merging, no generic severity passes) as it runs ~20,000 times a scan."""
        adv = h.advisory
        stmt = h.affected
        ev = h.evaluation
        if adv.aliases:
            ids = {adv.id, *adv.aliases}
            primary = primary_id(ids, distro=look.distro)
            aliases = tuple(sorted(ids - {primary}))
            cves = sorted(i for i in ids if i.startswith("CVE-"))
        else:
            primary = adv.id
            aliases = ()
            cves = [primary] if primary.startswith("CVE-") else []
        fixed_version = ev.fixed_version
        if fixed_version is None and ev.affected is None and stmt.fix_state == "fixed":
            fixed_version = stmt.fixed_version
        fix_state: FindingFixState
        if fixed_version:
            fix_state = "fixed"
        else:
            fixed_version = None
            if ev.rule in ("range", "versions") and stmt.fix_state == "fixed":
                fix_state = "affected"
            else:
                fix_state = _as_fix_state(stmt.fix_state)
            if look.distro and (
                (stmt.severity is not None and stmt.severity.rating == "end-of-life")
                or any(self.enrich.support_ended(look.namespace, n) for n in look.names)
            ):
                fix_state = "end-of-life"
        if ev.affected is None:
            notes: tuple[str, ...] = (f"could not compare ({adv.id}, {adv.source}): {ev.error}",)
        elif ev.error:
            notes = (f"note ({adv.id}): {ev.error}",)
        else:
            notes = ()

        # Severity: the steps of _choose_severity_ordered / _all_severities_ordered for one hit.
        enrich = self.enrich
        own = stmt.severity
        cve_sevs: tuple[Severity, ...] = ()
        if cves:
            if len(cves) == 1:
                cve_sevs = enrich.severities(cves[0])
            else:
                cve_sevs = tuple(s for cve in cves for s in enrich.severities(cve))
        listed = adv.severities if own is None else (own, *adv.severities)
        if cve_sevs:
            listed = (*listed, *cve_sevs)
        severities = _dedupe_severities(listed) if len(listed) > 1 else listed
        chosen: Severity | None = None
        if own is not None and own.type == "vendor" and _rating(own) != "unknown":
            chosen = own
        else:
            for sev in adv.severities:
                if sev.type == "vendor" and _rating(sev) != "unknown":
                    chosen = sev
                    break
            else:
                cvss = [sev for sev in adv.severities if sev.type in _CVSS_ORDER]
                if own is not None and own.type in _CVSS_ORDER:
                    cvss.append(own)
                chosen = _best_cvss(cvss) if cvss else None
                if chosen is None and cve_sevs:
                    chosen = _best_cvss([sev for sev in cve_sevs if sev.type in _CVSS_ORDER])
        rating = _rating(chosen)
        score = _score(chosen, rating, severities)
        in_kev, kev_date, best_epss = enrich.kev_epss(cves)
        return Finding(
            id=primary,
            aliases=aliases,
            package=ref,
            namespace=look.namespace,
            fix_state=fix_state,
            fixed_version=fixed_version,
            severity=chosen,
            severity_rating=rating,
            severity_score=score,
            severities=severities,
            kev=in_kev,
            kev_date_added=kev_date,
            epss=best_epss[0] if best_epss else None,
            epss_percentile=best_epss[1] if best_epss else None,
            malicious=adv.malicious or adv.id.startswith("MAL-"),
            compared=bool(ev.affected),
            summary=adv.summary,
            notes=notes,
            matched_by=(_reason(h, look),),
        )

    def _finding(self, ref: PackageRef, look: Lookup, hits: list[_Hit]) -> Finding:
        ids: set[str] = set()
        for h in hits:
            ids.add(h.advisory.id)
            ids.update(h.advisory.aliases)
        primary = primary_id(ids, distro=look.distro)
        reasons = tuple(
            sorted(
                (_reason(h, look) for h in hits),
                key=lambda r: (r.advisory_id, r.source, r.package, r.fix_state),
            )
        )
        compared = [h for h in hits if h.evaluation.affected]
        deciding = compared or hits
        fix_state, fixed_version = _fix_state(deciding, look.scheme)
        if fix_state != "fixed" and look.distro:
            eol = any(
                h.affected.severity is not None and h.affected.severity.rating == "end-of-life"
                for h in deciding
            ) or any(self.enrich.support_ended(look.namespace, n) for n in look.names)
            if eol:
                fix_state = "end-of-life"
        notes = tuple(
            sorted(
                {
                    f"could not compare ({h.advisory.id}, {h.advisory.source}): "
                    f"{h.evaluation.error}"
                    for h in hits
                    if h.evaluation.affected is None
                }
                | {
                    f"note ({h.advisory.id}): {h.evaluation.error}"
                    for h in compared
                    if h.evaluation.error
                }
            )
        )
        primary_adv = next((h.advisory for h in hits if h.advisory.id == primary), hits[0].advisory)
        return self._complete(
            ref,
            look,
            sorted(hits, key=lambda h: (h.advisory.id, h.advisory.source)),
            primary=primary,
            aliases=tuple(sorted(ids - {primary})),
            cves=sorted(i for i in ids if i.startswith("CVE-")),
            fix_state=fix_state,
            fixed_version=fixed_version,
            compared=bool(compared),
            summary=primary_adv.summary,
            notes=notes,
            reasons=reasons,
        )

    def _complete(
        self,
        ref: PackageRef,
        look: Lookup,
        ordered: Sequence[_Hit],
        *,
        primary: str,
        aliases: tuple[str, ...],
        cves: list[str],
        fix_state: FindingFixState,
        fixed_version: str | None,
        compared: bool,
        summary: str | None,
        notes: tuple[str, ...],
        reasons: tuple[MatchReason, ...],
    ) -> Finding:
        """The finding of a group: severity, KEV and EPSS added to what the caller decided.
        ``ordered``: the group's hits sorted by (advisory id, source)."""
        enrich = self.enrich
        severities = _all_severities_ordered(ordered, cves, enrich)
        chosen = _choose_severity_ordered(ordered, cves, enrich)
        rating = _rating(chosen)
        score = _score(chosen, rating, severities)
        in_kev, kev_date, best_epss = enrich.kev_epss(cves)
        return Finding(
            id=primary,
            aliases=aliases,
            package=ref,
            namespace=look.namespace,
            fix_state=fix_state,
            fixed_version=fixed_version,
            severity=chosen,
            severity_rating=rating,
            severity_score=score,
            severities=severities,
            kev=in_kev,
            kev_date_added=kev_date,
            epss=best_epss[0] if best_epss else None,
            epss_percentile=best_epss[1] if best_epss else None,
            malicious=any(
                h.advisory.malicious or h.advisory.id.startswith("MAL-") for h in ordered
            ),
            compared=compared,
            summary=summary,
            notes=notes,
            matched_by=reasons,
        )


def _alias_groups(hits: list[_Hit]) -> list[list[_Hit]]:
    """Hits whose advisories share an id or alias, transitively (union-find on ids)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for h in hits:
        root = find(h.advisory.id)
        for alias in h.advisory.aliases:
            other = find(alias)
            if other != root:
                parent[other] = root
    groups: dict[str, list[_Hit]] = {}
    for h in hits:
        groups.setdefault(find(h.advisory.id), []).append(h)
    return list(groups.values())


def _reason(h: _Hit, look: Lookup) -> MatchReason:
    ev = h.evaluation
    return MatchReason(
        advisory_id=h.advisory.id,
        source=h.advisory.source,
        namespace=h.affected.namespace,
        package=h.affected.package,
        installed_version=look.version,
        scheme=h.affected.scheme,
        verdict="affected" if ev.affected else "could-not-compare",
        rule=ev.rule,
        fix_state=h.affected.fix_state,
        fixed_version=ev.fixed_version or h.affected.fixed_version,
        listed_versions=len(h.affected.versions),
        ranges=ev.ranges,
        problem=ev.error,
    )


def _fix_state(hits: Sequence[_Hit], scheme: str) -> tuple[FindingFixState, str | None]:
    """Fixed (with the highest fix any statement needs) when any statement has a fix for the
    installed version's interval; else the most actionable state among the statements."""
    fixes: list[str] = []
    states: list[str] = []
    for h in hits:
        ev = h.evaluation
        fixed = ev.fixed_version
        if fixed is None and ev.affected is None and h.affected.fix_state == "fixed":
            fixed = h.affected.fixed_version
        if fixed:
            fixes.append(fixed)
        elif ev.rule in ("range", "versions") and h.affected.fix_state == "fixed":
            states.append("affected")  # this interval has no fix (open or last_affected)
        else:
            states.append(h.affected.fix_state)
    if fixes:
        if len(fixes) == 1:
            return "fixed", fixes[0]
        return "fixed", max(fixes, key=lambda f: _version_key(scheme, f))
    state = min(states, key=lambda s: _STATE_ORDER.get(s, 9)) if states else "unknown"
    return _as_fix_state(state), None


def _as_fix_state(state: str) -> FindingFixState:
    if state == "affected":
        return "affected"
    if state == "deferred":
        return "deferred"
    if state == "will-not-fix":
        return "will-not-fix"
    return "unknown"


def _version_key(scheme: str, text: str) -> tuple[int, object]:
    try:
        return 1, versions.parse(scheme, text).key
    except VersionParseError:
        return 0, text


# --------------------------------------------------------------------------- severity


def choose_severity(
    hits: Sequence[_Hit], cves: Sequence[str], enrich: _Enrichment
) -> Severity | None:
    """The rating a finding is ranked by, always with its source.

    1. the vendor's own per-package rating (Debian urgency for this release, Red Hat/Ubuntu
       per-package impact) of a matched statement;
    2. a vendor rating on a matched advisory (Red Hat threat severity, Ubuntu priority, GHSA
       database severity);
    3. a CVSS rating on a matched advisory (v3, then v4, then v2);
    4. a CVSS rating of the CVE from the scoring sources (NVD first, then CNA/ADP), v3 > v4 > v2.
    Ratings that are not severities (Debian ``end-of-life``, ``unknown``) are skipped.
    """
    ordered = sorted(hits, key=lambda h: (h.advisory.id, h.advisory.source))
    return _choose_severity_ordered(ordered, cves, enrich)


def _choose_severity_ordered(
    ordered: Sequence[_Hit], cves: Sequence[str], enrich: _Enrichment
) -> Severity | None:
    """``choose_severity`` of hits already sorted by (advisory id, source)."""
    for h in ordered:
        s = h.affected.severity
        if s is not None and s.type == "vendor" and _rating(s) != "unknown":
            return s
    for h in ordered:
        for s in h.advisory.severities:
            if s.type == "vendor" and _rating(s) != "unknown":
                return s
    cvss = [s for h in ordered for s in h.advisory.severities if s.type in _CVSS_ORDER]
    cvss += [s for h in ordered if (s := h.affected.severity) is not None and s.type in _CVSS_ORDER]
    best = _best_cvss(cvss)
    if best is not None:
        return best
    scored = [s for cve in cves for s in enrich.severities(cve) if s.type in _CVSS_ORDER]
    return _best_cvss(scored)


def _best_cvss(sevs: Sequence[Severity]) -> Severity | None:
    usable = [s for s in sevs if s.score is not None]
    if not usable:
        return None
    return min(
        enumerate(usable),
        key=lambda p: (p[1].source != "nvd", _CVSS_ORDER.get(p[1].type, 9), p[0]),
    )[1]


def _score(chosen: Severity | None, rating: str, severities: Sequence[Severity]) -> float | None:
    """The chosen rating's score, else the rating's number, else the best CVSS score seen."""
    if chosen is not None and chosen.score is not None:
        return chosen.score
    return RATING_SCORES[rating] if rating != "unknown" else _best_cvss_score(severities)


def _best_cvss_score(sevs: Sequence[Severity]) -> float | None:
    best = _best_cvss([s for s in sevs if s.type in _CVSS_ORDER])
    return best.score if best is not None else None


def _rating(s: Severity | None) -> str:
    if s is None:
        return "unknown"
    if s.rating:
        return _RATINGS.get(s.rating.strip().lower(), "unknown")
    if s.score is None:
        return "unknown"
    if s.type == "CVSS_V2":
        return "high" if s.score >= 7.0 else ("medium" if s.score >= 4.0 else "low")
    if s.score >= 9.0:
        return "critical"
    if s.score >= 7.0:
        return "high"
    if s.score >= 4.0:
        return "medium"
    return "low" if s.score > 0.0 else "negligible"


def _all_severities_ordered(
    ordered: Sequence[_Hit], cves: Sequence[str], enrich: _Enrichment
) -> tuple[Severity, ...]:
    """Every rating of hits sorted by (advisory id, source), then of their CVEs."""
    listed: list[Severity] = []
    for h in ordered:
        if h.affected.severity is not None:
            listed.append(h.affected.severity)
        listed += h.advisory.severities
    for cve in cves:
        listed += enrich.severities(cve)
    return _dedupe_severities(listed)


def _dedupe_severities(listed: Iterable[Severity]) -> tuple[Severity, ...]:
    """The ratings in order, each (source, type, vector, score, rating) once (first kept)."""
    seen: dict[tuple[object, ...], Severity] = {}
    for s in listed:
        seen.setdefault((s.source, s.type, s.vector, s.score, s.rating), s)
    return tuple(seen.values())


# --------------------------------------------------------------------------- API


def _ref(pkg: Package) -> PackageRef:
    return PackageRef(
        id=pkg.id,
        name=pkg.name,
        version=pkg.version,
        type=pkg.type,
        purl=pkg.purl,
        source_name=pkg.source_name,
        source_version=pkg.source_version,
        layer_index=pkg.layer_index,
        layer_diff_id=pkg.layer_diff_id,
        created_by=pkg.created_by,
        path=pkg.locations[0].path if pkg.locations else None,
    )


def risk_key(f: Finding) -> tuple[object, ...]:
    """Sort key, most urgent first: KEV findings, then EPSS x severity score (higher first),
    then severity score, then (package name, package id, finding id) for a stable order.

    A missing EPSS counts as 0 and a missing score as 0, so such findings sort after every
    scored one of the same KEV class; ``compared=False`` findings sort after confirmed ones.
    """
    score = f.severity_score or 0.0
    epss = f.epss or 0.0
    return (
        not f.kev,
        not f.malicious,
        not f.compared,
        -(epss * score),
        -score,
        f.package.name,
        f.package.version,
        f.package.id,
        f.id,
        _ref_encoder.encode(f.package),
    )


_ref_encoder = msgspec.json.Encoder()


def _parse_now(now: datetime | None) -> str:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored after, whatever happens).

    A scan allocates hundreds of thousands of small container objects (decoded statements,
    reasons, findings) and creates no reference cycles; with the collector on, it runs
    thousands of times over them and the whole heap, costing ~40% of the scan. Reference
    counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def match_sbom(sbom: SBOM, store: VulnStore, *, now: datetime | None = None) -> ScanResult:
    """Match every package of ``sbom``; findings sorted by ``risk_key``."""
    with _gc_paused():
        return _match_sbom(sbom, store, now)


def _match_sbom(sbom: SBOM, store: VulnStore, now: datetime | None) -> ScanResult:
    today = _parse_now(now)
    warnings: list[str] = []
    distro_ns: str | None = None
    if sbom.distro is not None:
        distro_ns = distro_namespace(sbom.distro.id, sbom.distro.version)
        if distro_ns is None:
            warnings.append(
                f"distro {sbom.distro.id} {sbom.distro.version or ''}".rstrip()
                + " has no vulnerability data namespace: its packages were not matched"
            )
        else:
            warnings += _support_warnings(store, distro_ns, today)
    matcher = Matcher(store)
    # A declared package (lock file) that is installed at that version is matched once, as
    # the installed package; declared packages not installed as declared are matched too.
    packages: Sequence[Package] = sbom.packages
    if any(p.relationship == "declared" for p in packages):
        installed = {
            (p.type, normalize_package(p.type, p.name), p.version)
            for p in packages
            if p.relationship == "installed"
        }
        packages = [
            p
            for p in packages
            if p.relationship == "installed"
            or (p.type, normalize_package(p.type, p.name), p.version) not in installed
        ]
    looks = [lookup_for(pkg, distro_ns) for pkg in packages]
    matcher.prepare(look for look in looks if not isinstance(look, str))
    unmatched: list[Unmatched] = []
    pending: list[tuple[Package, Lookup]] = []
    batches: list[list[_Candidate]] = []
    for pkg, look in zip(packages, looks, strict=True):
        if isinstance(look, str):
            unmatched.append(_unmatched(pkg, look))
            continue
        cands = matcher.candidates(look)
        if isinstance(cands, str):
            unmatched.append(_unmatched(pkg, cands))
            continue
        pending.append((pkg, look))
        batches.append(cands)
    hits = matcher.hits(batches)
    matcher.prefetch((look, h) for (_, look), h in zip(pending, hits, strict=True))
    findings: list[Finding] = []
    for (pkg, look), h in zip(pending, hits, strict=True):
        findings += matcher.findings(pkg, look, h)
    if sbom.distro is None and any(p.type in DISTRO_TYPES for p in sbom.packages):
        n = sum(1 for p in sbom.packages if p.type in DISTRO_TYPES)
        warnings.append(
            f"no distro detected: {n} OS package(s) were not matched against distro data"
        )
    findings.sort(key=risk_key)
    unmatched.sort(key=lambda u: (u.name, u.version, u.package_id))
    return ScanResult(
        target=sbom.target,
        distro=sbom.distro,
        namespace=distro_ns,
        db_built_at=store.meta.get("built_at"),
        findings=tuple(findings),
        warnings=tuple(warnings),
        unmatched=tuple(unmatched),
    )


def _unmatched(pkg: Package, reason: str) -> Unmatched:
    return Unmatched(
        package_id=pkg.id, name=pkg.name, version=pkg.version, type=pkg.type, reason=reason
    )


def _support_warnings(store: VulnStore, namespace: str, today: str) -> list[str]:
    out: list[str] = []
    for s in store.support(namespace):
        if s.eol and s.eol[:10] <= today:
            extended = ""
            if s.extended_until and s.extended_until[:10] > today:
                extended = f" (extended support until {s.extended_until[:10]})"
            out.append(
                f"{namespace} reached end of standard security support on {s.eol[:10]}"
                f"{extended}: newer vulnerabilities may be missing from the data"
            )
    return out
