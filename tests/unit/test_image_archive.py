"""docker-archive: classic and Docker >= 25 layouts, image selection, hostile archives."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from hullscan.errors import (
    DigestMismatchError,
    ImageError,
    LayerFormatError,
    LimitExceededError,
    ManifestError,
    SourceNotFoundError,
)
from hullscan.image.archive import (
    DockerArchiveSource,
    DockerImageEntry,
    parse_docker_manifest,
    select_entry,
)
from hullscan.image.layer import LayerStream
from hullscan.image.limits import Limits
from tests.images import corrupt
from tests.images.builder import BuiltImage, Entry, build_image, layer_tar

L1 = layer_tar([Entry("etc/os-release", b"ID=test\n")])
L2 = layer_tar([Entry("usr/bin/tool", b"tool", mode=0o755)])
FMTS = ["docker-archive", "docker-archive-oci"]


def build(tmp_path: Path, fmt: str = "docker-archive", **kw: object) -> BuiltImage:
    return build_image(tmp_path / "img.tar", [L1, L2], fmt=fmt, **kw)  # type: ignore[arg-type]


def resolve(path: Path, ref: str | None = None, platform: str | None = None, **kw: object):
    src = DockerArchiveSource(path, ref=ref, **kw)  # type: ignore[arg-type]
    try:
        return src.resolve(platform)
    finally:
        src.close()


def expect(exc_type: type[ImageError], path: Path, fn, *args: object, **kw: object) -> str:
    """``fn`` raises exactly ``exc_type`` with a one-line message naming ``path``."""
    with pytest.raises(ImageError) as ei:
        fn(*args, **kw)
    assert type(ei.value) is exc_type, f"{type(ei.value).__name__}: {ei.value}"
    msg = str(ei.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def tar_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


# --- selection ----------------------------------------------------------------------------


def _two_image_archive(tmp_path: Path) -> tuple[Path, BuiltImage, BuiltImage]:
    a = build_image(tmp_path / "a.tar", [L1], fmt="docker-archive", repo_tag="app:1")
    b = build_image(tmp_path / "b.tar", [L2], fmt="docker-archive", repo_tag="lib/other:2")
    fa, fb = corrupt.ImageFiles(a.path), corrupt.ImageFiles(b.path)
    for name, m in fb.members.items():
        if name not in ("manifest.json", "repositories"):
            fa.members[name] = m
    fa.write_json("manifest.json", fa.json("manifest.json") + fb.json("manifest.json"))
    out = fa.save(tmp_path / "both.tar")
    return out, a, b


def test_several_images_first_by_default_with_warning(tmp_path: Path) -> None:
    path, a, _ = _two_image_archive(tmp_path)
    info = resolve(path)
    assert info.target.config_digest == a.config_digest
    assert info.target.repo_tags == ("app:1",)
    assert len(info.warnings) == 1
    assert "2 images" in info.warnings[0] and "lib/other:2" in info.warnings[0]


@pytest.mark.parametrize(
    "ref", ["lib/other:2", "docker.io/lib/other:2", "@1"], ids=["tag", "docker-io-prefix", "index"]
)
def test_select_image_by_tag_or_index(tmp_path: Path, ref: str) -> None:
    path, _, b = _two_image_archive(tmp_path)
    info = resolve(path, ref)
    assert info.target.config_digest == b.config_digest
    assert info.target.name == f"docker-archive:{path}:{ref}"
    assert info.warnings == ()


def test_select_image_via_spec_suffix(tmp_path: Path) -> None:
    from hullscan.image.detect import open_source

    path, _, b = _two_image_archive(tmp_path)
    src = open_source(f"docker-archive:{path}:lib/other:2")
    try:
        assert src.resolve(None).target.config_digest == b.config_digest
    finally:
        src.close()


@pytest.mark.parametrize("ref", ["nope:1", "@2", "@x"])
def test_select_unknown_image(tmp_path: Path, ref: str) -> None:
    path, _, _ = _two_image_archive(tmp_path)
    msg = expect(ManifestError, path, resolve, path, ref)
    assert "app:1" in msg or "@0..@1" in msg


def test_latest_tag_implied() -> None:
    entries = (DockerImageEntry(config="c.json", repo_tags=("alpine:latest",), layers=()),)
    assert select_entry(entries, "alpine", where="m")[0] is entries[0]
    assert select_entry(entries, "docker.io/library/alpine:latest", where="m")[0] is entries[0]


# --- layouts ------------------------------------------------------------------------------


def test_classic_symlinked_duplicate_layer(tmp_path: Path) -> None:
    """docker save stores a layer shared by two entries once and symlinks the other copy."""
    img = build_image(tmp_path / "img.tar", [L1, L1], fmt="docker-archive")
    first, second = (layer.member for layer in img.layers)
    corrupt.link_member(img.path, second, f"../{first}")
    info = resolve(img.path)
    for spec in info.layers:
        with spec.opener.open() as f:
            assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == img.layers[0].blob_digest


def test_classic_hardlinked_layer(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img.tar", [L1, L1], fmt="docker-archive")
    first, second = (layer.member for layer in img.layers)
    corrupt.link_member(img.path, second, first, hard=True)
    info = resolve(img.path)
    assert [s.size for s in info.layers] == [img.layers[0].blob_size] * 2


def test_classic_symlink_escaping_archive(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.link_member(img.path, img.layers[1].member, "../../../../etc/passwd")
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "outside the archive" in msg


def test_classic_config_not_named_by_digest_is_hashed(tmp_path: Path) -> None:
    img = build(tmp_path)
    f = corrupt.ImageFiles(img.path)
    f.members["config.json"] = f.members.pop(img.config_member)
    manifest = f.json("manifest.json")
    manifest[0]["Config"] = "config.json"
    f.write_json("manifest.json", manifest)
    f.save()
    assert resolve(img.path).target.config_digest == img.config_digest


def test_tampered_layer_detected_while_streaming(tmp_path: Path) -> None:
    img = build(tmp_path, fmt="docker-archive-oci", compression="none")
    layer = img.layers[0]
    tampered = bytearray(corrupt.ImageFiles(img.path).read(layer.member))
    tampered[600] ^= 0xFF  # same size: resolve() cannot tell, streaming must
    corrupt.replace_member(img.path, layer.member, bytes(tampered))
    info = resolve(img.path)
    spec = info.layers[0]
    assert spec.blob_digest == layer.blob_digest
    with spec.opener.open() as raw:
        stream = LayerStream(
            raw,
            name="layer 0",
            limits=Limits(),
            expected_diff_id=spec.ref.diff_id,
            expected_blob_digest=spec.blob_digest,
        )
        with pytest.raises(DigestMismatchError):
            for _ in stream.chunks():
                pass


def test_explicit_platform_must_match(tmp_path: Path) -> None:
    img = build(tmp_path, platform=("linux", "arm64", "v8"))
    assert resolve(img.path, platform="linux/arm64").target.architecture == "arm64"
    assert resolve(img.path).target.architecture == "arm64"  # no --platform: take it
    msg = expect(ManifestError, img.path, resolve, img.path, platform="linux/amd64")
    assert "linux/arm64/v8" in msg


# --- hostile ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FMTS)
def test_missing_layer_blob(tmp_path: Path, fmt: str) -> None:
    img = build(tmp_path, fmt=fmt)
    corrupt.drop_member(img.path, img.layers[1].member)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "missing" in msg
    if fmt == "docker-archive-oci":
        assert img.layers[1].blob_digest in msg
    else:
        assert img.layers[1].member in msg


@pytest.mark.parametrize("fmt", FMTS)
def test_missing_config(tmp_path: Path, fmt: str) -> None:
    img = build(tmp_path, fmt=fmt)
    corrupt.drop_member(img.path, img.config_member)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert img.config_member in msg


@pytest.mark.parametrize("fmt", FMTS)
def test_config_digest_mismatch(tmp_path: Path, fmt: str) -> None:
    img = build(tmp_path, fmt=fmt)
    corrupt.edit_config(img.path, lambda c: c.update(created="2000-01-01T00:00:00Z"), rehash=False)
    msg = expect(DigestMismatchError, img.path, resolve, img.path)
    assert img.config_digest in msg and "digest mismatch" in msg


def test_manifest_digest_mismatch_docker_oci(tmp_path: Path) -> None:
    img = build(tmp_path, fmt="docker-archive-oci")
    corrupt.edit_manifest(img.path, lambda m: m.update(annotations={"x": "y"}), rehash=False)
    msg = expect(DigestMismatchError, img.path, resolve, img.path)
    assert str(img.manifest_digest) in msg and "digest mismatch" in msg


@pytest.mark.parametrize("fmt", FMTS)
def test_diff_ids_count_mismatch(tmp_path: Path, fmt: str) -> None:
    img = build(tmp_path, fmt=fmt)
    corrupt.edit_config(img.path, lambda c: c["rootfs"]["diff_ids"].pop())
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "1 diff_ids" in msg and "2 layers" in msg


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "/etc/passwd", "a/../../b", "", 7],
    ids=["dotdot", "absolute", "inner-dotdot", "empty", "not-a-string"],
)
def test_unsafe_layer_path(tmp_path: Path, bad: object) -> None:
    img = build(tmp_path)

    def fn(m: list[dict[str, object]]) -> None:
        m[0]["Layers"] = [bad, img.layers[1].member]

    corrupt.edit_docker_manifest(img.path, fn)
    msg = expect(ManifestError, img.path, resolve, img.path)
    assert "Layers[0]" in msg


def test_unsafe_config_path(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_docker_manifest(img.path, lambda m: m[0].update(Config="../x.json"))
    assert "Config" in expect(ManifestError, img.path, resolve, img.path)


def test_invalid_blob_name_in_layers(tmp_path: Path) -> None:
    img = build(tmp_path, fmt="docker-archive-oci")
    corrupt.edit_docker_manifest(
        img.path, lambda m: m[0]["Layers"].__setitem__(0, "blobs/sha256/xyz")
    )
    assert "not a valid sha256 digest" in expect(ManifestError, img.path, resolve, img.path)


def test_oversized_manifest_json(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_docker_manifest(img.path, lambda m: m[0].update(Pad="x" * 5000))
    msg = expect(
        LimitExceededError, img.path, resolve, img.path, limits=Limits(max_metadata_bytes=4096)
    )
    assert "manifest.json" in msg and "max_metadata_bytes" in msg


def test_oversized_config(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_config(img.path, lambda c: c.update(pad="x" * 5000))
    expect(LimitExceededError, img.path, resolve, img.path, limits=Limits(max_metadata_bytes=4096))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"[", "invalid JSON"),
        (b"{}", "expected a JSON list"),
        (b"[]", "lists no images"),
        (b"[1]", "expected a JSON object"),
        (b'[{"Config": "c.json", "Layers": "x"}]', "Layers must be a list"),
        (b'[{"Config": "c.json", "Layers": [], "RepoTags": [1]}]', "RepoTags"),
    ],
)
def test_malformed_manifest_json(tmp_path: Path, data: bytes, why: str) -> None:
    img = build(tmp_path)
    corrupt.replace_member(img.path, "manifest.json", data)
    assert why in expect(ManifestError, img.path, resolve, img.path)


def test_config_not_json(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.replace_member(img.path, "config.json", b"not json")
    corrupt.edit_docker_manifest(img.path, lambda m: m[0].update(Config="config.json"))
    assert "invalid JSON" in expect(ManifestError, img.path, resolve, img.path)


def test_config_without_rootfs(tmp_path: Path) -> None:
    img = build(tmp_path)
    corrupt.edit_config(img.path, lambda c: c.pop("rootfs"))
    assert "rootfs" in expect(ManifestError, img.path, resolve, img.path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not an image\n" * 40)
    msg = expect(SourceNotFoundError, path, resolve, path)
    assert "not a docker-archive or OCI image" in msg


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    path.write_bytes(b"")
    assert "empty" in expect(SourceNotFoundError, path, resolve, path)


def test_random_tar(tmp_path: Path) -> None:
    path = tmp_path / "random.tar"
    path.write_bytes(tar_of({"README": b"hi", "src/main.c": b"int main;"}))
    msg = expect(SourceNotFoundError, path, resolve, path)
    assert "no manifest.json" in msg


def test_oci_archive_given_as_docker_archive(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img.tar", [L1], fmt="oci-archive")
    assert "oci-archive:" in expect(SourceNotFoundError, img.path, resolve, img.path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.tar"
    assert "no such file" in expect(SourceNotFoundError, path, DockerArchiveSource, path)


def test_directory_given(tmp_path: Path) -> None:
    assert "directory" in expect(SourceNotFoundError, tmp_path, DockerArchiveSource, tmp_path)


def test_member_count_limit(tmp_path: Path) -> None:
    img = build(tmp_path)
    msg = expect(
        LimitExceededError, img.path, resolve, img.path, limits=Limits(max_archive_members=3)
    )
    assert "max_archive_members" in msg


def test_truncated_archive(tmp_path: Path) -> None:
    img = build(tmp_path, compression="none")
    data = img.path.read_bytes()
    # Cut inside the last layer's data: its member is listed but incomplete.
    f = corrupt.ImageFiles(img.path)
    order = list(f.members)
    assert order  # members exist
    with tarfile.open(img.path) as tf:
        last = max(
            (ti for ti in tf if ti.name.endswith("layer.tar")), key=lambda ti: ti.offset_data
        )
        cut = last.offset_data + last.size // 2
    img.path.write_bytes(data[:cut])
    with pytest.raises(ImageError) as ei:
        resolve(img.path)
    assert str(img.path) in str(ei.value)


def test_gzip_outer_corrupt(tmp_path: Path) -> None:
    img = build(tmp_path, gzip_outer=True)
    data = img.path.read_bytes()
    img.path.write_bytes(data[: len(data) // 2])
    expect(LayerFormatError, img.path, resolve, img.path)


def test_gzip_outer_bounded(tmp_path: Path) -> None:
    img = build(tmp_path, gzip_outer=True)
    limits = Limits(max_image_bytes=4096)
    assert "max_image_bytes" in expect(
        LimitExceededError, img.path, resolve, img.path, limits=limits
    )


def test_gzip_of_text_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "x.tar.gz"
    path.write_bytes(gzip.compress(b"just text\n" * 100))
    assert "not a tar" in expect(SourceNotFoundError, path, resolve, path)


def test_pax_header_bounded(tmp_path: Path) -> None:
    path = tmp_path / "pax.tar"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("manifest.json")
        ti.pax_headers = {"comment": "x" * 10_000}
        ti.size = 2
        tf.addfile(ti, io.BytesIO(b"[]"))
    path.write_bytes(buf.getvalue())
    limits = Limits(max_tar_header_bytes=1024)
    expect(LimitExceededError, path, resolve, path, limits=limits)


def test_index_json_disagreeing_with_manifest_json(tmp_path: Path) -> None:
    img = build(tmp_path, fmt="docker-archive-oci")
    corrupt.edit_docker_manifest(img.path, lambda m: m[0]["Layers"].reverse())
    corrupt.edit_config(img.path, lambda c: c["rootfs"]["diff_ids"].reverse())
    assert "disagrees" in expect(ManifestError, img.path, resolve, img.path)


# --- parser unit tests --------------------------------------------------------------------


def test_parse_docker_manifest_ok() -> None:
    doc = json.loads('[{"Config":"a.json","RepoTags":null,"Layers":["./x/layer.tar"]}]')
    (entry,) = parse_docker_manifest(doc, where="m")
    assert entry == DockerImageEntry(config="a.json", repo_tags=(), layers=("x/layer.tar",))


# --- outer archive variants ---------------------------------------------------------------


def _rewrite_tar(src: Path, dest: Path, *, fmt: int, prefix: str = "") -> None:
    with tarfile.open(src) as tin, tarfile.open(dest, "w", format=fmt) as tout:
        for ti in tin:
            data = tin.extractfile(ti) if ti.isreg() else None
            ti.name = prefix + ti.name
            tout.addfile(ti, data)


@pytest.mark.parametrize(
    ("fmt", "prefix"),
    [
        (tarfile.GNU_FORMAT, ""),
        (tarfile.USTAR_FORMAT, ""),
        (tarfile.PAX_FORMAT, "./"),
        (tarfile.GNU_FORMAT, "./"),
    ],
    ids=["gnu", "ustar", "pax-dot-slash", "gnu-dot-slash"],
)
def test_outer_tar_formats(tmp_path: Path, fmt: int, prefix: str) -> None:
    img = build(tmp_path, fmt="docker-archive-oci")
    out = tmp_path / "rewritten.tar"
    _rewrite_tar(img.path, out, fmt=fmt, prefix=prefix)
    info = resolve(out)
    assert info.target.manifest_digest == img.manifest_digest
    for spec, layer in zip(info.layers, img.layers, strict=True):
        with spec.opener.open() as f:
            assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == layer.blob_digest


def test_zstd_outer(tmp_path: Path) -> None:
    import zstandard

    img = build(tmp_path)
    out = tmp_path / "img.tar.zst"
    out.write_bytes(zstandard.ZstdCompressor().compress(img.path.read_bytes()))
    assert resolve(out).target.config_digest == img.config_digest


def test_pipe_input_is_spooled(tmp_path: Path) -> None:
    import os
    import threading

    img = build(tmp_path, gzip_outer=True)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = img.path.read_bytes()

    def writer() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    t = threading.Thread(target=writer)
    t.start()
    work = tmp_path / "work"
    work.mkdir()
    src = DockerArchiveSource(fifo, work_dir=work)
    try:
        info = src.resolve(None)
        assert info.target.config_digest == img.config_digest
        assert len(info.layers) == 2
        with info.layers[0].opener.open() as f:
            assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == img.layers[0].blob_digest
    finally:
        src.close()
        t.join()
    assert list(work.iterdir()) == []


def test_docker_save_of_one_platform_keeps_index(tmp_path: Path) -> None:
    """Docker >= 25 (containerd store) may save index.json naming platforms whose blobs are
    not in the archive; the saved platform must still resolve."""
    img = build(tmp_path, fmt="docker-archive-oci")

    def add_missing(index: dict) -> None:
        index["manifests"].append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + "e" * 64,
                "size": 100,
                "platform": {"os": "linux", "architecture": "arm64"},
            }
        )

    corrupt.edit_index(img.path, add_missing)
    assert resolve(img.path).target.manifest_digest == img.manifest_digest


def test_docker_oci_index_with_attestation_manifest(tmp_path: Path) -> None:
    """buildx attestations (in-toto layers) sit next to the image in index.json; the lookup
    of the image's OCI manifest must not trip over them."""
    img = build(tmp_path, fmt="docker-archive-oci")
    f = corrupt.ImageFiles(img.path)
    layer = b'{"_type":"https://in-toto.io/Statement/v0.1"}'
    config = b'{"architecture":"unknown","os":"unknown","rootfs":{}}'

    def desc(mt: str, data: bytes) -> dict:
        return {
            "mediaType": mt,
            "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }

    att = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": desc("application/vnd.oci.image.config.v1+json", config),
            "layers": [desc("application/vnd.in-toto+json", layer)],
        }
    ).encode()
    for data in (layer, config, att):
        f.write("blobs/sha256/" + hashlib.sha256(data).hexdigest(), data)
    index = f.json("index.json")
    index["manifests"].insert(
        0,
        {
            **desc("application/vnd.oci.image.manifest.v1+json", att),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
        },
    )
    f.write_json("index.json", index)
    f.save()
    info = resolve(img.path)
    assert info.target.manifest_digest == img.manifest_digest
    assert [s.media_type for s in info.layers] == [layer.media_type for layer in img.layers]


def test_layer_count_limit(tmp_path: Path) -> None:
    img = build(tmp_path)
    msg = expect(LimitExceededError, img.path, resolve, img.path, limits=Limits(max_layers=1))
    assert "max_layers" in msg
