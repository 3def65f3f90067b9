"""``hullscan image`` finds Log4Shell in a jar nested in a fat jar, through the CLI, against a DB
built from the real osv.dev Maven bundle of ``../shared/vulndata``.

The image (built here, one layer, docker-archive) holds ``app/app.jar``: a Spring Boot-style fat
jar whose ``BOOT-INF/lib/log4j-core-2.14.1.jar`` carries Maven's
``META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties`` (version 2.14.1), next to
a patched ``log4j-api-2.17.1.jar``. The jars are assembled here (Maven Central is not reachable
from the test machines); what the analyzer reads from them is exactly what Maven writes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tests.images.builder import Entry, layer_tar, write_image
from tests.integration.cli_support import Sandbox, build_db, run_cli, sbom_locations

pytestmark = [pytest.mark.integration, pytest.mark.needs_shared, pytest.mark.xdist_group("java")]

LOG4SHELL = {"CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"}


def _jar(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _pom(group: str, artifact: str, version: str) -> dict[str, bytes]:
    text = f"#Created by Apache Maven 3.8.1\ngroupId={group}\nartifactId={artifact}\nversion={version}\n"
    return {
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nCreated-By: Maven Jar Plugin 3.2.0\r\n\r\n",
        f"META-INF/maven/{group}/{artifact}/pom.properties": text.encode(),
    }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("java")).make()


@pytest.fixture(scope="module")
def image(sandbox: Sandbox) -> Path:
    core = _jar(_pom("org.apache.logging.log4j", "log4j-core", "2.14.1") | {"a/B.class": b"\xca"})
    api = _jar(_pom("org.apache.logging.log4j", "log4j-api", "2.17.1"))
    app = _jar(
        _pom("com.example", "app", "1.0.0")
        | {
            "BOOT-INF/lib/log4j-core-2.14.1.jar": core,
            "BOOT-INF/lib/log4j-api-2.17.1.jar": api,
            "BOOT-INF/classes/com/example/App.class": b"\xca\xfe",
        }
    )
    layer = layer_tar([Entry("app", kind="dir"), Entry("app/app.jar", app)])
    return write_image(sandbox.root / "img.tar", [layer], fmt="docker-archive")


@pytest.fixture(scope="module")
def db(sandbox: Sandbox) -> Path:
    return build_db(sandbox, ("osv:Maven",), "osv-dev/Maven", "maven.sqlite")


def test_sbom_lists_the_nested_jars(sandbox: Sandbox, image: Path) -> None:
    maven = dict(sbom_locations(sandbox, image, "maven"))
    assert maven == {
        "pkg:maven/com.example/app@1.0.0": "app/app.jar",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1":
            "app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar",
        "pkg:maven/org.apache.logging.log4j/log4j-api@2.17.1":
            "app/app.jar!/BOOT-INF/lib/log4j-api-2.17.1.jar",
    }  # fmt: skip


def test_image_scan_finds_log4shell_in_the_nested_jar(
    sandbox: Sandbox, image: Path, db: Path
) -> None:
    r = run_cli("image", image, "--db", db, "-f", "json", "--no-cache", "-q", sandbox=sandbox)
    assert r.returncode == 0, r.describe()  # no --fail-on: findings alone do not fail
    findings: list[dict[str, Any]] = r.json()["result"]["findings"]
    log4shell = [f for f in findings if LOG4SHELL & {f["id"], *f.get("aliases", [])}]
    assert len(log4shell) == 1, [f["id"] for f in findings]
    f = log4shell[0]
    assert f["package"]["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    assert f["package"]["path"] == "app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar"
    assert f["fix_state"] == "fixed" and f["fixed_version"] in ("2.15.0", "2.12.2", "2.3.1")
    assert f["severity_rating"] == "critical"
    # the patched log4j-api 2.17.1 has no finding; the app itself is not in the Maven data
    assert not [g for g in findings if g["package"]["name"].endswith(":log4j-api")]
    # --fail-on gates on it
    gated = run_cli("image", image, "--db", db, "--fail-on", "critical", "-q", "--no-cache",
                    sandbox=sandbox)  # fmt: skip
    assert gated.returncode == 1, gated.describe()
