"""OSV schema 1.x records (JSON and the YAML form) -> normalized ``Advisory``.

One OSV record gives exactly one item: an ``Advisory`` or, when the record cannot be used, a
``ParseIssue`` (never an exception). Used for osv.dev's per-ecosystem ``all.zip`` bundles, the
GitHub advisory database, golang/vulndb, RustSec, AlmaLinux, Rocky, Ubuntu, Chainguard,
OpenSSF malicious-packages and the PyPA advisory database (YAML).

Mapping (OSV -> model):

* every ``affected[]`` entry whose ecosystem ``osv_namespace`` knows gives one ``Affected``
  (package name through ``normalize_package``). Entries without a package (the GIT-only
  entries of osv.dev's combined CVE records, MANIFEST caveat 6) are skipped; so are entries
  in ecosystems we have no namespace for (``SwiftURL``, ``kubernetes``...). A record left with
  no usable entry is a ``ParseIssue`` -- unless it had package-less entries (it is then a
  valid record that says nothing about packages: an ``Advisory`` with no ``affected``) or it
  is withdrawn (kept so the builder can retract older copies).
* ranges (``ECOSYSTEM``/``SEMVER``/``GIT``) keep their events in upstream order; GIT ranges
  keep their ``repo`` (the matcher ignores them for packages). ``versions`` is kept.
  ``fix_state`` is ``fixed`` when some range has a ``fixed`` event, ``affected`` when there
  are ranges but no fix, ``unknown`` otherwise (a ``versions`` list only, as in MAL- records).
  ``fixed_version`` is the fixed version when the non-GIT ranges name exactly one; with
  several different ones (``4.3`` and ``5.2``) it is None and the matcher reads the ranges.
* per-package ratings: Debian ``ecosystem_specific.urgency`` (``not yet assigned`` is not a
  rating and is dropped), an Ubuntu per-package ``priority`` if present, else the entry's own
  ``severity[]`` (Kubernetes puts its CVSS there). Ubuntu ``ecosystem_specific.binaries`` ->
  ``binaries``. Rocky/Alma: an entry whose versions are modular builds (``.module+el8``,
  ``.module_el8``) gets ``module`` = the ``name:stream`` its advisory's summary names
  (``Important: container-tools:rhel8 security update``) when the summary names exactly one
  stream; the OSV data has no per-package stream field.
* record ``severity[]``: ``CVSS_V2``/``V3``/``V4`` with the base score computed from the
  vector (:mod:`hullscan.vulndb.cvss`), rated by the record's origin (``ghsa`` for GHSA-,
  ``go``, ``rustsec``, ``pysec``, ``ubuntu``, ``debian``... by id prefix; ``osv`` when the
  prefix says nothing, e.g. osv.dev's CVE- conversions); type ``Ubuntu`` -> a vendor rating
  by ``ubuntu``; GHSA ``database_specific.severity`` (``HIGH``) -> vendor rating ``high``.
* zero timestamps (``0001-01-01T00:00:00Z``, golang/vulndb, caveat 4) -> None; ``details``
  is cut to 4 KiB of UTF-8, ``summary`` to 1 KiB; ``malicious`` = ``MAL-`` id;
  ``database_specific.malicious-packages-origins`` and ``iocs`` are not kept.

Withdrawn: only the ``withdrawn`` field counts here. The vuls-mirrored bundles dropped it
(caveat 1); :func:`looks_withdrawn` recognizes the textual markers such records keep, for a
builder that decides to act on them. Pure: no I/O except :func:`iter_osv_container`, which
reads the container it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import yaml

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    EventKind,
    FixState,
    ParseIssue,
    RangeEvent,
    RangeType,
    Severity,
)
from hullscan.model.namespaces import normalize_package, osv_namespace
from hullscan.vulndb.build.containers import iter_tar, iter_zip
from hullscan.vulndb.cvss import base_score

MAX_DETAILS_BYTES = 4096
MAX_SUMMARY_BYTES = 1024
MAX_ID_CHARS = 256
MAX_NAME_CHARS = 1024  # package names, versions, vectors: longer is not a real value
_MAX_ERROR = 300

# --- lenient msgspec view of the OSV schema --------------------------------------------------
# Schema-defined fields are typed (a wrong type makes the record a ParseIssue); free-form maps
# (``database_specific``, ``ecosystem_specific``) are read key by key as ``Any`` and checked
# here, so an unexpected shape there never rejects a record. Unknown keys are ignored.


class _Event(msgspec.Struct):
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class _Range(msgspec.Struct):
    type: str | None = None
    repo: str | None = None
    events: list[_Event] | None = None


class _Package(msgspec.Struct):
    ecosystem: str | None = None
    name: str | None = None


class _Severity(msgspec.Struct):
    type: str | None = None
    score: str | None = None


class _EcosystemSpecific(msgspec.Struct):
    urgency: Any = None  # Debian
    binaries: Any = None  # Ubuntu
    priority: Any = None  # Ubuntu (per package, when given)


class _AffectedDbSpecific(msgspec.Struct):
    urgency: Any = None
    priority: Any = None
    cwes: Any = None  # OpenSSF malicious-packages: [{"cweId": "CWE-506", ...}]


class _Affected(msgspec.Struct):
    package: _Package | None = None
    ranges: list[_Range] | None = None
    versions: list[str] | None = None
    severity: list[_Severity] | None = None
    ecosystem_specific: _EcosystemSpecific | None = None
    database_specific: _AffectedDbSpecific | None = None


class _Reference(msgspec.Struct):
    url: str | None = None


class _DbSpecific(msgspec.Struct):
    severity: Any = None  # GHSA "HIGH"
    cwe_ids: Any = None  # GHSA ["CWE-79"]


class _Record(msgspec.Struct):
    id: str
    modified: str | None = None
    published: str | None = None
    withdrawn: str | None = None
    aliases: list[str] | None = None
    upstream: list[str] | None = None
    related: list[str] | None = None
    summary: str | None = None
    details: str | None = None
    severity: list[_Severity] | None = None
    affected: list[_Affected] | None = None
    references: list[_Reference] | None = None
    database_specific: _DbSpecific | None = None


_JSON_DECODER = msgspec.json.Decoder(_Record)

# --- YAML: the JSON data model only ----------------------------------------------------------


try:
    from yaml import CSafeLoader as _SafeLoader  # libyaml: ~10x faster
except ImportError:  # pragma: no cover (PyYAML built without libyaml)
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _OsvYamlLoader(_SafeLoader):
    """``SafeLoader`` that keeps every plain scalar a string except ``null``.

    YAML 1.1 would turn ``fixed: 4.10`` into the float 4.1, ``name: no`` into False and an
    unquoted date into a datetime: all wrong for version strings and package names. Anchors
    and aliases are refused (OSV never needs them; shared nodes let a small file expand into
    a huge object graph).
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases are not accepted", node.start_mark
            )
        return super().construct_object(node, deep)


_OsvYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# --- helpers ------------------------------------------------------------------------------------

_ORIGINS: dict[str, str] = {
    "GHSA": "ghsa",
    "GO": "go",
    "RUSTSEC": "rustsec",
    "PYSEC": "pysec",
    "MAL": "ossf-malicious-packages",
    "UBUNTU": "ubuntu",
    "USN": "ubuntu",
    "DSA": "debian",
    "DLA": "debian",
    "DTSA": "debian",
    "DEBIAN": "debian",
    "RLSA": "rocky",
    "RXSA": "rocky",
    "ALSA": "almalinux",
    "ALBA": "almalinux",
    "ALEA": "almalinux",
    "CGA": "chainguard",
    "ALPINE": "alpine",
}
_CVSS_TYPES = frozenset({"CVSS_V2", "CVSS_V3", "CVSS_V4"})
_RANGE_TYPES: frozenset[str] = frozenset({"ECOSYSTEM", "SEMVER", "GIT"})
_RPM_MODULAR_PREFIXES = frozenset({"rocky", "alma", "rhel"})
_MODULAR_BUILD = re.compile(r"\.module[+_]el")
# "container-tools:rhel8", "python27:2.7", "httpd:2.4/mod_http2" -> name:stream
_MODULE_STREAM = re.compile(r"(?<![\w.+-])([A-Za-z0-9][\w.+-]*:[\w.+-]*\w)(?=[\s,/]|$)")
_SUMMARY_RATING = re.compile(r"^(?:Critical|Important|Moderate|Low): ")
_URGENCY_NOT_RATINGS = frozenset({"", "not yet assigned"})
_WITHDRAWN_SUMMARY = ("withdrawn", "duplicate advisory")


def origin_of(advisory_id: str) -> str:
    """Who rated a record's ``severity[]``: ``ghsa`` for GHSA-, ``go``, ``rustsec``...; ``osv``
    for an id whose prefix names no database (osv.dev's CVE- conversions, Kubernetes)."""
    return _ORIGINS.get(advisory_id.partition("-")[0].upper(), "osv")


def looks_withdrawn(advisory: Advisory) -> bool:
    """True when the advisory is withdrawn, by its ``withdrawn`` field or by its text.

    For the vuls-mirrored bundles (``osv-dev/*``, ``ghsa/*``), which dropped the ``withdrawn``
    field (MANIFEST caveat 1). Text markers: a summary starting with "Withdrawn" or "Duplicate
    Advisory" (GHSA's wording); details containing "This advisory has been withdrawn"; or a
    first details line that starts with "Withdrawn" or says "has been withdrawn", markdown
    emphasis aside (older GHSA: ``**Withdrawn:** Duplicate of GHSA-...``, ``# Withdrawn``;
    RustSec: "This vulnerability was misfiled ... and has been withdrawn", which the native
    RustSec export does mark withdrawn). The parser never applies it: a builder may, e.g. to
    drop such records when no native copy carries the field. It is a heuristic: prefer the
    native sources' ``withdrawn`` where there is one. ``MAL-`` records are judged by their
    field and summary only: their details quote every reporting source, including a withdrawn
    GHSA malware advisory behind a record that stays live (MAL-2023-41).
    """
    if advisory.withdrawn:
        return True
    summary = (advisory.summary or "").lstrip().lower()
    if summary.startswith(_WITHDRAWN_SUMMARY):
        return True
    if advisory.malicious:  # MAL- details quote each source's text, withdrawn GHSA ones too
        return False
    details = (advisory.details or "").lower()
    if "this advisory has been withdrawn" in details:
        return True
    for line in details.splitlines():
        first = line.strip().strip("#*_> ")
        if first:
            return first.startswith("withdrawn") or "has been withdrawn" in first
    return False


def _cut(text: str | None, max_bytes: int) -> str | None:
    if not text:
        return None
    if len(text) * 4 <= max_bytes:
        return text
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= max_bytes:
        return text
    return raw[:max_bytes].decode("utf-8", "ignore")


def _timestamp(value: str | None) -> str | None:
    """An RFC 3339 timestamp as given; None for absent, zero (year 1) or non-date values."""
    if not value or len(value) > 64 or value.startswith("0001-01-01"):
        return None
    if len(value) < 10 or value[4] != "-" or value[7] != "-" or not value[:4].isdigit():
        return None
    return value


def _unique(values: Iterable[str] | None, skip: str = "") -> tuple[str, ...]:
    if not values:
        return ()
    out = tuple(dict.fromkeys(values))
    if not out:
        return ()
    if skip in out or "" in out or max(map(len, out)) > MAX_NAME_CHARS:
        return tuple(v for v in out if v and v != skip and len(v) <= MAX_NAME_CHARS)
    return out


def _issue(source: str, item: str, error: str) -> ParseIssue:
    return ParseIssue(source=source, item=item, error=error[:_MAX_ERROR])


