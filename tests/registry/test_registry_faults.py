"""Scanning an image through a misbehaving registry: broken and stalled connections, a
registry ignoring ``Range``, throttling, 5xx, corrupt and oversized blobs, and the layer
cache sparing downloads.

Everything goes through a ``FaultProxy`` in front of a real distribution registry (loopback,
so plain HTTP). Successful scans must give exactly the SBOM of the same image read from its
OCI layout; failures must be one ``hullscan: error:`` line with exit 2, in bounded time.
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hullscan import api
from hullscan.analyzers import registry as analyzer_registry
from hullscan.image.limits import DEFAULT_LIMITS
from hullscan.image.registry.settings import RegistrySettings
from hullscan.net import RetryPolicy
from hullscan.options import ScanOptions
from hullscan.walk.cache import LayerCache
from tests.images.builder import BuiltImage, BuiltLayer, Entry, build_image, layer_tar
from tests.integration.cli_support import (
    Run,
    Sandbox,
    assert_one_line_error,
    cache_entries,
    run_cli,
)
from tests.registry.fault_proxy import (
    Fault,
    FaultProxy,
    NoRange,
    ProxiedRequest,
    ResetAfter,
    append,
    corrupt,
    drop,
    hang,
    no_range,
    reset_after,
    status,
)
from tests.registry.push import push_oci_layout
from tests.registry.server import RegistryServer

NOISE = 256 * 1024  # incompressible: the app layer's blob is about this big
CUT = 100_000  # where connections break inside the app layer's blob
CLI_TIMEOUT = 60.0  # a run that hangs fails the test instead of the whole session
# Time for the client to consume what it was sent before a RST makes its kernel drop it.
PAUSE = 0.3


# --- images -------------------------------------------------------------------------------


def _metadata(name: str, version: str) -> Entry:
    site = "usr/lib/python3.11/site-packages"
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    return Entry(f"{site}/{name}-{version}.dist-info/METADATA", text.encode())


def _base_layer() -> bytes:
    return layer_tar(
        [
            Entry("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
            _metadata("basepkg", "1.0"),
        ]
    )


def _app_layer(seed: int, package: str) -> bytes:
    # The package sits after the noise: a resumed download that got the offset wrong would
    # not find it (and would not verify either).
    noise = random.Random(seed).randbytes(NOISE)
    return layer_tar([Entry("app/noise.bin", noise), _metadata(package, f"{seed}.0")])


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltImage, BuiltImage]:
    """Two gzip OCI layouts sharing their base layer byte for byte; their app layers differ."""
    root = tmp_path_factory.mktemp("fault-images")
    one = build_image(root / "one", [_base_layer(), _app_layer(1, "apppkg")], fmt="oci-dir")
    two = build_image(root / "two", [_base_layer(), _app_layer(2, "otherpkg")], fmt="oci-dir")
    assert one.layers[0].blob_digest == two.layers[0].blob_digest
    assert one.layers[1].blob_digest != two.layers[1].blob_digest
    return one, two


@pytest.fixture(scope="module")
def image(images: tuple[BuiltImage, BuiltImage]) -> BuiltImage:
    return images[0]


def _comparable(sbom: Any) -> dict[str, Any]:
    """An SBOM (model or JSON document) without its target, which names where it was read."""
    doc = msgspec.to_builtins(sbom) if not isinstance(sbom, dict) else sbom
    return {k: v for k, v in doc.items() if k != "target"}


@pytest.fixture(scope="module")
def expected(image: BuiltImage) -> dict[str, Any]:
    """The SBOM of ``image`` read from its OCI layout: what every registry scan must give."""
    doc = _comparable(api.sbom(f"oci-dir:{image.path}"))
    names = {p["name"] for p in doc["packages"]}
    assert {"basepkg", "apppkg"} <= names, names  # else the comparisons prove little
    return doc


@pytest.fixture
def repo(registry: RegistryServer, image: BuiltImage, unique_repo: str) -> str:
    """``image`` pushed straight to the registry (not through the proxy) as ``:v1``."""
    push_oci_layout(image.path, registry, unique_repo, "v1")
    return unique_repo


def _app(image: BuiltImage) -> BuiltLayer:
    layer = image.layers[1]
    assert layer.blob_size > NOISE  # incompressible noise: big enough to cut mid-way
    return layer


# --- helpers ------------------------------------------------------------------------------


def _options(*, retries: int = 2, timeout: float = 5.0) -> ScanOptions:
    policy = RetryPolicy(retries=retries, backoff=0.05, max_backoff=0.2)
    settings = RegistrySettings(
        retry=policy, read_timeout=timeout, connect_timeout=timeout, use_docker_config=False
    )
    return ScanOptions(registry=settings)


def _scan(proxy: FaultProxy, repo: str, **kwargs: Any) -> dict[str, Any]:
    return _comparable(api.sbom(f"{proxy.host}/{repo}:v1", _options(**kwargs)))


def _blob_gets(proxy: FaultProxy, digest: str) -> list[ProxiedRequest]:
    return proxy.matching("GET", f"/blobs/{digest}$")


def _range_start(req: ProxiedRequest) -> int | None:
    if req.range is None:
        return None
    assert req.range.startswith("bytes=") and req.range.endswith("-"), req.range
    return int(req.range[len("bytes=") : -1])


def _cli(
    sandbox: Sandbox, ref: str, *extra: str, cache: Path | None = None, retries: int = 2
) -> Run:
    args = ["sbom", ref, "-f", "json", "-q", "--no-docker-config"]
    args += ["--registry-retries", str(retries), *extra]
    args += ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    return run_cli(*args, sandbox=sandbox, timeout=CLI_TIMEOUT)


def _wait_finished(reqs: list[ProxiedRequest], timeout: float = 10.0) -> None:
    """The proxy records a response's end in its own thread, a moment after the client."""
    deadline = time.monotonic() + timeout
    while any(r.finished is None for r in reqs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(r.finished is not None for r in reqs)


def _cached(cache: Path, diff_id: str) -> bool:
    """Whether the CLI (every analyzer) has a result for that layer in ``cache``."""
    layers = LayerCache(cache)
    fp = analyzer_registry.fingerprint(analyzer_registry.create(None))
    return layers.get(layers.key(diff_id, fp)) is not None


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


# --- broken connections -------------------------------------------------------------------


@pytest.mark.parametrize("breaks", [1, 3])
def test_reset_mid_blob_resumes_with_range(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    expected: dict[str, Any],
    breaks: int,
) -> None:
    app = _app(image)
    # Each break comes after progress, so even retries=1 must not give up on 3 of them.
    fault_proxy.inject(
        reset_after(CUT // breaks, pause=PAUSE), method="GET", path=app.blob_digest, times=breaks
    )
    assert _scan(fault_proxy, repo, retries=1) == expected

    gets = _blob_gets(fault_proxy, app.blob_digest)
    assert len(gets) == breaks + 1, [(r.range, r.status) for r in gets]
    assert all(isinstance(r.fault, ResetAfter) and r.aborted for r in gets[:-1])
    assert gets[0].range is None
    offset = 0
    for before, after in itertools.pairwise(gets):
        start = _range_start(after)
        # Resumed where the client had got to: after some progress, within what was sent.
        assert start is not None and offset < start <= offset + before.bytes_sent
        assert after.status == 206
        offset = start
    assert gets[-1].bytes_sent == app.blob_size - offset


def test_reset_mid_blob_cli(
    fault_proxy: FaultProxy, repo: str, image: BuiltImage, sandbox: Sandbox
) -> None:
    app = _app(image)
    fault_proxy.inject(reset_after(CUT, pause=PAUSE), method="GET", path=app.blob_digest)
    run = _cli(sandbox, f"{fault_proxy.host}/{repo}:v1")
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr
    local = _cli(sandbox, f"oci-dir:{image.path}")
    assert _comparable(run.json()) == _comparable(local.json())
    gets = _blob_gets(fault_proxy, app.blob_digest)
    assert len(gets) == 2 and gets[1].status == 206
    start = _range_start(gets[1])
    assert start is not None and 0 < start <= CUT


def test_resume_when_registry_ignores_range(
    fault_proxy: FaultProxy, repo: str, image: BuiltImage, expected: dict[str, Any]
) -> None:
    app = _app(image)
    path = app.blob_digest
    fault_proxy.inject(reset_after(CUT, pause=PAUSE), method="GET", path=path)
    fault_proxy.inject(no_range(), method="GET", path=path)
    assert _scan(fault_proxy, repo) == expected

    gets = _blob_gets(fault_proxy, path)
    assert len(gets) == 2
    start = _range_start(gets[1])
    assert start is not None and start > 0  # asked for the rest...
    assert isinstance(gets[1].fault, NoRange)
    assert gets[1].status == 200 and gets[1].bytes_sent == app.blob_size  # ...got it all


@pytest.mark.parametrize(
    ("fault", "resumed_at"),
    [
        pytest.param(reset_after(CUT, rst=False), CUT, id="fin-mid-body"),
        pytest.param(drop(rst=False), None, id="closed-before-answering"),
        pytest.param(drop(), None, id="reset-before-answering"),
    ],
)
def test_truncated_body_is_resumed(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    expected: dict[str, Any],
    fault: Fault,
    resumed_at: int | None,
) -> None:
    app = _app(image)
    fault_proxy.inject(fault, method="GET", path=app.blob_digest)
    assert _scan(fault_proxy, repo) == expected
    gets = _blob_gets(fault_proxy, app.blob_digest)
    assert len(gets) == 2 and gets[0].fault == fault and gets[0].aborted
    # A FIN loses nothing: every byte sent was read, so the range starts exactly there.
    assert _range_start(gets[1]) == resumed_at
    assert gets[1].status == (206 if resumed_at else 200)


@pytest.mark.parametrize("what", ["manifest", "config"])
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(reset_after(100, rst=False), id="cut"),
        pytest.param(hang(30, after_bytes=100), id="stalled"),
    ],
)
def test_broken_document_body_is_fetched_again(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    expected: dict[str, Any],
    what: str,
    fault: Fault,
) -> None:
    path = r"/manifests/v1$" if what == "manifest" else f"/blobs/{image.config_digest}$"
    fault_proxy.inject(fault, method="GET", path=path)
    assert _scan(fault_proxy, repo, timeout=0.5) == expected
    reqs = fault_proxy.matching("GET", path)
    assert len(reqs) == 2 and reqs[0].fault == fault
    assert reqs[1].range is None and reqs[1].bytes_sent == reqs[1].content_length


