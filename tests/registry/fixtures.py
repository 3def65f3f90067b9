"""pytest fixtures for tests against a real registry (imported by ``tests/registry/conftest.py``;
elsewhere: ``from tests.registry.fixtures import *`` in a conftest).

Registries are session-scoped *per xdist worker* (each worker starts its own processes on
fresh ports; nothing is shared across processes), so tests must not depend on what other
tests pushed: use ``unique_repo`` for repository names. Function-scoped pieces
(``token_server`` policy and records, fault proxies) are reset for every test.
"""

from __future__ import annotations

import random
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.images.builder import BuiltImage, Entry, build_image, layer_tar
from tests.registry.fault_proxy import FaultProxy, Upstream
from tests.registry.push import push_oci_layout
from tests.registry.server import RegistryServer
from tests.registry.token_server import DEFAULT_USERS, TokenServer

__all__ = [
    "HTPASSWD_CREDS",
    "TOKEN_CREDS",
    "PushedImage",
    "fault_proxy",
    "fault_proxy_factory",
    "htpasswd_registry",
    "pushed_image",
    "registry",
    "registry_tools",
    "require_tools",
    "small_image",
    "tls_registry",
    "token_registry",
    "token_server",
    "unique_repo",
]

HTPASSWD_CREDS = ("hullscan", "htpasswd-secret")
TOKEN_CREDS: tuple[str, str] = next(iter(DEFAULT_USERS.items()))

_TOOLS = {
    "docker-registry": "apt install docker-registry",
    "skopeo": "apt install skopeo",
    "htpasswd": "apt install apache2-utils",
}


def require_tools(*names: str) -> None:
    """Skip the calling test/fixture with a clear reason when a tool is missing."""
    for name in names:
        if shutil.which(name) is None:
            pytest.skip(
                f"{name} not installed ({_TOOLS.get(name, 'install it')}; or make system-deps)"
            )


@pytest.fixture(scope="session")
def registry_tools() -> None:
    require_tools("docker-registry", "skopeo")


@pytest.fixture(scope="session")
def registry(
    registry_tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryServer]:
    """Anonymous, plain-HTTP registry."""
    with RegistryServer(tmp_path_factory.mktemp("registry-anon")) as server:
        yield server


@pytest.fixture(scope="session")
def tls_registry(
    registry_tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryServer]:
    """Anonymous HTTPS registry; trust ``tls_registry.ca_cert``."""
    with RegistryServer(tmp_path_factory.mktemp("registry-tls"), tls=True) as server:
        yield server


@pytest.fixture(scope="session")
def htpasswd_registry(
    registry_tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryServer]:
    """HTTPS + basic auth; ``htpasswd_registry.credentials == HTPASSWD_CREDS``."""
    require_tools("htpasswd")
    with RegistryServer(
        tmp_path_factory.mktemp("registry-htpasswd"), tls=True, htpasswd=HTPASSWD_CREDS
    ) as server:
        yield server


@pytest.fixture(scope="session")
def token_registry(
    registry_tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryServer]:
    """Plain-HTTP registry with bearer-token auth; ``token_registry.token_server`` issues the
    tokens (user ``TOKEN_CREDS``). Prefer the ``token_server`` fixture to reach it: it resets
    the policy and the request log for each test."""
    base = tmp_path_factory.mktemp("registry-token")
    with (
        TokenServer(base / "token-server") as tokens,
        RegistryServer(base / "registry", token=tokens) as server,
    ):
        yield server


@pytest.fixture
def token_server(token_registry: RegistryServer) -> Iterator[TokenServer]:
    """The token server behind ``token_registry``, default policy, empty request log."""
    tokens = token_registry.token_server
    assert tokens is not None
    tokens.reset()
    yield tokens
    tokens.reset()


@pytest.fixture
def fault_proxy_factory() -> Iterator[Callable[..., FaultProxy]]:
    """``make(upstream, **kwargs) -> FaultProxy``; every proxy is stopped at teardown."""
    proxies: list[FaultProxy] = []

    def make(upstream: str | Upstream, **kwargs: Any) -> FaultProxy:
        proxy = FaultProxy(upstream, **kwargs)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def fault_proxy(
    registry: RegistryServer, fault_proxy_factory: Callable[..., FaultProxy]
) -> FaultProxy:
    """A fresh FaultProxy in front of the anonymous ``registry``."""
    return fault_proxy_factory(registry)


@pytest.fixture(scope="session")
def small_image(tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    """A 2-layer gzip OCI layout directory (ref ``latest``). Layer 1 holds 256 KiB of
    incompressible bytes, so its blob is big enough to cut, stall or resume mid-way.
    skopeo keeps gzip blobs as they are: the pushed digests equal ``small_image``'s."""
    noise = random.Random(0).randbytes(256 * 1024)
    layers = [
        layer_tar([Entry("etc", kind="dir"), Entry("etc/os-release", b"ID=hullscan-test\n")]),
        layer_tar([Entry("data", kind="dir"), Entry("data/noise.bin", noise)]),
    ]
    return build_image(
        tmp_path_factory.mktemp("small-image") / "oci", layers, fmt="oci-dir", compression="gzip"
    )


@pytest.fixture
def unique_repo(request: pytest.FixtureRequest) -> str:
    """A repository name no other test uses: ``test/<test-name>-<random>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    return f"test/{slug or 'repo'}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class PushedImage:
    registry: RegistryServer
    repo: str
    tag: str
    digest: str  # manifest digest as pushed
    image: BuiltImage

    @property
    def reference(self) -> str:
        """``127.0.0.1:PORT/repo:tag``"""
        return f"{self.registry.host}/{self.repo}:{self.tag}"

    @property
    def digest_reference(self) -> str:
        return f"{self.registry.host}/{self.repo}@{self.digest}"


@pytest.fixture
def pushed_image(
    registry: RegistryServer, small_image: BuiltImage, unique_repo: str
) -> PushedImage:
    """``small_image`` pushed to the anonymous ``registry`` as ``unique_repo:v1``."""
    digest = push_oci_layout(small_image.path, registry, unique_repo, "v1")
    return PushedImage(registry, unique_repo, "v1", digest, small_image)
