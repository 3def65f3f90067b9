"""Binary classifiers in a real Debian image: every classified binary the image's dpkg database
owns (bash, glibc, zlib, ...) is left to its OS package; a copy put in by hand outside dpkg's
file lists is reported, with its upstream identity."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.images.builder import Entry, layer_tar, write_image
from tests.images.debian import DebianFixture, default_cache_dir
from tests.integration.cli_support import Sandbox, debian_fixture_or_skip, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("binaries")]


@pytest.fixture(scope="module")
def fx() -> DebianFixture:
    return debian_fixture_or_skip(default_cache_dir())


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("binaries")).make()


@pytest.fixture(scope="module")
def image(fx: DebianFixture, sandbox: Sandbox) -> Path:
    bash = (fx.base_root / "usr/bin/bash").read_bytes()
    extra = layer_tar([Entry("opt/tools", kind="dir"), Entry("opt/tools/bash", bash, mode=0o755)])
    return write_image(sandbox.root / "img", [fx.base_layer, extra], fmt="oci-dir")


def test_owned_binaries_are_left_to_dpkg_and_copies_are_reported(
    sandbox: Sandbox, image: Path
) -> None:
    r = run_cli("sbom", image, "-f", "json", "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    packages = r.json()["packages"]
    dpkg_bash = next(p for p in packages if p["type"] == "deb" and p["name"] == "bash")
    upstream = dpkg_bash["version"].split("-")[0]  # 5.2.15-2+b7 -> 5.2.15
    classified = [(p["purl"], p["locations"][0]["path"]) for p in packages
                  if p["found_by"] == "lang/binary"]  # fmt: skip
    assert classified == [(f"pkg:generic/bash@{upstream}", "opt/tools/bash")]


def test_cyclonedx_carries_the_cpe_and_the_evidence(sandbox: Sandbox, image: Path) -> None:
    out = sandbox.root / "bom.json"
    r = run_cli("sbom", image, "-f", "cyclonedx", "-o", out, "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    import json

    doc = json.loads(out.read_text())
    [bash] = [c for c in doc["components"] if c.get("purl", "").startswith("pkg:generic/bash@")]
    assert bash["cpe"].startswith("cpe:2.3:a:gnu:bash:")
    props = {p["name"]: p["value"] for p in bash["properties"]}
    assert "Bash version" in props["hullscan:binary:evidence"]
    from hullscan.report.registry import read_sbom

    with out.open() as fh:
        back = read_sbom(fh)
    [again] = [p for p in back.packages if p.purl.startswith("pkg:generic/bash@")]
    assert again.metadata is not None and again.metadata.cpes == (bash["cpe"],)  # type: ignore[union-attr]
