"""Files from real Debian packages, for analyzer tests: ``apt-get download`` + ``dpkg-deb -x``,
only the files a test needs kept, cached under ``$HULLSCAN_FIXTURE_CACHE/debs/<name>/v<N>`` so
later runs need no download. A test skips (with the reason) when the cache is absent and the
packages cannot be downloaded here."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("HULLSCAN_FIXTURE_CACHE", "/var/tmp/hullscan-fixtures")) / "debs"


def run(
    args: Sequence[str | Path], cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def cached(name: str, version: str, build: Callable[[Path], None]) -> Path:
    """``CACHE/<name>/v<version>``, built once by ``build(staging)``."""
    return cached_at(CACHE / name / f"v{version}", build, f"fixture {name!r}")


def cached_at(root: Path, build: Callable[[Path], None], what: str) -> Path:
    """``root``, built once by ``build(staging)``; concurrent builders (xdist workers) use their
    own staging directory and the first rename wins. Skips the test when it cannot be built."""
    if (root / "VERSION").is_file():
        return root
    staging = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        build(staging)
        (staging / "VERSION").write_text(root.name)
        try:
            staging.rename(root)
        except OSError:
            if not (root / "VERSION").is_file():
                raise
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"{what} not cached in {root} and cannot be built: {e}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def extract_debs(
    staging: Path, packages: Sequence[str], keep: Callable[[Path], bool], must: str
) -> None:
    """Download ``packages``, extract them into ``staging/root`` keeping the files ``keep``
    accepts (and symlinks to them), write ``staging/PACKAGES`` (the .deb file names: name and
    version). ``must``: a package whose absence means the download failed."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed")
    download = staging / "download"
    download.mkdir()
    r = run(["apt-get", "download", *packages], cwd=download)
    if r.returncode != 0:  # a name unknown to this release, or stale lists: take the others
        for pkg in packages:
            run(["apt-get", "download", pkg], cwd=download)
    debs = sorted(download.glob("*.deb"))
    if not any(d.name.startswith(f"{must}_") for d in debs):
        raise RuntimeError(
            f"apt-get download failed (no apt lists? run apt-get update): {r.stderr[-300:]}"
        )
    root = staging / "root"
    for deb in debs:
        x = run(["dpkg-deb", "-x", deb, root])
        if x.returncode != 0:
            raise RuntimeError(f"dpkg-deb -x {deb.name}: {x.stderr.strip()[-300:]}")
    for p in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if p.is_symlink():
            if not keep(p) or not p.exists():
                p.unlink()
        elif p.is_file():
            if not keep(p):
                p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    (staging / "PACKAGES").write_text("".join(f"{d.name}\n" for d in debs))
    shutil.rmtree(download)
