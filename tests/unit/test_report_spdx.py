"""SPDX 2.3 writer (spdx-tools-valid, relationships, licenses, evidence) and 2.2/2.3 reader."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from hullscan.errors import HullscanError, ParseError
from hullscan.model import SBOM, Package
from hullscan.report.spdx import SPDXWriter, build_document, validate
from tests.unit.test_report_samples import CASES, check_golden, redact


def write(sbom: SBOM, writer: SPDXWriter | None = None) -> str:
    buf = io.StringIO()
    (writer or SPDXWriter()).write_sbom(sbom, buf)
    return buf.getvalue()


def read(text: str, writer: SPDXWriter | None = None) -> SBOM:
    return (writer or SPDXWriter()).read_sbom(io.StringIO(text))


def pkg_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["packages"] if p["name"] == name)


def annotation_map(obj: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in obj.get("annotations", []):
        key, _, value = a["comment"].partition(": ")
        out.setdefault(key, []).append(value)
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_spdx_document_is_valid(case: str) -> None:
    assert validate(build_document(CASES[case])) == []


def test_spdx_validate_reports_parser_errors() -> None:
    doc = build_document(CASES["alpine"])
    doc["packages"][0]["primaryPackagePurpose"] = "SPACESHIP"
    assert validate(doc)
    doc = build_document(CASES["alpine"])
    doc["relationships"].append(
        {
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": "SPDXRef-nowhere",
        }
    )
    assert validate(doc)


@pytest.mark.parametrize("case", sorted(CASES))
def test_spdx_json_parses_back_with_spdx_tools_and_validates(case: str, tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    path.write_text(write(CASES[case]), encoding="utf-8")
    assert validate_full_spdx_document(parse_from_file(str(path))) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_spdx_golden(case: str) -> None:
    check_golden("spdx", case, redact(write(CASES[case])))


# Enumerations of the SPDX 2.3 JSON schema (spdx-spec schemas/spdx-schema.json) for the fields
# where spdx-tools' own spelling differs from the schema's.
_SCHEMA_PURPOSES = {
    "OTHER", "INSTALL", "ARCHIVE", "FIRMWARE", "APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER",
    "SOURCE", "DEVICE", "OPERATING-SYSTEM", "FILE",
}  # fmt: skip
_SCHEMA_CATEGORIES = {
    "OTHER", "PERSISTENT-ID", "PERSISTENT_ID", "SECURITY", "PACKAGE-MANAGER", "PACKAGE_MANAGER",
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_spdx_enumerations_use_the_json_schema_spelling(case: str) -> None:
    doc = json.loads(write(CASES[case]))
    for p in doc["packages"]:
        assert p.get("primaryPackagePurpose", "OTHER") in _SCHEMA_PURPOSES
        for ref in p.get("externalRefs", []):
            assert ref["referenceCategory"] in _SCHEMA_CATEGORIES
            assert ref["referenceCategory"] == "PACKAGE-MANAGER"


def test_spdx_validating_writer_accepts_samples() -> None:
    for sbom in CASES.values():
        assert write(sbom, SPDXWriter(validate=True))


def test_spdx_validating_writer_rejects_invalid_document() -> None:
    bad = SBOM(
        target=CASES["empty"].target,
        packages=(Package(name="x", version="1", type="npm", purl="not a purl", found_by="t"),),
    )
    with pytest.raises(HullscanError, match="invalid SPDX document"):
        write(bad, SPDXWriter(validate=True))


def test_spdx_pinned_created_and_namespace_make_output_reproducible() -> None:
    w = SPDXWriter(
        created=datetime(2024, 6, 1, tzinfo=UTC),
        namespace_id=uuid.UUID("12345678-1234-4234-8234-123456789abc"),
    )
    text = write(CASES["rpm"], w)
    assert text == write(CASES["rpm"], w)
    doc = json.loads(text)
    assert doc["creationInfo"]["created"] == "2024-06-01T00:00:00Z"
    assert doc["documentNamespace"].endswith("-12345678-1234-4234-8234-123456789abc")


def test_spdx_structure_root_image_describes_and_contains() -> None:
    sbom = CASES["debian"]
    doc = json.loads(write(sbom))
    assert list(doc)[:5] == ["spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace"]
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["creationInfo"]["creators"] == ["Tool: hullscan-0.1.0"]
    image = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Image")
    assert image["primaryPackagePurpose"] == "CONTAINER"
    assert image["versionInfo"] == sbom.target.manifest_digest
    rels = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in doc["relationships"]
    }
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image") in rels
    assert ("SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem") in rels
    for p in doc["packages"]:
        if p["SPDXID"] not in ("SPDXRef-Image", "SPDXRef-OperatingSystem"):
            assert ("SPDXRef-Image", "CONTAINS", p["SPDXID"]) in rels
    curl = pkg_of(doc, "curl")["SPDXID"]
    libcurl = pkg_of(doc, "libcurl4")["SPDXID"]
    assert (curl, "DEPENDS_ON", libcurl) in rels
    os_pkg = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-OperatingSystem")
    assert (os_pkg["name"], os_pkg["versionInfo"]) == ("debian", "12")
    assert os_pkg["primaryPackagePurpose"] == "OPERATING-SYSTEM"
    assert "TOKEN" not in json.dumps(doc), "env may hold secrets"


def test_spdx_package_fields_and_evidence() -> None:
    sbom = CASES["debian"]
    doc = json.loads(write(sbom))
    pkg = next(p for p in sbom.packages if p.name == "libcurl4")
    p = pkg_of(doc, "libcurl4")
    assert p["SPDXID"] == f"SPDXRef-Package-deb-libcurl4-{pkg.id}"
    assert p["versionInfo"] == "7.88.1-10+deb12u5"
    assert p["downloadLocation"] == "NOASSERTION"
    assert p["supplier"] == "NOASSERTION"
    assert p["licenseConcluded"] == "NOASSERTION"
    assert p["licenseDeclared"] == "curl AND BSD-3-Clause AND ISC"
    assert p["filesAnalyzed"] is False
    assert p["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceLocator": pkg.purl,
            "referenceType": "purl",
        }
    ]
    assert "var/lib/dpkg/status" in p["comment"]
    assert pkg.layer_diff_id in p["comment"]
    assert "apt-get install" in p["comment"]
    a = annotation_map(p)
    assert a["hullscan:layer:diff_id"] == [pkg.layer_diff_id]
    assert a["hullscan:layer:created_by"] == [pkg.created_by]
    assert a["hullscan:location:path"] == ["var/lib/dpkg/status"]
    assert p["sourceInfo"] == "built from source package curl"


def test_spdx_unknown_licenses_become_license_refs() -> None:
    doc = json.loads(write(CASES["rpm"]))
    nodejs = pkg_of(doc, "nodejs")
    assert nodejs["licenseDeclared"] == "LicenseRef-MIT-and-ASL-2.0-and-ISC-and-BSD"
    extracted = {e["licenseId"]: e for e in doc["hasExtractedLicensingInfos"]}
    assert (
        extracted[nodejs["licenseDeclared"]]["extractedText"] == "MIT and ASL 2.0 and ISC and BSD"
    )
    alpine = json.loads(write(CASES["alpine"]))
    assert pkg_of(alpine, "ca-certificates-bundle")["licenseDeclared"] == "MPL-2.0 AND MIT"
    deb = json.loads(write(CASES["debian"]))
    # "LGPL-2.1" is a deprecated SPDX id: normalized to its current name; "GPL-2" is not an id.
    assert pkg_of(deb, "libc6")["licenseDeclared"] == "LGPL-2.1-only AND LicenseRef-GPL-2"
    assert pkg_of(deb, "zlib1g")["licenseDeclared"] == "NOASSERTION"


def test_spdx_license_ref_collisions_stay_distinct() -> None:
    base = CASES["alpine"].packages[0]
    sbom = SBOM(
        target=CASES["empty"].target,
        packages=(
            Package(
                name="a",
                version="1",
                type="npm",
                purl="pkg:npm/a@1",
                found_by="t",
                licenses=("GPL 2",),
            ),
            Package(
                name="b",
                version="1",
                type="npm",
                purl="pkg:npm/b@1",
                found_by="t",
                licenses=("GPL-2",),
            ),
            base,
        ),
    )
    doc = json.loads(write(sbom))
    refs = {pkg_of(doc, "a")["licenseDeclared"], pkg_of(doc, "b")["licenseDeclared"]}
    assert len(refs) == 2
    assert validate(build_document(sbom)) == []


def test_spdx_statuses_and_warnings_in_document_comment_and_annotations() -> None:
    doc = json.loads(write(CASES["rpm"]))
    assert "warning: layer 1: 3 entries with unsafe names were skipped" in doc["comment"]
    assert "analyzer os/rpm: partial (1 file could not be read)" in doc["comment"]
    assert "usr/lib/sysimage/rpm/Packages: truncated page 12" in doc["comment"]
    a = annotation_map(doc)
    assert a["hullscan:analyzer:os/rpm:status"] == ["partial"]
    assert "comment" not in json.loads(write(CASES["debian"]))


def test_spdx_ids_are_unique_for_duplicate_packages() -> None:
    p = CASES["alpine"].packages[0]
    sbom = SBOM(target=CASES["empty"].target, packages=(p, p))
    doc = json.loads(write(sbom))
    ids = [x["SPDXID"] for x in doc["packages"]]
    assert len(ids) == len(set(ids))
    assert validate(build_document(sbom)) == []


# --- round trips ---------------------------------------------------------------------------------


def _layer_ids(sbom: SBOM) -> set[str]:
    return {layer.diff_id for layer in sbom.layers} | {
        p.layer_diff_id for p in sbom.packages if p.layer_diff_id
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_spdx_round_trip_keeps_purls_and_layers(case: str) -> None:
    sbom = CASES[case]
    again = read(write(sbom))
    assert {p.purl for p in again.packages} == {p.purl for p in sbom.packages}
    assert _layer_ids(again) == _layer_ids(sbom)
    assert again.layers == sbom.layers
    assert again.distro == sbom.distro
    assert set(again.warnings) == set(sbom.warnings)
    assert (again.tool, again.tool_version) == ("hullscan", sbom.tool_version)


@pytest.mark.parametrize("case", sorted(CASES))
def test_spdx_round_trip_keeps_package_evidence(case: str) -> None:
    sbom = CASES[case]
    again = {p.purl: p for p in read(write(sbom)).packages}
    for p in sbom.packages:
        q = again[p.purl]
        assert (q.name, q.version, q.arch, q.found_by, q.source_name) == (
            p.name,
            p.version,
            p.arch,
            p.found_by,
            p.source_name,
        )
        assert (q.layer_diff_id, q.layer_index, q.created_by) == (
            p.layer_diff_id,
            p.layer_index,
            p.created_by,
        )
        assert q.locations == p.locations
        assert q.metadata == p.metadata
        assert q.id == p.id


def test_spdx_round_trip_licenses_relationships_target() -> None:
    sbom = read(write(CASES["debian"]))
    by_name = {p.name: p for p in sbom.packages}
    assert by_name["libc6"].licenses == ("LGPL-2.1-only", "GPL-2")
    assert by_name["libcurl4"].licenses == ("curl", "BSD-3-Clause", "ISC")
    assert [(r.from_id, r.to_id) for r in sbom.relationships] == [
        (by_name["curl"].id, by_name["libcurl4"].id)
    ]
    assert sbom.target.name == CASES["debian"].target.name
    assert sbom.target.manifest_digest == CASES["debian"].target.manifest_digest
    assert sbom.target.kind == "docker-archive"
    rpm = read(write(CASES["rpm"]))
    assert {s.name: s.status for s in rpm.statuses} == {"os/osrelease": "ok", "os/rpm": "partial"}


# --- foreign documents ---------------------------------------------------------------------------

SPDX_2_2 = {
    "SPDXID": "SPDXRef-DOCUMENT",
    "spdxVersion": "SPDX-2.2",
    "name": "alpine:3.19",
    "dataLicense": "CC0-1.0",
    "documentNamespace": "https://example.org/spdx/alpine-3.19",
    "creationInfo": {"created": "2024-03-01T12:00:00Z", "creators": ["Tool: syft-0.90.0"]},
    "documentDescribes": ["SPDXRef-musl"],
    "packages": [
        {
            "SPDXID": "SPDXRef-musl",
            "name": "musl",
            "versionInfo": "1.2.4_git20230717-r4",
            "downloadLocation": "NOASSERTION",
            "licenseConcluded": "NONE",
            "licenseDeclared": "MIT",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE_MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64",
                },
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe23Type",
                    "referenceLocator": "cpe:2.3:a:musl:musl:1.2.4:*:*:*:*:*:*:*",
                },
            ],
        },
        {
            "SPDXID": "SPDXRef-no-purl",
            "name": "mystery",
            "downloadLocation": "NOASSERTION",
        },
    ],
}

TRIVY_2_3 = {
    "spdxVersion": "SPDX-2.3",
    "dataLicense": "CC0-1.0",
    "SPDXID": "SPDXRef-DOCUMENT",
    "name": "debian:12",
    "documentNamespace": "http://aquasecurity.github.io/trivy/container_image/debian:12-0c1d",
    "creationInfo": {
        "creators": ["Organization: aquasecurity", "Tool: trivy-0.50.1"],
        "created": "2024-03-01T12:00:00Z",
    },
    "packages": [
        {
            "name": "debian:12",
            "SPDXID": "SPDXRef-ContainerImage-5a7e",
            "downloadLocation": "NONE",
            "primaryPackagePurpose": "CONTAINER",
            "annotations": [
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "DiffID: sha256:aa11",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "DiffID: sha256:bb22",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "ImageID: sha256:cc33",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "RepoDigest: debian@sha256:dd44",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "RepoTag: debian:12",
                },
            ],
        },
        {
            "name": "debian",
            "SPDXID": "SPDXRef-OperatingSystem-1e2f",
            "versionInfo": "12.5",
            "downloadLocation": "NONE",
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        },
        {
            "name": "libc6",
            "SPDXID": "SPDXRef-Package-3a4b",
            "versionInfo": "2.36-9+deb12u4",
            "supplier": "Organization: GNU Libc Maintainers",
            "downloadLocation": "NONE",
            "licenseConcluded": "LGPL-2.1-only AND GPL-2.0-only",
            "licenseDeclared": "LGPL-2.1-only AND GPL-2.0-only",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5",
                }
            ],
            "primaryPackagePurpose": "LIBRARY",
            "annotations": [
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "LayerDiffID: sha256:aa11",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "PkgType: debian",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "SrcName: glibc",
                },
                {
                    "annotator": "Tool: trivy-0.50.1",
                    "annotationDate": "2024-03-01T12:00:00Z",
                    "annotationType": "OTHER",
                    "comment": "SrcVersion: 2.36",
                },
            ],
        },
        {
            "name": "libgcc-s1",
            "SPDXID": "SPDXRef-Package-5c6d",
            "versionInfo": "12.2.0-14",
            "downloadLocation": "NONE",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12.5",
                }
            ],
        },
    ],
    "relationships": [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relatedSpdxElement": "SPDXRef-ContainerImage-5a7e",
            "relationshipType": "DESCRIBES",
        },
        {
            "spdxElementId": "SPDXRef-ContainerImage-5a7e",
            "relatedSpdxElement": "SPDXRef-OperatingSystem-1e2f",
            "relationshipType": "CONTAINS",
        },
        {
            "spdxElementId": "SPDXRef-OperatingSystem-1e2f",
            "relatedSpdxElement": "SPDXRef-Package-3a4b",
            "relationshipType": "CONTAINS",
        },
        {
            "spdxElementId": "SPDXRef-Package-3a4b",
            "relatedSpdxElement": "SPDXRef-Package-5c6d",
            "relationshipType": "DEPENDS_ON",
        },
        {
            "spdxElementId": "SPDXRef-Package-5c6d",
            "relatedSpdxElement": "SPDXRef-Package-3a4b",
            "relationshipType": "DEPENDENCY_OF",
        },
    ],
}


def test_spdx_reads_2_2_with_underscore_category() -> None:
    sbom = read(json.dumps(SPDX_2_2))
    assert (sbom.tool, sbom.tool_version) == ("syft", "0.90.0")
    [musl] = sbom.packages
    assert musl.purl == "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64"
    assert (musl.type, musl.arch, musl.licenses) == ("apk", "x86_64", ("MIT",))
    assert musl.found_by == "sbom/spdx"
    assert sbom.target.name == "alpine:3.19"  # the described package has a purl: not the image
    assert sbom.target.kind == "spdx"
    assert sbom.warnings == ("1 SPDX package(s) without a purl were skipped",)


def test_spdx_reads_trivy_2_3() -> None:
    sbom = read(json.dumps(TRIVY_2_3))
    assert (sbom.tool, sbom.tool_version) == ("trivy", "0.50.1")
    assert sbom.target.name == "debian:12"
    assert sbom.target.manifest_digest == "sha256:dd44"
    assert sbom.target.config_digest == "sha256:cc33"
    assert sbom.target.repo_tags == ("debian:12",)
    assert [layer.diff_id for layer in sbom.layers] == ["sha256:aa11", "sha256:bb22"]
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version) == ("debian", "12.5")
    by_name = {p.name: p for p in sbom.packages}
    libc = by_name["libc6"]
    assert (libc.layer_diff_id, libc.layer_index) == ("sha256:aa11", 0)
    assert (libc.source_name, libc.source_version) == ("glibc", "2.36")
    assert libc.licenses == ("LGPL-2.1-only", "GPL-2.0-only")
    assert by_name["libgcc-s1"].licenses == ()
    assert [(r.from_id, r.to_id) for r in sbom.relationships] == [
        (libc.id, by_name["libgcc-s1"].id)
    ]
    assert sbom.warnings == ()


# --- hostile input -------------------------------------------------------------------------------

_VALID = write(CASES["rpm"])
_HEAD = '{"spdxVersion": "SPDX-2.3", '


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(_VALID[: len(_VALID) // 3], id="truncated"),
        pytest.param("[]", id="array"),
        pytest.param("{}", id="no-version"),
        pytest.param('{"spdxVersion": "SPDX-3.0"}', id="spdx-3"),
        pytest.param('{"spdxVersion": 2.3}', id="version-number"),
        pytest.param(_HEAD + '"packages": [{"name": {}}]}', id="name-object"),
        pytest.param(_HEAD + '"packages": [{"externalRefs": "pkg:npm/x@1"}]}', id="refs-string"),
        pytest.param(_HEAD + '"relationships": [7]}', id="relationship-number"),
        pytest.param(_HEAD + '"creationInfo": {"creators": [1]}}', id="creator-number"),
        pytest.param(_HEAD + '"packages": ' + "[" * 10000 + "]" * 10000 + "}", id="deep"),
    ],
)
def test_spdx_hostile_input_is_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as exc:
        read(text)
    assert "\n" not in exc.value.diagnostics()


def test_spdx_reader_refuses_oversized_document() -> None:
    big = _HEAD + '"name": "' + "x" * 5000 + '"}'
    with pytest.raises(ParseError, match="larger than"):
        read(big, SPDXWriter(max_chars=1000))
    assert read(big, SPDXWriter(max_chars=10_000)).target.name == "x" * 5000


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
_package_keys = st.sampled_from(
    [
        "SPDXID",
        "name",
        "versionInfo",
        "licenseDeclared",
        "primaryPackagePurpose",
        "externalRefs",
        "annotations",
    ]
)


@given(st.lists(st.dictionaries(_package_keys, _json_values, max_size=6), max_size=4), _json_values)
@settings(max_examples=300, deadline=None)
def test_spdx_reader_random_packages_only_parse_error(
    packages: list[dict[str, object]], relationships: object
) -> None:
    doc = {"spdxVersion": "SPDX-2.3", "packages": packages, "relationships": relationships}
    try:
        read(json.dumps(doc))
    except ParseError:
        pass


@given(
    st.lists(st.text(max_size=40), max_size=6),
    st.text(max_size=40).map(lambda s: "pkg:" + s),
    st.text(max_size=30),
)
@settings(max_examples=300, deadline=None)
def test_spdx_reader_random_annotations_purls_licenses_only_parse_error(
    comments: list[str], purl: str, license_: str
) -> None:
    ann = [{"annotator": "Tool: x", "comment": c} for c in comments]
    doc = {
        "spdxVersion": "SPDX-2.3",
        "annotations": ann,
        "packages": [
            {
                "SPDXID": "SPDXRef-p",
                "name": "p",
                "licenseDeclared": license_,
                "annotations": ann,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": purl,
                    }
                ],
            }
        ],
    }
    try:
        read(json.dumps(doc))
    except ParseError:
        pass


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_spdx_reader_random_text_only_parse_error(text: str) -> None:
    try:
        read(text)
    except ParseError:
        pass


def test_spdx_reader_bounds_package_count() -> None:
    from hullscan.report.spdx import parse

    text = write(CASES["debian"])
    assert len(parse(text, max_packages=9).packages) == 7  # + image and OS packages
    with pytest.raises(ParseError, match="more than 8 packages"):
        parse(text, max_packages=8)


def _trivy_spdx(package: dict[str, object], tool: str = "trivy-0.38.1") -> str:
    return json.dumps(
        {
            "spdxVersion": "SPDX-2.2",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": "img",
            "creationInfo": {"creators": [f"Tool: {tool}", "Organization: aquasecurity"]},
            "packages": [
                {
                    "SPDXID": "SPDXRef-OperatingSystem-2e91c8",
                    "name": "centos",
                    "versionInfo": "7.6.1810",
                },
                {
                    "SPDXID": "SPDXRef-Package-5a18",
                    "name": "openssl-libs",
                    "versionInfo": "1:1.0.2k-16.el7",
                    "externalRefs": [
                        {
                            "referenceCategory": "PACKAGE-MANAGER",
                            "referenceType": "purl",
                            "referenceLocator": "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7"
                            "?arch=x86_64&epoch=1&distro=centos-7.6.1810",
                        }
                    ],
                    **package,
                },
            ],
        }
    )


def test_spdx_reads_older_trivy_attribution_texts_and_source_info() -> None:
    sbom = read(
        _trivy_spdx(
            {
                "attributionTexts": [
                    "PkgID: openssl-libs@1.0.2k-16.el7.x86_64",
                    "LayerDiffID: sha256:89",
                ],
                "sourceInfo": "built package from: openssl 1:1.0.2k-16.el7",
            }
        )
    )
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version) == (
        "centos",
        "7.6.1810",
    )
    (pkg,) = sbom.packages
    assert (pkg.version, pkg.source_name, pkg.source_version) == (
        "1:1.0.2k-16.el7",
        "openssl",
        "1:1.0.2k-16.el7",
    )
    assert pkg.layer_diff_id == "sha256:89"


def test_spdx_trusts_trivy_conventions_only_in_trivy_documents() -> None:
    sbom = read(
        _trivy_spdx(
            {
                "attributionTexts": ["LayerDiffID: sha256:89"],
                "sourceInfo": "built package from: openssl 1:1.0.2k-16.el7",
            },
            tool="other-1.0",
        )
    )
    # the OS package is not recognised by its SPDXID alone (the distro comes from the purls)
    assert sbom.warnings == ("1 SPDX package(s) without a purl were skipped",)
    (pkg,) = sbom.packages
    assert pkg.source_name is None and pkg.layer_diff_id is None
