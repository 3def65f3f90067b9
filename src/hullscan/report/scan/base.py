"""The protocol every scan-report writer implements."""

from __future__ import annotations

from typing import IO, ClassVar, Protocol

from hullscan.model.finding import ScanResult


class ScanWriter(Protocol):
    """``id`` is what users pass to ``--format``; ``write_scan`` renders one result.

    Writers are pure: they read the result and write text; they never decide policy (which
    findings count, exit codes) -- the result they get is already filtered.
    """

    id: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]]
    media_type: ClassVar[str]

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None: ...
