"""SBOM documents in the shape Trivy writes them, built from an SBOM of a real image or rootfs.

No Trivy binary can be obtained on the test machines (not on PyPI, npm or in Debian; the
registries are unreachable), so these documents are written here. What they reproduce is
taken from Trivy's own files, its documentation (``docs/docs/supply-chain/sbom.md``) and the
SBOMs its integration tests feed back into it
(``integration/testdata/fixtures/sbom/{centos-7-cyclonedx,fluentd-multiple-lockfiles-cyclonedx,
centos-7-spdx}.json`` in aquasecurity/trivy) — every convention our readers depend on:

CycloneDX
  * an ``operating-system`` component named by the OS family (``debian``, ``centos``) whose
    version is the full release (``10.2``, ``7.6.1810``), with ``aquasecurity:trivy:Type`` and
    ``Class`` properties; the image as the ``container`` metadata component with ``ImageID``,
    one ``DiffID`` property per layer and ``RepoTag``;
  * OS packages: the purl keeps the **epoch out of the version** and in an ``epoch=`` qualifier
    (``pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810``),
    and so does the component ``version``; ``distro=<family>-<release>``;
  * source package as properties: ``SrcName``; newer Trivy splits ``SrcVersion`` (upstream
    part), ``SrcRelease`` and ``SrcEpoch`` (``style="split"``), older Trivy wrote the whole
    ``version-release`` in ``SrcVersion`` (``style="legacy"``, the fluentd fixture); both
    write ``SrcEpoch`` when the epoch is not 0;
    ``PkgID``, ``LayerDigest``/``LayerDiffID``;
  * tools as the 1.5 ``components`` object (``split``) or the legacy array (``legacy``).

SPDX (2.2 JSON)
  * creators ``Tool: trivy-<version>`` and ``Organization: aquasecurity``;
  * the OS as a package whose SPDXID starts ``SPDXRef-OperatingSystem-`` and that has no
    ``primaryPackagePurpose``; the image as ``SPDXRef-ContainerImage-…`` with
    ``attributionTexts`` (``DiffID: …``);
  * packages with ``attributionTexts`` (``PkgID: …``, ``LayerDiffID: …``), the purl as a
    ``PACKAGE-MANAGER`` external ref (epoch in the qualifier), ``versionInfo`` WITH the epoch
    and ``sourceInfo: built package from: <source name> <[epoch:]source version>``.

So these tests check our reading of Trivy's documented output, not Trivy's behaviour on this
image; where Trivy would find different packages than we do, that is not covered here.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from hullscan.model.package import Package
from hullscan.model.sbom import SBOM

TRIVY_VERSION = "0.57.0"
_PURL_NAMESPACE = {"deb": "debian", "rpm": "centos", "apk": "alpine"}


def split_version(pkg_type: str, version: str) -> tuple[int, str, str]:
    """(epoch, version, release) the way Trivy stores an OS package version."""
    epoch, sep, rest = version.partition(":")
    if not sep or not epoch.isdigit():
        epoch, rest = "0", version
    if pkg_type == "apk":
        return int(epoch), rest, ""
    upstream, dash, release = rest.rpartition("-")
    if not dash:
        return int(epoch), rest, ""
    return int(epoch), upstream, release


def _joined(version: str, release: str) -> str:
    return f"{version}-{release}" if release else version


def _purl(p: Package, family: str, release: str) -> tuple[str, str]:
    """(purl, component version) with the epoch moved to the qualifier."""
    epoch, version, rel = split_version(p.type, p.version)
    shown = _joined(version, rel)
    quals = []
    if p.arch:
        quals.append(f"arch={p.arch}")
    if epoch:
        quals.append(f"epoch={epoch}")
    quals.append(f"distro={family}-{release}")
    name = quote(p.name, safe="")
    return f"pkg:{p.type}/{_PURL_NAMESPACE[p.type]}/{name}@{quote(shown, safe='')}?" + "&".join(
        quals
    ), shown


def _source(p: Package) -> tuple[str, str]:
    """(source name, source version with epoch) as the package database says."""
    name = p.source_name or p.name
    version = p.source_version or p.version
    if p.type == "rpm" and ":" not in version:
        epoch, _, _ = split_version(p.type, p.version)
        if epoch:
            version = f"{epoch}:{version}"
    return name, version


def _source_properties(p: Package, style: str) -> list[dict[str, str]]:
    name, version = _source(p)
    epoch, upstream, release = split_version(p.type, version)
    props = [{"name": "aquasecurity:trivy:SrcName", "value": name}]
    if style == "legacy":
        props.append({"name": "aquasecurity:trivy:SrcVersion", "value": _joined(upstream, release)})
    else:
        props.append({"name": "aquasecurity:trivy:SrcVersion", "value": upstream})
        if release:
            props.append({"name": "aquasecurity:trivy:SrcRelease", "value": release})
    if epoch:
        props.append({"name": "aquasecurity:trivy:SrcEpoch", "value": str(epoch)})
    return props


def _uuid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def os_packages(sbom: SBOM) -> list[Package]:
    return [p for p in sbom.packages if p.type in _PURL_NAMESPACE]


def trivy_cyclonedx(sbom: SBOM, family: str, release: str, style: str = "split") -> dict[str, Any]:
    """A Trivy CycloneDX document for the OS packages of ``sbom`` (see the module docstring)."""
    image_ref = _uuid(f"image:{sbom.target.name}")
    os_ref = _uuid(f"os:{family}:{release}")
    image_props = [{"name": "aquasecurity:trivy:SchemaVersion", "value": "2"}]
    if sbom.target.config_digest:
        image_props.append(
            {"name": "aquasecurity:trivy:ImageID", "value": sbom.target.config_digest}
        )
    image_props += [
        {"name": "aquasecurity:trivy:DiffID", "value": layer.diff_id} for layer in sbom.layers
    ]
    image_props.append({"name": "aquasecurity:trivy:RepoTag", "value": "hullscan-test:latest"})
    components: list[dict[str, Any]] = []
    for p in os_packages(sbom):
        purl, shown = _purl(p, family, release)
        props = [{"name": "aquasecurity:trivy:PkgID", "value": f"{p.name}@{shown}"}]
        props += _source_properties(p, style)
        if p.layer_diff_id:
            props.append({"name": "aquasecurity:trivy:LayerDiffID", "value": p.layer_diff_id})
        component: dict[str, Any] = {
            "bom-ref": purl,
            "type": "library",
            "name": p.name,
            "version": shown,
            "purl": purl,
            "properties": props,
        }
        if p.licenses:
            component["licenses"] = [{"license": {"name": lic}} for lic in p.licenses]
        components.append(component)
    components.append(
        {
            "bom-ref": os_ref,
            "type": "operating-system",
            "name": family,
            "version": release,
            "properties": [
                {"name": "aquasecurity:trivy:Type", "value": family},
                {"name": "aquasecurity:trivy:Class", "value": "os-pkgs"},
            ],
        }
    )
    if style == "legacy":
        tools: Any = [{"vendor": "aquasecurity", "name": "trivy", "version": TRIVY_VERSION}]
    else:
        tools = {
            "components": [
                {
                    "type": "application",
                    "group": "aquasecurity",
                    "name": "trivy",
                    "version": TRIVY_VERSION,
                }
            ]
        }
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{_uuid('doc:' + sbom.target.name)}",
        "version": 1,
        "metadata": {
            "timestamp": "2026-12-01T00:00:00+00:00",
            "tools": tools,
            "component": {
                "bom-ref": image_ref,
                "type": "container",
                "name": sbom.target.name,
                "properties": image_props,
            },
        },
        "components": components,
        "dependencies": [
            {"ref": os_ref, "dependsOn": [c["bom-ref"] for c in components[:-1]]},
            {"ref": image_ref, "dependsOn": [os_ref]},
        ],
    }


def trivy_spdx(sbom: SBOM, family: str, release: str) -> dict[str, Any]:
    """A Trivy SPDX 2.2 JSON document for the OS packages of ``sbom``."""
    image_id = f"SPDXRef-ContainerImage-{_uuid('image')[:14]}"
    os_id = f"SPDXRef-OperatingSystem-{_uuid('os')[:16]}"
    packages: list[dict[str, Any]] = [
        {
            "SPDXID": image_id,
            "attributionTexts": ["SchemaVersion: 2"]
            + [f"DiffID: {layer.diff_id}" for layer in sbom.layers],
            "filesAnalyzed": False,
            "name": sbom.target.name,
        },
        {"SPDXID": os_id, "filesAnalyzed": False, "name": family, "versionInfo": release},
    ]
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": image_id,
        },
        {"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": os_id},
    ]
    for i, p in enumerate(os_packages(sbom)):
        purl, shown = _purl(p, family, release)
        src_name, src_version = _source(p)
        spdx_id = f"SPDXRef-Package-{_uuid(f'{i}:{purl}')[:16]}"
        attributions = [f"PkgID: {p.name}@{shown}"]
        if p.layer_diff_id:
            attributions.append(f"LayerDiffID: {p.layer_diff_id}")
        packages.append(
            {
                "SPDXID": spdx_id,
                "attributionTexts": attributions,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceLocator": purl,
                        "referenceType": "purl",
                    }
                ],
                "filesAnalyzed": False,
                "name": p.name,
                "sourceInfo": f"built package from: {src_name} {src_version}",
                "versionInfo": p.version,  # with the epoch, unlike the purl
            }
        )
        relationships.append(
            {"spdxElementId": os_id, "relationshipType": "CONTAINS", "relatedSpdxElement": spdx_id}
        )
    return {
        "SPDXID": "SPDXRef-DOCUMENT",
        "creationInfo": {
            "created": "2026-12-01T00:00:00Z",
            "creators": [f"Tool: trivy-{TRIVY_VERSION}", "Organization: aquasecurity"],
        },
        "dataLicense": "CC0-1.0",
        "documentNamespace": f"http://trivy.dev/container_image/{_uuid(sbom.target.name)}",
        "name": sbom.target.name,
        "packages": packages,
        "relationships": relationships,
        "spdxVersion": "SPDX-2.2",
    }
