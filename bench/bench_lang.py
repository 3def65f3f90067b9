"""Language packages: hullscan vs Syft on one image holding every language fixture the tests use.

Usage: .venv/bin/python bench/bench_lang.py [--keep DIR]

The image (one layer, OCI directory) is assembled from the fixture caches the tests fill
(``/var/tmp/hullscan-fixtures``: real PyPI/npm installs, Debian's jars and Go programs, Debian's
gemspecs, a real Composer vendor tree, real .NET deps.json files) and from
``../shared/fixtures/pkgdb/lang`` (Trivy's and Syft's test jars, Go and Rust binaries, lock
files). Missing caches are skipped with a note (run the unit and integration tests once to fill
them). Both tools scan the same OCI directory; packages are compared by (purl type, name as the
ecosystem compares it, version) and the differences are printed per type, with the time each
tool took. ``docs/languages.md`` ("Compared with Syft") explains every difference found.
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.images.builder import rootfs_layer_tar, write_image  # noqa: E402

from hullscan.model.namespaces import normalize_package  # noqa: E402

CACHE = Path("/var/tmp/hullscan-fixtures")
LANG = REPO.parent / "shared" / "fixtures" / "pkgdb" / "lang"
SYFT = REPO / ".venv" / "bin" / "syft"
HULLSCAN = REPO / ".venv" / "bin" / "hullscan"


def _copy(src: Path, dst: Path, notes: list[str], mode: int | None = None) -> None:
    if not src.exists():
        notes.append(f"missing (skipped): {src}")
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)
        if mode is not None:
            dst.chmod(mode)


def build_root(root: Path) -> list[str]:
    notes: list[str] = []
    lang = CACHE / "lang" / "v1"
    _copy(lang / "py", root / "usr/lib/python3/dist-packages", notes)
    _copy(lang / "npm", root / "app", notes)
    _copy(CACHE / "debs/java-jars/v1/root/usr/share/java", root / "usr/share/java", notes)
    for name in ("maven.war", "nested.jar", "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar",
                 "jackson-annotations-2.15.0-rc2.jar", "heuristic-1.0.0-SNAPSHOT.jar"):  # fmt: skip
        _copy(LANG / "java" / name, root / "opt/app/lib" / name, notes)
    _copy(CACHE / "debs/go-programs/v1/root/usr", root / "usr", notes)
    _copy(LANG / "go-binary/test.elf", root / "usr/local/bin/go-test", notes, 0o755)
    replace = LANG / "go-binary/replace.elf.xz"
    if replace.is_file():
        (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
        (root / "usr/local/bin/go-replace").write_bytes(lzma.decompress(replace.read_bytes()))
        (root / "usr/local/bin/go-replace").chmod(0o755)
    _copy(LANG / "rust-binary/executable_rust", root / "usr/local/bin/rust-app", notes, 0o755)
    _copy(CACHE / "lang/ruby/v1/debs/root/usr", root / "usr", notes)
    _copy(CACHE / "lang/php/v1/dev/vendor", root / "var/www/app/vendor", notes)
    for deps in sorted((CACHE / "lang/dotnet/v1").rglob("*.deps.json")):
        _copy(deps, root / "opt/dotnet" / deps.parent.name / deps.name, notes)
    for lock in ("npm/package-lock-v3/package-lock.json", "yarn/v1/yarn.lock",
                 "pnpm/v9.0/pnpm-lock.yaml"):  # fmt: skip
        _copy(LANG / "node" / lock, root / "srv" / lock, notes)
    return notes


Key = tuple[str, str, str]
_SYFT_TYPES = {"python": "pypi", "npm": "npm", "java-archive": "maven", "jenkins-plugin": "maven",
               "go-module": "golang", "rust-crate": "cargo", "gem": "gem",
               "php-composer": "composer", "dotnet": "nuget", "binary": "generic",
               "conda": "conda"}  # fmt: skip


def _key(ptype: str, name: str, version: str) -> Key:
    ns = ptype if ptype in ("pypi", "npm", "composer", "nuget", "gem", "cargo") else None
    return ptype, normalize_package(ns, name) if ns else name.lower(), version


def _from_purl(purl: str) -> tuple[str, str] | None:
    if not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("?", 1)[0].split("#", 1)[0]
    path, _, version = body.rpartition("@")
    ptype, _, rest = path.partition("/")
    parts = [unquote(p) for p in rest.split("/")]
    name = ":".join(parts) if ptype == "maven" else "/".join(parts)
    return f"{ptype}\0{name}", unquote(version)


def ours(image: Path) -> tuple[set[Key], float]:
    t0 = time.perf_counter()
    r = subprocess.run([HULLSCAN, "sbom", f"oci-dir:{image}", "-f", "json", "--no-cache", "-q"],
                       capture_output=True, text=True, check=True)  # fmt: skip
    took = time.perf_counter() - t0
    out: set[Key] = set()
    for p in json.loads(r.stdout)["packages"]:
        if p["type"] in ("deb", "rpm", "apk") or p.get("relationship") == "declared":
            continue
        parsed = _from_purl(p["purl"])
        if parsed:
            ptype, name = parsed[0].split("\0")
            out.add(_key(ptype, name, parsed[1]))
    return out, took


def syft(image: Path) -> tuple[set[Key], float]:
    t0 = time.perf_counter()
    env = {"SYFT_CHECK_FOR_APP_UPDATE": "false", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([SYFT, "scan", f"oci-dir:{image}", "-o", "syft-json", "-q"],
                       capture_output=True, text=True, check=True, env=env)  # fmt: skip
    took = time.perf_counter() - t0
    out: set[Key] = set()
    for a in json.loads(r.stdout)["artifacts"]:
        ptype = _SYFT_TYPES.get(a["type"])
        if ptype is None:
            continue
        parsed = _from_purl(a.get("purl", ""))
        if parsed:
            ptype, name = parsed[0].split("\0")
            out.add(_key(ptype, name, parsed[1]))
    return out, took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, help="write the image here and keep it")
    args = ap.parse_args()
    if not SYFT.exists():
        raise SystemExit(f"Syft not installed ({SYFT}): make bench installs it")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        notes = build_root(root)
        layer = rootfs_layer_tar(root, Path(tmp) / "layer.tar")
        image = args.keep or Path(tmp) / "image"
        write_image(image, [layer], fmt="oci-dir")
        ours_set, ours_s = ours(image)
        syft_set, syft_s = syft(image)
    for n in notes:
        print(n, file=sys.stderr)
    by_type: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"both": [], "ours": [],
                                                                     "syft": []})  # fmt: skip
    for k in ours_set | syft_set:
        side = "both" if k in ours_set and k in syft_set else "ours" if k in ours_set else "syft"
        by_type[k[0]][side].append(f"{k[1]}@{k[2]}")
    print(f"hullscan {ours_s:.2f} s, {len(ours_set)} language packages; "
          f"syft {syft_s:.2f} s, {len(syft_set)}")  # fmt: skip
    print("| type | both | only hullscan | only syft |")
    print("|---|---|---|---|")
    for t, sides in sorted(by_type.items()):
        print(f"| {t} | {len(sides['both'])} | {len(sides['ours'])} | {len(sides['syft'])} |")
    for t, sides in sorted(by_type.items()):
        for side in ("ours", "syft"):
            if sides[side]:
                print(f"\n{t}, only {side}: " + ", ".join(sorted(sides[side])))


if __name__ == "__main__":
    main()
