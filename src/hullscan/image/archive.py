"""``docker-archive:PATH[:REPO:TAG | :@N]``: tarballs written by ``docker save``.

Two layouts are read, both driven by the top-level ``manifest.json``
(``[{"Config": ..., "RepoTags": [...], "Layers": [...]}]``):

- classic (Docker < 25): ``<id>/layer.tar`` layers (uncompressed, possibly symlinks to another
  image's copy of the same layer) and a ``<config-hex>.json`` config;
- OCI-in-docker (Docker >= 25): ``blobs/sha256/<hex>`` paths, next to ``index.json`` and
  ``oci-layout``. The OCI manifest whose config matches is looked up in ``index.json`` to
  fill the manifest digest and the layers' media types.

The archive may be compressed as a whole (``docker save | gzip``); see
:class:`hullscan.image.oci.TarStore` for why it is then decompressed once to a temporary file.

An archive can hold several images. Without a selector the first entry of ``manifest.json``
is scanned (a warning names the others); ``PATH:REPO:TAG`` picks the entry with that tag
(skopeo's syntax; ``:latest`` is implied and ``docker.io/library/`` ignored) and ``PATH:@N``
the N-th entry (0-based).

Verified here: ``manifest.json`` and the config are read within ``limits.max_metadata_bytes``;
a config named by digest (``<hex>.json`` or ``blobs/sha256/<hex>``) must hash to it; layer
paths must be relative without ``..``; ``blobs/sha256/`` names must be hex digests (they
become each layer's ``blob_digest``, verified while streaming by the layer module).

Example::

    with DockerArchiveSource("image.tar", ref="alpine:3.20") as src:
        info = src.resolve(None)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hullscan.errors import (
    DigestMismatchError,
    LimitExceededError,
    ManifestError,
    SourceNotFoundError,
)
from hullscan.image.digests import (
    SHA256,
    Digest,
    compute_digest,
    digest_from_blob_path,
    is_valid_hex,
    show,
    verify_digest,
)
from hullscan.image.limits import DEFAULT_LIMITS, Limits
from hullscan.image.oci import (
    MANIFEST_TYPES,
    Descriptor,
    FileRangeOpener,
    LayerBlob,
    LayoutStore,
    Manifest,
    TarStore,
    build_image_info,
    check_config_platform,
    expand_index,
    is_attestation,
    parse_image_config,
    parse_index,
    parse_json,
    parse_manifest,
    read_blob,
    read_json,
    read_located,
    safe_relpath,
    truncation_hint,
)
from hullscan.image.platform import parse_platform
from hullscan.image.source import ImageInfo

_NOT_AN_IMAGE = "not a docker-archive or OCI image"


@dataclass(frozen=True, slots=True)
class DockerImageEntry:
    """One entry of a docker-save ``manifest.json``; paths already checked to be safe."""

    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]


def parse_docker_manifest(obj: object, *, where: str) -> tuple[DockerImageEntry, ...]:
    """Validate a decoded ``manifest.json``; ``ManifestError`` naming ``where`` otherwise."""
    if not isinstance(obj, list):
        raise ManifestError(f"{where}: expected a JSON list of images, got {show(obj)}")
    if not obj:
        raise ManifestError(f"{where}: lists no images")
    entries = []
    for i, raw in enumerate(obj):
        here = f"{where}: [{i}]"
        if not isinstance(raw, dict):
            raise ManifestError(f"{here}: expected a JSON object, got {show(raw)}")
        config = safe_relpath(raw.get("Config"), where=f"{here}: Config")
        tags = raw.get("RepoTags")
        if tags is None:
            tags = []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ManifestError(f"{here}: RepoTags must be a list of strings, got {show(tags)}")
        layers = raw.get("Layers")
        if not isinstance(layers, list):
            raise ManifestError(f"{here}: Layers must be a list, got {show(layers)}")
        entries.append(
            DockerImageEntry(
                config=config,
                repo_tags=tuple(tags),
                layers=tuple(
                    safe_relpath(p, where=f"{here}: Layers[{j}]") for j, p in enumerate(layers)
                ),
            )
        )
    return tuple(entries)


def _canonical_tag(tag: str) -> str:
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            tag = tag[len(prefix) :]
            break
    last = tag.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        tag += ":latest"
    return tag


def select_entry(
    entries: tuple[DockerImageEntry, ...], ref: str | None, *, where: str
) -> tuple[DockerImageEntry, tuple[str, ...]]:
    """The entry to scan and any warning: by ``ref`` (``REPO:TAG`` or ``@N``) or the first."""
    if ref is None:
        warnings: tuple[str, ...] = ()
        if len(entries) > 1:
            others = [", ".join(e.repo_tags) or "untagged" for e in entries[1:]]
            warnings = (
                f"{where}: archive holds {len(entries)} images; scanning the first "
                f"({', '.join(entries[0].repo_tags) or 'untagged'}); others: "
                f"{'; '.join(others)} (select with docker-archive:PATH:REPO:TAG or :@N)",
            )
        return entries[0], warnings
    if ref.startswith("@"):
        n = ref[1:]
        if not n.isdigit() or int(n) >= len(entries):
            raise ManifestError(
                f"{where}: no image {show(ref)}: the archive holds {len(entries)} "
                f"(@0..@{len(entries) - 1})"
            )
        return entries[int(n)], ()
    want = _canonical_tag(ref)
    for entry in entries:
        if any(_canonical_tag(t) == want for t in entry.repo_tags):
            return entry, ()
    available = sorted({t for e in entries for t in e.repo_tags})
    raise ManifestError(
        f"{where}: no image tagged {show(ref)} (available: "
        f"{', '.join(available) or 'no tags'}; or use :@N)"
    )


def _config_digest_from_path(path: str, *, where: str) -> Digest | None:
    """The digest a config path promises: ``blobs/sha256/<hex>`` or classic ``<hex>.json``."""
    d = digest_from_blob_path(path, where=where)
    if d is not None:
        return d
    if "/" not in path and path.endswith(".json") and is_valid_hex(SHA256, path[:-5]):
        return Digest(SHA256, path[:-5])
    return None


class DockerArchiveSource:
    """A ``docker save`` tarball (see the module docstring)."""

    kind = "docker-archive"

    def __init__(
        self,
        path: str | Path,
        *,
        ref: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        work_dir: Path | None = None,
        name: str | None = None,
        store: TarStore | None = None,
    ) -> None:
        self.path = Path(path)
        self.ref = ref or None
        self.limits = limits
        self.work_dir = work_dir
        self.label = str(path)
        self.name = name or f"{self.kind}:{path}" + (f":{ref}" if ref else "")
        self._store: TarStore | None = store
        if store is None:
            if not self.path.exists():
                raise SourceNotFoundError(f"{self.label}: no such file")
            if self.path.is_dir():
                raise SourceNotFoundError(
                    f"{self.label}: is a directory; docker-archive: expects the tar written by "
                    "docker save (use oci-dir: or dir: for directories)"
                )

    def store(self) -> TarStore:
        if self._store is None:
            self._store = TarStore.open(
                self.path, limits=self.limits, work_dir=self.work_dir, label=self.label
            )
        return self._store

    def resolve(self, platform: str | None) -> ImageInfo:
        parse_platform(platform)  # a bad --platform fails before anything is read
        store = self.store()
        label, limits = self.label, self.limits
        if store.locate("manifest.json") is None:
            if store.locate("index.json") is not None and store.locate("oci-layout") is not None:
                raise SourceNotFoundError(
                    f"{label}: not a docker-archive: no manifest.json, but an OCI layout "
                    f"(use oci-archive:{self.path})"
                )
            raise SourceNotFoundError(
                f"{label}: {_NOT_AN_IMAGE}: no manifest.json or index.json in the archive"
                f"{truncation_hint(store)}"
            )
        where = f"{label}: manifest.json"
        entries = parse_docker_manifest(
            read_json(store, "manifest.json", limits=limits, missing="no manifest.json"),
            where=where,
        )
        entry, warnings = select_entry(entries, self.ref, where=where)
        if len(entry.layers) > limits.max_layers:
            raise LimitExceededError(
                f"{where}: {len(entry.layers)} layers, over the limit of {limits.max_layers} "
                "(max_layers)"
            )

        cwhere = f"{label}: config {entry.config}"
        config_loc = store.locate(entry.config)
        if config_loc is None:
            raise ManifestError(f"{where}: names missing config {entry.config}")
        config_bytes = read_located(config_loc, limit=limits.max_metadata_bytes, where=cwhere)
        promised = _config_digest_from_path(entry.config, where=where)
        if promised is not None:
            verify_digest(config_bytes, promised, where=cwhere)
            config_digest = str(promised)
        else:
            config_digest = compute_digest(config_bytes)
        config = parse_image_config(parse_json(config_bytes, where=cwhere), where=cwhere)
        check_config_platform(config, platform, label=label)

        layers = []
        for i, path in enumerate(entry.layers):
            loc = store.locate(path)
            blob = digest_from_blob_path(path, where=f"{where}: Layers[{i}]")
            if loc is None:
                named = f"layer blob {blob}" if blob else f"layer {path}"
                raise ManifestError(f"{where}: names missing {named} (Layers[{i}])")
            layers.append(
                LayerBlob(
                    opener=FileRangeOpener(loc.path, loc.offset, loc.size),
                    blob_digest=str(blob) if blob else None,
                    media_type=None,
                    size=loc.size,
                )
            )

        manifest_digest = None
        found = self._find_oci_manifest(store, config_digest)
        if found is not None:
            desc, manifest = found
            manifest_digest = str(desc.digest)
            layers = _merge_manifest(layers, manifest, entry, label=label)

        return build_image_info(
            label=label,
            name=self.name,
            kind=self.kind,
            config=config,
            config_digest=config_digest,
            manifest_digest=manifest_digest,
            layers=layers,
            repo_tags=entry.repo_tags,
            warnings=warnings,
        )

    def _find_oci_manifest(
        self, store: LayoutStore, config_digest: str
    ) -> tuple[Descriptor, Manifest] | None:
        """Docker >= 25: the verified OCI manifest (from ``index.json``) of this config."""
        if store.locate("index.json") is None:
            return None
        iwhere = f"{self.label}: index.json"
        index = parse_index(
            read_json(store, "index.json", limits=self.limits, missing="no index.json"),
            where=iwhere,
        )
        cands = expand_index(store, index.manifests, limits=self.limits, skip_missing=True)
        for cand in cands:
            desc = cand.desc
            if is_attestation(desc) or (
                desc.media_type is not None and desc.media_type not in MANIFEST_TYPES
            ):
                continue
            mwhere = f"{self.label}: manifest {desc.digest}"
            doc = parse_json(
                read_blob(store, desc, limits=self.limits, what="manifest"), where=mwhere
            )
            config = doc.get("config") if isinstance(doc, dict) else None
            if isinstance(config, dict) and config.get("digest") == config_digest:
                return desc, parse_manifest(doc, where=mwhere, media_type=desc.media_type)
        return None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> DockerArchiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _merge_manifest(
    layers: list[LayerBlob], manifest: Manifest, entry: DockerImageEntry, *, label: str
) -> list[LayerBlob]:
    """Take media types (and digests) from the OCI manifest; it must agree with manifest.json."""
    if len(manifest.layers) != len(layers):
        raise ManifestError(
            f"{label}: manifest.json lists {len(layers)} layers but the OCI manifest in "
            f"index.json lists {len(manifest.layers)}"
        )
    merged = []
    for i, (blob, desc) in enumerate(zip(layers, manifest.layers, strict=True)):
        if blob.blob_digest is not None and blob.blob_digest != str(desc.digest):
            raise ManifestError(
                f"{label}: manifest.json layer {entry.layers[i]} disagrees with the OCI "
                f"manifest in index.json ({desc.digest})"
            )
        if desc.size is not None and blob.size is not None and desc.size != blob.size:
            raise DigestMismatchError(
                f"{label}: layer {entry.layers[i]} is {blob.size} bytes, the OCI manifest in "
                f"index.json says {desc.size}"
            )
        merged.append(
            LayerBlob(
                opener=blob.opener,
                blob_digest=blob.blob_digest,
                media_type=desc.media_type,
                size=blob.size,
            )
        )
    return merged
