"""FriendsOfPHP security advisories (the YAML that composer's security checkers read).

Layout: ``<vendor>/<package>/<ID>.yaml`` (``CVE-2019-10909.yaml``, ``2015-08-06.yaml``...),
keys ``title``, ``link``, ``cve`` (``~`` when none), ``reference``
(``composer://vendor/package``), optional ``composer-repository: false`` (the package is not
on Packagist: Magento marketplace, deleted packages; kept, Composer can still install it) and
``branches``: ``{<name>: {time: <fix date or ~>, versions: ['>=1.0.0', '<1.2.3']}}``. The
constraints of one branch must all hold; the branches are alternatives.

Records: one ``Advisory`` per file, id ``friendsofphp:<vendor>/<package>/<ID>`` (the file's
path as upstream spells it: unique, and
never equal to a CVE/GHSA id another source uses with different content), ``aliases`` = the
CVE, ``published`` = the earliest branch ``time``. One ``Affected`` in namespace ``composer``,
package ``vendor/name`` lower-cased (Composer names are case-insensitive). The branches are
merged with Composer's ordering (``hullscan.versions`` ``composer``) and emitted as ranges
(see ``_native``): ``>=a`` -> introduced a, ``<b`` -> fixed b, ``<=b`` -> last_affected b, no
lower bound -> introduced 0. A branch whose set starts *after* a version (``['>3.2',
'<3.3.0']``: 7 branches upstream) or cannot be read is left out of ``ranges`` and named in
``problem``; the others are kept. ``fixed_version`` is the highest ``fixed`` event (the fix of
the newest branch); the matcher should prefer the ``fixed`` event of the range that matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from hullscan.model.advisory import Advisory, Affected, FixState, ParseIssue
from hullscan.model.namespaces import normalize_package
from hullscan.versions import VersionParseError
from hullscan.versions import parse as parse_version
from hullscan.vulndb.build import _native
from hullscan.vulndb.build._native import Interval
from hullscan.vulndb.build.containers import iter_zip

SOURCE = "friendsofphp"
SCHEME = "composer"
NAMESPACE = "composer"

_CONSTRAINT = re.compile(r"\s*(>=|<=|==|!=|>|<|=)?\s*([^\s,<>=!]+)\s*\Z")
_PACKAGE = re.compile(r"[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]?|-{0,2})[a-z0-9]+)*\Z")


class ConstraintError(ValueError):
    pass


def branch_set(constraints: list[str]) -> list[Interval]:
    """The versions satisfying every constraint of one branch."""
    cmp = _native.comparator(SCHEME)
    result: list[Interval] = list(_native.EVERYTHING)
    for text in constraints:
        m = _CONSTRAINT.match(text)
        if m is None:
            raise ConstraintError(f"invalid constraint {text.strip()[:80]!r}")
        op, v = m.group(1) or "=", m.group(2)
        parse_version(SCHEME, v)  # raises VersionParseError
        ivs: list[Interval]
        if op in ("=", "=="):
            ivs = [Interval(v, True, v, True)]
        elif op == "!=":
            ivs = [Interval(None, True, v, False), Interval(v, False, None, False)]
        elif op == ">=":
            ivs = [Interval(v, True)]
        elif op == ">":
            ivs = [Interval(v, False)]
        elif op == "<":
            ivs = [Interval(None, True, v, False)]
        else:  # "<="
            ivs = [Interval(None, True, v, True)]
        result = _native.intersect_sets(result, ivs, cmp)
    return result


def _package(doc: dict[object, object], name: str) -> str | None:
    ref = doc.get("reference")
    if isinstance(ref, str) and ref.strip().lower().startswith("composer://"):
        pkg = ref.strip()[len("composer://") :]
    else:
        parts = name.split("/")
        if len(parts) < 3:
            return None
        pkg = "/".join(parts[-3:-1])
    pkg = normalize_package(NAMESPACE, pkg)
    return pkg if _PACKAGE.match(pkg) else None


def affected_for(package: str, branches: object) -> Affected:
    """The ``Affected`` for one package from an advisory's ``branches`` mapping."""
    cmp = _native.comparator(SCHEME)
    problems: list[str] = []
    sets: list[Interval] = []
    if not isinstance(branches, dict) or not branches:
        problems.append("no branches")
        branches = {}
    for bname, branch in branches.items():
        versions = branch.get("versions") if isinstance(branch, dict) else None
        if isinstance(versions, str):
            versions = [versions]
        if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
            problems.append(f"branch {bname!s}: 'versions' is not a list of strings")
            continue
        try:
            sets.extend(branch_set(versions))
        except (ConstraintError, VersionParseError) as exc:
            problems.append(f"branch {bname!s} {versions}: {exc}")
    try:
        merged = _native.union(sets, cmp)
    except VersionParseError as exc:  # pragma: no cover - every version was parsed above
        merged = []
        problems.append(str(exc))
    ranges, inexpressible = _native.to_ranges(merged)
    if inexpressible:
        problems.append(
            f"affected versions {_native.describe(inexpressible)} start after a version "
            "(exclusive), which range events cannot say"
        )
    fixed = _native.highest_fixed(ranges, cmp)
    state: FixState = "fixed" if fixed else "affected" if ranges else "unknown"
    return Affected(
        namespace=NAMESPACE,
        package=package,
        scheme=SCHEME,
        fix_state=state,
        fixed_version=fixed,
        ranges=ranges,
        problem="; ".join(problems)[:2000] if problems else None,
    )


def parse_advisory(data: bytes, name: str, source: str = SOURCE) -> Advisory | ParseIssue:
    """One ``<vendor>/<package>/<ID>.yaml`` file."""
    try:
        doc = _native.load_yaml(data)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return ParseIssue(source=source, item=name, error=f"invalid YAML: {str(exc)[:300]}")
    if not isinstance(doc, dict):
        return ParseIssue(source=source, item=name, error="not a YAML mapping")
    package = _package(doc, name)
    if package is None:
        return ParseIssue(source=source, item=name, error="no valid composer package name")
    branches = doc.get("branches")
    times = []
    if isinstance(branches, dict):
        for b in branches.values():
            if isinstance(b, dict) and (t := _native.rfc3339(b.get("time"))):
                times.append(t)
    cve, title, link = doc.get("cve"), doc.get("title"), doc.get("link")
    aliases = (cve.strip(),) if isinstance(cve, str) and cve.strip().startswith("CVE-") else ()
    stem = name.removesuffix(".yaml").removesuffix(".yml").split("/")[-3:]
    return Advisory(
        id=f"{source}:{'/'.join(stem)}",
        source=source,
        aliases=aliases,
        summary=title.strip() if isinstance(title, str) else None,
        published=min(times) if times else None,
        references=(link.strip(),) if isinstance(link, str) and link.strip() else (),
        affected=(affected_for(package, branches),),
    )


def iter_advisories(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """Every advisory of a zip of the repository (``<vendor>/<package>/*.yaml``)."""
    for item in iter_zip(path, suffixes=(".yaml", ".yml"), source=source):
        if isinstance(item, ParseIssue):
            yield item
            continue
        name, data = item
        parts = name.split("/")
        if len(parts) < 3 or parts[0].startswith("."):
            continue  # .github/ workflows, top-level config files of a checkout
        yield parse_advisory(data, name, source)


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """Builder entry point (``SourceSpec.read``)."""
    return iter_advisories(path, source)
