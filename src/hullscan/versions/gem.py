"""RubyGems versions, as ``Gem::Version`` reads and orders them (RubyGems 3.x).

Valid: ``\\A\\s*[0-9]+(\\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?\\s*\\z``. Each
``-`` reads as ``.pre.``, then the version splits into runs of digits (numbers) and runs of
letters (strings): ``1.0.0-rc1`` is ``1 0 0 pre rc 1``, ``1.0a`` is ``1 0 a``.

Order (``Gem::Version#<=>``): the part before the first string and the part from it on each
lose their trailing zeros; then segments compare left to right with missing ones read as 0; a
string sorts below any number (so a string marks a pre-release), strings compare as byte
strings, numbers as numbers.

Key: the segment list as groups ``(zeros, segment)`` - a run of zeros is what sits between two
non-zero segments - with strings ``(0, zeros, s)`` and numbers ``(2, -zeros, n)``, closed by
``(1,)``. Comparing groups left to right is comparing the zero-padded segment lists.

An empty string is rejected here (RubyGems reads it as ``0``).
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "gem"

_VALID = re.compile(
    r"[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)"
    r"[ \t\r\n\f\v]*\Z",
    re.ASCII,
)
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+", re.ASCII)
_END = (1,)


def _strip_zeros(segs: list[int | str]) -> list[int | str]:
    while segs and segs[-1] == 0:
        segs.pop()
    return segs


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    m = _VALID.match(text)
    if m is None:
        raise VersionParseError(SCHEME, text, "malformed version number string")
    raw = m.group(1).replace("-", ".pre.")
    segs: list[int | str] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(raw)]
    first_str = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
    canonical = _strip_zeros(segs[:first_str]) + _strip_zeros(segs[first_str:])
    groups: list[tuple[object, ...]] = []
    zeros = 0
    for s in canonical:
        if s == 0:
            zeros += 1
        elif isinstance(s, str):
            groups.append((0, zeros, s))
            zeros = 0
        else:
            groups.append((2, -zeros, s))
            zeros = 0
    groups.append(_END)
    return tuple(groups)