def _vendor_rating(source: str, value: Any) -> Severity | None:
    if not isinstance(value, str):
        return None
    rating = value.strip().lower()
    if rating in _URGENCY_NOT_RATINGS or len(rating) > 64:
        return None
    return Severity(source=source, type="vendor", rating=rating)


def _severities(entries: list[_Severity] | None, origin: str) -> list[Severity]:
    out: list[Severity] = []
    for s in entries or ():
        kind, value = s.type, s.score
        if not kind or not value:
            continue
        if kind in _CVSS_TYPES:
            if len(value) > MAX_NAME_CHARS:
                continue
            out.append(
                Severity(source=origin, type=kind, vector=value, score=base_score(value, kind))
            )
        elif kind == "Ubuntu":
            rating = _vendor_rating("ubuntu", value)
            if rating is not None:
                out.append(rating)
    return out


def _binaries(value: Any) -> tuple[str, ...]:
    """Ubuntu ``binaries``: ``[{"binary_name": n, "binary_version": v}]`` (current),
    ``[{n: v}]`` or ``{n: v}`` (older USN OSV), or plain names."""
    names: list[str] = []
    items: Iterable[Any]
    if isinstance(value, dict):
        items = value.keys()
    elif isinstance(value, list):
        items = value
    else:
        return ()
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = item.get("binary_name")
            if isinstance(name, str):
                names.append(name)
            elif "binary_version" not in item:
                names.extend(k for k in item if isinstance(k, str))
    return _unique(names)


def _cwes(value: Any) -> list[str]:
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            cwe = item.get("cweId") if isinstance(item, dict) else item
            if isinstance(cwe, str) and cwe.startswith("CWE-") and len(cwe) < 32:
                out.append(cwe)
    return out


def _summary_modules(summary: str | None) -> tuple[str, ...]:
    if not summary:
        return ()
    text = _SUMMARY_RATING.sub("", summary, count=1)
    return _unique(_MODULE_STREAM.findall(text))


def _ranges(
    raw: list[_Range] | None,
) -> tuple[tuple[AffectedRange, ...], list[str], bool, bool, str | None]:
    """(ranges, non-GIT fixed versions, any fixed event, modular build seen, problem)."""
    ranges: list[AffectedRange] = []
    fixed: list[str] = []
    any_fixed = modular = False
    problem: str | None = None
    for r in raw or ():
        rtype = r.type or ""
        if rtype not in _RANGE_TYPES:
            problem = f"range of unsupported type {rtype[:40]!r} skipped"
            continue
        events: list[RangeEvent] = []
        for e in r.events or ():
            for kind, version in (
                ("introduced", e.introduced),
                ("fixed", e.fixed),
                ("last_affected", e.last_affected),
                ("limit", e.limit),
            ):
                if version is None:
                    continue
                if not version or len(version) > MAX_NAME_CHARS:
                    problem = f"{kind} event with an empty or oversized version skipped"
                    continue
                events.append(RangeEvent(_event_kind(kind), version))
                if kind == "fixed":
                    any_fixed = True
                    if rtype != "GIT":
                        fixed.append(version)
                if not modular and "module" in version and _MODULAR_BUILD.search(version):
                    modular = True
        if not events:
            problem = f"{rtype} range without events skipped"
            continue
        repo = r.repo if rtype == "GIT" and r.repo and len(r.repo) <= MAX_NAME_CHARS else None
        ranges.append(AffectedRange(type=_range_type(rtype), events=tuple(events), repo=repo))
    return tuple(ranges), fixed, any_fixed, modular, problem


def _event_kind(kind: str) -> EventKind:
    if kind == "introduced":
        return "introduced"
    if kind == "fixed":
        return "fixed"
    if kind == "last_affected":
        return "last_affected"
    return "limit"


def _range_type(rtype: str) -> RangeType:
    if rtype == "SEMVER":
        return "SEMVER"
    if rtype == "GIT":
        return "GIT"
    return "ECOSYSTEM"


