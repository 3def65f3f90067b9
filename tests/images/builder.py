"""Build container images without Docker, from layer recipes.

Independent of the code under test (stdlib ``tarfile``/``json``/``hashlib`` + isal/zstandard
for compression), so round-trip tests compare hullscan against an honest writer.

    layer = layer_tar([Entry("etc/os-release", b"ID=debian\\n"), Entry("tmp", kind="dir")])
    img = build_image(tmp_path / "img.tar", [layer], fmt="docker-archive")
    img.layers[0].diff_id, img.config_digest, img.manifest_digest

Formats:

- ``docker-archive``: classic ``docker save`` (``<id>/layer.tar``, ``<config-hex>.json``,
  ``manifest.json``, ``repositories``);
- ``docker-archive-oci``: Docker >= 25 ``docker save`` (``blobs/sha256``, ``index.json``,
  ``oci-layout`` *and* ``manifest.json``);
- ``oci-dir``: an OCI image layout directory; ``oci-archive``: the same in a tar.

Layers given as ``Path`` are tar files read in chunks (never loaded whole). diff_ids are the
sha256 of the uncompressed tar; blobs are named by the sha256 of the stored (compressed) bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import zstandard
from isal import igzip, isal_zlib

PlatformT = tuple[str, str, str | None]
Fmt = Literal["docker-archive", "docker-archive-oci", "oci-dir", "oci-archive"]
Compression = Literal["none", "gzip", "zstd"]
LayerInput = bytes | Path

CREATED = "2024-01-02T03:04:05Z"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
_CHUNK = 1024 * 1024


# --- layers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One tar member. ``whiteout`` writes ``DIR/.wh.NAME``; ``opaque`` writes
    ``PATH/.wh..wh..opq``; ``symlink``/``hardlink`` need ``target``."""

    path: str
    data: bytes = b""
    mode: int = 0o644
    kind: Literal["file", "dir", "symlink", "hardlink", "whiteout", "opaque"] = "file"
    target: str | None = None
    uid: int = 0
    gid: int = 0


