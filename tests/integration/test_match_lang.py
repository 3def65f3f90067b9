"""Matching accuracy for installed Python and npm packages, on REAL packages and REAL data.

The image layer holds real old releases with known advisories, installed by the real tools:
``pip install --target --no-deps`` (PyPI wheels) under ``usr/lib/python3/dist-packages`` and
``npm install`` (with its package-lock) under ``app/node_modules``. The trees are downloaded once
and cached under ``/var/tmp/hullscan-fixtures/lang`` (the test skips when they are not cached
and PyPI/npm are unreachable).

Ground truth, independent of hullscan:

* installed packages: ``pip list --path DIR --format json`` and ``npm ls --all --json``;
* expected advisories: the raw OSV records of ``osv-dev/PyPI`` and ``osv-dev/npm``
  (``all.zip.zst``, read with zipfile + zstandard), every ``affected[]`` entry naming an installed
  package evaluated with the OSV schema's algorithm: PyPI versions compared by
  ``packaging.version``, npm versions by node's ``semver`` package (one node process evaluates
  every (installed version, affected entry) pair). Records with a ``withdrawn`` field are left
  out, as the DB does; the vuls mirrors dropped that field (MANIFEST caveat 1), so
  withdrawn-looking advisories are live in both the DB and here.

Compared sets: (ecosystem, normalized package name, installed version, OSV record id) for every
affected[] entry that matched, versus the same tuples taken from every finding's ``matched_by``
(``MatchReason.advisory_id`` is the id of the record whose statement matched, before alias
merging), so an alias merge can neither hide nor invent a record. Every finding must be a
confirmed comparison (``compared``) unless the oracle could not parse the versions either.
"""

from __future__ import annotations

import fcntl
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from tests.images.builder import Entry, layer_tar, write_image

from hullscan.api import scan_image
from hullscan.model.finding import ScanResult
from hullscan.model.sbom import SBOM
from hullscan.vulndb.build.builder import build_db
from hullscan.vulndb.build.sources import default_sources

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("match-lang"),
]

VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"
PYPI_ZIP = VULNDATA / "osv-dev" / "PyPI" / "all.zip.zst"
NPM_ZIP = VULNDATA / "osv-dev" / "npm" / "all.zip.zst"
CACHE = Path(os.environ.get("HULLSCAN_LANG_FIXTURES", "/var/tmp/hullscan-fixtures/lang"))
FIXTURE_VERSION = "1"

# Wheels (pure Python, any 3.x) of old releases with advisories in osv-dev/PyPI.
PIP_PINS = (
    "django==3.2.0",
    "requests==2.25.0",
    "urllib3==1.26.4",
    "jinja2==2.11.2",
    "werkzeug==1.0.1",
    "pyjwt==1.7.1",
)
NPM_PINS = ("lodash@4.17.15", "minimist@1.2.0", "axios@0.21.0", "@babel/traverse@7.20.0")
SEMVER_PIN = "semver@7.6.3"
SITE = "usr/lib/python3/dist-packages"
NODE_ROOT = "app"

