"""Match 5,000 real package names/versions against the full shared DB; print the time.

Usage: .venv/bin/python bench/bench_match.py [--db FILE] [--packages N] [--repeat R]

Without --db the full DB is built once from ../shared/vulndata into
/var/tmp/hullscan-match/full.sqlite (about a minute) and reused. The SBOM is synthesized from
the DB itself (seeded, so every run scans the same packages): half debian:12 source packages
(as binary packages with source_name/source_version), half language packages (pypi, npm,
maven, golang, cargo, gem, composer, nuget), each at a version the DB names for it (a fixed or
introduced version, so both hits and misses occur). Target: <= 0.5 s for 5,000 packages.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import msgspec

from hullscan.match import match_sbom
from hullscan.model.advisory import Affected
from hullscan.model.distro import Distro
from hullscan.model.package import Package
from hullscan.model.sbom import SBOM, Target
from hullscan.vulndb.store import VulnStore

DEFAULT_DB = Path("/var/tmp/hullscan-match/full.sqlite")
VULNDATA = Path(__file__).resolve().parents[1].parent / "shared" / "vulndata"
LANG = ("pypi", "npm", "maven", "golang", "cargo", "gem", "composer", "nuget")


def _ensure_db(path: Path) -> Path:
    if path.is_file():
        return path
    from hullscan.cli.main import main

    print(f"building {path} from {VULNDATA} ...", file=sys.stderr)
    if main(["db", "build", "--from", str(VULNDATA), "-o", str(path), "-q"]) != 0:
        raise SystemExit("db build failed")
    return path


def _purl(ptype: str, name: str, version: str) -> str:
    if ptype == "maven" and ":" in name:
        group, artifact = name.split(":", 1)
        path = f"{quote(group)}/{quote(artifact)}"
    else:
        path = "/".join(quote(p, safe="") for p in name.split("/"))
    return f"pkg:{ptype}/{path}@{quote(version, safe='')}"


def _version(a: Affected) -> str | None:
    events = [e.version for r in a.ranges if r.type != "GIT" for e in r.events if e.version != "0"]
    candidates = [*events, *a.versions]
    if a.fixed_version:
        candidates.append(a.fixed_version)
    return candidates[0] if candidates else None


def synthesize(db: Path, n: int, seed: int = 1) -> SBOM:
    rnd = random.Random(seed)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dec = msgspec.msgpack.Decoder(Affected)
    packages: list[Package] = []

    def pick(where: str, args: tuple[str, ...], count: int) -> list[Affected]:
        rows = con.execute(
            f"SELECT body FROM affected WHERE {where} AND problem_free(body)",
            args,
        ).fetchall()
        rnd.shuffle(rows)
        out: list[Affected] = []
        seen: set[str] = set()
        for (body,) in rows:
            a = dec.decode(body)
            if a.problem or a.package in seen or _version(a) is None:
                continue
            seen.add(a.package)
            out.append(a)
            if len(out) >= count:
                break
        return out

    con.create_function("problem_free", 1, lambda _b: 1, deterministic=True)
    for a in pick("namespace = ?", ("debian:12",), n // 2):
        v = _version(a) or "0"
        packages.append(
            Package(
                name=f"lib{a.package}",
                version=v,
                type="deb",
                purl=_purl("deb", f"debian/lib{a.package}", v),
                found_by="bench",
                source_name=a.package,
                source_version=v,
            )
        )
    per_lang = (n - len(packages)) // len(LANG) + 1
    for ns in LANG:
        for a in pick("namespace = ?", (ns,), per_lang):
            if len(packages) >= n:
                break
            v = _version(a) or "0"
            packages.append(
                Package(
                    name=a.package,
                    version=v,
                    type=ns,
                    purl=_purl(ns, a.package, v),
                    found_by="bench",
                )
            )
    con.close()
    return SBOM(
        target=Target(name="bench", kind="synthetic"),
        distro=Distro(id="debian", version="12"),
        packages=tuple(packages),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--packages", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    db = _ensure_db(args.db)
    sbom = synthesize(db, args.packages)
    times = []
    result = None
    for _ in range(args.repeat):
        with VulnStore(db) as store:  # a fresh store: no advisory cache carried over
            t0 = time.perf_counter()
            result = match_sbom(sbom, store)
            times.append(time.perf_counter() - t0)
    assert result is not None
    print(
        f"packages={len(sbom.packages)} findings={len(result.findings)} "
        f"unmatched={len(result.unmatched)} "
        f"could_not_compare={sum(not f.compared for f in result.findings)}"
    )
    print(
        f"match_sbom: min {min(times):.3f} s, median {statistics.median(times):.3f} s "
        f"over {len(times)} runs (target <= 0.5 s); first run {times[0]:.3f} s "
        "(version-parse cache cold)"
    )


if __name__ == "__main__":
    main()
