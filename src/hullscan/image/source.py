"""The ``Source`` interface: where an image's bytes come from.

A source yields the image's metadata (manifest, config, ordered layers) and opens each
layer's *blob* (possibly compressed) as a byte stream. It never interprets layer contents;
:mod:`hullscan.image.layer` decompresses and verifies, :mod:`hullscan.walk` reads the tar.

Layer openers must be picklable (they are sent to worker processes), so a source hands out
``LayerOpener`` values rather than open files. A registry client plugs in by implementing
``Source`` and ``LayerOpener`` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Protocol, runtime_checkable

from hullscan.model import LayerRef, Target


@runtime_checkable
class LayerOpener(Protocol):
    """Opens one layer blob for reading. Picklable; called in a worker process."""

    def open(self) -> IO[bytes]: ...


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One filesystem layer as the manifest and config describe it.

    ``blob_digest`` is the digest of the blob as stored (compressed) when the source knows it
    (OCI layouts, registries); ``None`` for classic docker-save layers that are stored
    uncompressed under a path only. ``diff_id`` comes from the config's ``rootfs.diff_ids``
    and is always verified against the uncompressed stream.
    """

    ref: LayerRef
    opener: LayerOpener
    blob_digest: str | None
    media_type: str | None
    size: int | None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What a source resolved: the target description, config and layers in order."""

    target: Target
    config: dict[str, object]
    layers: tuple[LayerSpec, ...]
    warnings: tuple[str, ...] = field(default=())


class Source(Protocol):
    """Resolves an image reference to verified metadata and layer openers."""

    kind: str

    def resolve(self, platform: str | None) -> ImageInfo:
        """Read and verify index/manifest/config; raise ImageError subclasses on bad input."""
        ...

    def close(self) -> None: ...
