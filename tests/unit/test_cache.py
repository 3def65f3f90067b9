from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from hullscan.walk.cache import LayerCache
from hullscan.walk.layer_result import FileResult, LayerResult


def _result(i: int, size: int = 10) -> LayerResult:
    return LayerResult(
        diff_id=f"sha256:{i}", files={"p": [FileResult(analyzer="a", payload=b"x" * size)]}
    )


def test_cache_roundtrip_and_miss(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    key = cache.key("sha256:1", "fp")
    assert cache.get(key) is None
    cache.put(key, _result(1))
    assert cache.get(key) == _result(1)
    assert cache.key("sha256:1", "fp2") != key  # analyzer versions are part of the key


def test_cache_corrupt_entry_is_a_miss_and_removed(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    key = cache.key("sha256:1", "fp")
    cache.put(key, _result(1))
    path = next((tmp_path / "layers").rglob("*.msgpack"))
    path.write_bytes(b"\xc1garbage")
    assert cache.get(key) is None
    assert not path.exists()


def test_cache_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path, max_bytes=3500)
    keys = [cache.key(f"sha256:{i}", "fp") for i in range(3)]
    for i, k in enumerate(keys[:2]):
        cache.put(k, _result(i, 1000))
    old = time.time() - 100
    for p in (tmp_path / "layers").rglob("*.msgpack"):
        os.utime(p, (old, old))
    assert cache.get(keys[0]) is not None  # touch: keys[0] becomes young
    cache.put(keys[2], _result(2, 1000))  # 3 entries > 3500? each ~1050 bytes -> fits
    cache.put(cache.key("sha256:9", "fp"), _result(9, 1000))  # now over: evict oldest = keys[1]
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is not None


def _hammer(root: str, n: int) -> None:
    cache = LayerCache(Path(root), max_bytes=20_000)
    for i in range(n):
        k = cache.key(f"sha256:{i % 7}", "fp")
        cache.put(k, _result(i % 7, 500))
        got = cache.get(k)
        assert got is None or got == _result(i % 7, 500)


def test_cache_is_safe_for_concurrent_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), 60)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert not list((tmp_path / "layers").rglob(".tmp-*"))
