"""FIRST EPSS scores -> ``EpssScore``.

Two layouts, told apart per file:

* the live CSV (``epss_scores-YYYY-MM-DD.csv.gz``): a comment line
  ``#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000``, a header
  ``cve,epss,percentile``, then one row per CVE;
* the derived per-year layout of shared/vulndata's ``epss-emba-derived`` (``CVE_2021_EPSS.csv``
  in a tar): ``CVE-2021-44228;0.999990000;1.000000000`` lines, no comment, no header.

:func:`parse` returns ``(meta, records)``; ``meta`` holds the comment line's pairs
(``model_version``, ``score_date``) when there is one, else ``{}``. A row whose CVE id is
malformed or whose numbers are not in [0, 1] is a ``ParseIssue`` (item = file:line).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

from hullscan.model.advisory import EpssScore, ParseIssue
from hullscan.vulndb.build.containers import iter_tar, read_bounded

SOURCE = "epss"
_CVE = re.compile(r"CVE-\d{4}-\d{4,19}\Z")

EpssRecords = Iterator[EpssScore | ParseIssue]


def _meta(line: str) -> dict[str, str]:
    out = {}
    for pair in line.lstrip("#").split(","):
        key, sep, value = pair.partition(":")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def _rows(lines: list[str], start: int, name: str, source: str) -> EpssRecords:
    for lineno in range(start, len(lines)):
        line = lines[lineno].strip()
        if not line:
            continue
        parts = line.split(";") if ";" in line else line.split(",")
        if len(parts) != 3:
            yield ParseIssue(
                source=source, item=f"{name}:{lineno + 1}", error=f"{len(parts)} fields, not 3"
            )
            continue
        cve = parts[0].strip()
        try:
            epss, pct = float(parts[1]), float(parts[2])
        except ValueError:
            epss = pct = math.nan
        if not _CVE.match(cve) or not (0.0 <= epss <= 1.0 and 0.0 <= pct <= 1.0):
            yield ParseIssue(
                source=source, item=f"{name}:{lineno + 1}", error=f"bad row {line[:100]!r}"
            )
            continue
        yield EpssScore(cve, epss, pct)


def parse(
    data: bytes, name: str = "epss.csv", source: str = SOURCE
) -> tuple[dict[str, str], EpssRecords]:
    """``(meta, records)`` of one EPSS CSV in either layout."""
    lines = data.decode("utf-8", "replace").splitlines()
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        meta.update(_meta(lines[i]) if lines[i].strip() else {})
        i += 1
    if i < len(lines) and lines[i].strip().lower().replace(" ", "").startswith("cve,epss"):
        i += 1  # the header
    return meta, _rows(lines, i, name, source)


def read(path: Path, source: str = SOURCE) -> EpssRecords:
    """Builder entry point (``SourceSpec.read``): one ``.csv[.gz]``, or a tar of CSVs."""
    if ".tar" in path.name:
        for item in iter_tar(path, suffixes=(".csv",), source=source):
            if isinstance(item, ParseIssue):
                yield item
            else:
                yield from parse(item[1], item[0], source)[1]
        return
    yield from parse(read_bounded(path), path.name, source)[1]
