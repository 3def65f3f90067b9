"""SPDX 2.3 JSON, checked with spdx-tools; and a reader for SPDX 2.2/2.3 JSON.

The document is built as plain JSON objects and encoded with msgspec: spdx-tools' own
``DocumentConverter`` is quadratic in the number of annotations (70 s for 3000 packages). What
is written is what spdx-tools reads back and validates without messages (tested, and available
at run time with ``SPDXWriter(validate=True)``, which is slow for the same reason).

Mapping (details in ``docs/formats.md``):

- the document DESCRIBES a root package for the image (``primaryPackagePurpose: CONTAINER``,
  version = manifest digest) which CONTAINS an ``OPERATING-SYSTEM`` package for the distro and
  every package; package ``depends-on`` relationships become ``DEPENDS_ON``.
- each package: ``SPDXID`` derived from ``Package.id``, ``versionInfo``, ``downloadLocation``
  and ``supplier`` NOASSERTION, ``licenseConcluded`` NOASSERTION, ``licenseDeclared`` the
  licenses ANDed (SPDX ids as they are, anything else as a ``LicenseRef-`` with its text in
  ``hasExtractedLicensingInfos``), a ``PACKAGE-MANAGER``/``purl`` external ref, a human
  ``comment`` (found by, path, layer and build step) and hullscan's evidence as ``annotations``
  (``name: value``, the same names as the CycloneDX properties).
- warnings and analyzer outcomes: the document ``comment`` (human) and document annotations.

Usage::

    import io
    from hullscan.report.spdx import SPDXWriter

    buf = io.StringIO()
    SPDXWriter().write_sbom(sbom, buf)
    again = SPDXWriter().read_sbom(io.StringIO(buf.getvalue()))

"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Any, ClassVar

import msgspec
from packageurl import PackageURL
from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from hullscan.errors import HullscanError, ParseError
from hullscan.model import SBOM, Distro, LayerRef, Package
from hullscan.report.base import (
    MAX_SBOM_CHARS,
    MAX_SBOM_PACKAGES,
    Pair,
    Props,
    decode_json,
    distro_from,
    distro_properties,
    document_properties,
    drift_from,
    image_properties,
    layers_from,
    one_line,
    package_from,
    package_properties,
    read_bounded,
    relationships_from,
    sorted_packages,
    status_lines,
    statuses_from,
    target_from,
)

_WHAT = "SPDX SBOM"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
IMAGE_ID = "SPDXRef-Image"
OS_ID = "SPDXRef-OperatingSystem"
NAMESPACE_BASE = "https://spdx.org/spdxdocs/"
READ_SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
NOASSERTION = "NOASSERTION"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def _id_part(text: str, limit: int = 64) -> str:
    return _ID_UNSAFE.sub("-", text).strip("-")[:limit] or "x"


def _annotation(annotator: str, created: str, name: str, value: str) -> dict[str, str]:
    return {
        "annotationDate": created,
        "annotationType": "OTHER",
        "annotator": annotator,
        "comment": f"{name}: {value}",
    }


class _Builder:
    """Accumulates one document's packages, relationships and license refs as JSON objects."""

    def __init__(self, sbom: SBOM, created: datetime) -> None:
        self.created = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.tool = f"Tool: {_actor_name(sbom.tool, sbom.tool_version)}"
        self.packages: list[dict[str, Any]] = []
        self.relationships: list[dict[str, str]] = []
        self.extracted: dict[str, dict[str, str]] = {}  # license text -> hasExtractedLicensingInfo
        self._ref_ids: set[str] = set()

    def annotations(self, pairs: Iterable[Pair]) -> list[dict[str, str]]:
        return [_annotation(self.tool, self.created, n, v) for n, v in pairs]

    def relate(self, a: str, kind: str, b: str) -> None:
        self.relationships.append(
            {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}
        )

    def license_ref(self, text: str) -> str:
        known = self.extracted.get(text)
        if known is not None:
            return known["licenseId"]
        ref = f"LicenseRef-{_id_part(text)}"
        n = 1
        while ref in self._ref_ids:
            n += 1
            ref = f"LicenseRef-{_id_part(text)}-{n}"
        self._ref_ids.add(ref)
        self.extracted[text] = {"licenseId": ref, "extractedText": text, "name": text}
        return ref

    def declared(self, licenses: tuple[str, ...]) -> str:
        """The licenses ANDed: valid SPDX expressions as written (normalized), others as refs."""
        licenses = tuple(v for v in (v.strip() for v in licenses) if v)
        if not licenses:
            return NOASSERTION
        parts: list[str] = []
        for value in licenses:
            normalized = _normalized_expression(value)
            if normalized is None:
                parts.append(self.license_ref(value))
            elif " " in normalized and len(licenses) > 1:
                parts.append(f"({normalized})")
            else:
                parts.append(normalized)
        return " AND ".join(parts)

    def package(
        self,
        spdx_id: str,
        name: str,
        version: str | None,
        *,
        purpose: str | None = None,
        declared: str = NOASSERTION,
        source_info: str | None = None,
        description: str | None = None,
        comment: str | None = None,
        purl: str | None = None,
        annotations: Iterable[Pair] = (),
    ) -> None:
        doc: dict[str, Any] = {"SPDXID": spdx_id, "name": name}
        if version is not None:
            doc["versionInfo"] = version
        doc["supplier"] = NOASSERTION
        doc["downloadLocation"] = NOASSERTION
        doc["filesAnalyzed"] = False
        if source_info:
            doc["sourceInfo"] = source_info
        doc["licenseConcluded"] = NOASSERTION
        doc["licenseDeclared"] = declared
        doc["copyrightText"] = NOASSERTION
        if description:
            doc["description"] = description
        if comment:
            doc["comment"] = comment
        if purl is not None:
            doc["externalRefs"] = [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": purl,
                }
            ]
        if purpose:
            doc["primaryPackagePurpose"] = purpose
        notes = self.annotations(annotations)
        if notes:
            doc["annotations"] = notes
        self.packages.append(doc)


