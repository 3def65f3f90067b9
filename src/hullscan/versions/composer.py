"""Composer (Packagist) versions, as ``composer/semver`` normalizes and orders them.

``VersionParser::normalize`` (composer/semver 3.3): trim; drop an ``as alias`` and an
``@stability`` flag; ``master``/``trunk``/``default`` become ``dev-`` branches; drop ``+build``;
then either the classic form ``v?N{1,5}(.N)?(.N)?(.N)?`` padded to four numbers, or a date form
``YYYY(.MM){1,6}(.NNN)?``, each followed by an optional modifier ``[._-]?(stable | beta | b | RC
| alpha | a | patch | pl | p)`` with its own numbers and an optional ``[.-]dev``; or a numeric
branch ``1.2.x-dev`` whose ``x`` become ``9999999``. ``a``/``b``/``p``/``pl`` expand to
``alpha``/``beta``/``patch``, ``rc`` to ``RC``.

Order: PHP's ``version_compare`` on the normalized strings, as ``Comparator`` / ``Semver::sort``
do. It splits at ``.`` and at letter/digit changes; numbers compare as numbers (saturating at
PHP's ``LONG_MAX``), words by their special form: ``dev < alpha = a < beta = b < RC = rc <
(a number) < pl = p`` (prefix match, so ``patch`` counts as ``p``; other words sort below
``dev``). When one version runs out, the other is greater if it goes on with a number and
otherwise as its next word compares with a number: ``1.0.0.0-beta1 < 1.0.0.0 <
1.0.0.0-patch1``.

``dev-master``, ``dev-trunk`` and ``dev-default`` (and the bare names) normalize to
``9999999-dev``, as ``Semver::sort`` does; other ``dev-`` branches have no order and are
rejected.
"""

from __future__ import annotations

import re

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "composer"

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_ALIAS = re.compile(r"^([^,\s]++) ++as ++([^,\s]++)$", re.ASCII)
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.ASCII | re.IGNORECASE)
_BUILD = re.compile(r"^([^,\s+]++)\+[^\s]++$", re.ASCII)
_CLASSIC = re.compile(
    r"^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER + "$", re.ASCII | re.IGNORECASE
)
_DATE = re.compile(
    r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)" + _MODIFIER + "$",
    re.ASCII | re.IGNORECASE,
)
_DEV_SUFFIX = re.compile(r"(.*?)[.-]?dev$", re.ASCII | re.IGNORECASE)
_BRANCH = re.compile(
    r"^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$",
    re.ASCII | re.IGNORECASE,
)
_NON_DIGIT = re.compile(r"\D", re.ASCII)
_PHP_TRIM = " \t\n\r\0\x0b"
_DEFAULT_BRANCHES = ("dev-master", "dev-default", "dev-trunk")
_STABILITIES = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}

# PHP's version_compare: the special forms, matched as prefixes in this order.
_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3))
_FORMS_AFTER = (("#", 4), ("pl", 5), ("p", 5))
_NUMBER_FORM = 4
_LONG_MAX = 2**63 - 1
_PARTS = re.compile(r"[0-9]+|[A-Za-z]+", re.ASCII)
_END = (_NUMBER_FORM, -1)


def _expand_stability(stability: str) -> str:
    s = stability.lower()
    return _STABILITIES.get(s, s)


def _normalize_branch(name: str) -> str:
    name = name.strip(_PHP_TRIM)
    m = _BRANCH.match(name)
    if m:
        version = ""
        for i in range(1, 5):
            part = m.group(i)
            version += part.replace("*", "x").replace("X", "x") if part is not None else ".x"
        return version.replace("x", "9999999") + "-dev"
    return "dev-" + name


def normalize(text: str) -> str:
    """composer/semver's ``VersionParser::normalize`` (ValueError where it throws)."""
    version = text.strip(_PHP_TRIM)
    m = _ALIAS.match(version)
    if m:
        version = m.group(1)
    m = _STABILITY_FLAG.search(version)
    if m:
        version = version[: len(version) - len(m.group(0))]
    if version in ("master", "trunk", "default"):
        version = "dev-" + version
    if version[:4].lower() == "dev-":
        return "dev-" + version[4:]
    m = _BUILD.match(version)
    if m:
        version = m.group(1)
    m = _CLASSIC.match(version)
    index = 0
    if m:
        version = m.group(1) + "".join(m.group(i) or ".0" for i in (2, 3, 4))
        index = 5
    else:
        m = _DATE.match(version)
        if m:
            version = _NON_DIGIT.sub(".", m.group(1))
            index = 2
    if m and index:
        if m.group(index):
            if m.group(index) == "stable":
                return version
            numbers = m.group(index + 1) or ""
            version += "-" + _expand_stability(m.group(index)) + numbers.lstrip(".-")
        if m.group(index + 2):
            version += "-dev"
        return version
    m = _DEV_SUFFIX.match(version)
    if m:
        normalized = _normalize_branch(m.group(1))
        if "dev-" not in normalized:
            return normalized
    raise ValueError(f"Invalid version string {text!r}")


def _form(word: str) -> int:
    for name, order in _FORMS + _FORMS_AFTER:
        if word.startswith(name):
            return order
    return -1


def _compare_key(normalized: str) -> Key:
    """PHP version_compare's view of a normalized version, as a comparable tuple."""
    out: list[tuple[int, int]] = []
    for part in _PARTS.findall(normalized):
        if part[0].isdigit():
            out.append((_NUMBER_FORM, min(int(part), _LONG_MAX)))
        else:
            out.append((_form(part), 0))
    out.append(_END)
    return tuple(out)


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    if not text.isascii():
        raise VersionParseError(SCHEME, text, "non-ASCII character")
    try:
        normalized = normalize(text)
    except ValueError:
        raise VersionParseError(SCHEME, text, "not a Composer version") from None
    if normalized in _DEFAULT_BRANCHES:
        normalized = "9999999-dev"
    elif normalized.startswith("dev-"):
        raise VersionParseError(SCHEME, text, "a dev- branch has no version order")
    return _compare_key(normalized)
