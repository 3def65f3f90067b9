"""``hullscan image`` on an image with real Go programs (the shared Go fixtures, built with Go 1.15,
1.16 and 1.22): the modules and the Go standard library come out of the binaries' build info,
only executables are read, and the standard library is matched against the real Go
vulnerability database of ``../shared/vulndata`` (``golang-vulndb``)."""

from __future__ import annotations

import lzma
from pathlib import Path
from typing import Any

import pytest
from tests.images.builder import Entry, layer_tar, write_image
from tests.integration.cli_support import Sandbox, build_db, run_cli, sbom_locations
from tests.unit.osfixtures import PKGDB

pytestmark = [pytest.mark.integration, pytest.mark.needs_shared, pytest.mark.xdist_group("go")]

FIXTURES = PKGDB / "lang" / "go-binary"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("go")).make()


@pytest.fixture(scope="module")
def image(sandbox: Sandbox) -> Path:
    if not (FIXTURES / "test.elf").is_file():
        pytest.skip(f"shared fixtures absent: {FIXTURES}")
    old = (FIXTURES / "test.elf").read_bytes()
    replace = lzma.decompress((FIXTURES / "replace.elf.xz").read_bytes())
    layer = layer_tar(
        [
            Entry("usr/local/bin", kind="dir"),
            Entry("usr/local/bin/old-tool", old, mode=0o755),
            Entry("app", kind="dir"),
            Entry("app/server", replace, mode=0o750),
            Entry("app/server.backup", replace, mode=0o644),  # not executable: not read
            Entry("usr/bin/server", kind="symlink", target="/app/server"),
        ]
    )
    return write_image(sandbox.root / "img.tar", [layer], fmt="docker-archive")


@pytest.fixture(scope="module")
def db(sandbox: Sandbox) -> Path:
    return build_db(sandbox, ("go-vulndb",), "golang-vulndb", "go.sqlite")


def test_sbom_lists_the_modules_of_executables_only(sandbox: Sandbox, image: Path) -> None:
    got = sbom_locations(sandbox, image, "golang")
    assert got == {
        ("pkg:golang/github.com/aquasecurity/test@%28devel%29", "usr/local/bin/old-tool"),
        ("pkg:golang/github.com/aquasecurity/go-pep440-version@v0.0.0-20210121094942-22b2f8951d46",
         "usr/local/bin/old-tool"),
        ("pkg:golang/github.com/aquasecurity/go-version@v0.0.0-20210121072130-637058cfe492",
         "usr/local/bin/old-tool"),
        ("pkg:golang/golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1",
         "usr/local/bin/old-tool"),
        ("pkg:golang/stdlib@1.15.2", "usr/local/bin/old-tool"),
        ("pkg:golang/github.com/ebati/trivy-mod-parse@%28devel%29", "app/server"),
        ("pkg:golang/github.com/davecgh/go-spew@v1.1.1", "app/server"),
        ("pkg:golang/github.com/go-sql-driver/mysql@v1.5.0", "app/server"),
        ("pkg:golang/stdlib@1.16.4", "app/server"),
    }  # fmt: skip


def test_old_go_standard_library_is_matched(sandbox: Sandbox, image: Path, db: Path) -> None:
    r = run_cli("image", image, "--db", db, "-f", "json", "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()
    findings: list[dict[str, Any]] = r.json()["result"]["findings"]
    stdlib = [f for f in findings if f["package"]["name"] == "stdlib"]
    by_version: dict[str, set[str]] = {}
    for f in stdlib:
        by_version.setdefault(f["package"]["version"], set()).update(
            [f["id"], *f.get("aliases", [])]
        )
        assert f.get("compared", True) and f["fix_state"] == "fixed" and f["fixed_version"]
    # Go 1.15.2 and 1.16.4 are years old: dozens of standard library advisories each, e.g.
    # CVE-2021-33196 (archive/zip, fixed in 1.15.13 and 1.16.5), shown with its Go id
    assert len(by_version.get("1.15.2", ())) > 20 and len(by_version.get("1.16.4", ())) > 20
    for version in ("1.15.2", "1.16.4"):
        assert "CVE-2021-33196" in by_version[version]
        assert any(i.startswith("GO-") for i in by_version[version])
