"""Hostile and broken input through the real CLI.

Every case must end with the documented exit code (2 for bad input: errors.py,
docs/limits.md), exactly one ``hullscan: error: ...`` line on stderr naming the problem,
nothing on stdout, no file written anywhere but the cache dir (not even next to the image),
TMPDIR left empty, and nothing cached from a layer that did not verify.

The cases use every editor of tests/images/corrupt.py plus hand-made tar streams (path
traversal, links out of the root, loops, bombs, bad headers).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard
from tests.images import corrupt
from tests.images.builder import BuiltImage, Entry, build_image, layer_tar
from tests.integration.cli_support import (
    Sandbox,
    assert_one_line_error,
    cache_entries,
    files_under,
    run_cli,
    tree,
)

from hullscan import api
from hullscan.errors import LimitExceededError
from hullscan.image.limits import Limits, MiB
from hullscan.options import ScanOptions

pytestmark = [pytest.mark.integration]

OS_RELEASE = Entry("etc/os-release", b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
STATUS = Entry(
    "var/lib/dpkg/status",
    b"Package: foo\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n",
)
GOOD = layer_tar([OS_RELEASE, STATUS])
BIG = 9 * MiB  # over max_metadata_bytes (8 MiB)


def image(
    d: Path, fmt: str = "oci-dir", layers: list[bytes] | None = None, **kw: Any
) -> BuiltImage:
    name = "image" if fmt == "oci-dir" else "image.tar"
    return build_image(d / name, layers or [GOOD], fmt=fmt, **kw)  # type: ignore[arg-type]


def raw_layer(members: list[tuple[str, str, bytes | str]], **pax: str) -> bytes:
    """A layer tar with members tarfile writes verbatim: (name, "file"|"sym"|"hard", data)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, payload in members:
            ti = tarfile.TarInfo(name)
            ti.pax_headers = dict(pax)
            if kind == "file":
                assert isinstance(payload, bytes)
                ti.size = len(payload)
                tf.addfile(ti, io.BytesIO(payload))
            else:
                assert isinstance(payload, str)
                ti.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                ti.linkname = payload
                tf.addfile(ti)
    return buf.getvalue()


