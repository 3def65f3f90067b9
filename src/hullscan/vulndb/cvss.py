"""CVSS vectors: parse, validate, compute the base score and its qualitative rating.

SHARED MODULE: ``build/osv.py`` uses :func:`base_score`/:func:`cvss_type`; ``build/nvd.py``,
``build/cve5.py``, the native parsers and the matcher/report use :func:`parse_vector`,
:func:`parse_or_error`, :func:`rating_for`. Extend it; do not replace it.

The arithmetic is Red Hat Product Security's ``cvss`` library (PyPI ``cvss``), which
implements FIRST's specifications (v3.x ``Roundup`` included, v4.0 through the MacroVector
lookup table); this module only wraps it: it bounds and normalizes the input, never raises,
and caches (feeds repeat the same few thousand vectors hundreds of thousands of times).
Pure, no I/O.

Conventions:

* ``type`` is the model's ``Severity.type``: ``CVSS_V2``, ``CVSS_V3`` (3.0 and 3.1) or
  ``CVSS_V4``.
* The score is the **base** score: temporal/environmental metrics in a vector are accepted and
  do not change it (NVD and CVE 5 ``baseScore`` are base scores too).
* The rating is the specification's qualitative word, capitalised as the specifications write
  it: ``None``/``Low``/``Medium``/``High``/``Critical`` for v3/v4 and, for v2 (which defines no
  rating), NVD's ``Low`` (0-3.9) / ``Medium`` (4-6.9) / ``High`` (7-10).
* Accepted besides the canonical spelling: surrounding white space, a v2 vector in parentheses
  ``(AV:N/...)`` or with a ``CVSS:2.0/`` prefix. Everything else must be exact (metric names
  and values are case-sensitive, no duplicates, every base metric present).

Checked against the real data (tests/unit/test_feed_cvss.py): all 99 NVD 2.0 sample metrics
agree on score and rating; of 39,440 CVE 5 (vulnrichment) CNA/ADP metrics, 375 published
``baseScore`` values differ and each is a publisher error, not ours (temporal score published
as base, GitHub's 2023 changed-scope environmental formula, plain slips; see the test).
"""

from __future__ import annotations

import functools
from typing import Literal, NamedTuple

import cvss

CvssType = Literal["CVSS_V2", "CVSS_V3", "CVSS_V4"]

_MAX_VECTOR = 512  # a full v4 vector with every metric is ~250 characters


class CvssScore(NamedTuple):
    type: CvssType
    score: float
    rating: str


def rating_for(score: float, type_: str) -> str:
    """The qualitative rating of a base score (v2: NVD's three bands)."""
    if type_ == "CVSS_V2":
        return "Low" if score < 4.0 else "Medium" if score < 7.0 else "High"
    if score == 0.0:
        return "None"
    if score < 4.0:
        return "Low"
    return "Medium" if score < 7.0 else "High" if score < 9.0 else "Critical"


def cvss_type(vector: str) -> CvssType | None:
    """The CVSS version a vector is written in, by its prefix (v2 has none)."""
    v = vector.strip()
    if v.startswith("CVSS:3."):
        return "CVSS_V3"
    if v.startswith("CVSS:4."):
        return "CVSS_V4"
    if v.startswith(("AV:", "(AV:", "CVSS:2.0/")):
        return "CVSS_V2"
    return None


@functools.lru_cache(maxsize=65536)
def _parse(vector: str) -> CvssScore | str:
    """The parsed vector, or the reason it is invalid."""
    v = vector.strip()
    detected = cvss_type(v)
    if detected is None:
        if v.startswith("CVSS:"):
            return f"unsupported CVSS version {v.split('/', 1)[0]!r}"
        return "not a CVSS vector (no CVSS:x.y/ prefix, no v2 AV: metric)"
    try:
        if detected == "CVSS_V3":
            score = cvss.CVSS3(v).base_score
        elif detected == "CVSS_V4":
            score = cvss.CVSS4(v).base_score
        else:
            v2 = v.removeprefix("CVSS:2.0/")
            if v2.startswith("(") and v2.endswith(")"):
                v2 = v2[1:-1]
            score = cvss.CVSS2(v2).base_score
    except Exception as exc:  # the library raises CVSSError, but also KeyError/ValueError on junk
        return (str(exc) or type(exc).__name__)[:200]
    if score is None:  # pragma: no cover - the library always computes one
        return "no base score"
    s = round(float(score), 1)
    if not 0.0 <= s <= 10.0:  # pragma: no cover
        return f"base score {s} out of range"
    return CvssScore(detected, s, rating_for(s, detected))


def parse_or_error(vector: object) -> CvssScore | str:
    """``(type, base score, rating)``, or a one-line message saying why the vector is invalid."""
    if not isinstance(vector, str):
        return f"CVSS vector is not a string but {type(vector).__name__}"
    if len(vector) > _MAX_VECTOR:
        return f"CVSS vector longer than {_MAX_VECTOR} characters"
    r = _parse(vector)
    return r if isinstance(r, CvssScore) else f"invalid CVSS vector {vector[:120]!r}: {r}"


def parse_vector(vector: object) -> CvssScore | None:
    """``(type, base score, rating)`` for a valid CVSS v2/v3.0/v3.1/v4.0 vector, else None.

    >>> parse_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
    CvssScore(type='CVSS_V3', score=10.0, rating='Critical')
    >>> parse_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P")
    CvssScore(type='CVSS_V2', score=7.5, rating='High')
    >>> parse_vector("CVSS:3.1/AV:N") is None
    True
    """
    r = parse_or_error(vector)
    return r if isinstance(r, CvssScore) else None


def vector_error(vector: object) -> str | None:
    """Why :func:`parse_vector` rejects ``vector``, or None when it is valid."""
    r = parse_or_error(vector)
    return r if isinstance(r, str) else None


def base_score(vector: str, kind: str | None = None) -> float | None:
    """The base score of ``vector`` (``kind``: ``CVSS_V2``/``CVSS_V3``/``CVSS_V4``; guessed
    from the prefix when None). None when the vector is malformed, of another kind than
    ``kind`` says, or too long to be real."""
    r = parse_vector(vector)
    if r is None or (kind is not None and kind != r.type):
        return None
    return r.score
