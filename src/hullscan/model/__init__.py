"""Pure data types shared by every subsystem (no I/O)."""

from hullscan.model.distro import Distro
from hullscan.model.location import LayerRef, Location
from hullscan.model.metadata import (
    ApkMeta,
    BinaryMeta,
    DpkgMeta,
    GoMeta,
    JavaMeta,
    LockMeta,
    PackageMetadata,
    RpmMeta,
)
from hullscan.model.package import Package
from hullscan.model.sbom import SBOM, SBOM_SCHEMA_VERSION, Relationship, Target
from hullscan.model.status import AnalyzerStatus, FileError

__all__ = [
    "SBOM",
    "SBOM_SCHEMA_VERSION",
    "AnalyzerStatus",
    "ApkMeta",
    "Distro",
    "DpkgMeta",
    "FileError",
    "LayerRef",
    "Location",
    "Package",
    "PackageMetadata",
    "Relationship",
    "RpmMeta",
    "JavaMeta",
    "GoMeta",
    "LockMeta",
    "BinaryMeta",
    "Target",
]
