"""Round trips: images written by tests.images.builder in every format, read back by the
sources (explicit scheme and detected), every layer opener hashed against the builder."""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullscan.image.detect import open_source
from hullscan.image.layer import LayerStream
from hullscan.image.limits import Limits
from hullscan.image.source import ImageInfo
from tests.images.builder import BuiltImage, Entry, build_image, layer_tar

L1 = layer_tar([Entry("etc", kind="dir"), Entry("etc/os-release", b"ID=test\nVERSION_ID=1\n")])
L2 = layer_tar([Entry("usr/bin/tool", b"#!/bin/sh\necho hi\n", mode=0o755)])
L3 = layer_tar([Entry("etc/os-release", kind="whiteout"), Entry("big", b"\0" * 70_000)])

HISTORY = [
    {"created_by": "ADD rootfs.tar /", "created": "2024-01-01T00:00:00Z"},
    {"created_by": "ENV A=1", "empty_layer": True},
    {"created_by": 'CMD ["sh"]', "empty_layer": True},
    {"created_by": "RUN install tool", "comment": "buildkit.dockerfile.v0"},
    {"created_by": "LABEL x=y", "empty_layer": True},
    {"created_by": "RUN rm os-release", "created": "2024-01-03T00:00:00Z"},
    {"created_by": "USER app", "empty_layer": True},
]
EXPECTED_STEPS = ["ADD rootfs.tar /", "RUN install tool", "RUN rm os-release"]
CONFIG_EXTRA = {
    "created": "2024-05-06T07:08:09Z",
    "config": {
        "User": "app",
        "Env": ["PATH=/bin", "LANG=C.UTF-8", 7],
        "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
        "Labels": {"org.opencontainers.image.title": "demo", "not-a-string": 1},
    },
}

FORMATS = [
    pytest.param("docker-archive", False, id="docker-archive-classic"),
    pytest.param("docker-archive-oci", False, id="docker-archive-oci"),
    pytest.param("docker-archive", True, id="docker-archive-classic-gzip-outer"),
    pytest.param("docker-archive-oci", True, id="docker-archive-oci-gzip-outer"),
    pytest.param("oci-dir", False, id="oci-dir"),
    pytest.param("oci-archive", False, id="oci-archive"),
    pytest.param("oci-archive", True, id="oci-archive-gzip-outer"),
]
SCHEME = {
    "docker-archive": "docker-archive",
    "docker-archive-oci": "docker-archive",
    "oci-dir": "oci-dir",
    "oci-archive": "oci-archive",
}


def _build(tmp_path: Path, fmt: str, gzip_outer: bool, compression: str = "gzip") -> BuiltImage:
    name = "img" if fmt == "oci-dir" else "img.tar"
    return build_image(
        tmp_path / name,
        [L1, L2, L3],
        fmt=fmt,  # type: ignore[arg-type]
        compression=compression,  # type: ignore[arg-type]
        history=HISTORY,
        config_extra=CONFIG_EXTRA,
        gzip_outer=gzip_outer,
        repo_tag="example.com/team/demo:1.0",
    )


@contextlib.contextmanager
def resolved(spec: str, platform: str | None = None) -> Iterator[ImageInfo]:
    source = open_source(spec, limits=Limits())
    try:
        yield source.resolve(platform)
    finally:
        source.close()


def _read_all(info: ImageInfo) -> list[bytes]:
    out = []
    for spec in info.layers:
        with spec.opener.open() as f:
            out.append(f.read())
    return out


def _check(info: ImageInfo, img: BuiltImage, spec: str, scheme: str) -> None:
    t = info.target
    assert t.name == spec
    assert t.kind == scheme
    assert t.config_digest == img.config_digest
    assert t.image_id == img.config_digest
    assert t.manifest_digest == img.manifest_digest  # None for classic docker-archive
    assert (t.os, t.architecture, t.variant) == ("linux", "amd64", None)
    assert t.created == "2024-05-06T07:08:09Z"
    assert t.user == "app"
    assert t.env == ("PATH=/bin", "LANG=C.UTF-8")
    assert t.exposed_ports == ("53/udp", "8080/tcp")
    assert t.labels == {"org.opencontainers.image.title": "demo"}
    if scheme == "docker-archive":
        assert t.repo_tags == ("example.com/team/demo:1.0",)
    else:
        assert t.repo_tags == ("1.0",)
    assert len(info.layers) == 3
    assert [s.ref.index for s in info.layers] == [0, 1, 2]
    assert [s.ref.diff_id for s in info.layers] == img.diff_ids
    assert [s.ref.created_by for s in info.layers] == EXPECTED_STEPS
    assert info.layers[0].ref.created == "2024-01-01T00:00:00Z"
    assert info.layers[1].ref.comment == "buildkit.dockerfile.v0"
    assert info.layers[2].ref.created == "2024-01-03T00:00:00Z"
    assert info.config["config"]["User"] == "app"  # type: ignore[index]
    assert info.warnings == ()
    for layer, built in zip(info.layers, img.layers, strict=True):
        assert layer.size == built.blob_size
        assert layer.ref.size == built.blob_size
        if img.fmt == "docker-archive":
            assert layer.blob_digest is None  # classic layer.tar: no blob digest known
            assert layer.media_type is None
        else:
            assert layer.blob_digest == built.blob_digest
            assert layer.ref.digest == built.blob_digest
            assert layer.media_type == built.media_type
    # Every opener returns exactly the stored blob bytes.
    for data, built in zip(_read_all(info), img.layers, strict=True):
        assert len(data) == built.blob_size
        assert "sha256:" + hashlib.sha256(data).hexdigest() == built.blob_digest