def layer_tar(entries: Sequence[Entry]) -> bytes:
    """Uncompressed tar bytes (pax format, mtime 0: deterministic)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            path = e.path.lstrip("/") if e.path not in ("/", "") else "."
            data = b""
            if e.kind == "whiteout":
                parent, base = posixpath.split(path.rstrip("/"))
                name = posixpath.join(parent, ".wh." + base)
            elif e.kind == "opaque":
                name = posixpath.join(path.rstrip("/"), ".wh..wh..opq")
            else:
                name = path
                data = e.data
            ti = tarfile.TarInfo(name)
            ti.mode = e.mode
            ti.uid, ti.gid = e.uid, e.gid
            ti.mtime = 0
            if e.kind == "dir":
                ti.type = tarfile.DIRTYPE
                if e.mode == 0o644:
                    ti.mode = 0o755
                tf.addfile(ti)
            elif e.kind in ("symlink", "hardlink"):
                if e.target is None:
                    raise ValueError(f"{e.kind} entry {e.path!r} needs a target")
                ti.type = tarfile.SYMTYPE if e.kind == "symlink" else tarfile.LNKTYPE
                ti.linkname = e.target
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def rootfs_layer_tar(root: Path, out: Path | None = None) -> Path | bytes:
    """A tar of a real directory tree (symlinks as symlinks, hard links kept, sockets
    skipped, names sorted). Written to ``out`` (returned) or returned as bytes."""

    def clean(ti: tarfile.TarInfo) -> tarfile.TarInfo:
        ti.uname = ti.gname = ""
        return ti

    def add_all(tf: tarfile.TarFile) -> None:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                arc = name if rel_dir == "." else f"{rel_dir}/{name}"
                tf.add(full, arcname=arc, recursive=False, filter=clean)

    if out is not None:
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
            add_all(tf)
        return out
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        add_all(tf)
    return buf.getvalue()


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltLayer:
    diff_id: str  # sha256 of the uncompressed tar
    blob_digest: str  # sha256 of the stored bytes
    blob_size: int
    media_type: str
    member: str  # where the blob is stored in the image (path in the tar / layout)


@dataclass(frozen=True)
class BuiltImage:
    path: Path
    fmt: str
    layers: tuple[BuiltLayer, ...]
    config: dict[str, Any]
    config_digest: str
    config_member: str
    manifest_digest: str | None  # None for classic docker-archive (no manifest blob)
    manifest: dict[str, Any] | None
    platform: PlatformT
    repo_tag: str

    @property
    def diff_ids(self) -> list[str]:
        return [layer.diff_id for layer in self.layers]

    @property
    def blob_digests(self) -> list[str]:
        return [layer.blob_digest for layer in self.layers]


@dataclass(frozen=True)
class BuiltIndex:
    path: Path
    images: tuple[BuiltImage, ...]
    index_digest: str | None  # the nested image index, when nested=True


# --- blobs --------------------------------------------------------------------------------


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Staging:
    """Blobs written once to a temporary directory, named by digest."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="hullscan-builder-")
        self.dir = Path(self._tmp.name)
        self.blobs: dict[str, Path] = {}

    def add_bytes(self, data: bytes) -> tuple[str, int]:
        digest = _sha256(data)
        path = self.dir / digest.split(":", 1)[1]
        path.write_bytes(data)
        self.blobs[digest] = path
        return digest, len(data)

    def add_layer(self, src: LayerInput, compression: Compression) -> tuple[str, str, int]:
        """(diff_id, blob digest, blob size), compressing in chunks."""
        tmp = self.dir / f"layer-{len(self.blobs)}.partial"
        diff = hashlib.sha256()
        blob = hashlib.sha256()
        size = 0
        comp: Any = None
        if compression == "gzip":
            comp = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 31)
        elif compression == "zstd":
            comp = zstandard.ZstdCompressor().compressobj()
        with (
            io.BytesIO(src) if isinstance(src, bytes) else open(src, "rb") as fin,
            open(tmp, "wb") as fout,
        ):

            def emit(data: bytes) -> None:
                nonlocal size
                if data:
                    blob.update(data)
                    fout.write(data)
                    size += len(data)

            while chunk := fin.read(_CHUNK):
                diff.update(chunk)
                emit(comp.compress(chunk) if comp is not None else chunk)
            if comp is not None:
                emit(comp.flush())
        digest = "sha256:" + blob.hexdigest()
        final = self.dir / digest.split(":", 1)[1]
        tmp.replace(final)
        self.blobs[digest] = final
        return "sha256:" + diff.hexdigest(), digest, size

    def cleanup(self) -> None:
        self._tmp.cleanup()


def _emit(
    out: Path,
    files: dict[str, Path | bytes],
    *,
    as_dir: bool,
    gzip_outer: bool = False,
    symlinks: dict[str, str] | None = None,
) -> None:
    """Write ``files`` (member name -> content) as a directory or a (gzipped) tar."""
    symlinks = symlinks or {}
    if as_dir:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            dest = out / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, dest)
            else:
                dest.write_bytes(content)
        for name, target in symlinks.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, out / name)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tar_path = out.with_name(out.name + ".partial") if gzip_outer else out
    dirs = sorted({posixpath.dirname(n) for n in [*files, *symlinks]} - {""})
    all_dirs: set[str] = set()
    for d in dirs:
        parts = d.split("/")
        all_dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tf:
        for d in sorted(all_dirs):
            ti = tarfile.TarInfo(d + "/")
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            tf.addfile(ti)
        for name, content in files.items():
            ti = tarfile.TarInfo(name)
            ti.mode = 0o644
            if isinstance(content, Path):
                ti.size = content.stat().st_size
                with open(content, "rb") as f:
                    tf.addfile(ti, f)
            else:
                ti.size = len(content)
                tf.addfile(ti, io.BytesIO(content))
        for name, target in symlinks.items():
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.SYMTYPE
            ti.linkname = target
            tf.addfile(ti)
    if gzip_outer:
        with open(tar_path, "rb") as fin, igzip.open(out, "wb", compresslevel=1) as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)
        tar_path.unlink()


