"""Red Hat security data -> normalized ``Advisory``.

Three upstream formats:

* **Security Data API** per-CVE JSON (``/hydra/rest/securitydata/cve/<CVE>.json``; in bulk
  as ``YYYY/CVE-*.json`` in a tar) -> :func:`parse_cve_json`, :func:`iter_cve_archive`.
  Source ``redhat-api``.
* **CSAF 2.0 VEX** per-CVE documents (``/data/csaf/v2/vex/YYYY/cve-*.json``) ->
  :func:`parse_csaf_vex`. Source ``redhat-csaf-vex``.
* ``repository-to-cpe.json`` (content set -> CPEs, for telling which product stream an
  image's repositories belong to) -> :func:`repository_cpes`.

Namespace ``rhel:N`` comes from the CPE (:func:`rhel_namespace`): the RHEL *main stream* of
major release N -- ``cpe:/[ao]:redhat:enterprise_linux:N`` with any variant
(``::appstream``, ``::baseos``, ``::crb``, ``::nfv``...), RHEL Extras
(``rhel_extras*:N``) and ELS (``rhel_els:N``, the continuation of the main stream after its
end of maintenance). Not mapped, so not in the output: minor-release streams
(``rhel_eus``/``rhel_aus``/``rhel_tus``/``rhel_e4s``:N.M, ``enterprise_linux:N.M``), whose
fixes are older builds than the main stream's and would make main-stream packages look
fixed; layered products (OpenShift, JBoss, Satellite, Software Collections...); Red Hat
Linux (``cpe:/o:redhat:linux``). Package = the source RPM name, scheme ``rpm``.

Security Data API mapping:

* ``threat_severity`` -> ``Severity(source="redhat", type="vendor")``; ``cvss3``
  (``cvss3_scoring_vector``, ``cvss3_base_score``) -> ``CVSS_V3`` and ``cvss`` -> ``CVSS_V2``,
  both rated by ``redhat``; an entry's own ``impact`` -> that ``Affected``'s severity.
* ``affected_release[]``: ``package`` is a NEVR without arch (``openssl-1:3.0.7-18.el9_2``)
  -> ``fix_state`` fixed, ``fixed_version`` ``[epoch:]version-release`` (epoch 0 omitted),
  range ``introduced 0 -> fixed``; the RHSA ids go to the advisory's ``related``. A module
  build (``php:7.3-8020020200715124551.ceb1cf90``) names no RPM versions: ``Affected``
  ``package`` = the module name, ``module`` = ``php:7.3``, fixed, no ``fixed_version``,
  ``problem`` says why. Container images (``ubi9/openssl:9.0-25``) and entries without a
  package are skipped; a bare name (``mozilla``, old RHEL 2.1-4 data) is fixed without a
  version, with ``problem``.
* several fixes for one package in one stream (a z-stream fix and the next minor release's
  fix, ``python3.9-0:3.9.18-3.el9_4.5`` then ``python3.9-0:3.9.19-8.el9``): the one with the
  latest ``release_date`` (upstream order on ties) is ``fixed_version``. The parser does not
  compare versions; z-stream-only fixes are therefore not represented (their systems look
  vulnerable until they reach the newest fix).
* ``package_state[]`` ``fix_state``:

  ========================  ==============  ==============================================
  Red Hat                   fix_state       why
  ========================  ==============  ==============================================
  ``Affected``              affected
  ``Fix deferred``          deferred
  ``Will not fix``          will-not-fix
  ``Out of support scope``  will-not-fix    the product is affected, but its life-cycle
                                            phase no longer gets fixes of this severity:
                                            no fix will come, which is will-not-fix
  ``Not affected``          not-affected
  ``Under investigation``   unknown
  ========================  ==============  ==============================================

  ``package_name`` ``mariadb:10.3/mariadb`` -> package ``mariadb``, module ``mariadb:10.3``;
  container names (``quay/quay-rhel8``) are skipped.
* one ``Affected`` per (namespace, package, module); when both lists speak of it, a fix
  wins, then the most severe state (affected > deferred > will-not-fix > unknown >
  not-affected).

CSAF VEX mapping: ``product_status`` ``fixed`` -> fixed (the ``.src`` component's EVR; the
binary components with the same EVR become ``binaries``; the fix with the latest
``vendor_fix`` remediation date wins), ``known_affected`` -> affected unless a remediation
says ``no_fix_planned`` (will-not-fix) or ``none_available`` with ``Fix deferred``
(deferred), ``known_not_affected`` -> not-affected, ``under_investigation`` -> unknown.
Components without a ``.src`` entry are taken by name. ``aggregate_severity`` -> vendor
severity; ``scores[].cvss_v3``/``cvss_v2`` -> CVSS severities; ``threats`` impacts ->
per-``Affected`` severity when a document rates products differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from hullscan.errors import ParseError
from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    FixState,
    ParseIssue,
    RangeEvent,
    Severity,
)
from hullscan.vulndb.build.containers import iter_tar, read_bounded
from hullscan.vulndb.build.feed import MAX_RECORD_BYTES

SOURCE_API = "redhat-api"
SOURCE_VEX = "redhat-csaf-vex"
SCHEME = "rpm"
MAX_DETAILS_CHARS = 4096
_MAX_ERROR = 300

_RHEL_CPE = re.compile(
    r"^cpe:/[ao]:redhat:(?:enterprise_linux|rhel_els|rhel_extras(?:_[a-z_]+)?):(\d+)(?::[^:]*)*$"
)
# name-epoch:version-release
_NEVR = re.compile(
    r"^(?P<name>[^\s/:]+)-(?P<epoch>\d+):(?P<version>[^\s:-]+)-(?P<release>[^\s:-]+)$"
)
# php:7.3-8020020200715124551.ceb1cf90
_MODULE_BUILD = re.compile(
    r"^(?P<name>[^\s/:]+):(?P<stream>[^\s/:]+?)-(?P<mver>\d{10,})\.(?P<ctx>[0-9a-f]+)$"
)
_MODULE_PKG = re.compile(r"^(?P<mod>[^\s/:]+:[^\s/:]+)/(?P<name>[^\s/:]+)$")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][\w.+-]*$")
_CWE = re.compile(r"CWE-\d+")
_RHSA = re.compile(r"^RH[SBE]A-\d{4}:\d+$")
# CSAF components: [module:stream:version:context:]name-epoch:version-release.arch | name[.src]
_CSAF_MODULE_PREFIX = re.compile(r"^(?P<mod>[^\s/:]+:[^\s/:]+):\d+:[0-9a-f]+:(?P<rest>.+)$")
_NEVRA = re.compile(
    r"^(?P<name>[^\s/:]+)-(?P<epoch>\d+):(?P<version>[^\s:-]+)-(?P<release>[^\s:-]+?)"
    r"\.(?P<arch>[A-Za-z0-9_]+)$"
)

PACKAGE_STATES: dict[str, FixState] = {
    "Affected": "affected",
    "Fix deferred": "deferred",
    "Will not fix": "will-not-fix",
    "Out of support scope": "will-not-fix",
    "Not affected": "not-affected",
    "Under investigation": "unknown",
}
# most severe first: which state wins when two statements speak of one package
_PRECEDENCE: dict[str, int] = {
    "fixed": 0,
    "affected": 1,
    "deferred": 2,
    "will-not-fix": 3,
    "unknown": 4,
    "not-affected": 5,
}

# --- helpers ------------------------------------------------------------------------------------


def rhel_namespace(cpe: str) -> str | None:
    """``rhel:9`` for ``cpe:/a:redhat:enterprise_linux:9::appstream``; None for CPEs of
    minor-release streams, layered products and anything else (see the module docstring)."""
    m = _RHEL_CPE.match(cpe.strip())
    return f"rhel:{int(m.group(1))}" if m else None


def evr(epoch: str | None, version: str, release: str) -> str:
    """``[epoch:]version-release``, epoch 0 (or none) omitted."""
    e = (epoch or "").strip()
    return f"{version}-{release}" if e in ("", "0") else f"{int(e)}:{version}-{release}"


def _issue(source: str, item: str, error: str) -> ParseIssue:
    return ParseIssue(source=source, item=item[:200], error=error[:_MAX_ERROR])


def _text(value: object, limit: int = MAX_DETAILS_CHARS) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            f = float(value)
        except ValueError:
            return None
        return f if 0.0 <= f <= 10.0 else None
    return None


def _cvss(kind: str, vector: object, score: object) -> Severity | None:
    if not isinstance(vector, str) or not vector.strip() or len(vector) > 256:
        return None
    return Severity(source="redhat", type=kind, vector=vector.strip(), score=_float(score))


def _vendor(rating: object) -> Severity | None:
    if not isinstance(rating, str) or not rating.strip() or len(rating) > 64:
        return None
    return Severity(source="redhat", type="vendor", rating=rating.strip())


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _add(lst: list[str], values: Iterable[str]) -> None:
    for v in values:
        if v not in lst:
            lst.append(v)


class _Slot:
    """What the data says about one (namespace, package, module)."""

    __slots__ = ("binaries", "fix", "fix_key", "problem", "severity", "state")

    def __init__(self) -> None:
        self.state: FixState | None = None
        self.fix: str | None = None
        self.fix_key: tuple[str, int] = ("", -1)
        self.problem: str | None = None
        self.severity: Severity | None = None
        self.binaries: list[str] = []

    def fixed(self, version: str | None, key: tuple[str, int], problem: str | None) -> None:
        """A fix statement; among several, one with a version wins, then the latest."""
        if self.state != "fixed":
            replace = True
        elif version is None:
            replace = self.fix is None and key >= self.fix_key
        else:
            replace = self.fix is None or key >= self.fix_key
        if replace:
            self.fix, self.fix_key, self.problem = version, key, problem
        self.state = "fixed"

    def other(self, state: FixState) -> None:
        if self.state is None or _PRECEDENCE[state] < _PRECEDENCE[self.state]:
            self.state = state


def _affected(slots: dict[tuple[str, str, str | None], _Slot]) -> tuple[Affected, ...]:
    out: list[Affected] = []
    for (namespace, package, module), s in slots.items():
        state = s.state or "unknown"
        fixed = state == "fixed" and s.fix is not None
        out.append(
            Affected(
                namespace=namespace,
                package=package,
                scheme=SCHEME,
                fix_state=state,
                fixed_version=s.fix if fixed else None,
                ranges=(
                    (
                        AffectedRange(
                            events=(RangeEvent("introduced", "0"), RangeEvent("fixed", s.fix))
                        ),
                    )
                    if fixed and s.fix is not None
                    else ()
                ),
                severity=s.severity,
                module=module,
                binaries=tuple(s.binaries),
                problem=s.problem if state == "fixed" else None,
            )
        )
    return tuple(out)


# --- Security Data API ------------------------------------------------------------------------


def _api_fixed(
    entry: dict[str, Any], order: int, slots: dict[tuple[str, str, str | None], _Slot]
) -> str | None:
    """One ``affected_release`` entry into ``slots``; returns its RHSA id (or None)."""
    cpe, package = entry.get("cpe"), entry.get("package")
    advisory = entry.get("advisory")
    rhsa = advisory.strip() if isinstance(advisory, str) and _RHSA.match(advisory.strip()) else None
    if not isinstance(cpe, str) or not isinstance(package, str) or not package.strip():
        return rhsa
    namespace = rhel_namespace(cpe)
    if namespace is None:
        return rhsa
    package = package.strip()
    date = entry.get("release_date")
    key = (date if isinstance(date, str) else "", order)
    severity = _vendor(entry.get("impact"))
    m = _NEVR.match(package)
    if m is not None:
        slot = slots.setdefault((namespace, m.group("name"), None), _Slot())
        slot.fixed(evr(m.group("epoch"), m.group("version"), m.group("release")), key, None)
    elif (mb := _MODULE_BUILD.match(package)) is not None:
        module = f"{mb.group('name')}:{mb.group('stream')}"
        slot = slots.setdefault((namespace, mb.group("name"), module), _Slot())
        slot.fixed(
            None,
            key,
            f"fixed by module build {package}{f' ({rhsa})' if rhsa else ''}; "
            "this feed names no RPM versions",
        )
    elif _PLAIN_NAME.match(package) and "/" not in package:
        slot = slots.setdefault((namespace, package, None), _Slot())
        slot.fixed(None, key, f"fixed{f' by {rhsa}' if rhsa else ''}; this feed names no version")
    else:
        return rhsa  # container images (ubi9/openssl:9.0-25) and other non-RPM names
    if severity is not None:
        slot.severity = severity
    return rhsa


def _api_state(entry: dict[str, Any], slots: dict[tuple[str, str, str | None], _Slot]) -> None:
    cpe, name, state = entry.get("cpe"), entry.get("package_name"), entry.get("fix_state")
    if not isinstance(cpe, str) or not isinstance(name, str) or not isinstance(state, str):
        return
    namespace = rhel_namespace(cpe)
    mapped = PACKAGE_STATES.get(state.strip())
    if namespace is None or mapped is None:
        return
    name = name.strip()
    module: str | None = None
    m = _MODULE_PKG.match(name)
    if m is not None:
        module, name = m.group("mod"), m.group("name")
    elif not _PLAIN_NAME.match(name):
        return  # container repositories (quay/quay-rhel8)
    slot = slots.setdefault((namespace, name, module), _Slot())
    slot.other(mapped)
    severity = _vendor(entry.get("impact"))
    if severity is not None and slot.severity is None:
        slot.severity = severity


def _references(value: object) -> list[str]:
    out: list[str] = []
    if isinstance(value, list):
        for v in value:
            if isinstance(v, str):
                _add(out, (u.strip() for u in v.split() if u.startswith(("http://", "https://"))))
    return out


def _api_record(doc: dict[str, Any], item: str) -> Advisory | ParseIssue:
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        return _issue(SOURCE_API, item, "record without a name (CVE id)")
    severities: list[Severity] = []
    vendor = _vendor(doc.get("threat_severity"))
    if vendor is not None:
        severities.append(vendor)
    cvss3 = doc.get("cvss3")
    if isinstance(cvss3, dict):
        s = _cvss("CVSS_V3", cvss3.get("cvss3_scoring_vector"), cvss3.get("cvss3_base_score"))
        if s is not None:
            severities.append(s)
    cvss2 = doc.get("cvss")
    if isinstance(cvss2, dict):
        s = _cvss("CVSS_V2", cvss2.get("cvss_scoring_vector"), cvss2.get("cvss_base_score"))
        if s is not None:
            severities.append(s)
    slots: dict[tuple[str, str, str | None], _Slot] = {}
    related: list[str] = []
    releases = doc.get("affected_release")
    if isinstance(releases, list):
        for order, entry in enumerate(releases):
            if isinstance(entry, dict):
                rhsa = _api_fixed(entry, order, slots)
                if rhsa and rhsa not in related:
                    related.append(rhsa)
    states = doc.get("package_state")
    if isinstance(states, list):
        for entry in states:
            if isinstance(entry, dict):
                _api_state(entry, slots)
    details = doc.get("details")
    if isinstance(details, list):
        details = "\n\n".join(d.strip() for d in details if isinstance(d, str) and d.strip())
    bugzilla = doc.get("bugzilla")
    summary = bugzilla.get("description") if isinstance(bugzilla, dict) else None
    cwe = doc.get("cwe")
    published = doc.get("public_date")
    return Advisory(
        id=name.strip(),
        source=SOURCE_API,
        related=tuple(related),
        summary=_text(summary, 1024),
        details=_text(details),
        published=published if isinstance(published, str) and published.strip() else None,
        severities=tuple(severities),
        references=tuple(_references(doc.get("references"))),
        cwes=tuple(dict.fromkeys(_CWE.findall(cwe))) if isinstance(cwe, str) else (),
        affected=_affected(slots),
    )


def parse_cve_json(data: bytes, *, item: str) -> Iterator[Advisory | ParseIssue]:
    """One Security Data API CVE document -> one ``Advisory`` (or one ``ParseIssue``)."""
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        yield _issue(SOURCE_API, item, f"not JSON: {exc}")
        return
    if not isinstance(doc, dict):
        yield _issue(SOURCE_API, item, "top level is not an object")
        return
    yield _api_record(doc, item)


def iter_cve_archive(path: Path) -> Iterator[Advisory | ParseIssue]:
    """Every ``CVE-*.json`` of a tar (``.tar``, ``.tar.zst``, ``.tar.gz``) of the API's
    per-CVE documents, in archive order. A corrupt archive raises ``ParseError``."""
    for member in iter_tar(path, suffixes=(".json",), source=SOURCE_API):
        if isinstance(member, ParseIssue):
            yield member
            continue
        name, data = member
        if not name.rpartition("/")[2].startswith("CVE-"):
            continue
        yield from parse_cve_json(data, item=name)


# --- CSAF VEX ---------------------------------------------------------------------------------


class _Component(msgspec.Struct, frozen=True):
    name: str
    evr: str | None
    arch: str | None
    module: str | None


def _component(ref: str, purl: str | None) -> _Component | None:
    text = ref.strip()
    module: str | None = None
    mp = _CSAF_MODULE_PREFIX.match(text)
    if mp is not None:
        module, text = mp.group("mod"), mp.group("rest")
    m = _NEVRA.match(text)
    if m is not None:
        return _Component(
            m.group("name"),
            evr(m.group("epoch"), m.group("version"), m.group("release")),
            m.group("arch"),
            module,
        )
    mm = _MODULE_PKG.match(text)
    if mm is not None:
        module, text = mm.group("mod"), mm.group("name")
    arch: str | None = None
    if text.endswith(".src"):
        text, arch = text[:-4], "src"
    if purl is not None and not purl.startswith("pkg:rpm/"):
        return None  # containers (pkg:oci), Maven artifacts...: not RPMs
    if not _PLAIN_NAME.match(text):
        return None
    return _Component(text, None, arch, module)


def _walk_products(
    branches: object, cpes: dict[str, str], purls: dict[str, str], depth: int = 0
) -> None:
    if not isinstance(branches, list) or depth > 32:
        return
    for b in branches:
        if not isinstance(b, dict):
            continue
        product = b.get("product")
        if isinstance(product, dict):
            pid = product.get("product_id")
            helper = product.get("product_identification_helper")
            if isinstance(pid, str) and isinstance(helper, dict):
                cpe, purl = helper.get("cpe"), helper.get("purl")
                if isinstance(cpe, str):
                    cpes[pid] = cpe
                if isinstance(purl, str):
                    purls[pid] = purl
        _walk_products(b.get("branches"), cpes, purls, depth + 1)


def _remediation_states(
    remediations: object,
) -> tuple[dict[str, FixState], dict[str, tuple[str, str | None]]]:
    """(product id -> state for known_affected, product id -> (date, RHSA) for fixed)."""
    states: dict[str, FixState] = {}
    fixes: dict[str, tuple[str, str | None]] = {}
    if not isinstance(remediations, list):
        return states, fixes
    for r in remediations:
        if not isinstance(r, dict) or not isinstance(r.get("product_ids"), list):
            continue
        category = r.get("category")
        details = r.get("details") if isinstance(r.get("details"), str) else ""
        state: FixState | None = None
        if category == "no_fix_planned":
            state = "will-not-fix"
        elif category == "none_available":
            state = "deferred" if "deferred" in str(details).lower() else "affected"
        date = r.get("date") if isinstance(r.get("date"), str) else ""
        url = r.get("url") if isinstance(r.get("url"), str) else ""
        rhsa = str(url).rpartition("/")[2] if "errata/" in str(url) else None
        for pid in r["product_ids"]:
            if not isinstance(pid, str):
                continue
            if state is not None:
                states[pid] = state
            elif category == "vendor_fix" and str(date) >= fixes.get(pid, ("", None))[0]:
                fixes[pid] = (str(date), rhsa)
    return states, fixes


def _vex_vulnerability(
    vuln: dict[str, Any],
    doc: dict[str, Any],
    cpes: dict[str, str],
    purls: dict[str, str],
    relations: dict[str, tuple[str, str]],
    item: str,
) -> Advisory | ParseIssue:
    cve = vuln.get("cve")
    if not isinstance(cve, str) or not cve.strip() or len(cve) > 64:
        return _issue(SOURCE_VEX, item, "vulnerability without a cve")
    states, fixes = _remediation_states(vuln.get("remediations"))
    impacts: dict[str, str] = {}
    threats = vuln.get("threats")
    if isinstance(threats, list):
        for t in threats:
            if isinstance(t, dict) and t.get("category") == "impact":
                pids, rating = t.get("product_ids"), t.get("details")
                if isinstance(pids, list) and isinstance(rating, str):
                    impacts.update((p, rating) for p in pids if isinstance(p, str))
    per_product_impact = len(set(impacts.values())) > 1

    # (namespace, status, product ref) -> components
    groups: dict[tuple[str, str, str], list[tuple[str, _Component]]] = {}
    status = vuln.get("product_status")
    if isinstance(status, dict):
        for key in ("fixed", "known_affected", "known_not_affected", "under_investigation"):
            pids = status.get(key)
            if not isinstance(pids, list):
                continue
            for pid in pids:
                rel = relations.get(pid) if isinstance(pid, str) else None
                if rel is None:
                    continue
                component_ref, product_ref = rel
                namespace = rhel_namespace(cpes.get(product_ref, ""))
                if namespace is None:
                    continue
                comp = _component(component_ref, purls.get(component_ref))
                if comp is not None:
                    groups.setdefault((namespace, key, product_ref), []).append((pid, comp))

    slots: dict[tuple[str, str, str | None], _Slot] = {}
    related: list[str] = []
    for (namespace, key, _product), members in groups.items():
        sources = [(pid, c) for pid, c in members if c.arch == "src"]
        chosen = sources or members
        for pid, c in chosen:
            slot = slots.setdefault((namespace, c.name, c.module), _Slot())
            if key == "fixed":
                date, rhsa = fixes.get(pid, ("", None))
                if rhsa and rhsa not in related:
                    related.append(rhsa)
                if c.evr is None:
                    slot.fixed(None, (date, 0), "fixed; this document names no version")
                else:
                    slot.fixed(c.evr, (date, 0), None)
            elif key == "known_affected":
                slot.other(states.get(pid, "affected"))
            elif key == "known_not_affected":
                slot.other("not-affected")
            else:
                slot.other("unknown")
            if per_product_impact and pid in impacts and slot.severity is None:
                slot.severity = _vendor(impacts[pid])
            if sources and (len(sources) == 1 or c.evr is not None):
                binaries = [
                    b.name
                    for _, b in members
                    if b.arch != "src" and b.evr == c.evr and b.module == c.module
                ]
                _add(slot.binaries, binaries)

    severities: list[Severity] = []
    document = _dict(doc.get("document"))
    aggregate = document.get("aggregate_severity")
    vendor = _vendor(aggregate.get("text") if isinstance(aggregate, dict) else None)
    if vendor is not None:
        severities.append(vendor)
    scores = vuln.get("scores")
    if isinstance(scores, list):
        for kind, field in (("CVSS_V3", "cvss_v3"), ("CVSS_V2", "cvss_v2")):
            for sc in scores:
                body = sc.get(field) if isinstance(sc, dict) else None
                if isinstance(body, dict):
                    s = _cvss(kind, body.get("vectorString"), body.get("baseScore"))
                    if s is not None:
                        severities.append(s)
                        break
    details = summary = None
    notes = vuln.get("notes")
    if isinstance(notes, list):
        for n in notes:
            if isinstance(n, dict) and n.get("category") == "description" and details is None:
                details = _text(n.get("text"))
            if isinstance(n, dict) and n.get("category") == "summary" and summary is None:
                summary = _text(n.get("text"), 1024)
    if summary is None:
        summary = _text(vuln.get("title"), 1024)
    cwe = vuln.get("cwe")
    cwe_id = cwe.get("id") if isinstance(cwe, dict) else None
    refs: list[str] = []
    if isinstance(vuln.get("references"), list):
        for r in vuln["references"]:
            url = r.get("url") if isinstance(r, dict) else None
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                _add(refs, [url])
    tracking = _dict(document.get("tracking"))
    published = vuln.get("release_date") or tracking.get("initial_release_date")
    modified = tracking.get("current_release_date")
    return Advisory(
        id=cve.strip(),
        source=SOURCE_VEX,
        related=tuple(related),
        summary=summary,
        details=details,
        published=published if isinstance(published, str) else None,
        modified=modified if isinstance(modified, str) else None,
        severities=tuple(severities),
        references=tuple(refs),
        cwes=(cwe_id,) if isinstance(cwe_id, str) and _CWE.fullmatch(cwe_id) else (),
        affected=_affected(slots),
    )


def parse_csaf_vex(data: bytes, *, item: str) -> Iterator[Advisory | ParseIssue]:
    """One Red Hat CSAF VEX document -> one ``Advisory`` per vulnerability in it."""
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        yield _issue(SOURCE_VEX, item, f"not JSON: {exc}")
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        yield _issue(SOURCE_VEX, item, "not a CSAF document (no vulnerabilities list)")
        return
    tree = _dict(doc.get("product_tree"))
    cpes: dict[str, str] = {}
    purls: dict[str, str] = {}
    _walk_products(tree.get("branches"), cpes, purls)
    relations: dict[str, tuple[str, str]] = {}
    rels = tree.get("relationships")
    if isinstance(rels, list):
        for r in rels:
            if not isinstance(r, dict):
                continue
            full = r.get("full_product_name")
            pid = full.get("product_id") if isinstance(full, dict) else None
            comp, prod = r.get("product_reference"), r.get("relates_to_product_reference")
            if isinstance(pid, str) and isinstance(comp, str) and isinstance(prod, str):
                relations[pid] = (comp, prod)
    for n, vuln in enumerate(doc["vulnerabilities"]):
        if not isinstance(vuln, dict):
            yield _issue(SOURCE_VEX, f"{item}: vulnerabilities[{n}]", "not an object")
            continue
        yield _vex_vulnerability(vuln, doc, cpes, purls, relations, item)


def read(path: Path, source: str | None = None) -> Iterator[Advisory | ParseIssue]:
    """The builder's reader signature: a tar of API documents, or one ``.json`` (a CSAF
    document when it has a ``document`` object, else an API document). ``source``, when
    given, replaces the records' ``source`` (``redhat-api``/``redhat-csaf-vex``)."""
    if ".tar" in path.name:
        records: Iterator[Advisory | ParseIssue] = iter_cve_archive(path)
    else:
        data = read_bounded(path, MAX_RECORD_BYTES)
        head = data[:4096]
        csaf = b'"document"' in head and b'"csaf_version"' in data[:65536]
        records = (parse_csaf_vex if csaf else parse_cve_json)(data, item=path.name)
    for r in records:
        if source and isinstance(r, Advisory) and r.source != source:
            r = msgspec.structs.replace(r, source=source)
        yield r


# --- repository-to-cpe ------------------------------------------------------------------------


def repository_cpes(data: bytes) -> dict[str, list[str]]:
    """``repository-to-cpe.json`` -> ``{repository (content set): [CPE, ...]}``.

    Raises ``ParseError`` when the document is not the expected ``{"data": {...}}`` object;
    entries of another shape are skipped.
    """
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"repository-to-cpe: not JSON: {exc}") from None
    body = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(body, dict):
        raise ParseError("repository-to-cpe: no 'data' object")
    out: dict[str, list[str]] = {}
    for repo, entry in body.items():
        cpes = entry.get("cpes") if isinstance(entry, dict) else None
        if isinstance(cpes, list):
            out[repo] = [c for c in cpes if isinstance(c, str)]
    return out
