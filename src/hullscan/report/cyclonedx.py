"""CycloneDX 1.6 JSON, built with cyclonedx-python-lib; and a reader for CycloneDX 1.2-1.7 JSON.

Mapping (details and property names in ``docs/formats.md``):

- ``metadata.component``: the image, type ``container``, name = target name, version = manifest
  digest; image facts and layers as ``hullscan:image:*`` / ``hullscan:layer:<index>:*`` properties.
- ``metadata.tools.components``: hullscan; ``metadata.properties``: warnings and analyzer outcomes.
- one ``operating-system`` component for the distro; one ``library`` component per package (what
  Syft and Trivy emit for OS packages), ``bom-ref`` = ``Package.id``, purl, licenses, hullscan's
  evidence as properties and ``evidence.occurrences`` (the database file that listed it).
- ``dependencies``: the image depends on the distro and every package; package ``depends-on``
  relationships become ``dependsOn``.

Usage::

    import io
    from hullscan.report.cyclonedx import CycloneDXWriter

    buf = io.StringIO()
    CycloneDXWriter().write_sbom(sbom, buf)
    again = CycloneDXWriter().read_sbom(io.StringIO(buf.getvalue()))

The reader also takes documents written by Syft and Trivy: packages come from component purls,
the distro from the ``operating-system`` component, layers from hullscan's (or Trivy's/Syft's)
properties when present. Components without a purl are skipped and counted in ``warnings``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any, ClassVar
from uuid import UUID

import msgspec
from cyclonedx.contrib.bom.utils import BomDependencyGraphFlatMerger, BomRefDiscriminator
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema.schema import SchemaVersion1Dot6
from cyclonedx.spdx import fixup_id, is_expression
from packageurl import PackageURL

from hullscan.errors import ParseError
from hullscan.model import SBOM, LayerRef, Package
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
    statuses_from,
    target_from,
)

_WHAT = "CycloneDX SBOM"
_TOP_ORDER = ("serialNumber", "version", "metadata", "components", "dependencies")
READ_SPEC_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
IMAGE_REF = "image"


def _properties(pairs: Iterable[Pair]) -> list[Property]:
    return [Property(name=n, value=v) for n, v in pairs]


def _licenses(values: tuple[str, ...]) -> list[License]:
    """SPDX ids as ``id``, a lone SPDX expression as ``expression``, anything else as ``name``.

    CycloneDX allows either license objects or exactly one expression, never a mix.
    """
    values = tuple(v for v in (v.strip() for v in values) if v)
    if len(values) == 1 and fixup_id(values[0]) is None and is_expression(values[0]):
        return [LicenseExpression(values[0])]
    out: list[License] = []
    for v in values:
        spdx_id = fixup_id(v)
        out.append(DisjunctiveLicense(id=spdx_id) if spdx_id else DisjunctiveLicense(name=v))
    return out


def _package_component(p: Package, ref: str) -> Component:
    occurrences = [
        Occurrence(
            location=loc.path,
            additional_context=f"layer {loc.layer_diff_id}" if loc.layer_diff_id else None,
        )
        for loc in p.locations
    ]
    description = getattr(p.metadata, "description", None)
    try:
        purl: PackageURL | None = PackageURL.from_string(p.purl)
    except ValueError:
        purl = None
    cpes = getattr(p.metadata, "cpes", ())
    return Component(
        name=p.name,
        version=p.version,
        type=ComponentType.LIBRARY,
        bom_ref=ref,
        purl=purl,
        cpe=cpes[0] if cpes else None,
        description=description if isinstance(description, str) else None,
        licenses=_licenses(p.licenses),
        properties=_properties(package_properties(p)),
        evidence=ComponentEvidence(occurrences=occurrences) if occurrences else None,
    )


def build_bom(
    sbom: SBOM, *, serial_number: UUID | None = None, timestamp: datetime | None = None
) -> Bom:
    """The cyclonedx-python-lib model of ``sbom`` (exposed for callers that post-process it)."""
    target = sbom.target
    image = Component(
        name=target.name,
        version=target.manifest_digest,
        type=ComponentType.CONTAINER,
        bom_ref=IMAGE_REF,
        properties=_properties(image_properties(target, sbom.layers)),
    )
    tool = Component(
        name=sbom.tool, version=sbom.tool_version or None, type=ComponentType.APPLICATION
    )
    metadata = BomMetaData(
        component=image, timestamp=timestamp, properties=_properties(document_properties(sbom))
    )
    metadata.tools.components.add(tool)
    bom = Bom(metadata=metadata, serial_number=serial_number)

    refs: dict[str, str] = {}
    components: list[Component] = []
    for p in sorted_packages(sbom):
        ref = p.id
        n = 1
        while ref in refs.values():
            n += 1
            ref = f"{p.id}-{n}"
        refs.setdefault(p.id, ref)
        components.append(_package_component(p, ref))
    top: list[Component] = list(components)
    if sbom.distro is not None:
        d = sbom.distro
        os_component = Component(
            name=d.id,
            version=d.version,
            type=ComponentType.OPERATING_SYSTEM,
            bom_ref=f"os:{d.id}@{d.version or 'unknown'}",
            description=d.pretty_name,
            cpe=d.cpe,
            properties=_properties(distro_properties(d)),
        )
        top.append(os_component)
    for c in top:
        bom.components.add(c)

    by_ref = {str(c.bom_ref.value): c for c in top}
    edges: dict[str, set[str]] = {}
    for r in sbom.relationships:
        if r.type == "depends-on" and r.from_id in refs and r.to_id in refs:
            edges.setdefault(refs[r.from_id], set()).add(refs[r.to_id])
    bom.dependencies.add(
        Dependency(ref=image.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in top])
    )
    for ref, c in by_ref.items():
        deps = [Dependency(ref=by_ref[d].bom_ref) for d in sorted(edges.get(ref, ()))]
        bom.dependencies.add(Dependency(ref=c.bom_ref, dependencies=deps))
    return bom


def _pretty(doc: dict[str, Any]) -> str:
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n"


def render(bom: Bom) -> str:
    """Serialize as CycloneDX 1.6 JSON, top-level keys in the customary order, indent 2.

    This is what ``JsonV1Dot6(bom).output_as_string()`` does minus ``Bom.validate()``, whose
    dependency registration is quadratic in the component count (seconds at a few thousand
    packages); :func:`build_bom` gives every component its dependency entry already. The tests
    check that both paths produce the same document.
    """
    with BomRefDiscriminator.from_bom(bom), BomDependencyGraphFlatMerger(bom):
        body: dict[str, Any] = json.loads(bom.as_json(view_=SchemaVersion1Dot6))  # type: ignore[attr-defined]
    doc: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
    }
    doc.update((k, body[k]) for k in _TOP_ORDER if k in body)
    doc.update((k, v) for k, v in body.items() if k not in doc)
    return _pretty(doc)


def render_with_library(bom: Bom) -> str:
    """The library's own serializer (validates the model first; slow on large BOMs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = JsonV1Dot6(bom).output_as_string()
    doc: dict[str, Any] = json.loads(text)
    ordered: dict[str, Any] = {
        k: doc[k] for k in ("$schema", "bomFormat", "specVersion") if k in doc
    }
    ordered.update((k, doc[k]) for k in _TOP_ORDER if k in doc)
    ordered.update((k, v) for k, v in doc.items() if k not in ordered)
    return _pretty(ordered)