def zeros_tar(n: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("zeros")
        ti.size = n
        tf.addfile(ti, io.BytesIO(bytes(n)))
    return buf.getvalue()


def swap_layer_blob(img: BuiltImage, new_blob: bytes) -> None:
    """Replace layer 0's blob of an OCI layout by ``new_blob``, consistently: stored under its
    own digest with the manifest (and index.json) following, so that only the content is bad."""
    digest = "sha256:" + hashlib.sha256(new_blob).hexdigest()
    f = corrupt.ImageFiles(img.path)
    f.drop(f.blob_name(img.layers[0].blob_digest))
    f.write(f.blob_name(digest), new_blob)
    f.save()

    def fn(m: Any) -> None:
        m["layers"][0]["digest"] = digest
        m["layers"][0]["size"] = len(new_blob)

    corrupt.edit_manifest(img.path, fn)


# --------------------------------------------------------------------------- the cases

Builder = Callable[[Path], str]
CASES: list[Any] = []


def case(*needles: str, cached: bool = False) -> Callable[[Builder], Builder]:
    """Register a hostile input: ``needles`` must appear in the error line; ``cached`` allows
    cache entries (layers that verified before a later step failed)."""

    def register(fn: Builder) -> Builder:
        CASES.append(pytest.param(fn, needles, cached, id=fn.__name__))
        return fn

    return register


@case("blob digest mismatch")
def layer_bytes_changed_same_size(d: Path) -> str:
    img = image(d, compression="none")
    blob = (img.path / img.layers[0].member).read_bytes()
    assert blob.count(b"ID=debian") == 1
    corrupt.replace_blob(
        img.path, img.layers[0].blob_digest, blob.replace(b"ID=debian", b"ID=evilos")
    )
    return f"oci-dir:{img.path}"


@case("diff_id mismatch")
def classic_layer_tar_replaced(d: Path) -> str:
    img = image(d, fmt="docker-archive", compression="none")
    evil = layer_tar([Entry("etc/os-release", b"ID=evilos\n"), STATUS])
    corrupt.replace_member(img.path, img.layers[0].member, evil)
    return f"docker-archive:{img.path}"


@case("diff_id mismatch")
def config_claims_other_diff_id(d: Path) -> str:
    img = image(d)
    corrupt.edit_config(
        img.path, lambda c: c["rootfs"]["diff_ids"].__setitem__(0, "sha256:" + "0" * 64)
    )
    return str(img.path)


@case("diff_ids")
def config_lists_fewer_diff_ids(d: Path) -> str:
    img = image(d, fmt="docker-archive-oci")
    corrupt.edit_config(img.path, lambda c: c["rootfs"]["diff_ids"].pop())
    return str(img.path)


@case("digest mismatch", "config")
def config_edited_under_its_old_digest(d: Path) -> str:
    img = image(d)
    corrupt.edit_config(img.path, lambda c: c.__setitem__("architecture", "s390x"), rehash=False)
    return str(img.path)


@case("digest mismatch", "manifest")
def manifest_edited_under_its_old_digest(d: Path) -> str:
    img = image(d, fmt="oci-archive")
    corrupt.edit_manifest(
        img.path, lambda m: m.__setitem__("annotations", {"a": "b"}), rehash=False
    )
    return f"oci-archive:{img.path}"


@case("schema 1")
def docker_schema1_manifest(d: Path) -> str:
    img = image(d)
    doc = {"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": [], "history": []}
    corrupt.set_manifest_bytes(img.path, json.dumps(doc).encode())
    return str(img.path)


@case("cosign")
def cosign_signature_instead_of_layer(d: Path) -> str:
    img = image(d)
    mt = "application/vnd.dev.cosign.simplesigning.v1+json"
    corrupt.edit_manifest(img.path, lambda m: m["layers"][0].__setitem__("mediaType", mt))
    return str(img.path)


@case("missing layer blob")
def layer_blob_missing(d: Path) -> str:
    img = image(d, fmt="oci-archive")
    corrupt.drop_blob(img.path, img.layers[0].blob_digest)
    return str(img.path)


@case("config", "missing")
def config_blob_missing(d: Path) -> str:
    img = image(d)
    corrupt.point_manifest_at_missing_config(img.path)
    return str(img.path)


@case("missing")
def manifest_blob_missing(d: Path) -> str:
    img = image(d)
    assert img.manifest_digest is not None
    corrupt.drop_blob(img.path, img.manifest_digest)
    return str(img.path)


@case("missing", "layer")
def classic_layer_member_missing(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    corrupt.drop_member(img.path, img.layers[0].member)
    return str(img.path)


@case("manifest.json")
def classic_manifest_json_missing(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    corrupt.drop_member(img.path, "manifest.json")
    return f"docker-archive:{img.path}"


@case("lists no manifests")
def index_without_manifests(d: Path) -> str:
    img = image(d)
    corrupt.edit_index(img.path, lambda ix: ix.__setitem__("manifests", []))
    return str(img.path)


@case("invalid JSON", "index.json")
def index_not_json(d: Path) -> str:
    img = image(d)
    (img.path / "index.json").write_bytes(b'{"schemaVersion": 2, "manifests": [')
    return str(img.path)


@case("imageLayoutVersion")
def unsupported_layout_version(d: Path) -> str:
    img = image(d)
    (img.path / "oci-layout").write_text('{"imageLayoutVersion": "2.0.0"}')
    return str(img.path)


@case("unsafe path")
def manifest_json_layer_path_traversal(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    corrupt.edit_docker_manifest(
        img.path, lambda m: m[0].__setitem__("Layers", ["../../../etc/passwd"])
    )
    return str(img.path)


@case("outside the archive")
def classic_layer_is_symlink_out_of_archive(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    corrupt.link_member(img.path, img.layers[0].member, "../../../../etc/passwd")
    return str(img.path)


@case("outside the archive")
def classic_layer_is_hardlink_to_host_file(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    corrupt.link_member(img.path, img.layers[0].member, "/etc/passwd", hard=True)
    return str(img.path)


@case("outside the layout")
def layout_blob_symlinks_to_host_file(d: Path) -> str:
    img = image(d)
    corrupt.symlink_blob(img.path, img.layers[0].blob_digest, "/etc/passwd")
    return str(img.path)


@case("not a regular file")
def layout_blob_is_a_fifo(d: Path) -> str:
    img = image(d)
    blob = img.path / img.layers[0].member
    blob.unlink()
    os.mkfifo(blob)
    return str(img.path)


@case("max_metadata_bytes")
def huge_manifest(d: Path) -> str:
    img = image(d)
    corrupt.edit_manifest(img.path, lambda m: m.__setitem__("annotations", {"x": "y" * BIG}))
    return str(img.path)


@case("max_metadata_bytes")
def huge_config(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    corrupt.edit_config(img.path, lambda c: c["config"].__setitem__("Labels", {"x": "y" * BIG}))
    return str(img.path)


@case("max_metadata_bytes")
def huge_manifest_json(d: Path) -> str:
    img = image(d, fmt="docker-archive")
    doc = json.loads(corrupt.ImageFiles(img.path).read("manifest.json"))
    doc[0]["RepoTags"] = ["x" * 100] * (BIG // 100)
    corrupt.replace_member(img.path, "manifest.json", json.dumps(doc).encode())
    return str(img.path)


@case("max_layers")
def too_many_layers(d: Path) -> str:
    layers = [layer_tar([Entry(f"f{i}", b"x")]) for i in range(513)]
    return f"oci-dir:{image(d, layers=layers, compression='none').path}"


@case("truncated")
def docker_archive_cut_inside_a_layer(d: Path) -> str:
    img = image(d, fmt="docker-archive", compression="none")
    data = img.path.read_bytes()
    with tarfile.open(img.path) as tf:
        member = tf.getmember(img.layers[0].member)
    img.path.write_bytes(data[: member.offset_data + member.size // 2])
    return str(img.path)


@case("truncated")
def oci_archive_cut_between_members(d: Path) -> str:
    img = image(d, fmt="oci-archive")
    data = img.path.read_bytes()
    img.path.write_bytes(data[: len(data) // 2 // 512 * 512])
    return str(img.path)


@case("corrupt gzip")
def docker_save_gzip_cut(d: Path) -> str:
    img = image(d, fmt="docker-archive", gzip_outer=True)
    data = img.path.read_bytes()
    img.path.write_bytes(data[: len(data) * 2 // 3])
    return str(img.path)


@case("corrupt gzip")
def gzip_layer_cut_short(d: Path) -> str:
    img = image(d, compression="gzip")
    swap_layer_blob(img, gzip.compress(GOOD)[:-30])
    return str(img.path)


@case("layer 0", "mismatch")
def zstd_layer_cut_short(d: Path) -> str:
    # zstandard's reader stops quietly at a cut frame (gzip raises): the diff_id catches it.
    img = image(d, compression="zstd")
    swap_layer_blob(img, zstandard.ZstdCompressor().compress(GOOD + bytes(4096))[:-20])
    return str(img.path)


@case("truncated")
def zstd_whole_archive_cut(d: Path) -> str:
    img = image(d, fmt="docker-archive", compression="none")
    packed = zstandard.ZstdCompressor().compress(img.path.read_bytes())
    img.path.unlink()
    (d / "image.tar.zst").write_bytes(packed[: len(packed) * 2 // 3])
    return str(d / "image.tar.zst")


@case("path traversal")
def layer_member_with_dotdot(d: Path) -> str:
    return str(image(d, layers=[raw_layer([("etc/../../../tmp/evil", "file", b"x")])]).path)


@case("absolute path")
def layer_member_with_absolute_name(d: Path) -> str:
    return str(image(d, layers=[raw_layer([("/etc/cron.d/evil", "file", b"x")])]).path)


@case("path traversal")
def layer_pax_path_with_dotdot(d: Path) -> str:
    # The ustar name is harmless; the pax "path" record (which wins) is not.
    layer = raw_layer([("harmless", "file", b"x")], path="../../evil")
    return str(image(d, layers=[layer]).path)


@case("path traversal")
def layer_hardlink_out_of_root(d: Path) -> str:
    return str(image(d, layers=[raw_layer([("etc/os-release", "hard", "../../etc/passwd")])]).path)


@case("symlink loop", "etc/os-release", cached=True)
def symlink_loop_at_wanted_path(d: Path) -> str:
    layer = raw_layer(
        [("etc/os-release", "sym", "a"), ("etc/a", "sym", "b"), ("etc/b", "sym", "os-release")]
    )
    return str(image(d, layers=[layer]).path)


@case("symlink loop", "var/lib/dpkg/status", cached=True)
def symlink_to_itself_through_the_root(d: Path) -> str:
    # Inside the container "/../../var/lib/dpkg/status" is the link itself.
    layer = raw_layer([("var/lib/dpkg/status", "sym", "/../../../var/lib/dpkg/status")])
    return str(image(d, layers=[layer]).path)


@case("checksum")
def layer_with_bad_tar_header_checksum(d: Path) -> str:
    layer = bytearray(GOOD)
    layer[0:4] = b"XXXX"  # first header's name field, checksum no longer matches
    return str(image(d, layers=[bytes(layer)]).path)


@case("extended header")
def layer_with_huge_pax_header(d: Path) -> str:
    layer = raw_layer([("etc/os-release", "file", b"ID=debian\n")], comment="x" * (2 * MiB))
    return str(image(d, layers=[layer]).path)


@case("decompression bomb", "ratio")
def zstd_layer_bomb(d: Path) -> str:
    return str(image(d, layers=[zeros_tar(80 * MiB)], compression="zstd").path)


@case("decompression bomb", "ratio")
def zstd_whole_archive_bomb(d: Path) -> str:
    img = image(d, fmt="docker-archive", layers=[zeros_tar(80 * MiB)], compression="none")
    out = d / "bomb.tar.zst"
    out.write_bytes(zstandard.ZstdCompressor(level=19).compress(img.path.read_bytes()))
    img.path.unlink()
    return str(out)


@case("not a docker-archive or OCI image", "not a tar")
def text_file(d: Path) -> str:
    (d / "notes.txt").write_text("this is not an image\n" * 50)
    return str(d / "notes.txt")


@case("not a docker-archive or OCI image", "empty file")
def empty_file(d: Path) -> str:
    (d / "empty.tar").write_bytes(b"")
    return str(d / "empty.tar")


@case("not a docker-archive or OCI image", "not a tar")
def random_bytes(d: Path) -> str:
    (d / "random.bin").write_bytes(os.urandom(4096))
    return str(d / "random.bin")


@case("not a docker-archive or OCI image", "not a tar")
def gzipped_text(d: Path) -> str:
    (d / "x.tar.gz").write_bytes(gzip.compress(b"hello\n" * 1000))
    return str(d / "x.tar.gz")


@case("neither manifest.json nor oci-layout")
def tar_of_something_else(d: Path) -> str:
    (d / "src.tar").write_bytes(
        layer_tar([Entry("README", b"hello\n"), Entry("src/main.c", b"int main;")])
    )
    return str(d / "src.tar")


@case("no oci-layout")
def plain_directory_as_oci_dir(d: Path) -> str:
    (d / "plain").mkdir()
    (d / "plain/file").write_text("x")
    return f"oci-dir:{d / 'plain'}"


@case("is a directory")
def directory_as_docker_archive(d: Path) -> str:
    (d / "plain").mkdir()
    return f"docker-archive:{d / 'plain'}"


@case("is a directory")
def directory_as_oci_archive(d: Path) -> str:
    (d / "plain").mkdir()
    return f"oci-archive:{d / 'plain'}"


@case("not a directory")
def file_as_rootfs(d: Path) -> str:
    return f"dir:{image(d, fmt='docker-archive').path}"


@case("not a directory")
def archive_as_oci_dir(d: Path) -> str:
    return f"oci-dir:{image(d, fmt='oci-archive').path}"


@case("use oci-archive:")
def oci_archive_as_docker_archive(d: Path) -> str:
    return f"docker-archive:{image(d, fmt='oci-archive').path}"


@case("no such file")
def missing_path(d: Path) -> str:
    return str(d / "does-not-exist.tar")


@case("invalid image reference", "lowercase")
def bad_registry_reference(d: Path) -> str:
    return "registry:docker.io/Library/alpine:3.20"


@case("docker save")
def docker_daemon_scheme(d: Path) -> str:
    return "docker-daemon:alpine:3.20"


@case("no image named", "'nope'")
def unknown_ref_in_layout(d: Path) -> str:
    return f"oci-dir:{image(d).path}:nope"


@case("no image tagged", "hullscan-test:latest")
def unknown_tag_in_docker_archive(d: Path) -> str:
    return f"docker-archive:{image(d, fmt='docker-archive').path}:other:tag"


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize(("build", "needles", "cached"), CASES)
def test_hostile_input_fails_cleanly(
    build: Builder, needles: tuple[str, ...], cached: bool, tmp_path: Path
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    spec = build(inputs)
    box = Sandbox(tmp_path / "box").make()
    before = tree(tmp_path, exclude=[box.cache])
    run = run_cli("sbom", spec, "-f", "json", "--cache-dir", box.cache, sandbox=box, timeout=120)
    assert_one_line_error(run, 2, *needles)
    assert tree(tmp_path, exclude=[box.cache]) == before, "a file was written outside the cache"
    assert files_under(box.tmp) == []
    if not cached:
        assert cache_entries(box.cache) == [], "a layer that did not verify was cached"
    assert all(not p.startswith(".tmp-") for p in files_under(box.cache))


def test_every_corrupt_helper_is_exercised() -> None:
    """Keep this module in step with tests/images/corrupt.py."""
    import inspect

    helpers = {
        name
        for name, fn in vars(corrupt).items()
        if inspect.isfunction(fn) and not name.startswith("_") and fn.__module__ == corrupt.__name__
    }
    source = Path(__file__).read_text()
    missing = sorted(h for h in helpers if f"corrupt.{h}(" not in source)
    assert missing == []


# --------------------------------------------------------------------------- not errors


def _scan(spec: str, tmp_path: Path, *extra: str) -> Any:
    box = Sandbox(tmp_path / "box")
    return run_cli("sbom", spec, "-f", "json", "--no-cache", *extra, sandbox=box)


@pytest.mark.parametrize(
    "target",
    [
        "/var/lib/dpkg/info/dpkg.list",
        "/../../../../../var/lib/dpkg/info/dpkg.list",
        "../../../../../../var/lib/dpkg/info/dpkg.list",
        "../../../../../../../var/lib/../lib/dpkg/./info/dpkg.list",
    ],
)
def test_symlink_out_of_the_root_is_resolved_inside_it(target: str, tmp_path: Path) -> None:
    """Container semantics: "/" and ".." at the top are the image root. The host is a Debian
    with its own var/lib/dpkg/info/dpkg.list: following the link there would list the host's
    files for foo (and the escape would be a bug, whatever was found)."""
    status = b"".join(
        f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n".encode()
        for name in ("dpkg", "foo")
    )
    layer = raw_layer(
        [
            ("etc/os-release", "sym", "../usr/lib/os-release"),
            ("usr/lib/os-release", "file", b'ID=alpine\nVERSION_ID=3.20.3\nNAME="Alpine Linux"\n'),
            ("var/lib/dpkg/status", "file", status),
            ("var/lib/dpkg/info/dpkg.list", "file", b"/.\n/usr\n/usr/bin\n/usr/bin/inside-only\n"),
            ("var/lib/dpkg/info/foo.list", "sym", target),
        ]
    )
    run = _scan(str(image(tmp_path, layers=[layer]).path), tmp_path, "-q")
    assert run.returncode == 0 and run.stderr == "", run.describe()
    sbom = run.json()
    assert {p["name"]: p["files"] for p in sbom["packages"]} == {
        "dpkg": ["usr/bin/inside-only"],
        "foo": ["usr/bin/inside-only"],
    }
    assert [s["status"] for s in sbom["statuses"]] == ["ok"] * len(sbom["statuses"])
    assert (sbom["distro"]["id"], sbom["distro"]["version"]) == ("alpine", "3.20.3")


def test_symlink_out_of_the_root_with_nothing_inside(tmp_path: Path) -> None:
    layer = raw_layer(
        [
            ("etc/os-release", "sym", "../../../../../../../../usr/lib/os-release"),
            ("var/lib/dpkg/status", "sym", "/etc/../../../../var/lib/dpkg/status.host"),
        ]
    )
    run = _scan(str(image(tmp_path, layers=[layer]).path), tmp_path)
    assert run.returncode == 0, run.describe()
    sbom = run.json()
    assert sbom["distro"] is None
    assert sbom["packages"] == []
    statuses = {s["name"]: s for s in sbom["statuses"]}
    errors = [fe["path"] for fe in statuses["os/dpkg"]["file_errors"]]
    assert statuses["os/dpkg"]["status"] == "partial" and errors == ["var/lib/dpkg/status"]
    # Without -q each recorded file error is one warning line on stderr.
    lines = run.stderr.splitlines()
    assert lines and all(line.startswith("warning: os/") for line in lines), run.stderr
    assert any("var/lib/dpkg/status" in line for line in lines)


def test_bare_directory_is_scanned_as_a_root_filesystem(tmp_path: Path) -> None:
    """Documented in image/detect.py: a directory without oci-layout is a rootfs (dir:)."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/a.txt").write_text("not an image")
    run = _scan(str(tmp_path / "notes"), tmp_path, "-q")
    sbom = run.json()
    assert sbom["target"]["kind"] == "dir"
    assert (sbom["packages"], sbom["distro"]) == ([], None)


def test_only_verified_layers_are_cached(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box")
    bad = image(tmp_path / "bad", compression="none")
    blob = (bad.path / bad.layers[0].member).read_bytes()
    corrupt.replace_blob(
        bad.path, bad.layers[0].blob_digest, blob.replace(b"ID=debian", b"ID=evilos")
    )
    args = ("-q", "-f", "json", "--cache-dir", box.cache)
    run = run_cli("sbom", bad.path, *args, sandbox=box)
    assert_one_line_error(run, 2, "digest mismatch")
    assert cache_entries(box.cache) == []

    good = image(tmp_path / "good", compression="none")
    ok = run_cli("sbom", good.path, *args, sandbox=box)
    assert [p["name"] for p in ok.json()["packages"]] == ["foo"]
    assert len(cache_entries(box.cache)) == 1

    # The cache is content-addressed by the diff_id the (verified) config names: a warm scan
    # does not read the layer, so it does not see that the bad image's blob bytes differ from
    # what its manifest says (same size); it reports the verified content for that diff_id.
    # Only a read (--no-cache, or a cold cache) verifies the blob itself.
    warm = run_cli("sbom", bad.path, *args, sandbox=box)
    assert warm.returncode == 0, warm.describe()
    assert warm.json()["packages"] == ok.json()["packages"]
    assert warm.json()["distro"]["id"] == "debian"
    cold = run_cli("sbom", bad.path, "-q", "-f", "json", "--no-cache", sandbox=box)
    assert_one_line_error(cold, 2, "digest mismatch")


# --------------------------------------------------------------------------- gzip bombs


def test_gzip_bombs_stop_at_the_ratio_limit(tmp_path: Path) -> None:
    """deflate tops out near 1032:1, under the default 1100:1 (docs/limits.md), so a gzip bomb
    cannot trip the default ratio; with a tighter limit both a gzip layer and a gzipped
    docker save stop early, through the library's options."""
    data = zeros_tar(24 * MiB)
    limits = Limits(max_compression_ratio=100, ratio_grace_bytes=2 * MiB)
    layer = image(tmp_path / "layer", layers=[data], compression="gzip")
    with pytest.raises(LimitExceededError, match="decompression bomb"):
        api.sbom(f"oci-dir:{layer.path}", ScanOptions(limits=limits, cache_dir=None))
    outer = image(
        tmp_path / "outer", fmt="docker-archive", layers=[data], compression="none", gzip_outer=True
    )
    with pytest.raises(LimitExceededError, match="decompression bomb"):
        api.sbom(str(outer.path), ScanOptions(limits=limits, cache_dir=None))
