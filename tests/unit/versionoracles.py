"""Reading the committed version oracles (tests/oracles/versions/*.tsv.xz).

Each file starts with ``#`` lines naming the real tool that produced it, then rows
``a<TAB>b<TAB>-1|0|1`` (the tool's comparison of a and b), ``a<TAB><TAB>E`` (the tool
rejects a) and ``a<TAB><TAB>P`` (the tool accepts a, hullscan rejects it by a documented
policy). ``npm-ranges.tsv.xz`` has ``version<TAB>range<TAB>1|0`` and ``<TAB>range<TAB>E``.
scripts/gen_version_oracles.py writes them; nothing here needs the tools.
"""

from __future__ import annotations

import functools
import lzma
from pathlib import Path

ORACLE_DIR = Path(__file__).resolve().parents[1] / "oracles" / "versions"

#: Schemes whose file was made by the scheme's real implementation.
TOOL_SCHEMES = ("deb", "rpm", "pypi", "npm", "maven", "golang", "gem", "composer", "cargo")
#: Schemes whose file holds the upstream project's own test vectors (no tool installable).
VECTOR_SCHEMES = ("apk", "nuget")


@functools.cache
def read(name: str) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]:
    """(header lines, rows) of ``<name>.tsv.xz``."""
    header: list[str] = []
    rows: list[tuple[str, str, str]] = []
    with lzma.open(ORACLE_DIR / f"{name}.tsv.xz", "rt", encoding="utf-8", newline="\n") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                header.append(line)
                continue
            a, b, r = line.split("\t")
            rows.append((a, b, r))
    return tuple(header), tuple(rows)


def comparisons(name: str) -> list[tuple[str, str, int]]:
    return [(a, b, int(r)) for a, b, r in read(name)[1] if r not in ("E", "P")]


def rejected(name: str) -> list[str]:
    """Strings the tool rejects."""
    return [a for a, _b, r in read(name)[1] if r == "E"]


def policy_rejected(name: str) -> list[str]:
    """Strings the tool accepts and hullscan rejects on purpose."""
    return [a for a, _b, r in read(name)[1] if r == "P"]


def strings(name: str) -> list[str]:
    """Every distinct version string the tool accepted, sorted."""
    out: set[str] = set()
    for a, b, _r in comparisons(name):
        out.add(a)
        out.add(b)
    return sorted(out)
