"""Where a package was found: a path inside the image and the layer that put it there."""

from __future__ import annotations

import msgspec


class LayerRef(msgspec.Struct, frozen=True, kw_only=True):
    """One filesystem layer of an image, aligned with its build step.

    ``index`` counts filesystem layers only (history entries marked ``empty_layer`` are skipped
    when aligning ``created_by``).
    """

    index: int
    diff_id: str
    digest: str | None = None
    media_type: str | None = None
    size: int | None = None
    created_by: str | None = None
    created: str | None = None
    comment: str | None = None


class Location(msgspec.Struct, frozen=True, kw_only=True):
    """A file inside the image root (relative, no leading slash) and the layer holding it."""

    path: str
    layer_diff_id: str | None = None
