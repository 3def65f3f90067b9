"""A software package found in an image."""

from __future__ import annotations

import hashlib
from typing import Literal

import msgspec

from hullscan.model.location import Location
from hullscan.model.metadata import PackageMetadata


class Package(msgspec.Struct, frozen=True, kw_only=True):
    """One installed package.

    ``version`` is the full version as the ecosystem writes it (dpkg ``[epoch:]upstream-revision``,
    rpm ``[epoch:]version-release``, apk ``version-rN``). ``type`` is the purl type (deb, rpm, apk).
    ``layer_diff_id`` is the layer that introduced the package at this version; ``created_by`` is
    that layer's build step. ``relationship``: ``installed`` (found installed: a package
    database, a manifest in ``node_modules``, a binary) or ``declared`` (named by a lock file or
    pinned requirement: what the project asked for, which may differ from what is installed).
    """

    name: str
    version: str
    type: str
    purl: str
    found_by: str
    arch: str | None = None
    source_name: str | None = None
    source_version: str | None = None
    licenses: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    layer_diff_id: str | None = None
    layer_index: int | None = None
    created_by: str | None = None
    files: tuple[str, ...] = ()
    metadata: PackageMetadata | None = None
    relationship: Literal["installed", "declared"] = "installed"

    @property
    def id(self) -> str:
        """Content-addressed identity: purl + where it was found (stable across runs)."""
        h = hashlib.sha256(self.purl.encode())
        for loc in self.locations[:1]:
            h.update(b"\0" + loc.path.encode())
        h.update(b"\0" + (self.layer_diff_id or "").encode())
        return h.hexdigest()[:16]
