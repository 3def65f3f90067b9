"""What one pass over one layer produced. Small, typed, cached by layer digest."""

from __future__ import annotations

import msgspec


class FileResult(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One analyzer's outcome for one file: an encoded record, or an error message."""

    analyzer: str
    payload: bytes | None = None
    error: str | None = None


class LayerResult(msgspec.Struct, kw_only=True):
    """Per-layer facts the squash step needs; never holds raw file contents.

    ``files`` maps a normalized path to the results of every analyzer that read it.
    ``symlinks`` and ``hardlinks`` map paths to their (raw) targets, so squash can resolve
    wanted paths through links inside the image root. ``whiteouts`` are paths deleted by this
    layer, ``opaque_dirs`` directories whose lower-layer contents are hidden.
    """

    diff_id: str
    files: dict[str, list[FileResult]] = {}
    symlinks: dict[str, str] = {}
    hardlinks: dict[str, str] = {}
    whiteouts: list[str] = []
    opaque_dirs: list[str] = []
    entries: int = 0
    uncompressed_bytes: int = 0
    compressed_bytes: int = 0
    warnings: list[str] = []


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(LayerResult)


def encode_layer_result(result: LayerResult) -> bytes:
    return _ENCODER.encode(result)


def decode_layer_result(data: bytes) -> LayerResult:
    return _DECODER.decode(data)