# --- reader ----------------------------------------------------------------------------------


class _Property(msgspec.Struct):
    name: str = ""
    value: str | None = None


class _LicenseObj(msgspec.Struct):
    id: str | None = None
    name: str | None = None


class _LicenseChoice(msgspec.Struct):
    license: _LicenseObj | None = None
    expression: str | None = None


class _Occurrence(msgspec.Struct):
    location: str = ""


class _Evidence(msgspec.Struct):
    occurrences: list[_Occurrence] = []


class _Component(msgspec.Struct):
    type: str = "library"
    name: str = ""
    version: str | None = None
    group: str | None = None
    purl: str | None = None
    cpe: str | None = None
    description: str | None = None
    bom_ref: str | None = msgspec.field(default=None, name="bom-ref")
    licenses: list[_LicenseChoice] = []
    properties: list[_Property] = []
    evidence: _Evidence | None = None
    components: list[_Component] = []


class _LegacyTool(msgspec.Struct):
    vendor: str | None = None
    name: str | None = None
    version: str | None = None


class _Tools(msgspec.Struct):
    components: list[_Component] = []


class _Metadata(msgspec.Struct):
    tools: list[_LegacyTool] | _Tools | None = None
    component: _Component | None = None
    properties: list[_Property] = []


class _Dependency(msgspec.Struct):
    ref: str
    dependsOn: list[str] = []  # noqa: N815 (the JSON key)


class _Bom(msgspec.Struct):
    bomFormat: str  # noqa: N815
    specVersion: str  # noqa: N815
    metadata: _Metadata | None = None
    components: list[_Component] = []
    dependencies: list[_Dependency] = []


def _props(items: list[_Property]) -> Props:
    return Props((p.name, p.value) for p in items)


