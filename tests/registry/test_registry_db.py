"""``hullscan db push/pull``: the DB travels through a real registry as an OCI artifact, is
copied between registries by skopeo (an independent client) like any artifact, and a pull
that cannot complete leaves the current DB exactly as it was."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hullscan.image.registry.client import RegistryClient
from hullscan.vulndb.manage import db_info
from hullscan.vulndb.registry import (
    ARTIFACT_TYPE,
    BUILT_ANNOTATION,
    EXPORT_NAME,
    LAYER_TYPE,
    SCHEMA_ANNOTATION,
    TITLE,
)
from hullscan.vulndb.schema import SCHEMA_VERSION
from tests.integration.cli_support import Sandbox, assert_one_line_error, build_db, run_cli
from tests.registry.fault_proxy import FaultProxy, corrupt, reset_after
from tests.registry.fixtures import PushedImage
from tests.registry.push import skopeo_inspect
from tests.registry.server import RegistryServer

pytestmark = [pytest.mark.integration, pytest.mark.needs_shared]


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    box = Sandbox(tmp_path_factory.mktemp("db-src"))
    return build_db(box.make(), ("osv:Alpine", "kev"), "osv-dev/Alpine")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _info(box: Sandbox, db: Path) -> tuple[object, ...]:
    info = db_info(db)
    return info.built_at, info.counts, info.schema_version, [s.name for s in info.sources]


def _push(box: Sandbox, db: Path, ref: str, *extra: str) -> str:
    run = run_cli("db", "push", ref, "--db", db, *extra, sandbox=box)
    assert run.returncode == 0, run.describe()
    assert "pushed" in run.stderr and "@sha256:" in run.stderr
    return run.stderr.split("@", 1)[1].split()[0]


def test_push_then_pull_round_trip(
    registry: RegistryServer, small_db: Path, unique_repo: str, tmp_path: Path
) -> None:
    box = Sandbox(tmp_path).make()
    ref = f"{registry.host}/{unique_repo}:v{SCHEMA_VERSION}"
    digest = _push(box, small_db, ref)
    # What any OCI client sees: an ORAS-style artifact.
    manifest = json.loads(skopeo_inspect(registry, f"{unique_repo}:v{SCHEMA_VERSION}"))
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == LAYER_TYPE and layer["annotations"][TITLE] == EXPORT_NAME
    assert manifest["annotations"][SCHEMA_ANNOTATION] == str(SCHEMA_VERSION)
    assert manifest["annotations"][BUILT_ANNOTATION] == db_info(small_db).built_at
    assert (
        "sha256:"
        + hashlib.sha256(
            skopeo_inspect(registry, f"{unique_repo}:v{SCHEMA_VERSION}").encode()
        ).hexdigest()
        == digest
    )

    for pulled_ref in (ref, f"{registry.host}/{unique_repo}@{digest}"):
        target = tmp_path / f"pulled-{len(pulled_ref)}.sqlite"
        run = run_cli("db", "pull", pulled_ref, "--db", target, sandbox=box)
        assert run.returncode == 0, run.describe()
        assert _info(box, target) == _info(box, small_db)
    assert not list(tmp_path.glob(".*pull*"))  # no partial file left behind


def test_skopeo_mirrors_the_artifact(
    registry: RegistryServer, small_db: Path, unique_repo: str, pushed_db: str, tmp_path: Path
) -> None:
    """Air-gapped mirroring with a standard tool: copy to another repository (and to an OCI
    layout) with skopeo, pull from the copy."""
    box = Sandbox(tmp_path).make()
    layout = tmp_path / "layout"
    for dest in (f"docker://{registry.host}/{unique_repo}-mirror:latest", f"oci:{layout}:db"):
        subprocess.run(
            ["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
             "--insecure-policy", f"docker://{registry.host}/{unique_repo}:latest", dest],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    target = tmp_path / "mirrored.sqlite"
    run = run_cli("db", "pull", f"{registry.host}/{unique_repo}-mirror", "--db", target,
                  sandbox=box)  # fmt: skip
    assert run.returncode == 0, run.describe()
    assert _info(box, target) == _info(box, small_db)
    assert (layout / "index.json").is_file()


@pytest.fixture
def pushed_db(registry: RegistryServer, small_db: Path, unique_repo: str, tmp_path: Path) -> str:
    """``small_db`` pushed as ``unique_repo:latest``; returns the reference."""
    ref = f"{registry.host}/{unique_repo}:latest"
    _push(Sandbox(tmp_path / "push").make(), small_db, ref)
    return ref


@pytest.fixture
def current_db(small_db: Path, tmp_path: Path) -> Path:
    """A DB in place that a failed pull must leave untouched."""
    db = tmp_path / "current.sqlite"
    db.write_bytes(small_db.read_bytes())
    return db


def test_pulling_an_image_is_refused(
    pushed_image: PushedImage, current_db: Path, tmp_path: Path
) -> None:
    before = _sha(current_db)
    run = run_cli("db", "pull", pushed_image.reference, "--db", current_db,
                  sandbox=Sandbox(tmp_path))  # fmt: skip
    assert_one_line_error(run, 2, "not a hullscan DB")
    assert _sha(current_db) == before


def test_an_unknown_schema_version_is_refused_before_download(
    registry: RegistryServer,
    small_db: Path,
    current_db: Path,
    unique_repo: str,
    pushed_db: str,
    tmp_path: Path,
    fault_proxy_factory: Callable[..., FaultProxy],
) -> None:
    box = Sandbox(tmp_path).make()
    manifest = json.loads(skopeo_inspect(registry, f"{unique_repo}:latest"))
    manifest["annotations"][SCHEMA_ANNOTATION] = "999"
    with RegistryClient(registry.host) as client:
        client.push_manifest(unique_repo, "future", json.dumps(manifest).encode(),
                             manifest["mediaType"])  # fmt: skip
    proxy = fault_proxy_factory(registry)
    before = _sha(current_db)
    run = run_cli("db", "pull", f"{proxy.host}/{unique_repo}:future", "--db", current_db,
                  sandbox=box)  # fmt: skip
    assert_one_line_error(run, 2, "schema version '999'", "unchanged")
    assert _sha(current_db) == before
    assert not [r for r in proxy.requests if "/blobs/" in r.path]  # refused before download


def test_a_corrupt_layer_keeps_the_current_db(
    registry: RegistryServer,
    small_db: Path,
    current_db: Path,
    unique_repo: str,
    pushed_db: str,
    tmp_path: Path,
    fault_proxy_factory: Callable[..., FaultProxy],
) -> None:
    box = Sandbox(tmp_path).make()
    proxy = fault_proxy_factory(registry)
    proxy.inject(corrupt(), method="GET", path="/blobs/sha256:", times=100)
    before = _sha(current_db)
    run = run_cli("db", "pull", f"{proxy.host}/{unique_repo}", "--db", current_db,
                  "--registry-retries", "1", sandbox=box)  # fmt: skip
    assert_one_line_error(run, 2, "digest mismatch", "unchanged")
    assert _sha(current_db) == before
    assert not list(tmp_path.glob(".*pull*"))


def test_an_interrupted_download_is_resumed(
    registry: RegistryServer,
    small_db: Path,
    unique_repo: str,
    pushed_db: str,
    tmp_path: Path,
    fault_proxy_factory: Callable[..., FaultProxy],
) -> None:
    box = Sandbox(tmp_path).make()
    proxy = fault_proxy_factory(registry)
    proxy.inject(reset_after(100_000), method="GET", path="/blobs/sha256:", times=1)
    target = tmp_path / "resumed.sqlite"
    run = run_cli("db", "pull", f"{proxy.host}/{unique_repo}", "--db", target, sandbox=box)
    assert run.returncode == 0, run.describe()
    assert _info(box, target) == _info(box, small_db)
    ranges = [r.range for r in proxy.requests if "/blobs/" in r.path and r.range]
    assert ranges and ranges[0].startswith("bytes=") and not ranges[0].startswith("bytes=0-")


def test_push_to_a_digest_is_a_usage_error(small_db: Path, tmp_path: Path) -> None:
    run = run_cli("db", "push", "127.0.0.1:1/db@sha256:" + "a" * 64, "--db", small_db,
                  sandbox=Sandbox(tmp_path))  # fmt: skip
    assert_one_line_error(run, 2, "not a digest")
