"""The library facade: what the CLI, server, webhook and workers call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from hullscan.analyzers import registry
from hullscan.analyzers.drift import find_drift
from hullscan.analyzers.ownership import drop_os_owned
from hullscan.events import ProgressObserver
from hullscan.image.detect import open_source as _open_source
from hullscan.image.source import Source
from hullscan.model import SBOM
from hullscan.model.finding import ScanResult
from hullscan.options import ScanOptions
from hullscan.walk.cache import LayerCache
from hullscan.walk.engine import analyze_layers
from hullscan.walk.squash import Squasher

if TYPE_CHECKING:
    from hullscan.match.explain import Explanation


#: Analyzers whose packages are dropped when an OS package owns the file (docs/languages.md).
CLASSIFIERS = frozenset({"lang/binary"})


def open_source(spec: str, options: ScanOptions | None = None) -> Source:
    """``docker-archive:PATH``, ``oci-dir:PATH[:REF]``, ``oci-archive:PATH``, ``dir:PATH``, a
    bare path whose kind is detected, or an image reference (``nginx:1.25``,
    ``registry:REF``) read from its registry."""
    opts = options or ScanOptions()
    return _open_source(spec, limits=opts.limits, registry=opts.registry)


def sbom(
    target: str | Source,
    options: ScanOptions | None = None,
    observer: ProgressObserver | None = None,
) -> SBOM:
    """Read an image once (layers in parallel, through the layer cache) and return its SBOM."""
    from hullscan import __version__

    opts = options or ScanOptions()
    source = open_source(target, opts) if isinstance(target, str) else target
    try:
        info = source.resolve(opts.platform)
        analyzers = registry.create(opts.analyzers)
        cache = (
            LayerCache(opts.cache_dir, max_bytes=opts.cache_max_bytes)
            if opts.cache_dir is not None
            else None
        )
        layers = analyze_layers(
            info, analyzers, opts.limits, cache=cache, workers=opts.workers, observer=observer
        )
    finally:
        if isinstance(target, str):
            source.close()
    squashed = Squasher(analyzers, opts.limits).squash(layers)
    packages = drop_os_owned(squashed.packages, CLASSIFIERS)
    drift, drift_warnings = find_drift(packages)
    return SBOM(
        tool_version=__version__,
        target=info.target,
        distro=squashed.distro,
        layers=tuple(ref for ref, _ in layers),
        packages=tuple(packages),
        statuses=tuple(squashed.statuses),
        warnings=(*info.warnings, *squashed.warnings, *drift_warnings),
        drift=tuple(drift),
    )


def scan_sbom(
    sbom_doc: SBOM,
    db_path: Path,
    *,
    now: datetime | None = None,
    base_layers: int | None = None,
    from_sbom_file: bool = False,
) -> ScanResult:
    """Match an SBOM against the DB at ``db_path``; add remediations and the layer summary.

    ``from_sbom_file``: the SBOM was read from a file (not produced by this run), so packages
    that could not be looked up are summarized in a warning (what and why), never dropped
    silently.
    """
    from hullscan.match import match_sbom
    from hullscan.vulndb.store import VulnStore

    with VulnStore(db_path) as store:
        result = match_sbom(sbom_doc, store, now=now)
    return finish_scan(result, sbom_doc, base_layers=base_layers, from_sbom_file=from_sbom_file)


def finish_scan(
    result: ScanResult,
    sbom_doc: SBOM,
    *,
    base_layers: int | None = None,
    from_sbom_file: bool = False,
) -> ScanResult:
    """``match_sbom``'s result plus package count, layers, remediations and layer summary."""
    from hullscan.match.remediation import base_layer_indexes, layer_summary, remediations

    warnings = list(sbom_doc.warnings)
    if from_sbom_file:
        warnings += unmatched_warnings(result)
    warnings += [w for w in result.warnings if w not in warnings]
    base, _ = base_layer_indexes(sbom_doc.layers, sbom_doc.target.labels, base_layers)
    return msgspec.structs.replace(
        result,
        warnings=tuple(warnings),
        package_count=len(sbom_doc.packages),
        layers=sbom_doc.layers,
        remediations=remediations(result.findings, result.distro, base),
        layer_summary=layer_summary(
            result.findings, sbom_doc.layers, sbom_doc.target.labels, base_layers
        ),
    )


def unmatched_warnings(result: ScanResult, max_names: int = 5) -> list[str]:
    """One warning per reason packages were not looked up, naming the first few."""
    by_reason: dict[str, list[str]] = {}
    for u in result.unmatched:
        by_reason.setdefault(u.reason, []).append(f"{u.name}@{u.version}" if u.version else u.name)
    out = []
    for reason, names in sorted(by_reason.items()):
        shown = ", ".join(names[:max_names]) + (", ..." if len(names) > max_names else "")
        out.append(f"{len(names)} package(s) could not be matched: {reason} ({shown})")
    return out


def scan(
    target: str | Source,
    options: ScanOptions | None = None,
    db_path: Path | None = None,
    observer: ProgressObserver | None = None,
    now: datetime | None = None,
    *,
    base_layers: int | None = None,
) -> ScanResult:
    """Read an image (``sbom``) and match it against the vulnerability DB.

    ``db_path`` defaults to ``hullscan.vulndb.manage.default_db_path()``. The DB is opened
    before the image is read, so a missing or foreign DB fails fast (``DbError``, exit 2).
    """
    return scan_image(target, options, db_path, observer, now, base_layers=base_layers)[1]


def scan_image(
    target: str | Source,
    options: ScanOptions | None = None,
    db_path: Path | None = None,
    observer: ProgressObserver | None = None,
    now: datetime | None = None,
    *,
    base_layers: int | None = None,
) -> tuple[SBOM, ScanResult]:
    """:func:`scan`, also returning the SBOM it matched (for path-based policy rules)."""
    from hullscan.match import match_sbom
    from hullscan.vulndb.manage import default_db_path
    from hullscan.vulndb.store import VulnStore

    with VulnStore(db_path or default_db_path()) as store:
        doc = sbom(target, options, observer)
        result = match_sbom(doc, store, now=now)
    return doc, finish_scan(result, doc, base_layers=base_layers)


def explain(
    advisory_id: str,
    db_path: Path,
    *,
    target: str | Source | None = None,
    sbom_doc: SBOM | None = None,
    options: ScanOptions | None = None,
    package: str | None = None,
) -> Explanation:
    """Why ``advisory_id`` (id or alias) does or does not match an image (``target``) or an
    SBOM (``sbom_doc``): ``hullscan.match.explain``. The DB is opened first (fails fast)."""
    from hullscan.match.explain import explain as _explain
    from hullscan.vulndb.store import VulnStore

    with VulnStore(db_path) as store:
        if sbom_doc is None:
            if target is None:
                raise ValueError("explain needs a target or an SBOM")
            sbom_doc = sbom(target, options)
        return _explain(sbom_doc, store, advisory_id, package=package)
