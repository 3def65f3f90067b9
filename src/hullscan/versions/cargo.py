"""Cargo versions: SemVer 2.0.0 exactly as the ``semver`` crate's ``Version::parse`` reads them.

``MAJOR.MINOR.PATCH[-PRE][+BUILD]``: no ``v`` prefix, no surrounding whitespace, numbers without
leading zeros that fit in a u64, identifiers of ``[0-9A-Za-z-]`` that are never empty, numeric
pre-release identifiers without leading zeros (build identifiers may have them).

Order: SemVer precedence, ``(major, minor, patch, pre)``; build metadata is ignored as the
SemVer spec and OSV's ``SEMVER`` ranges say (the crate's own ``Ord`` would break ties on it).
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text
from hullscan.versions._semver import prerelease_key

SCHEME = "cargo"

_NUM = r"0|[1-9][0-9]*"
_ID = r"[0-9A-Za-z-]+"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_VERSION = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+({_ID}(?:\.{_ID})*))?\Z",
    re.ASCII,
)
_U64_MAX = 2**64 - 1


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    m = _VERSION.match(text)
    if m is None:
        raise VersionParseError(SCHEME, text, "not a SemVer 2.0.0 version")
    nums = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if max(nums) > _U64_MAX:
        raise VersionParseError(SCHEME, text, "number does not fit in 64 bits")
    return (*nums, prerelease_key(m.group(4)))
