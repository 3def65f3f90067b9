"""CycloneDX 1.6 writer (schema-valid, evidence, dependencies) and reader (ours, Syft, Trivy)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import ParseError
from hullscan.model import SBOM, DpkgMeta, RpmMeta
from hullscan.report.cyclonedx import CycloneDXWriter, build_bom, render, render_with_library
from tests.unit.test_report_samples import CASES, check_golden, redact

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def write(sbom: SBOM, writer: CycloneDXWriter | None = None) -> str:
    buf = io.StringIO()
    (writer or CycloneDXWriter()).write_sbom(sbom, buf)
    return buf.getvalue()


def read(text: str, writer: CycloneDXWriter | None = None) -> SBOM:
    return (writer or CycloneDXWriter()).read_sbom(io.StringIO(text))


def props(obj: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in obj.get("properties", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


def component(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["components"] if c["name"] == name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cyclonedx_output_validates_against_1_6_schema(case: str) -> None:
    error = VALIDATOR.validate_str(write(CASES[case]))
    assert error is None, str(error)[:2000]


@pytest.mark.parametrize("case", sorted(CASES))
def test_cyclonedx_golden(case: str) -> None:
    check_golden("cyclonedx", case, redact(write(CASES[case])))


def test_cyclonedx_pinned_serial_and_timestamp_make_output_reproducible() -> None:
    w = CycloneDXWriter(
        serial_number=UUID("12345678-1234-4234-8234-123456789abc"),
        timestamp=datetime(2024, 6, 1, tzinfo=UTC),
    )
    text = write(CASES["debian"], w)
    assert text == write(CASES["debian"], w)
    doc = json.loads(text)
    assert doc["serialNumber"] == "urn:uuid:12345678-1234-4234-8234-123456789abc"
    assert doc["metadata"]["timestamp"].startswith("2024-06-01T00:00:00")


def test_cyclonedx_image_component_and_tool() -> None:
    doc = json.loads(write(CASES["debian"]))
    assert list(doc)[:5] == ["$schema", "bomFormat", "specVersion", "serialNumber", "version"]
    assert doc["specVersion"] == "1.6"
    image = doc["metadata"]["component"]
    target = CASES["debian"].target
    assert image["type"] == "container"
    assert image["name"] == target.name
    assert image["version"] == target.manifest_digest
    p = props(image)
    assert p["hullscan:image:config_digest"] == [target.config_digest]
    assert p["hullscan:image:os"] == ["linux"]
    assert p["hullscan:image:architecture"] == ["amd64"]
    assert p["hullscan:layer:1:created_by"] == [CASES["debian"].layers[1].created_by]
    assert not any("TOKEN" in v for vs in p.values() for v in vs), "env may hold secrets"
    tools = doc["metadata"]["tools"]["components"]
    assert [(t["name"], t["version"]) for t in tools] == [("hullscan", "0.1.0")]


def test_cyclonedx_package_component_carries_evidence() -> None:
    sbom = CASES["debian"]
    doc = json.loads(write(sbom))
    pkg = next(p for p in sbom.packages if p.name == "libcurl4")
    c = component(doc, "libcurl4")
    assert c["type"] == "library"
    assert c["bom-ref"] == pkg.id
    assert c["purl"] == pkg.purl
    assert c["version"] == "7.88.1-10+deb12u5"
    p = props(c)
    assert p["hullscan:layer:diff_id"] == [pkg.layer_diff_id]
    assert p["hullscan:layer:index"] == ["1"]
    assert p["hullscan:layer:created_by"] == [pkg.created_by]
    assert p["hullscan:location:path"] == ["var/lib/dpkg/status"]
    assert p["hullscan:source:name"] == ["curl"]
    assert p["hullscan:found_by"] == ["os/dpkg"]
    assert p["hullscan:arch"] == ["amd64"]
    assert p["hullscan:dpkg:multi_arch"] == ["same"]
    assert c["evidence"]["occurrences"] == [
        {
            "location": "var/lib/dpkg/status",
            "additionalContext": f"layer {pkg.locations[0].layer_diff_id}",
        }
    ]
    licenses = [lic["license"] for lic in c["licenses"]]
    assert {"id": "BSD-3-Clause"} in licenses
    assert {"id": "ISC"} in licenses
    assert {"id": "curl"} in licenses  # the curl license is on the SPDX list
    assert component(doc, "base-files")["licenses"] == [{"license": {"name": "GPL-2"}}]


def test_cyclonedx_rpm_epoch_release_and_modularity() -> None:
    doc = json.loads(write(CASES["rpm"]))
    p = props(component(doc, "nodejs"))
    assert p["hullscan:rpm:epoch"] == ["1"]
    assert p["hullscan:rpm:release"] == ["1.module+el8.9.0+20473+c4e3d824"]
    assert p["hullscan:rpm:modularity_label"] == ["nodejs:18:8090020231207120000:a75119d5"]
    assert component(doc, "nodejs")["version"] == "1:18.19.0-1.module+el8.9.0+20473+c4e3d824"


def test_cyclonedx_lone_expression_is_an_expression() -> None:
    doc = json.loads(write(CASES["alpine"]))
    assert component(doc, "ca-certificates-bundle")["licenses"] == [
        {"expression": "MPL-2.0 AND MIT"}
    ]
    assert component(doc, "musl")["licenses"] == [{"license": {"id": "MIT"}}]


def test_cyclonedx_operating_system_component() -> None:
    doc = json.loads(write(CASES["rpm"]))
    os_c = next(c for c in doc["components"] if c["type"] == "operating-system")
    assert (os_c["name"], os_c["version"]) == ("rhel", "8.9")
    assert os_c["description"] == "Red Hat Enterprise Linux 8.9 (Ootpa)"
    assert os_c["cpe"] == "cpe:/o:redhat:enterprise_linux:8::baseos"
    assert props(os_c)["hullscan:distro:id_like"] == ["fedora"]


def test_cyclonedx_dependencies_image_contains_everything() -> None:
    sbom = CASES["debian"]
    doc = json.loads(write(sbom))
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    refs = {c["bom-ref"] for c in doc["components"]}
    assert set(deps["image"]) == refs
    assert set(deps) == refs | {"image"}
    curl = next(p for p in sbom.packages if p.name == "curl")
    libcurl = next(p for p in sbom.packages if p.name == "libcurl4")
    assert deps[curl.id] == [libcurl.id]


def test_cyclonedx_statuses_and_warnings_on_metadata() -> None:
    doc = json.loads(write(CASES["rpm"]))
    p = props(doc["metadata"])
    assert p["hullscan:warning"] == ["layer 1: 3 entries with unsafe names were skipped"]
    assert p["hullscan:analyzer:os/rpm:status"] == ["partial"]
    assert p["hullscan:analyzer:os/rpm:reason"] == ["1 file could not be read"]
    assert p["hullscan:analyzer:os/rpm:file_error"] == [
        "usr/lib/sysimage/rpm/Packages: truncated page 12"
    ]
    assert p["hullscan:analyzer:os/osrelease:status"] == ["ok"]


def test_cyclonedx_duplicate_package_ids_get_distinct_refs() -> None:
    sbom = CASES["alpine"]
    twice = SBOM(target=sbom.target, packages=(sbom.packages[0], sbom.packages[0]))
    text = write(twice)
    assert VALIDATOR.validate_str(text) is None
    refs = [c["bom-ref"] for c in json.loads(text)["components"]]
    assert len(refs) == len(set(refs)) == 2


# --- round trips ---------------------------------------------------------------------------------


def _layer_ids(sbom: SBOM) -> set[str]:
    return {layer.diff_id for layer in sbom.layers} | {
        p.layer_diff_id for p in sbom.packages if p.layer_diff_id
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_cyclonedx_round_trip_keeps_purls_and_layers(case: str) -> None:
    sbom = CASES[case]
    again = read(write(sbom))
    assert {p.purl for p in again.packages} == {p.purl for p in sbom.packages}
    assert _layer_ids(again) == _layer_ids(sbom)
    assert again.layers == sbom.layers
    assert again.distro == sbom.distro
    assert set(again.warnings) == set(sbom.warnings)
    assert again.tool == "hullscan"


@pytest.mark.parametrize("case", sorted(CASES))
def test_cyclonedx_round_trip_keeps_package_evidence(case: str) -> None:
    sbom = CASES[case]
    again = {p.purl: p for p in read(write(sbom)).packages}
    for p in sbom.packages:
        q = again[p.purl]
        assert (q.name, q.version, q.type, q.arch, q.found_by) == (
            p.name,
            p.version,
            p.type,
            p.arch,
            p.found_by,
        )
        assert (q.source_name, q.source_version) == (p.source_name, p.source_version)
        assert (q.layer_diff_id, q.layer_index, q.created_by) == (
            p.layer_diff_id,
            p.layer_index,
            p.created_by,
        )
        assert q.locations == p.locations
        assert q.metadata == p.metadata
        assert q.id == p.id


def test_cyclonedx_round_trip_keeps_relationships_and_statuses() -> None:
    sbom = CASES["debian"]
    assert read(write(sbom)).relationships == sbom.relationships
    rpm = read(write(CASES["rpm"]))
    status = next(s for s in rpm.statuses if s.name == "os/rpm")
    assert (status.status, status.version, status.reason) == (
        "partial",
        2,
        "1 file could not be read",
    )
    assert [(f.path, f.error) for f in status.file_errors] == [
        ("usr/lib/sysimage/rpm/Packages", "truncated page 12")
    ]


def test_cyclonedx_round_trip_target() -> None:
    sbom = CASES["debian"]
    t = read(write(sbom)).target
    assert t.name == sbom.target.name
    assert t.kind == "docker-archive"
    assert t.manifest_digest == sbom.target.manifest_digest
    assert t.config_digest == sbom.target.config_digest
    assert t.repo_tags == sbom.target.repo_tags
    assert t.labels == sbom.target.labels
    assert t.env == ()


# --- foreign documents ---------------------------------------------------------------------------

SYFT_1_4 = {
    "$schema": "http://cyclonedx.org/schema/bom-1.4.schema.json",
    "bomFormat": "CycloneDX",
    "specVersion": "1.4",
    "serialNumber": "urn:uuid:2b3c5e4f-8a7d-4d6e-9c1b-0a2f3e4d5c6b",
    "version": 1,
    "metadata": {
        "timestamp": "2024-03-01T12:00:00Z",
        "tools": [{"vendor": "anchore", "name": "syft", "version": "0.105.0"}],
        "component": {
            "bom-ref": "af63bd4c8601b7f1",
            "type": "container",
            "name": "debian:12-slim",
            "version": "sha256:7802002798b0e351",
        },
    },
    "components": [
        {
            "bom-ref": "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&package-id=1",
            "type": "library",
            "publisher": "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
            "name": "libc6",
            "version": "2.36-9+deb12u4",
            "licenses": [{"license": {"id": "GPL-2.0-only"}}, {"license": {"name": "LGPL-2.1"}}],
            "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12",
            "properties": [
                {"name": "syft:package:foundBy", "value": "dpkg-db-cataloger"},
                {"name": "syft:package:type", "value": "deb"},
                {"name": "syft:location:0:layerID", "value": "sha256:aa11"},
                {"name": "syft:location:0:path", "value": "/var/lib/dpkg/status"},
                {"name": "syft:location:1:layerID", "value": "sha256:aa11"},
                {"name": "syft:location:1:path", "value": "/usr/share/doc/libc6/copyright"},
                {"name": "syft:metadata:installedSize", "value": "12986"},
            ],
        },
        {
            "bom-ref": "file-only",
            "type": "file",
            "name": "/etc/passwd",
        },
        {
            "bom-ref": "os:debian@12",
            "type": "operating-system",
            "name": "debian",
            "version": "12",
            "description": "Debian GNU/Linux 12 (bookworm)",
            "swid": {"tagId": "debian", "name": "debian", "version": "12"},
            "properties": [
                {"name": "syft:distro:id", "value": "debian"},
                {"name": "syft:distro:prettyName", "value": "Debian GNU/Linux 12 (bookworm)"},
                {"name": "syft:distro:versionCodename", "value": "bookworm"},
                {"name": "syft:distro:versionID", "value": "12"},
            ],
        },
    ],
}

TRIVY_1_5 = {
    "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "serialNumber": "urn:uuid:0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5",
    "version": 1,
    "metadata": {
        "timestamp": "2024-03-01T12:00:00+00:00",
        "tools": {
            "components": [
                {
                    "type": "application",
                    "group": "aquasecurity",
                    "name": "trivy",
                    "version": "0.50.1",
                }
            ]
        },
        "component": {
            "bom-ref": "pkg:oci/alpine@sha256%3Ac5b1261d?arch=amd64&repository_url=index.docker.io%2Flibrary%2Falpine",
            "type": "container",
            "name": "alpine:3.19",
            "purl": "pkg:oci/alpine@sha256%3Ac5b1261d?arch=amd64&repository_url=index.docker.io%2Flibrary%2Falpine",
            "properties": [
                {"name": "aquasecurity:trivy:DiffID", "value": "sha256:d4fc045c"},
                {"name": "aquasecurity:trivy:DiffID", "value": "sha256:e5fd156d"},
                {"name": "aquasecurity:trivy:ImageID", "value": "sha256:05455a08"},
                {"name": "aquasecurity:trivy:RepoDigest", "value": "alpine@sha256:c5b1261d"},
                {"name": "aquasecurity:trivy:RepoTag", "value": "alpine:3.19"},
                {"name": "aquasecurity:trivy:SchemaVersion", "value": "2"},
            ],
        },
    },
    "components": [
        {
            "bom-ref": "3f2e1d0c-aaaa-4bbb-8ccc-0123456789ab",
            "type": "operating-system",
            "name": "alpine",
            "version": "3.19.1",
            "properties": [
                {"name": "aquasecurity:trivy:Class", "value": "os-pkgs"},
                {"name": "aquasecurity:trivy:Type", "value": "alpine"},
            ],
        },
        {
            "bom-ref": "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
            "type": "library",
            "supplier": {"name": "Natanael Copa <ncopa@alpinelinux.org>"},
            "name": "musl",
            "version": "1.2.4_git20230717-r4",
            "hashes": [{"alg": "SHA-1", "content": "ad2e5b9a9b3a4e1d2c3b4a5f6e7d8c9b0a1f2e3d"}],
            "licenses": [{"license": {"id": "MIT"}}],
            "purl": "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
            "properties": [
                {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:d4fc045c"},
                {"name": "aquasecurity:trivy:PkgID", "value": "musl@1.2.4_git20230717-r4"},
                {"name": "aquasecurity:trivy:PkgType", "value": "alpine"},
                {"name": "aquasecurity:trivy:SrcName", "value": "musl"},
                {"name": "aquasecurity:trivy:SrcVersion", "value": "1.2.4_git20230717-r4"},
            ],
        },
        {
            "bom-ref": "pkg:apk/alpine/musl-utils@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
            "type": "library",
            "name": "musl-utils",
            "version": "1.2.4_git20230717-r4",
            "licenses": [{"expression": "MIT AND BSD-2-Clause AND GPL-2.0-or-later"}],
            "purl": "pkg:apk/alpine/musl-utils@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
            "properties": [
                {"name": "aquasecurity:trivy:LayerDiffID", "value": "sha256:e5fd156d"},
                {"name": "aquasecurity:trivy:SrcName", "value": "musl"},
            ],
        },
    ],
    "dependencies": [
        {
            "ref": "3f2e1d0c-aaaa-4bbb-8ccc-0123456789ab",
            "dependsOn": [
                "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
                "pkg:apk/alpine/musl-utils@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
            ],
        },
        {
            "ref": "pkg:apk/alpine/musl-utils@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1",
            "dependsOn": ["pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1"],
        },
    ],
    "vulnerabilities": [],
}


def test_cyclonedx_reads_syft_1_4() -> None:
    sbom = read(json.dumps(SYFT_1_4))
    assert (sbom.tool, sbom.tool_version) == ("syft", "0.105.0")
    assert sbom.target.name == "debian:12-slim"
    assert sbom.target.manifest_digest == "sha256:7802002798b0e351"
    assert sbom.distro is not None
    assert (sbom.distro.id, sbom.distro.version, sbom.distro.codename) == (
        "debian",
        "12",
        "bookworm",
    )
    assert sbom.distro.pretty_name == "Debian GNU/Linux 12 (bookworm)"
    [libc] = sbom.packages
    assert (libc.name, libc.version, libc.type, libc.arch) == (
        "libc6",
        "2.36-9+deb12u4",
        "deb",
        "amd64",
    )
    assert libc.source_name == "glibc"
    assert libc.found_by == "dpkg-db-cataloger"
    assert libc.layer_diff_id == "sha256:aa11"
    assert [loc.path for loc in libc.locations] == [
        "var/lib/dpkg/status",
        "usr/share/doc/libc6/copyright",
    ]
    assert libc.licenses == ("GPL-2.0-only", "LGPL-2.1")
    assert sbom.warnings == ("1 CycloneDX component(s) without a purl were skipped",)


def test_cyclonedx_reads_trivy_1_5() -> None:
    sbom = read(json.dumps(TRIVY_1_5))
    assert (sbom.tool, sbom.tool_version) == ("trivy", "0.50.1")
    assert sbom.target.name == "alpine:3.19"
    assert sbom.target.manifest_digest == "sha256:c5b1261d"
    assert sbom.target.config_digest == "sha256:05455a08"
    assert sbom.target.repo_tags == ("alpine:3.19",)
    assert [(layer.index, layer.diff_id) for layer in sbom.layers] == [
        (0, "sha256:d4fc045c"),
        (1, "sha256:e5fd156d"),
    ]
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version) == ("alpine", "3.19.1")
    by_name = {p.name: p for p in sbom.packages}
    assert by_name["musl"].layer_diff_id == "sha256:d4fc045c"
    assert by_name["musl"].layer_index == 0
    assert by_name["musl-utils"].layer_index == 1
    assert by_name["musl-utils"].source_name == "musl"
    assert by_name["musl-utils"].licenses == ("MIT AND BSD-2-Clause AND GPL-2.0-or-later",)
    assert by_name["musl"].found_by == "sbom/cyclonedx"
    assert [(r.from_id, r.to_id) for r in sbom.relationships] == [
        (by_name["musl-utils"].id, by_name["musl"].id)
    ]
    assert sbom.warnings == ()


def test_cyclonedx_reads_nested_components() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "application",
                "name": "app",
                "purl": "pkg:generic/app@1",
                "components": [{"type": "library", "name": "inner", "purl": "pkg:pypi/inner@2.0"}],
            }
        ],
    }
    assert {p.purl for p in read(json.dumps(doc)).packages} == {
        "pkg:generic/app@1",
        "pkg:pypi/inner@2.0",
    }


def test_cyclonedx_invalid_purl_is_skipped_with_warning() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [{"name": "x", "purl": "pkg:"}, {"name": "y", "purl": "pkg:npm/y@1"}],
    }
    sbom = read(json.dumps(doc))
    assert [p.name for p in sbom.packages] == ["y"]
    assert sbom.warnings == ("1 CycloneDX component(s) with an invalid purl were skipped",)


# --- hostile input -------------------------------------------------------------------------------

_VALID = write(CASES["debian"])
_HEAD = '{"bomFormat": "CycloneDX", "specVersion": "1.6", '


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(_VALID[:-200], id="truncated"),
        pytest.param("[]", id="array"),
        pytest.param('{"specVersion": "1.6"}', id="no-bomFormat"),
        pytest.param('{"bomFormat": "SPDX", "specVersion": "1.6"}', id="other-format"),
        pytest.param('{"bomFormat": "CycloneDX", "specVersion": "9.9"}', id="future-spec"),
        pytest.param('{"bomFormat": "CycloneDX", "specVersion": 1.6}', id="spec-number"),
        pytest.param(_HEAD + '"components": {"a": 1}}', id="components-object"),
        pytest.param(_HEAD + '"components": [{"name": 5}]}', id="name-number"),
        pytest.param(
            _HEAD + '"components": [{"properties": [{"name": []}]}]}', id="prop-name-list"
        ),
        pytest.param(_HEAD + '"metadata": {"tools": 7}}', id="tools-number"),
        pytest.param(_HEAD + '"dependencies": [{"dependsOn": []}]}', id="dependency-no-ref"),
        pytest.param(
            _HEAD + '"components": ' + '[{"components": ' * 10000 + "[]" + "}]" * 10000 + "}",
            id="deep-components",
        ),
        pytest.param(_HEAD + '"x": ' + "[" * 10000 + "]" * 10000 + "}", id="deep-unknown"),
    ],
)
def test_cyclonedx_hostile_input_is_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as exc:
        read(text)
    assert "\n" not in exc.value.diagnostics()


def test_cyclonedx_reader_refuses_oversized_document() -> None:
    big = _HEAD + '"components": [{"name": "' + "x" * 5000 + '", "purl": "pkg:npm/x@1"}]}'
    with pytest.raises(ParseError, match="larger than"):
        read(big, CycloneDXWriter(max_chars=1000))
    assert read(big, CycloneDXWriter(max_chars=10_000)).packages[0].name == "x" * 5000


def test_cyclonedx_reader_bad_numbers_in_properties_are_ignored() -> None:
    doc = json.loads(_VALID)
    for c in doc["components"]:
        for p in c.get("properties", []):
            if p["name"] in ("hullscan:layer:index", "hullscan:dpkg:installed_size"):
                p["value"] = "9" * 5000
    sbom = read(json.dumps(doc))
    assert all(p.layer_index is not None for p in sbom.packages)  # falls back to the layer list
    assert all(isinstance(p.metadata, DpkgMeta) or p.metadata is None for p in sbom.packages)


def test_cyclonedx_reader_metadata_type_mismatch_is_dropped() -> None:
    doc = json.loads(write(CASES["rpm"]))
    for c in doc["components"]:
        for p in c.get("properties", []):
            if p["name"] == "hullscan:rpm:epoch":
                p["value"] = "one"
    sbom = read(json.dumps(doc))
    nodejs = next(p for p in sbom.packages if p.name == "nodejs")
    assert nodejs.metadata is None
    bash = next(p for p in sbom.packages if p.name == "bash")
    assert isinstance(bash.metadata, RpmMeta)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
_component_keys = st.sampled_from(
    [
        "type",
        "name",
        "version",
        "purl",
        "bom-ref",
        "licenses",
        "properties",
        "evidence",
        "components",
    ]
)


@given(
    st.lists(st.dictionaries(_component_keys, _json_values, max_size=6), max_size=4), _json_values
)
@settings(max_examples=300, deadline=None)
def test_cyclonedx_reader_random_components_only_parse_error(
    components: list[dict[str, object]], metadata: object
) -> None:
    doc: dict[str, object] = {"bomFormat": "CycloneDX", "specVersion": "1.5"}
    doc["components"] = components
    doc["metadata"] = metadata
    try:
        read(json.dumps(doc))
    except ParseError:
        pass


_prop_names = st.sampled_from(
    [
        "hullscan:layer:index",
        "hullscan:layer:0:diff_id",
        "hullscan:layer:0:size",
        "hullscan:layer:-1:diff_id",
        "hullscan:location:layer",
        "hullscan:metadata:type",
        "hullscan:rpm:epoch",
        "hullscan:apk:depends",
        "hullscan:analyzer:x:version",
        "syft:location:0:path",
        "syft:location:²:path",
        "aquasecurity:trivy:DiffID",
    ]
)


@given(
    st.lists(st.tuples(_prop_names, st.text(max_size=30)), max_size=8),
    st.text(max_size=40).map(lambda s: "pkg:" + s),
)
@settings(max_examples=300, deadline=None)
def test_cyclonedx_reader_random_properties_and_purls_only_parse_error(
    pairs: list[tuple[str, str]], purl: str
) -> None:
    properties = [{"name": n, "value": v} for n, v in pairs]
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"type": "container", "name": "x", "properties": properties}},
        "components": [{"name": "p", "purl": purl, "properties": properties}],
    }
    try:
        read(json.dumps(doc))
    except ParseError:
        pass


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_cyclonedx_reader_random_text_only_parse_error(text: str) -> None:
    try:
        read(text)
    except ParseError:
        pass


@pytest.mark.parametrize("case", sorted(CASES))
def test_cyclonedx_fast_render_equals_library_serializer(case: str) -> None:
    bom = build_bom(CASES[case])
    fast = render(bom)
    assert render_with_library(bom) == fast
    assert bom.validate()


def test_cyclonedx_reader_bounds_component_count() -> None:
    from hullscan.report.cyclonedx import parse

    text = write(CASES["debian"])
    assert len(parse(text, max_packages=8).packages) == 7  # 7 packages + the OS component
    with pytest.raises(ParseError, match="more than 7 components"):
        parse(text, max_packages=7)


def _trivy_os_doc(*components: dict[str, object]) -> str:
    os_component = {
        "bom-ref": "os",
        "type": "operating-system",
        "name": "centos",
        "version": "7.6.1810",
    }
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [*components, os_component]}
    )


def _trivy_rpm(purl: str, version: str, **props: str) -> dict[str, object]:
    return {
        "type": "library",
        "name": purl.rsplit("/", 1)[1].split("@")[0],
        "version": version,
        "purl": purl,
        "properties": [{"name": f"aquasecurity:trivy:{k}", "value": v} for k, v in props.items()],
    }


@pytest.mark.parametrize(
    ("purl", "version", "props", "expected"),
    [
        # newer Trivy: epoch in the qualifier only; source split in version/release/epoch
        (
            "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810",
            "1.0.2k-16.el7",
            {"SrcName": "openssl", "SrcVersion": "1.0.2k", "SrcRelease": "16.el7", "SrcEpoch": "1"},
            ("1:1.0.2k-16.el7", "openssl", "1:1.0.2k-16.el7"),
        ),
        # older Trivy: the release inside SrcVersion
        (
            "pkg:rpm/centos/bash@4.2.46-31.el7?arch=x86_64&distro=centos-7.6.1810",
            "4.2.46-31.el7",
            {"SrcName": "bash", "SrcVersion": "4.2.46-31.el7"},
            ("4.2.46-31.el7", "bash", "4.2.46-31.el7"),
        ),
        # epoch 0, an epoch already in the version, junk epochs: left alone
        (
            "pkg:rpm/centos/a@1-1?epoch=0",
            "1-1",
            {"SrcEpoch": "0", "SrcVersion": "1", "SrcRelease": "1"},
            ("1-1", None, "1-1"),
        ),
        ("pkg:rpm/centos/a@1-1?epoch=2", "2:1-1", {}, ("2:1-1", None, None)),
        ("pkg:rpm/centos/a@1-1?epoch=x1", "1-1", {"SrcEpoch": "x"}, ("1-1", None, None)),
        ("pkg:rpm/centos/a@1-1?epoch=" + "9" * 5000, "1-1", {}, ("1-1", None, None)),
        # not an OS package: an epoch qualifier means nothing
        ("pkg:npm/a@1.0.0?epoch=1", "1.0.0", {}, ("1.0.0", None, None)),
    ],
)
def test_cyclonedx_trivy_epochs_and_source_versions(
    purl: str, version: str, props: dict[str, str], expected: tuple[str, str | None, str | None]
) -> None:
    (pkg,) = read(_trivy_os_doc(_trivy_rpm(purl, version, **props))).packages
    assert (pkg.version, pkg.source_name, pkg.source_version) == expected
