"""The SBOM: everything the image analysis found, with no vulnerability data in it."""

from __future__ import annotations

from typing import Literal

import msgspec

from hullscan.model.distro import Distro
from hullscan.model.location import LayerRef
from hullscan.model.package import Package
from hullscan.model.status import AnalyzerStatus

SBOM_SCHEMA_VERSION = 1


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """What was scanned. ``kind`` is the source scheme (docker-archive, oci-dir, ...)."""

    name: str
    kind: str
    manifest_digest: str | None = None
    config_digest: str | None = None
    image_id: str | None = None
    repo_tags: tuple[str, ...] = ()
    # ``registry/repository@digest``: what a registry tag resolved to (the index digest of a
    # multi-platform image; ``manifest_digest`` is the chosen platform's manifest).
    repo_digests: tuple[str, ...] = ()
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    created: str | None = None
    user: str | None = None
    env: tuple[str, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    labels: dict[str, str] = {}


class Relationship(msgspec.Struct, frozen=True, kw_only=True):
    """``from_id`` -> ``to_id`` by package id; ``type`` e.g. ``depends-on``, ``contains``."""

    from_id: str
    to_id: str
    type: str


class Drift(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A declared package (lock file, pinned requirement) that is not installed as declared:
    ``not-installed`` (the project was installed, this package is missing) or ``other-version``
    (installed at ``installed`` instead of ``declared``)."""

    kind: Literal["not-installed", "other-version"]
    manifest: str  # the lock file's path in the image
    type: str  # purl type
    name: str
    declared: str
    installed: tuple[str, ...] = ()


class SBOM(msgspec.Struct, frozen=True, kw_only=True):
    schema_version: int = SBOM_SCHEMA_VERSION
    tool: str = "hullscan"
    tool_version: str = ""
    target: Target
    distro: Distro | None = None
    layers: tuple[LayerRef, ...] = ()
    packages: tuple[Package, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    statuses: tuple[AnalyzerStatus, ...] = ()
    warnings: tuple[str, ...] = ()
    drift: tuple[Drift, ...] = ()
