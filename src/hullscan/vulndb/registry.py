"""The vulnerability DB as an OCI artifact: ``hullscan db push REF`` / ``hullscan db pull REF``.

So teams can mirror the DB into air-gapped registries with the tools they already use
(``oras``, ``skopeo``, ``crane``), the artifact follows the OCI 1.1 artifact guidance that
ORAS uses:

* an OCI image manifest with ``artifactType: application/vnd.hullscan.db.v1``;
* the empty config (``application/vnd.oci.empty.v1+json``, the two bytes ``{}``);
* one layer, the ``db export`` file (``application/vnd.hullscan.db.export.v1+zstd``),
  annotated ``org.opencontainers.image.title: hullscan-db.export.zst`` (``oras pull`` writes
  it under that name);
* manifest annotations ``org.opencontainers.image.created``,
  ``dev.hullscan.db.schema-version`` and ``dev.hullscan.db.built-at``.

``pull`` checks the artifact type and the schema version before downloading, streams the
layer to a file beside the DB (resumable, bounded, verified against its digest), then
imports it with :func:`~hullscan.vulndb.manage.import_db`, which replaces the DB atomically:
on any failure the current DB is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from hullscan.image.digests import parse_digest, show
from hullscan.image.reference import parse_reference
from hullscan.image.registry.blobs import BlobReader
from hullscan.image.registry.client import RegistryClient
from hullscan.image.registry.errors import RegistryError
from hullscan.image.registry.settings import RegistrySettings
from hullscan.vulndb.manage import DbInfo, export_db, import_db
from hullscan.vulndb.schema import SCHEMA_VERSION
from hullscan.vulndb.store import DbError, VulnStore

ARTIFACT_TYPE = "application/vnd.hullscan.db.v1"
LAYER_TYPE = "application/vnd.hullscan.db.export.v1+zstd"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
TITLE = "org.opencontainers.image.title"
CREATED = "org.opencontainers.image.created"
SCHEMA_ANNOTATION = "dev.hullscan.db.schema-version"
BUILT_ANNOTATION = "dev.hullscan.db.built-at"
EXPORT_NAME = "hullscan-db.export.zst"
DEFAULT_TAG = "latest"
MAX_DB_ARTIFACT = 4 * 1024**3  # the export is ~40 MB today
_MAX_MANIFEST = 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PushResult:
    reference: str  # registry/repository:tag
    digest: str  # of the manifest
    size: int  # of the export layer


@dataclass(frozen=True, slots=True)
class PullResult:
    reference: str
    digest: str
    info: DbInfo


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def _descriptor(media_type: str, digest: str, size: int, **annotations: str) -> dict[str, object]:
    out: dict[str, object] = {"mediaType": media_type, "digest": digest, "size": size}
    if annotations:
        out["annotations"] = annotations
    return out


def push_db(
    db: Path, reference: str, settings: RegistrySettings, *, work_dir: Path | None = None
) -> PushResult:
    """Export ``db`` and push it to ``reference`` (``registry/repository[:tag]``)."""
    ref = parse_reference(reference)
    if ref.digest:
        raise DbError(f"{reference}: push to a tag, not a digest (the digest is the result)")
    tag = ref.tag or DEFAULT_TAG
    with VulnStore(db) as store:
        built_at = store.meta.get("built_at") or ""
    directory = work_dir or db.parent
    export = directory / f".{db.name}.{os.getpid()}.push.zst"
    try:
        size = export_db(db, export)
        digest = _sha256_file(export)
        config_digest = "sha256:" + hashlib.sha256(EMPTY_CONFIG).hexdigest()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": _descriptor(EMPTY_CONFIG_TYPE, config_digest, len(EMPTY_CONFIG)),
            "layers": [_descriptor(LAYER_TYPE, digest, size, **{TITLE: EXPORT_NAME})],
            "annotations": {
                CREATED: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                SCHEMA_ANNOTATION: str(SCHEMA_VERSION),
                BUILT_ANNOTATION: built_at,
            },
        }
        data = json.dumps(manifest, separators=(",", ":")).encode()

        def open_export() -> IO[bytes]:
            return export.open("rb")

        with RegistryClient(ref.registry, settings) as client:
            client.push_blob(ref.repository, config_digest, len(EMPTY_CONFIG), EMPTY_CONFIG)
            client.push_blob(ref.repository, digest, size, open_export)
            client.push_manifest(ref.repository, tag, data, OCI_MANIFEST)
    finally:
        export.unlink(missing_ok=True)
    return PushResult(
        reference=f"{ref.name}:{tag}",
        digest="sha256:" + hashlib.sha256(data).hexdigest(),
        size=size,
    )


def _check_artifact(doc: object, where: str) -> dict[str, object]:
    """The export layer's descriptor, after checking that ``doc`` is a hullscan DB artifact
    this hullscan can read."""
    if not isinstance(doc, dict):
        raise DbError(f"{where}: not a JSON object")
    artifact = doc.get("artifactType")
    config = doc.get("config")
    config_type = config.get("mediaType") if isinstance(config, dict) else None
    if artifact != ARTIFACT_TYPE and config_type != ARTIFACT_TYPE:
        shown = artifact or config_type or doc.get("mediaType")
        raise DbError(f"{where}: not a hullscan DB (artifact type {show(shown)})")
    annotations = doc.get("annotations")
    version = annotations.get(SCHEMA_ANNOTATION) if isinstance(annotations, dict) else None
    if version != str(SCHEMA_VERSION):
        raise DbError(
            f"{where}: DB schema version {show(version)} is not supported (this hullscan reads "
            f"version {SCHEMA_VERSION}); the current DB is unchanged"
        )
    layers = doc.get("layers")
    ours = [
        d for d in layers if isinstance(d, dict) and d.get("mediaType") == LAYER_TYPE
    ] if isinstance(layers, list) else []  # fmt: skip
    if len(ours) != 1:
        raise DbError(f"{where}: expected one {LAYER_TYPE} layer, found {len(ours)}")
    return ours[0]


def pull_db(
    reference: str, db: Path, settings: RegistrySettings, *, max_bytes: int = MAX_DB_ARTIFACT
) -> PullResult:
    """Download the DB artifact at ``reference`` and replace ``db`` with it, atomically."""
    ref = parse_reference(reference)
    wanted = ref.digest or ref.tag or DEFAULT_TAG
    where = f"{ref.name}:{wanted}" if not ref.digest else f"{ref.name}@{ref.digest}"
    with RegistryClient(ref.registry, settings) as client:
        fetched = client.fetch(
            ref.repository, "manifests", wanted, limit=_MAX_MANIFEST, accept=OCI_MANIFEST
        )
        manifest_digest = fetched.verified_digest(wanted, where=where)
        try:
            doc = json.loads(fetched.data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DbError(f"{where}: the manifest is not JSON") from None
        layer = _check_artifact(doc, where)
        digest = parse_digest(layer.get("digest"), where=f"{where}: layer")
        size = layer.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= max_bytes:
            raise DbError(f"{where}: layer size {show(size)} is not within 1..{max_bytes}")
        db.parent.mkdir(parents=True, exist_ok=True)
        part = db.with_name(f".{db.name}.{os.getpid()}.pull.zst")
        try:
            reader = BlobReader(
                client, fetched.endpoint, ref.repository, str(digest), size, max_bytes=max_bytes
            )
            h = hashlib.new(digest.algorithm)
            with reader, part.open("wb") as out:
                while chunk := reader.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            got = f"{digest.algorithm}:{h.hexdigest()}"
            if got != str(digest):
                raise RegistryError(
                    f"{where}: DB layer digest mismatch: manifest says {digest}, bytes hash to "
                    f"{got}; the current DB is unchanged"
                )
            info = import_db(part, db)
        finally:
            part.unlink(missing_ok=True)
    return PullResult(reference=where, digest=str(manifest_digest), info=info)
