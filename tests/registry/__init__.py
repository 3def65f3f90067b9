"""Real-registry test infrastructure: distribution's ``docker-registry``, a token server, a
fault-injecting proxy and skopeo pushes (see ``fixtures.py`` for the pytest fixtures)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Stoppable:
    """A server used as a context manager: ``stop()`` on exit."""

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
