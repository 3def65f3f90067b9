"""Native JSON writer/reader: lossless round trip, stable order, schema, hostile input."""

from __future__ import annotations

import io
import json
import random

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import ParseError
from hullscan.model import SBOM, SBOM_SCHEMA_VERSION
from hullscan.report.json import JsonWriter, canonical, schema, schema_text
from tests.unit.test_report_samples import CASES, REPO, check_golden, redact, sboms

W = JsonWriter()


def write(sbom: SBOM) -> str:
    buf = io.StringIO()
    W.write_sbom(sbom, buf)
    return buf.getvalue()


def read(text: str, writer: JsonWriter = W) -> SBOM:
    return writer.read_sbom(io.StringIO(text))


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_round_trip_is_lossless(case: str) -> None:
    sbom = CASES[case]
    assert read(write(sbom)) == sbom


@given(sboms)
@settings(max_examples=200, deadline=None)
def test_json_round_trip_property(sbom: SBOM) -> None:
    text = write(sbom)
    again = read(text)
    assert again == canonical(sbom)
    assert write(again) == text


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_golden(case: str) -> None:
    check_golden("json", case, redact(write(CASES[case])))


def test_json_is_pretty_sorted_and_versioned() -> None:
    sbom = CASES["debian"]
    shuffled = list(sbom.packages)
    random.Random(7).shuffle(shuffled)
    messy = msgspec.structs.replace(sbom, packages=tuple(reversed(shuffled)))
    text = write(messy)
    assert text == write(sbom)
    assert text.startswith('{\n  "schema_version": 1,')
    assert text.endswith("}\n")
    doc = json.loads(text)
    names = [(p["type"], p["name"]) for p in doc["packages"]]
    assert names == sorted(names)
    assert doc["schema_version"] == SBOM_SCHEMA_VERSION


def test_json_labels_are_written_in_key_order() -> None:
    text = write(CASES["debian"])
    assert text.index('"maintainer"') < text.index('"org.opencontainers.image.source"')


def test_json_schema_file_matches_model() -> None:
    committed = (REPO / "docs" / "schema" / "sbom-v1.json").read_text(encoding="utf-8")
    assert committed == schema_text(), (
        "docs/schema/sbom-v1.json is stale: regenerate it with "
        "python -c 'from hullscan.report.json import schema_text; print(schema_text(), end=\"\")'"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_output_validates_against_schema(case: str) -> None:
    jsonschema.Draft202012Validator(schema()).validate(json.loads(write(CASES[case])))


def test_json_schema_rejects_wrong_types() -> None:
    doc = json.loads(write(CASES["alpine"]))
    doc["packages"][0]["layer_index"] = "zero"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema()).validate(doc)


# --- hostile input -------------------------------------------------------------------------------

_VALID = write(CASES["alpine"])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n", id="blank"),
        pytest.param(_VALID[: len(_VALID) // 2], id="truncated"),
        pytest.param("[]", id="array"),
        pytest.param('"sbom"', id="string"),
        pytest.param("{}", id="no-schema-version"),
        pytest.param('{"schema_version": 2, "target": {}}', id="future-schema"),
        pytest.param('{"schema_version": "1"}', id="schema-version-string"),
        pytest.param('{"schema_version": 1}', id="no-target"),
        pytest.param(_VALID.replace('"name": "busybox"', '"name": 5'), id="wrong-type"),
        pytest.param(_VALID.replace('"layer_index": 0', '"layer_index": 1e400'), id="huge-float"),
        pytest.param(
            _VALID.replace('"type": "apk"', '"type": "apk", "metadata": {"type": "pacman"}', 1),
            id="unknown-metadata-tag",
        ),
        pytest.param('{"schema_version": 1, "x": ' + "[" * 10000 + "]" * 10000 + "}", id="deep"),
        pytest.param("{" * 10000, id="deep-unclosed"),
        pytest.param("\x00\xff\ufffe", id="binary"),
    ],
)
def test_json_hostile_input_is_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as exc:
        read(text)
    message = exc.value.diagnostics()
    assert "\n" not in message
    assert len(message) < 400


def test_json_reader_refuses_oversized_document() -> None:
    big = '{"schema_version": 1, "target": {"name": "' + "x" * 5000 + '", "kind": "dir"}}'
    with pytest.raises(ParseError, match="larger than"):
        read(big, JsonWriter(max_chars=1000))
    assert read(big, JsonWriter(max_chars=10_000)).target.name == "x" * 5000


def test_json_reader_accepts_unknown_fields() -> None:
    doc = json.loads(_VALID)
    doc["future_field"] = {"nested": [1, 2, 3]}
    assert read(json.dumps(doc)) == CASES["alpine"]


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_json_reader_random_text_only_parse_error(text: str) -> None:
    try:
        read(text)
    except ParseError:
        pass


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@given(_json_values)
@settings(max_examples=300, deadline=None)
def test_json_reader_random_json_only_parse_error(value: object) -> None:
    try:
        read(json.dumps(value))
    except ParseError:
        pass


@given(st.dictionaries(st.sampled_from(list(json.loads(_VALID))), _json_values, max_size=6))
@settings(max_examples=300, deadline=None)
def test_json_reader_mutated_fields_only_parse_error(patch: dict[str, object]) -> None:
    doc = json.loads(_VALID)
    doc.update(patch)
    try:
        read(json.dumps(doc))
    except ParseError:
        pass
