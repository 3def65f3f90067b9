"""hullscan: container image analysis and security scanning.

Usage::

    from hullscan import ScanOptions, sbom
    result = sbom("oci-dir:/path/to/layout", ScanOptions())
    for pkg in result.packages:
        print(pkg.purl, pkg.layer_index)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hullscan._version import __version__
from hullscan.errors import HullscanError
from hullscan.model import SBOM, Package
from hullscan.options import ScanOptions

if TYPE_CHECKING:
    from hullscan.api import open_source, sbom


__all__ = ["SBOM", "HullscanError", "Package", "ScanOptions", "__version__", "open_source", "sbom"]


def __getattr__(name: str) -> Any:
    # The facade is imported lazily so that worker processes and submodules that only need
    # the model do not pay for the whole pipeline's imports.
    if name in ("sbom", "open_source"):
        from hullscan import api

        return getattr(api, name)
    raise AttributeError(name)
