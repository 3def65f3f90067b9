"""SemVer 2.0.0 precedence (semver.org, section 11), shared by cargo, golang and npm.

Key of a version: ``(major, minor, patch, pre)``. ``pre`` is ``(1,)`` for a release and
``(0, id...)`` for a pre-release, each identifier being ``(0, number)`` when it is all digits
and ``(1, text)`` otherwise: numeric identifiers sort below alphanumeric ones, a release above
all of its pre-releases, and a longer list of identifiers above its own prefix. Build metadata
never takes part.
"""

from __future__ import annotations

from hullscan.versions._base import is_ascii_digits

RELEASE: tuple[object, ...] = (1,)


def prerelease_key(pre: str | None) -> tuple[object, ...]:
    """Key of the dot-separated pre-release part (``None`` or ``""``: a release)."""
    if not pre:
        return RELEASE
    return (
        0,
        *((0, int(i)) if is_ascii_digits(i) else (1, i) for i in pre.split(".")),
    )
