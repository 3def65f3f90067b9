"""Per-analyzer outcome: a failure is data in the report, never a swallowed log line."""

from __future__ import annotations

import msgspec


class FileError(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    error: str
    layer_diff_id: str | None = None


class AnalyzerStatus(msgspec.Struct, frozen=True, kw_only=True):
    """``status`` is ``ok``, ``partial`` (some files failed) or ``skipped``."""

    name: str
    version: int
    status: str = "ok"
    reason: str | None = None
    file_errors: tuple[FileError, ...] = ()
