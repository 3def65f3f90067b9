"""Hostile variants of images written by :mod:`tests.images.builder`.

Each helper edits an image in place (a layout directory, a tar, or a gzipped tar) and
returns its path. ``rehash=True`` keeps everything consistent (new digests propagated up to
``index.json``/``manifest.json``) so that exactly one thing is wrong; ``rehash=False`` keeps
the edited document's old name (and digest in its descriptor) while sizes and parents are
updated, so that only its digest disagrees with its bytes.

    corrupt.replace_blob(img.path, img.layers[0].blob_digest, b"evil")      # digest mismatch
    corrupt.drop_blob(img.path, img.config_digest)                         # missing blob
    corrupt.edit_config(img.path, lambda c: c["rootfs"]["diff_ids"].pop())  # count mismatch
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JsonEdit = Callable[[Any], Any]


@dataclass
class _Member:
    data: bytes = b""
    kind: str = "file"  # file | dir | symlink | hardlink
    target: str = ""


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class ImageFiles:
    """All members of a (small, test) image in memory, written back in the same shape."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_dir = path.is_dir()
        self.gzipped = False
        self.members: dict[str, _Member] = {}
        if self.is_dir:
            for dirpath, dirnames, filenames in os.walk(path):
                for name in sorted(dirnames + filenames):
                    full = Path(dirpath, name)
                    rel = full.relative_to(path).as_posix()
                    if full.is_symlink():
                        self.members[rel] = _Member(kind="symlink", target=os.readlink(full))
                    elif full.is_file():
                        self.members[rel] = _Member(full.read_bytes())
            return
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            self.gzipped = True
            raw = gzip.decompress(raw)
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
            for ti in tf:
                name = ti.name.rstrip("/")
                if ti.isdir():
                    self.members[name] = _Member(kind="dir")
                elif ti.issym():
                    self.members[name] = _Member(kind="symlink", target=ti.linkname)
                elif ti.islnk():
                    self.members[name] = _Member(kind="hardlink", target=ti.linkname)
                else:
                    f = tf.extractfile(ti)
                    self.members[name] = _Member(f.read() if f else b"")

    # -- access --
    def read(self, name: str) -> bytes:
        return self.members[name].data

    def write(self, name: str, data: bytes) -> None:
        self.members[name] = _Member(data)

    def drop(self, name: str) -> None:
        del self.members[name]

    def json(self, name: str) -> Any:
        return json.loads(self.read(name))

    def write_json(self, name: str, obj: Any) -> bytes:
        data = _dumps(obj)
        self.write(name, data)
        return data

    def blob_name(self, digest: str) -> str:
        return f"blobs/sha256/{_hex(digest)}"

    # -- structure --
    def manifest_name(self) -> str:
        """The image manifest reached from index.json (first descriptor, through one level
        of nested index)."""
        index = self.json("index.json")
        desc = index["manifests"][0]
        doc = self.json(self.blob_name(desc["digest"]))
        if "manifests" in doc:
            return self.blob_name(doc["manifests"][0]["digest"])
        return self.blob_name(desc["digest"])

    def save(self, out: Path | None = None) -> Path:
        out = out or self.path
        if self.is_dir:
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            for name, m in self.members.items():
                dest = out / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                if m.kind == "symlink":
                    os.symlink(m.target, dest)
                elif m.kind == "file":
                    dest.write_bytes(m.data)
            return out
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for name, m in self.members.items():
                ti = tarfile.TarInfo(name)
                if m.kind == "dir":
                    ti.type = tarfile.DIRTYPE
                    ti.mode = 0o755
                    tf.addfile(ti)
                elif m.kind in ("symlink", "hardlink"):
                    ti.type = tarfile.SYMTYPE if m.kind == "symlink" else tarfile.LNKTYPE
                    ti.linkname = m.target
                    tf.addfile(ti)
                else:
                    ti.size = len(m.data)
                    ti.mode = 0o644
                    tf.addfile(ti, io.BytesIO(m.data))
        raw = buf.getvalue()
        out.write_bytes(gzip.compress(raw) if self.gzipped else raw)
        return out


# --- blobs and members --------------------------------------------------------------------


def replace_blob(image: Path, digest: str, data: bytes) -> Path:
    """Replace the bytes of blob ``digest`` (OCI layouts) keeping its name."""
    f = ImageFiles(image)
    f.write(f.blob_name(digest), data)
    return f.save()


def drop_blob(image: Path, digest: str) -> Path:
    f = ImageFiles(image)
    f.drop(f.blob_name(digest))
    return f.save()


def replace_member(image: Path, name: str, data: bytes) -> Path:
    """Replace any member (classic ``<id>/layer.tar``, ``manifest.json``...) by path."""
    f = ImageFiles(image)
    f.write(name, data)
    return f.save()


def drop_member(image: Path, name: str) -> Path:
    f = ImageFiles(image)
    f.drop(name)
    return f.save()


