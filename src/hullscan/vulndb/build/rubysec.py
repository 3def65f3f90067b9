"""RubySec advisories (rubysec/ruby-advisory-db, the YAML that bundler-audit reads).

Layout: ``gems/<gem>/<ID>.yml`` (a gem advisory, key ``gem``) and ``rubies/<engine>/<ID>.yml``
(an advisory against a Ruby implementation, key ``engine``: ``ruby``, ``jruby``, ``mruby``,
``mrubyc``, ``rbx``). Keys used: ``cve``, ``ghsa``, ``osvdb`` (ids without their prefix),
``url``, ``title``, ``date``, ``description``, ``cvss_v2``/``cvss_v3``/``cvss_v4`` (scores
only, no vectors), ``patched_versions``, ``unaffected_versions``, ``related`` (``url``,
``cve``, ``ghsa``, ``osvdb`` lists). Ignored: ``notes``, ``framework``, ``library`` and
``platform`` (``jruby``: the advisory is about the gem's JRuby platform build; 14 records).

Versions: every entry of ``patched_versions``/``unaffected_versions`` is a RubyGems
requirement (``"~> 2.2.8, >= 2.2.8.1"``: the comma-separated parts must all hold, as
``Gem::Requirement`` reads them); a version is safe when it satisfies any entry of either
list, and affected otherwise. That complement is computed with RubyGems ordering
(``hullscan.versions`` ``gem``) and emitted as ranges (see ``_native``): ``~> 1.2.3`` is
``>= 1.2.3, < 1.3`` (``Gem::Version#bump``). When a part of the affected set starts
*after* a version (``unaffected_versions: ["<= 1.13.7"]`` makes 1.13.8 affected but not
1.13.7), OSV events cannot say it: that part is left out of ``ranges`` and ``problem`` names
it and quotes the upstream requirements, so the matcher can explain it (13 of 1,381 records;
``fix_state`` ``unknown`` when nothing else is left). When the lists cover every version (2
upstream slips, e.g. ``cron_parser``) the entry is ``not-affected``, as bundler-audit reads it.

Records: one ``Advisory`` per file, id ``rubysec:<path without .yml>`` (e.g.
``rubysec:gems/rack/CVE-2024-26141``: unique, and never equal to a CVE/GHSA id another source
uses with different content); ``aliases`` = ``CVE-``/``GHSA-``/``OSVDB-`` ids. Gems go to
namespace ``gem`` (names as written: RubyGems names are case-sensitive). Ruby implementations
go to namespace ``binary`` (package = the engine name, versions compared as RubyGems
versions), for a Ruby found in an image outside any package manager.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from hullscan.model.advisory import Advisory, Affected, FixState, ParseIssue, Severity
from hullscan.versions import VersionParseError
from hullscan.versions import parse as parse_version
from hullscan.vulndb.build import _native
from hullscan.vulndb.build._native import Interval
from hullscan.vulndb.build.containers import iter_zip
from hullscan.vulndb.cvss import CvssType, rating_for

SOURCE = "rubysec"
SCHEME = "gem"
BINARY_NAMESPACE = "binary"

# Gem::Requirement::PATTERN (op optional, "=" when absent) around Gem::Version's pattern.
_REQ = re.compile(
    r"\s*(=|!=|>=|<=|~>|>|<)?\s*"
    r"([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)\s*\Z",
    re.ASCII,
)
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+", re.ASCII)
_CVSS_KEYS: tuple[tuple[str, CvssType], ...] = (
    ("cvss_v2", "CVSS_V2"),
    ("cvss_v3", "CVSS_V3"),
    ("cvss_v4", "CVSS_V4"),
)


class RequirementError(ValueError):
    pass


def gem_bump(version: str) -> str:
    """``Gem::Version#bump``: drop string segments (and what follows them), then the last
    segment unless it is the only one, then increment the last (``1.2.3`` -> ``1.3``,
    ``3.2.0-rc`` -> ``3.3``, ``1`` -> ``2``)."""
    segs = _SEGMENT.findall(version.strip().replace("-", ".pre."))
    while any(not s.isdigit() for s in segs):
        segs.pop()
    if len(segs) > 1:
        segs.pop()
    if not segs:
        raise RequirementError(f"cannot bump {version!r}")
    segs[-1] = str(int(segs[-1]) + 1)
    return ".".join(segs)


def requirement_set(text: str) -> list[Interval]:
    """The versions satisfying one requirement string (all comma-separated parts)."""
    cmp = _native.comparator(SCHEME)
    result: list[Interval] = list(_native.EVERYTHING)
    parts = text.split(",")
    if len(parts) > 32:
        raise RequirementError("more than 32 requirement parts")
    for part in parts:
        m = _REQ.match(part)
        if m is None:
            raise RequirementError(f"invalid requirement {part.strip()!r}")
        op, v = m.group(1) or "=", m.group(2)
        parse_version(SCHEME, v)  # raises VersionParseError
        ivs: list[Interval]
        if op == "=":
            ivs = [Interval(v, True, v, True)]
        elif op == "!=":
            ivs = [Interval(None, True, v, False), Interval(v, False, None, False)]
        elif op == ">=":
            ivs = [Interval(v, True)]
        elif op == ">":
            ivs = [Interval(v, False)]
        elif op == "<":
            ivs = [Interval(None, True, v, False)]
        elif op == "<=":
            ivs = [Interval(None, True, v, True)]
        else:  # "~>"
            ivs = [Interval(v, True, gem_bump(v), False)]
        result = _native.intersect_sets(result, ivs, cmp)
    return result


def _strings(value: object) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(x, str | int | float) for x in value):
        return [str(x) for x in value]
    if isinstance(value, str | int | float):
        return [str(value)]
    return None


def _ids(prefix: str, value: object) -> list[str]:
    out = []
    for v in _strings(value) or []:
        v = v.strip()
        if not v:
            continue
        out.append(v if v.upper().startswith(prefix) else prefix + v)
    return out


def affected_for(
    namespace: str, package: str, patched: list[str], unaffected: list[str]
) -> Affected:
    """The ``Affected`` for one gem/engine from its patched/unaffected requirement lists."""
    cmp = _native.comparator(SCHEME)
    try:
        safe: list[Interval] = []
        for req in (*patched, *unaffected):
            safe.extend(requirement_set(req))
        affected = _native.complement(safe, cmp)
    except (RequirementError, VersionParseError) as exc:
        return _problem(namespace, package, patched, unaffected, str(exc))
    ranges, inexpressible = _native.to_ranges(affected)
    fixed = _native.highest_fixed(ranges, cmp)
    state: FixState = "fixed" if fixed else "affected" if ranges else "unknown"
    problem = None
    if inexpressible:
        problem = (
            f"affected versions {_native.describe(inexpressible)} start after a version "
            "(exclusive), which range events cannot say"
            f"; patched_versions {patched}, unaffected_versions {unaffected}"
        )
    elif not affected:
        state = "not-affected"  # every version is patched or unaffected (an upstream slip)
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        fix_state=state,
        fixed_version=fixed,
        ranges=ranges,
        problem=problem,
    )


def _problem(
    namespace: str, package: str, patched: list[str], unaffected: list[str], why: str
) -> Affected:
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        fix_state="unknown",
        problem=f"{why}; patched_versions {patched}, unaffected_versions {unaffected}",
    )


def parse_advisory(data: bytes, name: str, source: str = SOURCE) -> Advisory | ParseIssue:
    """One ``gems/<gem>/<ID>.yml`` or ``rubies/<engine>/<ID>.yml`` file."""
    try:
        doc = _native.load_yaml(data)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return ParseIssue(source=source, item=name, error=f"invalid YAML: {str(exc)[:300]}")
    if not isinstance(doc, dict):
        return ParseIssue(source=source, item=name, error="not a YAML mapping")
    gem, engine = doc.get("gem"), doc.get("engine")
    if isinstance(gem, str) and gem.strip():
        namespace, package = "gem", gem.strip()
    elif isinstance(engine, str) and engine.strip():
        namespace, package = BINARY_NAMESPACE, engine.strip()
    else:
        return ParseIssue(source=source, item=name, error="neither 'gem' nor 'engine' given")
    patched = _strings(doc.get("patched_versions"))
    unaffected = _strings(doc.get("unaffected_versions"))
    if patched is None or unaffected is None:
        return ParseIssue(
            source=source, item=name, error="patched/unaffected_versions is not a list"
        )
    stem = name.rsplit("/", 1)[-1].removesuffix(".yml").removesuffix(".yaml")
    base = "/".join(name.split("/")[-3:-1])  # gems/<gem> or rubies/<engine>
    aliases = [
        *_ids("CVE-", doc.get("cve")),
        *_ids("GHSA-", doc.get("ghsa")),
        *_ids("OSVDB-", doc.get("osvdb")),
    ]
    related_doc = doc.get("related")
    related: list[str] = []
    references = _strings(doc.get("url")) or []
    if isinstance(related_doc, dict):
        related = [
            *_ids("CVE-", related_doc.get("cve")),
            *_ids("GHSA-", related_doc.get("ghsa")),
            *_ids("OSVDB-", related_doc.get("osvdb")),
        ]
        references += _strings(related_doc.get("url")) or []
    severities = []
    for key, type_ in _CVSS_KEYS:
        score = doc.get(key)
        if isinstance(score, int | float) and not isinstance(score, bool) and 0 <= score <= 10:
            s = float(score)
            severities.append(
                Severity(source=source, type=type_, score=s, rating=rating_for(s, type_))
            )
    title, description = doc.get("title"), doc.get("description")
    return Advisory(
        id=f"{source}:{base}/{stem}" if base else f"{source}:{stem}",
        source=source,
        aliases=tuple(dict.fromkeys(a for a in aliases if a)),
        related=tuple(dict.fromkeys(r for r in related if r not in aliases)),
        summary=title.strip() if isinstance(title, str) else None,
        details=description if isinstance(description, str) else None,
        published=_native.rfc3339(doc.get("date")),
        severities=tuple(severities),
        references=tuple(dict.fromkeys(r.strip() for r in references if r.strip())),
        affected=(affected_for(namespace, package, patched, unaffected),),
    )


def iter_advisories(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """Every advisory of a zip of the repository (``gems/**.yml``, ``rubies/**.yml``)."""
    for item in iter_zip(path, suffixes=(".yml", ".yaml"), source=source):
        if isinstance(item, ParseIssue):
            yield item
            continue
        name, data = item
        parts = name.split("/")
        if len(parts) < 3 or parts[-3] not in ("gems", "rubies"):
            continue  # .github/, lib/, spec/ ... of a full checkout
        yield parse_advisory(data, name, source)


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """Builder entry point (``SourceSpec.read``)."""
    return iter_advisories(path, source)
