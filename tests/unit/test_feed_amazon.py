"""Amazon Linux ALAS parser (``hullscan.vulndb.build.amazon``) on the real updateinfo.xml
samples and the vuls-derived ALAS JSON archive (MANIFEST: 5,393 advisories; AL1 1,811,
AL2 2,451, AL2022 277, AL2023 854)."""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, ParseIssue
from hullscan.vulndb.build import amazon as am
from hullscan.vulndb.build.containers import read_bounded


def _path(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.exists():
        pytest.skip(f"{p} absent")
    return p


def test_namespace_of() -> None:
    assert am.namespace_of("amazon-linux-ami", "ALAS-2017-895") == ("amazon:1", None)
    assert am.namespace_of("amazon-linux-2", "x") == ("amazon:2", None)
    assert am.namespace_of("amazon-linux-2---kernel-5.10", "x") == ("amazon:2", "kernel-5.10")
    assert am.namespace_of("amazon-linux-2023", "x") == ("amazon:2023", None)
    assert am.namespace_of(None, "ALAS2022-2021-001") == ("amazon:2022", None)
    assert am.namespace_of("", "ALAS2KERNEL-5.10-2022-001") == ("amazon:2", None)
    assert am.namespace_of("", "ALAS-2011-1") == ("amazon:1", None)
    assert am.namespace_of("other", "RHSA-2020:1") is None


@pytest.mark.needs_shared
def test_updateinfo_samples_field_by_field(shared_dir: Path) -> None:
    base = _path(shared_dir, "samples", "amazon-alas", "updateinfo")
    records = []
    for f in sorted(base.glob("*.xml.gz")):
        records += list(am.parse_updateinfo(read_bounded(f), item=f.name))
    assert not [r for r in records if isinstance(r, ParseIssue)]
    advisories = {r.id: r for r in records if isinstance(r, Advisory)}
    assert sorted(advisories) == [
        "ALAS2-2018-942",
        "ALAS2-2018-949",
        "ALAS2022-2021-001",
        "ALAS2023-2023-001",
    ]

    qemu = advisories["ALAS2-2018-942"]
    assert qemu.source == "amazon-alas"
    assert qemu.summary == (
        "Amazon Linux 2 2017.12 - ALAS2-2018-942: important priority package update for qemu-kvm"
    )
    assert (qemu.published, qemu.modified) == ("2018-02-07T18:49:00Z", "2018-02-08T21:46:00Z")
    assert qemu.related == ("CVE-2017-5715",) and qemu.aliases == ()
    assert qemu.references == ("http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-5715",)
    assert [(s.source, s.type, s.rating) for s in qemu.severities] == [
        ("amazon", "vendor", "important")
    ]
    assert qemu.details is not None and qemu.details.startswith("Package updates are available")
    kvm = {a.package: a for a in qemu.affected}["qemu-kvm"]
    # epoch 10 is kept: [epoch:]version-release
    assert (kvm.namespace, kvm.scheme, kvm.fix_state, kvm.fixed_version, kvm.arch) == (
        "amazon:2",
        "rpm",
        "fixed",
        "10:1.5.3-141.amzn2.5.3",
        ("x86_64",),
    )
    assert [(e.kind, e.version) for e in kvm.ranges[0].events] == [
        ("introduced", "0"),
        ("fixed", "10:1.5.3-141.amzn2.5.3"),
    ]
    vim = {a.package: a for a in advisories["ALAS2022-2021-001"].affected}["vim-minimal"]
    assert (vim.namespace, vim.fixed_version, vim.arch) == (
        "amazon:2022",
        "2:8.2.3512-1.amzn2022",
        ("x86_64", "i686", "aarch64"),
    )
    rsyslog = advisories["ALAS2023-2023-001"]
    assert rsyslog.severities[0].rating == "important"  # "Important" in the feed
    assert rsyslog.related == ("CVE-2014-3634", "CVE-2022-24903")
    (a,) = [a for a in rsyslog.affected if a.package == "rsyslog"]
    assert (a.namespace, a.fixed_version) == ("amazon:2023", "8.2204.0-3.amzn2023.0.2")  # epoch 0


@pytest.fixture(scope="module")
def derived(
    shared_dir: Path,
) -> tuple[dict[str, Advisory], list[ParseIssue], collections.Counter[str]]:
    path = _path(shared_dir, "amazon-alas-vuls-derived", "alas.tar.zst")
    out: dict[str, Advisory] = {}
    issues: list[ParseIssue] = []
    tops: collections.Counter[str] = collections.Counter()
    for r in am.iter_derived_archive(path):
        if isinstance(r, ParseIssue):
            issues.append(r)
        else:
            assert r.id not in out
            out[r.id] = r
            tops[{a.namespace for a in r.affected}.pop()] += 1
    return out, issues, tops


@pytest.mark.needs_shared
def test_derived_archive_counts(
    derived: tuple[dict[str, Advisory], list[ParseIssue], collections.Counter[str]],
) -> None:
    advisories, issues, per_ns = derived
    assert len(advisories) == 5393
    assert per_ns == {"amazon:1": 1811, "amazon:2": 2451, "amazon:2022": 277, "amazon:2023": 854}
    # two AL1 advisories reference "CVE-PENDING" (kept, reported, not a CVE id)
    assert sorted((i.item, i.error) for i in issues) == [
        ("1/updates/2017/ALAS-2017-895.json: ALAS-2017-895", "malformed CVE id 'CVE-PENDING'"),
        ("1/updates/2019/ALAS-2019-1257.json: ALAS-2019-1257", "malformed CVE id 'CVE-PENDING'"),
    ]
    assert "ALAS-2017-895" in advisories
    assert all(
        a.fix_state == "fixed" and a.fixed_version
        for adv in advisories.values()
        for a in adv.affected
    )
    topics = collections.Counter(
        a.module for adv in advisories.values() for a in adv.affected if a.module
    )
    assert {"kernel-5.10", "kernel-5.15", "php8.0", "livepatch"} <= set(topics)


@pytest.mark.needs_shared
def test_derived_record_with_epoch(
    derived: tuple[dict[str, Advisory], list[ParseIssue], collections.Counter[str]],
) -> None:
    adv = derived[0]["ALAS2023-2023-010"]
    assert adv.related == ("CVE-2021-25220", "CVE-2022-0396")
    assert (adv.published, adv.modified) == ("2023-02-17T20:42:00Z", "2023-02-23T00:00:00Z")
    assert adv.severities[0].rating == "medium"  # "Medium"
    bind = {a.package: a for a in adv.affected}
    assert bind["bind"].fixed_version == "32:9.16.27-1.amzn2023.0.2"
    assert set(bind["bind"].arch) == {"x86_64", "aarch64", "i686"}
    assert bind["bind-license"].arch == ("noarch",)
    assert {a.namespace for a in adv.affected} == {"amazon:2023"}
    extra = derived[0]["ALAS2KERNEL-5.10-2022-001"]
    assert {(a.namespace, a.module) for a in extra.affected} == {("amazon:2", "kernel-5.10")}


_XML = (
    b'<?xml version="1.0"?><updates><update type="security"><id>ALAS2-2099-1</id>'
    b'<title>t</title><issued date="2099-01-01 10:00"/><severity>Low</severity>'
    b'<references><reference type="cve" id="CVE-2099-0001" href="https://x.invalid/1"/></references>'
    b'<pkglist><collection short="amazon-linux-2---nginx1"><package name="nginx" epoch="1" '
    b'version="1.20.0" release="2.amzn2" arch="x86_64"/><package name="bad name" version="1" '
    b'release="1"/></collection></pkglist></update></updates>'
)


def test_updateinfo_xml_edges() -> None:
    records = list(am.parse_updateinfo(_XML))
    (adv,) = [r for r in records if isinstance(r, Advisory)]
    (issue,) = [r for r in records if isinstance(r, ParseIssue)]
    assert "without a usable name" in issue.error
    assert adv.related == ("CVE-2099-0001",)
    (a,) = adv.affected
    assert (a.namespace, a.package, a.fixed_version, a.module) == (
        "amazon:2",
        "nginx",
        "1:1.20.0-2.amzn2",
        "nginx1",
    )
    # streamed and gzip-agnostic: the caller decompresses (read_bounded does for .gz)
    assert list(am.parse_updateinfo(gzip.decompress(gzip.compress(_XML)))) == records


def test_updateinfo_rejects_dtds_and_entities() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE updates [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><updates><update><id>&b;</id></update></updates>'
    )
    (issue,) = am.parse_updateinfo(bomb)
    assert isinstance(issue, ParseIssue) and "unreadable XML" in issue.error
    external = b'<?xml version="1.0"?><!DOCTYPE u SYSTEM "file:///etc/passwd"><updates/>'
    (issue,) = am.parse_updateinfo(external)
    assert isinstance(issue, ParseIssue)
    # a truncated file keeps what was read before the break
    records = list(am.parse_updateinfo(_XML + _XML[40:]))
    assert isinstance(records[-1], ParseIssue)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_records_or_issues(data: bytes) -> None:
    for r in am.parse_updateinfo(data):
        assert isinstance(r, Advisory | ParseIssue)
    for r in am.parse_derived_json(data, item="x"):
        assert isinstance(r, Advisory | ParseIssue)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(_XML)), st.binary(max_size=8))
