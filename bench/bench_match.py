"""Match 5,000 packages against the full shared DB; print the time of ``match_sbom``.

Usage: .venv/bin/python bench/bench_match.py [--db FILE] [--packages N] [--repeat R]
       [--profile realistic|stress|both]

The DB is ``bench_scan.ensure_db``'s (all of ../shared/vulndata, rebuilt when not current). Two
SBOMs, both seeded (every run scans the same packages), both with the distro debian 12:

* **realistic** — what a big image holds: half real Debian bookworm binary packages at their
  bookworm versions (a sample of the archive's ``main/binary-amd64/Packages`` index, downloaded
  once from deb.debian.org into /var/tmp/hullscan-bench/), half language packages (pypi, npm,
  maven, golang, cargo, gem, composer, nuget) that the DB has advisories for, 85% at the newest
  version the DB names for them (an up-to-date dependency) and 15% at an old one;
* **stress** — every package vulnerable: half ``debian:12`` source packages and half language
  packages, each at a version the DB names for it (a fixed or introduced version, so both hits
  and misses occur). ~24,000 findings, several per package: far more than any real image.

Target (the scan issue): <= 0.5 s for 5,000 packages.
"""

from __future__ import annotations

import argparse
import lzma
import random
import sqlite3
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import ensure_db

from hullscan import versions
from hullscan.match import match_sbom
from hullscan.model.advisory import Affected
from hullscan.model.distro import Distro
from hullscan.model.finding import ScanResult
from hullscan.model.package import Package
from hullscan.model.sbom import SBOM, Target
from hullscan.versions import VersionParseError
from hullscan.vulndb.store import VulnStore

DEFAULT_DB = Path("/var/tmp/hullscan-match/full.sqlite")
LANG = ("pypi", "npm", "maven", "golang", "cargo", "gem", "composer", "nuget")


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


def _lang_package(ns: str, name: str, version: str) -> Package:
    return Package(
        name=name, version=version, type=ns, purl=_purl(ns, name, version), found_by="bench"
    )


def _picker(con: sqlite3.Connection, rnd: random.Random) -> Callable[[str, int], list[Affected]]:
    dec = msgspec.msgpack.Decoder(Affected)

    def pick(namespace: str, count: int) -> list[Affected]:
        """``count`` statements of distinct packages of ``namespace`` (a seeded sample)."""
        rows = con.execute(
            "SELECT body FROM affected WHERE namespace = ? ORDER BY package, body", (namespace,)
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

    return pick


def _sbom(name: str, packages: list[Package]) -> SBOM:
    return SBOM(
        target=Target(name=name, kind="synthetic"),
        distro=Distro(id="debian", version="12"),
        packages=tuple(packages),
    )


def synthesize(db: Path, n: int, seed: int = 1) -> SBOM:
    """The **stress** SBOM: every package at a version its statements name."""
    rnd = random.Random(seed)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pick = _picker(con, rnd)
    packages: list[Package] = []
    for a in pick("debian:12", n // 2):
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
        for a in pick(ns, per_lang):
            if len(packages) >= n:
                break
            packages.append(_lang_package(ns, a.package, _version(a) or "0"))
    con.close()
    return _sbom("bench-stress", packages)


PACKAGES_URL = "http://deb.debian.org/debian/dists/bookworm/main/binary-amd64/Packages.xz"
PACKAGES_CACHE = Path("/var/tmp/hullscan-bench/bookworm-main-amd64-Packages.xz")


def bookworm_packages() -> list[tuple[str, str, str, str]]:
    """(name, version, source, source version) of every bookworm main amd64 binary package."""
    if not PACKAGES_CACHE.is_file():
        PACKAGES_CACHE.parent.mkdir(parents=True, exist_ok=True)
        print(f"downloading {PACKAGES_URL} ...", file=sys.stderr)
        tmp = PACKAGES_CACHE.with_suffix(".part")
        with urllib.request.urlopen(PACKAGES_URL, timeout=120) as resp:
            tmp.write_bytes(resp.read())
        tmp.replace(PACKAGES_CACHE)
    out = []
    for stanza in lzma.decompress(PACKAGES_CACHE.read_bytes()).decode().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        if "Package" not in fields:
            continue
        name, version = fields["Package"], fields["Version"]
        source, _, rest = fields.get("Source", name).partition(" ")
        source_version = rest.strip("()") or version
        out.append((name, version, source, source_version))
    return out


def realistic(db: Path, n: int, seed: int = 1, old_share: float = 0.15) -> SBOM:
    """The **realistic** SBOM (see the module docstring)."""
    rnd = random.Random(seed)
    debs = bookworm_packages()
    packages = [
        Package(
            name=name,
            version=version,
            type="deb",
            purl=_purl("deb", f"debian/{name}", version) + "?distro=debian-12",
            found_by="bench",
            source_name=source,
            source_version=source_version,
        )
        for name, version, source, source_version in rnd.sample(debs, n // 2)
    ]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pick = _picker(con, rnd)
    dec = msgspec.msgpack.Decoder(Affected)
    per_lang = (n - len(packages)) // len(LANG) + 1
    for ns in LANG:
        for a in pick(ns, per_lang):
            if len(packages) >= n:
                break
            version = _version(a) or "0"
            if rnd.random() >= old_share:
                named = [
                    v
                    for (body,) in con.execute(
                        "SELECT body FROM affected WHERE namespace = ? AND package = ?",
                        (ns, a.package),
                    )
                    for v in _named_versions(dec.decode(body))
                ]
                version = max(named, key=lambda v: _sort_key(ns, v), default=version)
            packages.append(_lang_package(ns, a.package, version))
    con.close()
    return _sbom("bench-realistic", packages)


def _named_versions(a: Affected) -> list[str]:
    out = [e.version for r in a.ranges if r.type != "GIT" for e in r.events]
    out += a.versions
    if a.fixed_version:
        out.append(a.fixed_version)
    return [v for v in out if v != "0" and "*" not in v]


def _sort_key(scheme: str, text: str) -> tuple[int, object]:
    try:
        return 1, versions.parse(scheme, text).key
    except VersionParseError:
        return 0, ()


def _time(sbom: SBOM, db: Path, repeat: int) -> tuple[list[float], ScanResult]:
    times = []
    result = None
    for _ in range(repeat):
        with VulnStore(db) as store:  # a fresh store: no advisory cache carried over
            t0 = time.perf_counter()
            result = match_sbom(sbom, store)
            times.append(time.perf_counter() - t0)
    assert result is not None
    return times, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--packages", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--profile", choices=("realistic", "stress", "both"), default="both")
    args = ap.parse_args()
    db = ensure_db(args.db)
    profiles = ("realistic", "stress") if args.profile == "both" else (args.profile,)
    for profile in profiles:
        make = realistic if profile == "realistic" else synthesize
        sbom = make(db, args.packages)
        times, result = _time(sbom, db, args.repeat)
        findings = result.findings
        vulnerable = len({f.package.id for f in findings})
        print(
            f"{profile}: packages={len(sbom.packages)} vulnerable={vulnerable} "
            f"findings={len(findings)} unmatched={len(result.unmatched)} "
            f"could_not_compare={sum(not f.compared for f in findings)}"
        )
        print(
            f"  match_sbom: min {min(times):.3f} s, median {statistics.median(times):.3f} s "
            f"over {len(times)} runs (target <= 0.5 s); first run {times[0]:.3f} s "
            "(version-parse cache cold)"
        )


if __name__ == "__main__":
    main()
