"""What every output format implements, and helpers the writers and readers share.

A :class:`Writer` renders an :class:`~hullscan.model.SBOM` to a text stream. Formats that can be
read back (the native JSON, CycloneDX, SPDX) also implement :class:`SBOMReader`, so a stored SBOM
can be a scan target and round trips are testable::

    import io
    from hullscan.report.registry import get_writer

    writer = get_writer("cyclonedx")
    buf = io.StringIO()
    writer.write_sbom(sbom, buf)
    again = writer.read_sbom(io.StringIO(buf.getvalue()))   # SBOMReader

Readers treat their input as hostile: the text is read up to a size bound, decoded with msgspec
into typed structs (wrong types are rejected, deep nesting stops at msgspec's recursion guard),
the package count is bounded, and every failure is a :class:`~hullscan.errors.ParseError` with a
one-line message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import msgspec
from packageurl import PackageURL

from hullscan.errors import ParseError
from hullscan.model import (
    SBOM,
    AnalyzerStatus,
    ApkMeta,
    BinaryMeta,
    Distro,
    DpkgMeta,
    FileError,
    GoMeta,
    JavaMeta,
    LayerRef,
    Location,
    LockMeta,
    Package,
    PackageMetadata,
    Relationship,
    RpmMeta,
    Target,
)
from hullscan.model.sbom import Drift

#: Largest SBOM document a reader accepts (characters). A 100k-package image makes ~150 MB of SPDX.
MAX_SBOM_CHARS = 256 * 1024 * 1024
#: Most components/packages a CycloneDX or SPDX reader accepts (each costs a purl parse).
MAX_SBOM_PACKAGES = 250_000

_T = TypeVar("_T")


@runtime_checkable
class Writer(Protocol):
    """An output format. ``id`` is the kebab-case name users pass to ``--format``."""

    id: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]]
    media_type: ClassVar[str]

    def write_sbom(self, sbom: SBOM, stream: IO[str]) -> None:
        """Render ``sbom`` to ``stream`` (which the caller owns and closes)."""
        ...


@runtime_checkable
class SBOMReader(Protocol):
    """A format that can be read back into the typed model."""

    def read_sbom(self, stream: IO[str]) -> SBOM:
        """Parse a document; raise only :class:`~hullscan.errors.ParseError` on bad input."""
        ...


def package_sort_key(p: Package) -> tuple[str, ...]:
    """(type, name, version, arch, location, purl, layer): the order writers list packages in."""
    return (
        p.type,
        p.name,
        p.version,
        p.arch or "",
        p.locations[0].path if p.locations else "",
        p.purl,
        p.layer_diff_id or "",
    )


def sorted_packages(sbom: SBOM) -> list[Package]:
    return sorted(sbom.packages, key=package_sort_key)


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and cap the length: error messages must stay one short line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def read_bounded(stream: IO[str], what: str, max_chars: int = MAX_SBOM_CHARS) -> str:
    """Read the whole stream, refusing documents larger than ``max_chars``."""
    try:
        text = stream.read(max_chars + 1)
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise ParseError(f"{what}: cannot read input: {one_line(str(exc))}") from None
    if not isinstance(text, str):
        raise ParseError(f"{what}: expected a text stream")
    if len(text) > max_chars:
        raise ParseError(f"{what}: document larger than {max_chars} characters")
    if not text.strip():
        raise ParseError(f"{what}: empty document")
    return text


def decode_json(text: str | bytes, type_: type[_T], what: str) -> _T:
    """msgspec-decode ``text`` into ``type_``; any failure becomes a one-line ParseError."""
    try:
        return msgspec.json.decode(text, type=type_)
    except msgspec.ValidationError as exc:
        raise ParseError(f"{what}: invalid document: {one_line(str(exc))}") from None
    except msgspec.DecodeError as exc:
        raise ParseError(f"{what}: malformed JSON: {one_line(str(exc))}") from None
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None


def sniff_format(text: str) -> str | None:
    """Which reader a JSON document is for (``json``, ``cyclonedx`` or ``spdx``), by its keys."""
    try:
        top: Any = msgspec.json.decode(text, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    if "bomFormat" in top:
        return "cyclonedx"
    if "spdxVersion" in top:
        return "spdx"
    if "schema_version" in top and "target" in top:
        return "json"
    return None


# --- hullscan evidence as name/value properties -------------------------------------------------
#
# CycloneDX carries these as ``properties`` and SPDX as annotations (``name: value``); both readers
# decode them back with the same code. Names are documented in docs/formats.md. Foreign producers'
# equivalents (Syft ``syft:*``, Trivy ``aquasecurity:trivy:*``) are read as fallbacks.

Pair = tuple[str, str]
METADATA_TYPES: dict[str, type[PackageMetadata]] = {
    "dpkg": DpkgMeta,
    "apk": ApkMeta,
    "rpm": RpmMeta,
    "java": JavaMeta,
    "go": GoMeta,
    "lock": LockMeta,
    "binary": BinaryMeta,
}
_IMAGE_SCALARS = ("kind", "manifest_digest", "config_digest", "image_id", "os", "architecture",
                  "variant", "created", "user")  # fmt: skip
_LAYER_FIELDS = ("diff_id", "digest", "media_type", "size", "created_by", "created", "comment")
_DISTRO_SCALARS = ("id", "version", "codename", "name", "pretty_name", "variant", "cpe", "source")


@functools.cache
def _fields(cls: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    return msgspec.structs.fields(cls)


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def package_properties(p: Package) -> list[Pair]:
    """Everything about ``p`` that the standard formats have no field for."""
    out: list[Pair] = [("hullscan:found_by", p.found_by)]
    if p.relationship != "installed":
        out.append(("hullscan:relationship", p.relationship))
    if p.arch:
        out.append(("hullscan:arch", p.arch))
    if p.source_name:
        out.append(("hullscan:source:name", p.source_name))
    if p.source_version:
        out.append(("hullscan:source:version", p.source_version))
    if p.layer_diff_id:
        out.append(("hullscan:layer:diff_id", p.layer_diff_id))
    if p.layer_index is not None:
        out.append(("hullscan:layer:index", str(p.layer_index)))
    if p.created_by:
        out.append(("hullscan:layer:created_by", p.created_by))
    for loc in p.locations:
        out.append(("hullscan:location:path", loc.path))
        if loc.layer_diff_id:
            out.append(("hullscan:location:layer", f"{loc.layer_diff_id} {loc.path}"))
    meta = p.metadata
    if meta is not None:
        tag = _text(type(meta).__struct_config__.tag)
        out.append(("hullscan:metadata:type", tag))
        for f in _fields(type(meta)):
            value = getattr(meta, f.name)
            if value is None or value == f.default:
                continue
            items = value if isinstance(value, tuple) else (value,)
            out.extend((f"hullscan:{tag}:{f.name}", _text(v)) for v in items)
    return out


def digest_lines(target: Target) -> list[tuple[str, str]]:
    """("Digest", manifest or config digest) and, when a registry tag resolved to another
    digest (a multi-platform index), ("Repo digest", name@digest)."""
    out: list[tuple[str, str]] = []
    digest = target.manifest_digest or target.config_digest
    if digest:
        out.append(("Digest", digest))
    for repo_digest in target.repo_digests:
        if not digest or not repo_digest.endswith(f"@{digest}"):
            out.append(("Repo digest", repo_digest))
    return out


def image_properties(target: Target, layers: tuple[LayerRef, ...]) -> list[Pair]:
    """The image: digests, platform, tags, labels and its layers (``env`` is left out: secrets)."""
    out: list[Pair] = []
    for name in _IMAGE_SCALARS:
        value = getattr(target, name)
        if value:
            out.append((f"hullscan:image:{name}", value))
    out.extend(("hullscan:image:repo_tag", t) for t in target.repo_tags)
    out.extend(("hullscan:image:repo_digest", d) for d in target.repo_digests)
    out.extend(("hullscan:image:exposed_port", p) for p in target.exposed_ports)
    out.extend((f"hullscan:image:label:{k}", v) for k, v in sorted(target.labels.items()))
    for layer in layers:
        for name in _LAYER_FIELDS:
            value = getattr(layer, name)
            if value is not None and value != "":
                out.append((f"hullscan:layer:{layer.index}:{name}", _text(value)))
    return out


def distro_properties(distro: Distro) -> list[Pair]:
    out: list[Pair] = []
    for name in _DISTRO_SCALARS:
        value = getattr(distro, name)
        if value:
            out.append((f"hullscan:distro:{name}", value))
    out.extend(("hullscan:distro:id_like", v) for v in distro.id_like)
    return out


def document_properties(sbom: SBOM) -> list[Pair]:
    """Warnings and every analyzer's outcome (ok, partial, skipped) with its file errors."""
    out: list[Pair] = [("hullscan:warning", w) for w in sbom.warnings]
    out.extend(("hullscan:drift", msgspec.json.encode(d).decode()) for d in sbom.drift)
    for st in sbom.statuses:
        key = f"hullscan:analyzer:{st.name}"
        out.append((f"{key}:version", str(st.version)))
        out.append((f"{key}:status", st.status))
        if st.reason:
            out.append((f"{key}:reason", st.reason))
        out.extend((f"{key}:file_error", f"{fe.path}: {fe.error}") for fe in st.file_errors)
    return out