@pytest.mark.parametrize(("fmt", "gzip_outer"), FORMATS)
@pytest.mark.parametrize("explicit", [True, False], ids=["scheme", "detected"])
def test_roundtrip_every_format(tmp_path: Path, fmt: str, gzip_outer: bool, explicit: bool) -> None:
    img = _build(tmp_path, fmt, gzip_outer)
    scheme = SCHEME[fmt]
    spec = f"{scheme}:{img.path}" if explicit else str(img.path)
    source = open_source(spec, limits=Limits())
    try:
        assert source.kind == scheme
        info = source.resolve(None)
        _check(info, img, spec, scheme)
    finally:
        source.close()


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
@pytest.mark.parametrize(("fmt", "gzip_outer"), FORMATS)
def test_roundtrip_layers_verify_through_layer_stream(
    tmp_path: Path, fmt: str, gzip_outer: bool, compression: str
) -> None:
    img = _build(tmp_path, fmt, gzip_outer, compression)
    with resolved(str(img.path)) as info:
        for spec, built, raw in zip(info.layers, img.layers, [L1, L2, L3], strict=True):
            with spec.opener.open() as f:
                stream = LayerStream(
                    f,
                    name="layer",
                    limits=Limits(),
                    expected_diff_id=spec.ref.diff_id,
                    expected_blob_digest=spec.blob_digest,
                )
                tar = b"".join(stream.chunks())
            assert tar == raw
            assert stream.diff_id == built.diff_id
            assert stream.blob_digest == built.blob_digest
            assert stream.compression == compression


@pytest.mark.parametrize(("fmt", "gzip_outer"), FORMATS)
def test_openers_pickle_and_reopen(tmp_path: Path, fmt: str, gzip_outer: bool) -> None:
    img = _build(tmp_path, fmt, gzip_outer)
    with resolved(str(img.path)) as info:
        for spec, built in zip(info.layers, img.layers, strict=True):
            opener = pickle.loads(pickle.dumps(spec.opener))
            with opener.open() as f:
                assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == built.blob_digest


def test_gzip_outer_temp_file_removed_on_close(tmp_path: Path) -> None:
    img = _build(tmp_path, "docker-archive", True)
    work = tmp_path / "work"
    work.mkdir()
    source = open_source(f"docker-archive:{img.path}", limits=Limits(), work_dir=work)
    info = source.resolve(None)
    assert len(list(work.iterdir())) == 1  # the decompressed archive
    assert _read_all(info)
    source.close()
    assert list(work.iterdir()) == []
    source.close()  # idempotent


def test_history_without_empty_layers_aligned_one_to_one(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [L1, L2], fmt="oci-dir")
    with resolved(f"oci-dir:{img.path}") as info:
        assert [s.ref.created_by for s in info.layers] == ["RUN step 1", "RUN step 2"]


def test_history_mismatch_warns_and_attributes_nothing(tmp_path: Path) -> None:
    history = [{"created_by": "only one"}, {"created_by": "ENV", "empty_layer": True}]
    img = build_image(tmp_path / "img", [L1, L2], fmt="oci-dir", history=history)
    with resolved(f"oci-dir:{img.path}") as info:
        assert [s.ref.created_by for s in info.layers] == [None, None]
        assert len(info.warnings) == 1
        assert "1 non-empty entries for 2 layers" in info.warnings[0]


def test_empty_image_zero_layers(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img.tar", [], fmt="oci-archive")
    with resolved(str(img.path)) as info:
        assert info.layers == ()
        assert info.target.config_digest == img.config_digest


def test_large_layer_from_path(tmp_path: Path) -> None:
    big = tmp_path / "big.tar"
    big.write_bytes(layer_tar([Entry("blob", bytes(range(256)) * 20_000)]))
    img = build_image(tmp_path / "img.tar", [big], fmt="docker-archive-oci", compression="zstd")
    with resolved(str(img.path)) as info:
        (data,) = _read_all(info)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == img.layers[0].blob_digest
    assert info.layers[0].ref.diff_id == "sha256:" + hashlib.sha256(big.read_bytes()).hexdigest()