class _Context:
    """Per-record facts the per-entry mapping needs, computed at most once."""

    __slots__ = ("_modules", "origin", "summary")

    def __init__(self, origin: str, summary: str | None) -> None:
        self.origin = origin
        self.summary = summary
        self._modules: tuple[str, ...] | None = None

    @property
    def module(self) -> str | None:
        if self._modules is None:
            self._modules = _summary_modules(self.summary)
        return self._modules[0] if len(self._modules) == 1 else None


_NEVER = (("introduced", "0"), ("fixed", "0"))


def _never_affected(ranges: tuple[AffectedRange, ...]) -> bool:
    versioned = [r for r in ranges if r.type != "GIT"]
    return bool(versioned) and all(
        tuple((e.kind, e.version) for e in r.events) == _NEVER for r in versioned
    )


def _affected(entry: _Affected, namespace: str, scheme: str, name: str, ctx: _Context) -> Affected:
    ranges, fixed, any_fixed, modular, problem = _ranges(entry.ranges)
    state: FixState
    fixed_version: str | None = None
    if any_fixed and _never_affected(ranges):
        # "introduced 0, fixed 0" (Chainguard, Debian "0"): the package never was affected.
        state = "not-affected"
    elif any_fixed:
        state = "fixed"
        distinct = set(fixed)
        if len(distinct) == 1:
            fixed_version = fixed[0]
    elif ranges:
        state = "affected"
    else:
        state = "unknown"

    prefix = namespace.partition(":")[0]
    eco = entry.ecosystem_specific
    dbs = entry.database_specific
    severity: Severity | None = None
    binaries: tuple[str, ...] = ()
    if eco is not None:
        severity = _vendor_rating(prefix, eco.urgency) or _vendor_rating(prefix, eco.priority)
        if eco.binaries is not None:
            binaries = _binaries(eco.binaries)
    if severity is None and dbs is not None:
        severity = _vendor_rating(prefix, dbs.urgency) or _vendor_rating(prefix, dbs.priority)
    if severity is None and entry.severity:
        own = _severities(entry.severity, ctx.origin)
        severity = own[0] if own else None

    module: str | None = None
    if modular and prefix in _RPM_MODULAR_PREFIXES:
        module = ctx.module

    return Affected(
        namespace=namespace,
        package=normalize_package(namespace, name),
        scheme=scheme,
        fix_state=state,
        fixed_version=fixed_version,
        ranges=ranges,
        versions=_unique(entry.versions),
        severity=severity,
        module=module,
        binaries=binaries,
        problem=problem,
    )


def _advisory(rec: _Record, *, source: str, item: str) -> Advisory | ParseIssue:
    vid = rec.id.strip()
    if not vid:
        return _issue(source, item, "record has an empty id")
    if len(vid) > MAX_ID_CHARS:
        return _issue(source, item, f"record id of {len(vid)} characters")
    item = item or vid
    origin = origin_of(vid)
    ctx = _Context(origin, rec.summary)

    affected: list[Affected] = []
    unknown: dict[str, None] = {}
    packageless = 0
    for entry in rec.affected or ():
        pkg = entry.package
        eco = pkg.ecosystem if pkg is not None else None
        name = pkg.name.strip() if pkg is not None and pkg.name else ""
        if not name or not eco:
            packageless += 1
            continue
        mapped = osv_namespace(eco)
        if mapped is None or len(name) > MAX_NAME_CHARS:
            unknown[eco[:60] if mapped is None else f"{eco[:60]} (oversized name)"] = None
            continue
        affected.append(_affected(entry, mapped[0], mapped[1], name, ctx))

    withdrawn = _timestamp(rec.withdrawn)
    if rec.withdrawn and withdrawn is None and not rec.withdrawn.startswith("0001-01-01"):
        withdrawn = rec.withdrawn[:64]  # unparsable but present: still withdrawn
    if not affected and not packageless and not withdrawn:
        if unknown:
            return _issue(
                source, item, "no affected entry in a known ecosystem: " + ", ".join(unknown)
            )
        return _issue(source, item, "record has no affected entries")

    severities = _severities(rec.severity, origin)
    cwes: list[str] = []
    dbs = rec.database_specific
    if dbs is not None:
        rating = _vendor_rating(origin, dbs.severity)
        if rating is not None:
            severities.append(rating)
        cwes.extend(_cwes(dbs.cwe_ids))
    for entry in rec.affected or ():
        if entry.database_specific is not None and entry.database_specific.cwes:
            cwes.extend(_cwes(entry.database_specific.cwes))

    return Advisory(
        id=vid,
        source=source,
        aliases=_unique(rec.aliases, vid),
        upstream=_unique(rec.upstream, vid),
        related=_unique(rec.related, vid),
        summary=_cut(rec.summary, MAX_SUMMARY_BYTES),
        details=_cut(rec.details, MAX_DETAILS_BYTES),
        published=_timestamp(rec.published),
        modified=_timestamp(rec.modified),
        withdrawn=withdrawn,
        malicious=vid.startswith("MAL-"),
        severities=tuple(dict.fromkeys(severities)),
        references=_unique(r.url for r in rec.references or () if r.url),
        cwes=_unique(cwes),
        affected=tuple(affected),
    )


