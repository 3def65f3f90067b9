"""Helpers for the OS analyzer tests: real fixtures from ../shared, analyze + assemble.

Records always go through the analyzer's ``encode``/``decode`` (what the layer cache does), so
every test also checks that records are msgspec-encodable and round-trip.
"""

from __future__ import annotations

import csv
import lzma
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly
from hullscan.analyzers.dispatch import Dispatch
from hullscan.errors import ParseError
from hullscan.model import Distro, LayerRef

PKGDB = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pkgdb"
LAYER = LayerRef(index=0, diff_id="sha256:" + "0" * 64)


def pkgdb(*parts: str) -> Path:
    """A path under the shared pkgdb fixtures; skips the test when it is absent."""
    path = PKGDB.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture absent: {path} (needs ../shared/fixtures/pkgdb)")
    return path


def read_bytes(path: Path) -> bytes:
    """A fixture's bytes; big fixtures are stored ``.xz``-compressed."""
    data = path.read_bytes()
    return lzma.decompress(data) if path.suffix == ".xz" else data


def tree(root: Path, analyzer: Analyzer) -> dict[str, bytes]:
    """Image-relative path -> bytes of every file under ``root`` the analyzer is interested in."""
    dispatch = Dispatch([analyzer])
    out: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            if analyzer in dispatch.match(rel, p.stat().st_size):
                out[rel] = p.read_bytes()
    return out


def analyze(analyzer: Analyzer, path: str, data: bytes) -> object:
    """``analyze_file`` plus the cache round trip."""
    return analyzer.decode(analyzer.encode(analyzer.analyze_file(path, data)))


def analyzed(
    analyzer: Analyzer,
    files: Mapping[str, bytes],
    links: Mapping[str, str] | None = None,
) -> tuple[dict[str, AnalyzedFile], dict[str, str]]:
    """AnalyzedFiles for ``files`` (ParseErrors collected apart), plus ``links`` (path -> real
    path) as squash presents a symlink at a wanted path."""
    out: dict[str, AnalyzedFile] = {}
    errors: dict[str, str] = {}
    for path, data in files.items():
        try:
            out[path] = AnalyzedFile(path, path, LAYER, analyze(analyzer, path, data))
        except ParseError as exc:
            errors[path] = str(exc)
    for link, real in (links or {}).items():
        if real in out:
            out[link] = AnalyzedFile(link, real, LAYER, out[real].record)
    return out, errors


def assemble(
    analyzer: Analyzer,
    files: Mapping[str, bytes],
    distro: Distro | None = None,
    links: Mapping[str, str] | None = None,
) -> Assembly:
    """Analyze then assemble; a file the analyzer rejects fails the test."""
    done, errors = analyzed(analyzer, files, links)
    assert not errors, errors
    return analyzer.assemble(done, AssembleContext(distro=distro))


def tsv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def folders(kind: str, marker: str) -> list[str]:
    """Fixture folder names under ``pkgdb/<kind>`` holding ``marker`` (empty when absent)."""
    base = PKGDB / kind
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / marker).exists())


def names(packages: Iterable[object]) -> set[str]:
    return {p.name for p in packages}  # type: ignore[attr-defined]