# --- images -------------------------------------------------------------------------------


@dataclass
class _Parts:
    layers: list[BuiltLayer] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    config_bytes: bytes = b""
    config_digest: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)
    manifest_bytes: bytes = b""
    manifest_digest: str = ""


def _make_config(
    diff_ids: list[str],
    history: Sequence[dict[str, Any]] | None,
    config_extra: dict[str, Any] | None,
    platform: PlatformT,
) -> dict[str, Any]:
    os_name, arch, variant = platform
    config: dict[str, Any] = {
        "architecture": arch,
        "os": os_name,
        "created": CREATED,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": list(history)
        if history is not None
        else [
            {"created": CREATED, "created_by": f"RUN step {i + 1}"} for i in range(len(diff_ids))
        ],
    }
    if variant:
        config["variant"] = variant
    for key, value in (config_extra or {}).items():
        if key == "config" and isinstance(value, dict):
            config["config"].update(value)
        else:
            config[key] = value
    return config


def _build_parts(
    staging: _Staging,
    layers: Sequence[LayerInput],
    *,
    compression: Compression,
    history: Sequence[dict[str, Any]] | None,
    config_extra: dict[str, Any] | None,
    platform: PlatformT,
) -> _Parts:
    parts = _Parts()
    for src in layers:
        diff_id, digest, size = staging.add_layer(src, compression)
        parts.layers.append(
            BuiltLayer(
                diff_id=diff_id,
                blob_digest=digest,
                blob_size=size,
                media_type=LAYER_MEDIA_TYPES[compression],
                member="blobs/sha256/" + digest.split(":", 1)[1],
            )
        )
    parts.config = _make_config(
        [layer.diff_id for layer in parts.layers], history, config_extra, platform
    )
    parts.config_bytes = _dumps(parts.config)
    parts.config_digest, config_size = staging.add_bytes(parts.config_bytes)
    parts.manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": parts.config_digest, "size": config_size},
        "layers": [
            {"mediaType": layer.media_type, "digest": layer.blob_digest, "size": layer.blob_size}
            for layer in parts.layers
        ],
    }
    parts.manifest_bytes = _dumps(parts.manifest)
    parts.manifest_digest, _ = staging.add_bytes(parts.manifest_bytes)
    return parts


def _split_tag(repo_tag: str) -> tuple[str, str]:
    repo, _, tag = repo_tag.rpartition(":")
    if not repo or "/" in tag:
        return repo_tag, "latest"
    return repo, tag


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _sha256(data), "size": len(data), **extra}


