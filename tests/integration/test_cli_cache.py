"""The layer cache, end to end on the real Debian image.

A warm scan must not read a single layer (proved two ways: through the library with a Source
whose layer openers raise, and through the CLI on an image whose layer blobs were overwritten
with garbage after the cold scan), ``--no-cache`` must write nothing anywhere, two processes
sharing one cache dir must both succeed with the same answer, and an image that shares the
base layers with a cached one only walks its own new layer.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from tests.images.builder import Entry, layer_tar, write_image
from tests.images.debian import DebianFixture, debian_image, default_cache_dir
from tests.integration.cli_support import (
    Sandbox,
    assert_one_line_error,
    cache_entries,
    debian_fixture_or_skip,
    files_under,
    run_cli,
    start_cli,
)

from hullscan import api
from hullscan.image.source import ImageInfo, Source
from hullscan.model import SBOM
from hullscan.options import ScanOptions

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("cli-debian-cache"),
]


@pytest.fixture(scope="module")
def fx() -> DebianFixture:
    return debian_fixture_or_skip(default_cache_dir())


@pytest.fixture(scope="module")
def image(fx: DebianFixture) -> Path:
    return debian_image(fx, default_cache_dir(), fmt="docker-archive", compression="gzip")


class Recorder:
    """A ProgressObserver that keeps every event."""

    def __init__(self) -> None:
        self.planned: list[tuple[int, int]] = []
        self.progress: dict[str, int] = defaultdict(int)
        self.done: dict[str, bool] = {}

    def layers_planned(self, total_bytes: int, count: int) -> None:
        self.planned.append((total_bytes, count))

    def layer_progress(self, diff_id: str, nbytes: int) -> None:
        self.progress[diff_id] += nbytes

    def layer_done(self, diff_id: str, cached: bool) -> None:
        assert diff_id not in self.done, f"{diff_id} reported done twice"
        self.done[diff_id] = cached


@dataclass(frozen=True)
class ExplodingOpener:
    """A layer opener that fails the test (picklable, so it also fails in a worker)."""

    diff_id: str

    def open(self) -> IO[bytes]:
        raise AssertionError(f"layer {self.diff_id} was read")


class NoLayerReads:
    """A Source whose metadata resolves as usual but whose layers cannot be opened (except
    those in ``allow``)."""

    def __init__(self, inner: Source, allow: frozenset[str] = frozenset()) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.allow = allow

    def resolve(self, platform: str | None) -> ImageInfo:
        info = self.inner.resolve(platform)
        layers = tuple(
            spec
            if spec.ref.diff_id in self.allow
            else dataclasses.replace(spec, opener=ExplodingOpener(spec.ref.diff_id))
            for spec in info.layers
        )
        return dataclasses.replace(info, layers=layers)

    def close(self) -> None:
        self.inner.close()


def _scan_without_layer_reads(
    spec: str, options: ScanOptions, allow: frozenset[str] = frozenset()
) -> tuple[SBOM, Recorder]:
    rec = Recorder()
    source = api.open_source(spec, options)
    try:
        return api.sbom(NoLayerReads(source, allow), options, rec), rec
    finally:
        source.close()


def test_warm_scan_reads_no_layer(image: Path, tmp_path: Path) -> None:
    spec = f"docker-archive:{image}"
    options = ScanOptions(cache_dir=tmp_path / "cache")
    cold_rec = Recorder()
    cold = api.sbom(spec, options, cold_rec)
    diff_ids = [layer.diff_id for layer in cold.layers]
    assert cold_rec.done == dict.fromkeys(diff_ids, False)
    # Progress counts every stored (compressed) byte of both layers once, as planned.
    sizes = {layer.diff_id: layer.size for layer in cold.layers}
    assert all(sizes.values())
    assert dict(cold_rec.progress) == sizes
    assert cold_rec.planned == [(sum(s or 0 for s in sizes.values()), 2)]
    assert len(cache_entries(tmp_path / "cache")) == 2

    # The sanity check of the wrapper itself: without a cache it does explode.
    with pytest.raises(AssertionError, match="was read"):
        _scan_without_layer_reads(spec, ScanOptions(cache_dir=None))

    warm, warm_rec = _scan_without_layer_reads(spec, options)
    assert warm_rec.done == dict.fromkeys(diff_ids, True)
    assert warm_rec.progress == {}
    assert warm_rec.planned == [(0, 0)]
    assert warm == cold


def test_cli_warm_scan_does_not_touch_layer_blobs(fx: DebianFixture, tmp_path: Path) -> None:
    """Overwrite the layer blobs with same-size garbage after the cold scan: a --no-cache scan
    now fails on them, the warm scan does not even notice."""
    original = debian_image(fx, default_cache_dir(), fmt="oci-dir", compression="gzip")
    layout = tmp_path / "layout"
    shutil.copytree(original, layout, copy_function=os.link)  # cheap; blobs replaced below
    box = Sandbox(tmp_path / "box")
    args = ("sbom", f"oci-dir:{layout}", "-f", "json", "-q", "--cache-dir", box.cache)
    cold = run_cli(*args, sandbox=box)
    assert cold.returncode == 0, cold.describe()
    entries = {p: (box.cache / "layers" / p).read_bytes() for p in cache_entries(box.cache)}
    assert len(entries) == 2

    blobs = layout / "blobs" / "sha256"
    for layer in cold.json()["layers"]:
        blob = blobs / layer["digest"].split(":", 1)[1]
        size = blob.stat().st_size
        blob.unlink()  # a new inode: the cached fixture image is not modified
        blob.write_bytes(b"\x1f\x8b" + bytes(size - 2))

    broken = run_cli("sbom", f"oci-dir:{layout}", "-f", "json", "-q", "--no-cache", sandbox=box)
    # Whichever layer fails first: bytes that are not the blob fail its digest (and gzip).
    assert_one_line_error(broken, 2, "blob digest mismatch", "do not decompress as gzip")

    warm = run_cli(*args, sandbox=box)
    assert warm.returncode == 0, warm.describe()
    assert warm.stdout == cold.stdout
    assert {p: (box.cache / "layers" / p).read_bytes() for p in cache_entries(box.cache)} == (
        entries
    )


def test_no_cache_writes_nothing(image: Path, tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    env_cache = tmp_path / "env-cache"
    env = {"HULLSCAN_CACHE_DIR": str(env_cache)}
    spec = f"docker-archive:{image}"
    run = run_cli("sbom", spec, "-f", "json", "-q", "--no-cache", sandbox=box, env=env)
    assert run.returncode == 0, run.describe()
    assert not env_cache.exists()
    for d in (box.home, box.tmp, box.cwd):
        assert files_under(d) == [], d

    # Positive controls: the same run without --no-cache fills $HULLSCAN_CACHE_DIR, and with
    # neither flag nor variable the XDG cache dir; the output does not change.
    again = run_cli("sbom", spec, "-f", "json", "-q", sandbox=box, env=env)
    assert again.stdout == run.stdout
    assert len(cache_entries(env_cache)) == 2
    assert files_under(box.home) == []
    default = run_cli("sbom", spec, "-f", "json", "-q", sandbox=box)
    assert default.stdout == run.stdout
    assert len(cache_entries(box.home / ".cache" / "hullscan")) == 2
    assert files_under(box.cwd) == [] and files_under(box.tmp) == []


def test_two_processes_share_one_cache_dir(image: Path, tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    args = ("sbom", f"docker-archive:{image}", "-f", "json", "-q", "--cache-dir", box.cache)
    procs = [start_cli(*args, sandbox=box) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert err == ""
    assert outs[0][0] == outs[1][0] and outs[0][0].startswith("{")
    entries = files_under(box.cache)
    assert len(cache_entries(box.cache)) == 2
    assert not [e for e in entries if ".tmp-" in e], entries
    warm = run_cli(*args, sandbox=box)
    assert warm.stdout == outs[0][0]


def test_image_sharing_base_layers_walks_only_its_new_layer(
    image: Path, fx: DebianFixture, tmp_path: Path
) -> None:
    options = ScanOptions(cache_dir=tmp_path / "cache")
    base_sbom = api.sbom(f"docker-archive:{image}", options)

    status = (fx.app_root / "var/lib/dpkg/status").read_bytes()
    extra = (
        b"Package: hullscan-extra\nStatus: install ok installed\nVersion: 1.0-1\n"
        b"Architecture: all\nMaintainer: nobody <nobody@example.org>\n\n"
    )
    layer2 = layer_tar([Entry("var/lib/dpkg/status", status.rstrip(b"\n") + b"\n\n" + extra)])
    derived = write_image(
        tmp_path / "derived",
        [fx.base_layer, fx.app_layer, layer2],
        fmt="oci-dir",
        compression="gzip",
    )
    probe = api.open_source(f"oci-dir:{derived}", options)
    try:
        new_layer = probe.resolve(None).layers[2]
    finally:
        probe.close()
    new_diff_id = new_layer.ref.diff_id
    sbom, rec = _scan_without_layer_reads(
        f"oci-dir:{derived}", options, allow=frozenset({new_diff_id})
    )
    shared = [layer.diff_id for layer in base_sbom.layers]
    assert [layer.diff_id for layer in sbom.layers] == [*shared, new_diff_id]
    assert rec.done == {shared[0]: True, shared[1]: True, new_diff_id: False}
    assert set(rec.progress) == {new_diff_id}
    assert rec.planned == [(new_layer.size, 1)]

    names = {p.name: p for p in sbom.packages}
    assert set(names) == {p.name for p in base_sbom.packages} | {"hullscan-extra"}
    assert names["hullscan-extra"].layer_index == 2
    for p in base_sbom.packages:
        assert names[p.name].layer_index == p.layer_index, p.name