# --- throttling and server errors ---------------------------------------------------------


def _target_path(what: str, image: BuiltImage) -> str:
    if what == "ping":
        return r"^/v2/$"
    return r"/manifests/v1$" if what == "manifest" else f"/blobs/{_app(image).blob_digest}$"


@pytest.mark.parametrize("what", ["manifest", "blob"])
def test_429_waits_for_retry_after(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    expected: dict[str, Any],
    what: str,
) -> None:
    path = _target_path(what, image)
    fault_proxy.inject(status(429, {"Retry-After": "1"}), method="GET", path=path)
    assert _scan(fault_proxy, repo) == expected
    reqs = fault_proxy.matching("GET", path)
    assert [r.status for r in reqs] == [429, 200]
    first_end = reqs[0].finished
    assert first_end is not None
    # The backoff alone would be ~0.05 s: only Retry-After explains a 1 s gap.
    gap = reqs[1].started - first_end
    assert 0.95 <= gap < 5, gap


def test_unparsable_retry_after_is_ignored(
    fault_proxy: FaultProxy, repo: str, expected: dict[str, Any]
) -> None:
    # Sent as the latin-1 byte 0xB2, which httpx decodes to '²'.
    fault_proxy.inject(status(429, {"Retry-After": "\u00b2"}), method="GET", path="/manifests/")
    assert _scan(fault_proxy, repo) == expected
    assert [r.status for r in fault_proxy.matching("GET", "/manifests/")] == [429, 200]