def _license_values(choices: list[_LicenseChoice]) -> list[str]:
    out: list[str] = []
    for c in choices:
        if c.expression:
            out.append(c.expression)
        elif c.license is not None and (c.license.id or c.license.name):
            out.append(c.license.id or c.license.name or "")
    return out


def _flatten(components: list[_Component]) -> list[_Component]:
    out: list[_Component] = []
    stack = list(reversed(components))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(c.components))
    return out


def _tool(meta: _Metadata | None) -> tuple[str, str]:
    tools = meta.tools if meta is not None else None
    entries: list[tuple[str, str]] = []
    if isinstance(tools, _Tools):
        entries = [(c.name, c.version or "") for c in tools.components if c.name]
    elif tools is not None:
        entries = [(t.name, t.version or "") for t in tools if t.name]
    for name, version in entries:
        if name == "hullscan":
            return name, version
    return entries[0] if entries else ("unknown", "")


def parse(text: str, max_packages: int = MAX_SBOM_PACKAGES) -> SBOM:
    doc = decode_json(text, _Bom, _WHAT)
    if doc.bomFormat != "CycloneDX":
        raise ParseError(f"{_WHAT}: bomFormat is {one_line(doc.bomFormat, 40)!r}, not CycloneDX")
    if doc.specVersion not in READ_SPEC_VERSIONS:
        raise ParseError(f"{_WHAT}: specVersion {one_line(doc.specVersion, 40)!r} not supported")
    meta = doc.metadata
    image = meta.component if meta is not None else None
    image_props = _props(image.properties) if image is not None else Props()
    doc_props = _props(meta.properties) if meta is not None else Props()
    layers = layers_from(image_props)
    by_diff: dict[str, LayerRef] = {layer.diff_id: layer for layer in layers}
    tool, tool_version = _tool(meta)

    packages: list[Package] = []
    ids: dict[str, str] = {}
    distro = None
    no_purl = 0
    bad_purl = 0
    warnings_: list[str] = list(doc_props.all("hullscan:warning"))
    components = _flatten(doc.components)
    if len(components) > max_packages:
        raise ParseError(f"{_WHAT}: more than {max_packages} components")
    for c in components:
        props = _props(c.properties)
        if c.type == "operating-system":
            if distro is None:
                distro = distro_from(c.name, c.version, c.description, c.cpe, props)
            continue
        if not c.purl:
            no_purl += 1
            continue
        try:
            pkg = package_from(
                name=c.name,
                version=c.version,
                purl=c.purl,
                licenses=_license_values(c.licenses),
                props=props,
                occurrences=[o.location for o in (c.evidence.occurrences if c.evidence else [])],
                default_found_by="sbom/cyclonedx",
                layers=by_diff,
            )
        except ValueError:
            bad_purl += 1
            continue
        packages.append(pkg)
        if c.bom_ref:
            ids.setdefault(c.bom_ref, pkg.id)
    if no_purl:
        warnings_.append(f"{no_purl} CycloneDX component(s) without a purl were skipped")
    if bad_purl:
        warnings_.append(f"{bad_purl} CycloneDX component(s) with an invalid purl were skipped")
    edges = ((d.ref, to) for d in doc.dependencies for to in d.dependsOn)
    return SBOM(
        tool=tool,
        tool_version=tool_version,
        target=target_from(
            image.name if image else None,
            image.version if image else None,
            image_props,
            "cyclonedx",
        ),
        distro=distro,
        layers=layers,
        packages=tuple(packages),
        relationships=relationships_from(edges, ids),
        statuses=statuses_from(doc_props),
        warnings=tuple(warnings_),
        drift=drift_from(doc_props),
    )


class CycloneDXWriter:
    """``cyclonedx`` / ``cyclonedx-json``: CycloneDX 1.6 JSON."""

    id: ClassVar[str] = "cyclonedx"
    aliases: ClassVar[tuple[str, ...]] = ("cyclonedx-json",)
    media_type: ClassVar[str] = "application/vnd.cyclonedx+json; version=1.6"

    def __init__(
        self,
        *,
        serial_number: UUID | None = None,
        timestamp: datetime | None = None,
        max_chars: int = MAX_SBOM_CHARS,
    ) -> None:
        """``serial_number``/``timestamp`` default to a random UUID and now (pin for reproducible
        output)."""
        self.serial_number = serial_number
        self.timestamp = timestamp
        self.max_chars = max_chars

    def write_sbom(self, sbom: SBOM, stream: IO[str]) -> None:
        bom = build_bom(sbom, serial_number=self.serial_number, timestamp=self.timestamp)
        stream.write(render(bom))

    def read_sbom(self, stream: IO[str]) -> SBOM:
        return parse(read_bounded(stream, _WHAT, self.max_chars))
