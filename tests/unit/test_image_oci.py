"""oci-dir / oci-archive: index resolution, platforms, refs, media types, hostile layouts."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from hullscan.errors import (
    DigestMismatchError,
    ImageError,
    LimitExceededError,
    ManifestError,
    SourceNotFoundError,
    UsageError,
)
from hullscan.image.limits import Limits
from hullscan.image.oci import OciArchiveSource, OciDirSource, OciLayoutSource
from hullscan.image.source import ImageInfo
from tests.images import corrupt
from tests.images.builder import (
    BuiltImage,
    Entry,
    build_image,
    build_multiplatform_oci,
    layer_tar,
)

L1 = layer_tar([Entry("etc/os-release", b"ID=test\n")])
L2 = layer_tar([Entry("usr/bin/tool", b"tool", mode=0o755)])
L_ARM = layer_tar([Entry("etc/arch", b"arm64\n")])
AMD64 = ("linux", "amd64", None)
ARM64 = ("linux", "arm64", "v8")
KINDS = ["oci-dir", "oci-archive"]


def source_for(path: Path, ref: str | None = None, **kw: object) -> OciLayoutSource:
    if path.is_dir():
        return OciDirSource(path, ref=ref, **kw)  # type: ignore[arg-type]
    return OciArchiveSource(path, ref=ref, **kw)  # type: ignore[arg-type]


def resolve(
    path: Path, platform: str | None = None, ref: str | None = None, **kw: object
) -> ImageInfo:
    src = source_for(path, ref, **kw)
    try:
        return src.resolve(platform)
    finally:
        src.close()


def expect(exc_type: type[ImageError], path: Path, fn, *args: object, **kw: object) -> str:
    with pytest.raises(ImageError) as ei:
        fn(*args, **kw)
    assert type(ei.value) is exc_type, f"{type(ei.value).__name__}: {ei.value}"
    msg = str(ei.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def build(tmp_path: Path, kind: str = "oci-dir", **kw: object) -> BuiltImage:
    out = tmp_path / ("img" if kind == "oci-dir" else "img.tar")
    return build_image(out, [L1, L2], fmt=kind, **kw)  # type: ignore[arg-type]


# --- multi-platform -----------------------------------------------------------------------


@pytest.mark.parametrize("archive", [False, True], ids=["dir", "archive"])
@pytest.mark.parametrize("nested", [True, False], ids=["nested-index", "flat-index"])
@pytest.mark.parametrize(
    ("platform", "want"),
    [
        (None, 0),
        ("linux/amd64", 0),
        ("linux/x86_64", 0),
        ("linux/arm64", 1),
        ("linux/arm64/v8", 1),
        ("linux/aarch64", 1),
    ],
)
def test_multiplatform_selects_each(
    tmp_path: Path, archive: bool, nested: bool, platform: str | None, want: int
) -> None:
    built = build_multiplatform_oci(
        tmp_path / ("mp.tar" if archive else "mp"),
        [(AMD64, [L1]), (ARM64, [L_ARM, L2])],
        archive=archive,
        nested=nested,
        attestations=True,
    )
    info = resolve(built.path, platform)
    img = built.images[want]
    assert info.target.manifest_digest == img.manifest_digest
    assert info.target.config_digest == img.config_digest
    assert [s.ref.diff_id for s in info.layers] == img.diff_ids
    assert info.target.architecture == img.platform[1]
    assert info.target.variant == img.platform[2]
    assert info.target.repo_tags == ("latest",)
    for spec, layer in zip(info.layers, img.layers, strict=True):
        with spec.opener.open() as f:
            assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == layer.blob_digest


@pytest.mark.parametrize("archive", [False, True], ids=["dir", "archive"])
def test_multiplatform_missing_platform_lists_available(tmp_path: Path, archive: bool) -> None:
    built = build_multiplatform_oci(
        tmp_path / ("mp.tar" if archive else "mp"),
        [(AMD64, [L1]), (ARM64, [L_ARM])],
        archive=archive,
        attestations=True,
    )
    msg = expect(ManifestError, built.path, resolve, built.path, "linux/s390x")
    assert "linux/s390x" in msg
    assert "available: linux/amd64, linux/arm64/v8" in msg
    assert "unknown" not in msg  # attestations are not images


def test_multiplatform_arm_only_default_is_amd64(tmp_path: Path) -> None:
    built = build_multiplatform_oci(
        tmp_path / "mp", [(ARM64, [L1]), (("linux", "arm", "v7"), [L2])]
    )
    msg = expect(ManifestError, built.path, resolve, built.path)
    assert "linux/amd64" in msg and "linux/arm/v7" in msg


def test_arm_v7_request_accepts_v6_image(tmp_path: Path) -> None:
    built = build_multiplatform_oci(
        tmp_path / "mp", [(AMD64, [L1]), (("linux", "arm", "v6"), [L2])]
    )
    assert resolve(built.path, "linux/arm/v7").target.variant == "v6"


def test_single_platform_image_explicit_mismatch(tmp_path: Path) -> None:
    built = build_multiplatform_oci(tmp_path / "mp", [(ARM64, [L1])])
    assert resolve(built.path).target.architecture == "arm64"  # lone image, no --platform
    msg = expect(ManifestError, built.path, resolve, built.path, "linux/amd64")
    assert "available: linux/arm64/v8" in msg


def test_lone_manifest_without_platform_checked_against_config(tmp_path: Path) -> None:
    img = build(tmp_path, platform=ARM64)
    assert resolve(img.path, "linux/arm64").target.architecture == "arm64"
    msg = expect(ManifestError, img.path, resolve, img.path, "linux/amd64")
    assert "linux/arm64/v8" in msg


def test_invalid_platform_is_usage_error(tmp_path: Path) -> None:
    img = build(tmp_path)
    with pytest.raises(UsageError):
        resolve(img.path, "linux")


def test_attestations_only(tmp_path: Path) -> None:
    built = build_multiplatform_oci(
        tmp_path / "mp", [(AMD64, [L1])], nested=False, attestations=True
    )
    corrupt.edit_index(built.path, lambda i: i["manifests"].pop(0))
    assert "only attestations" in expect(ManifestError, built.path, resolve, built.path)


# --- refs ---------------------------------------------------------------------------------


def _two_ref_layout(tmp_path: Path) -> tuple[Path, BuiltImage, BuiltImage]:
    a = build_image(tmp_path / "a", [L1], fmt="oci-dir", repo_tag="app:1.0")
    b = build_image(tmp_path / "b", [L2], fmt="oci-dir", repo_tag="app:2.0")
    for p in (b.path / "blobs" / "sha256").iterdir():
        (a.path / "blobs" / "sha256" / p.name).write_bytes(p.read_bytes())
    ia = json.loads((a.path / "index.json").read_text())
    ib = json.loads((b.path / "index.json").read_text())
    ia["manifests"] += ib["manifests"]
    (a.path / "index.json").write_text(json.dumps(ia))
    return a.path, a, b


def test_select_by_ref_name(tmp_path: Path) -> None:
    path, a, b = _two_ref_layout(tmp_path)
    assert resolve(path, ref="1.0").target.config_digest == a.config_digest
    info = resolve(path, ref="2.0")
    assert info.target.config_digest == b.config_digest
    assert info.target.repo_tags == ("2.0",)
    assert info.target.name == f"oci-dir:{path}:2.0"
    assert resolve(path, ref=str(b.manifest_digest)).target.config_digest == b.config_digest


def test_select_by_ref_via_spec(tmp_path: Path) -> None:
    from hullscan.image.detect import open_source

    path, _, b = _two_ref_layout(tmp_path)
    src = open_source(f"oci-dir:{path}:2.0")
    try:
        assert src.resolve(None).target.config_digest == b.config_digest
    finally:
        src.close()


def test_unknown_ref_lists_available(tmp_path: Path) -> None:
    path, _, _ = _two_ref_layout(tmp_path)
    msg = expect(ManifestError, path, resolve, path, ref="3.0")
    assert "1.0, 2.0" in msg


def test_several_images_without_platform_need_ref(tmp_path: Path) -> None:
    path, _, _ = _two_ref_layout(tmp_path)
    msg = expect(ManifestError, path, resolve, path)
    assert "oci-dir:PATH:REF" in msg and "1.0" in msg


# --- symlinks -----------------------------------------------------------------------------


def test_symlinked_blob_inside_layout_is_followed(tmp_path: Path) -> None:
    img = build(tmp_path)
    blob = img.path / "blobs" / "sha256" / img.layers[0].blob_digest.split(":")[1]
    (img.path / "store").mkdir()
    os.replace(blob, img.path / "store" / "layer0")
    os.symlink("../../store/layer0", blob)
    info = resolve(img.path)
    with info.layers[0].opener.open() as f:
        assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == img.layers[0].blob_digest


@pytest.mark.parametrize("which", ["layer", "config", "manifest"])
def test_symlinked_blob_outside_layout_is_refused(tmp_path: Path, which: str) -> None:
    img = build(tmp_path)
    digest = {
        "layer": img.layers[0].blob_digest,
        "config": img.config_digest,
        "manifest": str(img.manifest_digest),
    }[which]
    outside = tmp_path / "outside"
    outside.write_bytes((img.path / "blobs" / "sha256" / digest.split(":")[1]).read_bytes())
    corrupt.symlink_blob(img.path, digest, outside)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "outside the layout" in msg


def test_symlinked_index_outside_layout_is_refused(tmp_path: Path) -> None:
    img = build(tmp_path)
    outside = tmp_path / "index.json"
    outside.write_bytes((img.path / "index.json").read_bytes())
    (img.path / "index.json").unlink()
    os.symlink(outside, img.path / "index.json")
    assert "outside the layout" in expect(ManifestError, img.path, resolve, img.path)


def test_dangling_and_looping_symlinks(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.symlink_blob(img.path, img.layers[0].blob_digest, "loop")
    os.symlink("loop", img.path / "blobs" / "sha256" / "loop")
    with pytest.raises(ManifestError):
        resolve(img.path)


def test_blob_is_a_fifo(tmp_path: Path) -> None:
    img = build(tmp_path)
    blob = img.path / "blobs" / "sha256" / img.layers[0].blob_digest.split(":")[1]
    blob.unlink()
    os.mkfifo(blob)
    assert "not a regular file" in expect(ManifestError, img.path, resolve, img.path)


# --- hostile ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_missing_layer_blob(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.drop_blob(img.path, img.layers[1].blob_digest)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert img.layers[1].blob_digest in msg and "missing" in msg


@pytest.mark.parametrize("kind", KINDS)
def test_missing_manifest_blob(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.drop_blob(img.path, str(img.manifest_digest))
    assert str(img.manifest_digest) in expect(ManifestError, img.path, resolve, img.path)


@pytest.mark.parametrize("kind", KINDS)
def test_manifest_points_at_missing_config(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.point_manifest_at_missing_config(img.path)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "config blob" in msg and "missing" in msg


@pytest.mark.parametrize("kind", KINDS)
def test_config_digest_mismatch(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.edit_config(img.path, lambda c: c.update(created="1999-01-01T00:00:00Z"), rehash=False)
    msg = expect(DigestMismatchError, img.path, resolve, img.path)
    assert img.config_digest in msg and "digest mismatch" in msg


@pytest.mark.parametrize("kind", KINDS)
def test_manifest_digest_mismatch(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.edit_manifest(img.path, lambda m: m.update(annotations={"a": "b"}), rehash=False)
    msg = expect(DigestMismatchError, img.path, resolve, img.path)
    assert str(img.manifest_digest) in msg and "digest mismatch" in msg


def test_manifest_size_mismatch(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_index(img.path, lambda i: i["manifests"][0].update(size=5))
    assert "size mismatch" in expect(DigestMismatchError, img.path, resolve, img.path)


def test_layer_size_mismatch(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_manifest(img.path, lambda m: m["layers"][0].update(size=1))
    expect(DigestMismatchError, img.path, resolve, img.path)


@pytest.mark.parametrize("kind", KINDS)
def test_diff_ids_count_mismatch(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.edit_config(img.path, lambda c: c["rootfs"]["diff_ids"].append("sha256:" + "0" * 64))
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "3 diff_ids" in msg and "2 layers" in msg


@pytest.mark.parametrize("kind", KINDS)
def test_oversized_manifest(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    corrupt.edit_manifest(img.path, lambda m: m.update(annotations={"pad": "x" * 8000}))
    msg = expect(
        LimitExceededError, img.path, resolve, img.path, limits=Limits(max_metadata_bytes=4096)
    )
    assert "max_metadata_bytes" in msg


def test_oversized_manifest_without_declared_size(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_manifest(img.path, lambda m: m.update(annotations={"pad": "x" * 8000}))
    corrupt.edit_index(img.path, lambda i: i["manifests"][0].pop("size"))
    expect(LimitExceededError, img.path, resolve, img.path, limits=Limits(max_metadata_bytes=4096))


def test_oversized_index(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_index(img.path, lambda i: i.update(annotations={"pad": "x" * 8000}))
    msg = expect(
        LimitExceededError, img.path, resolve, img.path, limits=Limits(max_metadata_bytes=4096)
    )
    assert "index.json" in msg


def test_too_many_layers(tmp_path: Path) -> None:
    img = build(tmp_path)
    assert "max_layers" in expect(
        LimitExceededError, img.path, resolve, img.path, limits=Limits(max_layers=1)
    )


SCHEMA1 = {
    "schemaVersion": 1,
    "name": "library/hello",
    "tag": "latest",
    "architecture": "amd64",
    "fsLayers": [{"blobSum": "sha256:" + "a" * 64}],
    "history": [{"v1Compatibility": "{}"}],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("declared", [True, False], ids=["media-type-declared", "sniffed"])
def test_schema1_manifest(tmp_path: Path, kind: str, declared: bool) -> None:
    img = build(tmp_path, kind)
    data = json.dumps(SCHEMA1).encode()
    corrupt.set_manifest_bytes(img.path, data)
    media_type = "application/vnd.docker.distribution.manifest.v1+prettyjws" if declared else None

    def fn(i: dict) -> None:
        if media_type:
            i["manifests"][0]["mediaType"] = media_type
        else:
            i["manifests"][0].pop("mediaType")

    corrupt.edit_index(img.path, fn)
    assert "schema 1" in expect(ManifestError, img.path, resolve, img.path)


@pytest.mark.parametrize("kind", KINDS)
def test_cosign_signature_manifest(tmp_path: Path, kind: str) -> None:
    img = build(tmp_path, kind)
    sig = b'{"critical":{"identity":{"docker-reference":"x"}}}'
    sig_digest = "sha256:" + hashlib.sha256(sig).hexdigest()

    def fn(m: dict) -> None:
        m["layers"] = [
            {
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": sig_digest,
                "size": len(sig),
                "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ..."},
            }
        ]

    corrupt.edit_manifest(img.path, fn)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "application/vnd.dev.cosign.simplesigning.v1+json" in msg and "cosign" in msg


def test_sbom_attestation_artifact(tmp_path: Path) -> None:
    img = build(tmp_path)

    def fn(m: dict) -> None:
        m["artifactType"] = "application/spdx+json"
        m["config"]["mediaType"] = "application/vnd.oci.empty.v1+json"

    corrupt.edit_manifest(img.path, fn)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "application/spdx+json" in msg and "not an image" in msg


def test_config_media_type_not_image_config(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_manifest(
        img.path, lambda m: m["config"].update(mediaType="application/vnd.in-toto+json")
    )
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "config media type" in msg and "in-toto" in msg


def test_encrypted_layer(tmp_path: Path) -> None:
    img = build(tmp_path)
    mt = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
    corrupt.edit_manifest(img.path, lambda m: m["layers"][0].update(mediaType=mt))
    assert "encrypted" in expect(ManifestError, img.path, resolve, img.path)


def test_artifact_manifest_media_type_in_index(tmp_path: Path) -> None:
    img = build(tmp_path)
    mt = "application/vnd.oci.artifact.manifest.v1+json"
    corrupt.edit_index(img.path, lambda i: i["manifests"][0].update(mediaType=mt))
    assert mt in expect(ManifestError, img.path, resolve, img.path)


def test_docker_v2_manifest_accepted(tmp_path: Path) -> None:
    img = build(tmp_path)
    v2 = "application/vnd.docker.distribution.manifest.v2+json"

    def fn(m: dict) -> None:
        m["mediaType"] = v2
        m["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
        for layer in m["layers"]:
            layer["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    corrupt.edit_manifest(img.path, fn)
    corrupt.edit_index(img.path, lambda i: i["manifests"][0].update(mediaType=v2))
    info = resolve(img.path)
    assert [s.media_type for s in info.layers] == [
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    ] * 2


@pytest.mark.parametrize(
    "digest",
    ["sha256:../../../../etc/passwd", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:ABC", 5],
    ids=["traversal", "unsupported-algorithm", "bad-hex", "not-a-string"],
)
def test_bad_digest_in_manifest(tmp_path: Path, digest: object) -> None:
    img = build(tmp_path)
    corrupt.edit_manifest(img.path, lambda m: m["layers"][0].update(digest=digest))
    assert "digest" in expect(ManifestError, img.path, resolve, img.path)


def test_bad_diff_id_in_config(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_config(
        img.path, lambda c: c["rootfs"]["diff_ids"].__setitem__(0, "sha512:" + "a" * 128)
    )
    assert "sha256" in expect(ManifestError, img.path, resolve, img.path)


@pytest.mark.parametrize(
    ("layout", "why", "exc"),
    [
        (None, "no oci-layout", SourceNotFoundError),
        (b'{"imageLayoutVersion": "2.0.0"}', "imageLayoutVersion", ManifestError),
        (b"[]", "imageLayoutVersion", ManifestError),
        (b"{", "invalid JSON", ManifestError),
    ],
)
def test_oci_layout_file(
    tmp_path: Path, layout: bytes | None, why: str, exc: type[ImageError]
) -> None:
    img = build(tmp_path)
    if layout is None:
        (img.path / "oci-layout").unlink()
    else:
        (img.path / "oci-layout").write_bytes(layout)
    assert why in expect(exc, img.path, resolve, img.path)


@pytest.mark.parametrize(
    ("index", "why"),
    [
        (b"", "invalid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"schemaVersion": 2}', "'manifests'"),
        (b'{"schemaVersion": 2, "manifests": []}', "no manifests"),
        (b'{"schemaVersion": 3, "manifests": []}', "schemaVersion"),
        (b'{"manifests": [{"digest": "sha256:00"}]}', "invalid sha256 digest"),
        (b'{"manifests": [{"digest": "sha256:' + b"0" * 64 + b'", "size": -1}]}', "size"),
    ],
)
def test_malformed_index(tmp_path: Path, index: bytes, why: str) -> None:
    img = build(tmp_path)
    (img.path / "index.json").write_bytes(index)
    assert why in expect(ManifestError, img.path, resolve, img.path)


def test_missing_index(tmp_path: Path) -> None:
    img = build(tmp_path)
    (img.path / "index.json").unlink()
    assert "index.json" in expect(ManifestError, img.path, resolve, img.path)


def test_nested_index_digest_mismatch(tmp_path: Path) -> None:
    built = build_multiplatform_oci(tmp_path / "mp", [(AMD64, [L1]), (ARM64, [L2])])
    assert built.index_digest is not None
    blob = built.path / "blobs" / "sha256" / built.index_digest.split(":")[1]
    data = json.loads(blob.read_text())
    data["annotations"] = {"x": "tampered"}
    blob.write_text(json.dumps(data))
    corrupt.edit_index(built.path, lambda i: i["manifests"][0].pop("size"))
    assert built.index_digest in expect(DigestMismatchError, built.path, resolve, built.path)


def test_text_file_as_oci_archive(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_text("not a tar\n" * 100)
    assert "not a tar archive" in expect(SourceNotFoundError, path, resolve, path)


def test_docker_archive_as_oci_archive(tmp_path: Path) -> None:
    img = build_image(tmp_path / "d.tar", [L1], fmt="docker-archive")
    assert "no oci-layout" in expect(SourceNotFoundError, img.path, resolve, img.path)


def test_missing_paths(tmp_path: Path) -> None:
    expect(SourceNotFoundError, tmp_path / "nope", OciDirSource, tmp_path / "nope")
    expect(SourceNotFoundError, tmp_path / "nope.tar", OciArchiveSource, tmp_path / "nope.tar")
    f = tmp_path / "file"
    f.write_text("x")
    assert "oci-archive:" in expect(SourceNotFoundError, f, OciDirSource, f)
    assert "oci-dir:" in expect(SourceNotFoundError, tmp_path, OciArchiveSource, tmp_path)


def test_cosign_signature_tag_next_to_image_is_skipped(tmp_path: Path) -> None:
    """cosign keeps ``sha256-<hex>.sig`` next to the image; without a ref the image wins."""
    path, a, b = _two_ref_layout(tmp_path)
    sig_tag = f"sha256-{'c' * 64}.sig"

    def fn(index: dict) -> None:
        index["manifests"][1]["annotations"]["org.opencontainers.image.ref.name"] = sig_tag

    corrupt.edit_index(path, fn)
    assert resolve(path).target.config_digest == a.config_digest
    assert resolve(path, ref=sig_tag).target.config_digest == b.config_digest