def _map(rec: _Record, source: str, item: str) -> Advisory | ParseIssue:
    try:
        return _advisory(rec, source=source, item=item)
    except Exception as exc:  # a bug must not abort a build: report it against the record
        return _issue(source, item or rec.id[:MAX_ID_CHARS], f"internal: {exc!r}")


# --- public API -------------------------------------------------------------------------------


def parse_osv(data: bytes, *, source: str, item: str) -> Iterator[Advisory | ParseIssue]:
    """The one ``Advisory`` (or ``ParseIssue``) of one OSV JSON record."""
    try:
        rec = _JSON_DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError, ValueError, TypeError) as exc:
        yield _issue(source, item, f"not an OSV record: {exc}")
        return
    yield _map(rec, source, item)


def parse_osv_yaml(data: bytes, *, source: str, item: str) -> Iterator[Advisory | ParseIssue]:
    """The one ``Advisory`` (or ``ParseIssue``) of one OSV record in YAML (PyPA's PYSEC files).

    Plain scalars stay strings (``fixed: 4.10`` is the version "4.10", not 4.1); anchors and
    aliases are refused."""
    try:
        obj = yaml.load(data, Loader=_OsvYamlLoader)  # noqa: S506 (a SafeLoader subclass)
        rec = msgspec.convert(obj, _Record)
    except (yaml.YAMLError, msgspec.ValidationError, RecursionError, ValueError, TypeError) as exc:
        yield _issue(source, item, f"not an OSV record: {exc}")
        return
    yield _map(rec, source, item)


_TAR_SUFFIXES = (".tar", ".tar.zst", ".tar.gz", ".tgz")
_RECORD_SUFFIXES = (".json", ".yaml", ".yml")


def iter_osv_container(path: Path, *, source: str) -> Iterator[Advisory | ParseIssue]:
    """Every record of an OSV bundle: ``all.zip``, ``*.zip.zst`` (or a tar), any member layout
    (flat ``<ID>.json``, ``advisories/github-reviewed/YYYY/MM/GHSA-x/GHSA-x.json``,
    ``osv/malicious/<eco>/<pkg>/MAL-*.json``, ``vulns/<pkg>/PYSEC-*.yaml``).

    One item per member: ``.json`` members are parsed as JSON, ``.yaml``/``.yml`` as YAML; a
    member the container reader refuses is its ``ParseIssue``. A container that cannot be
    opened at all raises ``ParseError`` (the whole source is unusable)."""
    members = (
        iter_tar(path, suffixes=_RECORD_SUFFIXES, source=source)
        if path.name.endswith(_TAR_SUFFIXES)
        else iter_zip(path, suffixes=_RECORD_SUFFIXES, source=source)
    )
    for member in members:
        if isinstance(member, ParseIssue):
            yield member
            continue
        name, data = member
        if name.endswith(".json"):
            yield from parse_osv(data, source=source, item=name)
        else:
            yield from parse_osv_yaml(data, source=source, item=name)
