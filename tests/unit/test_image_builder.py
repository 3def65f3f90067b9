"""The test image builder itself, checked with the stdlib only (it must be honest)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
import zstandard

from tests.images import corrupt
from tests.images.builder import (
    Entry,
    build_image,
    build_multiplatform_oci,
    layer_tar,
    rootfs_layer_tar,
    write_image,
    write_multiplatform_oci,
)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_layer_tar_entries() -> None:
    data = layer_tar(
        [
            Entry("etc", kind="dir"),
            Entry("/etc/passwd", b"root:x:0:0\n", mode=0o600, uid=1, gid=2),
            Entry("bin/sh", kind="symlink", target="busybox"),
            Entry("bin/ash", kind="hardlink", target="bin/busybox"),
            Entry("usr/share/doc", kind="whiteout"),
            Entry("var/cache", kind="opaque"),
        ]
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        ms = {m.name: m for m in tf}
    assert ms["etc"].isdir() and ms["etc"].mode == 0o755
    assert ms["etc/passwd"].size == 11 and ms["etc/passwd"].mode == 0o600
    assert (ms["etc/passwd"].uid, ms["etc/passwd"].gid) == (1, 2)
    assert ms["bin/sh"].issym() and ms["bin/sh"].linkname == "busybox"
    assert ms["bin/ash"].islnk()
    assert "usr/share/.wh.doc" in ms
    assert "var/cache/.wh..wh..opq" in ms
    assert layer_tar([Entry("a", b"x")]) == layer_tar([Entry("a", b"x")])  # deterministic


def test_layer_tar_link_needs_target() -> None:
    with pytest.raises(ValueError, match="needs a target"):
        layer_tar([Entry("x", kind="symlink")])


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_oci_dir_blobs_named_by_digest(tmp_path: Path, compression: str) -> None:
    layer = layer_tar([Entry("f", b"hello")])
    img = build_image(tmp_path / "img", [layer], fmt="oci-dir", compression=compression)  # type: ignore[arg-type]
    blobs = tmp_path / "img" / "blobs" / "sha256"
    for p in blobs.iterdir():
        assert sha(p.read_bytes()) == f"sha256:{p.name}"
    stored = (blobs / img.layers[0].blob_digest.split(":")[1]).read_bytes()
    raw = {
        "none": lambda b: b,
        "gzip": gzip.decompress,
        "zstd": lambda b: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(b)).read(),
    }[compression](stored)
    assert raw == layer
    assert img.layers[0].diff_id == sha(layer)
    config = json.loads((blobs / img.config_digest.split(":")[1]).read_bytes())
    assert config["rootfs"]["diff_ids"] == [sha(layer)]
    assert config["history"] == [{"created": "2024-01-02T03:04:05Z", "created_by": "RUN step 1"}]
    index = json.loads((tmp_path / "img" / "index.json").read_bytes())
    assert index["manifests"][0]["digest"] == img.manifest_digest
    assert json.loads((tmp_path / "img" / "oci-layout").read_bytes()) == {
        "imageLayoutVersion": "1.0.0"
    }


def test_classic_docker_archive_layout(tmp_path: Path) -> None:
    layers = [layer_tar([Entry("a", b"1")]), layer_tar([Entry("b", b"2")])]
    img = build_image(tmp_path / "d.tar", layers, fmt="docker-archive", compression="none")
    with tarfile.open(img.path) as tf:
        names = set(tf.getnames())
        manifest = json.loads(tf.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config_bytes = tf.extractfile(manifest[0]["Config"]).read()  # type: ignore[union-attr]
        first = tf.extractfile(manifest[0]["Layers"][0]).read()  # type: ignore[union-attr]
    assert manifest[0]["RepoTags"] == ["hullscan-test:latest"]
    assert manifest[0]["Config"] == img.config_digest.split(":")[1] + ".json"
    assert sha(config_bytes) == img.config_digest
    assert first == layers[0]
    assert all(p.endswith("/layer.tar") for p in manifest[0]["Layers"])
    assert "repositories" in names and "index.json" not in names
    assert img.manifest_digest is None


def test_docker_archive_oci_layout(tmp_path: Path) -> None:
    img = build_image(tmp_path / "d.tar", [layer_tar([Entry("a")])], fmt="docker-archive-oci")
    with tarfile.open(img.path) as tf:
        names = set(tf.getnames())
        manifest = json.loads(tf.extractfile("manifest.json").read())  # type: ignore[union-attr]
        index = json.loads(tf.extractfile("index.json").read())  # type: ignore[union-attr]
    assert {"index.json", "oci-layout", "manifest.json"} <= names
    assert manifest[0]["Layers"] == [img.layers[0].member]
    assert manifest[0]["Config"] == img.config_member
    ann = index["manifests"][0]["annotations"]
    assert ann["io.containerd.image.name"] == "docker.io/library/hullscan-test:latest"
    assert ann["org.opencontainers.image.ref.name"] == "latest"


def test_gzip_outer_and_path_layers(tmp_path: Path) -> None:
    big = tmp_path / "big.tar"
    big.write_bytes(layer_tar([Entry("blob", os.urandom(300_000))]))
    out = write_image(tmp_path / "i.tar.gz", [big], fmt="oci-archive", gzip_outer=True)
    raw = gzip.decompress(out.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        assert "index.json" in tf.getnames()


def test_config_extra_and_platform(tmp_path: Path) -> None:
    img = build_image(
        tmp_path / "img",
        [],
        fmt="oci-dir",
        platform=("linux", "arm", "v7"),
        config_extra={"config": {"User": "nobody"}, "author": "me"},
    )
    assert img.config["config"]["User"] == "nobody"
    assert img.config["config"]["Cmd"] == ["/bin/sh"]
    assert img.config["author"] == "me"
    assert (img.config["architecture"], img.config["variant"]) == ("arm", "v7")


def test_rootfs_layer_tar(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("box\n")
    os.symlink("hostname", root / "etc" / "link")
    data = rootfs_layer_tar(root)
    assert isinstance(data, bytes)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        ms = {m.name: m for m in tf}
    assert list(ms) == ["etc", "etc/hostname", "etc/link"]
    assert ms["etc/link"].issym()
    out = rootfs_layer_tar(root, tmp_path / "root.tar")
    assert out == tmp_path / "root.tar" and out.read_bytes() == data


def test_multiplatform(tmp_path: Path) -> None:
    a, b = layer_tar([Entry("a")]), layer_tar([Entry("b")])
    built = build_multiplatform_oci(
        tmp_path / "mp",
        [(("linux", "amd64", None), [a]), (("linux", "arm64", "v8"), [b])],
        attestations=True,
    )
    index = json.loads((tmp_path / "mp" / "index.json").read_bytes())
    assert index["manifests"][0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    nested = json.loads(
        (tmp_path / "mp" / "blobs" / "sha256" / str(built.index_digest).split(":")[1]).read_bytes()
    )
    platforms = [m["platform"] for m in nested["manifests"]]
    assert platforms == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "unknown", "architecture": "unknown"},
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
        {"os": "unknown", "architecture": "unknown"},
    ]
    path = write_multiplatform_oci(
        tmp_path / "mp.tar", [(("linux", "amd64", None), [a])], archive=True
    )
    assert tarfile.is_tarfile(path)


def test_corrupt_helpers_roundtrip(tmp_path: Path) -> None:
    img = build_image(
        tmp_path / "img.tar.gz", [layer_tar([Entry("a")])], fmt="oci-archive", gzip_outer=True
    )
    before = img.path.read_bytes()
    f = corrupt.ImageFiles(img.path)
    assert f.gzipped and "index.json" in f.members
    f.save()
    assert gzip.decompress(img.path.read_bytes()) != b""
    corrupt.edit_config(img.path, lambda c: c.update(author="x"))
    f = corrupt.ImageFiles(img.path)
    manifest = f.json(f.manifest_name())
    config = f.read(f.blob_name(manifest["config"]["digest"]))
    assert sha(config) == manifest["config"]["digest"]
    assert json.loads(config)["author"] == "x"
    assert before != img.path.read_bytes()
