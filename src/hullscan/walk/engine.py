"""Run the single pass over every layer of an image, in parallel, through the cache.

Layers are independent, so each missing layer is walked in its own worker process (a pool
sized to the cores; in-process when only one layer needs reading, which avoids the pool's
start-up cost). Workers return the encoded ``LayerResult``; the parent caches it and squashes.
Progress (blob bytes read) flows back through a queue the parent drains.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import msgspec

from hullscan.analyzers import registry
from hullscan.analyzers.base import Analyzer
from hullscan.errors import CacheError, LimitExceededError
from hullscan.events import NullObserver, ProgressObserver
from hullscan.image.layer import LayerStream
from hullscan.image.limits import Limits
from hullscan.image.source import ImageInfo, LayerSpec
from hullscan.model import LayerRef
from hullscan.walk.cache import LayerCache
from hullscan.walk.layer_result import LayerResult, decode_layer_result, encode_layer_result
from hullscan.walk.tarwalk import walk_layer

_PROGRESS_STEP = 1024 * 1024
_progress_queue: Any = None  # set in worker processes by _init_worker


def _init_worker(q: Any) -> None:
    global _progress_queue
    _progress_queue = q


def _layer_name(spec: LayerSpec) -> str:
    return f"layer {spec.ref.index} ({spec.ref.diff_id or spec.blob_digest or 'unknown digest'})"


def analyze_layer(
    spec: LayerSpec,
    analyzers: Sequence[Analyzer],
    limits: Limits,
    progress: Any = None,
) -> LayerResult:
    """Stream one layer once, verify its digests, and return what the analyzers found."""
    name = _layer_name(spec)
    with spec.opener.open() as raw:
        stream = LayerStream(
            raw,
            name=name,
            limits=limits,
            expected_diff_id=spec.ref.diff_id or None,
            expected_blob_digest=spec.blob_digest,
        )
        chunks = stream.chunks()
        if progress is not None:
            chunks = _reporting(chunks, stream, spec.ref.diff_id or name, progress)
        result = walk_layer(
            chunks,
            diff_id=spec.ref.diff_id,
            layer_name=name,
            analyzers=analyzers,
            limits=limits,
        )
    # Only reached when the digests verified (LayerStream raises at the end otherwise).
    result.diff_id = stream.diff_id or spec.ref.diff_id
    result.uncompressed_bytes = stream.uncompressed_bytes
    result.compressed_bytes = stream.compressed_bytes
    return result


def _reporting(
    chunks: Iterator[bytes], stream: LayerStream, key: str, progress: Any
) -> Iterator[bytes]:
    """Report blob (compressed) bytes consumed: the unit of the planned total."""
    reported = 0
    for chunk in chunks:
        done = stream.compressed_bytes
        if done - reported >= _PROGRESS_STEP:
            progress(key, done - reported)
            reported = done
        yield chunk
    if stream.compressed_bytes > reported:
        progress(key, stream.compressed_bytes - reported)


def _worker(spec: LayerSpec, names: tuple[str, ...], limits: Limits) -> bytes:
    analyzers = registry.create(names)
    q = _progress_queue

    def report(key: str, n: int) -> None:
        if q is not None:
            q.put((key, n))

    return encode_layer_result(analyze_layer(spec, analyzers, limits, report))


def analyze_layers(
    info: ImageInfo,
    analyzers: Sequence[Analyzer],
    limits: Limits,
    *,
    cache: LayerCache | None,
    workers: int | None,
    observer: ProgressObserver | None = None,
) -> list[tuple[LayerRef, LayerResult]]:
    """Results for every layer in order: from the cache, or by reading the layer once."""
    obs = observer or NullObserver()
    if len(info.layers) > limits.max_layers:
        raise LimitExceededError(
            f"{info.target.name}: {len(info.layers)} layers, over the limit of {limits.max_layers}"
        )
    fp = registry.fingerprint(analyzers)
    results: list[LayerResult | None] = [None] * len(info.layers)
    todo: list[int] = []
    for i, spec in enumerate(info.layers):
        if cache is not None and spec.ref.diff_id:
            hit = cache.get(cache.key(spec.ref.diff_id, fp))
            if hit is not None:
                results[i] = hit
                obs.layer_done(spec.ref.diff_id, cached=True)
                continue
        todo.append(i)
    obs.layers_planned(sum(info.layers[i].size or 0 for i in todo), len(todo))

    n_workers = min(workers or os.cpu_count() or 1, len(todo))
    if n_workers <= 1:
        for i in todo:
            spec = info.layers[i]
            res = analyze_layer(spec, analyzers, limits, obs.layer_progress)
            results[i] = res
            _store(cache, spec, res, fp)
            obs.layer_done(spec.ref.diff_id, cached=False)
    else:
        names = tuple(a.name for a in analyzers)
        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        q = ctx.Queue()
        with ProcessPoolExecutor(
            n_workers, mp_context=ctx, initializer=_init_worker, initargs=(q,)
        ) as pool:
            futures: dict[Future[bytes], int] = {
                pool.submit(_worker, info.layers[i], names, limits): i for i in todo
            }
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                    _drain(q, obs)
                    for fut in done:
                        i = futures[fut]
                        spec = info.layers[i]
                        done_res = decode_layer_result(fut.result())
                        results[i] = done_res
                        _store(cache, spec, done_res, fp)
                        obs.layer_done(spec.ref.diff_id, cached=False)
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
            finally:
                _drain(q, obs)
    total = sum(r.uncompressed_bytes for r in results if r is not None)
    if total > limits.max_image_bytes:
        raise LimitExceededError(
            f"{info.target.name}: image holds {total} uncompressed bytes, over the limit of "
            f"{limits.max_image_bytes}"
        )
    out: list[tuple[LayerRef, LayerResult]] = []
    for spec, maybe in zip(info.layers, results, strict=True):
        assert maybe is not None
        ref = spec.ref
        if not ref.diff_id:
            ref = msgspec.structs.replace(ref, diff_id=maybe.diff_id)
        out.append((ref, maybe))
    return out


def _store(cache: LayerCache | None, spec: LayerSpec, res: LayerResult, fp: str) -> None:
    if cache is not None and spec.ref.diff_id:
        try:
            cache.put(cache.key(spec.ref.diff_id, fp), res)
        except CacheError as exc:
            # The scan itself succeeded; a full disk must not turn it into a failure.
            res.warnings.append(f"layer result not cached: {exc}")


def _drain(q: Any, obs: ProgressObserver) -> None:
    while True:
        try:
            key, n = q.get_nowait()
        except queue.Empty:
            return
        obs.layer_progress(key, n)
