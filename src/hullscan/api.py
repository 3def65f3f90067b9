"""The library facade: what the CLI, server, webhook and workers call."""

from __future__ import annotations

from hullscan.analyzers import registry
from hullscan.events import ProgressObserver
from hullscan.image.detect import open_source as _open_source
from hullscan.image.source import Source
from hullscan.model import SBOM
from hullscan.options import ScanOptions
from hullscan.walk.cache import LayerCache
from hullscan.walk.engine import analyze_layers
from hullscan.walk.squash import Squasher


def open_source(spec: str, options: ScanOptions | None = None) -> Source:
    """``docker-archive:PATH``, ``oci-dir:PATH[:REF]``, ``oci-archive:PATH``, ``dir:PATH``, or a
    bare path whose kind is detected."""
    opts = options or ScanOptions()
    return _open_source(spec, limits=opts.limits)


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
    return SBOM(
        tool_version=__version__,
        target=info.target,
        distro=squashed.distro,
        layers=tuple(ref for ref, _ in layers),
        packages=tuple(squashed.packages),
        statuses=tuple(squashed.statuses),
        warnings=(*info.warnings, *squashed.warnings),
    )
