"""Content digests (``sha256:<hex>``): parsing, validation, computing and verifying.

Every digest read from an image (index, manifest, config, ``manifest.json`` paths) goes
through :func:`parse_digest` before it is used to name a file, so a hostile digest can never
become a path such as ``sha256:../../etc/passwd``. Only the algorithms hullscan can verify are
accepted (sha256 and sha512, the two registered by the OCI image spec)::

    >>> d = parse_digest("sha256:" + "ab" * 32, where="index.json")
    >>> d.algorithm, blob_path(d)[:14]
    ('sha256', 'blobs/sha256/a')
    >>> verify_digest(b"", "sha256:" + "0" * 64, where="config")
    Traceback (most recent call last):
    ...
    hullscan.errors.DigestMismatchError: config: digest mismatch: ...
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from hullscan.errors import DigestMismatchError, ManifestError

SHA256 = "sha256"
SHA512 = "sha512"
_HEX_LENGTHS = {SHA256: 64, SHA512: 128}
_HEX_RE = {alg: re.compile(rf"[0-9a-f]{{{n}}}") for alg, n in _HEX_LENGTHS.items()}
_SHOW_MAX = 100


def show(value: object) -> str:
    """A value taken from untrusted input, quoted and shortened for a one-line message."""
    text = repr(value)
    if len(text) > _SHOW_MAX:
        text = text[: _SHOW_MAX - 3] + "..."
    return text


@dataclass(frozen=True, slots=True)
class Digest:
    """A validated digest: ``algorithm`` is sha256 or sha512, ``hex`` lowercase hex."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def is_valid_hex(algorithm: str, value: str) -> bool:
    """True when ``value`` is the lowercase hex encoding ``algorithm`` produces."""
    pattern = _HEX_RE.get(algorithm)
    return pattern is not None and pattern.fullmatch(value) is not None


def parse_digest(value: object, *, where: str) -> Digest:
    """Validate ``algorithm:hex``; raise ``ManifestError`` naming ``where`` otherwise."""
    if not isinstance(value, str):
        raise ManifestError(f"{where}: digest must be a string, got {show(value)}")
    algorithm, sep, encoded = value.partition(":")
    if not sep:
        raise ManifestError(f"{where}: invalid digest {show(value)} (expected algorithm:hex)")
    if algorithm not in _HEX_LENGTHS:
        raise ManifestError(
            f"{where}: unsupported digest algorithm {show(algorithm)} in {show(value)} "
            f"(supported: {', '.join(_HEX_LENGTHS)})"
        )
    if not is_valid_hex(algorithm, encoded):
        raise ManifestError(
            f"{where}: invalid {algorithm} digest {show(value)} "
            f"(expected {_HEX_LENGTHS[algorithm]} lowercase hex digits)"
        )
    return Digest(algorithm, encoded)


def is_digest(value: object) -> bool:
    """True for a valid sha256/sha512 digest string."""
    try:
        parse_digest(value, where="")
    except ManifestError:
        return False
    return True


def compute_digest(data: bytes, algorithm: str = SHA256) -> str:
    """``algorithm:hex`` of ``data``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_digest(data: bytes, expected: Digest | str, *, where: str) -> Digest:
    """Raise ``DigestMismatchError`` unless ``data`` hashes to ``expected``; return it."""
    want = expected if isinstance(expected, Digest) else parse_digest(expected, where=where)
    got = compute_digest(data, want.algorithm)
    if got != str(want):
        raise DigestMismatchError(f"{where}: digest mismatch: expected {want}, bytes hash to {got}")
    return want


def blob_path(digest: Digest) -> str:
    """Where an OCI image layout stores the blob: ``blobs/<algorithm>/<hex>``."""
    return f"blobs/{digest.algorithm}/{digest.hex}"


def digest_from_blob_path(path: str, *, where: str) -> Digest | None:
    """The digest named by a ``blobs/<algorithm>/<hex>`` path, or None for any other path.

    A path under ``blobs/<algorithm>/`` whose name is not a valid digest raises
    ``ManifestError``: layouts name blobs by their digest and nothing else.
    """
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "blobs":
        return None
    algorithm, encoded = parts[1], parts[2]
    if algorithm not in _HEX_LENGTHS:
        return None
    if not is_valid_hex(algorithm, encoded):
        raise ManifestError(
            f"{where}: blob file name {show(path)} is not a valid {algorithm} digest "
            f"({_HEX_LENGTHS[algorithm]} lowercase hex digits)"
        )
    return Digest(algorithm, encoded)
