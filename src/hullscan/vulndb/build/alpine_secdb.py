"""Alpine-style secdb JSON (Alpine ``secdb.alpinelinux.org``, Wolfi/Chainguard
``security.json``) -> normalized ``Advisory``.

Shape: ``{distroversion, reponame, urlprefix, archs, packages: [{pkg: {name, secfixes:
{version: [ids...]}}}]}``. Each ``secfixes`` key is the package release that fixed the ids
listed under it; ``"0"`` means "never affected" (Alpine wiki, *secfixes*): not-affected.

Namespace: ``alpine:3.19`` from ``distroversion`` ``v3.19`` (``edge`` -> ``alpine:edge``);
documents without ``distroversion`` are Wolfi (``urlprefix`` under wolfi.dev, namespace
``wolfi``) or Chainguard (``reponame`` ``chainguard`` or a cgr.dev prefix, namespace
``chainguard``); the caller can also say which. Package = the origin (source) package the
APKBUILD/melange file names, scheme ``apk``.

Record granularity (the choice): **one Advisory per vulnerability id per secdb document**
(one branch and repository: ``v3.19/main``), with one ``Affected`` per package that fixes it
there. So the Alpine sources give one advisory per (id, branch, repo) and the builder merges
by id; an advisory never mixes namespaces, and re-reading one branch replaces exactly its
own records.

Ids: an entry is free text in practice (``"CVE-2018-3646 XSA-273"``, ``"CVE-2018-14881
(BGP)"``, ``"CVE_2019-2426"``, ``"CVE-2017-17434-1"``, ``"CVE-????-????? XSA-312"``). It is
read as whitespace-separated tokens, parenthesized notes dropped:

* CVE tokens (``CVE-YYYY-NNNN``, also written with ``_`` or followed by ``-1``/``.patch``)
  become the advisory ids; placeholders (``CVE-????-?????``) are dropped;
* other ids (``XSA-273``, ``GHSA-...``, ``TALOS-2017-0488``, ``GNUTLS-SA-2020-06-03``,
  ``RUSTSEC-...``, ``ZDI-CAN-...``, ``ALPINE-13661``...) become the id when there is no CVE,
  else ``related`` of each CVE (an XSA can cover several CVEs, so it is no alias);
* an entry with no usable id (``"CVE-46838"``, ``"N/A"``) is a ``ParseIssue``.

A package listing the same id under several versions (re-fixes, regressions: intel-ucode,
xen) gets one ``Affected`` whose ``fixed_version`` is the last one listed (APKBUILDs list
secfixes oldest first) and one range ``introduced 0 -> fixed v`` per listed version: ranges
are alternatives, so a version is affected below the highest fix whichever order upstream
used; no version comparison happens here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    ParseIssue,
    RangeEvent,
)
from hullscan.vulndb.build.containers import read_bounded
from hullscan.vulndb.build.feed import MAX_RECORD_BYTES

SOURCE_ALPINE = "alpine-secdb"
SOURCE_WOLFI = "wolfi-secdb"
SOURCE_CHAINGUARD = "chainguard-secdb"
SCHEME = "apk"
_MAX_ERROR = 300
_MAX_TOKEN = 128

_PAREN = re.compile(r"\([^)]*\)?")
_CVE = re.compile(r"^CVE[-_](\d{4})-(\d{4,})(?:$|[-.]\S*$)", re.IGNORECASE)
_CVE_PLACEHOLDER = re.compile(r"^CVE-[\d?X]{4}-[\d?X]*\?[\d?X]*$|^CVE-\?{4}-", re.IGNORECASE)
_GHSA = re.compile(r"^GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}$")
_OTHER_ID = re.compile(r"^[A-Z][A-Za-z]*(?:-[A-Za-z]+)*-\d[\w.-]*$|^[a-z]+-sec-\d{4}-\d+$")
_VSV = re.compile(r"^VSV\d{5}$|^[A-Z]{2,}\d+-\d+$")  # VSV00001 (Varnish), DW201905-001


def _issue(source: str, item: str, error: str) -> ParseIssue:
    return ParseIssue(source=source, item=item[:200], error=error[:_MAX_ERROR])


def split_ids(text: str) -> tuple[list[str], list[str]]:
    """``(CVE ids, other ids)`` named by one secfixes entry (see the module docstring)."""
    cves: list[str] = []
    others: list[str] = []
    for token in _PAREN.sub(" ", text).split():
        token = token.strip(",;")
        if not token or len(token) > _MAX_TOKEN:
            continue
        m = _CVE.match(token)
        if m is not None:
            cve = f"CVE-{m.group(1)}-{m.group(2)}"
            if cve not in cves:
                cves.append(cve)
        elif token.upper().startswith("CVE"):
            continue  # placeholders (CVE-????-?????) and malformed CVE names
        elif (
            _GHSA.match(token) or _OTHER_ID.match(token) or _VSV.match(token)
        ) and token not in others:
            others.append(token)
    return cves, others


def namespace_for(doc: dict[str, Any]) -> str | None:
    """The namespace a secdb document speaks for, from its own header; None when unknown."""
    dv = doc.get("distroversion")
    if isinstance(dv, str) and dv.strip():
        v = dv.strip().removeprefix("v")
        if v == "edge" or re.fullmatch(r"\d+\.\d+", v):
            return f"alpine:{v}"
        return None
    repo = doc.get("reponame")
    prefix = doc.get("urlprefix")
    prefix = prefix if isinstance(prefix, str) else ""
    if repo == "chainguard" or "cgr.dev" in prefix or "chainguard" in prefix:
        return "chainguard"
    if "wolfi.dev" in prefix or repo == "os":
        return "wolfi"
    return None


def _source_for(namespace: str) -> str:
    if namespace == "wolfi":
        return SOURCE_WOLFI
    if namespace == "chainguard":
        return SOURCE_CHAINGUARD
    return SOURCE_ALPINE


class _Entry:
    __slots__ = ("not_affected", "versions")

    def __init__(self) -> None:
        self.versions: list[str] = []
        self.not_affected = False


def parse_secdb(
    data: bytes,
    *,
    item: str = "secdb",
    namespace: str | None = None,
    source: str | None = None,
) -> Iterator[Advisory | ParseIssue]:
    """One secdb document -> ``Advisory`` records (one per id; see the module docstring).

    ``namespace`` overrides what the document's header says (``wolfi``, ``chainguard``,
    ``alpine:3.19``); ``source`` defaults to ``alpine-secdb``/``wolfi-secdb``/
    ``chainguard-secdb`` by namespace. Never raises: an undecodable document is one
    ``ParseIssue``.
    """
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        yield _issue(source or SOURCE_ALPINE, item, f"not JSON: {exc}")
        return
    if not isinstance(doc, dict):
        yield _issue(source or SOURCE_ALPINE, item, "top level is not an object")
        return
    ns = namespace or namespace_for(doc)
    if ns is None:
        yield _issue(
            source or SOURCE_ALPINE,
            item,
            f"no namespace: distroversion {str(doc.get('distroversion'))[:40]!r}, "
            f"reponame {str(doc.get('reponame'))[:40]!r}",
        )
        return
    src = source or _source_for(ns)
    packages = doc.get("packages")
    if packages is None:
        packages = []
    if not isinstance(packages, list):
        yield _issue(src, item, "packages is not a list")
        return

    # id -> package -> fixes; id -> related ids; insertion order = upstream order
    by_id: dict[str, dict[str, _Entry]] = {}
    related: dict[str, list[str]] = {}
    for n, entry in enumerate(packages):
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        name = pkg.get("name") if isinstance(pkg, dict) else None
        if not isinstance(pkg, dict) or not isinstance(name, str) or not name.strip():
            yield _issue(src, f"{item}: packages[{n}]", "package entry without a name")
            continue
        name = name.strip()
        secfixes = pkg.get("secfixes")
        if secfixes is None:
            continue
        if not isinstance(secfixes, dict):
            yield _issue(src, f"{item}: {name}", "secfixes is not an object")
            continue
        for version, ids in secfixes.items():
            where = f"{item}: {name} {str(version)[:60]}"
            if not isinstance(version, str) or not version.strip() or " " in version.strip():
                yield _issue(src, where, "secfixes key is not a version")
                continue
            version = version.strip()
            if ids is None:
                continue
            if not isinstance(ids, list):
                yield _issue(src, where, "secfixes value is not a list")
                continue
            for text in ids:
                if not isinstance(text, str):
                    yield _issue(src, where, f"id entry is {type(text).__name__}, not text")
                    continue
                cves, others = split_ids(text)
                if cves:
                    keys, rel = cves, others
                elif others:
                    keys, rel = others[:1], others[1:]
                else:
                    yield _issue(src, where, f"no vulnerability id in {text[:80]!r}")
                    continue
                for key in keys:
                    e = by_id.setdefault(key, {}).get(name)
                    if e is None:
                        e = by_id[key][name] = _Entry()
                    if version == "0":
                        e.not_affected = True
                    elif version not in e.versions:
                        e.versions.append(version)
                    if rel:
                        lst = related.setdefault(key, [])
                        lst.extend(r for r in rel if r not in lst)

    for vid, pkgs in by_id.items():
        affected: list[Affected] = []
        for name, e in pkgs.items():
            if e.versions:
                affected.append(
                    Affected(
                        namespace=ns,
                        package=name,
                        scheme=SCHEME,
                        fix_state="fixed",
                        fixed_version=e.versions[-1],
                        ranges=tuple(
                            AffectedRange(
                                events=(RangeEvent("introduced", "0"), RangeEvent("fixed", v))
                            )
                            for v in e.versions
                        ),
                    )
                )
            else:  # only under "0"
                affected.append(
                    Affected(namespace=ns, package=name, scheme=SCHEME, fix_state="not-affected")
                )
        yield Advisory(
            id=vid,
            source=src,
            related=tuple(related.get(vid, ())),
            affected=tuple(affected),
        )


def read(path: Path, source: str | None = None) -> Iterator[Advisory | ParseIssue]:
    """One secdb file (the builder's reader signature); the namespace comes from the file's
    header. A file over ``MAX_RECORD_BYTES`` or unreadable raises ``ParseError``."""
    data = read_bounded(path, MAX_RECORD_BYTES)
    yield from parse_secdb(data, item=f"{path.parent.name}/{path.name}", source=source)