# The OSV algorithm in node, with the real semver package. stdin: [[version, affected], ...];
# stdout: per pair true / false / "invalid" (a version semver cannot parse).
ORACLE_JS = r"""
const semver = require(process.argv[2]);
const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
function cmp(a, b) { return semver.compare(a, b); }
function valid(v) { return semver.valid(v) !== null; }
function evaluate(v, aff) {
  if (!valid(v)) return "invalid";
  for (const listed of aff.versions || []) if (valid(listed) && cmp(v, listed) === 0) return true;
  let invalid = false;
  for (const r of aff.ranges || []) {
    if (r.type !== "ECOSYSTEM" && r.type !== "SEMVER") continue;
    const events = [];
    for (const e of r.events || []) for (const k of Object.keys(e)) events.push([k, e[k]]);
    if (events.some(([k, x]) => !(k === "introduced" && x === "0") && x !== "*" && !valid(x))) {
      invalid = true; continue;
    }
    const limits = events.filter(([k]) => k === "limit").map(([, x]) => x);
    if (limits.length && !limits.some(l => l === "*" || cmp(v, l) < 0)) continue;
    const walk = events.filter(([k]) => k !== "limit").map((e, i) => [e, i]);
    walk.sort(([x, i], [y, j]) => {
      const zx = x[0] === "introduced" && x[1] === "0", zy = y[0] === "introduced" && y[1] === "0";
      if (zx && zy) return i - j;
      if (zx) return -1;
      if (zy) return 1;
      return cmp(x[1], y[1]) || i - j;
    });
    let vulnerable = false;
    for (const [[k, x]] of walk) {
      if (k === "introduced" && (x === "0" || cmp(v, x) >= 0)) vulnerable = true;
      else if (k === "fixed" && cmp(v, x) >= 0) vulnerable = false;
      else if (k === "last_affected" && cmp(v, x) > 0) vulnerable = false;
    }
    if (vulnerable) return true;
  }
  return invalid ? "invalid" : false;
}
process.stdout.write(JSON.stringify(pairs.map(([v, aff]) => evaluate(v, aff))));
"""


# --------------------------------------------------------------------------- fixture trees


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def _build_trees(root: Path) -> None:
    """Download and install the pinned packages into ``root`` (py/, npm/, semver/)."""
    staging = root.with_name(root.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--only-binary=:all:"]
    r = _run([*pip, "--target", str(staging / "py"), *PIP_PINS])
    if r.returncode != 0:
        raise RuntimeError(f"pip install failed (PyPI unreachable?): {r.stderr[-500:]}")
    for sub, pins, manifest in (
        ("npm", NPM_PINS, {"name": "fixture", "version": "1.0.0", "private": True}),
        ("semver", (SEMVER_PIN,), {"name": "oracle", "version": "1.0.0", "private": True}),
    ):
        d = staging / sub
        d.mkdir()
        (d / "package.json").write_text(json.dumps(manifest))
        npm = ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", *pins]
        r = _run(npm, cwd=d)
        if r.returncode != 0:
            raise RuntimeError(f"npm install failed (registry unreachable?): {r.stderr[-500:]}")
    (staging / "VERSION").write_text(FIXTURE_VERSION)
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)


