"""Red Hat parsers (``hullscan.vulndb.build.redhat``) on the real Security Data API archive
(MANIFEST: 36,166 CVEs), its samples, the CSAF VEX samples and repository-to-cpe.json."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import ParseError
from hullscan.model.advisory import Advisory, Affected, ParseIssue
from hullscan.vulndb.build import redhat as rh
from hullscan.vulndb.build.containers import read_bounded


def _path(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


def _one(records: object) -> Advisory:
    (adv,) = list(records)  # type: ignore[call-overload]
    assert isinstance(adv, Advisory), adv
    return adv


def _aff(adv: Advisory) -> dict[tuple[str, str, str | None], Affected]:
    out = {(a.namespace, a.package, a.module): a for a in adv.affected}
    assert len(out) == len(adv.affected)
    return out


@pytest.fixture(scope="module")
def archive(shared_dir: Path) -> tuple[dict[str, Advisory], list[ParseIssue]]:
    path = _path(shared_dir, "redhat-security-data-api", "cve.tar.zst")
    out: dict[str, Advisory] = {}
    issues: list[ParseIssue] = []
    for r in rh.iter_cve_archive(path):
        if isinstance(r, ParseIssue):
            issues.append(r)
        else:
            out[r.id] = r
    return out, issues


def test_rhel_namespace() -> None:
    assert rh.rhel_namespace("cpe:/a:redhat:enterprise_linux:9::appstream") == "rhel:9"
    assert rh.rhel_namespace("cpe:/o:redhat:enterprise_linux:7") == "rhel:7"
    assert rh.rhel_namespace("cpe:/a:redhat:enterprise_linux:8::nfv") == "rhel:8"
    assert rh.rhel_namespace("cpe:/o:redhat:rhel_els:6") == "rhel:6"
    assert rh.rhel_namespace("cpe:/a:redhat:rhel_extras:7") == "rhel:7"
    for other in (
        "cpe:/a:redhat:rhel_eus:8.6",
        "cpe:/a:redhat:rhel_aus:8.4",
        "cpe:/o:redhat:enterprise_linux:6.2",
        "cpe:/a:redhat:openshift:4.12::el8",
        "cpe:/a:redhat:rhel_software_collections:3::el7",
        "cpe:/o:redhat:linux:9",
        "",
    ):
        assert rh.rhel_namespace(other) is None, other
    assert rh.evr("0", "3.0.7", "18.el9_2") == "3.0.7-18.el9_2"
    assert rh.evr("1", "3.0.7", "18.el9_2") == "1:3.0.7-18.el9_2"


@pytest.mark.needs_shared
def test_archive_counts(archive: tuple[dict[str, Advisory], list[ParseIssue]]) -> None:
    advisories, issues = archive
    assert issues == []
    assert len(advisories) == 36166
    states = collections.Counter(a.fix_state for adv in advisories.values() for a in adv.affected)
    namespaces = {a.namespace for adv in advisories.values() for a in adv.affected}
    assert namespaces == {f"rhel:{n}" for n in range(3, 10)}
    assert set(states) == {
        "fixed",
        "affected",
        "will-not-fix",
        "deferred",
        "not-affected",
        "unknown",
    }
    assert states["fixed"] > 50_000 and states["not-affected"] > 50_000
    # records about layered products only (OpenShift, JBoss...) have no rhel entry
    assert 6000 < sum(1 for a in advisories.values() if not a.affected) < 7000
    # fixes without an RPM version are explained, never silent
    for adv in advisories.values():
        for a in adv.affected:
            if a.fix_state == "fixed" and a.fixed_version is None:
                assert a.problem, (adv.id, a)
            else:
                assert a.problem is None, (adv.id, a)


@pytest.mark.needs_shared
def test_archive_record_with_fixes_and_will_not_fix(
    archive: tuple[dict[str, Advisory], list[ParseIssue]],
) -> None:
    adv = archive[0]["CVE-2020-0305"]
    assert adv.source == "redhat-api"
    assert (
        adv.summary
        == "kernel: possible use-after-free due to a race condition in cdev_get of char_dev.c"
    )
    assert adv.published == "2020-07-17T00:00:00Z"
    assert adv.cwes == ("CWE-416",)
    assert adv.related == ("RHSA-2020:4609", "RHSA-2020:4431")
    assert adv.aliases == ()
    assert [(s.source, s.type, s.rating, s.vector, s.score) for s in adv.severities] == [
        ("redhat", "vendor", "Moderate", None, None),
        ("redhat", "CVSS_V3", None, "CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H", 6.4),
    ]
    assert len(adv.references) == 3
    got = {k: (a.fix_state, a.fixed_version) for k, a in _aff(adv).items()}
    assert got == {
        ("rhel:8", "kernel", None): ("fixed", "4.18.0-240.el8"),
        ("rhel:8", "kernel-rt", None): ("fixed", "4.18.0-240.rt7.54.el8"),  # ::nfv
        ("rhel:7", "kernel", None): ("will-not-fix", None),
        ("rhel:7", "kernel-alt", None): ("will-not-fix", None),
        ("rhel:7", "kernel-rt", None): ("will-not-fix", None),
        ("rhel:5", "kernel", None): ("will-not-fix", None),  # Out of support scope
        ("rhel:6", "kernel", None): ("will-not-fix", None),
        # Red Hat Enterprise MRG 2 is a layered product: not in a rhel namespace
    }
    fixed = _aff(adv)[("rhel:8", "kernel", None)]
    assert (fixed.scheme, [(e.kind, e.version) for e in fixed.ranges[0].events]) == (
        "rpm",
        [("introduced", "0"), ("fixed", "4.18.0-240.el8")],
    )


@pytest.mark.needs_shared
def test_archive_record_with_modules(archive: tuple[dict[str, Advisory], list[ParseIssue]]) -> None:
    aff = _aff(archive[0]["CVE-2020-10735"])
    assert aff[("rhel:8", "python3", None)].fixed_version == "3.6.8-48.el8_7.1"
    mod = aff[("rhel:8", "python39", "python39:3.9")]
    assert (mod.fix_state, mod.fixed_version) == ("fixed", None)
    assert mod.problem is not None
    assert "python39:3.9-8080020221221152015.aed85c85" in mod.problem
    assert "RHSA-2023:2764" in mod.problem
    # package_state "python27:2.7/python2" -> module python27:2.7, package python2
    assert aff[("rhel:8", "python2", "python27:2.7")].fix_state == "will-not-fix"
    assert aff[("rhel:8", "python36", "python36:3.6")].fix_state == "not-affected"
    assert aff[("rhel:8", "python39", None)].fix_state == "affected"  # the non-modular one


@pytest.mark.needs_shared
def test_api_samples(shared_dir: Path) -> None:
    base = ("samples", "redhat-security-data-api")
    bind = _one(
        rh.parse_cve_json(_path(shared_dir, *base, "cve-2021-25220.json").read_bytes(), item="x")
    )
    got = {k: a.fixed_version for k, a in _aff(bind).items()}
    # epoch kept (bind 32:, dhcp 12:); EUS/AUS/TUS/E4S (minor-release streams) and ELS 6
    # "EXTENSION" entries: rhel_els:6 is mapped, the minor streams are not
    assert got == {
        ("rhel:6", "bind", None): "32:9.8.2-0.68.rc1.el6_10.17",
        ("rhel:7", "bind", None): "32:9.11.4-26.P2.el7_9.13",
        ("rhel:8", "bind", None): "32:9.11.36-5.el8",
        ("rhel:8", "bind9.16", None): "32:9.16.23-0.9.el8.1",
        ("rhel:9", "bind", None): "32:9.16.23-5.el9_1",
        ("rhel:9", "dhcp", None): "12:4.4.2-17.b1.el9",
    }
    assert bind.cwes == ("CWE-444",)
    assert "RHSA-2024:2720" in bind.related  # EUS advisories still name the record's RHSAs

    py = _one(
        rh.parse_cve_json(_path(shared_dir, *base, "cve-2024-8088.json").read_bytes(), item="x")
    )
    # a 9.4 z-stream fix (2024-09-03) and the 9.5 fix (2024-11-12): the latest one wins
    (a,) = py.affected
    assert (a.namespace, a.package, a.fixed_version) == ("rhel:9", "python3.9", "3.9.19-8.el9")
    assert py.related == ("RHSA-2024:6163", "RHSA-2024:9371")


@pytest.mark.needs_shared
def test_csaf_vex_samples(shared_dir: Path) -> None:
    base = ("samples", "redhat-csaf-vex")
    curl = _one(
        rh.parse_csaf_vex(_path(shared_dir, *base, "cve-2023-38545.json").read_bytes(), item="x")
    )
    assert curl.source == "redhat-csaf-vex"
    assert (curl.published, curl.modified) == (
        "2023-10-11T00:00:00+00:00",
        "2025-11-21T14:31:32+00:00",
    )
    assert curl.cwes == ("CWE-119",)
    assert curl.summary is not None and curl.summary.startswith("curl: heap based buffer")
    assert [(s.type, s.rating, s.score) for s in curl.severities] == [
        ("vendor", "Important", None),
        ("CVSS_V3", None, 8.1),
    ]
    aff = _aff(curl)
    # fixed in 9.3 MAIN (RHSA-2023:6745, 2023-11-07) and 9.2 EUS (RHSA-2023:5763): the later
    # remediation wins; 9.0 EUS (rhel_eus:9.0) is not a rhel:9 statement
    fixed = aff[("rhel:9", "curl", None)]
    assert (fixed.fix_state, fixed.fixed_version) == ("fixed", "7.76.1-26.el9_3.2")
    assert {"curl", "libcurl", "libcurl-minimal", "curl-minimal"} <= set(fixed.binaries)
    assert curl.related == ("RHSA-2023:5763", "RHSA-2023:6745")
    for n in (6, 7, 8):
        a = aff[(f"rhel:{n}", "curl", None)]
        assert a.fix_state == "not-affected" and "libcurl" in a.binaries
    # Satellite, JBoss Core Services: layered products, not rhel namespaces
    assert {k[0] for k in aff} == {"rhel:6", "rhel:7", "rhel:8", "rhel:9"}

    samba = _one(
        rh.parse_csaf_vex(_path(shared_dir, *base, "cve-2023-4154.json").read_bytes(), item="x")
    )
    aff = _aff(samba)
    # RHEL 6 lists two sources (samba, samba4): binaries cannot be told apart, none kept
    assert aff[("rhel:6", "samba", None)].binaries == ()
    assert aff[("rhel:6", "samba4", None)].fix_state == "not-affected"
    assert "libsmbclient" in aff[("rhel:9", "samba", None)].binaries
    assert {a.fix_state for a in samba.affected} == {"not-affected"}


def test_csaf_vex_remediation_states() -> None:
    doc = {
        "document": {"aggregate_severity": {"text": "Low"}, "tracking": {}},
        "product_tree": {
            "branches": [
                {
                    "category": "product_name",
                    "product": {
                        "product_id": "rhel9",
                        "product_identification_helper": {
                            "cpe": "cpe:/o:redhat:enterprise_linux:9"
                        },
                    },
                }
            ],
            "relationships": [
                {
                    "full_product_name": {"product_id": f"rhel9:{c}"},
                    "product_reference": c,
                    "relates_to_product_reference": "rhel9",
                }
                for c in ("a", "b", "c", "d", "nodejs:18/nodejs")
            ],
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2099-1",
                "product_status": {
                    "known_affected": ["rhel9:a", "rhel9:b", "rhel9:c", "rhel9:nodejs:18/nodejs"],
                    "under_investigation": ["rhel9:d"],
                },
                "remediations": [
                    {
                        "category": "no_fix_planned",
                        "details": "Will not fix",
                        "product_ids": ["rhel9:a"],
                    },
                    {
                        "category": "none_available",
                        "details": "Fix deferred",
                        "product_ids": ["rhel9:b"],
                    },
                    {
                        "category": "none_available",
                        "details": "Affected",
                        "product_ids": ["rhel9:c"],
                    },
                ],
            }
        ],
    }
    adv = _one(rh.parse_csaf_vex(json.dumps(doc).encode(), item="x"))
    got = {(a.package, a.module): a.fix_state for a in adv.affected}
    assert got == {
        ("a", None): "will-not-fix",
        ("b", None): "deferred",
        ("c", None): "affected",
        ("nodejs", "nodejs:18"): "affected",
        ("d", None): "unknown",
    }


@pytest.mark.needs_shared
def test_repository_to_cpe(shared_dir: Path) -> None:
    m = rh.repository_cpes(
        read_bounded(_path(shared_dir, "redhat-security-data-api", "repository-to-cpe.json.gz"))
    )
    assert len(m) == 9993
    assert m["rhel-9-for-x86_64-appstream-rpms"] == ["cpe:/a:redhat:enterprise_linux:9::appstream"]
    assert m["rhel-8-for-x86_64-baseos-rpms"] == ["cpe:/o:redhat:enterprise_linux:8::baseos"]
    with pytest.raises(ParseError):
        rh.repository_cpes(b"[]")
    with pytest.raises(ParseError):
        rh.repository_cpes(b"{")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_records_or_issues(data: bytes) -> None:
    for parse in (rh.parse_cve_json, rh.parse_csaf_vex):
        for r in parse(data, item="x"):
            assert isinstance(r, Advisory | ParseIssue)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_CPES = st.sampled_from(["cpe:/o:redhat:enterprise_linux:9", "cpe:/a:redhat:rhel_eus:8.6", "x"])
_PACKAGES = st.sampled_from(
    [
        "openssl-1:3.0.7-18.el9_2",
        "php:7.3-8020020200715124551.ceb1cf90",
        "ubi9/x:1-2",
        "kpatch-patch",
        "",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["CVE-2099-1", ""]) | _VALUES},
        optional={
            "threat_severity": _VALUES,
            "cvss3": st.fixed_dictionaries(
                {"cvss3_scoring_vector": _VALUES, "cvss3_base_score": _VALUES}
            )
            | _VALUES,
            "affected_release": st.lists(
                st.fixed_dictionaries(
                    {"cpe": _CPES | _VALUES, "package": _PACKAGES | _VALUES},
                    optional={"release_date": _VALUES, "advisory": _VALUES, "impact": _VALUES},
                )
                | _VALUES,
                max_size=4,
            )
            | _VALUES,
            "package_state": st.lists(
                st.fixed_dictionaries(
                    {
                        "cpe": _CPES | _VALUES,
                        "package_name": st.sampled_from(["a", "m:1/a", "q/c"]) | _VALUES,
                        "fix_state": st.sampled_from(sorted(rh.PACKAGE_STATES)) | _VALUES,
                    }
                )
                | _VALUES,
                max_size=4,
            )
            | _VALUES,
            "details": _VALUES,
            "references": _VALUES,
            "cwe": _VALUES,
            "bugzilla": _VALUES,
        },
    )
)
def test_mutated_api_records_give_records_or_issues(doc: dict[str, object]) -> None:
    for r in rh.parse_cve_json(json.dumps(doc).encode(), item="x"):
        assert isinstance(r, Advisory | ParseIssue)


@pytest.mark.needs_shared
def test_read_detects_the_format(shared_dir: Path) -> None:
    api = _one(
        rh.read(_path(shared_dir, "samples", "redhat-security-data-api", "cve-2024-8088.json"))
    )
    assert api.source == "redhat-api"
    vex = _one(rh.read(_path(shared_dir, "samples", "redhat-csaf-vex", "cve-2023-4154.json")))
    assert vex.source == "redhat-csaf-vex"
    renamed = _one(
        rh.read(_path(shared_dir, "samples", "redhat-csaf-vex", "cve-2023-4154.json"), "rh")
    )
    assert renamed.source == "rh"
