"""Debian security tracker -> normalized ``Advisory``.

Two upstream formats, both published by the tracker team:

* the tracker **JSON** (``/tracker/data/json``): ``{source package: {CVE: {description,
  scope, debianbug, releases: {codename: {status, repositories, fixed_version, urgency,
  nodsa, nodsa_reason}}}}}`` -> :func:`parse_tracker_json`. One ``Advisory`` per CVE (or
  ``TEMP-`` id), source ``debian-tracker``, with one ``Affected`` per (release, source
  package). The JSON is keyed by package first, so a CVE that hits several packages is
  gathered over the whole document before it is yielded.
* the tracker **source lists** of the salsa repository: ``data/DSA/list``, ``data/DLA/list``,
  ``data/DTSA/list`` -> :func:`parse_advisory_list` (one ``Advisory`` per DSA/DLA/DTSA, the
  CVEs it fixes in ``related``) and ``data/CVE/list`` -> :func:`parse_cve_list` (one
  ``Advisory`` per CVE entry that names a Debian package).

Namespaces: ``debian:N`` from the codename (:data:`DEBIAN_RELEASES`, taken from
distro-info-data's ``debian.csv``; releases before 4.0 keep their ``N.M`` number) and
``debian:sid`` for unstable. Package = the source package, scheme ``deb``.

States (JSON ``status`` / list annotation -> ``fix_state``):

==========================================  ================  =================================
upstream                                    fix_state         why
==========================================  ================  =================================
``resolved`` + ``fixed_version`` "0"        not-affected      the tracker's "never vulnerable"
``resolved`` + a version / ``- pkg 1.2-3``  fixed             range introduced 0 -> fixed v
``open``, ``<unfixed>``, ``<no-dsa>``       affected          no fix yet; no-dsa may still be
                                                              fixed in a point release
``open`` + nodsa_reason ``ignored``,        will-not-fix      the team decided not to fix
``<ignored>``
``open`` + urgency ``end-of-life``,         will-not-fix      security support for the package
``<end-of-life>``                                             ended in that release
``open`` + nodsa_reason ``postponed``,      deferred          fix postponed to a later update
``<postponed>``
``<removed>``                               will-not-fix      package removed from the release:
                                                              an installed copy stays as it is
``<itp>``                                   not-affected      not in the archive yet
``undetermined``, ``<undetermined>``        unknown           nobody has checked
==========================================  ================  =================================

Urgency (``low``, ``medium``, ``high``, ``unimportant``, ``not yet assigned``,
``end-of-life``; the trailing ``*``/``**`` the tracker adds to urgencies it took from NVD is
dropped) -> a per-``Affected`` ``Severity(source="debian", type="vendor")``.

The CVE list states only what the tracker team wrote down: ``- pkg ...`` is unstable (sid),
``[release] - pkg ...`` that release. The per-release status the tracker *derives* for
releases without a line (by comparing archive versions with the sid fix) needs the archive's
Sources indexes and is not reproduced here; the JSON export carries it. ``NOT-FOR-US``,
``RESERVED``/``REJECTED`` entries without a package line and ``TODO`` stubs give no record.
``CVE-YYYY-XXXX`` placeholders get the tracker's own ``TEMP-<bug>-<md5>`` name.

Pure: bytes in, records out; a record that cannot be used is a ``ParseIssue``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    FixState,
    ParseIssue,
    RangeEvent,
    Severity,
)
from hullscan.vulndb.build.containers import read_bounded

SOURCE = "debian-tracker"
SCHEME = "deb"
MAX_DETAILS_CHARS = 4096
_MAX_ERROR = 300

# Codename -> the release number our namespaces use (distro-info-data debian.csv, version
# column; ``distro_namespace`` keeps the major number only from 4.0 on, so do we).
DEBIAN_RELEASES: dict[str, str] = {
    "buzz": "1.1",
    "rex": "1.2",
    "bo": "1.3",
    "hamm": "2.0",
    "slink": "2.1",
    "potato": "2.2",
    "woody": "3.0",
    "sarge": "3.1",
    "etch": "4",
    "lenny": "5",
    "squeeze": "6",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    "sid": "sid",
    "unstable": "sid",
}

_PSEUDO_STATES: dict[str, FixState] = {
    "unfixed": "affected",
    "no-dsa": "affected",
    "not-affected": "not-affected",
    "end-of-life": "will-not-fix",
    "ignored": "will-not-fix",
    "postponed": "deferred",
    "removed": "will-not-fix",
    "itp": "not-affected",
    "undetermined": "unknown",
}
_URGENCIES = ("unimportant", "low", "medium", "high")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}

# --- helpers ------------------------------------------------------------------------------------


def namespace_of(codename: str) -> str | None:
    """``debian:12`` for ``bookworm``, ``debian:sid`` for ``sid``; None when unknown."""
    number = DEBIAN_RELEASES.get(codename.strip().lower())
    return f"debian:{number}" if number else None


def _issue(item: str, error: str, source: str = SOURCE) -> ParseIssue:
    return ParseIssue(source=source, item=item[:200], error=error[:_MAX_ERROR])


def _cut(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    return text[:MAX_DETAILS_CHARS] or None


def _rating(urgency: object) -> Severity | None:
    if not isinstance(urgency, str):
        return None
    value = urgency.strip().rstrip("*").strip().lower()
    if not value:
        return None
    return Severity(source="debian", type="vendor", rating=value)


def _fixed(namespace: str, package: str, version: str, severity: Severity | None) -> Affected:
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        fix_state="fixed",
        fixed_version=version,
        ranges=(
            AffectedRange(events=(RangeEvent("introduced", "0"), RangeEvent("fixed", version))),
        ),
        severity=severity,
    )


def _state(namespace: str, package: str, state: FixState, severity: Severity | None) -> Affected:
    return Affected(
        namespace=namespace, package=package, scheme=SCHEME, fix_state=state, severity=severity
    )


# --- the JSON export ----------------------------------------------------------------------------


def _json_affected(
    package: str, codename: str, rel: dict[str, Any], item: str
) -> Affected | ParseIssue:
    namespace = namespace_of(codename)
    if namespace is None:
        return _issue(item, f"unknown Debian release {codename!r}")
    severity = _rating(rel.get("urgency"))
    status = rel.get("status")
    fixed = rel.get("fixed_version")
    if status == "resolved":
        if isinstance(fixed, str) and fixed.strip() == "0":
            return _state(namespace, package, "not-affected", severity)
        if isinstance(fixed, str) and fixed.strip():
            return _fixed(namespace, package, fixed.strip(), severity)
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            severity=severity,
            problem="resolved without a fixed_version",
        )
    if status == "open":
        reason = rel.get("nodsa_reason")
        urgency = severity.rating if severity else None
        if reason == "ignored" or urgency == "end-of-life":
            return _state(namespace, package, "will-not-fix", severity)
        if reason == "postponed":
            return _state(namespace, package, "deferred", severity)
        return _state(namespace, package, "affected", severity)
    if status == "undetermined":
        return _state(namespace, package, "unknown", severity)
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        severity=severity,
        problem=f"unknown tracker status {str(status)[:40]!r}",
    )


class _Gathered:
    __slots__ = ("affected", "details", "references")

    def __init__(self) -> None:
        self.details: str | None = None
        self.references: list[str] = []
        self.affected: list[Affected] = []


def parse_tracker_json(data: bytes, *, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """The tracker's JSON export -> one ``Advisory`` per CVE (see the module docstring).

    Undecodable input is one ``ParseIssue`` (the export is a single document); a package or
    CVE entry of the wrong shape is a ``ParseIssue`` and the rest is still read.
    """
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        yield _issue("json", f"not JSON: {exc}", source)
        return
    if not isinstance(doc, dict):
        yield _issue("json", f"top level is {type(doc).__name__}, not an object", source)
        return
    gathered: dict[str, _Gathered] = {}
    for package, cves in doc.items():
        if not isinstance(cves, dict):
            yield _issue(str(package), "package entry is not an object", source)
            continue
        for cve, entry in cves.items():
            item = f"{package}/{cve}"
            if not isinstance(entry, dict):
                yield _issue(item, "CVE entry is not an object", source)
                continue
            releases = entry.get("releases")
            if releases is None or releases == []:  # the export writes [] for "none"
                releases = {}
            if not isinstance(releases, dict):
                yield _issue(item, "releases is not an object", source)
                continue
            g = gathered.get(cve)
            if g is None:
                g = gathered[cve] = _Gathered()
            description = entry.get("description")
            if g.details is None and isinstance(description, str):
                g.details = _cut(description)
            bug = entry.get("debianbug")
            if isinstance(bug, int) and not isinstance(bug, bool) and bug > 0:
                url = f"https://bugs.debian.org/{bug}"
                if url not in g.references:
                    g.references.append(url)
            for codename, rel in releases.items():
                if not isinstance(rel, dict):
                    yield _issue(f"{item}/{codename}", "release entry is not an object", source)
                    continue
                affected = _json_affected(str(package), str(codename), rel, f"{item}/{codename}")
                if isinstance(affected, ParseIssue):
                    yield ParseIssue(source=source, item=affected.item, error=affected.error)
                else:
                    g.affected.append(affected)
    for cve, g in gathered.items():
        yield Advisory(
            id=cve,
            source=source,
            details=g.details,
            references=tuple(g.references),
            affected=tuple(g.affected),
        )


# --- the source lists ---------------------------------------------------------------------------

# "[11 Jul 2019] DSA-4480-1 redis - security update"; DTSA: "[March 7th, 2006] DTSA-33-1 ..."
_ADV_HEADER = re.compile(
    r"^\[(?:(?P<day>\d\d?) (?P<mon>[A-Za-z]{3})|(?P<month>[A-Za-z]{3,}) (?P<dday>\d\d?)"
    r"(?:st|nd|rd|th)?,) (?P<year>\d{4})\]\s+"
    r"(?P<id>(?:DSA|DLA|DTSA)-\d+(?:-\d+)?)\s*(?P<desc>.*?)\s*$"
)
_CVE_HEADER = re.compile(r"^(?P<id>CVE-\d{4}-(?:\d{4,}|XXXX)|TEMP-\d+-\S+)\s*(?P<desc>.*?)\s*$")
_PKG_LINE = re.compile(
    r"^(?:\[(?P<rel>[a-z][a-z-]*)\]\s+)?-\s+(?P<pkg>[A-Za-z0-9][A-Za-z0-9:.+-]*)"
    r"(?:\s+(?:<(?P<kind>[a-z-]+)>|(?P<ver>[A-Za-z0-9:.+~-]+)))?\s*(?:\((?P<inner>.*)\))?\s*$"
)
_XREF = re.compile(r"^\{(?P<refs>.*)\}$")
_BUG = re.compile(r"bug #(\d+)")
_URL = re.compile(r"^https?://\S+$")


def _list_date(m: re.Match[str]) -> str | None:
    day = m.group("day") or m.group("dday")
    month = _MONTHS.get((m.group("mon") or m.group("month") or "")[:3].lower())
    if not day or not month:
        return None
    d = int(day)
    if not 1 <= d <= 31:
        return None
    return f"{m.group('year')}-{month:02d}-{d:02d}T00:00:00Z"


def _blocks(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, header line, annotation lines) per entry: an entry starts at a line in
    column 0; indented lines below it belong to it."""
    start = 0
    header: str | None = None
    body: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("--"):
            continue
        if line[0] in " \t":
            if header is not None:
                body.append(line.strip())
            continue
        if header is not None:
            yield start, header, body
        start, header, body = lineno, line, []
    if header is not None:
        yield start, header, body


