"""Limits on everything read from an image: images come from strangers.

One ``Limits`` value travels from the options to every reader. The defaults are generous for
real images (the largest public images have multi-GB layers) and stop decompression bombs,
entry floods and oversized metadata before they exhaust memory or disk.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class Limits:
    # JSON documents (index, manifest, config, docker manifest.json) are read whole.
    max_metadata_bytes: int = 8 * MiB
    # Uncompressed bytes of one layer and of the whole image.
    max_layer_bytes: int = 32 * GiB
    max_image_bytes: int = 128 * GiB
    # Uncompressed/compressed ratio, checked once a layer has produced ratio_grace bytes.
    max_compression_ratio: int = 1100
    ratio_grace_bytes: int = 64 * MiB
    max_layers: int = 512
    max_entries_per_layer: int = 5_000_000
    max_path_bytes: int = 4096
    max_path_depth: int = 256
    # pax extended headers and GNU long names are read into memory.
    max_tar_header_bytes: int = 1 * MiB
    # symlinks kept per layer for resolution inside the root.
    max_symlinks_per_layer: int = 1_000_000
    max_symlink_hops: int = 40
    # Members of a whole-archive tarball (docker save / oci-archive) listed before reading.
    max_archive_members: int = 100_000


DEFAULT_LIMITS = Limits()
