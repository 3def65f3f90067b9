"""Options for the library API. Plain frozen dataclasses: no argparse, no environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hullscan.image.limits import DEFAULT_LIMITS, Limits
from hullscan.image.registry.settings import RegistrySettings


@dataclass(frozen=True, slots=True)
class ScanOptions:
    platform: str | None = None
    cache_dir: Path | None = None  # None disables the layer cache
    cache_max_bytes: int = 2 * 1024**3
    analyzers: tuple[str, ...] | None = None  # None = all
    workers: int | None = None  # None = os.cpu_count()
    limits: Limits = field(default=DEFAULT_LIMITS)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