def drift_line(d: Drift) -> str:
    """``drift: app/package-lock.json declares npm lodash 4.17.21, installed 4.17.15``."""
    head = f"drift: {d.manifest} declares {d.type} {d.name} {d.declared}"
    if d.kind == "not-installed":
        return f"{head}, not installed"
    return f"{head}, installed {', '.join(d.installed)}"


def drift_from(props: Props) -> tuple[Drift, ...]:
    """``hullscan:drift`` properties back (malformed ones are dropped)."""
    out = []
    for value in props.all("hullscan:drift"):
        try:
            out.append(msgspec.json.decode(value, type=Drift))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
    return tuple(out)


def status_lines(sbom: SBOM) -> list[str]:
    """Human-readable warnings and non-ok analyzer outcomes (table footer, SPDX comment)."""
    lines = [f"warning: {w}" for w in sbom.warnings]
    lines.extend(drift_line(d) for d in sbom.drift)
    for st in sbom.statuses:
        if st.status == "ok" and not st.file_errors:
            continue
        reason = f" ({st.reason})" if st.reason else ""
        lines.append(f"analyzer {st.name}: {st.status}{reason}")
        lines.extend(f"  {fe.path}: {fe.error}" for fe in st.file_errors)
    return lines


class Props:
    """Name -> values of a property/annotation list, in document order."""

    def __init__(self, pairs: Iterable[tuple[str, str | None]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            if value is not None:
                self._values.setdefault(name, []).append(value)

    def first(self, *names: str) -> str | None:
        for name in names:
            values = self._values.get(name)
            if values and values[0] != "":
                return values[0]
        return None

    def all(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    def pairs(self) -> list[tuple[str, str]]:
        return [(name, v) for name, values in self._values.items() for v in values]

    def with_prefix(self, prefix: str) -> Iterator[tuple[str, str]]:
        for name, values in self._values.items():
            if name.startswith(prefix):
                for v in values:
                    yield name[len(prefix) :], v


_INT64 = 2**63
_INT_RE = re.compile(r"-?[0-9]{1,19}")


def _int_or_none(text: str | None) -> int | None:
    """A base-10 int64, or None for anything else (never raises)."""
    if text is None or _INT_RE.fullmatch(text) is None:
        return None
    value = int(text)
    return value if -_INT64 <= value < _INT64 else None


def _strip_root(path: str) -> str:
    return path.lstrip("/")


def _metadata_from(props: Props) -> PackageMetadata | None:
    tag = props.first("hullscan:metadata:type")
    cls = METADATA_TYPES.get(tag or "")
    if cls is None:
        return None
    fields: dict[str, object] = {}
    for f in _fields(cls):
        values = props.all(f"hullscan:{tag}:{f.name}")
        if values:
            fields[f.name] = values if isinstance(f.default, tuple) else values[0]
    try:
        return msgspec.convert(fields, cls, strict=False)
    except msgspec.ValidationError:
        return None


def _syft_locations(props: Props) -> list[tuple[str, str | None]]:
    out: list[tuple[int, str, str | None]] = []
    for rest, path in props.with_prefix("syft:location:"):
        n, _, field = rest.partition(":")
        if field == "path" and _int_or_none(n) is not None:
            out.append((int(n), path, props.first(f"syft:location:{n}:layerID")))  # checked
    return [(p, layer) for _, p, layer in sorted(out)]


def _source_from_purl(purl: PackageURL) -> tuple[str | None, str | None]:
    quals = purl.qualifiers
    upstream = quals.get("upstream")
    if not upstream or upstream.endswith(".rpm"):
        return None, None
    name, _, version = upstream.partition("@")
    return name or None, version or None


_EPOCH_TYPES = frozenset({"deb", "rpm", "apk"})


def _with_epoch(purl: PackageURL, version: str) -> str:
    """The version with the purl's ``epoch=`` qualifier put back in front.

    Trivy (and the purl spec for rpm) keep an OS package's epoch in the qualifier and out of
    the version (``openssl-libs@1.0.2k-16.el7?epoch=1``); compared without it, ``1:1.0.2k-16``
    would sort below every epoch-1 fix."""
    epoch = dict(purl.qualifiers or {}).get("epoch")
    if (
        purl.type not in _EPOCH_TYPES
        or not epoch
        or not epoch.isascii()
        or not epoch.isdigit()
        or len(epoch) > 9
        or int(epoch) == 0
        or ":" in version
        or not version
    ):
        return version
    return f"{int(epoch)}:{version}"


def _trivy_source_version(props: Props) -> str | None:
    """Trivy's source version: ``SrcVersion`` (which older Trivy wrote with the release, newer
    without), ``-SrcRelease`` and ``SrcEpoch:`` when present."""
    version = props.first("aquasecurity:trivy:SrcVersion")
    if version is None:
        return None
    release = props.first("aquasecurity:trivy:SrcRelease")
    if release:
        version = f"{version}-{release}"
    epoch = props.first("aquasecurity:trivy:SrcEpoch")
    digits = epoch is not None and epoch.isascii() and epoch.isdigit() and len(epoch) <= 9
    if digits and int(epoch or 0) != 0 and ":" not in version:
        version = f"{int(epoch or 0)}:{version}"
    return version


def package_from(
    *,
    name: str | None,
    version: str | None,
    purl: str,
    licenses: Iterable[str],
    props: Props,
    occurrences: Iterable[str] = (),
    default_found_by: str,
    layers: Mapping[str, LayerRef],
) -> Package:
    """A Package from a component/SPDX package; raises ValueError on an unparsable purl."""
    parsed = PackageURL.from_string(purl)
    quals = parsed.qualifiers
    layer_diff_id = props.first(
        "hullscan:layer:diff_id", "aquasecurity:trivy:LayerDiffID", "syft:location:0:layerID"
    )
    layer = layers.get(layer_diff_id or "")
    layer_index = _int_or_none(props.first("hullscan:layer:index"))
    if layer_index is None and layer is not None:
        layer_index = layer.index
    created_by = props.first("hullscan:layer:created_by") or (layer.created_by if layer else None)

    loc_layers: dict[str, str] = {}
    for value in props.all("hullscan:location:layer"):
        diff, _, path = value.partition(" ")
        loc_layers.setdefault(path, diff)
    located: list[tuple[str, str | None]] = [
        (p, loc_layers.get(p)) for p in props.all("hullscan:location:path")
    ]
    if not located:
        located = _syft_locations(props)
    if not located:
        located = [(p, None) for p in occurrences]
    locations = tuple(Location(path=_strip_root(p), layer_diff_id=d) for p, d in located if p)

    src_name, src_version = _source_from_purl(parsed)
    if version is None:
        version = parsed.version or ""
    return Package(
        name=name or parsed.name,
        version=_with_epoch(parsed, version),
        type=parsed.type,
        purl=purl,
        found_by=props.first("hullscan:found_by", "syft:package:foundBy") or default_found_by,
        arch=props.first("hullscan:arch") or quals.get("arch") or None,
        source_name=props.first(
            "hullscan:source:name", "aquasecurity:trivy:SrcName", "syft:metadata:source"
        )
        or src_name,
        source_version=props.first("hullscan:source:version")
        or _trivy_source_version(props)
        or props.first("syft:metadata:sourceVersion")
        or src_version,
        licenses=tuple(licenses),
        locations=locations,
        layer_diff_id=layer_diff_id,
        layer_index=layer_index,
        created_by=created_by,
        metadata=_metadata_from(props),
        relationship="declared"
        if props.first("hullscan:relationship") == "declared"
        else "installed",
    )


def target_from(name: str | None, version: str | None, props: Props, default_kind: str) -> Target:
    scalars = {n: props.first(f"hullscan:image:{n}") for n in _IMAGE_SCALARS}
    manifest = scalars["manifest_digest"]
    if manifest is None and version and version.startswith("sha256:"):
        manifest = version
    if manifest is None:
        repo_digest = props.first("aquasecurity:trivy:RepoDigest")
        if repo_digest and "@" in repo_digest:
            manifest = repo_digest.rpartition("@")[2]
    return Target(
        name=name or "unknown",
        kind=scalars["kind"] or default_kind,
        manifest_digest=manifest,
        config_digest=scalars["config_digest"] or props.first("aquasecurity:trivy:ImageID"),
        image_id=scalars["image_id"],
        repo_tags=tuple(
            props.all("hullscan:image:repo_tag") or props.all("aquasecurity:trivy:RepoTag")
        ),
        repo_digests=tuple(
            props.all("hullscan:image:repo_digest") or props.all("aquasecurity:trivy:RepoDigest")
        ),
        os=scalars["os"],
        architecture=scalars["architecture"],
        variant=scalars["variant"],
        created=scalars["created"],
        user=scalars["user"],
        exposed_ports=tuple(props.all("hullscan:image:exposed_port")),
        labels=dict(props.with_prefix("hullscan:image:label:")),
    )


def layers_from(props: Props) -> tuple[LayerRef, ...]:
    raw: dict[int, dict[str, str]] = {}
    for rest, value in props.with_prefix("hullscan:layer:"):
        n, _, field = rest.partition(":")
        index = _int_or_none(n)
        if index is not None and field in _LAYER_FIELDS:
            raw.setdefault(index, {}).setdefault(field, value)
    out: list[LayerRef] = []
    for index, fields in sorted(raw.items()):
        if "diff_id" not in fields:
            continue
        try:
            out.append(msgspec.convert({"index": index, **fields}, LayerRef, strict=False))
        except msgspec.ValidationError:
            continue
    if not out:
        # Trivy lists the image's diff_ids in layer order on the image component.
        diff_ids = props.all("aquasecurity:trivy:DiffID")
        out = [LayerRef(index=i, diff_id=d) for i, d in enumerate(diff_ids)]
    return tuple(out)


def distro_from(
    name: str | None, version: str | None, description: str | None, cpe: str | None, props: Props
) -> Distro:
    def get(field: str, *fallbacks: str) -> str | None:
        return props.first(f"hullscan:distro:{field}", *fallbacks)

    id_like = props.all("hullscan:distro:id_like") or [
        v for _, v in sorted(props.with_prefix("syft:distro:idLike:"))
    ]
    return Distro(
        id=(get("id", "syft:distro:id") or name or "unknown").lower(),
        version=get("version", "syft:distro:versionID") or version,
        codename=get("codename", "syft:distro:versionCodename"),
        name=get("name"),
        pretty_name=get("pretty_name", "syft:distro:prettyName") or description,
        id_like=tuple(id_like),
        variant=get("variant"),
        cpe=get("cpe") or cpe,
        source=get("source"),
    )


def statuses_from(props: Props) -> tuple[AnalyzerStatus, ...]:
    raw: dict[str, dict[str, list[str]]] = {}
    for rest, value in props.with_prefix("hullscan:analyzer:"):
        name, _, field = rest.rpartition(":")
        if name:
            raw.setdefault(name, {}).setdefault(field, []).append(value)
    out: list[AnalyzerStatus] = []
    for name, fields in raw.items():
        file_errors = []
        for value in fields.get("file_error", []):
            path, _, error = value.partition(": ")
            file_errors.append(FileError(path=path, error=error))
        out.append(
            AnalyzerStatus(
                name=name,
                version=_int_or_none(fields.get("version", [""])[0]) or 0,
                status=fields.get("status", ["ok"])[0],
                reason=fields.get("reason", [None])[0],
                file_errors=tuple(file_errors),
            )
        )
    return tuple(out)


def relationships_from(
    edges: Iterable[tuple[str, str]], ids: Mapping[str, str]
) -> tuple[Relationship, ...]:
    """``depends-on`` relationships between packages, from document refs mapped to package ids."""
    seen: set[tuple[str, str]] = set()
    for a, b in edges:
        if a in ids and b in ids:
            seen.add((ids[a], ids[b]))
    return tuple(Relationship(from_id=a, to_id=b, type="depends-on") for a, b in sorted(seen))