def build_image(
    out: Path,
    layers: Sequence[LayerInput],
    *,
    fmt: Fmt,
    compression: Compression = "gzip",
    history: Sequence[dict[str, Any]] | None = None,
    config_extra: dict[str, Any] | None = None,
    platform: PlatformT = ("linux", "amd64", None),
    gzip_outer: bool = False,
    repo_tag: str = "hullscan-test:latest",
) -> BuiltImage:
    """Write one image in ``fmt`` at ``out`` and describe what was written."""
    if fmt == "oci-dir" and gzip_outer:
        raise ValueError("gzip_outer applies to archives only")
    staging = _Staging()
    try:
        parts = _build_parts(
            staging,
            layers,
            compression=compression,
            history=history,
            config_extra=config_extra,
            platform=platform,
        )
        repo, tag = _split_tag(repo_tag)
        files: dict[str, Path | bytes] = {}
        built_layers = parts.layers
        manifest_digest: str | None = parts.manifest_digest
        manifest: dict[str, Any] | None = parts.manifest
        config_member = "blobs/sha256/" + parts.config_digest.split(":", 1)[1]
        if fmt == "docker-archive":
            built_layers = []
            parent = ""
            layer_paths = []
            for layer in parts.layers:
                layer_id = hashlib.sha256(f"{parent}\n{layer.diff_id}".encode()).hexdigest()
                member = f"{layer_id}/layer.tar"
                files[f"{layer_id}/VERSION"] = b"1.0"
                legacy = {"id": layer_id, "created": CREATED}
                if parent:
                    legacy["parent"] = parent
                files[f"{layer_id}/json"] = _dumps(legacy)
                files[member] = staging.blobs[layer.blob_digest]
                built_layers.append(
                    BuiltLayer(
                        diff_id=layer.diff_id,
                        blob_digest=layer.blob_digest,
                        blob_size=layer.blob_size,
                        media_type=layer.media_type,
                        member=member,
                    )
                )
                layer_paths.append(member)
                parent = layer_id
            config_member = parts.config_digest.split(":", 1)[1] + ".json"
            files[config_member] = parts.config_bytes
            files["manifest.json"] = _dumps(
                [{"Config": config_member, "RepoTags": [repo_tag], "Layers": layer_paths}]
            )
            files["repositories"] = _dumps({repo: {tag: parent}} if parent else {})
            manifest_digest, manifest = None, None
        else:
            for layer in parts.layers:
                files[layer.member] = staging.blobs[layer.blob_digest]
            files[config_member] = parts.config_bytes
            files["blobs/sha256/" + parts.manifest_digest.split(":", 1)[1]] = parts.manifest_bytes
            annotations = {"org.opencontainers.image.ref.name": tag}
            if fmt == "docker-archive-oci":
                full = repo_tag if "/" in repo else f"docker.io/library/{repo_tag}"
                annotations = {"io.containerd.image.name": full, **annotations}
            files["index.json"] = _dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_INDEX,
                    "manifests": [
                        _descriptor(OCI_MANIFEST, parts.manifest_bytes, annotations=annotations)
                    ],
                }
            )
            files["oci-layout"] = _dumps({"imageLayoutVersion": "1.0.0"})
            if fmt == "docker-archive-oci":
                files["manifest.json"] = _dumps(
                    [
                        {
                            "Config": config_member,
                            "RepoTags": [repo_tag],
                            "Layers": [layer.member for layer in parts.layers],
                        }
                    ]
                )
                files["repositories"] = _dumps({})
        _emit(out, files, as_dir=fmt == "oci-dir", gzip_outer=gzip_outer)
        return BuiltImage(
            path=out,
            fmt=fmt,
            layers=tuple(built_layers),
            config=parts.config,
            config_digest=parts.config_digest,
            config_member=config_member,
            manifest_digest=manifest_digest,
            manifest=manifest,
            platform=platform,
            repo_tag=repo_tag,
        )
    finally:
        staging.cleanup()


def write_image(
    out: Path,
    layers: Sequence[LayerInput],
    *,
    fmt: Fmt,
    compression: Compression = "gzip",
    history: Sequence[dict[str, Any]] | None = None,
    config_extra: dict[str, Any] | None = None,
    platform: PlatformT = ("linux", "amd64", None),
    gzip_outer: bool = False,
    repo_tag: str = "hullscan-test:latest",
) -> Path:
    """Write one image; return its path (see :func:`build_image` for the details)."""
    return build_image(
        out,
        layers,
        fmt=fmt,
        compression=compression,
        history=history,
        config_extra=config_extra,
        platform=platform,
        gzip_outer=gzip_outer,
        repo_tag=repo_tag,
    ).path