@pytest.mark.parametrize("what", ["ping", "manifest", "blob"])
def test_500_then_success(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    expected: dict[str, Any],
    what: str,
) -> None:
    path = _target_path(what, image)
    fault_proxy.inject(status(500, {}), method="GET", path=path, times=2)
    assert _scan(fault_proxy, repo, retries=2) == expected
    assert [r.status for r in fault_proxy.matching("GET", path)] == [500, 500, 200]


@pytest.mark.parametrize("what", ["manifest", "blob"])
def test_500_forever_gives_up_in_one_line(
    fault_proxy: FaultProxy, repo: str, image: BuiltImage, sandbox: Sandbox, what: str
) -> None:
    path = _target_path(what, image)
    body = b'{"errors":[{"code":"UNKNOWN","message":"storage on fire"}]}'
    fault_proxy.inject(status(500, {}, body), method="GET", path=path, times=1000)
    run = _cli(sandbox, f"{fault_proxy.host}/{repo}:v1", retries=2)
    line = assert_one_line_error(run, 2, "HTTP 500", "gave up after 3 attempts")
    assert repo in line
    assert [r.status for r in fault_proxy.matching("GET", path)] == [500] * 3


# --- corrupt blobs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset",
    [
        # The gzip header's OS byte: decompression does not care, only the digest tells.
        pytest.param(9, id="gzip-header"),
        # The middle of the deflate data: the gzip CRC may object before the digest does.
        pytest.param(None, id="deflate-data"),
    ],
)
def test_corrupt_blob_fails_and_caches_nothing(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    sandbox: Sandbox,
    offset: int | None,
) -> None:
    app = _app(image)
    cache = sandbox.root / "layer-cache"
    ref = f"{fault_proxy.host}/{repo}:v1"
    fault_proxy.inject(corrupt(offset), method="GET", path=app.blob_digest, times=1000)
    bad = _cli(sandbox, ref, cache=cache)
    line = assert_one_line_error(bad, 2, app.diff_id)
    assert not _cached(cache, app.diff_id)
    # Only the intact base layer may have been cached (it is walked in its own worker).
    assert len(cache_entries(cache)) <= 1

    fault_proxy.clear_faults()
    fault_proxy.clear_requests()
    good = _cli(sandbox, ref, cache=cache)
    assert good.returncode == 0, good.describe()
    names = {p["name"] for p in good.json()["packages"]}
    assert {"basepkg", "apppkg"} <= names
    assert _blob_gets(fault_proxy, app.blob_digest)  # not served from the cache
    assert _cached(cache, app.diff_id) and len(cache_entries(cache)) == 2

    assert "digest mismatch" in line and app.blob_digest in line


