"""Exact version comparison per ecosystem, as the ecosystem's own tool compares.

One scheme per package-URL type::

    from hullscan.versions import compare, parse, schemes
    compare("deb", "1:2.0~rc1-1", "1:2.0-1")   # -1
    parse("maven", "1.0.0.RELEASE") == parse("maven", "1")   # True
    sorted(texts, key=lambda t: parse("rpm", t))

``parse`` returns a :class:`Version`: hashable, totally ordered within its scheme, equal to
another exactly when the scheme compares them equal. ``compare`` returns -1, 0 or 1. Anything
that is not a valid version of the scheme (and any unknown scheme) raises
:class:`VersionParseError`, a :class:`hullscan.errors.ParseError`; nothing else escapes.
Parsed keys are cached, so repeated comparisons of the same strings cost a dictionary lookup.

Each scheme's rules, and the real tool each one was checked against, are in its module and in
``docs/versions.md``. ``hullscan.versions.npm.satisfies`` matches npm ranges.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from hullscan.versions import (
    apk,
    cargo,
    composer,
    deb,
    gem,
    golang,
    maven,
    npm,
    nuget,
    pypi,
    rpm,
)
from hullscan.versions._base import MAX_LENGTH, Key, Version, VersionParseError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MAX_LENGTH", "Version", "VersionParseError", "compare", "parse", "schemes"]

_PARSERS: dict[str, Callable[[str], Key]] = {
    "deb": deb.parse_key,
    "rpm": rpm.parse_key,
    "apk": apk.parse_key,
    "pypi": pypi.parse_key,
    "npm": npm.parse_key,
    "maven": maven.parse_key,
    "golang": golang.parse_key,
    "gem": gem.parse_key,
    "nuget": nuget.parse_key,
    "composer": composer.parse_key,
    "cargo": cargo.parse_key,
}

_CACHE_SIZE = 1 << 17


def schemes() -> tuple[str, ...]:
    """The supported schemes: package-URL types."""
    return tuple(_PARSERS)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse(scheme: str, text: str) -> Version:
    parser = _PARSERS.get(scheme)  # any hashable; only the scheme names are keys
    if parser is None:
        raise VersionParseError(str(scheme), text, f"unknown version scheme {scheme!r}")
    try:
        key = parser(text)
    except VersionParseError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # A parser bug must still surface as the one documented error.
        raise VersionParseError(scheme, text, f"unparsable ({type(exc).__name__})") from exc
    return Version(scheme, text, key)


def parse(scheme: str, text: str) -> Version:
    """Parse ``text`` as a version of ``scheme``; raise VersionParseError if it is not one."""
    try:
        return _parse(scheme, text)
    except TypeError:  # an unhashable argument never reaches the parsers
        raise VersionParseError(str(scheme), text, "scheme and version must be str") from None


def compare(scheme: str, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b`` in ``scheme``."""
    try:
        ka = _parse(scheme, a).key
        kb = _parse(scheme, b).key
    except TypeError:
        raise VersionParseError(str(scheme), (a, b), "scheme and versions must be str") from None
    if ka < kb:
        return -1
    return 1 if ka > kb else 0
