"""Build (or load from the cache) the real Debian bookworm fixture and its image; print paths.

Usage::

    python scripts/build_debian_fixture.py [--cache-dir DIR] [--format FMT] [--compression C]
                                           [--package PKG ...] [--mirror URL]
                                           [--print-image | --json]

Default output is a human-readable summary on stdout. ``--print-image`` prints only the image
path (for ``make demo``); ``--json`` prints a machine-readable summary. Needs root,
debootstrap and network access to a Debian mirror for the first (cold) build only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.images.debian import (  # noqa: E402
    DEFAULT_EXTRA_PACKAGES,
    FixtureUnavailable,
    build_debian_fixture,
    debian_image,
    default_cache_dir,
)

FORMATS = ("docker-archive", "docker-archive-oci", "oci-dir", "oci-archive")
COMPRESSIONS = ("none", "gzip", "zstd")


def _size(p: Path) -> int:
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    ap.add_argument("--format", choices=FORMATS, default="docker-archive")
    ap.add_argument("--compression", choices=COMPRESSIONS, default="gzip")
    ap.add_argument(
        "--package",
        action="append",
        dest="packages",
        help=f"extra package for step 2 (repeatable; default: {' '.join(DEFAULT_EXTRA_PACKAGES)})",
    )
    ap.add_argument("--mirror", help="Debian mirror URL (default: the host's apt mirror)")
    ap.add_argument("--no-image", action="store_true", help="build the fixture only")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--print-image", action="store_true", help="print only the image path")
    out.add_argument("--json", action="store_true", help="print a JSON summary")
    args = ap.parse_args(argv)

    packages = tuple(args.packages) if args.packages else DEFAULT_EXTRA_PACKAGES
    t0 = time.monotonic()
    try:
        fx = build_debian_fixture(args.cache_dir, extra_packages=packages, mirror=args.mirror)
    except FixtureUnavailable as e:
        print(f"cannot build the Debian fixture: {e}", file=sys.stderr)
        return 2
    t_fixture = time.monotonic() - t0
    image: Path | None = None
    if not args.no_image:
        image = debian_image(fx, args.cache_dir, fmt=args.format, compression=args.compression)
    elapsed = time.monotonic() - t0

    if args.print_image:
        if image is None:
            ap.error("--print-image conflicts with --no-image")
        print(image)
        return 0
    summary = {
        "cache_entry": str(fx.root),
        "base_root": str(fx.base_root),
        "app_root": str(fx.app_root),
        "base_layer": str(fx.base_layer),
        "base_layer_bytes": fx.base_layer.stat().st_size,
        "app_layer": str(fx.app_layer),
        "app_layer_bytes": fx.app_layer.stat().st_size,
        "image": str(image) if image else None,
        "image_bytes": _size(image) if image else None,
        "base_packages": len(fx.expected_base),
        "app_packages": len(fx.expected_app),
        "whiteouts": list(fx.whiteouts),
        "cold_build_seconds": fx.build_seconds,
        "this_run_fixture_seconds": round(t_fixture, 2),
        "this_run_seconds": round(elapsed, 2),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k:26} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