def _actor_name(tool: str, version: str) -> str:
    """``name-version`` as an SPDX actor name: one line, no parentheses (they delimit an email)."""
    raw = f"{tool}-{version}" if version else tool
    text = "".join(c for c in " ".join(raw.split()) if c not in "()")
    return text.strip() or "unknown"


def _normalized_expression(value: str) -> str | None:
    """``value`` as a normalized SPDX license expression, or None when it is not one."""
    if "LicenseRef-" in value or "DocumentRef-" in value:
        return None
    try:
        info = spdx_licensing.validate(value, strict=True)
    except Exception:  # license-expression's internals crash on some input (AttributeError)
        return None
    normalized = info.normalized_expression
    if info.errors or not normalized:
        return None
    return str(normalized)


def _package_comment(p: Package) -> str:
    where = ", ".join(loc.path for loc in p.locations) or "unknown path"
    comment = f"found by {p.found_by} in {where}"
    if p.layer_diff_id:
        index = f" {p.layer_index}" if p.layer_index is not None else ""
        comment += f"; introduced by layer{index} ({p.layer_diff_id})"
        if p.created_by:
            comment += f": {p.created_by}"
    return comment


def _source_info(p: Package) -> str | None:
    if not p.source_name:
        return None
    version = f" {p.source_version}" if p.source_version else ""
    return f"built from source package {p.source_name}{version}"


