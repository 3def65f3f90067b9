"""Python package versions: PEP 440, parsed and ordered by the ``packaging`` library.

``packaging.version.Version`` is the reference implementation pip uses: epochs (``1!2.0``),
release segments with implicit trailing zeros (``1.0 == 1.0.0``), pre-releases
(``a``/``b``/``rc`` and their spellings ``alpha``, ``c``, ``pre``, ``preview``), post-releases
(``.post1``, ``-1``), dev releases (``.dev1``, below the pre-releases), local versions
(``+ubuntu1``, above the public version) and its normalisations (case, ``v`` prefix,
separators). Legacy, non-PEP 440 versions are rejected.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from hullscan.versions._base import Key, VersionParseError, check_text

SCHEME = "pypi"


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    try:
        return (Version(text),)
    except InvalidVersion:
        raise VersionParseError(SCHEME, text, "not a PEP 440 version") from None
