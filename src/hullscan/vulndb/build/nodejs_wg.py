"""Node.js Security WG advisories (nodejs/security-wg ``vuln/``), JSON.

Three kinds, by directory (each also has an ``index.json`` repeating every record; skipped):

* ``vuln/npm/<n>.json`` (467): the legacy npm ecosystem reports (the ``NSWG-ECO-<n>`` ids of
  the WG; today GHSA carries them). Keys ``module_name``, ``cves``, ``vulnerable_versions``,
  ``patched_versions`` (node-semver ranges), ``title``, ``overview``, ``recommendation``,
  ``references``, ``cvss_vector``/``cvss_score``, ``publish_date``, ``updated_at``. Namespace
  ``npm``, package ``module_name`` as written. The affected versions are
  ``vulnerable_versions`` (what ``npm audit`` matched on); ``patched_versions`` only supplies
  ``fixed_version`` when no range has a ``fixed`` event (``<=1.5.1`` / ``>=1.5.2``).
  ``<=99.999.99999`` (the WG's "every version, no fix") is kept literally.
* ``vuln/core/<n>.json`` (171): Node.js itself (id ``NSWG-CORE-<n>``). ``vulnerable`` is a
  list of release lines (``8.x || 7.x``) and ``patched`` the fixed releases per line
  (``^8.1.4 || ^7.10.1``); affected = vulnerable minus patched. ``severity`` becomes a
  ``vendor`` rating.
* ``vuln/deps/<n>.json`` (6): statements that CVEs of bundled dependencies (OpenSSL, V8,
  zlib) do **not** affect Node.js (id ``NSWG-DEPS-<n>``, ``fix_state`` ``not-affected``, no
  ranges: every version), with the reason in ``details``.

Node.js itself goes to namespace ``binary``, package ``node``, scheme ``npm`` (Node.js versions
are SemVer): the namespace for programs found in an image outside any package manager (the
official ``node`` images install it from a tarball). Distro ``nodejs`` packages are covered by
the distro feeds, not by these records.

Ranges: a node-semver range is read exactly as node-semver reads it
(``hullscan.versions.npm.parse_range``: ``^``, ``~``, x-ranges, hyphen ranges) and turned into
intervals (see ``_native``), type ``SEMVER``. One deliberate difference: node-semver never
lets a pre-release (``2.0.0-beta``) satisfy a range unless a comparator names a pre-release of
the same ``major.minor.patch``; interval ranges contain pre-releases. So pre-releases inside an
affected interval are reported affected (over-reporting, never missing). Ranges that start
*after* a version (``>1.2.3``) cannot be written as events: they are left out and named in
``problem``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec

from hullscan.model.advisory import Advisory, Affected, FixState, ParseIssue, Severity
from hullscan.model.namespaces import normalize_package
from hullscan.versions import VersionParseError
from hullscan.versions.npm import parse_range
from hullscan.vulndb.build import _native
from hullscan.vulndb.build._native import Interval
from hullscan.vulndb.build.containers import iter_zip
from hullscan.vulndb.cvss import parse_or_error

SOURCE = "nodejs-security-wg"
SCHEME = "npm"
NODE_NAMESPACE = "binary"
NODE_PACKAGE = "node"

_decoder = msgspec.json.Decoder()


def range_set(range_: str) -> list[Interval]:
    """The versions of a node-semver range as sorted, disjoint intervals (pre-release rule
    aside, see the module doc). Raises ``VersionParseError`` for an invalid range."""
    cmp = _native.comparator(SCHEME)
    out: list[Interval] = []
    for comparators in parse_range(range_):
        s: list[Interval] = list(_native.EVERYTHING)
        for c in comparators:
            if c.semver is None:
                continue
            v = c.semver.version
            op = c.operator
            if op == "":
                iv = Interval(v, True, v, True)
            elif op == "<":
                iv = Interval(None, True, v, False)
            elif op == "<=":
                iv = Interval(None, True, v, True)
            elif op == ">":
                iv = Interval(v, False)
            else:  # ">="
                iv = Interval(v, True)
            s = _native.intersect_sets(s, [iv], cmp)
        out.extend(s)
    return _native.union(out, cmp)


def affected_for(
    namespace: str, package: str, vulnerable: object, patched: object, *, subtract: bool
) -> Affected:
    """``vulnerable`` (minus ``patched`` when ``subtract``) as ranges."""
    cmp = _native.comparator(SCHEME)
    problems: list[str] = []
    if not isinstance(vulnerable, str):
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            problem="no vulnerable version range",
        )
    safe: list[Interval] = []
    try:
        affected = range_set(vulnerable)
        if isinstance(patched, str) and patched.strip():
            safe = range_set(patched)
            if subtract:
                affected = _native.difference(affected, safe, cmp)
    except VersionParseError as exc:
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            problem=f"unreadable range: {exc}; vulnerable {vulnerable!r}, patched {patched!r}",
        )
    ranges, inexpressible = _native.to_ranges(affected, "SEMVER")
    if inexpressible:
        problems.append(
            f"affected versions {_native.describe(inexpressible)} start after a version "
            f"(exclusive), which range events cannot say; vulnerable {vulnerable!r}"
        )
    # "fixed 6.0.0-0" is node-semver's upper bound of "5.x", not a release that fixes it.
    real = [r for r in ranges if not any(e.version.endswith("-0") for e in r.events[1:])]
    fixed = _native.highest_fixed(real, cmp)
    if fixed is None and safe and safe[-1].hi is None and safe[-1].lo and safe[-1].lo_incl:
        fixed = safe[-1].lo  # ">=1.5.2" next to "<=1.5.1"
    state: FixState = "fixed" if fixed else "affected" if ranges else "unknown"
    if not affected and not inexpressible:
        state = "not-affected"
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        fix_state=state,
        fixed_version=fixed,
        ranges=ranges,
        problem="; ".join(problems) if problems else None,
    )


def _str(v: object) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _strs(v: object) -> list[str]:
    return [x.strip() for x in v if isinstance(x, str) and x.strip()] if isinstance(v, list) else []


def _cvss(source: str, vector: object) -> Severity | None:
    if not isinstance(vector, str) or not vector.strip():
        return None
    r = parse_or_error(vector)
    if isinstance(r, str):
        return None
    return Severity(
        source=source, type=r.type, vector=vector.strip(), score=r.score, rating=r.rating
    )


def _npm(doc: dict[str, object], num: str, source: str) -> Advisory | ParseIssue:
    module = _str(doc.get("module_name"))
    if module is None:
        return ParseIssue(source=source, item=f"npm/{num}.json", error="no module_name")
    package = normalize_package("npm", module)
    sev = _cvss(source, doc.get("cvss_vector"))
    details = _str(doc.get("overview"))
    rec = _str(doc.get("recommendation"))
    if rec:
        details = f"{details}\n\nRecommendation: {rec}" if details else rec
    return Advisory(
        id=f"NSWG-ECO-{num}",
        source=source,
        aliases=tuple(dict.fromkeys(_strs(doc.get("cves")))),
        summary=_str(doc.get("title")),
        details=details,
        published=_native.rfc3339(doc.get("publish_date")),
        modified=_native.rfc3339(doc.get("updated_at")),
        severities=(sev,) if sev else (),
        references=tuple(dict.fromkeys(_strs(doc.get("references")))),
        affected=(
            affected_for(
                "npm",
                package,
                doc.get("vulnerable_versions"),
                doc.get("patched_versions"),
                subtract=False,
            ),
        ),
    )


def _core(doc: dict[str, object], num: str, source: str) -> Advisory:
    severities = []
    rating = _str(doc.get("severity"))
    if rating and rating.lower() != "unknown":
        severities.append(Severity(source=source, type="vendor", rating=rating.lower()))
    if sev := _cvss(source, doc.get("cvss")):
        severities.append(sev)
    ref = _str(doc.get("ref"))
    return Advisory(
        id=f"NSWG-CORE-{num}",
        source=source,
        aliases=tuple(dict.fromkeys(_strs(doc.get("cve")))),
        summary=_str(doc.get("description")),
        details=_str(doc.get("overview")),
        published=_native.rfc3339(doc.get("publish_date")),
        severities=tuple(severities),
        references=(ref,) if ref else (),
        affected=(
            affected_for(
                NODE_NAMESPACE,
                NODE_PACKAGE,
                doc.get("vulnerable"),
                doc.get("patched"),
                subtract=True,
            ),
        ),
    )


def _deps(doc: dict[str, object], num: str, source: str) -> Advisory:
    ref = _str(doc.get("ref"))
    overview, reason = _str(doc.get("overview")), _str(doc.get("reason"))
    details = f"{overview}\n\nReason: {reason}" if overview and reason else overview or reason
    return Advisory(
        id=f"NSWG-DEPS-{num}",
        source=source,
        aliases=tuple(dict.fromkeys(_strs(doc.get("cve")))),
        summary=_str(doc.get("description")),
        details=details,
        references=(ref,) if ref else (),
        affected=(
            Affected(
                namespace=NODE_NAMESPACE,
                package=NODE_PACKAGE,
                scheme=SCHEME,
                fix_state="not-affected",
            ),
        ),
    )


def parse_advisory(data: bytes, name: str, source: str = SOURCE) -> Advisory | ParseIssue:
    """One ``vuln/{npm,core,deps}/<n>.json`` file (``name`` is its path)."""
    parts = name.split("/")
    kind, num = (parts[-2] if len(parts) > 1 else ""), parts[-1].removesuffix(".json")
    try:
        doc = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        return ParseIssue(source=source, item=name, error=f"invalid JSON: {exc}")
    if not isinstance(doc, dict):
        return ParseIssue(source=source, item=name, error="not a JSON object")
    if kind == "npm":
        return _npm(doc, num, source)
    if kind == "core":
        return _core(doc, num, source)
    if kind == "deps":
        return _deps(doc, num, source)
    return ParseIssue(source=source, item=name, error=f"unknown advisory kind {kind!r}")


def iter_advisories(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """Every advisory of a zip of the repository's ``vuln/`` tree."""
    for item in iter_zip(path, suffixes=(".json",), source=source):
        if isinstance(item, ParseIssue):
            yield item
            continue
        name, data = item
        parts = name.split("/")
        if parts[-1] == "index.json" or len(parts) < 2 or parts[-2] not in ("npm", "core", "deps"):
            continue
        yield parse_advisory(data, name, source)


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """Builder entry point (``SourceSpec.read``)."""
    return iter_advisories(path, source)
