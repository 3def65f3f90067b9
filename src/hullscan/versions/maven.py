"""Maven versions, as ``org.apache.maven.artifact.versioning.ComparableVersion`` (Maven 3.8.7).

Parsing (lower-cased first): ``.`` separates items; ``-`` separates items and opens a sub-list
that holds the rest; so does a change between digits and letters (``1.0alpha1`` reads as
``1.0-alpha-1``), and a qualifier after ``.`` that is followed by digits or ends the version is
moved into a sub-list as if written with ``-`` (``1.0.RC1`` == ``1.0-RC1``). Digit runs are
numbers (leading zeros ignored); letter runs are qualifiers. A one-letter qualifier directly
followed by digits is an alias: ``a`` = alpha, ``b`` = beta, ``m`` = milestone; ``ga``,
``final`` and ``release`` mean "" and ``cr`` means ``rc``. Every list drops its trailing
"null" items (``0``, "", empty lists), also where they sit just before a trailing sub-list, so
``1.0.0`` == ``1`` and ``1-ga`` == ``1``.

Order of qualifiers: ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final =
release < sp``, then any other qualifier, alphabetically. Item against item: a number beats a
sub-list, which beats a qualifier. A missing item (the shorter list) compares as "null": equal
to 0 and "", above pre-release qualifiers, below numbers > 0, ``sp`` and unknown qualifiers.

Maven's comparison is not a total order in corner cases that mix the null rule with the "number
beats qualifier" rule (``1.0.alpha.1`` < ``1`` < ``1.sp.1`` but ``1.0.alpha.1`` > ``1.sp.1``).
The key below is a total order that agrees with Maven whenever Maven agrees with itself: each
item also carries the sign of "the rest of this version against nothing", which is what decides
when the other version has ended.

Validity is ours (Maven takes any string): printable ASCII without whitespace, none of the
range syntax characters ``[](),``, and no leading ``-`` (which would make the first item a
sub-list: such strings are junk, and they are exactly where Maven's own order contradicts itself
at the very first item).
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "maven"

_QUALIFIERS = {"alpha": 0, "beta": 1, "milestone": 2, "rc": 3, "snapshot": 4, "": 5, "sp": 6}
_RELEASE = 5
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_ONE_LETTER = {"a": "alpha", "b": "beta", "m": "milestone"}
_ALLOWED = re.compile(r"[\x21-\x7e]+\Z")
_FORBIDDEN = frozenset("[](),")

# Items of the parsed tree.
_NUM, _STR, _LIST = 3, 1, 2


class _List(list["_Item"]):
    pass


_Item = tuple[int, object] | _List


def _string_item(value: str, followed_by_digit: bool) -> _Item:
    if followed_by_digit and len(value) == 1:
        value = _ONE_LETTER.get(value, value)
    return (_STR, _ALIASES.get(value, value))


def _parse_item(is_digit: bool, buf: str) -> _Item:
    if is_digit:
        return (_NUM, int(buf))
    return _string_item(buf, False)


def _is_null(item: _Item) -> bool:
    if isinstance(item, _List):
        return not item
    kind, value = item
    return value == 0 if kind == _NUM else value == ""


def _normalize(items: _List) -> None:
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        if _is_null(item):
            del items[i]
        elif not isinstance(item, _List):
            break


def _parse_tree(version: str) -> _List:
    """ComparableVersion.parseVersion, on an already lower-cased ASCII string."""
    items = _List()
    lst = items
    stack = [lst]
    is_digit = False
    start = 0
    for i, c in enumerate(version):
        if c in ".-":
            lst.append((_NUM, 0) if i == start else _parse_item(is_digit, version[start:i]))
            start = i + 1
            if c == "-":
                sub = _List()
                lst.append(sub)
                lst = sub
                stack.append(lst)
        elif c.isdigit():
            if not is_digit and i > start:
                if lst:
                    sub = _List()
                    lst.append(sub)
                    lst = sub
                    stack.append(lst)
                lst.append(_string_item(version[start:i], True))
                start = i
                sub = _List()
                lst.append(sub)
                lst = sub
                stack.append(lst)
            is_digit = True
        else:
            if is_digit and i > start:
                lst.append(_parse_item(True, version[start:i]))
                start = i
                sub = _List()
                lst.append(sub)
                lst = sub
                stack.append(lst)
            is_digit = False
    if len(version) > start:
        if not is_digit and lst:
            sub = _List()
            lst.append(sub)
            lst = sub
            stack.append(lst)
        lst.append(_parse_item(is_digit, version[start:]))
    while stack:
        _normalize(stack.pop())
    return items


def _qualifier_rank(q: str) -> tuple[int, str]:
    rank = _QUALIFIERS.get(q)
    return (7, q) if rank is None else (rank, "")


def _flatten(items: _List, out: list[tuple[object, ...]]) -> None:
    """Items in document order; a sub-list becomes a marker followed by its own items."""
    for item in items:
        if isinstance(item, _List):
            out.append((2,))
            _flatten(item, out)
        else:
            kind, value = item
            if kind == _NUM:
                out.append((3, value))
            else:
                assert isinstance(value, str)
                out.append((1, *_qualifier_rank(value)))


def _against_null(token: tuple[object, ...]) -> int:
    """How one flattened token compares with a missing item: -1, 0 or 1 (0: keep looking)."""
    kind = token[0]
    if kind == 3:
        return 1 if token[1] != 0 else 0
    if kind == 1:
        rank = token[1]
        assert isinstance(rank, int)
        return (rank > _RELEASE) - (rank < _RELEASE)
    return 0  # a sub-list marker: its items decide


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    if not _ALLOWED.match(text) or any(c in _FORBIDDEN for c in text):
        raise VersionParseError(SCHEME, text, "whitespace, control, non-ASCII or range character")
    if text[0] == "-":
        raise VersionParseError(SCHEME, text, "starts with '-'")
    tokens: list[tuple[object, ...]] = []
    _flatten(_parse_tree(text.lower()), tokens)
    keyed: list[tuple[object, ...]] = []
    sign = 0
    for token in reversed(tokens):
        sign = _against_null(token) or sign
        keyed.append((sign, *token))
    keyed.reverse()
    keyed.append((0,))
    return tuple(keyed)
