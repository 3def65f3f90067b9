"""``hullscan image nginx:1.25``: an image read straight from a registry, no daemon.

Resolution: the reference (normalized as Docker does) -> ``GET manifests/<tag or digest>``
with every image media type accepted -> the bytes hashed (a digest reference must match; a
tag's bytes must match the registry's ``Docker-Content-Digest`` when it sends one) -> an
index or manifest list is narrowed to one image by platform (attestations, signatures and
other artifacts are never candidates), nested indexes followed (bounded) -> the chosen
manifest fetched by digest and verified -> the config blob fetched and verified -> one
picklable opener per layer, streamed later by the walk and verified against its digest and
diff_id as it streams.

The digest the tag resolved to is kept in ``Target.repo_digests`` (``name@sha256:...``) and
printed by every report.
"""

from __future__ import annotations

from dataclasses import dataclass

from hullscan.errors import DigestMismatchError, LimitExceededError, ManifestError
from hullscan.image.digests import Digest, show, verify_digest
from hullscan.image.limits import DEFAULT_LIMITS, Limits
from hullscan.image.oci import (
    CONFIG_TYPES,
    DOCKER_SCHEMA1,
    INDEX_TYPES,
    MANIFEST_TYPES,
    Descriptor,
    Index,
    LayerBlob,
    artifact_hint,
    build_image_info,
    check_config_platform,
    is_attestation,
    parse_image_config,
    parse_index,
    parse_json,
    parse_manifest,
)
from hullscan.image.platform import Platform, best_match, parse_platform
from hullscan.image.reference import Reference, parse_reference
from hullscan.image.registry.blobs import RegistryBlobOpener
from hullscan.image.registry.client import MANIFEST_ACCEPT, Endpoint, RegistryClient
from hullscan.image.registry.settings import RegistrySettings
from hullscan.image.source import ImageInfo

KIND = "registry"
_MAX_INDEX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class _Document:
    """A manifest or index fetched and verified: its digest, media type and parsed JSON."""

    digest: Digest
    media_type: str | None
    doc: object
    endpoint: Endpoint


def _kind(media_type: str | None, doc: object) -> str:
    """'index', 'manifest', 'schema1' or 'other' from the document, then the header."""
    doc_mt = doc.get("mediaType") if isinstance(doc, dict) else None
    mt = doc_mt if isinstance(doc_mt, str) and doc_mt else media_type
    if isinstance(doc, dict) and (doc.get("schemaVersion") == 1 or "fsLayers" in doc):
        return "schema1"
    if mt in DOCKER_SCHEMA1:
        return "schema1"
    if mt in INDEX_TYPES or (mt in (None, "application/json") and isinstance(doc, dict)
                             and "manifests" in doc):  # fmt: skip
        return "index"
    if mt in MANIFEST_TYPES or (mt in (None, "application/json") and isinstance(doc, dict)
                                and "layers" in doc):  # fmt: skip
        return "manifest"
    return "other"


