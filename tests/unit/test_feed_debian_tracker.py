"""Debian security tracker parser (``hullscan.vulndb.build.debian_tracker``) on the real
tracker JSON excerpt, the salsa ``data/{CVE,DSA,DLA}/list`` samples and the 2023 DSA/DLA
lists (MANIFEST: DSA 5,406; DLA 3,534)."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, Affected, ParseIssue
from hullscan.vulndb.build import debian_tracker as dt
from hullscan.vulndb.build.containers import read_bounded


def _path(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


def _split(records: list[Advisory | ParseIssue]) -> tuple[dict[str, Advisory], list[ParseIssue]]:
    advisories = {r.id: r for r in records if isinstance(r, Advisory)}
    issues = [r for r in records if isinstance(r, ParseIssue)]
    return advisories, issues


def _by_ns(adv: Advisory) -> dict[str, Affected]:
    out = {a.namespace: a for a in adv.affected}
    assert len(out) == len(adv.affected)
    return out


def test_release_table_matches_distro_info_data_numbers() -> None:
    assert dt.namespace_of("bookworm") == "debian:12"
    assert dt.namespace_of("trixie") == "debian:13"
    assert dt.namespace_of("buster") == "debian:10"
    assert dt.namespace_of("sid") == "debian:sid"
    assert dt.namespace_of("Jessie") == "debian:8"
    assert dt.namespace_of("woody") == "debian:3.0"
    assert dt.namespace_of("nonesuch") is None


@pytest.mark.needs_shared
def test_release_table_covers_distro_info_data(shared_dir: Path) -> None:
    rows = _path(shared_dir, "distro-info-data", "debian.csv").read_text().splitlines()[1:]
    for row in rows:
        version, _, series = row.split(",")[:3]
        if series == "experimental":
            continue
        if not version:
            expected = "sid"
        elif float(version) >= 4:  # distro_namespace keeps the major number from 4.0 on
            expected = version.split(".")[0]
        else:
            expected = version
        assert dt.namespace_of(series) == f"debian:{expected}", series


@pytest.mark.needs_shared
def test_tracker_json_excerpt_field_by_field(shared_dir: Path) -> None:
    raw = read_bounded(_path(shared_dir, "samples", "debian-tracker-json", "debian.json"))
    records = list(dt.parse_tracker_json(raw))
    advisories, issues = _split(records)
    doc = json.loads(raw)
    assert issues == []
    # one Advisory per CVE over all packages (7 CVEs under 6 packages)
    assert len(advisories) == sum(len(v) for v in doc.values()) == 7

    # resolved with a version -> fixed, urgency "high**" -> "high"
    fixed = advisories["CVE-2008-7220"]
    assert fixed.source == "debian-tracker"
    assert fixed.references == ("https://bugs.debian.org/555217",)
    assert fixed.details is not None and fixed.details.startswith("Unspecified vulnerability")
    ns = _by_ns(fixed)
    assert set(ns) == {"debian:8", "debian:9", "debian:10", "debian:sid"}
    a = ns["debian:9"]
    assert (a.package, a.scheme, a.fix_state, a.fixed_version) == (
        "prototypejs",
        "deb",
        "fixed",
        "1.6.0.2-1",
    )
    assert [(e.kind, e.version) for e in a.ranges[0].events] == [
        ("introduced", "0"),
        ("fixed", "1.6.0.2-1"),
    ]
    assert a.severity is not None
    assert (a.severity.source, a.severity.type, a.severity.rating) == ("debian", "vendor", "high")

    # resolved with fixed_version "0" -> not-affected; urgency unimportant kept per package
    unimportant = _by_ns(advisories["CVE-2007-2383"])["debian:10"]
    assert unimportant.fix_state == "not-affected"
    assert unimportant.fixed_version is None and unimportant.ranges == ()
    assert unimportant.severity is not None and unimportant.severity.rating == "unimportant"

    # open + urgency end-of-life -> will-not-fix; resolved elsewhere with backport versions
    chromium = _by_ns(advisories["CVE-2022-0456"])
    assert chromium["debian:10"].fix_state == "will-not-fix"
    assert chromium["debian:9"].fix_state == "will-not-fix"
    assert chromium["debian:10"].severity is not None
    assert chromium["debian:10"].severity.rating == "end-of-life"
    assert chromium["debian:11"].fixed_version == "98.0.4758.80-1~deb11u1"
    assert chromium["debian:12"].severity is not None
    assert chromium["debian:12"].severity.rating == "not yet assigned"

    sope = _by_ns(advisories["CVE-2025-53603"])
    assert sope["debian:12"].fixed_version == "5.8.0-1+deb12u1"
    assert sope["debian:13"].fixed_version == "5.12.1-2"
    assert advisories["CVE-2025-53603"].references == ("https://bugs.debian.org/1108798",)

    # "releases": [] (the export's empty list) -> an Advisory with nothing affected
    assert advisories["CVE-2022-0358"].affected == ()


def _tracker_doc(**releases: dict[str, object]) -> bytes:
    return json.dumps(
        {"pkg": {"CVE-2099-0001": {"description": "d", "releases": releases}}}
    ).encode()


@pytest.mark.parametrize(
    ("rel", "state"),
    [
        (
            {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": ""},
            "affected",
        ),
        (
            {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
            "will-not-fix",
        ),
        (
            {"status": "open", "urgency": "low", "nodsa": "Minor", "nodsa_reason": "postponed"},
            "deferred",
        ),
        ({"status": "open", "urgency": "unimportant"}, "affected"),
        ({"status": "undetermined", "urgency": "not yet assigned"}, "unknown"),
        ({"status": "resolved", "fixed_version": "0", "urgency": "low"}, "not-affected"),
    ],
)
def test_tracker_json_states(rel: dict[str, object], state: str) -> None:
    (adv,) = dt.parse_tracker_json(_tracker_doc(bookworm=rel))
    assert isinstance(adv, Advisory)
    (a,) = adv.affected
    assert (a.namespace, a.package, a.fix_state, a.problem) == ("debian:12", "pkg", state, None)


def test_tracker_json_bad_shapes_are_issues_not_exceptions() -> None:
    doc = {
        "good": {"CVE-2099-1": {"releases": {"bookworm": {"status": "open"}}}},
        "bad": ["not", "an", "object"],
        "worse": {"CVE-2099-2": "text", "CVE-2099-3": {"releases": {"hurd": {"status": "open"}}}},
    }
    records = list(dt.parse_tracker_json(json.dumps(doc).encode()))
    advisories, issues = _split(records)
    assert {i.item for i in issues} == {"bad", "worse/CVE-2099-2", "worse/CVE-2099-3/hurd"}
    assert advisories["CVE-2099-1"].affected[0].fix_state == "affected"
    assert advisories["CVE-2099-3"].affected == ()
    (issue,) = dt.parse_tracker_json(b"{not json")
    assert isinstance(issue, ParseIssue)


@pytest.mark.needs_shared
def test_cve_list_sample_field_by_field(shared_dir: Path) -> None:
    raw = _path(shared_dir, "samples", "debian-tracker-source", "data", "CVE", "list").read_bytes()
    advisories, issues = _split(list(dt.parse_cve_list(raw)))
    assert issues == []
    # NOT-FOR-US (CVE-2021-36383) and the TODO stub (CVE-2021-36980) give no record
    assert "CVE-2021-36383" not in advisories and "CVE-2021-36980" not in advisories
    assert len(advisories) == 4

    putty = advisories["CVE-2021-36367"]
    assert putty.summary is not None and putty.summary.startswith("PuTTY through 0.75")
    ns = _by_ns(putty)
    assert (ns["debian:sid"].fix_state, ns["debian:sid"].fixed_version) == ("fixed", "0.75-3")
    assert ns["debian:sid"].severity is not None and ns["debian:sid"].severity.rating == "low"
    # <no-dsa> (Minor issue): no DSA, may still come in a point release -> affected
    assert ns["debian:11"].fix_state == "affected" and ns["debian:10"].fix_state == "affected"

    ant = _by_ns(advisories["CVE-2021-36373"])["debian:sid"]
    assert ant.fix_state == "affected"  # <unfixed> (unimportant)
    assert ant.severity is not None and ant.severity.rating == "unimportant"

    # CVE-XXXX placeholders get the tracker's TEMP name: first bug number + md5 of the text
    foot = advisories[dt.temp_name(1053115, "code execution via malformed XTGETTCAP")]
    assert foot.id.startswith("TEMP-1053115-")
    ns = _by_ns(foot)
    assert ns["debian:12"].fixed_version == "1.13.1-2+deb12u1"
    assert ns["debian:11"].fix_state == "affected"
    assert foot.references == (
        "https://codeberg.org/dnkl/foot/commit/8a5f2915e9d327d1517d1da49ce7e2303fe61d36",
    )
    wordpress = advisories[dt.temp_name(0, "Other security issues from wordpress 6.3.2")]
    assert wordpress.affected[0].fix_state == "affected"


def test_cve_list_annotations() -> None:
    text = (
        b"CVE-2099-0002 (Something ...)\n"
        b"\t{DSA-9999-1 DLA-9999-1}\n"
        b"\t- pkg 1.2-3 (medium)\n"
        b"\t[bookworm] - pkg <postponed> (Revisit when fixed upstream)\n"
        b"\t[bullseye] - pkg <ignored> (Minor issue)\n"
        b"\t[buster] - pkg <end-of-life> (no support)\n"
        b"\t[trixie] - pkg <not-affected> (Vulnerable code not present)\n"
        b"\t[forky] - pkg <removed>\n"
        b"\t- other <itp> (bug #1)\n"
        b"\t[stretch] - pkg <undetermined>\n"
        b"CVE-2099-0003\n"
        b"\tRESERVED\n"
        b"CVE-2099-0004 (Rejected ...)\n"
        b"\tREJECTED\n"
        b"\tNOT-FOR-US: Something\n"
    )
    advisories, issues = _split(list(dt.parse_cve_list(text)))
    assert issues == [] and list(advisories) == ["CVE-2099-0002"]
    adv = advisories["CVE-2099-0002"]
    assert adv.related == ("DSA-9999-1", "DLA-9999-1")
    states = {(a.namespace, a.package): a.fix_state for a in adv.affected}
    assert states == {
        ("debian:sid", "pkg"): "fixed",
        ("debian:12", "pkg"): "deferred",
        ("debian:11", "pkg"): "will-not-fix",
        ("debian:10", "pkg"): "will-not-fix",
        ("debian:13", "pkg"): "not-affected",
        ("debian:14", "pkg"): "will-not-fix",
        ("debian:sid", "other"): "not-affected",
        ("debian:9", "pkg"): "unknown",
    }


@pytest.mark.needs_shared
def test_dsa_dla_samples(shared_dir: Path) -> None:
    base = ("samples", "debian-tracker-source", "data")
    dsa, dsa_issues = _split(
        list(dt.parse_advisory_list(_path(shared_dir, *base, "DSA", "list").read_bytes()))
    )
    assert dsa_issues == []
    redis = dsa["DSA-4480-1"]
    assert redis.published == "2019-07-11T00:00:00Z"
    assert redis.summary == "redis - security update"
    assert redis.related == ("CVE-2019-10192", "CVE-2019-10193")
    assert redis.aliases == ()
    assert {(a.namespace, a.package, a.fixed_version) for a in redis.affected} == {
        ("debian:9", "redis", "3:3.2.6-3+deb9u3"),
        ("debian:10", "redis", "5:5.0.3-4+deb10u1"),
    }
    dla, dla_issues = _split(
        list(dt.parse_advisory_list(_path(shared_dir, *base, "DLA", "list").read_bytes()))
    )
    assert list(dla) == ["DLA-2711-1"]
    # the sample's second entry has a malformed header on purpose
    assert [i.error for i in dla_issues] == [
        "not an advisory header: '[19 Jul 2021] MALFORMED HEADER'"
    ]
    (tb,) = dla["DLA-2711-1"].affected
    assert (tb.namespace, tb.package, tb.fixed_version) == (
        "debian:9",
        "thunderbird",
        "1:78.12.0-1~deb9u1",
    )


@pytest.mark.needs_shared
@pytest.mark.parametrize(("kind", "count"), [("DSA", 5406), ("DLA", 3534)])
def test_real_dsa_dla_lists(shared_dir: Path, kind: str, count: int) -> None:
    raw = read_bounded(_path(shared_dir, "debian-security-tracker", "data", kind, "list.gz"))
    advisories, issues = _split(list(dt.parse_advisory_list(raw)))
    assert issues == []
    assert len(advisories) == count
    states = collections.Counter(a.fix_state for adv in advisories.values() for a in adv.affected)
    assert set(states) <= {"fixed", "not-affected", "will-not-fix", "affected"}
    assert states["fixed"] > 0.98 * sum(states.values())
    if kind == "DSA":
        newest = advisories["DSA-5380-1"]
        assert newest.published == "2023-03-29T00:00:00Z"
        assert newest.related == ("CVE-2023-1393",)
        assert [(a.namespace, a.package, a.fixed_version) for a in newest.affected] == [
            ("debian:11", "xorg-server", "2:1.20.11-1+deb11u6")
        ]
        # "{ CVE-2006-0467 }" (spaces inside the braces) and header-only notices
        assert advisories["DSA-4205-1"].affected == ()
        # [lenny] - openoffice.org <not-affected> (Vulnerable code not present)
        assert states["not-affected"] == 55
    else:
        newest = advisories["DLA-3380-1"]
        assert newest.published == "2023-04-01T00:00:00Z"
        assert len(newest.related) == 11
        assert newest.affected[0].namespace == "debian:10"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_give_records_or_issues(data: bytes) -> None:
    for parse in (dt.parse_tracker_json, dt.parse_advisory_list, dt.parse_cve_list):
        for r in parse(data):
            assert isinstance(r, Advisory | ParseIssue)


_LINES = st.sampled_from(
    [
        "CVE-2099-1 (x)",
        "CVE-2099-XXXX [y]",
        "[01 Jan 2020] DSA-1-1 pkg - security update",
        "[January 1st, 2006] DTSA-1-1 pkg - x",
        "\t- pkg 1.0-1",
        "\t[bookworm] - pkg <no-dsa> (Minor)",
        "\t[nonesuch] - pkg 1.0",
        "\t{CVE-2099-1}",
        "\t- pkg <bogus>",
        "\tNOT-FOR-US: x",
        "garbage",
        "\t- ",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LINES, max_size=12), st.text(max_size=30))
def test_mutated_lists_give_records_or_issues(lines: list[str], noise: str) -> None:
    data = ("\n".join(lines) + noise).encode()
    for parse in (dt.parse_advisory_list, dt.parse_cve_list):
        for r in parse(data):
            assert isinstance(r, Advisory | ParseIssue)
            if isinstance(r, Advisory):
                assert all(a.namespace.startswith("debian:") for a in r.affected)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=6),
        st.dictionaries(
            st.text(max_size=6),
            st.fixed_dictionaries(
                {
                    "releases": st.dictionaries(
                        st.sampled_from(["bookworm", "sid", "x"]), _JSON_VALUES
                    )
                },
                optional={"description": _JSON_VALUES, "debianbug": _JSON_VALUES},
            )
            | _JSON_VALUES,
            max_size=3,
        )
        | _JSON_VALUES,
        max_size=3,
    )
)
def test_mutated_tracker_json_gives_records_or_issues(doc: dict[str, object]) -> None:
    for r in dt.parse_tracker_json(json.dumps(doc).encode()):
        assert isinstance(r, Advisory | ParseIssue)


@pytest.mark.needs_shared
def test_read_dispatches_on_the_file_name(shared_dir: Path) -> None:
    dsa = _path(shared_dir, "debian-security-tracker", "data", "DSA", "list.gz")
    assert sum(isinstance(r, Advisory) for r in dt.read(dsa)) == 5406
    js = _path(shared_dir, "samples", "debian-tracker-json", "debian.json")
    assert sum(isinstance(r, Advisory) for r in dt.read(js)) == 7
    cve = _path(shared_dir, "samples", "debian-tracker-source", "data", "CVE", "list")
    assert {r.source for r in dt.read(cve, "debian-salsa")} == {"debian-salsa"}