# --- stalls -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "after_bytes",
    [pytest.param(None, id="before-headers"), pytest.param(CUT, id="mid-body")],
)
def test_stall_once_is_retried(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    expected: dict[str, Any],
    after_bytes: int | None,
) -> None:
    app = _app(image)
    fault_proxy.inject(hang(30, after_bytes=after_bytes), method="GET", path=app.blob_digest)
    started = time.monotonic()
    assert _scan(fault_proxy, repo, timeout=0.5) == expected
    assert time.monotonic() - started < 10  # the read timeout cut the stall short
    gets = _blob_gets(fault_proxy, app.blob_digest)
    assert len(gets) == 2
    start = _range_start(gets[1])
    if after_bytes is None:
        assert start is None and gets[1].status == 200
    else:
        assert start is not None and 0 < start <= after_bytes and gets[1].status == 206


@pytest.mark.parametrize(
    "after_bytes",
    [pytest.param(None, id="before-headers"), pytest.param(0, id="after-headers")],
)
def test_stall_forever_times_out_in_one_line(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    sandbox: Sandbox,
    after_bytes: int | None,
) -> None:
    app = _app(image)
    fault_proxy.inject(
        hang(60, after_bytes=after_bytes), method="GET", path=app.blob_digest, times=1000
    )
    started = time.monotonic()
    run = _cli(sandbox, f"{fault_proxy.host}/{repo}:v1", "--registry-timeout", "1", retries=1)
    elapsed = time.monotonic() - started
    assert_one_line_error(run, 2, "timed out", "gave up after 2 attempts", app.blob_digest)
    assert len(_blob_gets(fault_proxy, app.blob_digest)) == 2
    assert elapsed < 20, elapsed  # 2 attempts of 1 s, a short backoff, start-up


