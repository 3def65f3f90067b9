"""End-to-end ``hullscan image`` on the real Debian test image against the full shared DB.

Measures the whole CLI process (``hullscan image IMAGE --db DB -q -f json -o /dev/null
--cache-dir DIR``): start-up, image read (through the layer cache), SBOM, match against a DB
built from all of ../shared/vulndata, remediations, JSON. Two cases, best of N each:

* **cold cache**: a new, empty ``--cache-dir`` (every layer is decompressed and walked);
* **warm cache**: the same command again on the filled cache (layers decoded from the cache).

Peak RSS is the largest single process (``ru_maxrss`` of the waited children, measured by a
fresh parent per run: the CLI or one of its layer workers). The DB file is in the OS page
cache after the first run in both cases (a first, unmeasured run warms it).

The DB: ``/var/tmp/hullscan-match/full.sqlite`` (shared with ``bench_match.py``) is reused
when current, else built once (to a temporary name, then renamed over it). Current means:
its ``schema_version`` is this hullscan's, it was built after the newest file of
../shared/vulndata, and the digest of the code that decides DB content (``vulndb/build``,
``vulndb/schema.py``, ``vulndb/cvss.py``, ``model/advisory.py``, ``model/namespaces.py``,
``versions/``, ``errors.py``) equals the one recorded in
``full.sqlite.inputs`` when this script built it (a DB without that record is rebuilt once).

Run: ``.venv/bin/python bench/bench_scan.py [--repeat 3] [--db FILE]``; prints a markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.images.debian import build_debian_fixture, debian_image  # noqa: E402

from hullscan.vulndb.schema import SCHEMA_VERSION  # noqa: E402

DEFAULT_DB = Path("/var/tmp/hullscan-match/full.sqlite")
VULNDATA = REPO.parent / "shared" / "vulndata"
SRC = REPO / "src" / "hullscan"
DB_INPUTS = (  # the code that decides DB content (what vulndb/build imports)
    SRC / "vulndb" / "build",
    SRC / "vulndb" / "schema.py",
    SRC / "vulndb" / "cvss.py",
    SRC / "model" / "advisory.py",
    SRC / "model" / "namespaces.py",
    SRC / "versions",
    SRC / "errors.py",
)

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "t = time.perf_counter() - t0\n"
    "sys.stderr.buffer.write(p.stderr[-2000:])\n"
    "print(p.returncode, t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _run(cmd: list[str]) -> tuple[float, int]:
    """Wall time (s) and peak RSS (MiB) of a command, measured by a fresh parent process."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, check=False)
    rc, wall, rss_kib = proc.stdout.decode().split()
    if rc != "0":
        raise SystemExit(f"{cmd[0]} failed ({rc}): {proc.stderr.decode()[-500:]}")
    return float(wall), int(rss_kib) // 1024


def _code_digest() -> str:
    h = hashlib.sha256()
    for root in DB_INPUTS:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for f in files:
            h.update(f.relative_to(SRC).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _newest_feed_mtime() -> float:
    return max(p.stat().st_mtime for p in VULNDATA.rglob("*") if p.is_file())


def _is_current(db: Path, digest: str) -> tuple[bool, str]:
    if not db.is_file():
        return False, "absent"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as e:
        return False, f"unreadable ({e})"
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        return False, f"schema {meta.get('schema_version')} != {SCHEMA_VERSION}"
    built = datetime.fromisoformat(str(meta.get("built_at", "1970-01-01T00:00:00Z")))
    if built.timestamp() < _newest_feed_mtime():
        return False, "older than ../shared/vulndata"
    record = db.with_name(db.name + ".inputs")
    if not record.is_file() or record.read_text().strip() != digest:
        return False, "builder code digest not recorded or changed"
    return True, f"built {meta.get('built_at')}"


def ensure_db(db: Path) -> Path:
    digest = _code_digest()
    ok, why = _is_current(db, digest)
    if ok:
        print(f"reusing {db} ({why})", file=sys.stderr)
        return db
    print(f"building {db} from {VULNDATA} ({why}) ...", file=sys.stderr)
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    hullscan = shutil.which("hullscan") or str(Path(sys.executable).parent / "hullscan")
    try:
        subprocess.run(
            [hullscan, "db", "build", "--from", str(VULNDATA), "-o", str(tmp), "-q"], check=True
        )
        os.replace(tmp, db)  # readers holding the old file keep their inode
    finally:
        tmp.unlink(missing_ok=True)
    db.with_name(db.name + ".inputs").write_text(digest + "\n")
    return db


def bench(image: Path, db: Path, hullscan: str, repeat: int) -> list[dict[str, object]]:
    def cmd(cache: str) -> list[str]:
        return [
            hullscan,
            "image",
            str(image),
            "--db",
            str(db),
            "-q",
            "-f",
            "json",
            "-o",
            os.devnull,
            "--cache-dir",
            cache,
        ]

    with tempfile.TemporaryDirectory() as cache:  # unmeasured: page cache (image, DB) warm
        _run(cmd(cache))
    cold: list[tuple[float, int]] = []
    warm: list[tuple[float, int]] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(_run(cmd(cache)))
            warm.append(_run(cmd(cache)))
    rows = []
    for case, runs in (("cold layer cache", cold), ("warm layer cache", warm)):
        times = sorted(t for t, _ in runs)
        rows.append(
            {
                "case": case,
                "best_s": round(times[0], 3),
                "median_s": round(times[len(times) // 2], 3),
                "peak_rss_mib": max(r for _, r in runs),
            }
        )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", type=Path, default=Path("/var/tmp/hullscan-fixtures"))
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    db = ensure_db(args.db)
    fx = build_debian_fixture(args.cache_dir)
    image = debian_image(fx, args.cache_dir, fmt="oci-dir")
    hullscan = shutil.which("hullscan") or str(Path(sys.executable).parent / "hullscan")
    rows = bench(image, db, hullscan, args.repeat)
    cols = ["case", "best_s", "median_s", "peak_rss_mib"]
    print(
        f"\n`hullscan image` (CLI, -q -f json -o /dev/null), debian-bookworm-2-layers "
        f"(oci-dir, gzip), DB {db} ({db.stat().st_size / 1e6:.0f} MB), best of {args.repeat}; "
        f"{platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
