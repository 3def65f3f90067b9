"""Drift between what projects declare (lock files, pinned requirements) and what is installed.

Runs on the final package list, after every analyzer. For each lock file, its declared packages
are compared with the installed packages of the same ecosystem *in its scope*: for npm, the
``node_modules`` tree beside the lock file (``/app/package-lock.json`` <-> ``/app/node_modules``);
for the other ecosystems (a requirements file and a ``site-packages`` directory are not related
by path), every installed package of that ecosystem in the image. Names are compared as each
ecosystem does (PEP 503 for PyPI).

* ``other-version``: a declared package is installed, but never at the declared version;
* ``not-installed``: a declared, non-development package has no installed copy although the
  project was installed (at least one declared package is installed in scope). A lock file
  none of whose packages is installed (a source tree copied into a build stage) gives no drift
  entries, only a warning: everything it declares would otherwise be listed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from packaging.utils import canonicalize_version

from hullscan.model import LockMeta, Package
from hullscan.model.namespaces import normalize_package
from hullscan.model.sbom import Drift

# purl types whose names compare as their vulnerability namespace compares them
_NORMALIZED = frozenset({"pypi", "npm", "gem", "composer", "nuget", "cargo", "golang"})


def _version(p: Package) -> str:
    """PyPI versions compare by PEP 440 (``1.0`` is ``1.0.0``); others as written."""
    if p.type == "pypi":
        return canonicalize_version(p.version, strip_trailing_zero=True)
    return p.version


def _key(p: Package) -> tuple[str, str]:
    if p.type in _NORMALIZED:
        return p.type, normalize_package(p.type, p.name)
    return p.type, p.name


def _in_scope(installed: Package, manifest: str) -> bool:
    if installed.type != "npm":
        return True
    root = posixpath.dirname(manifest)
    prefix = f"{root}/node_modules/" if root else "node_modules/"
    return any(loc.path.startswith(prefix) for loc in installed.locations)


def find_drift(packages: Sequence[Package]) -> tuple[list[Drift], list[str]]:
    """(drift entries, warnings) for the declared packages of ``packages``."""
    installed: dict[tuple[str, str], list[Package]] = {}
    by_manifest: dict[str, list[Package]] = {}
    for p in packages:
        if p.relationship == "declared":
            if p.locations:
                by_manifest.setdefault(p.locations[0].path, []).append(p)
        else:
            installed.setdefault(_key(p), []).append(p)
    drift: list[Drift] = []
    warnings: list[str] = []
    for manifest, declared in sorted(by_manifest.items()):
        found: list[tuple[Package, list[str], bool]] = []
        any_installed = False
        for d in declared:
            copies = [p for p in installed.get(_key(d), ()) if _in_scope(p, manifest)]
            versions = sorted({p.version for p in copies})
            same = {_version(p) for p in copies}
            any_installed = any_installed or bool(versions)
            found.append((d, versions, _version(d) in same))
        if not any_installed:
            warnings.append(
                f"{manifest}: none of its {len(declared)} declared package(s) is installed "
                "(not compared)"
            )
            continue
        for d, versions, matches in found:
            dev = isinstance(d.metadata, LockMeta) and d.metadata.dev
            if not versions:
                if not dev:
                    drift.append(_drift("not-installed", manifest, d, ()))
            elif not matches:
                drift.append(_drift("other-version", manifest, d, tuple(versions)))
    return drift, warnings


def _drift(kind: str, manifest: str, d: Package, versions: tuple[str, ...]) -> Drift:
    return Drift(
        kind=kind,  # type: ignore[arg-type]
        manifest=manifest,
        type=d.type,
        name=d.name,
        declared=d.version,
        installed=versions,
    )
