from __future__ import annotations

import gzip
import hashlib
import io

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.errors import DigestMismatchError, ImageError, LayerFormatError, LimitExceededError
from hullscan.image.layer import LayerStream
from hullscan.image.limits import Limits
from hullscan.walk.tarwalk import walk_layer
from tests.unit.tarmaker import make_tar

TAR = make_tar([("etc/os-release", "ID=test\n", "file"), ("big", b"\0" * 100_000, "file")])
DIFF_ID = "sha256:" + hashlib.sha256(TAR).hexdigest()


def blob(kind: str) -> bytes:
    if kind == "gzip":
        return gzip.compress(TAR)
    if kind == "zstd":
        return zstandard.ZstdCompressor().compress(TAR)
    return TAR


def read(
    raw: bytes,
    *,
    diff_id: str | None = DIFF_ID,
    blob_digest: str | None = None,
    limits: Limits = Limits(),
) -> LayerStream:
    s = LayerStream(
        io.BytesIO(raw),
        name="layer 0",
        limits=limits,
        expected_diff_id=diff_id,
        expected_blob_digest=blob_digest,
    )
    out = b"".join(s.chunks())
    assert out == TAR
    return s


@pytest.mark.parametrize("kind", ["none", "gzip", "zstd"])
def test_layer_stream_decompresses_and_verifies(kind: str) -> None:
    raw = blob(kind)
    s = read(raw, blob_digest="sha256:" + hashlib.sha256(raw).hexdigest())
    assert s.compression == kind
    assert s.diff_id == DIFF_ID
    assert s.uncompressed_bytes == len(TAR) and s.compressed_bytes == len(raw)


def test_layer_stream_multi_member_gzip() -> None:
    raw = gzip.compress(TAR[:1024]) + gzip.compress(TAR[1024:])
    assert read(raw).compression == "gzip"


@pytest.mark.parametrize("kind", ["none", "gzip", "zstd"])
def test_layer_stream_diff_id_mismatch_is_an_error(kind: str) -> None:
    with pytest.raises(DigestMismatchError, match="diff_id mismatch"):
        read(blob(kind), diff_id="sha256:" + "0" * 64)


def test_layer_stream_blob_digest_mismatch_is_an_error() -> None:
    with pytest.raises(DigestMismatchError, match="blob digest mismatch"):
        read(blob("gzip"), blob_digest="sha256:" + "1" * 64)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_layer_stream_truncated_compression_is_an_error(kind: str) -> None:
    raw = blob(kind)
    s = LayerStream(
        io.BytesIO(raw[: len(raw) // 2]),
        name="layer 0",
        limits=Limits(),
        expected_diff_id=DIFF_ID,
        expected_blob_digest=None,
    )
    # gzip knows its stream is cut; zstandard's reader may just stop, and then the diff_id
    # check catches it. Either way: an error, never a result.
    with pytest.raises((LayerFormatError, DigestMismatchError)):
        b"".join(s.chunks())


def test_layer_stream_corrupt_gzip_is_an_error() -> None:
    raw = bytearray(blob("gzip"))
    raw[len(raw) // 2] ^= 0xFF
    raw[len(raw) // 2 + 1] ^= 0xFF
    s = LayerStream(
        io.BytesIO(bytes(raw)),
        name="layer 0",
        limits=Limits(),
        expected_diff_id=DIFF_ID,
        expected_blob_digest=None,
    )
    with pytest.raises((LayerFormatError, DigestMismatchError)):
        b"".join(s.chunks())


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_layer_stream_decompression_bomb_stopped_by_ratio(kind: str) -> None:
    zeros = b"\0" * (8 * 1024 * 1024)
    raw = (
        gzip.compress(zeros * 4)
        if kind == "gzip"
        else zstandard.ZstdCompressor().compress(zeros * 4)
    )
    limits = Limits(ratio_grace_bytes=1024 * 1024, max_compression_ratio=100)
    s = LayerStream(
        io.BytesIO(raw),
        name="layer 0",
        limits=limits,
        expected_diff_id=None,
        expected_blob_digest=None,
    )
    with pytest.raises(LimitExceededError, match="decompression bomb"):
        for _ in s.chunks():
            pass


def test_layer_stream_total_size_limit() -> None:
    raw = gzip.compress(b"\0" * (4 * 1024 * 1024))
    s = LayerStream(
        io.BytesIO(raw),
        name="layer 0",
        limits=Limits(max_layer_bytes=1024 * 1024),
        expected_diff_id=None,
        expected_blob_digest=None,
    )
    with pytest.raises(LimitExceededError, match="uncompressed bytes"):
        for _ in s.chunks():
            pass


# --- property: whatever the blob bytes, a LayerStream yields data or raises one of our errors


def _mutate(data: bytes, cuts: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, value in cuts:
        if buf:
            buf[pos % len(buf)] = value
    return bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["gzip", "zstd", "none"]),
    cuts=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6),
    truncate=st.one_of(st.none(), st.integers(0, 200_000)),
    check_digest=st.booleans(),
)
def test_any_damaged_blob_is_read_or_rejected_cleanly(
    kind: str, cuts: list[tuple[int, int]], truncate: int | None, check_digest: bool
) -> None:
    raw = _mutate(blob(kind), cuts)
    if truncate is not None:
        raw = raw[:truncate]
    stream = LayerStream(
        io.BytesIO(raw),
        name="layer 0",
        limits=Limits(),
        expected_diff_id=DIFF_ID if check_digest else None,
        expected_blob_digest=None,
    )
    try:
        result = walk_layer(
            stream.chunks(), diff_id=DIFF_ID, layer_name="layer 0", analyzers=[], limits=Limits()
        )
    except ImageError:
        return  # LayerFormatError, DigestMismatchError, LimitExceededError: all exit code 2
    # Accepted: then the bytes verified (or were not checked) and the walk saw a real tar.
    if check_digest:
        assert stream.diff_id == DIFF_ID
    assert result.diff_id == DIFF_ID


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_as_a_layer(data: bytes) -> None:
    stream = LayerStream(
        io.BytesIO(data),
        name="l",
        limits=Limits(),
        expected_diff_id=None,
        expected_blob_digest=None,
    )
    try:
        walk_layer(stream.chunks(), diff_id="", layer_name="l", analyzers=[], limits=Limits())
    except ImageError:
        pass