def build_document(
    sbom: SBOM, *, created: datetime | None = None, namespace_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """The SPDX 2.3 JSON document for ``sbom``, as plain JSON objects."""
    b = _Builder(sbom, created or datetime.now(UTC))
    target = sbom.target
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": target.name,
        "documentNamespace": f"{NAMESPACE_BASE}hullscan-{_id_part(target.name)}-"
        f"{namespace_id or uuid.uuid4()}",
        "creationInfo": {"created": b.created, "creators": [b.tool]},
    }
    lines = status_lines(sbom)
    if lines:
        doc["comment"] = "\n".join(lines)

    b.package(
        IMAGE_ID,
        target.name,
        target.manifest_digest,
        purpose="CONTAINER",
        annotations=image_properties(target, sbom.layers),
    )
    b.relate(DOCUMENT_ID, "DESCRIBES", IMAGE_ID)
    if sbom.distro is not None:
        d = sbom.distro
        b.package(
            OS_ID,
            d.id,
            d.version,
            purpose="OPERATING-SYSTEM",
            description=d.pretty_name,
            annotations=distro_properties(d),
        )
        b.relate(IMAGE_ID, "CONTAINS", OS_ID)

    ids: dict[str, str] = {}
    used: set[str] = set()
    for p in sorted_packages(sbom):
        base = f"SPDXRef-Package-{_id_part(p.type, 16)}-{_id_part(p.name)}-{p.id}"
        spdx_id, n = base, 1
        while spdx_id in used:
            n += 1
            spdx_id = f"{base}-{n}"
        used.add(spdx_id)
        ids.setdefault(p.id, spdx_id)
        b.package(
            spdx_id,
            p.name,
            p.version,
            declared=b.declared(p.licenses),
            source_info=_source_info(p),
            comment=_package_comment(p),
            purl=p.purl,
            annotations=package_properties(p),
        )
        b.relate(IMAGE_ID, "CONTAINS", spdx_id)
    for a, z in sorted(
        {(r.from_id, r.to_id) for r in sbom.relationships if r.type == "depends-on"}
    ):
        if a in ids and z in ids:
            b.relate(ids[a], "DEPENDS_ON", ids[z])

    doc["packages"] = b.packages
    doc["relationships"] = b.relationships
    notes = b.annotations(document_properties(sbom))
    if notes:
        doc["annotations"] = notes
    if b.extracted:
        doc["hasExtractedLicensingInfos"] = list(b.extracted.values())
    return doc


def validate(document: dict[str, Any]) -> list[str]:
    """spdx-tools' verdict on ``document``: its parser's and validator's messages (empty = valid).

    Slow (the parser and validator are quadratic in places): for tests and ``validate=True``.
    """
    try:
        parsed = JsonLikeDictParser().parse(document)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        return [str(m) for m in exc.get_messages()]  # type: ignore[no-untyped-call]
    return [m.validation_message for m in validate_full_spdx_document(parsed)]


def render(document: dict[str, Any]) -> str:
    """Pretty-printed JSON, indent 2, trailing newline."""
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"


# --- reader ----------------------------------------------------------------------------------


class _ExternalRef(msgspec.Struct):
    referenceCategory: str = ""  # noqa: N815 (JSON keys)
    referenceType: str = ""  # noqa: N815
    referenceLocator: str = ""  # noqa: N815


class _Annotation(msgspec.Struct):
    annotator: str = ""
    comment: str = ""


class _Package(msgspec.Struct):
    SPDXID: str = ""
    name: str = ""
    versionInfo: str | None = None  # noqa: N815
    description: str | None = None
    licenseDeclared: str | None = None  # noqa: N815
    licenseConcluded: str | None = None  # noqa: N815
    primaryPackagePurpose: str | None = None  # noqa: N815
    externalRefs: list[_ExternalRef] = []  # noqa: N815
    annotations: list[_Annotation] = []
    attributionTexts: list[str] = []  # noqa: N815
    sourceInfo: str | None = None  # noqa: N815


class _Relationship(msgspec.Struct):
    spdxElementId: str = ""  # noqa: N815
    relationshipType: str = ""  # noqa: N815
    relatedSpdxElement: str = ""  # noqa: N815


class _Extracted(msgspec.Struct):
    licenseId: str = ""  # noqa: N815
    extractedText: str | None = None  # noqa: N815
    name: str | None = None


class _CreationInfo(msgspec.Struct):
    creators: list[str] = []


class _Document(msgspec.Struct):
    spdxVersion: str  # noqa: N815
    SPDXID: str = DOCUMENT_ID
    name: str = ""
    creationInfo: _CreationInfo | None = None  # noqa: N815
    documentDescribes: list[str] = []  # noqa: N815
    packages: list[_Package] = []
    relationships: list[_Relationship] = []
    hasExtractedLicensingInfos: list[_Extracted] = []  # noqa: N815
    annotations: list[_Annotation] = []


def _purpose(p: _Package) -> str:
    return (p.primaryPackagePurpose or "").upper().replace("-", "_")


