"""NuGet versions, as ``NuGet.Versioning`` (``NuGetVersion.Parse`` / ``VersionComparer.Default``).

``MAJOR[.MINOR[.PATCH[.REVISION]]][-LABEL{.LABEL}][+METADATA]``: one to four numbers, each a
non-negative 32-bit int whose leading zeros are dropped (``1.01`` is ``1.1.0.0``); missing parts
are 0. Labels are ``[0-9A-Za-z-]`` and not empty; an all-digit label has no leading zeros.
Surrounding whitespace is trimmed.

Order: the four numbers, then a release above its pre-releases, then the labels left to right:
two labels that ``Int32.TryParse`` reads as numbers compare as numbers and below any other
label; other labels compare case-insensitively (ordinal, upper-cased); more labels win a tie.
Metadata is ignored.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "nuget"

_VERSION = re.compile(
    r"([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\Z",
    re.ASCII,
)
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT_LABEL = re.compile(r"-?[0-9]+\Z", re.ASCII)


def _label_key(label: str) -> tuple[object, ...]:
    if _INT_LABEL.match(label):
        n = int(label)
        if _INT32_MIN <= n <= _INT32_MAX:
            return (0, n)
    return (1, label.upper())


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    s = text.strip()
    m = _VERSION.match(s)
    if m is None:
        raise VersionParseError(SCHEME, text, "not a NuGet version")
    nums = tuple(int(g) if g else 0 for g in m.group(1, 2, 3, 4))
    if max(nums) > _INT32_MAX:
        raise VersionParseError(SCHEME, text, "version number larger than a 32-bit int")
    labels = m.group(5)
    if not labels:
        return (*nums, (1,))
    parts = labels.split(".")
    for part in parts:
        if len(part) > 1 and part[0] == "0" and part.isdigit():
            raise VersionParseError(SCHEME, text, f"leading zero in numeric label {part!r}")
    return (*nums, (0, *(_label_key(p) for p in parts)))
