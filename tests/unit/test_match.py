"""The matcher (hullscan.match) on a small DB built from handcrafted records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from hullscan import versions
from hullscan.match import evaluate, match_sbom, primary_id, risk_key
from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    CveSeverity,
    EpssScore,
    KevEntry,
    RangeEvent,
    Severity,
    SupportStatus,
)
from hullscan.model.distro import Distro
from hullscan.model.finding import Finding, ScanResult
from hullscan.model.package import Package
from hullscan.model.sbom import SBOM, Target
from hullscan.vulndb.build.builder import SourceSpec, build_db
from hullscan.vulndb.build.feed import Record
from hullscan.vulndb.store import VulnStore

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def rng(*events: tuple[str, str], type: str = "ECOSYSTEM") -> AffectedRange:
    return AffectedRange(type=type, events=tuple(RangeEvent(k, v) for k, v in events))  # type: ignore[arg-type]


def aff(
    package: str,
    *ranges: AffectedRange,
    namespace: str = "debian:12",
    scheme: str = "deb",
    **kw: object,
) -> Affected:
    fixed = [e.version for r in ranges for e in r.events if e.kind == "fixed"]
    kw.setdefault("fix_state", "fixed" if fixed else ("affected" if ranges else "unknown"))
    if len(set(fixed)) == 1:
        kw.setdefault("fixed_version", fixed[0])
    return Affected(namespace=namespace, package=package, scheme=scheme, ranges=ranges, **kw)  # type: ignore[arg-type]


def adv(id: str, *affected: Affected, source: str = "test", **kw: object) -> Advisory:
    return Advisory(id=id, source=source, affected=affected, **kw)  # type: ignore[arg-type]


def build(tmp_path: Path, records: Sequence[Record], *more: tuple[str, Sequence[Record]]) -> Path:
    """A DB from records; ``more`` adds further sources (name, records) in their own group."""
    feed = tmp_path / "feed"
    feed.mkdir(exist_ok=True)
    specs = []
    for name, recs in (("test", records), *more):
        (feed / f"{name}.dat").write_text("x")

        def read(_path: Path, _source: str, recs: Sequence[Record] = recs) -> Iterator[Record]:
            yield from recs

        specs.append(SourceSpec(name, f"{name}.dat", read))
    out = tmp_path / "db.sqlite"
    build_db(feed, out, specs)
    return out


def deb(name: str, version: str, source: str | None = None, sv: str | None = None) -> Package:
    return Package(
        name=name,
        version=version,
        type="deb",
        purl=f"pkg:deb/debian/{name}@{version}?distro=debian-12",
        found_by="dpkg",
        source_name=source,
        source_version=sv,
        layer_index=0,
        layer_diff_id="sha256:aa",
        created_by="debootstrap",
    )


def lang(ptype: str, purl_name: str, version: str, name: str | None = None) -> Package:
    return Package(
        name=name or purl_name.rsplit("/", 1)[-1],
        version=version,
        type=ptype,
        purl=f"pkg:{ptype}/{purl_name}@{version}",
        found_by="test",
    )


def sbom(*packages: Package, distro: Distro | None = Distro(id="debian", version="12")) -> SBOM:
    return SBOM(target=Target(name="img", kind="docker-archive"), distro=distro, packages=packages)


def scan(tmp_path: Path, records: Sequence[Record], *packages: Package, **kw: object) -> ScanResult:
    db = build(tmp_path, records)
    with VulnStore(db) as store:
        return match_sbom(sbom(*packages, **kw), store, now=NOW)  # type: ignore[arg-type]


def ids(result: ScanResult) -> set[tuple[str, str]]:
    return {(f.package.name, f.id) for f in result.findings}


# --------------------------------------------------------------------------- OSV ranges


def _affected(scheme: str, installed: str, a: Affected) -> bool | None:
    return evaluate(versions.parse(scheme, installed), a).affected


@pytest.mark.parametrize(
    ("installed", "expected"),
    [("0.9", True), ("1.0", True), ("1.5", True), ("2.0", False), ("2.1", False)],
)
def test_introduced_zero_fixed(installed: str, expected: bool) -> None:
    a = aff("p", rng(("introduced", "0"), ("fixed", "2.0")), scheme="pypi", namespace="pypi")
    assert _affected("pypi", installed, a) is expected


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ("0.9.0", False),
        ("1.0.0", True),
        ("1.0.1", True),
        ("1.0.2", False),
        ("2.9.0", False),
        ("3.0.0", True),
        ("3.2.4", True),
        ("3.2.5", False),
        ("9.0.0", False),
    ],
)
def test_multiple_pairs_in_one_range(installed: str, expected: bool) -> None:
    r = rng(
        ("introduced", "1.0.0"), ("fixed", "1.0.2"), ("introduced", "3.0.0"), ("fixed", "3.2.5")
    )
    a = aff("p", r, scheme="npm", namespace="npm")
    assert _affected("npm", installed, a) is expected


def test_events_are_sorted_before_evaluation() -> None:
    # Same pairs, upstream order scrambled: OSV sorts events by version first.
    r = rng(
        ("fixed", "3.2.5"), ("introduced", "3.0.0"), ("fixed", "1.0.2"), ("introduced", "1.0.0")
    )
    a = aff("p", r, scheme="npm", namespace="npm")
    assert _affected("npm", "1.0.1", a) is True
    assert _affected("npm", "2.0.0", a) is False
    ev = evaluate(versions.parse("npm", "3.1.0"), a)
    assert ev.affected and ev.fixed_version == "3.2.5"


@pytest.mark.parametrize(
    ("installed", "expected"), [("1.0", True), ("2.1.214", True), ("2.1.215", False)]
)
def test_last_affected_is_inclusive(installed: str, expected: bool) -> None:
    a = aff(
        "p", rng(("introduced", "0"), ("last_affected", "2.1.214")), scheme="pypi", namespace="pypi"
    )
    assert _affected("pypi", installed, a) is expected
    if expected:
        assert evaluate(versions.parse("pypi", installed), a).fixed_version is None


@pytest.mark.parametrize(
    ("installed", "expected"),
    [("0.5", False), ("1.0", True), ("1.5", True), ("2.0", False), ("3.0", False)],
)
def test_limit(installed: str, expected: bool) -> None:
    # introduced 1.0, limit 2.0: versions >= the limit are outside the range.
    a = aff("p", rng(("introduced", "1.0"), ("limit", "2.0")), scheme="pypi", namespace="pypi")
    assert _affected("pypi", installed, a) is expected


def test_limit_star_is_infinity() -> None:
    a = aff("p", rng(("introduced", "1.0"), ("limit", "*")), scheme="pypi", namespace="pypi")
    assert _affected("pypi", "99", a) is True


def test_versions_list_and_ranges_are_alternatives() -> None:
    a = aff(
        "p",
        rng(("introduced", "2.0"), ("fixed", "2.5")),
        scheme="pypi",
        namespace="pypi",
        versions=("1.0.0", "1.1"),
    )
    assert _affected("pypi", "1.0", a) is True  # listed (PEP 440: 1.0 == 1.0.0)
    assert _affected("pypi", "2.1", a) is True  # in range
    assert _affected("pypi", "1.2", a) is False


def test_several_ranges_any_matches() -> None:
    a = aff(
        "p",
        rng(("introduced", "0"), ("fixed", "1.0")),
        rng(("introduced", "5.0"), ("fixed", "5.1")),
        scheme="pypi",
        namespace="pypi",
    )
    assert [_affected("pypi", v, a) for v in ("0.5", "3", "5.0.1", "6")] == [
        True,
        False,
        True,
        False,
    ]


def test_git_ranges_are_ignored() -> None:
    a = aff(
        "p",
        rng(("introduced", "abc"), ("fixed", "def"), type="GIT"),
        rng(("introduced", "0"), ("fixed", "1.0")),
        scheme="pypi",
        namespace="pypi",
    )
    assert _affected("pypi", "0.5", a) is True
    assert _affected("pypi", "1.5", a) is False


def test_unparsable_event_is_undecidable_not_unaffected() -> None:
    a = aff("p", rng(("introduced", "0"), ("fixed", "not a version!")), scheme="deb")
    ev = evaluate(versions.parse("deb", "1.0-1"), a)
    assert ev.affected is None and "not a version!" in (ev.error or "")


# --------------------------------------------------------------------------- distro matching


def test_source_name_and_source_version(tmp_path: Path) -> None:
    recs = [
        adv("CVE-2024-1", aff("openssl", rng(("introduced", "0"), ("fixed", "3.0.15-1~deb12u1"))))
    ]
    r = scan(
        tmp_path,
        recs,
        deb("libssl3", "3.0.14-1~deb12u2", "openssl", "3.0.14-1~deb12u2"),
        deb("openssl", "3.0.15-1~deb12u1", "openssl", "3.0.15-1~deb12u1"),
        deb("unrelated", "1.0-1"),
    )
    assert ids(r) == {("libssl3", "CVE-2024-1")}
    f = r.findings[0]
    assert f.fix_state == "fixed" and f.fixed_version == "3.0.15-1~deb12u1"
    assert f.package.layer_index == 0 and f.package.created_by == "debootstrap"
    (why,) = f.matched_by
    assert why.package == "openssl" and why.installed_version == "3.0.14-1~deb12u2"
    assert why.rule == "range" and why.ranges[0].events[1].cmp == -1


def test_binnmu_uses_source_version(tmp_path: Path) -> None:
    # Binary 1.2-3+b1 was rebuilt from source 1.2-3, which the tracker says is still affected
    # (fixed in 1.2-4): the binNMU suffix must not hide it, and the fix is a source version.
    recs = [adv("CVE-2024-2", aff("zlib", rng(("introduced", "0"), ("fixed", "1.2-4"))))]
    r = scan(tmp_path, recs, deb("zlib1g", "1:1.2-3+b1", "zlib", "1.2-3"))
    assert ids(r) == {("zlib1g", "CVE-2024-2")}


def test_binary_name_when_no_source(tmp_path: Path) -> None:
    recs = [adv("CVE-2024-3", aff("bash", rng(("introduced", "0"), ("fixed", "5.2-2"))))]
    r = scan(tmp_path, recs, deb("bash", "5.2-1"))
    assert ids(r) == {("bash", "CVE-2024-3")}


def test_rpm_epoch(tmp_path: Path) -> None:
    fixed = rng(("introduced", "0"), ("fixed", "1:3.0.7-18.el9"))
    recs = [adv("CVE-2024-4", aff("openssl", fixed, namespace="rhel:9", scheme="rpm"))]

    def rpm(version: str) -> Package:
        return Package(
            name="openssl-libs",
            version=version,
            type="rpm",
            purl=f"pkg:rpm/redhat/openssl-libs@{version}",
            found_by="rpm",
            source_name="openssl",
            source_version=version,
        )

    r = scan(
        tmp_path,
        recs,
        rpm("1:3.0.7-17.el9"),  # affected
        rpm("3.0.9-1.el9"),  # no epoch = 0: below epoch 1, affected
        rpm("1:3.0.7-18.el9"),  # the fix
        rpm("2:1.0-1.el9"),  # higher epoch wins over everything
        distro=Distro(id="rhel", version="9.4"),
    )
    assert sorted(f.package.version for f in r.findings) == ["1:3.0.7-17.el9", "3.0.9-1.el9"]
    assert {f.namespace for f in r.findings} == {"rhel:9"}


def test_not_affected_and_withdrawn_never_match(tmp_path: Path) -> None:
    recs = [
        adv("CVE-2024-5", aff("bash", fix_state="not-affected")),
        adv("CVE-2024-6", aff("bash", rng(("introduced", "0"))), withdrawn="2024-01-01T00:00:00Z"),
        adv("CVE-2024-7", aff("bash", rng(("introduced", "0")))),
    ]
    r = scan(tmp_path, recs, deb("bash", "5.2-1"))
    assert ids(r) == {("bash", "CVE-2024-7")}


def test_fix_states(tmp_path: Path) -> None:
    recs = [
        adv("CVE-2024-10", aff("bash", rng(("introduced", "0"), ("fixed", "5.2-2")))),
        adv("CVE-2024-11", aff("bash", fix_state="affected")),
        adv("CVE-2024-12", aff("bash", fix_state="will-not-fix")),
        adv("CVE-2024-13", aff("bash", fix_state="deferred")),
        adv(
            "CVE-2024-14",
            aff(
                "bash",
                fix_state="affected",
                severity=Severity(source="debian", type="vendor", rating="end-of-life"),
            ),
        ),
        # fixed in another interval only: the installed one has no fix
        adv(
            "CVE-2024-15",
            aff(
                "bash",
                rng(
                    ("introduced", "0"),
                    ("fixed", "4.0-1"),
                    ("introduced", "5.0"),
                ),
            ),
        ),
        # a fixed entry without ranges (tracker style)
        adv("CVE-2024-16", aff("bash", fix_state="fixed", fixed_version="5.3-1")),
        adv("CVE-2024-17", aff("bash", fix_state="fixed", fixed_version="5.0-1")),
    ]
    r = scan(tmp_path, recs, deb("bash", "5.2-1"))
    states = {f.id: (f.fix_state, f.fixed_version) for f in r.findings}
    assert states == {
        "CVE-2024-10": ("fixed", "5.2-2"),
        "CVE-2024-11": ("affected", None),
        "CVE-2024-12": ("will-not-fix", None),
        "CVE-2024-13": ("deferred", None),
        "CVE-2024-14": ("end-of-life", None),
        "CVE-2024-15": ("affected", None),
        "CVE-2024-16": ("fixed", "5.3-1"),
    }


def test_package_support_ended_is_end_of_life(tmp_path: Path) -> None:
    recs: list[Record] = [
        adv("CVE-2024-20", aff("mysql-8.0", fix_state="affected")),
        SupportStatus(namespace="debian:12", package="mysql-8.0", state="ended", eol="2024-01-01"),
    ]
    r = scan(tmp_path, recs, deb("mysql-server", "8.0.1-1", "mysql-8.0", "8.0.1-1"))
    assert [f.fix_state for f in r.findings] == ["end-of-life"]


def test_problem_gives_could_not_compare(tmp_path: Path) -> None:
    bad = aff("bash", rng(("introduced", "0"), ("fixed", "!!bad!!")))
    recs = [adv("CVE-2024-21", bad)]
    r = scan(tmp_path, recs, deb("bash", "5.2-1"))
    (f,) = r.findings
    assert not f.compared and f.notes and "could not compare" in f.notes[0]
    assert f.matched_by[0].verdict == "could-not-compare"
    # The builder recorded the problem on the entry; a decidable part still decides.
    assert f.matched_by[0].problem


def test_problem_on_undecided_entry_is_reported(tmp_path: Path) -> None:
    # Red Hat module build: "fixed" with no version and a problem note.
    a = Affected(
        namespace="debian:12",
        package="php",
        scheme="deb",
        fix_state="fixed",
        problem="module build",
    )
    r = scan(tmp_path, [adv("CVE-2024-22", a)], deb("php", "8.2-1"))
    (f,) = r.findings
    assert not f.compared and "module build" in f.notes[0]


def test_installed_version_unparsable_is_unmatched(tmp_path: Path) -> None:
    recs = [adv("CVE-2024-23", aff("bash", rng(("introduced", "0"))))]
    r = scan(tmp_path, recs, deb("bash", "not valid"))
    assert not r.findings
    assert r.unmatched[0].name == "bash" and "not a valid deb version" in r.unmatched[0].reason


def test_no_distro_skips_os_packages_with_warning(tmp_path: Path) -> None:
    recs = [adv("CVE-2024-24", aff("bash", rng(("introduced", "0"))))]
    r = scan(tmp_path, recs, deb("bash", "5.2-1"), distro=None)
    assert not r.findings
    assert any("no distro detected" in w for w in r.warnings)
    assert r.unmatched[0].reason.startswith("no distro")


def test_eol_release_warning(tmp_path: Path) -> None:
    recs: list[Record] = [
        SupportStatus(namespace="debian:10", eol="2022-09-10", extended_until="2024-06-30"),
        SupportStatus(namespace="debian:12", eol="2026-06-10"),
    ]
    db = build(tmp_path, recs)
    with VulnStore(db) as store:
        old = match_sbom(sbom(distro=Distro(id="debian", version="10")), store, now=NOW)
        new = match_sbom(sbom(), store, now=NOW)
        later = match_sbom(sbom(), store, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert len(old.warnings) == 1 and "2022-09-10" in old.warnings[0]
    assert new.warnings == ()
    assert "debian:12" in later.warnings[0]


# --------------------------------------------------------------------------- merging, severity


def test_alias_merge_distro_prefers_cve(tmp_path: Path) -> None:
    r1 = rng(("introduced", "0"), ("fixed", "5.2-2"))
    recs = [
        adv("CVE-2024-30", aff("bash", r1)),
        adv("DEBIAN-CVE-2024-30", aff("bash", r1), aliases=("CVE-2024-30",)),
        adv("DSA-5000-1", aff("bash", r1), related=("CVE-2024-30",)),  # related: not merged
    ]
    r = scan(tmp_path, recs, deb("bash", "5.2-1"))
    by_id = {f.id: f for f in r.findings}
    assert set(by_id) == {"CVE-2024-30", "DSA-5000-1"}
    assert by_id["CVE-2024-30"].aliases == ("DEBIAN-CVE-2024-30",)
    assert len(by_id["CVE-2024-30"].matched_by) == 2


def test_alias_merge_language_prefers_ghsa(tmp_path: Path) -> None:
    r1 = rng(("introduced", "0"), ("fixed", "2.0"))
    recs = [
        adv(
            "PYSEC-2024-1",
            aff("my-pkg", r1, namespace="pypi", scheme="pypi"),
            aliases=("CVE-2024-40",),
        ),
        adv(
            "GHSA-aaaa-bbbb-cccc",
            aff(
                "my-pkg",
                rng(("introduced", "0"), ("fixed", "2.1")),
                namespace="pypi",
                scheme="pypi",
            ),
            aliases=("CVE-2024-40",),
        ),
        adv("CVE-2024-40", aff("my-pkg", r1, namespace="pypi", scheme="pypi")),
    ]
    r = scan(tmp_path, recs, lang("pypi", "My_Pkg", "1.0"))
    (f,) = r.findings
    assert f.id == "GHSA-aaaa-bbbb-cccc"
    assert f.aliases == ("CVE-2024-40", "PYSEC-2024-1")
    assert f.fix_state == "fixed" and f.fixed_version == "2.1"  # the highest fix needed
    assert f.namespace == "pypi"


def test_primary_id_is_deterministic() -> None:
    ids_ = ["PYSEC-2024-1", "CVE-2024-9", "CVE-2024-10", "GHSA-x"]
    assert primary_id(ids_, distro=True) == "CVE-2024-9"
    assert primary_id(reversed(ids_), distro=True) == "CVE-2024-9"
    assert primary_id(ids_, distro=False) == "GHSA-x"
    assert primary_id(["MAL-2024-1", "PYSEC-1"], distro=False) == "MAL-2024-1"


def test_language_names(tmp_path: Path) -> None:
    r1 = rng(("introduced", "0"), ("fixed", "9.9.9"))
    recs = [
        adv("GHSA-1", aff("org.example:core", r1, namespace="maven", scheme="maven")),
        adv("GHSA-2", aff("@scope/pkg", r1, namespace="npm", scheme="npm")),
        adv("GHSA-3", aff("golang.org/x/net", r1, namespace="golang", scheme="golang")),
        adv("GHSA-4", aff("newtonsoft.json", r1, namespace="nuget", scheme="nuget")),
    ]
    r = scan(
        tmp_path,
        recs,
        lang("maven", "org.example/core", "1.0"),
        lang("npm", "%40scope/pkg", "1.0.0"),
        lang("golang", "golang.org/x/net", "v0.1.0"),
        lang("nuget", "Newtonsoft.Json", "1.0"),
        distro=None,
    )
    assert {f.id for f in r.findings} == {"GHSA-1", "GHSA-2", "GHSA-3", "GHSA-4"}
    assert r.warnings == ()


def test_malicious(tmp_path: Path) -> None:
    a = Affected(namespace="npm", package="evil", scheme="npm", versions=("1.0.0",))
    recs = [adv("MAL-2024-1", a, malicious=True)]
    r = scan(
        tmp_path, recs, lang("npm", "evil", "1.0.0"), lang("npm", "evil", "1.0.1"), distro=None
    )
    (f,) = r.findings
    assert f.malicious and f.id == "MAL-2024-1" and f.package.version == "1.0.0"
    assert f.matched_by[0].rule == "versions"


def test_severity_order_and_enrichment(tmp_path: Path) -> None:
    nvd = Severity(
        source="nvd",
        type="CVSS_V3",
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        score=9.8,
    )
    urgency = Severity(source="debian", type="vendor", rating="low")
    r1 = rng(("introduced", "0"))
    recs: list[Record] = [
        adv("CVE-2024-50", aff("a", r1, severity=urgency)),  # vendor per-package rating wins
        adv("CVE-2024-51", aff("b", r1)),  # only NVD's CVSS from the store
        adv(
            "CVE-2024-52",
            aff("c", r1),
            severities=(Severity(source="redhat", type="vendor", rating="Important"),),
        ),
        adv("CVE-2024-53", aff("d", r1)),  # nothing at all
        CveSeverity(cve="CVE-2024-51", severities=(nvd,)),
        KevEntry(cve="CVE-2024-53", date_added="2024-05-01"),
        EpssScore("CVE-2024-51", 0.5, 0.9),
        EpssScore("CVE-2024-50", 0.9, 0.99),
    ]
    r = scan(tmp_path, recs, deb("a", "1-1"), deb("b", "1-1"), deb("c", "1-1"), deb("d", "1-1"))
    by = {f.id: f for f in r.findings}
    assert (by["CVE-2024-50"].severity_rating, by["CVE-2024-50"].severity.source) == (
        "low",
        "debian",
    )  # type: ignore[union-attr]
    assert by["CVE-2024-51"].severity == nvd and by["CVE-2024-51"].severity_rating == "critical"
    assert by["CVE-2024-51"].severities == (nvd,)
    assert by["CVE-2024-52"].severity_rating == "high"
    assert by["CVE-2024-53"].severity is None and by["CVE-2024-53"].severity_rating == "unknown"
    assert by["CVE-2024-53"].kev and by["CVE-2024-53"].kev_date_added == "2024-05-01"
    assert (by["CVE-2024-51"].epss, by["CVE-2024-51"].epss_percentile) == (0.5, 0.9)
    # Risk order: KEV first; then EPSS x score: 0.5*9.8 (b) > 0.9*2.5 (a) > 0*7.5 (c).
    assert [f.id for f in r.findings] == [
        "CVE-2024-53",
        "CVE-2024-51",
        "CVE-2024-50",
        "CVE-2024-52",
    ]


def test_epss_from_alias(tmp_path: Path) -> None:
    recs: list[Record] = [
        adv(
            "GHSA-zz",
            aff("x", rng(("introduced", "0")), namespace="pypi", scheme="pypi"),
            aliases=("CVE-2024-60",),
        ),
        EpssScore("CVE-2024-60", 0.25, 0.5),
        KevEntry(cve="CVE-2024-60"),
    ]
    r = scan(tmp_path, recs, lang("pypi", "x", "1.0"), distro=None)
    (f,) = r.findings
    assert f.epss == 0.25 and f.kev and f.kev_date_added is None


def test_output_is_stable_and_serializable(tmp_path: Path) -> None:
    r1 = rng(("introduced", "0"))
    recs = [adv(f"CVE-2024-{n}", aff("bash", r1)) for n in range(70, 75)]
    db = build(tmp_path, recs)
    with VulnStore(db) as store:
        a = match_sbom(sbom(deb("bash", "5.2-1"), deb("bash", "5.2-1", "bash")), store, now=NOW)
        b = match_sbom(sbom(deb("bash", "5.2-1", "bash"), deb("bash", "5.2-1")), store, now=NOW)
    assert [risk_key(f) for f in a.findings] == sorted(risk_key(f) for f in a.findings)
    assert msgspec.json.encode(a.findings) == msgspec.json.encode(b.findings)
    back = msgspec.json.decode(msgspec.json.encode(a), type=ScanResult)
    assert back == a and isinstance(back.findings[0], Finding)
