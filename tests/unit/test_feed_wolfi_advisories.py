"""Wolfi advisories YAML parser (``hullscan.vulndb.build.wolfi_advisories``) on the real
wolfi-dev/advisories snapshot (MANIFEST: 1,278 package files, last Apache-2.0 commit)."""

from __future__ import annotations

import collections
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, ParseIssue
from hullscan.vulndb.build import wolfi_advisories as wa

ZIP = ("wolfi-advisories", "advisories.zip")


@pytest.fixture(scope="module")
def records(shared_dir: Path) -> dict[str, Advisory]:
    p = shared_dir.joinpath("vulndata", *ZIP)
    if not p.is_file():
        pytest.skip(f"{p} absent")
    out: dict[str, Advisory] = {}
    issues = []
    for r in wa.iter_advisories_zip(p):
        if isinstance(r, ParseIssue):
            issues.append(r)
        else:
            assert r.id not in out
            out[r.id] = r
    assert issues == []
    return out


@pytest.mark.needs_shared
def test_counts(shared_dir: Path, records: dict[str, Advisory]) -> None:
    with zipfile.ZipFile(shared_dir.joinpath("vulndata", *ZIP)) as z:
        names = [n for n in z.namelist() if n.endswith(".advisories.yaml")]
    assert len(names) == 1278
    assert len(records) == 20770  # every advisory entry of every file
    assert {a.affected[0].namespace for a in records.values()} == {"wolfi"}
    assert {len(a.affected) for a in records.values()} == {1}
    states = collections.Counter(a.affected[0].fix_state for a in records.values())
    # latest event by timestamp: fixed 14,607; detection-only 3,337; false positives 2,046;
    # true positive / pending upstream 631; fix-not-planned 149 (no analysis-not-planned)
    assert states == {
        "fixed": 14607,
        "unknown": 3337,
        "not-affected": 2046,
        "affected": 631,
        "will-not-fix": 149,
    }
    assert all(a.affected[0].problem is None for a in records.values())


@pytest.mark.needs_shared
def test_real_records_field_by_field(records: dict[str, Advisory]) -> None:
    fp = records["CGA-6vmf-q9cg-qhx4"]  # openssl: two false-positive determinations
    assert fp.source == "wolfi-advisories"
    assert fp.aliases == ("CVE-2023-4807", "GHSA-53wr-cx66-4578")
    assert (fp.published, fp.modified) == ("2023-09-08T16:29:47Z", "2023-09-19T14:06:37Z")
    (a,) = fp.affected
    assert (a.namespace, a.package, a.scheme, a.fix_state, a.fixed_version) == (
        "wolfi",
        "openssl",
        "apk",
        "not-affected",
        None,
    )

    fixed = records["CGA-3gfc-9462-mc8m"].affected[0]
    assert (fixed.package, fixed.fix_state, fixed.fixed_version) == ("openssl", "fixed", "3.1.0-r0")
    assert [(e.kind, e.version) for e in fixed.ranges[0].events] == [
        ("introduced", "0"),
        ("fixed", "3.1.0-r0"),
    ]
    # detection, then pending-upstream-fix -> affected
    pending = records["CGA-wm95-qqvj-jgpj"]
    assert (pending.affected[0].package, pending.affected[0].fix_state) == ("aactl", "affected")
    assert pending.aliases == ("CVE-2024-47534", "GHSA-4f8r-qqr9-fq8j")
    # detection, then fix-not-planned -> will-not-fix
    assert records["CGA-pq4j-wp27-c7j9"].affected[0].fix_state == "will-not-fix"
    # detection, true-positive, then fixed: the latest event decides
    tp = records["CGA-vx3x-3442-f593"].affected[0]
    assert (tp.package, tp.fix_state, tp.fixed_version) == ("argo-rollouts", "fixed", "1.8.0-r0")
    # a scanner detection nobody triaged yet -> unknown
    det = records["CGA-c62x-7p7g-hqvm"]
    assert (det.affected[0].package, det.affected[0].fix_state) == ("airflow-3", "unknown")
    assert det.published == "2025-05-05T11:10:49Z"
    # schema-version "2" (not "2.0.x") files are read too
    assert records["CGA-9mxg-j38p-8p8r"].affected[0].package == "brotli"


def _doc(*events: dict[str, object], schema: object = "2.0.2") -> bytes:
    return yaml.safe_dump(
        {
            "schema-version": schema,
            "package": {"name": "pkg"},
            "advisories": [{"id": "CGA-x", "aliases": ["CVE-2099-1"], "events": list(events)}],
        }
    ).encode()


