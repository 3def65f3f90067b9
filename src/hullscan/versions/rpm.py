"""RPM versions: ``[EPOCH:]VERSION[-RELEASE]``, ordered as ``rpm.labelCompare`` orders them.

The epoch (missing = 0) compares as a number, then VERSION and RELEASE with ``rpmvercmp``:
characters other than ASCII letters, digits, ``~`` and ``^`` only separate segments; ``~`` sorts
before everything, even the end of the string; ``^`` sorts after the end of the string but before
anything else; a run of digits compares as a number (leading zeros ignored) and beats a run of
letters; letter runs compare as byte strings. As in ``labelCompare``, a version without a
release sorts before the same version with any release.

Validity is ours (rpm's own parser accepts nearly anything): ASCII without whitespace or control
characters; the epoch, when present, is decimal; VERSION is non-empty and is split from RELEASE
at the last ``-``; RELEASE, when a ``-`` is present, is non-empty; ``:`` appears only after the
epoch.

Key: ``(epoch, segments(VERSION), has_release, segments(RELEASE))`` where each segment is
``(0,)`` for ``~``, ``(2,)`` for ``^``, ``(3, letters)``, ``(4, number)``, and the list ends with
``(1,)``, the end of the string.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "rpm"

_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")
_ALLOWED = re.compile(r"[\x21-\x7e]+\Z")
_TILDE = (0,)
_END = (1,)
_CARET = (2,)


def segments(part: str) -> tuple[tuple[object, ...], ...]:
    """``rpmvercmp``'s view of one field, as a tuple of comparable segments."""
    out: list[tuple[object, ...]] = []
    for tok in _SEGMENT.findall(part):
        if tok == "~":
            out.append(_TILDE)
        elif tok == "^":
            out.append(_CARET)
        elif tok[0].isdigit():
            out.append((4, int(tok)))
        else:
            out.append((3, tok))
    out.append(_END)
    return tuple(out)


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    if not _ALLOWED.match(text):
        raise VersionParseError(SCHEME, text, "whitespace, control or non-ASCII character")
    epoch = 0
    rest = text
    if ":" in text:
        head, rest = text.split(":", 1)
        if not (head.isascii() and head.isdigit()):
            raise VersionParseError(SCHEME, text, "epoch is not a decimal number")
        epoch = int(head)
        if ":" in rest:
            raise VersionParseError(SCHEME, text, "more than one ':'")
    version, sep, release = rest.rpartition("-")
    if not sep:
        version, release = rest, ""
    if not version:
        raise VersionParseError(SCHEME, text, "empty version")
    if sep and not release:
        raise VersionParseError(SCHEME, text, "empty release after '-'")
    if sep:
        return (epoch, segments(version), 1, segments(release))
    return (epoch, segments(version), 0, ())
