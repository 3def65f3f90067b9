"""Progress events: the library reports, the CLI (or a server) renders."""

from __future__ import annotations

from typing import Protocol


class ProgressObserver(Protocol):
    def layers_planned(self, total_bytes: int, count: int) -> None: ...

    def layer_progress(self, diff_id: str, nbytes: int) -> None: ...

    def layer_done(self, diff_id: str, cached: bool) -> None: ...


class NullObserver:
    def layers_planned(self, total_bytes: int, count: int) -> None:
        pass

    def layer_progress(self, diff_id: str, nbytes: int) -> None:
        pass

    def layer_done(self, diff_id: str, cached: bool) -> None:
        pass
