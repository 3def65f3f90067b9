"""open_source: schemes, PATH:REF splitting, kind detection, registry-reference errors."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from hullscan.errors import ImageError, SourceNotFoundError, UsageError
from hullscan.image.archive import DockerArchiveSource
from hullscan.image.detect import looks_like_reference, open_source, split_path_ref
from hullscan.image.limits import Limits
from hullscan.image.oci import OciArchiveSource, OciDirSource
from hullscan.image.reference import parse_reference
from hullscan.image.registry.source import RegistrySource
from hullscan.image.rootfs import RootfsSource
from tests.images.builder import Entry, build_image, layer_tar

L1 = layer_tar([Entry("etc/os-release", b"ID=test\n")])


def kind_of(spec: str) -> str:
    src = open_source(spec, limits=Limits())
    try:
        return src.kind
    finally:
        src.close()


@pytest.mark.parametrize(
    ("fmt", "gzip_outer", "kind", "cls"),
    [
        ("docker-archive", False, "docker-archive", DockerArchiveSource),
        ("docker-archive", True, "docker-archive", DockerArchiveSource),
        ("docker-archive-oci", False, "docker-archive", DockerArchiveSource),
        ("docker-archive-oci", True, "docker-archive", DockerArchiveSource),
        ("oci-archive", False, "oci-archive", OciArchiveSource),
        ("oci-archive", True, "oci-archive", OciArchiveSource),
        ("oci-dir", False, "oci-dir", OciDirSource),
    ],
)
def test_detect_without_scheme(
    tmp_path: Path, fmt: str, gzip_outer: bool, kind: str, cls: type
) -> None:
    out = tmp_path / ("img" if fmt == "oci-dir" else "img.tar")
    img = build_image(out, [L1], fmt=fmt, gzip_outer=gzip_outer)  # type: ignore[arg-type]
    src = open_source(str(img.path))
    try:
        assert isinstance(src, cls)
        assert src.kind == kind
        info = src.resolve(None)
        assert info.target.name == str(img.path)
        assert info.target.config_digest == img.config_digest
    finally:
        src.close()


def test_detect_plain_directory_is_rootfs(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    src = open_source(str(tmp_path))
    assert isinstance(src, RootfsSource)
    assert src.resolve(None).target.name == str(tmp_path)


@pytest.mark.parametrize(
    ("scheme", "cls"),
    [
        ("docker-archive", DockerArchiveSource),
        ("oci-archive", OciArchiveSource),
        ("oci-dir", OciDirSource),
        ("oci", OciDirSource),
        ("dir", RootfsSource),
    ],
)
def test_explicit_schemes(tmp_path: Path, scheme: str, cls: type) -> None:
    fmt = {"docker-archive": "docker-archive", "oci-archive": "oci-archive"}.get(scheme, "oci-dir")
    out = tmp_path / ("img.tar" if fmt != "oci-dir" else "img")
    build_image(out, [L1], fmt=fmt)  # type: ignore[arg-type]
    src = open_source(f"{scheme}:{out}")
    try:
        assert isinstance(src, cls)
        assert src.resolve(None).target.name == f"{scheme}:{out}"
    finally:
        src.close()


def test_path_containing_colons(tmp_path: Path) -> None:
    d = tmp_path / "a:b"
    d.mkdir()
    img = build_image(d / "img:1.tar", [L1], fmt="oci-archive")
    assert kind_of(f"oci-archive:{img.path}") == "oci-archive"
    assert kind_of(str(img.path)) == "oci-archive"


def test_split_path_ref(tmp_path: Path) -> None:
    f = tmp_path / "x.tar"
    f.write_bytes(b"")
    assert split_path_ref(str(f)) == (f, None)
    assert split_path_ref(f"{f}:repo:tag") == (f, "repo:tag")
    assert split_path_ref(f"{f}:@1") == (f, "@1")
    assert split_path_ref(f"{tmp_path}/nope:tag") == (Path(f"{tmp_path}/nope:tag"), None)


@pytest.mark.parametrize(
    "spec",
    [
        "alpine",
        "alpine:3.20",
        "docker.io/library/alpine:latest",
        "ghcr.io/org/app@sha256:" + "a" * 64,
        "localhost:5000/team/app:v1",
    ],
)
def test_registry_reference_opens_registry_source(spec: str) -> None:
    # Nothing is fetched until resolve(): the source only holds the normalized reference.
    src = open_source(spec)
    try:
        assert isinstance(src, RegistrySource)
        assert src.kind == "registry" and src.name == spec
        assert str(src.ref) == str(parse_reference(spec))
    finally:
        src.close()


@pytest.mark.parametrize(
    ("spec", "ref"),
    [
        ("docker://alpine", "docker.io/library/alpine"),
        ("registry:alpine:3", "docker.io/library/alpine:3"),
        ("registry:localhost:5000/a/b@sha256:" + "b" * 64,
         "localhost:5000/a/b@sha256:" + "b" * 64),
    ],
)  # fmt: skip
def test_registry_schemes(spec: str, ref: str) -> None:
    src = open_source(spec)
    try:
        assert isinstance(src, RegistrySource) and str(src.ref) == ref
    finally:
        src.close()


def test_registry_scheme_beats_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("alpine:3").write_text("not an image")
    src = open_source("registry:alpine:3")
    try:
        assert isinstance(src, RegistrySource)
    finally:
        src.close()


@pytest.mark.parametrize("spec", ["registry:", "docker://", "registry:UPPER/case"])
def test_bad_registry_references(spec: str) -> None:
    with pytest.raises(UsageError):
        open_source(spec)


def test_docker_daemon_scheme() -> None:
    with pytest.raises(UsageError, match="docker save"):
        open_source("docker-daemon:alpine:latest")


@pytest.mark.parametrize("spec", ["./nope.tar", "/definitely/not/here", "nope.tar.gz", "../x"])
def test_missing_paths(spec: str) -> None:
    with pytest.raises(SourceNotFoundError, match="no such file or directory"):
        open_source(spec)


@pytest.mark.parametrize("spec", ["", "docker-archive:", "oci-dir:", "dir:"])
def test_empty_specs(spec: str) -> None:
    with pytest.raises(UsageError):
        open_source(spec)


def test_missing_path_with_scheme(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="no such file"):
        open_source(f"docker-archive:{tmp_path}/nope.tar")


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty file"),
        (b"hello world\n" * 100, "not a tar archive"),
        (b"\x00" * 2048, "not a tar archive"),
        (gzip.compress(b"hello\n" * 200), "not a tar archive"),
        (gzip.compress(b""), "empty"),
        (_tar({"README": b"x", "a/b": b"y"}), "neither manifest.json nor oci-layout"),
        (_tar({"index.json": b"{}"}), "neither manifest.json nor oci-layout"),
    ],
    ids=["empty", "text", "zeros", "gzip-text", "gzip-empty", "random-tar", "index-only"],
)
def test_not_an_image(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "thing"
    path.write_bytes(content)
    with pytest.raises(ImageError) as ei:
        open_source(str(path))
    assert type(ei.value) is SourceNotFoundError
    msg = str(ei.value)
    assert msg.startswith(f"{path}: not a docker-archive or OCI image")
    assert why in msg and "\n" not in msg


def test_detection_temp_file_cleaned_when_not_an_image(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = tmp_path / "x.tgz"
    path.write_bytes(gzip.compress(_tar({"README": b"x"})))
    with pytest.raises(SourceNotFoundError):
        open_source(str(path), work_dir=work)
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine", True),
        ("alpine:3.20", True),
        ("ghcr.io/a/b:1", True),
        ("image.tar", False),
        ("./alpine", False),
        ("/abs", False),
        ("Upper/Case", False),
        ("a b", False),
    ],
)
def test_looks_like_reference(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected
