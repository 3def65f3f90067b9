"""Helpers for the end-to-end CLI tests: run ``hullscan`` as a real process, isolated.

Every run gets its own HOME, XDG cache dir and TMPDIR (under the test's tmp dir), and
``HULLSCAN_CACHE_DIR``/``HULLSCAN_DEBUG`` from the caller's environment are dropped, so a test
can prove exactly which files a scan wrote and that nothing landed in the user's cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.images.debian import DebianFixture, FixtureUnavailable, build_debian_fixture

REPO = Path(__file__).resolve().parents[2]
HULLSCAN = [sys.executable, "-m", "hullscan"]
TIMEOUT = 300


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, self.describe()
        return json.loads(self.stdout)

    def describe(self) -> str:
        return (
            f"hullscan {' '.join(self.args)} -> exit {self.returncode}\n"
            f"--- stderr ---\n{self.stderr[-3000:]}\n--- stdout ---\n{self.stdout[:2000]}"
        )


@dataclass(frozen=True)
class Sandbox:
    """Where a CLI run may write: its cache, TMPDIR, HOME (and XDG cache), and cwd."""

    root: Path

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    def make(self) -> Sandbox:
        for d in (self.tmp, self.home, self.cwd):
            d.mkdir(parents=True, exist_ok=True)
        return self

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("HULLSCAN_CACHE_DIR", "HULLSCAN_DEBUG", "COLUMNS", "LINES")
        }
        env.update(
            {
                "HOME": str(self.home),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "TMPDIR": str(self.tmp),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": str(REPO / "src"),
            }
        )
        env.update(extra or {})
        return env


def run_cli(
    *args: str | Path,
    sandbox: Sandbox,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
    stdin: str | None = None,
) -> Run:
    argv = tuple(str(a) for a in args)
    proc = subprocess.run(
        [*HULLSCAN, *argv],
        cwd=sandbox.make().cwd,
        env=sandbox.env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(argv, proc.returncode, proc.stdout, proc.stderr)


def start_cli(*args: str | Path, sandbox: Sandbox) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*HULLSCAN, *(str(a) for a in args)],
        cwd=sandbox.make().cwd,
        env=sandbox.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_one_line_error(run: Run, code: int = 2, *needles: str) -> str:
    """Exit ``code``, nothing on stdout, exactly one ``hullscan: error:`` line on stderr."""
    assert run.returncode == code, run.describe()
    assert run.stdout == "", run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and run.stderr.endswith("\n"), run.describe()
    line = lines[0]
    assert line.startswith("hullscan: error: "), run.describe()
    assert "internal error" not in line, run.describe()
    for needle in needles:
        assert needle.lower() in line.lower(), f"{needle!r} not in {line!r}"
    return line


def tree(root: Path, *, exclude: Iterable[Path] = ()) -> dict[str, tuple[str, int, int]]:
    """relpath -> (kind, size, mtime_ns) for everything under ``root`` except ``exclude``."""
    skip = {os.path.realpath(p) for p in exclude}
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.realpath(Path(dirpath, d)) not in skip]
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            kind = "l" if p.is_symlink() else "d" if p.is_dir() else "f"
            size = 0 if kind == "d" else st.st_size
            mtime = 0 if kind == "d" else st.st_mtime_ns
            out[p.relative_to(root).as_posix()] = (kind, size, mtime)
    return out


def files_under(root: Path) -> list[str]:
    """Every non-directory path under ``root`` (empty when it does not exist)."""
    if not root.exists():
        return []
    return sorted(k for k, (kind, _, _) in tree(root).items() if kind != "d")


def cache_entries(cache: Path) -> list[str]:
    return [p for p in files_under(cache / "layers") if p.endswith(".msgpack")]


# --------------------------------------------------------------------------- Debian


VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"
# Enough of shared/vulndata to scan the Debian test image (built in ~15 s).
DEBIAN_DB_SOURCES = ("osv:Debian", "distro-info", "debian-security-support", "kev", "epss")


def build_db(
    sandbox: Sandbox, sources: tuple[str, ...], needs: str, name: str = "vuln.sqlite"
) -> Path:
    """A DB from some sources of ../shared/vulndata, via ``hullscan db build``; skips when
    ``VULNDATA / needs`` is absent."""
    if not (VULNDATA / needs).is_dir():
        pytest.skip(f"shared vulnerability data absent: {VULNDATA / needs}")
    out = sandbox.root / name
    args: list[str | Path] = ["db", "build", "--from", VULNDATA, "-o", out, "-q"]
    for s in sources:
        args += ["--source", s]
    r = run_cli(*args, sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    return out


def sbom_locations(sandbox: Sandbox, image: Path, ptype: str) -> set[tuple[str, str]]:
    """(purl, first location) of every ``ptype`` package ``hullscan sbom`` lists."""
    r = run_cli("sbom", image, "-f", "json", "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    return {
        (p["purl"], p["locations"][0]["path"]) for p in r.json()["packages"] if p["type"] == ptype
    }


def build_debian_db(sandbox: Sandbox) -> Path:
    """A DB from the Debian sources of ../shared/vulndata."""
    return build_db(sandbox, DEBIAN_DB_SOURCES, "osv-dev/Debian")


def debian_fixture_or_skip(cache_dir: Path) -> DebianFixture:
    try:
        return build_debian_fixture(cache_dir)
    except FixtureUnavailable as e:
        pytest.skip(f"Debian fixture not cached and cannot be built here: {e}")


def deb_rows(sbom: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(name, version, arch) of the dpkg packages (binary classifiers may add others: a file a
    removed dpkg database no longer owns is reported by its upstream product)."""
    return sorted(
        (p["name"], p["version"], p["arch"]) for p in sbom["packages"] if p["type"] == "deb"
    )


def deb_sources(sbom: Mapping[str, Any]) -> dict[str, str]:
    """name -> ``SRC`` or ``SRC (VERSION)``, the way ``read_dpkg`` reports the ground truth."""
    out: dict[str, str] = {}
    for p in sbom["packages"]:
        src, src_version = p["source_name"], p["source_version"]
        out[p["name"]] = src if src_version == p["version"] else f"{src} ({src_version})"
    return out


def comparable(sbom: Mapping[str, Any]) -> dict[str, Any]:
    """The SBOM minus what legitimately differs between container formats of one image:
    the target, and each layer's stored blob (digest, media type, size)."""
    out = {k: v for k, v in sbom.items() if k != "target"}
    out["layers"] = [
        {k: v for k, v in layer.items() if k not in ("digest", "media_type", "size")}
        for layer in sbom["layers"]
    ]
    return out
