"""Per-layer result cache, safe for concurrent processes and bounded in size.

Entries are keyed by (layer diff_id, analyzer fingerprint, walker version) and hold the
msgpack-encoded ``LayerResult``. Writes go to a temp file in the same directory and are
renamed into place, so a reader sees a whole entry or none. Each hit touches the entry's
mtime; when the total size exceeds the bound, the least recently used entries are deleted
under an exclusive ``flock`` (readers never need the lock: a vanished or unreadable entry is
a miss). A corrupt entry (failed decode) is deleted and treated as a miss.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

import msgspec

from hullscan.errors import CacheError
from hullscan.walk.layer_result import LayerResult, decode_layer_result, encode_layer_result

WALKER_VERSION = 1
DEFAULT_MAX_BYTES = 2 * 1024**3


class LayerCache:
    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.dir = root / "layers"
        self.max_bytes = max_bytes
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cache directory {self.dir} is unusable: {exc}") from exc

    def key(self, diff_id: str, analyzer_fingerprint: str) -> str:
        text = f"{diff_id}|{analyzer_fingerprint}|walker{WALKER_VERSION}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.msgpack"

    def get(self, key: str) -> LayerResult | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            result = decode_layer_result(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # LRU: a hit makes the entry young
        return result

    def put(self, key: str, result: LayerResult) -> None:
        path = self._path(key)
        data = encode_layer_result(result)
        try:
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                Path(tmp).replace(path)
            except BaseException:
                with contextlib.suppress(OSError):
                    Path(tmp).unlink()
                raise
        except OSError as exc:
            raise CacheError(f"cannot write cache entry in {path.parent}: {exc}") from exc
        self.evict()

    def evict(self) -> None:
        """Delete least recently used entries until the cache fits ``max_bytes``."""
        lock_path = self.root / "layers.lock"
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries: list[tuple[float, int, Path]] = []
            total = 0
            for sub in self.dir.iterdir():
                if not sub.is_dir():
                    continue
                for f in sub.iterdir():
                    if f.name.startswith(".tmp-"):
                        continue
                    try:
                        st = f.stat()
                    except OSError:
                        continue
                    entries.append((st.st_mtime, st.st_size, f))
                    total += st.st_size
            if total <= self.max_bytes:
                return
            entries.sort()
            for _, size, f in entries:
                if total <= self.max_bytes:
                    break
                with contextlib.suppress(OSError):
                    f.unlink()
                    total -= size
