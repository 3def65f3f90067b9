"""Property tests: every metadata parser returns a result or raises an ImageError, never
anything else, whatever JSON (or bytes) it is fed."""

from __future__ import annotations

import copy
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.errors import ImageError, UsageError
from hullscan.image.archive import DockerArchiveSource, parse_docker_manifest, select_entry
from hullscan.image.digests import parse_digest
from hullscan.image.limits import Limits
from hullscan.image.oci import (
    OciDirSource,
    align_history,
    parse_descriptor,
    parse_image_config,
    parse_index,
    parse_json,
    parse_manifest,
    safe_relpath,
    scan_tar,
)
from hullscan.image.platform import parse_platform
from tests.images.builder import Entry, build_image, layer_tar

HEX = "a" * 64
KEYS = st.sampled_from(
    [
        "mediaType",
        "digest",
        "size",
        "platform",
        "annotations",
        "manifests",
        "layers",
        "config",
        "schemaVersion",
        "artifactType",
        "rootfs",
        "diff_ids",
        "history",
        "empty_layer",
        "Config",
        "Layers",
        "RepoTags",
        "os",
        "architecture",
        "urls",
        "fsLayers",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            f"sha256:{HEX}",
            "sha256:../x",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "layers",
            "../etc/passwd",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)

VALID_DESCRIPTOR = {
    "mediaType": "application/vnd.oci.image.layer.v1.tar",
    "digest": f"sha256:{HEX}",
    "size": 3,
}
VALID_MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": f"sha256:{HEX}",
        "size": 2,
    },
    "layers": [VALID_DESCRIPTOR, VALID_DESCRIPTOR],
}
VALID_INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "manifests": [
        {
            **VALID_DESCRIPTOR,
            "mediaType": VALID_MANIFEST["mediaType"],
            "platform": {"os": "linux", "architecture": "amd64"},
        }
    ],
}
VALID_CONFIG: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "config": {"Env": ["A=1"], "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "b"}, "User": "x"},
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{HEX}", f"sha256:{HEX}"]},
    "history": [{"created_by": "a"}, {"empty_layer": True}, {"created_by": "b"}],
}
VALID_DOCKER = [{"Config": "c.json", "RepoTags": ["a:b"], "Layers": ["x/layer.tar"]}]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    cur = doc
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """A valid document with one node (or the whole) replaced by arbitrary JSON."""
    paths = _paths(base)
    path = draw(st.sampled_from(paths))
    return _replace(base, path, draw(JSON))


def _only_image_errors(fn: Any, *args: Any, **kw: Any) -> None:
    try:
        fn(*args, **kw)
    except ImageError as exc:
        assert "\n" not in str(exc)


@given(st.binary(max_size=200) | JSON.map(lambda o: json.dumps(o).encode()))
def test_parse_json_bytes(data: bytes) -> None:
    _only_image_errors(parse_json, data, where="f")


@given(JSON)
def test_parse_digest(value: Any) -> None:
    _only_image_errors(parse_digest, value, where="f")


@given(JSON | mutated(VALID_DESCRIPTOR))
def test_parse_descriptor(value: Any) -> None:
    _only_image_errors(parse_descriptor, value, where="f")


@given(JSON | mutated(VALID_INDEX))
def test_parse_index(value: Any) -> None:
    _only_image_errors(parse_index, value, where="f")


@given(JSON | mutated(VALID_MANIFEST), st.none() | st.text(max_size=10))
def test_parse_manifest(value: Any, media_type: str | None) -> None:
    _only_image_errors(parse_manifest, value, where="f", media_type=media_type)


@given(JSON | mutated(VALID_CONFIG))
def test_parse_image_config(value: Any) -> None:
    _only_image_errors(parse_image_config, value, where="f")


@given(JSON, st.integers(min_value=0, max_value=5))
def test_align_history(value: Any, n: int) -> None:
    steps, warnings = align_history(value, n, where="f")
    assert len(steps) == n
    assert all("\n" not in w for w in warnings)


@given(JSON | mutated(VALID_DOCKER), st.none() | st.text(max_size=10))
def test_parse_docker_manifest(value: Any, ref: str | None) -> None:
    try:
        entries = parse_docker_manifest(value, where="f")
    except ImageError:
        return
    for e in entries:
        for p in (e.config, *e.layers):
            assert not p.startswith("/") and ".." not in p.split("/")
    _only_image_errors(select_entry, entries, ref, where="f")


@given(JSON)
def test_safe_relpath(value: Any) -> None:
    try:
        p = safe_relpath(value, where="f")
    except ImageError:
        return
    assert p and not p.startswith("/") and ".." not in p.split("/") and "." not in p.split("/")


@given(st.text(max_size=30))
def test_parse_platform(text: str) -> None:
    try:
        parse_platform(text)
    except UsageError as exc:
        assert "\n" not in str(exc)


def _valid_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in [("manifest.json", b"[]"), ("a" * 150, b"x" * 700), ("d/link", None)]:
            ti = tarfile.TarInfo(name)
            if data is None:
                ti.type = tarfile.SYMTYPE
                ti.linkname = "../manifest.json"
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


VALID_TAR = _valid_tar()


@given(
    st.binary(max_size=2048)
    | st.tuples(
        st.integers(min_value=0, max_value=len(VALID_TAR) - 1), st.binary(min_size=1, max_size=16)
    ).map(lambda t: VALID_TAR[: t[0]] + t[1] + VALID_TAR[t[0] + len(t[1]) :])
)
def test_scan_tar(data: bytes) -> None:
    _only_image_errors(
        scan_tar, io.BytesIO(data), len(data), limits=Limits(max_archive_members=50), label="f"
    )


# End to end: hostile documents inside real images.

L1 = layer_tar([Entry("etc/os-release", b"ID=x\n")])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON.map(lambda o: json.dumps(o).encode()) | st.binary(max_size=64))
def test_docker_archive_with_hostile_manifest_json(data: bytes) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        img = build_image(tmp / "img.tar", [L1], fmt="docker-archive")
        from tests.images import corrupt

        corrupt.replace_member(img.path, "manifest.json", data)
        src = DockerArchiveSource(img.path)
        try:
            _only_image_errors(src.resolve, None)
        finally:
            src.close()
    finally:
        shutil.rmtree(tmp)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["index.json", "oci-layout", "manifest", "config"]), JSON)
def test_oci_dir_with_hostile_document(which: str, doc: Any) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        img = build_image(tmp / "img", [L1], fmt="oci-dir")
        name = {
            "index.json": "index.json",
            "oci-layout": "oci-layout",
            "manifest": f"blobs/sha256/{str(img.manifest_digest).split(':')[1]}",
            "config": f"blobs/sha256/{img.config_digest.split(':')[1]}",
        }[which]
        (img.path / name).write_bytes(json.dumps(doc).encode())
        src = OciDirSource(img.path)
        _only_image_errors(src.resolve, None)
    finally:
        shutil.rmtree(tmp)