def build_multiplatform_oci(
    out: Path,
    images: Sequence[tuple[PlatformT, Sequence[LayerInput]]],
    *,
    archive: bool = False,
    nested: bool = True,
    attestations: bool = False,
    compression: Compression = "gzip",
    ref_name: str = "latest",
) -> BuiltIndex:
    """An OCI layout holding one image per platform.

    ``nested`` (buildx style): ``index.json`` -> one image index (annotated with
    ``ref_name``) -> the platform manifests; otherwise ``index.json`` lists the platform
    manifests directly. ``attestations`` adds buildx-style attestation manifests
    (platform ``unknown/unknown``), which a reader must skip.
    """
    staging = _Staging()
    try:
        files: dict[str, Path | bytes] = {}
        descriptors: list[dict[str, Any]] = []
        built: list[BuiltImage] = []
        for platform, layers in images:
            parts = _build_parts(
                staging,
                layers,
                compression=compression,
                history=None,
                config_extra=None,
                platform=platform,
            )
            for layer in parts.layers:
                files[layer.member] = staging.blobs[layer.blob_digest]
            config_member = "blobs/sha256/" + parts.config_digest.split(":", 1)[1]
            files[config_member] = parts.config_bytes
            files["blobs/sha256/" + parts.manifest_digest.split(":", 1)[1]] = parts.manifest_bytes
            os_name, arch, variant = platform
            plat: dict[str, str] = {"os": os_name, "architecture": arch}
            if variant:
                plat["variant"] = variant
            descriptors.append(_descriptor(OCI_MANIFEST, parts.manifest_bytes, platform=plat))
            if attestations:
                att_config = _dumps({"architecture": "unknown", "os": "unknown", "rootfs": {}})
                att_layer = _dumps({"_type": "https://in-toto.io/Statement/v0.1"})
                att = _dumps(
                    {
                        "schemaVersion": 2,
                        "mediaType": OCI_MANIFEST,
                        "config": _descriptor(OCI_CONFIG, att_config),
                        "layers": [_descriptor("application/vnd.in-toto+json", att_layer)],
                    }
                )
                for data in (att_config, att_layer, att):
                    files["blobs/sha256/" + _sha256(data).split(":", 1)[1]] = data
                descriptors.append(
                    _descriptor(
                        OCI_MANIFEST,
                        att,
                        platform={"os": "unknown", "architecture": "unknown"},
                        annotations={
                            "vnd.docker.reference.digest": parts.manifest_digest,
                            "vnd.docker.reference.type": "attestation-manifest",
                        },
                    )
                )
            built.append(
                BuiltImage(
                    path=out,
                    fmt="oci-archive" if archive else "oci-dir",
                    layers=tuple(parts.layers),
                    config=parts.config,
                    config_digest=parts.config_digest,
                    config_member=config_member,
                    manifest_digest=parts.manifest_digest,
                    manifest=parts.manifest,
                    platform=platform,
                    repo_tag=ref_name,
                )
            )
        ref_annotation = {"org.opencontainers.image.ref.name": ref_name}
        index_digest = None
        if nested:
            nested_index = _dumps(
                {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
            )
            index_digest = _sha256(nested_index)
            files["blobs/sha256/" + index_digest.split(":", 1)[1]] = nested_index
            top = [_descriptor(OCI_INDEX, nested_index, annotations=ref_annotation)]
        else:
            top = [
                {**d, "annotations": {**d.get("annotations", {}), **ref_annotation}}
                for d in descriptors
            ]
        files["index.json"] = _dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": top})
        files["oci-layout"] = _dumps({"imageLayoutVersion": "1.0.0"})
        _emit(out, files, as_dir=not archive)
        return BuiltIndex(path=out, images=tuple(built), index_digest=index_digest)
    finally:
        staging.cleanup()


def write_multiplatform_oci(
    out: Path,
    images: Sequence[tuple[PlatformT, Sequence[LayerInput]]],
    *,
    archive: bool = False,
) -> Path:
    """An OCI layout (directory, or tar when ``archive``) with one image per platform."""
    return build_multiplatform_oci(out, images, archive=archive).path
