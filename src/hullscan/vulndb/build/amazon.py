"""Amazon Linux security advisories (ALAS) -> normalized ``Advisory``.

Two inputs, one mapping:

* ``updateinfo.xml`` (the yum/dnf repository metadata every Amazon Linux repository serves,
  ``repodata/*-updateinfo.xml.gz``; the live format) -> :func:`parse_updateinfo`. Read with
  ``defusedxml`` (no DTDs, entities or external references: the file is untrusted input),
  streamed one ``<update>`` at a time.
* the *derived* JSON of vuls-data-raw-amazon (one ``ALAS*.json`` per ``<update>``, the same
  fields with capitalized names; not an upstream format, kept for bulk coverage) ->
  :func:`parse_derived_json`, :func:`iter_derived_archive`.

Per advisory: ``id`` ``ALAS2-2018-942``, source ``amazon-alas``, ``summary`` the title,
``details`` the description, ``published``/``modified`` from ``issued``/``updated``,
``severities`` the vendor rating (``Severity(source="amazon", type="vendor")``, lower-cased:
the feed writes both ``important`` and ``Important``), ``references`` the reference URLs.
The CVEs it fixes go to ``related``, not ``aliases``: one ALAS fixes several CVEs, and they are
not names of the advisory itself (the model keeps ``aliases`` for exact duplicates).

Affected: one per binary package name in ``pkglist`` (updateinfo names binary RPMs only; no
source name is given), namespace ``amazon:1``/``amazon:2``/``amazon:2022``/``amazon:2023``
from the collection (``amazon-linux-ami``, ``amazon-linux-2``, ``amazon-linux-2---nginx1``,
...; the advisory id prefix when the collection says nothing), ``fix_state`` fixed,
``fixed_version`` ``[epoch:]version-release`` (epoch 0 omitted), range 0 -> it, ``arch`` the
architectures listed. Amazon Linux 2 *Extras* topics (collection
``amazon-linux-2---<topic>``: ``kernel-5.10``, ``php8.0``, ``postgresql14``...) ship other
major versions under the core package names; their entries carry ``module`` = the topic, so
a ``php8.0`` fix is not read as a fix of core PHP 5.4 (installed RPMs do not record the
topic: a matcher can only use it as a hint). A package listed with two different EVRs gets
one ``Affected`` per EVR.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET  # the Element type and ParseError; parsing is defused
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml
import msgspec
from defusedxml.ElementTree import iterparse as safe_iterparse

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    ParseIssue,
    RangeEvent,
    Severity,
)
from hullscan.vulndb.build.containers import iter_tar, read_bounded

SOURCE = "amazon-alas"
SCHEME = "rpm"
MAX_DETAILS_CHARS = 4096
_MAX_ERROR = 300

_COLLECTIONS: dict[str, str] = {
    "amazon-linux-ami": "amazon:1",
    "amazon-linux": "amazon:1",
    "amazon-linux-2": "amazon:2",
    "amazon-linux-2022": "amazon:2022",
    "amazon-linux-2023": "amazon:2023",
}
_ID_PREFIX = re.compile(r"^ALAS(2022|2023|2)?(?:[A-Z][A-Z0-9._-]*?)?-\d{4}-\d+$")
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_DATE = re.compile(r"^(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d)(:\d\d)?)?")
_NAME = re.compile(r"^[A-Za-z0-9_+][\w.+-]*$")
_VER = re.compile(r"^[A-Za-z0-9_.+~^]+$")


def _issue(item: str, error: str) -> ParseIssue:
    return ParseIssue(source=SOURCE, item=item[:200], error=error[:_MAX_ERROR])


def namespace_of(collection: str | None, advisory_id: str) -> tuple[str, str | None] | None:
    """``(namespace, extras topic)`` from a pkglist collection ``short`` name, else from the
    advisory id (``ALAS2023-...`` -> ``amazon:2023``); None when neither says."""
    short = (collection or "").strip().lower()
    base, sep, topic = short.partition("---")
    ns = _COLLECTIONS.get(base)
    if ns is not None:
        return ns, (topic or None) if sep else None
    m = _ID_PREFIX.match(advisory_id)
    if m is None:
        return None
    return f"amazon:{m.group(1) or '1'}", None


def _date(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    m = _DATE.match(value.strip())
    if m is None:
        return None
    return f"{m.group(1)}T{m.group(2) or '00:00'}{m.group(3) or ':00'}Z"


def _text(value: object, limit: int = MAX_DETAILS_CHARS) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] or None


class _Pkg(msgspec.Struct, frozen=True):
    name: str
    epoch: str | None
    version: str
    release: str
    arch: str | None


def _evr(p: _Pkg) -> str:
    e = (p.epoch or "").strip()
    return f"{p.version}-{p.release}" if e in ("", "0") else f"{e}:{p.version}-{p.release}"


class _Update(msgspec.Struct):
    """The fields of one ``<update>``, whichever input they came from."""

    id: str
    title: str | None = None
    issued: str | None = None
    updated: str | None = None
    severity: str | None = None
    description: str | None = None
    references: list[tuple[str | None, str | None, str | None]] = []  # (type, id, href)
    collections: list[tuple[str | None, list[_Pkg]]] = []


def _advisory(u: _Update, item: str) -> Iterator[Advisory | ParseIssue]:
    adv_id = u.id.strip()
    if not adv_id or len(adv_id) > 128 or not adv_id.isprintable():
        yield _issue(item, "update without an id")
        return
    related: list[str] = []
    refs: list[str] = []
    for rtype, rid, href in u.references:
        if rid and _CVE.match(rid.strip()) and rid.strip() not in related:
            related.append(rid.strip())
        elif rtype == "cve" and rid:
            yield _issue(f"{item}: {adv_id}", f"malformed CVE id {rid[:40]!r}")
        if href and href.startswith(("http://", "https://")) and href not in refs:
            refs.append(href.strip())
    # (namespace, module, name, evr) -> arches
    groups: dict[tuple[str, str | None, str, str], list[str]] = {}
    for short, packages in u.collections:
        mapped = namespace_of(short, adv_id)
        if mapped is None:
            yield _issue(f"{item}: {adv_id}", f"unknown collection {str(short)[:60]!r}")
            continue
        namespace, topic = mapped
        for p in packages:
            arches = groups.setdefault((namespace, topic, p.name, _evr(p)), [])
            if p.arch and p.arch not in arches:
                arches.append(p.arch)
    affected = tuple(
        Affected(
            namespace=namespace,
            package=name,
            scheme=SCHEME,
            fix_state="fixed",
            fixed_version=evr,
            ranges=(
                AffectedRange(events=(RangeEvent("introduced", "0"), RangeEvent("fixed", evr))),
            ),
            module=topic,
            arch=tuple(arches),
        )
        for (namespace, topic, name, evr), arches in groups.items()
    )
    severity = (u.severity or "").strip().lower()
    yield Advisory(
        id=adv_id,
        source=SOURCE,
        related=tuple(related),
        summary=_text(u.title, 1024),
        details=_text(u.description),
        published=_date(u.issued),
        modified=_date(u.updated),
        severities=(
            (Severity(source="amazon", type="vendor", rating=severity[:32]),) if severity else ()
        ),
        references=tuple(refs),
        affected=affected,
    )


def _package(
    name: object, epoch: object, version: object, release: object, arch: object
) -> _Pkg | str:
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        return f"package without a usable name ({str(name)[:40]!r})"
    for what, v in (("version", version), ("release", release)):
        if not isinstance(v, str) or not _VER.match(v.strip()):
            return f"package {name.strip()} without a usable {what} ({str(v)[:40]!r})"
    assert isinstance(version, str) and isinstance(release, str)
    e = epoch.strip() if isinstance(epoch, str) else None
    if e is not None and e and not e.isdigit():
        return f"package {name.strip()} with epoch {e[:20]!r}"
    return _Pkg(
        name.strip(),
        e or None,
        version.strip(),
        release.strip(),
        arch.strip() if isinstance(arch, str) and arch.strip() else None,
    )


# --- updateinfo.xml ---------------------------------------------------------------------------


def _xml_update(el: ET.Element, item: str) -> Iterator[Advisory | ParseIssue]:
    adv_id = (el.findtext("id") or "").strip()
    where = f"{item}: {adv_id or '<update>'}"

    def date(tag: str) -> str | None:
        node = el.find(tag)
        return node.get("date") if node is not None else None

    refs = [
        (r.get("type"), r.get("id"), r.get("href")) for r in el.iterfind("references/reference")
    ]
    collections: list[tuple[str | None, list[_Pkg]]] = []
    for coll in el.iterfind("pkglist/collection"):
        pkgs: list[_Pkg] = []
        for p in coll.iterfind("package"):
            pkg = _package(
                p.get("name"), p.get("epoch"), p.get("version"), p.get("release"), p.get("arch")
            )
            if isinstance(pkg, str):
                yield _issue(where, pkg)
            else:
                pkgs.append(pkg)
        collections.append((coll.get("short"), pkgs))
    yield from _advisory(
        _Update(
            id=adv_id,
            title=el.findtext("title"),
            issued=date("issued"),
            updated=date("updated"),
            severity=el.findtext("severity"),
            description=el.findtext("description"),
            references=refs,
            collections=collections,
        ),
        item,
    )


def parse_updateinfo(
    data: bytes, *, item: str = "updateinfo.xml"
) -> Iterator[Advisory | ParseIssue]:
    """An ``updateinfo.xml`` (decompressed) -> one ``Advisory`` per ``<update>``.

    Malformed XML or a forbidden construct (DTD, entity, external reference) ends the
    document with a ``ParseIssue``; the updates read before it are kept.
    """
    try:
        events = safe_iterparse(
            io.BytesIO(data),
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        root: ET.Element | None = None
        for event, el in events:
            if event == "start":
                if root is None:
                    root = el
                continue
            if el.tag == "update":
                yield from _xml_update(el, item)
                if root is not None:
                    root.clear()  # constant memory over a large file
    except (ET.ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        yield _issue(item, f"unreadable XML: {str(exc)[:200]}")


# --- the derived JSON -------------------------------------------------------------------------


def _list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def _get(d: object, *keys: str) -> object:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _json_update(doc: dict[str, Any], item: str) -> Iterator[Advisory | ParseIssue]:
    adv_id = doc.get("ID")
    if not isinstance(adv_id, str):
        yield _issue(item, "record without an ID")
        return
    refs: list[tuple[str | None, str | None, str | None]] = []
    for r in _list(_get(doc, "References", "Reference")):
        if isinstance(r, dict):
            rtype, rid, href = r.get("Type"), r.get("ID"), r.get("Href")
            refs.append(
                (
                    rtype if isinstance(rtype, str) else None,
                    rid if isinstance(rid, str) else None,
                    href if isinstance(href, str) else None,
                )
            )
    collections: list[tuple[str | None, list[_Pkg]]] = []
    for coll in _list(_get(doc, "Pkglist", "Collection")):
        if not isinstance(coll, dict):
            continue
        pkgs: list[_Pkg] = []
        for p in _list(coll.get("Package")):
            if not isinstance(p, dict):
                continue
            pkg = _package(
                p.get("Name"), p.get("Epoch"), p.get("Version"), p.get("Release"), p.get("Arch")
            )
            if isinstance(pkg, str):
                yield _issue(f"{item}: {adv_id}", pkg)
            else:
                pkgs.append(pkg)
        short = coll.get("Short")
        collections.append((short if isinstance(short, str) else None, pkgs))

    def text(*keys: str) -> str | None:
        v = _get(doc, *keys)
        return v if isinstance(v, str) else None

    yield from _advisory(
        _Update(
            id=adv_id,
            title=text("Title"),
            issued=text("Issued", "Date"),
            updated=text("Updated", "Date"),
            severity=text("Severity"),
            description=text("Description"),
            references=refs,
            collections=collections,
        ),
        item,
    )


def parse_derived_json(data: bytes, *, item: str) -> Iterator[Advisory | ParseIssue]:
    """One vuls-derived ``ALAS*.json`` -> one ``Advisory`` (or ``ParseIssue``)."""
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        yield _issue(item, f"not JSON: {exc}")
        return
    if not isinstance(doc, dict):
        yield _issue(item, "top level is not an object")
        return
    yield from _json_update(doc, item)


def iter_derived_archive(path: Path) -> Iterator[Advisory | ParseIssue]:
    """Every ``ALAS*.json`` in a tar (``.tar.zst``...) of vuls-data-raw-amazon."""
    for member in iter_tar(path, suffixes=(".json",), source=SOURCE):
        if isinstance(member, ParseIssue):
            yield member
            continue
        name, data = member
        if name.rpartition("/")[2].startswith("ALAS"):
            yield from parse_derived_json(data, item=name)


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """The builder's reader signature: ``updateinfo.xml[.gz]``, a tar of derived JSON, or
    one derived ``ALAS*.json``."""
    if ".tar" in path.name:
        records = iter_derived_archive(path)
    elif path.name.removesuffix(".gz").endswith(".xml"):
        records = parse_updateinfo(read_bounded(path), item=path.name)
    else:
        records = parse_derived_json(read_bounded(path), item=path.name)
    for r in records:
        if source != SOURCE and isinstance(r, Advisory):
            r = msgspec.structs.replace(r, source=source)
        yield r


__all__ = [
    "SOURCE",
    "iter_derived_archive",
    "namespace_of",
    "parse_derived_json",
    "parse_updateinfo",
    "read",
]
