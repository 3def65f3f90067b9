"""Declared packages and drift through the CLI: an image whose ``/app`` holds the shared npm
installed-tree fixture (a lock file and the ``node_modules`` npm made from it, one runtime
package missing), plus a pinned ``requirements.txt`` next to an installed distribution."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.images.builder import Entry, layer_tar, write_image
from tests.integration.cli_support import Sandbox, run_cli
from tests.unit.osfixtures import PKGDB

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("lockfiles")]

TREE = PKGDB / "lang" / "node" / "npm" / "installed-tree"
METADATA = b"Metadata-Version: 2.1\nName: Django\nVersion: 3.2.1\n\n"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("locks")).make()


@pytest.fixture(scope="module")
def image(sandbox: Sandbox) -> Path:
    if not TREE.is_dir():
        pytest.skip(f"shared fixture absent: {TREE}")
    entries = [Entry(f"app/{p.relative_to(TREE).as_posix()}", p.read_bytes())
               for p in sorted(TREE.rglob("*")) if p.is_file()]  # fmt: skip
    entries += [
        Entry("srv/requirements.txt", b"Django==3.2.0\nsix==1.16.0\n"),
        Entry("usr/lib/python3/dist-packages/Django-3.2.1.dist-info/METADATA", METADATA),
    ]
    return write_image(sandbox.root / "img.tar", [layer_tar(entries)], fmt="docker-archive")


def test_json_lists_declared_packages_and_drift(sandbox: Sandbox, image: Path) -> None:
    r = run_cli("sbom", image, "-f", "json", "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    doc = r.json()
    declared = {(p["name"], p["version"]) for p in doc["packages"]
                if p["relationship"] == "declared"}  # fmt: skip
    assert ("array-flatten", "1.1.1") in declared and ("Django", "3.2.0") in declared
    drift = {(d["kind"], d["manifest"], d["name"], d["declared"], tuple(d.get("installed", ())))
             for d in doc["drift"]}  # fmt: skip
    assert drift == {
        ("not-installed", "app/package-lock.json", "array-flatten", "1.1.1", ()),
        ("other-version", "srv/requirements.txt", "Django", "3.2.0", ("3.2.1",)),
        # six is declared but no copy is installed: the project was installed (Django is)
        ("not-installed", "srv/requirements.txt", "six", "1.16.0", ()),
    }


def test_table_and_cyclonedx_carry_the_drift(sandbox: Sandbox, image: Path) -> None:
    table = run_cli("sbom", image, "--no-cache", "-q", sandbox=sandbox)
    assert table.returncode == 0, table.describe()
    assert "drift: srv/requirements.txt declares pypi Django 3.2.0, installed 3.2.1" in table.stdout
    cdx = sandbox.root / "sbom.cdx.json"
    r = run_cli("sbom", image, "-f", "cyclonedx", "-o", cdx, "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    again = run_cli("sbom-scan", cdx, "--help", sandbox=sandbox)
    assert again.returncode == 0
    from hullscan.report.registry import read_sbom

    with cdx.open() as fh:
        back = read_sbom(fh)
    assert {d.name for d in back.drift} == {"array-flatten", "Django", "six"}
    assert any(p.relationship == "declared" and p.name == "Django" for p in back.packages)
