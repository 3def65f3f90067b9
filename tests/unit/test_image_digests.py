"""Digest parsing, validation and verification."""

from __future__ import annotations

import hashlib

import pytest

from hullscan.errors import DigestMismatchError, ManifestError
from hullscan.image.digests import (
    Digest,
    blob_path,
    compute_digest,
    digest_from_blob_path,
    is_digest,
    parse_digest,
    show,
    verify_digest,
)

HEX = hashlib.sha256(b"x").hexdigest()
HEX512 = hashlib.sha512(b"x").hexdigest()


def test_parse_valid() -> None:
    assert parse_digest(f"sha256:{HEX}", where="w") == Digest("sha256", HEX)
    assert parse_digest(f"sha512:{HEX512}", where="w") == Digest("sha512", HEX512)
    assert str(Digest("sha256", HEX)) == f"sha256:{HEX}"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "must be a string"),
        (42, "must be a string"),
        (HEX, "expected algorithm:hex"),
        (f"md5:{HEX[:32]}", "unsupported digest algorithm"),
        (f"SHA256:{HEX}", "unsupported digest algorithm"),
        (f"sha256:{HEX.upper()}", "lowercase hex"),
        (f"sha256:{HEX[:-1]}", "64 lowercase hex"),
        (f"sha256:{HEX}0", "64 lowercase hex"),
        ("sha256:../../etc/passwd", "invalid sha256 digest"),
        (f"sha256:{HEX}\n", "invalid sha256 digest"),
        (f"sha512:{HEX}", "128 lowercase hex"),
    ],
)
def test_parse_invalid(value: object, why: str) -> None:
    with pytest.raises(ManifestError) as ei:
        parse_digest(value, where="file.tar: index.json")
    msg = str(ei.value)
    assert msg.startswith("file.tar: index.json: ")
    assert why in msg
    assert "\n" not in msg
    assert not is_digest(value)


def test_verify() -> None:
    good = compute_digest(b"data")
    assert verify_digest(b"data", good, where="w") == parse_digest(good, where="w")
    with pytest.raises(DigestMismatchError, match=r"^cfg: digest mismatch: expected sha256:"):
        verify_digest(b"other", good, where="cfg")
    sha512 = compute_digest(b"data", "sha512")
    verify_digest(b"data", sha512, where="w")
    with pytest.raises(ManifestError):
        verify_digest(b"data", "sha256:nothex", where="w")


def test_blob_paths() -> None:
    d = Digest("sha256", HEX)
    assert blob_path(d) == f"blobs/sha256/{HEX}"
    assert digest_from_blob_path(blob_path(d), where="w") == d
    assert digest_from_blob_path("abc/layer.tar", where="w") is None
    assert digest_from_blob_path("blobs/md5/abc", where="w") is None
    with pytest.raises(ManifestError, match="not a valid sha256 digest"):
        digest_from_blob_path("blobs/sha256/XYZ", where="w")


def test_show_is_one_line_and_short() -> None:
    text = show("a\nb" * 100)
    assert "\n" not in text and len(text) <= 100
