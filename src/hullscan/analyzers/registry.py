"""The explicit list of analyzers. No import-time registration: what runs is what is here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from hullscan.analyzers.base import Analyzer
from hullscan.analyzers.lang.binaries import BinaryClassifierAnalyzer
from hullscan.analyzers.lang.dotnet import DotnetDepsAnalyzer
from hullscan.analyzers.lang.golang import GoAnalyzer
from hullscan.analyzers.lang.java import JavaAnalyzer
from hullscan.analyzers.lang.lockfiles import LockfileAnalyzer
from hullscan.analyzers.lang.node import NodeAnalyzer
from hullscan.analyzers.lang.php import PhpComposerAnalyzer
from hullscan.analyzers.lang.python import PythonAnalyzer
from hullscan.analyzers.lang.ruby import RubyGemsAnalyzer
from hullscan.analyzers.lang.rust import RustAnalyzer
from hullscan.analyzers.os.apk import ApkAnalyzer
from hullscan.analyzers.os.dpkg import DpkgAnalyzer
from hullscan.analyzers.os.osrelease import OsReleaseAnalyzer
from hullscan.analyzers.os.rpm import RpmAnalyzer

ALL_ANALYZERS: tuple[type[Analyzer], ...] = (
    OsReleaseAnalyzer,
    DpkgAnalyzer,
    ApkAnalyzer,
    RpmAnalyzer,
    PythonAnalyzer,
    NodeAnalyzer,
    JavaAnalyzer,
    GoAnalyzer,
    RustAnalyzer,
    RubyGemsAnalyzer,
    PhpComposerAnalyzer,
    DotnetDepsAnalyzer,
    LockfileAnalyzer,
    BinaryClassifierAnalyzer,
)


def create(names: Iterable[str] | None = None) -> list[Analyzer]:
    """Instantiate analyzers by name (``os/dpkg``); all of them when ``names`` is None."""
    wanted = set(names) if names is not None else None
    out = [cls() for cls in ALL_ANALYZERS if wanted is None or cls.name in wanted]
    if wanted is not None:
        unknown = wanted - {a.name for a in out}
        if unknown:
            from hullscan.errors import UsageError

            valid = ", ".join(cls.name for cls in ALL_ANALYZERS)
            raise UsageError(f"unknown analyzer(s) {', '.join(sorted(unknown))}; valid: {valid}")
    return out


def fingerprint(analyzers: Iterable[Analyzer]) -> str:
    """Changes whenever an analyzer is added, removed or bumps its version (cache key part)."""
    text = ",".join(sorted(f"{a.name}@{a.version}:{a.max_file_size}" for a in analyzers))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