# --- oversized blobs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "extra", "announce", "needle"),
    [
        pytest.param("layer", 1000, True, "the registry sends", id="layer-announced"),
        pytest.param("layer", 256 << 20, False, "more than the", id="layer-endless"),
        pytest.param("config", 256 << 20, False, "over the limit", id="config-endless"),
    ],
)
def test_more_bytes_than_the_manifest_says_is_an_error(
    fault_proxy: FaultProxy,
    repo: str,
    image: BuiltImage,
    sandbox: Sandbox,
    what: str,
    extra: int,
    announce: bool,
    needle: str,
) -> None:
    digest = _app(image).blob_digest if what == "layer" else image.config_digest
    fault_proxy.inject(
        append(extra, announce=announce), method="GET", path=f"/blobs/{digest}$", times=1000
    )
    run = _cli(sandbox, f"{fault_proxy.host}/{repo}:v1")
    assert_one_line_error(run, 2, needle, digest)
    gets = _blob_gets(fault_proxy, digest)
    assert len(gets) == 1  # not retried: the registry is not flaky, it is wrong
    _wait_finished(gets)
    # The client hung up early: at most its limit plus what the sockets buffered was sent.
    limit = _app(image).blob_size if what == "layer" else DEFAULT_LIMITS.max_metadata_bytes
    assert gets[0].bytes_sent < limit + (16 << 20), gets[0].bytes_sent


# --- layer cache --------------------------------------------------------------------------


def _fetched_blobs(proxy: FaultProxy) -> set[str]:
    return {r.path.rsplit("/", 1)[1] for r in proxy.matching("GET", r"/blobs/")}


def test_layer_cache_spares_downloads(
    fault_proxy: FaultProxy,
    registry: RegistryServer,
    repo: str,
    images: tuple[BuiltImage, BuiltImage],
    sandbox: Sandbox,
) -> None:
    one, two = images
    cache = sandbox.root / "layer-cache"

    def scan(ref: str) -> Run:
        return _cli(sandbox, f"{fault_proxy.host}/{ref}", cache=cache)

    first = scan(f"{repo}:v1")
    assert first.returncode == 0, first.describe()
    assert _fetched_blobs(fault_proxy) == {one.config_digest, *one.blob_digests}
    assert len(cache_entries(cache)) == 2

    fault_proxy.clear_requests()
    second = scan(f"{repo}:v1")
    assert second.json() == first.json()
    paths = [(r.method, r.path) for r in fault_proxy.requests]
    assert paths == [
        ("GET", "/v2/"),
        ("GET", f"/v2/{repo}/manifests/v1"),
        ("GET", f"/v2/{repo}/blobs/{one.config_digest}"),
    ]

    push_oci_layout(two.path, registry, repo, "v2")
    fault_proxy.clear_requests()
    third = scan(f"{repo}:v2")
    assert third.returncode == 0, third.describe()
    names = {p["name"] for p in third.json()["packages"]}
    assert {"basepkg", "otherpkg"} <= names and "apppkg" not in names
    # The shared base layer came from the cache: only the new layer was downloaded.
    assert _fetched_blobs(fault_proxy) == {two.config_digest, two.layers[1].blob_digest}
    assert len(cache_entries(cache)) == 3