def test_mutated_xml_gives_records_or_issues(cut: int, noise: bytes) -> None:
    for r in am.parse_updateinfo(_XML[:cut] + noise + _XML[cut:]):
        assert isinstance(r, Advisory | ParseIssue)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"ID": st.sampled_from(["ALAS2-2099-1", "", "ALAS-x"]) | _VALUES},
        optional={
            "Issued": _VALUES,
            "Severity": _VALUES,
            "References": st.fixed_dictionaries(
                {"Reference": st.lists(_VALUES, max_size=3) | _VALUES}
            ),
            "Pkglist": st.fixed_dictionaries(
                {
                    "Collection": st.fixed_dictionaries(
                        {
                            "Short": st.sampled_from(
                                ["amazon-linux-2", "amazon-linux-2---x", "nope"]
                            )
                            | _VALUES,
                            "Package": st.lists(
                                st.fixed_dictionaries(
                                    {
                                        "Name": _VALUES,
                                        "Epoch": _VALUES,
                                        "Version": st.sampled_from(["1.0"]) | _VALUES,
                                        "Release": st.sampled_from(["1.amzn2"]) | _VALUES,
                                    }
                                ),
                                max_size=3,
                            ),
                        }
                    )
                    | _VALUES
                }
            ),
        },
    )
)
def test_mutated_derived_records_give_records_or_issues(doc: dict[str, object]) -> None:
    for r in am.parse_derived_json(json.dumps(doc).encode(), item="x"):
        assert isinstance(r, Advisory | ParseIssue)


@pytest.mark.needs_shared
def test_read(shared_dir: Path, tmp_path: Path) -> None:
    xml = _path(shared_dir, "samples", "amazon-alas", "updateinfo", "updateinfo_AL2023.xml.gz")
    assert [r.id for r in am.read(xml) if isinstance(r, Advisory)] == ["ALAS2023-2023-001"]
    one = tmp_path / "ALAS2-2099-1.json"
    one.write_bytes(json.dumps({"ID": "ALAS2-2099-0001", "Severity": "low"}).encode())
    (adv,) = am.read(one, "amazon")
    assert isinstance(adv, Advisory) and (adv.id, adv.source) == ("ALAS2-2099-0001", "amazon")