def _annotation_props(
    items: list[_Annotation], attributions: Sequence[str] = (), *, trivy: bool = False
) -> Props:
    """hullscan/Syft/Trivy ``name: value`` annotations, and Trivy's older ``attributionTexts``
    (``LayerDiffID: sha256:...``) when the document is Trivy's."""
    pairs: list[tuple[str, str]] = []
    for a in items:
        key, sep, value = a.comment.partition(": ")
        if not sep:
            continue
        if "trivy" in a.annotator.lower() and not key.startswith("aquasecurity:"):
            key = f"aquasecurity:trivy:{key}"
        pairs.append((key, value))
    if trivy:
        for text in attributions:
            key, sep, value = text.partition(": ")
            if sep and key and not key.startswith("aquasecurity:"):
                pairs.append((f"aquasecurity:trivy:{key}", value))
    return Props(pairs)


_BUILT_FROM = "built package from: "


def _trivy_source_info(p: _Package) -> list[tuple[str, str]]:
    """Trivy's ``sourceInfo: built package from: NAME [EPOCH:]VERSION`` as source properties
    (the newer Trivy also writes them as ``SrcName``/``SrcVersion`` annotations)."""
    info = p.sourceInfo or ""
    if not info.startswith(_BUILT_FROM):
        return []
    name, _, version = info[len(_BUILT_FROM) :].strip().partition(" ")
    out = [("aquasecurity:trivy:SrcName", name)] if name else []
    if version.strip():
        out.append(("aquasecurity:trivy:SrcVersion", version.strip()))
    return out


def _purl(p: _Package) -> str | None:
    for ref in p.externalRefs:
        category = ref.referenceCategory.upper().replace("_", "-")
        if category == "PACKAGE-MANAGER" and ref.referenceType == "purl" and ref.referenceLocator:
            return ref.referenceLocator
    return None


_NO_LICENSE = ("", "NOASSERTION", "NONE")


def _licenses(p: _Package, names: dict[str, str]) -> list[str]:
    """Declared (else concluded) licenses; a flat ``A AND B`` is split back into its parts and
    ``LicenseRef-`` ids are replaced by their extracted text."""
    for value in (p.licenseDeclared, p.licenseConcluded):
        if value is not None and value.strip() not in _NO_LICENSE:
            parts = [value] if "(" in value else [s.strip() for s in value.split(" AND ")]
            return [names.get(part, part) for part in parts]
    return []


def _tool(doc: _Document) -> tuple[str, str]:
    creators = doc.creationInfo.creators if doc.creationInfo else []
    tools = [c.removeprefix("Tool:").strip() for c in creators if c.startswith("Tool:")]
    for t in tools:
        name, sep, version = t.rpartition("-")
        if sep and name:
            return name, version
    return (tools[0], "") if tools else ("unknown", "")


_OS_PURL_TYPES = frozenset({"deb", "apk", "rpm"})


