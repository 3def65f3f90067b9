"""Debian versions: ``[epoch:]upstream[-revision]``, ordered as dpkg orders them.

Debian Policy 5.6.12 and dpkg's ``verrevcmp``: the epoch compares as a number; upstream and
revision are split into alternating non-digit and digit runs. Non-digit runs compare character
by character where ``~`` sorts before everything (even the end of the run), then the end, then
letters, then every other character; digit runs compare as numbers. A missing revision equals
``0``.

Validity follows dpkg's ``parseversion`` and ``dpkg --validate-version``: surrounding blanks are
dropped; no embedded blanks; the epoch is a decimal number; the upstream version is non-empty,
starts with a digit and holds only alphanumerics and ``.+~-:``; the revision (after the last
``-``) is non-empty and holds only alphanumerics and ``.+~``.

Key: ``(epoch, upstream_runs, revision_runs)``. Each part becomes ``s0, d0, s1, d1, ..., T``:
``s`` is a tuple of character weights closed by the end weight 0, ``d`` an int, and ``T`` is
``(0,)``, standing where the next non-digit run would be. Any later non-digit run is non-empty
and starts with a weight that is non-zero, so ``T`` against it decides exactly as dpkg's
end-of-string does, and plain tuple comparison is dpkg's order.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "deb"

_RUNS = re.compile(r"([^0-9]*)([0-9]*)")
_UPSTREAM_OK = re.compile(r"[0-9][A-Za-z0-9.+~:-]*\Z")
_REVISION_OK = re.compile(r"[A-Za-z0-9.+~]+\Z")
_EPOCH_MAX = 2**31 - 1
_END = (0,)


def _weight(c: str) -> int:
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _runs(part: str) -> tuple[object, ...]:
    out: list[object] = []
    pos = 0
    while True:
        m = _RUNS.match(part, pos)
        assert m is not None  # the pattern matches the empty string
        letters, digits = m.group(1), m.group(2)
        if pos and not letters:
            break  # reached the end: a digit run is always followed by a non-digit one
        out.append((*(_weight(c) for c in letters), 0))
        out.append(int(digits) if digits else 0)
        pos = m.end()
        if pos >= len(part):
            break
    out.append(_END)
    return tuple(out)


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    s = text.strip(" \t")
    if not s:
        raise VersionParseError(SCHEME, text, "version string is empty")
    if not s.isascii():
        raise VersionParseError(SCHEME, text, "non-ASCII character")
    if " " in s or "\t" in s:
        raise VersionParseError(SCHEME, text, "version string has embedded spaces")
    epoch = 0
    if ":" in s:
        head, s = s.split(":", 1)
        if not head:
            raise VersionParseError(SCHEME, text, "epoch in version is empty")
        if not (head.isascii() and head.isdigit()):
            raise VersionParseError(SCHEME, text, "epoch in version is not number")
        epoch = int(head)
        if epoch > _EPOCH_MAX:
            raise VersionParseError(SCHEME, text, "epoch in version is too big")
        if not s:
            raise VersionParseError(SCHEME, text, "nothing after colon in version number")
    upstream, sep, revision = s.rpartition("-")
    if not sep:
        upstream, revision = s, ""
    elif not revision:
        raise VersionParseError(SCHEME, text, "revision number is empty")
    if not upstream:
        raise VersionParseError(SCHEME, text, "upstream version is empty")
    if not _UPSTREAM_OK.match(upstream):
        if not upstream[0].isdigit():
            raise VersionParseError(SCHEME, text, "version number does not start with digit")
        raise VersionParseError(SCHEME, text, "invalid character in version number")
    if revision and not _REVISION_OK.match(revision):
        raise VersionParseError(SCHEME, text, "invalid character in revision number")
    return (epoch, _runs(upstream), _runs(revision))
