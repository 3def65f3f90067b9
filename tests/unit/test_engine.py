"""The engine over a minimal in-memory Source: parallel layers, cache, digest failures."""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from hullscan.errors import DigestMismatchError
from hullscan.image.limits import Limits
from hullscan.image.source import ImageInfo, LayerSpec
from hullscan.model import LayerRef, Target
from hullscan.walk import engine
from hullscan.walk.cache import LayerCache
from hullscan.walk.squash import Squasher
from tests.unit.tarmaker import make_tar
from tests.unit.textanalyzer import OsAnalyzer, PkgFileAnalyzer


@dataclass(frozen=True)
class BytesOpener:
    data: bytes

    def open(self) -> IO[bytes]:
        return io.BytesIO(self.data)


@dataclass(frozen=True)
class CountingOpener:
    data: bytes
    log: str  # a file: one line per open, so opens in worker processes are counted too

    def open(self) -> IO[bytes]:
        with open(self.log, "a") as f:
            f.write("open\n")
        return io.BytesIO(self.data)


def image(layer_entries, opener=BytesOpener, **kw) -> ImageInfo:
    specs = []
    for i, entries in enumerate(layer_entries):
        tar = make_tar(entries)
        blob = gzip.compress(tar)
        diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
        ref = LayerRef(index=i, diff_id=diff_id, created_by=f"RUN step {i}")
        specs.append(
            LayerSpec(
                ref=ref,
                opener=opener(blob, **kw),
                blob_digest="sha256:" + hashlib.sha256(blob).hexdigest(),
                media_type=None,
                size=len(blob),
            )
        )
    return ImageInfo(target=Target(name="t", kind="test"), config={}, layers=tuple(specs))


LAYERS = [
    [("etc/os-release", "testos", "file"), ("pkgs/a", "a 1", "file")],
    [("pkgs/b", "b 1", "file")],
    [("pkgs/a", "a 2", "file"), ("pkgs/.wh.b", "", "file")],
]
ANALYZERS = [OsAnalyzer(), PkgFileAnalyzer()]


def _pkgs(info: ImageInfo, **kw) -> dict[str, tuple[str, int | None]]:
    layers = engine.analyze_layers(info, ANALYZERS, Limits(), **kw)
    r = Squasher(ANALYZERS, Limits()).squash(layers)
    return {p.name: (p.version, p.layer_index) for p in r.packages}


@pytest.mark.parametrize("workers", [1, 2])
def test_analyze_layers_in_process_and_in_pool_agree(workers: int, monkeypatch) -> None:
    # Worker processes rebuild analyzers by name from the registry; point it at the test ones.
    monkeypatch.setattr(engine.registry, "create", lambda names: [OsAnalyzer(), PkgFileAnalyzer()])
    assert _pkgs(image(LAYERS), cache=None, workers=workers) == {"a": ("2", 2)}


def test_second_scan_reads_no_layer(tmp_path: Path) -> None:
    log = tmp_path / "opens.log"
    info = image(LAYERS, opener=CountingOpener, log=str(log))
    cache = LayerCache(tmp_path / "cache")
    first = _pkgs(info, cache=cache, workers=1)
    assert log.read_text().count("open") == 3
    second = _pkgs(info, cache=cache, workers=1)
    assert second == first
    assert log.read_text().count("open") == 3  # nothing opened the second time


def test_digest_mismatch_is_an_error_and_not_cached(tmp_path: Path) -> None:
    info = image(LAYERS[:1])
    spec = info.layers[0]
    bad = LayerSpec(
        ref=LayerRef(index=0, diff_id="sha256:" + "0" * 64),
        opener=spec.opener,
        blob_digest=spec.blob_digest,
        media_type=None,
        size=spec.size,
    )
    cache = LayerCache(tmp_path)
    bad_info = ImageInfo(target=info.target, config={}, layers=(bad,))
    with pytest.raises(DigestMismatchError):
        engine.analyze_layers(bad_info, ANALYZERS, Limits(), cache=cache, workers=1)
    assert not list((tmp_path / "layers").rglob("*.msgpack"))
