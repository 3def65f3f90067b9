"""Matching accuracy on REAL data: the Debian bookworm test image against osv.dev's Debian data.

The expected (source package, advisory id) pairs are computed here independently of hullscan:
the raw OSV JSON is read from ``shared/vulndata/osv-dev/Debian/all.zip.zst`` with zipfile and
zstandard, entries are filtered by ecosystem ``Debian:12`` and source package name, and every
range is evaluated with the OSV schema's algorithm using the REAL ``dpkg --compare-versions``
(results cached: it is a process per comparison). The installed source packages and versions
are dpkg-query's own (the fixture's ground truth), not the SBOM's. hullscan's findings in
``debian:12`` (a DB built from ``osv:Debian`` only) must equal that set exactly.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from tests.images.debian import (
    DebianFixture,
    FixtureUnavailable,
    build_debian_fixture,
    debian_image,
    default_cache_dir,
)

from hullscan.api import sbom as make_sbom
from hullscan.match import match_sbom
from hullscan.model.finding import ScanResult
from hullscan.vulndb.build.builder import build_db
from hullscan.vulndb.build.sources import default_sources
from hullscan.vulndb.store import VulnStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("match-accuracy"),
]

VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"
DEBIAN_ZIP = VULNDATA / "osv-dev" / "Debian" / "all.zip.zst"


@pytest.fixture(scope="module")
def fixture() -> DebianFixture:
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed: the oracle needs dpkg --compare-versions")
    if not DEBIAN_ZIP.is_file():
        pytest.skip(f"shared vulnerability data absent: {DEBIAN_ZIP}")
    try:
        return build_debian_fixture(default_cache_dir())
    except FixtureUnavailable as e:
        pytest.skip(f"Debian fixture not cached and cannot be built here (debootstrap): {e}")


@pytest.fixture(scope="module")
def result(fixture: DebianFixture, tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    db = tmp_path_factory.mktemp("matchdb") / "debian.sqlite"
    specs = [s for s in default_sources() if s.name in ("osv:Debian", "distro-info")]
    build_db(VULNDATA, db, specs)
    image = debian_image(fixture, default_cache_dir())
    sbom = make_sbom(str(image))
    with VulnStore(db) as store:
        return match_sbom(sbom, store)


# --------------------------------------------------------------------------- the oracle


@functools.cache
def _dpkg(a: str, op: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0


def dpkg_cmp(a: str, b: str) -> int:
    if a == b:
        return 0
    if _dpkg(a, "lt", b):
        return -1
    return 1 if _dpkg(a, "gt", b) else 0


def _event_sort_key() -> Any:
    def cmp(x: tuple[str, str], y: tuple[str, str]) -> int:
        xv, yv = x[1], y[1]
        if xv == yv:
            return 0
        if x[0] == "introduced" and xv == "0":
            return -1
        if y[0] == "introduced" and yv == "0":
            return 1
        return dpkg_cmp(xv, yv)

    return functools.cmp_to_key(cmp)


def osv_is_vulnerable(v: str, affected: dict[str, Any]) -> bool:
    """The OSV schema's IsVulnerable for one affected[] entry, with dpkg's comparison."""
    if any(dpkg_cmp(v, listed) == 0 for listed in affected.get("versions") or ()):
        return True
    for r in affected.get("ranges") or ():
        if r.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        events = [(k, val) for e in r.get("events") or () for k, val in e.items()]
        limits = [val for k, val in events if k == "limit"]
        if limits and not any("*" in lim or dpkg_cmp(v, lim) < 0 for lim in limits):
            continue
        vulnerable = False
        for kind, val in sorted((e for e in events if e[0] != "limit"), key=_event_sort_key()):
            if kind == "introduced" and (val == "0" or dpkg_cmp(v, val) >= 0):
                vulnerable = True
            elif (kind == "fixed" and dpkg_cmp(v, val) >= 0) or (
                kind == "last_affected" and dpkg_cmp(v, val) > 0
            ):
                vulnerable = False
        if vulnerable:
            return True
    return False


def installed_sources(fx: DebianFixture) -> dict[str, str]:
    """Source package -> source version, from dpkg-query's ${source:Package}/${source:Version}."""
    out: dict[str, str] = {}
    for name, version, _arch in fx.expected_app:
        field = fx.expected_app_sources.get(name, name)
        src, _, rest = field.partition(" (")
        out[src] = rest.rstrip(")") if rest else version
    return out


def expected_pairs(fx: DebianFixture) -> set[tuple[str, str]]:
    sources = installed_sources(fx)
    raw = zstandard.ZstdDecompressor().stream_reader(DEBIAN_ZIP.open("rb")).read()
    out: set[tuple[str, str]] = set()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for member in z.namelist():
            if not member.endswith(".json"):
                continue
            record = json.loads(z.read(member))
            if record.get("withdrawn"):
                continue
            for affected in record.get("affected") or ():
                pkg = affected.get("package") or {}
                if pkg.get("ecosystem") != "Debian:12" or pkg.get("name") not in sources:
                    continue
                if osv_is_vulnerable(sources[pkg["name"]], affected):
                    out.add((pkg["name"], record["id"]))
    return out


# --------------------------------------------------------------------------- the test


def test_debian_image_findings_equal_osv_oracle(fixture: DebianFixture, result: ScanResult) -> None:
    assert result.namespace == "debian:12"
    expected = expected_pairs(fixture)
    ours: set[tuple[str, str]] = set()
    undecided: set[tuple[str, str]] = set()
    for f in result.findings:
        assert f.namespace == "debian:12"
        for why in f.matched_by:
            pair = (why.package, why.advisory_id)
            (ours if why.verdict == "affected" else undecided).add(pair)
    missing, extra = expected - ours, ours - expected
    print(
        f"\nDebian bookworm image vs osv:Debian (Debian:12): expected {len(expected)} "
        f"(package, advisory) pairs, hullscan {len(ours)}; missing {len(missing)}, "
        f"extra {len(extra)}, could-not-compare {len(undecided)}; "
        f"{len(result.findings)} findings over {len({f.package.id for f in result.findings})} "
        f"packages; dpkg comparisons {_dpkg.cache_info().currsize}"
    )
    assert not missing, sorted(missing)[:20]
    assert not extra, sorted(extra)[:20]
    assert undecided <= expected, sorted(undecided - expected)[:20]
    assert len(expected) > 20  # the image has real, known-vulnerable packages


def test_one_finding_per_vulnerability_per_package(result: ScanResult) -> None:
    keys = [(f.package.id, f.id) for f in result.findings]
    assert len(keys) == len(set(keys))
    for f in result.findings:
        assert f.id not in f.aliases
        assert f.package.layer_diff_id and f.package.layer_index is not None
