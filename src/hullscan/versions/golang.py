"""Go module versions, as ``golang.org/x/mod/semver`` reads and orders them.

``vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]``: the short forms ``v1`` and ``v1.2`` stand for
``v1.0.0`` and ``v1.2.0`` (and take no suffix); numbers and numeric pre-release identifiers have
no leading zeros. Build metadata, which is where ``+incompatible`` lives, is ignored, and
pseudo-versions (``v0.0.0-20191109021931-daa7c04131f5``, ``v1.2.4-0.20191109021931-...``) are
ordinary pre-releases, so they order as the Go command orders them.

The ``v`` is optional here because OSV's Go ranges leave it out (``1.2.3``); a version is read
as if it had one.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text
from hullscan.versions._semver import prerelease_key

SCHEME = "golang"

_NUM = r"0|[1-9][0-9]*"
_ID = r"[0-9A-Za-z-]+"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_VERSION = re.compile(
    rf"v?({_NUM})(?:\.({_NUM})(?:\.({_NUM})"
    rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+({_ID}(?:\.{_ID})*))?)?)?\Z",
    re.ASCII,
)


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    m = _VERSION.match(text)
    if m is None:
        raise VersionParseError(SCHEME, text, "not a Go module version")
    major, minor, patch = (int(g) if g else 0 for g in m.group(1, 2, 3))
    return (major, minor, patch, prerelease_key(m.group(4)))