def _urgency_of(inner: str | None) -> Severity | None:
    if not inner:
        return None
    for part in inner.split(";"):
        word = part.strip().lower()
        if word in _URGENCIES:
            return Severity(source="debian", type="vendor", rating=word)
    return None


def _package_line(
    m: re.Match[str], item: str, source: str, *, default_release: str = "sid"
) -> Affected | ParseIssue:
    codename = m.group("rel") or default_release
    namespace = namespace_of(codename)
    if namespace is None:
        return _issue(item, f"unknown Debian release {codename!r}", source)
    pkg, kind, ver, inner = m.group("pkg"), m.group("kind"), m.group("ver"), m.group("inner")
    severity = _urgency_of(inner) if kind is None or kind in ("unfixed", "undetermined") else None
    if kind is not None:
        state = _PSEUDO_STATES.get(kind)
        if state is None:
            return _issue(item, f"unknown annotation <{kind}>", source)
        return _state(namespace, pkg, state, severity)
    if ver is None:
        return _issue(item, f"package line for {pkg} names no version or state", source)
    if ver == "0":
        return _state(namespace, pkg, "not-affected", severity)
    return _fixed(namespace, pkg, ver, severity)


def _cross_refs(refs: str) -> list[str]:
    return [r for r in re.split(r"[\s,]+", refs.strip()) if r]