@pytest.fixture(scope="module")
def trees() -> Path:
    if not (PYPI_ZIP.is_file() and NPM_ZIP.is_file()):
        pytest.skip(f"shared vulnerability data absent: {PYPI_ZIP.parent.parent}")
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed: the npm ground truth needs npm ls and semver")
    root = CACHE / f"v{FIXTURE_VERSION}"
    CACHE.mkdir(parents=True, exist_ok=True)
    # xdist workers running this module's tests would otherwise build into one staging dir.
    with (CACHE / ".build.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "VERSION").is_file():
            try:
                _build_trees(root)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                pytest.skip(f"language fixtures not cached in {root} and cannot be built: {e}")
    return root


def _entries(src: Path, dest: str) -> list[Entry]:
    out: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            arc = f"{dest}/{full.relative_to(src).as_posix()}"
            if full.is_symlink():
                out.append(Entry(arc, kind="symlink", target=os.readlink(full)))
            elif full.is_dir():
                out.append(Entry(arc, kind="dir", mode=0o755))
            elif full.is_file():
                out.append(Entry(arc, full.read_bytes()))
    return out


@pytest.fixture(scope="module")
def scanned(trees: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[SBOM, ScanResult]:
    tmp = tmp_path_factory.mktemp("match-lang")
    db = tmp / "lang.sqlite"
    specs = [s for s in default_sources() if s.name in ("osv:PyPI", "osv:npm")]
    assert len(specs) == 2
    build_db(VULNDATA, db, specs)
    layer = layer_tar(
        [
            *_entries(trees / "py", SITE),
            *_entries(trees / "npm" / "node_modules", f"{NODE_ROOT}/node_modules"),
            Entry(f"{NODE_ROOT}/package.json", (trees / "npm" / "package.json").read_bytes()),
        ]
    )
    image = write_image(tmp / "img.tar", [layer], fmt="docker-archive")
    return scan_image(str(image), db_path=db)


# --------------------------------------------------------------------------- ground truth


def pip_installed(trees: Path) -> set[tuple[str, str]]:
    r = _run([sys.executable, "-m", "pip", "list", "--path", str(trees / "py"), "--format", "json"])
    assert r.returncode == 0, r.stderr
    return {(d["name"], d["version"]) for d in json.loads(r.stdout)}


def npm_installed(trees: Path) -> set[tuple[str, str]]:
    r = _run(["npm", "ls", "--all", "--json"], cwd=trees / "npm")
    assert r.returncode == 0, r.stderr
    out: set[tuple[str, str]] = set()

    def walk(deps: dict[str, Any]) -> None:
        for name, node in deps.items():
            if "version" in node:
                out.add((name, node["version"]))
            walk(node.get("dependencies") or {})

    walk(json.loads(r.stdout).get("dependencies") or {})
    return out


def osv_records(path: Path) -> list[dict[str, Any]]:
    raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    out: list[dict[str, Any]] = []
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for member in z.namelist():
            if member.endswith(".json"):
                record = json.loads(z.read(member))
                if not record.get("withdrawn"):
                    out.append(record)
    return out


@functools.cache
def _pv(v: str) -> Version | None:
    try:
        return Version(v)
    except InvalidVersion:
        return None


def pypi_is_vulnerable(v: str, affected: dict[str, Any]) -> bool | None:
    """The OSV schema's IsVulnerable with packaging.version; None when a version is invalid."""
    iv = _pv(v)
    if iv is None:
        return None
    if any(_pv(x) == iv for x in affected.get("versions") or ()):
        return True
    invalid = False
    for r in affected.get("ranges") or ():
        if r.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        events = [(k, val) for e in r.get("events") or () for k, val in e.items()]
        if any(
            _pv(val) is None and val != "*" and not (k == "introduced" and val == "0")
            for k, val in events
        ):
            invalid = True
            continue
        limits = [val for k, val in events if k == "limit"]
        if limits and not any(lim == "*" or iv < _pv(lim) for lim in limits):  # type: ignore[operator]
            continue

        def key(e: tuple[str, str]) -> tuple[int, Version]:
            zero = e[0] == "introduced" and e[1] == "0"
            return (0, Version("0")) if zero else (1, _pv(e[1]))  # type: ignore[return-value]

        vulnerable = False
        for kind, val in sorted((e for e in events if e[0] != "limit"), key=key):
            ev = _pv(val)
            if kind == "introduced" and (val == "0" or iv >= ev):  # type: ignore[operator]
                vulnerable = True
            elif (kind == "fixed" and iv >= ev) or (kind == "last_affected" and iv > ev):  # type: ignore[operator]
                vulnerable = False
        if vulnerable:
            return True
    return None if invalid else False


Key = tuple[str, str, str, str]  # (ecosystem, normalized name, version, OSV record id)


def expected_keys(trees: Path) -> tuple[set[Key], set[Key]]:
    """(affected, undecidable) keys from the raw OSV data."""
    affected: set[Key] = set()
    undecidable: set[Key] = set()
    py = {}
    for name, version in pip_installed(trees):
        py.setdefault(canonicalize_name(name), set()).add(version)
    for record in osv_records(PYPI_ZIP):
        for aff in record.get("affected") or ():
            pkg = aff.get("package") or {}
            if pkg.get("ecosystem") != "PyPI":
                continue
            name = canonicalize_name(pkg.get("name", ""))
            for version in py.get(name, ()):
                verdict = pypi_is_vulnerable(version, aff)
                key = ("pypi", name, version, record["id"])
                if verdict:
                    affected.add(key)
                elif verdict is None:
                    undecidable.add(key)
    npm: dict[str, set[str]] = {}
    for name, version in npm_installed(trees):
        npm.setdefault(name, set()).add(version)
    pairs: list[tuple[str, dict[str, Any]]] = []
    keys: list[Key] = []
    for record in osv_records(NPM_ZIP):
        for aff in record.get("affected") or ():
            pkg = aff.get("package") or {}
            if pkg.get("ecosystem") != "npm":
                continue
            for version in npm.get(pkg.get("name", ""), ()):
                pairs.append((version, aff))
                keys.append(("npm", pkg["name"], version, record["id"]))
    semver_dir = trees / "semver" / "node_modules" / "semver"
    script = trees / "oracle.js"
    script.write_text(ORACLE_JS)
    r = subprocess.run(
        ["node", str(script), str(semver_dir)],
        input=json.dumps(pairs),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    for key, verdict in zip(keys, json.loads(r.stdout), strict=True):
        if verdict is True:
            affected.add(key)
        elif verdict == "invalid":
            undecidable.add(key)
    return affected, undecidable


def actual_keys(result: ScanResult) -> tuple[set[Key], set[Key]]:
    affected: set[Key] = set()
    undecidable: set[Key] = set()
    for f in result.findings:
        for m in f.matched_by:
            key = (m.namespace, m.package, m.installed_version, m.advisory_id)
            (affected if m.verdict == "affected" else undecidable).add(key)
    return affected, undecidable


# --------------------------------------------------------------------------- tests


def test_sbom_lists_what_pip_and_npm_report(trees: Path, scanned: tuple[SBOM, ScanResult]) -> None:
    sbom, _ = scanned
    py = {(canonicalize_name(p.name), p.version) for p in sbom.packages if p.type == "pypi"}
    js = {(p.name, p.version) for p in sbom.packages if p.type == "npm"}
    assert py == {(canonicalize_name(n), v) for n, v in pip_installed(trees)}
    assert js == npm_installed(trees)
    for p in sbom.packages:
        if p.type == "pypi":
            assert p.locations[0].path.startswith(f"{SITE}/")
            assert p.locations[0].path.endswith(".dist-info/METADATA")
            assert p.files, p.name  # RECORD read
            assert all(f.startswith("usr/") for f in p.files)
        elif p.type == "npm":
            assert p.locations[0].path.startswith(f"{NODE_ROOT}/node_modules/")
    # the project's own package.json (app/package.json) is not an installed package
    assert not any(p.name == "fixture" for p in sbom.packages)
    scoped = [p for p in sbom.packages if p.name == "@babel/traverse"]
    assert [p.purl for p in scoped] == ["pkg:npm/%40babel/traverse@7.20.0"]


def test_findings_equal_osv_oracle(trees: Path, scanned: tuple[SBOM, ScanResult]) -> None:
    _, result = scanned
    expected, expected_undecidable = expected_keys(trees)
    actual, actual_undecidable = actual_keys(result)
    missing, extra = sorted(expected - actual), sorted(actual - expected)
    print(
        f"\nexpected {len(expected)} (pypi {sum(k[0] == 'pypi' for k in expected)}, "
        f"npm {sum(k[0] == 'npm' for k in expected)}), found {len(actual)}, "
        f"missing {len(missing)}, extra {len(extra)}; findings {len(result.findings)}; "
        f"undecidable expected {len(expected_undecidable)} actual {len(actual_undecidable)}"
    )
    assert not missing and not extra, (missing[:20], extra[:20])
    assert actual_undecidable == expected_undecidable
    # the pinned releases are old enough to have advisories in both ecosystems
    for name in ("django", "requests", "urllib3", "lodash", "minimist", "axios"):
        assert any(k[1] == name for k in expected), name
