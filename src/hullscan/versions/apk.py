"""Alpine (apk-tools) versions, with apk-tools 2.12+ rules (``src/version.c``).

Grammar: ``digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-r digits}``. Suffixes are
``alpha beta pre rc`` (pre-releases, below the bare version) and ``cvs svn git hg p`` (above
it). Tokens are compared left to right while both versions have a token of the same kind:

* the first number and the ``_suffix`` / ``-r`` numbers compare as numbers;
* a later ``.number`` compares as a number unless either side starts with ``0``: then both
  compare as strings (``1.01 < 1.1``, ``1.010 < 1.02``), the Gentoo rule;
* the letter by its character, the suffix by the order above, the ``~hash`` as a string.

When the kinds differ, a pre-release suffix is lower; otherwise the version whose next token is
"more minor" (in the order digit, letter, suffix, suffix number, hash, revision, end) is the
greater one, so ``1.0.1 > 1.0``, ``1.0-r1 > 1.0``, ``1.0_p1 > 1.0``, ``1.0_rc1 < 1.0``.

Anything outside the grammar is rejected (apk itself falls back to guessing on such input).

Key: a tuple of ``(rank, value)`` tokens closed by the end token, with ``rank`` the negated kind
(so a more minor kind sorts lower) and pre-release suffixes moved below every other kind.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "apk"

# Token kinds, in apk-tools' order.
_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION, _END = range(8)

_PRE_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4}
_POST_SUFFIXES = {"cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_PRE_RANK = -100
_END_TOKEN = (-_END,)

_DIGITS = re.compile(r"[0-9]*")
_LOWER = re.compile(r"[a-z]*")
_HEX = re.compile(r"[0-9a-f]*")


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    if not text.isascii():
        raise VersionParseError(SCHEME, text, "non-ASCII character")
    n = len(text)
    m = _DIGITS.match(text)
    assert m is not None
    if not m.group():
        raise VersionParseError(SCHEME, text, "does not start with a digit")
    tokens: list[tuple[object, ...]] = [(-_INITIAL, int(m.group()))]
    kind = _INITIAL
    pos = m.end()
    while pos < n:
        c = text[pos]
        if "a" <= c <= "z":
            if kind > _DIGIT:
                raise VersionParseError(SCHEME, text, f"unexpected letter at {pos}")
            tokens.append((-_LETTER, ord(c)))
            kind = _LETTER
            pos += 1
        elif c == "." or "0" <= c <= "9":
            if c == ".":
                if kind > _DIGIT:
                    raise VersionParseError(SCHEME, text, f"unexpected '.' at {pos}")
                pos += 1
            if kind in (_INITIAL, _DIGIT):
                kind = _DIGIT
            elif kind == _SUFFIX:
                kind = _SUFFIX_NO
            else:
                raise VersionParseError(SCHEME, text, f"unexpected digit at {pos}")
            m = _DIGITS.match(text, pos)
            assert m is not None
            digits = m.group()
            if not digits:
                raise VersionParseError(SCHEME, text, f"missing number at {pos}")
            pos = m.end()
            if kind == _SUFFIX_NO:
                tokens.append((-_SUFFIX_NO, int(digits)))
            elif digits[0] == "0":
                tokens.append((-_DIGIT, (0, digits)))
            else:
                tokens.append((-_DIGIT, (1, int(digits))))
        elif c == "_":
            if kind > _SUFFIX_NO:
                raise VersionParseError(SCHEME, text, f"unexpected '_' at {pos}")
            m = _LOWER.match(text, pos + 1)
            assert m is not None
            name = m.group()
            pos = m.end()
            if name in _PRE_SUFFIXES:
                tokens.append((_PRE_RANK, _PRE_SUFFIXES[name]))
            elif name in _POST_SUFFIXES:
                tokens.append((-_SUFFIX, _POST_SUFFIXES[name]))
            else:
                raise VersionParseError(SCHEME, text, f"unknown suffix {name!r}")
            kind = _SUFFIX
        elif c == "~":
            if kind >= _HASH:
                raise VersionParseError(SCHEME, text, f"unexpected '~' at {pos}")
            m = _HEX.match(text, pos + 1)
            assert m is not None
            if not m.group():
                raise VersionParseError(SCHEME, text, "empty commit hash")
            tokens.append((-_HASH, m.group()))
            pos = m.end()
            kind = _HASH
        elif c == "-":
            if kind >= _REVISION or not text.startswith("-r", pos):
                raise VersionParseError(SCHEME, text, f"unexpected '-' at {pos}")
            m = _DIGITS.match(text, pos + 2)
            assert m is not None
            if not m.group():
                raise VersionParseError(SCHEME, text, "missing revision number")
            tokens.append((-_REVISION, int(m.group())))
            pos = m.end()
            kind = _REVISION
        else:
            raise VersionParseError(SCHEME, text, f"unexpected character {c!r} at {pos}")
    tokens.append(_END_TOKEN)
    return tuple(tokens)
