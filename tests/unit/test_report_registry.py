"""Writer registry: names, aliases, errors; reading any SBOM format by sniffing."""

from __future__ import annotations

import io
import subprocess
import sys

import msgspec
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from hypothesis import HealthCheck, example, given, settings
from packageurl import PackageURL

from hullscan.errors import ParseError, UsageError
from hullscan.model import SBOM, Package
from hullscan.model.sbom import Target
from hullscan.report.base import SBOMReader, Writer
from hullscan.report.registry import (
    FORMAT_NAMES,
    FORMATS,
    get_reader,
    get_writer,
    read_sbom,
    writer_names,
)
from tests.unit.test_report_samples import CASES, sboms


def test_writer_names_lists_ids() -> None:
    assert writer_names() == ["table", "json", "cyclonedx", "spdx"]


@pytest.mark.parametrize(
    ("name", "writer_id"),
    [
        ("table", "table"),
        ("json", "json"),
        ("cyclonedx", "cyclonedx"),
        ("cyclonedx-json", "cyclonedx"),
        ("CycloneDX-JSON", "cyclonedx"),
        ("spdx", "spdx"),
        ("spdx-json", "spdx"),
        (" spdx ", "spdx"),
    ],
)
def test_get_writer_by_id_or_alias(name: str, writer_id: str) -> None:
    assert get_writer(name).id == writer_id


def test_get_writer_unknown_lists_valid_names() -> None:
    with pytest.raises(UsageError) as exc:
        get_writer("sarif")
    message = exc.value.diagnostics()
    assert "'sarif'" in message
    for name in ("table", "json", "cyclonedx", "cyclonedx-json", "spdx", "spdx-json"):
        assert name in message
    assert exc.value.exit_code == 2


def test_every_writer_satisfies_the_protocol_and_matches_its_entry() -> None:
    for entry in FORMATS:
        writer = get_writer(entry.id)
        assert isinstance(writer, Writer), entry.id
        assert (writer.id, writer.aliases) == (entry.id, entry.aliases)
        assert writer.media_type
        assert isinstance(writer, SBOMReader) == entry.readable
    for name, entry in FORMAT_NAMES.items():
        assert get_writer(name) is get_writer(entry.id)


def test_registry_import_does_not_load_writer_libraries() -> None:
    code = (
        "import sys, hullscan.report.registry as r; r.writer_names(); "
        "print(sorted(m for m in ('spdx_tools', 'cyclonedx', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_get_reader() -> None:
    for name in ("json", "cyclonedx", "spdx-json"):
        assert isinstance(get_reader(name), SBOMReader)
    with pytest.raises(UsageError, match="cannot be read back"):
        get_reader("table")


@pytest.mark.parametrize("fmt", ["json", "cyclonedx", "spdx"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_read_sbom_detects_format(fmt: str, case: str) -> None:
    buf = io.StringIO()
    get_writer(fmt).write_sbom(CASES[case], buf)
    sbom = read_sbom(io.StringIO(buf.getvalue()))
    assert {p.purl for p in sbom.packages} == {p.purl for p in CASES[case].packages}
    if fmt == "json":
        assert sbom == CASES[case]


@pytest.mark.parametrize(
    "text", ["", "{}", "[1]", '{"bomFormat": 1', '{"hello": "world"}', "{" * 5000]
)
def test_read_sbom_unknown_is_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        read_sbom(io.StringIO(text))


def test_read_sbom_bounded() -> None:
    with pytest.raises(ParseError, match="larger than"):
        read_sbom(io.StringIO('{"spdxVersion": "SPDX-2.3", "name": "' + "x" * 100 + '"}'), 50)


# --- every writer on arbitrary SBOMs -------------------------------------------------------------

_CDX_VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


_CPAN_QUIRK = SBOM(
    tool="",
    tool_version="",
    target=Target(name="", kind=""),
    packages=(Package(name="", version="", type="", purl="pkg:a/a/0", found_by=""),),
)


@given(sboms)
@example(_CPAN_QUIRK)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_writer_handles_arbitrary_sboms_and_reads_back(sbom: SBOM) -> None:
    for name in writer_names():
        writer = get_writer(name)
        buf = io.StringIO()
        writer.write_sbom(sbom, buf)
        text = buf.getvalue()
        assert text.endswith("\n")
        if name == "cyclonedx":
            error = _CDX_VALIDATOR.validate_str(text)
            assert error is None, str(error)[:500]
        if isinstance(writer, SBOMReader):
            again = read_sbom(io.StringIO(text))
            read_back = {p.purl for p in again.packages}
            for purl in {p.purl for p in sbom.packages if _is_purl(p.purl)}:
                # as written, or as packageurl-python normalizes it (the CycloneDX library
                # re-serializes purls; packageurl 0.17.6 even upper-cases the namespace of
                # any type that is a substring of "cpan", e.g. pkg:a/a/0 -> pkg:a/A/0)
                assert purl in read_back or _renormalized(purl) in read_back, (name, purl)


def _is_purl(text: str) -> bool:
    try:
        PackageURL.from_string(text)
    except ValueError:
        return False
    return True


def _renormalized(purl: str) -> str:
    normalized: str = PackageURL.from_string(purl).to_string()
    return normalized


@given(sboms)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_spdx_output_of_arbitrary_sboms_with_valid_purls_validates(sbom: SBOM) -> None:
    from hullscan.report.spdx import build_document, validate

    kept = tuple(p for p in sbom.packages if _is_purl(p.purl) and p.name.strip())
    sbom = msgspec.structs.replace(sbom, packages=kept)
    assert validate(build_document(sbom)) == []
