"""A rich progress bar on stderr, fed by the library's progress events."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class RichProgress:
    """Implements ``hullscan.events.ProgressObserver``; one bar for all layers' bytes."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]reading layers"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def layers_planned(self, total_bytes: int, count: int) -> None:
        # Both the total and the progress events count blob (compressed) bytes; the total
        # can still be a lower bound (a source that does not know its blob sizes), so it
        # grows when exceeded.
        self._task = self._progress.add_task("layers", total=total_bytes or None)

    def layer_progress(self, diff_id: str, nbytes: int) -> None:
        if self._task is None:
            return
        self._progress.advance(self._task, nbytes)
        task = self._progress.tasks[0]
        if task.total is not None and task.completed > task.total:
            self._progress.update(self._task, total=task.completed)

    def layer_done(self, diff_id: str, cached: bool) -> None:
        pass