@pytest.mark.parametrize(
    ("event", "state"),
    [
        ({"type": "analysis-not-planned", "data": {"note": "eol"}}, "unknown"),
        ({"type": "fix-not-planned", "data": {"note": "n"}}, "will-not-fix"),
        ({"type": "true-positive-determination"}, "affected"),
        ({"type": "fixed", "data": {"fixed-version": "0"}}, "not-affected"),
    ],
)
def test_event_states(event: dict[str, object], state: str) -> None:
    (adv,) = wa.parse_advisories_yaml(
        _doc({"timestamp": "2024-01-01T00:00:00Z", **event}), item="x"
    )
    assert isinstance(adv, Advisory) and adv.affected[0].fix_state == state


def test_latest_by_timestamp_not_by_position() -> None:
    doc = _doc(
        {
            "timestamp": "2024-05-01 10:00:00+02:00",
            "type": "fixed",
            "data": {"fixed-version": "1.10-r0"},
        },
        {"timestamp": "2024-05-01T07:00:00Z", "type": "detection", "data": {"type": "manual"}},
    )
    (adv,) = wa.parse_advisories_yaml(doc, item="x")
    assert isinstance(adv, Advisory)
    a = adv.affected[0]
    # 10:00+02:00 is 08:00Z, after the detection; "1.10-r0" stays a string
    assert (a.fix_state, a.fixed_version) == ("fixed", "1.10-r0")
    assert (adv.published, adv.modified) == ("2024-05-01T07:00:00Z", "2024-05-01T08:00:00Z")


def test_unquoted_float_like_version_stays_text() -> None:
    text = (
        b"schema-version: 2.0.2\npackage:\n  name: p\nadvisories:\n  - id: CGA-y\n"
        b"    aliases: [CVE-2099-2]\n    events:\n      - timestamp: 2024-01-01T00:00:00Z\n"
        b"        type: fixed\n        data:\n          fixed-version: 1.10\n"
    )
    (adv,) = wa.parse_advisories_yaml(text, item="x")
    assert isinstance(adv, Advisory) and adv.affected[0].fixed_version == "1.10"


def test_bad_documents_are_issues() -> None:
    assert isinstance(next(wa.parse_advisories_yaml(b"a: [", item="x")), ParseIssue)
    assert isinstance(next(wa.parse_advisories_yaml(_doc(schema="1"), item="x")), ParseIssue)
    aliased = b"schema-version: '2'\npackage: &p {name: x}\nother: *p\n"
    assert isinstance(next(wa.parse_advisories_yaml(aliased, item="x")), ParseIssue)
    (issue,) = wa.parse_advisories_yaml(_doc(), item="x")  # no events
    assert isinstance(issue, ParseIssue) and "without events" in issue.error


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_records_or_issues(data: bytes) -> None:
    for r in wa.parse_advisories_yaml(data, item="x"):
        assert isinstance(r, Advisory | ParseIssue)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.sampled_from(["2024-01-01T00:00:00Z", "2024-13-01", "x"]) | _VALUES,
        "type": st.sampled_from(sorted(wa.EVENT_STATES)) | _VALUES,
        "data": st.fixed_dictionaries({}, optional={"fixed-version": _VALUES}) | _VALUES,
    },
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "id": _VALUES,
                "aliases": _VALUES,
                "events": st.lists(_EVENT, max_size=4) | _VALUES,
            },
        )
        | _VALUES,
        max_size=4,
    )
)
def test_mutated_documents_give_records_or_issues(advisories: list[object]) -> None:
    doc = yaml.safe_dump(
        {"schema-version": "2.0.2", "package": {"name": "p"}, "advisories": advisories}
    ).encode()
    for r in wa.parse_advisories_yaml(doc, item="x"):
        assert isinstance(r, Advisory | ParseIssue)


def test_read_file_and_directory(tmp_path: Path) -> None:
    doc = _doc(
        {"timestamp": "2024-01-01T00:00:00Z", "type": "fixed", "data": {"fixed-version": "1-r0"}}
    )
    (tmp_path / "pkg.advisories.yaml").write_bytes(doc)
    (tmp_path / "README.md").write_text("not an advisory")
    from_dir = list(wa.read(tmp_path))
    from_file = list(wa.read(tmp_path / "pkg.advisories.yaml"))
    assert from_dir == from_file and len(from_dir) == 1
    (adv,) = wa.read(tmp_path, source="chainguard-advisories")
    assert isinstance(adv, Advisory) and adv.source == "chainguard-advisories"
