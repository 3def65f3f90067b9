"""Images read from a real registry (distribution's ``docker-registry`` on 127.0.0.1, images
pushed by skopeo) give exactly what the same image gives from its OCI layout; indexes,
platforms, Docker media types, artifacts and hostile documents are handled as documented."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from hullscan import api
from hullscan.errors import DigestMismatchError, ImageError, ManifestError
from hullscan.image.registry.client import RegistryClient
from hullscan.image.registry.settings import RegistrySettings
from hullscan.model import SBOM
from hullscan.net import RetryPolicy
from hullscan.options import ScanOptions
from tests.images.builder import Entry, build_multiplatform_oci, layer_tar
from tests.integration.cli_support import Sandbox, assert_one_line_error, run_cli
from tests.registry.fault_proxy import FaultProxy, status
from tests.registry.fixtures import PushedImage
from tests.registry.push import push_oci_layout
from tests.registry.server import RegistryServer

pytestmark = [pytest.mark.integration]

FAST = RegistrySettings(retry=RetryPolicy(retries=1, backoff=0.05), read_timeout=10)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_CONFIG = b"{}"


def scan(ref: str, platform: str | None = None) -> SBOM:
    return api.sbom(ref, ScanOptions(platform=platform, registry=FAST))


def content(doc: SBOM) -> tuple[Any, ...]:
    """What must not depend on where the image was read from."""
    return (doc.distro, doc.packages, doc.layers, doc.target.config_digest, doc.target.os,
            doc.target.architecture, doc.target.env, doc.target.labels)  # fmt: skip


def test_tag_and_digest_give_the_layout_result(pushed_image: PushedImage) -> None:
    local = api.sbom(f"oci-dir:{pushed_image.image.path}", ScanOptions())
    by_tag = scan(pushed_image.reference)
    by_digest = scan(pushed_image.digest_reference)
    assert content(by_tag) == content(local) == content(by_digest)
    assert by_tag.packages or by_tag.layers  # something was read
    for doc in (by_tag, by_digest):
        t = doc.target
        assert t.kind == "registry"
        assert t.manifest_digest == pushed_image.digest
        repo = f"{pushed_image.registry.host}/{pushed_image.repo}"
        assert t.repo_digests == (f"{repo}@{pushed_image.digest}",)
    assert by_tag.target.repo_tags == (f"{repo}:v1",)
    assert by_digest.target.repo_tags == ()


def test_cli_prints_the_resolved_digest(pushed_image: PushedImage, tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    table = run_cli("sbom", pushed_image.reference, "-q", sandbox=box)
    assert table.returncode == 0, table.describe()
    assert f"Digest: {pushed_image.digest}" in table.stdout
    doc = run_cli("sbom", f"registry:{pushed_image.reference}", "-f", "json", "-q",
                  sandbox=box).json()  # fmt: skip
    assert doc["target"]["manifest_digest"] == pushed_image.digest
    cdx = run_cli("sbom", pushed_image.reference, "-f", "cyclonedx", "-q", sandbox=box).json()
    props = {p["name"]: p["value"] for p in cdx["metadata"]["component"]["properties"]}
    assert props["hullscan:image:repo_digest"].endswith(f"@{pushed_image.digest}")


def test_docker_media_types(registry: RegistryServer, small_image: Any, unique_repo: str) -> None:
    digest = push_oci_layout(small_image.path, registry, unique_repo, "v2s2", dest_format="v2s2")
    raw = json.loads(_get(registry, f"/v2/{unique_repo}/manifests/{digest}"))
    assert raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    local = api.sbom(f"oci-dir:{small_image.path}", ScanOptions())
    remote = scan(f"{registry.host}/{unique_repo}:v2s2")
    assert remote.target.manifest_digest == digest
    assert [p.purl for p in remote.packages] == [p.purl for p in local.packages]
    assert [layer.diff_id for layer in remote.layers] == [layer.diff_id for layer in local.layers]


# --- indexes and platforms ----------------------------------------------------------------


def _platform_layer(name: str) -> bytes:
    status_text = (
        f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\n"
    )
    return layer_tar([
        Entry("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
        Entry("var/lib/dpkg/status", status_text.encode()),
    ])  # fmt: skip


@pytest.fixture
def multiplatform(registry: RegistryServer, unique_repo: str, tmp_path: Path) -> tuple[str, str]:
    """An index of amd64 and arm64/v8 images plus buildx attestations, pushed with
    ``skopeo copy --all``; returns (reference, index digest)."""
    built = build_multiplatform_oci(
        tmp_path / "multi",
        [
            (("linux", "amd64", None), [_platform_layer("only-on-amd64")]),
            (("linux", "arm64", "v8"), [_platform_layer("only-on-arm64")]),
        ],
        nested=True,
        attestations=True,
    )
    digest = push_oci_layout(
        built.path, registry, unique_repo, "multi", ref="latest", all_images=True
    )
    return f"{registry.host}/{unique_repo}:multi", digest


def test_platform_is_chosen_from_the_index(multiplatform: tuple[str, str]) -> None:
    ref, index_digest = multiplatform
    amd = scan(ref)
    arm = scan(ref, "linux/arm64")
    assert [p.name for p in amd.packages if p.type == "deb"] == ["only-on-amd64"]
    assert [p.name for p in arm.packages if p.type == "deb"] == ["only-on-arm64"]
    assert arm.target.architecture == "arm64"
    # The tag resolved to the index; each scan names its own platform manifest.
    for doc in (amd, arm):
        assert doc.target.repo_digests[0].endswith(f"@{index_digest}")
        assert doc.target.manifest_digest != index_digest
    assert amd.target.manifest_digest != arm.target.manifest_digest


def test_missing_platform_names_the_available_ones(
    multiplatform: tuple[str, str], tmp_path: Path
) -> None:
    ref, _ = multiplatform
    run = run_cli("sbom", ref, "--platform", "linux/s390x", "-q", sandbox=Sandbox(tmp_path))
    assert_one_line_error(run, 2, "no image for platform linux/s390x")
    assert "linux/amd64" in run.stderr and "linux/arm64/v8" in run.stderr
    assert "unknown" not in run.stderr  # attestations are never candidates


# --- artifacts are not images -------------------------------------------------------------


def _push_artifact(registry: RegistryServer, repo: str, tag: str, manifest: dict[str, Any],
                   blobs: list[bytes]) -> None:  # fmt: skip
    with RegistryClient(registry.host) as client:
        for blob in blobs:
            client.push_blob(repo, _sha(blob), len(blob), blob)
        client.push_manifest(repo, tag, json.dumps(manifest).encode(), manifest["mediaType"])


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _desc(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _sha(data), "size": len(data)}


@pytest.mark.parametrize(
    ("kind", "needle"),
    [("cosign", "cosign signature"), ("spdx", "SBOM or attestation"),
     ("empty-config", "empty config")],
)  # fmt: skip
def test_artifacts_are_rejected(
    registry: RegistryServer, unique_repo: str, kind: str, needle: str, tmp_path: Path
) -> None:
    payload = b'{"critical":{}}'
    if kind == "cosign":
        config = b'{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}'
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": _desc("application/vnd.oci.image.config.v1+json", config),
            "layers": [_desc("application/vnd.dev.cosign.simplesigning.v1+json", payload)],
        }  # fmt: skip
        blobs = [config, payload]
    else:
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": _desc("application/vnd.oci.empty.v1+json", EMPTY_CONFIG),
            "layers": [_desc("application/spdx+json", payload)],
        }  # fmt: skip
        if kind == "spdx":
            manifest["artifactType"] = "application/spdx+json"
        blobs = [EMPTY_CONFIG, payload]
    _push_artifact(registry, unique_repo, "art", manifest, blobs)
    run = run_cli("sbom", f"{registry.host}/{unique_repo}:art", "-q", sandbox=Sandbox(tmp_path))
    assert_one_line_error(run, 2, needle)


# --- hostile or broken documents, served by a proxy in front of the real registry ------------


def _serve(proxy: FaultProxy, path: str, body: bytes, media_type: str, **headers: str) -> None:
    proxy.inject(status(200, {"Content-Type": media_type, **headers}, body), path=path, times=100)


def test_schema1_is_refused_by_name(
    fault_proxy: FaultProxy, pushed_image: PushedImage, tmp_path: Path
) -> None:
    doc = {"schemaVersion": 1, "name": pushed_image.repo, "tag": "v1", "fsLayers": []}
    _serve(fault_proxy, "/manifests/", json.dumps(doc).encode(),
           "application/vnd.docker.distribution.manifest.v1+prettyjws")  # fmt: skip
    run = run_cli("sbom", f"{fault_proxy.host}/{pushed_image.repo}:v1", "-q",
                  sandbox=Sandbox(tmp_path))  # fmt: skip
    assert_one_line_error(run, 2, "schema 1")


def test_unknown_media_type(
    fault_proxy: FaultProxy, pushed_image: PushedImage, tmp_path: Path
) -> None:
    _serve(fault_proxy, "/manifests/", b'{"schemaVersion":2,"mediaType":"text/x-weird"}',
           "text/x-weird")  # fmt: skip
    run = run_cli("sbom", f"{fault_proxy.host}/{pushed_image.repo}:v1", "-q",
                  sandbox=Sandbox(tmp_path))  # fmt: skip
    assert_one_line_error(run, 2, "text/x-weird")


def _proxied(proxy: FaultProxy, pushed: PushedImage, suffix: str = ":v1") -> str:
    return f"{proxy.host}/{pushed.repo}{suffix}"


def test_content_digest_header_must_match_the_bytes(
    fault_proxy: FaultProxy, pushed_image: PushedImage
) -> None:
    body = _get(pushed_image.registry, f"/v2/{pushed_image.repo}/manifests/v1", OCI_MANIFEST)
    lie = "sha256:" + "0" * 64
    _serve(fault_proxy, "/manifests/v1", body, OCI_MANIFEST, **{"Docker-Content-Digest": lie})
    with pytest.raises(DigestMismatchError, match="digest mismatch"):
        scan(_proxied(fault_proxy, pushed_image))


def test_digest_reference_must_match_the_bytes(
    fault_proxy: FaultProxy, pushed_image: PushedImage
) -> None:
    body = _get(pushed_image.registry, f"/v2/{pushed_image.repo}/manifests/v1", OCI_MANIFEST)
    tampered = body.replace(b'"schemaVersion":2', b'"schemaVersion": 2')
    assert tampered != body
    _serve(fault_proxy, "/manifests/sha256:", tampered, OCI_MANIFEST)
    with pytest.raises(DigestMismatchError):
        scan(_proxied(fault_proxy, pushed_image, f"@{pushed_image.digest}"))


def test_oversized_manifest_is_refused(fault_proxy: FaultProxy, pushed_image: PushedImage) -> None:
    big = b'{"schemaVersion":2,"pad":"' + b"x" * (9 * 1024 * 1024) + b'"}'
    _serve(fault_proxy, "/manifests/", big, OCI_MANIFEST)
    with pytest.raises(ImageError, match="limit"):
        scan(_proxied(fault_proxy, pushed_image))


def test_index_of_attestations_only(fault_proxy: FaultProxy, pushed_image: PushedImage) -> None:
    attestation = {
        "mediaType": OCI_MANIFEST, "digest": pushed_image.digest, "size": 100,
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    }  # fmt: skip
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [attestation]}
    _serve(fault_proxy, "/manifests/v1", json.dumps(index).encode(), OCI_INDEX)
    with pytest.raises(ManifestError, match="no image"):
        scan(_proxied(fault_proxy, pushed_image))


def test_config_must_match_its_digest(fault_proxy: FaultProxy, pushed_image: PushedImage) -> None:
    config = pushed_image.image.config_digest
    fault_proxy.inject(
        status(200, {"Content-Type": "application/octet-stream"}, b'{"rootfs":{}}'),
        path=f"/blobs/{config}",
        times=100,
    )
    with pytest.raises(DigestMismatchError):
        scan(_proxied(fault_proxy, pushed_image))


def _get(registry: RegistryServer, path: str, accept: str | None = None) -> bytes:
    with registry.client() as client:
        resp = client.get(path, headers={"Accept": accept} if accept else {})
        resp.raise_for_status()
        return resp.content


# --- a real Debian image ------------------------------------------------------------------


@pytest.mark.slow
def test_real_debian_image_from_the_registry(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    from tests.images.debian import debian_image, default_cache_dir
    from tests.integration.cli_support import debian_fixture_or_skip
    from tests.registry.push import push_docker_archive

    archive = debian_image(debian_fixture_or_skip(default_cache_dir()), default_cache_dir())
    digest = push_docker_archive(archive, registry, unique_repo, "bookworm")
    box = Sandbox(tmp_path)
    local = run_cli("sbom", f"docker-archive:{archive}", "-f", "json", "-q", "--no-cache",
                    sandbox=box).json()  # fmt: skip
    remote = run_cli("sbom", f"{registry.host}/{unique_repo}:bookworm", "-f", "json", "-q",
                     "--no-cache", sandbox=box).json()  # fmt: skip
    assert remote["target"]["manifest_digest"] == digest
    assert len(remote["packages"]) > 80
    assert remote["packages"] == local["packages"]
    assert [la["diff_id"] for la in remote["layers"]] == [la["diff_id"] for la in local["layers"]]
