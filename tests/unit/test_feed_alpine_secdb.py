"""Alpine-style secdb parser (``hullscan.vulndb.build.alpine_secdb``) on the real Alpine
secdb v3.2-v3.21 + edge (MANIFEST: 41 files, 8,000 package entries, 85,277 fixed-CVE
entries) and the Wolfi/Chainguard ``security.json`` samples."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import Advisory, Affected, ParseIssue
from hullscan.vulndb.build import alpine_secdb as sec


def _dir(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.exists():
        pytest.skip(f"{p} absent")
    return p


def _records(path: Path) -> tuple[dict[str, Advisory], list[ParseIssue]]:
    advisories: dict[str, Advisory] = {}
    issues: list[ParseIssue] = []
    for r in sec.parse_secdb(path.read_bytes(), item=path.name):
        if isinstance(r, ParseIssue):
            issues.append(r)
        else:
            assert r.id not in advisories  # one Advisory per id per document
            advisories[r.id] = r
    return advisories, issues


def _pkg(adv: Advisory, name: str) -> Affected:
    (a,) = [a for a in adv.affected if a.package == name]
    return a


def test_split_ids() -> None:
    assert sec.split_ids("CVE-2018-3646 XSA-273") == (["CVE-2018-3646"], ["XSA-273"])
    assert sec.split_ids("CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI") == (
        ["CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754"],
        ["XSA-254"],
    )
    assert sec.split_ids("CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)") == (
        ["CVE-2018-10103"],
        [],
    )
    assert sec.split_ids("CVE_2019-2426") == (["CVE-2019-2426"], [])
    assert sec.split_ids("CVE-2017-17434-1") == (["CVE-2017-17434"], [])
    assert sec.split_ids("CVE-2021-35940.patch") == (["CVE-2021-35940"], [])
    assert sec.split_ids("CVE-????-????? XSA-312") == ([], ["XSA-312"])
    assert sec.split_ids("CVE N/A ZBX-11023") == ([], ["ZBX-11023"])
    assert sec.split_ids("GHSA-572g-rvwr-6c7f") == ([], ["GHSA-572g-rvwr-6c7f"])
    assert sec.split_ids("wnpa-sec-2019-13 VSV00001 DW201905-001") == (
        [],
        ["wnpa-sec-2019-13", "VSV00001", "DW201905-001"],
    )
    assert sec.split_ids("CVE-46838") == ([], [])


def test_namespace_from_header() -> None:
    assert sec.namespace_for({"distroversion": "v3.19"}) == "alpine:3.19"
    assert sec.namespace_for({"distroversion": "edge"}) == "alpine:edge"
    assert sec.namespace_for({"distroversion": "v3.x"}) is None
    assert (
        sec.namespace_for({"reponame": "os", "urlprefix": "https://packages.wolfi.dev"}) == "wolfi"
    )
    assert sec.namespace_for({"reponame": "chainguard"}) == "chainguard"
    assert sec.namespace_for({}) is None


@pytest.mark.needs_shared
def test_real_secdb_counts(shared_dir: Path) -> None:
    files = sorted(_dir(shared_dir, "alpine-secdb").glob("*/*.json"))
    assert len(files) == 41
    raw_packages = raw_entries = 0
    per_ns: collections.Counter[str] = collections.Counter()
    all_issues: list[ParseIssue] = []
    fixed_ranges = not_affected = 0
    for f in files:
        doc = json.loads(f.read_bytes())
        raw_packages += len(doc["packages"])
        raw_entries += sum(len(v) for p in doc["packages"] for v in p["pkg"]["secfixes"].values())
        advisories, issues = _records(f)
        all_issues += issues
        for adv in advisories.values():
            assert adv.source == "alpine-secdb"
            for a in adv.affected:
                assert a.namespace == f"alpine:{f.parent.name}" and a.scheme == "apk"
                per_ns[a.namespace] += 1
                if a.fix_state == "fixed":
                    fixed_ranges += len(a.ranges)
                else:
                    assert a.fix_state == "not-affected"
                    not_affected += 1
    assert (raw_packages, raw_entries) == (8000, 85277)
    assert set(per_ns) == {f"alpine:3.{n}" for n in range(2, 22)} | {"alpine:edge"}
    # every entry string is accounted for: fixed ranges + "0" entries + merged duplicates
    # (one string naming several CVEs adds more; re-listed ids in one package add none)
    assert 84_000 < fixed_ranges + not_affected < 86_000
    assert not_affected == 553
    # the one unusable id in the whole data: linux-lts "CVE-46838" (a typo for
    # CVE-2023-46838), in 3.19, 3.20, 3.21 and edge
    assert [(i.item, i.error) for i in all_issues] == [
        (f"{v}: linux-lts {r}", "no vulnerability id in 'CVE-46838'")
        for v, r in [
            ("main.json", "6.6.13-r0"),
            ("main.json", "6.6.13-r1"),
            ("main.json", "6.6.13-r1"),
            ("main.json", "6.6.13-r1"),
        ]
    ]


@pytest.mark.needs_shared
def test_real_records_field_by_field(shared_dir: Path) -> None:
    base = _dir(shared_dir, "alpine-secdb")
    adv310, _ = _records(base / "3.10" / "main.json")
    # a secfix "0" is "never affected" (avahi lists CVE-2021-26720 under "0")
    avahi = _pkg(adv310["CVE-2021-26720"], "avahi")
    assert (avahi.namespace, avahi.fix_state, avahi.fixed_version, avahi.ranges) == (
        "alpine:3.10",
        "not-affected",
        None,
        (),
    )
    a = _pkg(adv310["CVE-2017-6519"], "avahi")
    assert (a.fix_state, a.fixed_version) == ("fixed", "0.7-r2")
    assert [(e.kind, e.version) for e in a.ranges[0].events] == [
        ("introduced", "0"),
        ("fixed", "0.7-r2"),
    ]
    # "CVE-2018-3646 XSA-273": the CVE is the id, the XSA (which covers two CVEs) related
    xsa = adv310["CVE-2018-3646"]
    assert xsa.related == ("XSA-273",) and xsa.aliases == ()
    assert _pkg(xsa, "xen").fixed_version == "4.11.1-r0"
    # "XSA-254" alone is its own id; "CVE-2017-17434-1"/"-2" are one CVE
    assert _pkg(adv310["XSA-254"], "xen").fixed_version == "4.10.0-r1"
    assert _pkg(adv310["CVE-2017-17434"], "rsync").fixed_version == "3.1.2-r7"

    # an id listed under three versions: fixed_version the last, one range per version
    adv312, _ = _records(base / "3.12" / "community.json")
    ucode = _pkg(adv312["CVE-2018-12126"], "intel-ucode")
    assert ucode.fixed_version == "20191112-r0"
    assert [r.events[1].version for r in ucode.ranges] == [
        "20190514a-r0",
        "20190618-r0",
        "20191112-r0",
    ]
    # "CVE_2019-2426" (underscore) and "CVE-2018-14881 (BGP)" (a note)
    adv38, _ = _records(base / "3.8" / "community.json")
    assert _pkg(adv38["CVE-2019-2426"], "openjdk7").fixed_version == "7.211.2.6.17-r0"
    adv311, _ = _records(base / "3.11" / "main.json")
    assert _pkg(adv311["CVE-2018-14881"], "tcpdump").fixed_version == "4.9.3-r0"
    edge, _ = _records(base / "edge" / "main.json")
    assert {a.namespace for adv in edge.values() for a in adv.affected} == {"alpine:edge"}


@pytest.mark.needs_shared
def test_wolfi_and_chainguard_samples(shared_dir: Path) -> None:
    base = _dir(shared_dir, "samples", "wolfi-secdb")
    wolfi, issues = _records(base / "wolfi-security.json")
    assert issues == []
    assert {a.namespace for adv in wolfi.values() for a in adv.affected} == {"wolfi"}
    assert {adv.source for adv in wolfi.values()} == {"wolfi-secdb"}
    coreutils = _pkg(wolfi["CVE-2016-2781"], "coreutils")
    assert coreutils.fix_state == "not-affected"  # listed under "0"
    assert _pkg(wolfi["CVE-2022-38533"], "binutils").fixed_version == "2.39-r2"
    # a GHSA id listed next to CVEs under "0" (apko)
    assert _pkg(wolfi["GHSA-jq35-85cj-fj4p"], "apko").fix_state == "not-affected"

    cg, issues = _records(base / "chainguard-security.json")
    assert issues == []
    assert {a.namespace for adv in cg.values() for a in adv.affected} == {"chainguard"}
    assert {adv.source for adv in cg.values()} == {"chainguard-secdb"}
    glibc = _pkg(cg["CVE-2010-4756"], "glibc")
    assert glibc.fix_state == "not-affected"
    # the caller can say which namespace a document is
    (first, *_) = sec.parse_secdb(
        (base / "wolfi-os-security.json").read_bytes(), namespace="chainguard"
    )
    assert isinstance(first, Advisory) and first.affected[0].namespace == "chainguard"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_records_or_issues(data: bytes) -> None:
    for r in sec.parse_secdb(data):
        assert isinstance(r, Advisory | ParseIssue)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_IDS = st.sampled_from(
    ["CVE-2020-1", "CVE-2020-1234 XSA-1", "XSA-2", "(note)", "CVE-????-?????", "", "N/A"]
) | st.text(max_size=20)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["v3.19", "edge", "v9", None, 3]),
    st.lists(
        st.fixed_dictionaries(
            {
                "pkg": st.fixed_dictionaries(
                    {"name": st.text(max_size=8) | _VALUES},
                    optional={
                        "secfixes": st.dictionaries(
                            st.sampled_from(["0", "1.0-r0", "", "a b"]) | st.text(max_size=8),
                            st.lists(_IDS | _VALUES, max_size=4) | _VALUES,
                            max_size=4,
                        )
                        | _VALUES
                    },
                )
                | _VALUES
            }
        )
        | _VALUES,
        max_size=5,
    ),
)
def test_mutated_documents_give_records_or_issues(
    distroversion: object, packages: list[object]
) -> None:
    doc = {"distroversion": distroversion, "reponame": "main", "packages": packages}
    for r in sec.parse_secdb(json.dumps(doc).encode()):
        assert isinstance(r, Advisory | ParseIssue)
        if isinstance(r, Advisory):
            assert r.affected and all(a.package.strip() == a.package for a in r.affected)


@pytest.mark.needs_shared
def test_read(shared_dir: Path) -> None:
    path = _dir(shared_dir, "alpine-secdb", "3.21", "main.json")
    records = list(sec.read(path))
    # the item names branch and file; 3.21/main has the one "CVE-46838" entry
    assert [r.item for r in records if isinstance(r, ParseIssue)] == [
        "3.21/main.json: linux-lts 6.6.13-r1"
    ]
    assert {a.namespace for r in records if isinstance(r, Advisory) for a in r.affected} == {
        "alpine:3.21"
    }
    wolfi = _dir(shared_dir, "samples", "wolfi-secdb", "wolfi-security.json")
    assert {r.source for r in sec.read(wolfi)} == {"wolfi-secdb"}