def link_member(image: Path, name: str, target: str, *, hard: bool = False) -> Path:
    """Turn member ``name`` into a symlink (or hard link) to ``target`` (a tar only)."""
    f = ImageFiles(image)
    f.members[name] = _Member(kind="hardlink" if hard else "symlink", target=target)
    return f.save()


def symlink_blob(layout: Path, digest: str, target: Path | str) -> Path:
    """Replace blob ``digest`` of a layout directory by a symlink to ``target``."""
    blob = layout / "blobs" / "sha256" / _hex(digest)
    blob.unlink()
    os.symlink(target, blob)
    return layout


# --- documents ----------------------------------------------------------------------------


def _edit(obj: Any, fn: JsonEdit) -> Any:
    """Editors mutate the decoded document in place; their return value is ignored (so
    ``lambda c: c["rootfs"]["diff_ids"].pop()`` works)."""
    fn(obj)
    return obj


def edit_index(image: Path, fn: JsonEdit) -> Path:
    f = ImageFiles(image)
    f.write_json("index.json", _edit(f.json("index.json"), fn))
    return f.save()


def edit_docker_manifest(image: Path, fn: JsonEdit) -> Path:
    """Edit the docker-save ``manifest.json`` (a list of image entries)."""
    f = ImageFiles(image)
    f.write_json("manifest.json", _edit(f.json("manifest.json"), fn))
    return f.save()


def _store_manifest(f: ImageFiles, old_name: str, data: bytes, *, keep_name: bool = False) -> None:
    """Store a new manifest under its digest (or, ``keep_name``, under the old one) and
    repoint index.json or the nested index (digest and size; a nested index is rehashed)."""
    old_digest = "sha256:" + old_name.rsplit("/", 1)[1]
    new_digest = old_digest if keep_name else _sha256(data)
    f.drop(old_name)
    f.write(f.blob_name(new_digest), data)

    def repoint(doc: Any) -> bool:
        for d in doc.get("manifests", []):
            if d.get("digest") == old_digest:
                d["digest"] = new_digest
                d["size"] = len(data)
                return True
        return False

    index = f.json("index.json")
    if repoint(index):
        f.write_json("index.json", index)
        return
    nested_desc = index["manifests"][0]
    nested_name = f.blob_name(nested_desc["digest"])
    nested = f.json(nested_name)
    repoint(nested)
    nested_data = _dumps(nested)
    f.drop(nested_name)
    f.write(f.blob_name(_sha256(nested_data)), nested_data)
    nested_desc["digest"] = _sha256(nested_data)
    nested_desc["size"] = len(nested_data)
    f.write_json("index.json", index)


def edit_manifest(image: Path, fn: JsonEdit, *, rehash: bool = True) -> Path:
    """Edit the image manifest of an OCI layout (or Docker >= 25 archive)."""
    f = ImageFiles(image)
    name = f.manifest_name()
    data = _dumps(_edit(f.json(name), fn))
    _store_manifest(f, name, data, keep_name=not rehash)
    return f.save()


def set_manifest_bytes(image: Path, data: bytes, *, rehash: bool = True) -> Path:
    """Replace the image manifest by arbitrary bytes (e.g. a schema-1 document)."""
    f = ImageFiles(image)
    _store_manifest(f, f.manifest_name(), data, keep_name=not rehash)
    return f.save()


def edit_config(image: Path, fn: JsonEdit, *, rehash: bool = True) -> Path:
    """Edit the image config. With ``rehash`` the new config gets its own digest and every
    reference follows (OCI manifest -> index.json, docker ``manifest.json`` Config)."""
    f = ImageFiles(image)
    docker = f.json("manifest.json") if "manifest.json" in f.members else None
    if "index.json" in f.members:
        mname = f.manifest_name()
        manifest = f.json(mname)
        old_name = f.blob_name(manifest["config"]["digest"])
    else:
        assert docker is not None
        mname, manifest = "", None
        old_name = docker[0]["Config"]
    data = _dumps(_edit(f.json(old_name), fn))
    new_digest = _sha256(data)
    f.drop(old_name)
    if not rehash:
        new_name, new_digest = old_name, manifest["config"]["digest"] if manifest else ""
    elif old_name.startswith("blobs/"):
        new_name = f.blob_name(new_digest)
    else:
        new_name = _hex(new_digest) + ".json"
    f.write(new_name, data)
    if docker is not None:
        for entry in docker:
            if entry["Config"] == old_name:
                entry["Config"] = new_name
        f.write_json("manifest.json", docker)
    if manifest is not None:
        manifest["config"]["digest"] = new_digest
        manifest["config"]["size"] = len(data)
        _store_manifest(f, mname, _dumps(manifest))
    return f.save()


def point_manifest_at_missing_config(image: Path) -> Path:
    """The manifest names a config blob that is not in the layout."""
    missing = _sha256(b"this config does not exist")

    def fn(m: Any) -> None:
        m["config"]["digest"] = missing
        m["config"]["size"] = 26

    return edit_manifest(image, fn)
