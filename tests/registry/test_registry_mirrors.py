"""Registry mirrors: tried in order before the registry itself, skipped when they fail or
lack the image, never trusted beyond the digests. Two real registries, each behind a
recording proxy, so the tests see which one served what."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hullscan import api
from hullscan.errors import DigestMismatchError
from hullscan.image.registry.settings import Mirror, RegistrySettings
from hullscan.net import RetryPolicy
from hullscan.options import ScanOptions
from tests.integration.cli_support import Sandbox, assert_one_line_error, run_cli
from tests.registry.fault_proxy import FaultProxy, corrupt
from tests.registry.fixtures import PushedImage
from tests.registry.push import push_oci_layout
from tests.registry.server import RegistryServer

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def mirror_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    from tests.registry.fixtures import require_tools

    require_tools("docker-registry", "skopeo")
    with RegistryServer(tmp_path_factory.mktemp("registry-mirror")) as server:
        yield server


@pytest.fixture
def proxies(
    pushed_image: PushedImage,
    mirror_registry: RegistryServer,
    fault_proxy_factory: Callable[..., FaultProxy],
) -> tuple[FaultProxy, FaultProxy]:
    """(upstream proxy, mirror proxy): the image is in both registries."""
    push_oci_layout(pushed_image.image.path, mirror_registry, pushed_image.repo, "v1")
    return fault_proxy_factory(pushed_image.registry), fault_proxy_factory(mirror_registry)


def _settings(upstream: FaultProxy, *mirrors: str) -> RegistrySettings:
    return RegistrySettings(
        mirrors=((upstream.host, tuple(Mirror.parse(m) for m in mirrors)),),
        retry=RetryPolicy(retries=2, backoff=0.05),
    )


def _served(proxy: FaultProxy, repo: str) -> list[str]:
    return [r.path for r in proxy.requests if r.path.startswith(f"/v2/{repo}/")]


def _scan(ref: str, settings: RegistrySettings) -> Any:
    return api.sbom(ref, ScanOptions(registry=settings))


def test_the_mirror_serves_everything(
    proxies: tuple[FaultProxy, FaultProxy], pushed_image: PushedImage
) -> None:
    upstream, mirror = proxies
    ref = f"{upstream.host}/{pushed_image.repo}:v1"
    doc = _scan(ref, _settings(upstream, mirror.host))
    local = api.sbom(f"oci-dir:{pushed_image.image.path}", ScanOptions())
    assert doc.packages == local.packages and doc.layers == local.layers
    assert doc.target.repo_digests == (
        f"{upstream.host}/{pushed_image.repo}@{pushed_image.digest}",
    )
    served = _served(mirror, pushed_image.repo)
    assert any("/manifests/v1" in p for p in served)
    assert sum("/blobs/" in p for p in served) == 1 + len(pushed_image.image.layers)
    assert upstream.requests == []  # not even a ping


def test_a_mirror_without_the_image_falls_through(
    proxies: tuple[FaultProxy, FaultProxy], pushed_image: PushedImage, unique_repo: str
) -> None:
    upstream, mirror = proxies
    # Only the upstream has this repository.
    push_oci_layout(pushed_image.image.path, pushed_image.registry, unique_repo, "only-up")
    doc = _scan(f"{upstream.host}/{unique_repo}:only-up", _settings(upstream, mirror.host))
    assert doc.target.manifest_digest == pushed_image.digest
    assert any(r.status == 404 for r in mirror.requests)
    assert any("/blobs/" in p for p in _served(upstream, unique_repo))


def test_mirrors_are_tried_in_order_and_a_dead_one_is_skipped(
    proxies: tuple[FaultProxy, FaultProxy], pushed_image: PushedImage
) -> None:
    upstream, mirror = proxies
    dead = "127.0.0.1:1"  # nothing listens on port 1
    doc = _scan(f"{upstream.host}/{pushed_image.repo}:v1", _settings(upstream, dead, mirror.host))
    assert doc.target.manifest_digest == pushed_image.digest
    assert _served(mirror, pushed_image.repo) and upstream.requests == []


def test_a_mirror_cannot_change_what_a_digest_names(
    proxies: tuple[FaultProxy, FaultProxy], pushed_image: PushedImage
) -> None:
    upstream, mirror = proxies
    mirror.inject(corrupt(), path="/manifests/sha256:", times=100)
    ref = f"{upstream.host}/{pushed_image.repo}@{pushed_image.digest}"
    with pytest.raises(DigestMismatchError):
        _scan(ref, _settings(upstream, mirror.host))


def test_cli_and_environment(
    proxies: tuple[FaultProxy, FaultProxy], pushed_image: PushedImage, tmp_path: Path
) -> None:
    upstream, mirror = proxies
    ref = f"{upstream.host}/{pushed_image.repo}:v1"
    box = Sandbox(tmp_path)
    flag = run_cli("sbom", ref, "-f", "json", "-q", "--no-cache",
                   "--registry-mirror", f"{upstream.host}={mirror.host}", sandbox=box)  # fmt: skip
    assert flag.json()["target"]["manifest_digest"] == pushed_image.digest
    env = run_cli("sbom", ref, "-f", "json", "-q", "--no-cache", sandbox=box,
                  env={"HULLSCAN_REGISTRY_MIRRORS": f"{upstream.host}=http://{mirror.host}"})  # fmt: skip
    assert env.json()["target"]["manifest_digest"] == pushed_image.digest
    assert upstream.requests == []
    bad = run_cli("sbom", ref, "--registry-mirror", "no-equals-sign", sandbox=box)
    assert_one_line_error(bad, 2, "REGISTRY=MIRROR")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mirror.gcr.io", Mirror("mirror.gcr.io")),
        ("https://mirror.example:5000/", Mirror("mirror.example:5000")),
        ("http://10.0.0.1:5000", Mirror("10.0.0.1:5000", insecure=True)),
        ("registry.example/dockerhub", Mirror("registry.example", path="/dockerhub")),
    ],
)
def test_mirror_spelling(text: str, expected: Mirror) -> None:
    assert Mirror.parse(text) == expected