def _purl_distro(purl: str) -> str | None:
    """The ``distro=`` qualifier of an OS package purl (``debian-12``), else None."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    if parsed.type not in _OS_PURL_TYPES or not isinstance(parsed.qualifiers, dict):
        return None
    value = parsed.qualifiers.get("distro")
    return value if isinstance(value, str) and value else None


def _distro_from_purls(qualifiers: set[str]) -> Distro | None:
    """Syft's SPDX has no ``OPERATING-SYSTEM`` package: the distro is only in the OS package
    purls (``distro=debian-12``). One agreed value ``<id>-<version>`` gives the distro."""
    if len(qualifiers) != 1:
        return None
    distro_id, _, version = next(iter(qualifiers)).rpartition("-")
    if not distro_id or not version:
        return None
    return distro_from(distro_id, version, None, None, Props())


def parse(text: str, max_packages: int = MAX_SBOM_PACKAGES) -> SBOM:
    doc = decode_json(text, _Document, _WHAT)
    if doc.spdxVersion not in READ_SPDX_VERSIONS:
        raise ParseError(f"{_WHAT}: spdxVersion {one_line(doc.spdxVersion, 40)!r} not supported")
    by_id = {p.SPDXID: p for p in doc.packages}
    described = list(doc.documentDescribes) + [
        r.relatedSpdxElement
        for r in doc.relationships
        if r.relationshipType == "DESCRIBES" and r.spdxElementId == doc.SPDXID
    ]
    tool, tool_version = _tool(doc)
    root: _Package | None = None
    for ref in described:
        cand = by_id.get(ref)
        if cand is not None and (_purpose(cand) == "CONTAINER" or not _purl(cand)):
            root = cand
            break
    trivy = tool.lower() == "trivy"
    root_props = (
        _annotation_props(root.annotations, root.attributionTexts, trivy=trivy) if root else Props()
    )
    doc_props = _annotation_props(doc.annotations)
    layers = layers_from(root_props)
    by_diff: dict[str, LayerRef] = {layer.diff_id: layer for layer in layers}
    names = {
        e.licenseId: e.name or e.extractedText or e.licenseId
        for e in doc.hasExtractedLicensingInfos
    }

    packages: list[Package] = []
    ids: dict[str, str] = {}
    distro = None
    purl_distros: set[str] = set()
    no_purl = 0
    bad_purl = 0
    if len(doc.packages) > max_packages:
        raise ParseError(f"{_WHAT}: more than {max_packages} packages")
    for p in doc.packages:
        if p is root:
            continue
        props = _annotation_props(p.annotations, p.attributionTexts, trivy=trivy)
        if trivy and props.first("aquasecurity:trivy:SrcName") is None:
            props = Props([*props.pairs(), *_trivy_source_info(p)])
        if _purpose(p) == "OPERATING_SYSTEM" or (
            trivy and p.SPDXID.startswith("SPDXRef-OperatingSystem") and not _purl(p)
        ):
            if distro is None:
                distro = distro_from(p.name, p.versionInfo, p.description, None, props)
            continue
        purl = _purl(p)
        if purl is None:
            no_purl += 1
            continue
        try:
            pkg = package_from(
                name=p.name,
                version=p.versionInfo,
                purl=purl,
                licenses=_licenses(p, names),
                props=props,
                default_found_by="sbom/spdx",
                layers=by_diff,
            )
        except ValueError:
            bad_purl += 1
            continue
        packages.append(pkg)
        ids.setdefault(p.SPDXID, pkg.id)
        qualifier = _purl_distro(purl)
        if qualifier:
            purl_distros.add(qualifier)
    if distro is None:
        distro = _distro_from_purls(purl_distros)
    warnings = doc_props.all("hullscan:warning")
    if no_purl:
        warnings.append(f"{no_purl} SPDX package(s) without a purl were skipped")
    if bad_purl:
        warnings.append(f"{bad_purl} SPDX package(s) with an invalid purl were skipped")
    edges: list[tuple[str, str]] = []
    for r in doc.relationships:
        if r.relationshipType == "DEPENDS_ON":
            edges.append((r.spdxElementId, r.relatedSpdxElement))
        elif r.relationshipType == "DEPENDENCY_OF":
            edges.append((r.relatedSpdxElement, r.spdxElementId))
    return SBOM(
        tool=tool,
        tool_version=tool_version,
        target=target_from(
            root.name if root else doc.name or None,
            root.versionInfo if root else None,
            root_props,
            "spdx",
        ),
        distro=distro,
        layers=layers,
        packages=tuple(packages),
        relationships=relationships_from(edges, ids),
        statuses=statuses_from(doc_props),
        warnings=tuple(warnings),
        drift=drift_from(doc_props),
    )


class SPDXWriter:
    """``spdx`` / ``spdx-json``: SPDX 2.3 JSON."""

    id: ClassVar[str] = "spdx"
    aliases: ClassVar[tuple[str, ...]] = ("spdx-json",)
    media_type: ClassVar[str] = "application/spdx+json"

    def __init__(
        self,
        *,
        created: datetime | None = None,
        namespace_id: uuid.UUID | None = None,
        validate: bool = False,
        max_chars: int = MAX_SBOM_CHARS,
    ) -> None:
        """``created``/``namespace_id`` default to now and a random UUID (pin them for
        reproducible output); ``validate`` parses and validates every document with spdx-tools
        and raises :class:`~hullscan.errors.HullscanError` (a bug) on any message."""
        self.created = created
        self.namespace_id = namespace_id
        self.validate = validate
        self.max_chars = max_chars

    def write_sbom(self, sbom: SBOM, stream: IO[str]) -> None:
        document = build_document(sbom, created=self.created, namespace_id=self.namespace_id)
        if self.validate:
            messages = validate(document)
            if messages:
                raise HullscanError(f"invalid SPDX document: {one_line('; '.join(messages))}")
        stream.write(render(document))

    def read_sbom(self, stream: IO[str]) -> SBOM:
        return parse(read_bounded(stream, _WHAT, self.max_chars))