def parse_advisory_list(data: bytes, *, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """``data/DSA/list``, ``data/DLA/list`` or ``data/DTSA/list`` -> one ``Advisory`` each.

    ``id`` the DSA/DLA/DTSA name, ``published`` its date, ``summary`` the header text
    (``redis - security update``), ``related`` the CVEs in ``{...}`` (an advisory fixes
    several issues: they are related records, not aliases of it), one ``Affected`` per
    ``[release] - package version`` line. An entry with no package line (announcements,
    end-of-life notices) is an ``Advisory`` without ``affected``.
    """
    text = data.decode("utf-8", "replace")
    for lineno, header, body in _blocks(text):
        item = f"line {lineno}"
        m = _ADV_HEADER.match(header)
        if m is None:
            yield _issue(item, f"not an advisory header: {header[:80]!r}", source)
            continue
        adv_id = m.group("id")
        related: list[str] = []
        affected: list[Affected] = []
        for line in body:
            x = _XREF.match(line)
            if x is not None:
                related.extend(r for r in _cross_refs(x.group("refs")) if r not in related)
                continue
            if line.startswith(("NOTE:", "TODO:")):
                continue
            p = _PKG_LINE.match(line)
            if p is None:
                yield _issue(f"{adv_id} {item}", f"unreadable line: {line[:80]!r}", source)
                continue
            a = _package_line(p, f"{adv_id} {item}", source)
            if isinstance(a, ParseIssue):
                yield a
            else:
                affected.append(a)
        yield Advisory(
            id=adv_id,
            source=source,
            related=tuple(related),
            summary=m.group("desc") or None,
            published=_list_date(m),
            affected=tuple(affected),
        )


def temp_name(bug: int, description: str) -> str:
    """The tracker's name for a ``CVE-YYYY-XXXX`` placeholder: ``TEMP-<bug>-<md5[:6]>``
    (security-tracker ``lib/python/bugs.py``: the first bug number of its package lines, 0
    when none, and the description without its brackets)."""
    d = description
    if (d.startswith("[") and d.endswith("]")) or (d.startswith("(") and d.endswith(")")):
        d = d[1:-1]
    digest = hashlib.md5(d.encode("utf-8"), usedforsecurity=False).hexdigest()[:6].upper()
    return f"TEMP-{bug:07d}-{digest}"


def parse_cve_list(data: bytes, *, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """``data/CVE/list`` -> one ``Advisory`` per entry that names a Debian package.

    ``- pkg ...`` lines are unstable (``debian:sid``), ``[release] - pkg ...`` lines that
    release; urgency from the parenthesized notes (``(low; bug #990901)``). The header's
    description (``(PuTTY through 0.75 ...)``) becomes ``summary``; ``NOTE:`` lines that are
    a bare URL become ``references``; cross references in ``{...}`` (DSA/DLA names) go to
    ``related``.
    """
    text = data.decode("utf-8", "replace")
    for lineno, header, body in _blocks(text):
        item = f"line {lineno}"
        m = _CVE_HEADER.match(header)
        if m is None:
            yield _issue(item, f"not a CVE header: {header[:80]!r}", source)
            continue
        cve, desc = m.group("id"), m.group("desc")
        affected: list[Affected] = []
        related: list[str] = []
        references: list[str] = []
        first_bug = 0
        for line in body:
            if line.startswith(("NOT-FOR-US:", "NOTE:", "TODO:", "RESERVED", "REJECTED")):
                note = line[5:].strip() if line.startswith("NOTE:") else ""
                if _URL.match(note) and note not in references:
                    references.append(note)
                continue
            x = _XREF.match(line)
            if x is not None:
                related.extend(r for r in _cross_refs(x.group("refs")) if r not in related)
                continue
            p = _PKG_LINE.match(line)
            if p is None:
                yield _issue(f"{cve} {item}", f"unreadable line: {line[:80]!r}", source)
                continue
            if not first_bug and p.group("inner"):
                bug = _BUG.search(p.group("inner"))
                if bug is not None:
                    first_bug = int(bug.group(1)[:9])
            a = _package_line(p, f"{cve} {item}", source)
            if isinstance(a, ParseIssue):
                yield a
            else:
                affected.append(a)
        if not affected:
            continue  # NOT-FOR-US, RESERVED, REJECTED, TODO: nothing about a Debian package
        if cve.endswith("-XXXX"):
            cve = temp_name(first_bug, desc)
        summary = desc[1:-1] if desc[:1] in "([" and desc[-1:] in ")]" else desc
        yield Advisory(
            id=cve,
            source=source,
            related=tuple(related),
            summary=_cut(summary),
            references=tuple(references),
            affected=tuple(affected),
        )


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """A tracker file by its name (the builder's reader signature): ``*.json[.gz]`` is the
    JSON export, ``CVE/list[.gz]`` the CVE list, ``DSA``/``DLA``/``DTSA/list[.gz]`` an
    advisory list. An unreadable file raises ``ParseError``."""
    data = read_bounded(path)
    name = path.name.removesuffix(".gz")
    if name.endswith(".json"):
        yield from parse_tracker_json(data, source=source)
    elif path.parent.name == "CVE":
        yield from parse_cve_list(data, source=source)
    else:
        yield from parse_advisory_list(data, source=source)