class RegistrySource:
    """A Source over a registry reference (see the module docstring)."""

    kind = KIND

    def __init__(
        self,
        reference: str | Reference,
        *,
        settings: RegistrySettings | None = None,
        limits: Limits = DEFAULT_LIMITS,
        name: str | None = None,
    ) -> None:
        self.ref = reference if isinstance(reference, Reference) else parse_reference(reference)
        self.settings = settings or RegistrySettings()
        self.limits = limits
        self.name = name or str(reference)
        self.client = RegistryClient(self.ref.registry, self.settings)

    @property
    def label(self) -> str:
        return str(self.ref)

    def _fetch_document(self, reference: str, *, endpoint: Endpoint | None = None) -> _Document:
        fetched = self.client.fetch(
            self.ref.repository,
            "manifests",
            reference,
            limit=self.limits.max_metadata_bytes,
            accept=MANIFEST_ACCEPT,
            endpoint=endpoint,
        )
        digest = fetched.verified_digest(
            reference, where=f"{self.label}: manifest {show(reference)[1:-1]}"
        )
        where = f"{self.label}: manifest {digest}"
        return _Document(
            digest=digest,
            media_type=fetched.media_type,
            doc=parse_json(fetched.data, where=where),
            endpoint=fetched.endpoint,
        )

    def resolve(self, platform: str | None) -> ImageInfo:
        want = parse_platform(platform)  # a bad --platform fails before anything is fetched
        reference = self.ref.digest or self.ref.tag or "latest"
        top = self._fetch_document(reference)
        doc, manifest_digest, media_type = top, top.digest, top.media_type
        depth = 0
        seen: set[str] = set()
        while True:
            kind = _kind(doc.media_type, doc.doc)
            where = f"{self.label}: manifest {doc.digest}"
            if kind == "schema1":
                raise ManifestError(
                    f"{where}: Docker schema 1 manifest is not supported (deprecated since "
                    "2017; push the image again with a current docker/skopeo)"
                )
            if kind == "other":
                mt = doc.doc.get("mediaType") if isinstance(doc.doc, dict) else None
                shown = mt or doc.media_type
                raise ManifestError(
                    f"{where}: media type {show(shown)}: {artifact_hint(str(shown))}"
                )
            if kind == "manifest":
                manifest_digest, media_type = doc.digest, doc.media_type
                break
            depth += 1
            if depth > _MAX_INDEX_DEPTH or str(doc.digest) in seen:
                raise ManifestError(f"{where}: image index nests too deeply or loops")
            seen.add(str(doc.digest))
            chosen = self._choose(parse_index(doc.doc, where=where), want, platform, where)
            doc = self._fetch_document(str(chosen.digest), endpoint=top.endpoint)
            if chosen.media_type and doc.media_type is None:
                doc = _Document(doc.digest, chosen.media_type, doc.doc, doc.endpoint)
        where = f"{self.label}: manifest {manifest_digest}"
        manifest = parse_manifest(doc.doc, where=where, media_type=media_type)
        if len(manifest.layers) > self.limits.max_layers:
            raise LimitExceededError(
                f"{where}: {len(manifest.layers)} layers, over the limit of "
                f"{self.limits.max_layers} (max_layers)"
            )
        config_bytes = self._blob(manifest.config, doc.endpoint, "config")
        cwhere = f"{self.label}: config {manifest.config.digest}"
        config = parse_image_config(parse_json(config_bytes, where=cwhere), where=cwhere)
        check_config_platform(config, platform, label=self.label)
        layers = [self._layer(d, doc.endpoint) for d in manifest.layers]
        info = build_image_info(
            label=self.label,
            name=self.name,
            kind=KIND,
            config=config,
            config_digest=str(manifest.config.digest),
            manifest_digest=str(manifest_digest),
            layers=layers,
            repo_tags=(f"{self.ref.name}:{self.ref.tag}",) if self.ref.tag else (),
            repo_digests=(f"{self.ref.name}@{top.digest}",),
        )
        return info

    def _choose(self, index: Index, want: Platform, platform: str | None, where: str) -> Descriptor:
        cands = [
            d
            for d in index.manifests
            if not is_attestation(d)
            and (d.artifact_type is None or d.artifact_type in CONFIG_TYPES)
            and (d.media_type is None or d.media_type in MANIFEST_TYPES | INDEX_TYPES)
        ]
        if not cands:
            raise ManifestError(
                f"{where}: the index lists no image (only attestations or artifacts)"
            )
        if len(cands) == 1 and (not platform or cands[0].platform is None):
            return cands[0]
        best = best_match(want, [d.platform for d in cands])
        if best is None:
            names = sorted({str(d.platform) for d in cands if d.platform is not None})
            raise ManifestError(
                f"{where}: no image for platform {want} (available: "
                f"{', '.join(names) or 'none declared'})"
            )
        return cands[best]

    def _blob(self, desc: Descriptor, endpoint: Endpoint, what: str) -> bytes:
        where = f"{self.label}: {what} {desc.digest}"
        limit = self.limits.max_metadata_bytes
        if desc.size is not None and desc.size > limit:
            raise LimitExceededError(
                f"{where}: {desc.size} bytes, over the limit of {limit} (max_metadata_bytes)"
            )
        fetched = self.client.fetch(
            self.ref.repository, "blobs", str(desc.digest), limit=limit, endpoint=endpoint
        )
        if desc.size is not None and len(fetched.data) != desc.size:
            raise DigestMismatchError(
                f"{where}: size mismatch: descriptor says {desc.size} bytes, blob has "
                f"{len(fetched.data)}"
            )
        verify_digest(fetched.data, desc.digest, where=where)
        return fetched.data

    def _layer(self, desc: Descriptor, endpoint: Endpoint) -> LayerBlob:
        return LayerBlob(
            opener=RegistryBlobOpener(
                registry=self.ref.registry,
                settings=self.settings,
                endpoint=endpoint,
                repository=self.ref.repository,
                digest=str(desc.digest),
                size=desc.size,
                max_bytes=self.limits.max_layer_bytes,
            ),
            blob_digest=str(desc.digest),
            media_type=desc.media_type,
            size=desc.size,
        )

    def close(self) -> None:
        self.client.close()
