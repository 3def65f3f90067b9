"""The matcher's fast paths: ``evaluate_fast`` is ``evaluate`` (or declines), the batched store
reads give what the one-package reads give, and a scan leaves the garbage collector as it was.

The same agreement on real data (hundreds of thousands of statement evaluations) is
``tests/integration/test_match_fastpath.py``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest

from hullscan import versions
from hullscan.match import match_sbom
from hullscan.match.engine import Matcher, lookup_for
from hullscan.match.ranges import ParseCache, evaluate, evaluate_fast
from hullscan.model.advisory import Affected, Severity, SupportStatus
from hullscan.vulndb.store import VulnStore
from tests.unit.test_match import NOW, adv, aff, build, deb, lang, rng, sbom

_decode = msgspec.msgpack.Decoder(Affected).decode

# Statements of the fast-path shapes, and around them
SHAPED = [
    aff("p", rng(("introduced", "0"), ("fixed", "1.5-1"))),
    aff("p", rng(("introduced", "1.0-1"), ("fixed", "1.5-1"))),
    aff("p", rng(("introduced", "1.5-1"), ("fixed", "1.5-1"))),  # empty interval
    aff("p", rng(("introduced", "1.5-1"), ("fixed", "1.0-1"))),  # fix sorts first: open-ended
    aff("p", rng(("introduced", "1.5-1"), ("fixed", "1.5-1.0"))),  # equal in dpkg order
    aff("p", rng(("introduced", "0"), ("fixed", "0"))),
    aff("p", rng(("introduced", "0"))),
    aff("p", rng(("introduced", "1.2-1"))),
    aff("p", rng(("introduced", "0"), ("last_affected", "1.2-1"))),
    aff("p", rng(("introduced", "1.0-1"), ("last_affected", "1.2-1"))),
    aff("p", rng(("introduced", "1.3-1"), ("last_affected", "1.2-1"))),
    aff("p", rng(("introduced", "0"), ("fixed", "1.5-1"), type="SEMVER")),
    aff("p", rng(("introduced", "0"), ("fixed", "1.5-1")), fix_state="affected"),
    aff(
        "p",
        rng(("introduced", "0"), ("fixed", "1.5-1")),
        severity=Severity(source="debian", type="vendor", rating="low"),
    ),
]
# Statements the fast path leaves to ``evaluate``
DECLINED = [
    aff("p", rng(("introduced", "0"), ("fixed", "1.5-1")), versions=("1.0-1",)),
    aff("p", rng(("introduced", "0"), ("fixed", "1.5-1")), problem="part dropped"),
    aff("p", rng(("introduced", "0"), ("fixed", "1.2-1")), rng(("introduced", "1.3-1"))),
    aff("p", rng(("introduced", "0"), ("fixed", "abc"), type="GIT")),
    aff("p", rng(("introduced", "0"), ("fixed", "1.2-1"), ("introduced", "1.3-1"))),
    aff("p", rng(("introduced", "0"), ("limit", "1.2-1"))),
    aff("p", rng(("fixed", "1.2-1"))),
    aff("p", rng(("introduced", "0"), ("fixed", "!!bad!!"))),
    aff("p", rng(("introduced", "!!bad!!"), ("fixed", "1.2-1"))),
    aff("p", fixed_version="1.2-1", fix_state="fixed"),
    aff("p", fix_state="affected"),
    aff("p", rng(("introduced", "0"), ("fixed", "1.5")), scheme="pypi"),  # another scheme
]
INSTALLED = ["0", "0.9-1", "1.0-1", "1.1-1", "1.2-1", "1.3-1", "1.5-1", "1.5-1.0", "1.6-1", "9"]


@pytest.mark.parametrize("statement", SHAPED)
def test_fast_path_equals_evaluate(statement: Affected) -> None:
    cache: ParseCache = {}
    outcomes = set()
    for text in INSTALLED:
        installed = versions.parse("deb", text)
        got = evaluate_fast(installed, statement, cache)
        assert got is not None
        assert got == evaluate(installed, statement), text
        outcomes.add(got.affected)
    assert outcomes <= {True, False}


@pytest.mark.parametrize("statement", DECLINED)
def test_fast_path_declines_other_shapes(statement: Affected) -> None:
    assert evaluate_fast(versions.parse("deb", "1.1-1"), statement, {}) is None


def test_fast_path_parse_cache_remembers_invalid_versions() -> None:
    cache: ParseCache = {}
    bad = aff("p", rng(("introduced", "0"), ("fixed", "!!bad!!")))
    assert evaluate_fast(versions.parse("deb", "1.0-1"), bad, cache) is None
    assert cache == {"!!bad!!": None}
    assert evaluate_fast(versions.parse("deb", "1.0-1"), bad, cache) is None


def test_batched_store_reads(tmp_path: Path) -> None:
    recs = [
        adv("CVE-2024-1", aff("bash", rng(("introduced", "0"), ("fixed", "5.2-2")))),
        adv("CVE-2024-2", aff("bash", fix_state="not-affected")),
        adv(
            "GHSA-aaaa-bbbb-cccc",
            aff("bash", rng(("introduced", "0"))),
            aff("zlib", rng(("introduced", "1.0-1"), ("fixed", "1.3-1"))),
            aliases=("CVE-2024-3",),
            summary="s",
            severities=(Severity(source="ghsa", type="vendor", rating="high"),),
            details="long text",
            withdrawn="2024-01-01T00:00:00Z",
        ),
        SupportStatus(namespace="debian:12", package="bash", state="ended"),
        SupportStatus(namespace="debian:12", package="bash", state="limited"),
    ]
    db = build(tmp_path, recs)
    with VulnStore(db) as store:
        bodies = store.affected_bodies("debian:12", ["zlib", "bash", "nope", "bash"])
        assert set(bodies) == {"bash", "zlib"}
        for name, rows in bodies.items():
            matches = [
                m
                for m in store.affected("debian:12", name)
                if m.affected.fix_state != "not-affected"
            ]
            assert [_decode(b) for _, _, b in rows] == [m.affected for m in matches]
            heads = store.advisory_heads(r for r, _, _ in rows)
            for (rowid, _, _), m in zip(rows, matches, strict=True):
                h = heads[rowid]
                assert (h.id, h.source, h.aliases, h.summary, h.withdrawn, h.severities) == (
                    m.advisory.id,
                    m.advisory.source,
                    m.advisory.aliases,
                    m.advisory.summary,
                    m.advisory.withdrawn,
                    m.advisory.severities,
                )
        assert store.affected_bodies("debian:12", []) == {}
        assert store.advisory_heads([]) == {}
        support = store.support_many("debian:12", ["bash", "zlib"])
        assert support == {"bash": store.support("debian:12", "bash")}


def test_match_package_equals_match_sbom(tmp_path: Path) -> None:
    recs = [
        adv("CVE-2024-1", aff("bash", rng(("introduced", "0"), ("fixed", "5.2-2")))),
        adv(
            "DSA-1",
            aff("bash", rng(("introduced", "0"), ("fixed", "5.2-2"))),
            aliases=("CVE-2024-1",),
        ),
        adv("CVE-2024-4", aff("bash", rng(("introduced", "0"), ("fixed", "5.0-1")))),
        adv(
            "GHSA-xxxx-yyyy-zzzz",
            aff(
                "requests",
                rng(("introduced", "0"), ("fixed", "2.0")),
                namespace="pypi",
                scheme="pypi",
            ),
        ),
    ]
    db = build(tmp_path, recs)
    pkgs = (deb("bash", "5.2-1"), lang("pypi", "requests", "1.0"))
    with VulnStore(db) as store:
        whole = match_sbom(sbom(*pkgs), store, now=NOW)
        one_by_one = []
        for p in pkgs:
            look = lookup_for(p, "debian:12")
            assert not isinstance(look, str)
            got = Matcher(store).match_package(p, look)
            assert not isinstance(got, str)
            one_by_one += got
    assert {(f.package.name, f.id, f.aliases) for f in whole.findings} == {
        ("bash", "CVE-2024-1", ("DSA-1",)),
        ("requests", "GHSA-xxxx-yyyy-zzzz", ()),
    }
    assert sorted(msgspec.json.encode(f) for f in one_by_one) == sorted(
        msgspec.json.encode(f) for f in whole.findings
    )


@pytest.mark.parametrize("enabled", [True, False])
def test_scan_restores_garbage_collector_state(tmp_path: Path, enabled: bool) -> None:
    db = build(tmp_path, [adv("CVE-2024-1", aff("bash", rng(("introduced", "0"))))])
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        with VulnStore(db) as store:
            r = match_sbom(sbom(deb("bash", "5.2-1")), store, now=NOW)
        assert len(r.findings) == 1
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


# --------------------------------------------------------------------------- upper bounds

UPPER_CASES = [
    (aff("p", rng(("introduced", "0"), ("fixed", "1.5-1"))), "1.5-1"),
    (aff("p", rng(("introduced", "1.0-1"), ("fixed", "1.5-1"))), "1.5-1"),
    (aff("p", rng(("fixed", "1.5-1"), ("introduced", "1.0-1"))), "1.5-1"),  # unsorted
    (aff("p", rng(("introduced", "1.5-1"), ("fixed", "1.5-1"))), "1.5-1"),
    # equal versions keep upstream order: the introduced comes last, nothing closes it
    (aff("p", rng(("fixed", "1.5-1"), ("introduced", "1.5-1"))), None),
    (aff("p", rng(("introduced", "1.5-1"), ("fixed", "1.5-1.0"))), "1.5-1.0"),  # equal in dpkg
    (aff("p", rng(("introduced", "1.5-1"), ("fixed", "1.0-1"))), None),  # open-ended
    (aff("p", rng(("introduced", "0"))), None),
    (aff("p", rng(("introduced", "0"), ("last_affected", "1.2-1"))), None),
    (aff("p", rng(("introduced", "0"), ("fixed", "1.2-1"), ("introduced", "1.3-1"))), None),
    (
        aff(
            "p",
            rng(("introduced", "0"), ("fixed", "1.2-1"), ("introduced", "1.3-1"), ("fixed", "2-1")),
        ),
        "2-1",
    ),
    (aff("p", rng(("introduced", "0"), ("fixed", "1.2-1")), rng(("introduced", "1.3-1"))), None),
    (
        aff(
            "p",
            rng(("introduced", "0"), ("fixed", "1.2-1")),
            rng(("introduced", "0"), ("fixed", "1.6-1")),
        ),
        "1.6-1",
    ),
    (aff("p", rng(("introduced", "0"), ("fixed", "1.5-1")), versions=("1.0-1",)), None),
    (aff("p", rng(("introduced", "0"), ("fixed", "1.5-1")), problem="part dropped"), None),
    (aff("p", rng(("introduced", "0"), ("limit", "1.2-1"))), None),
    (aff("p", rng(("introduced", "0"), ("fixed", "abc"), type="GIT")), None),  # GIT only
    (
        aff(
            "p",
            rng(("introduced", "0"), ("fixed", "abc"), type="GIT"),
            rng(("introduced", "0"), ("fixed", "1.2-1")),
        ),
        "1.2-1",
    ),
    (aff("p", rng(("introduced", "0"), ("fixed", "!!bad!!"))), None),
    (aff("p", fixed_version="1.2-1", fix_state="fixed"), "1.2-1"),
    (aff("p", fixed_version="0", fix_state="fixed"), None),
    (aff("p", fix_state="affected"), None),
]


@pytest.mark.parametrize(("statement", "expected"), UPPER_CASES)
def test_upper_bound_is_exact(statement: Affected, expected: str | None) -> None:
    from hullscan.vulndb.build.builder import _VersionCheck

    upper = _VersionCheck().upper_bound(_VersionCheck()(statement))
    assert upper == expected
    if upper is not None:
        bound = versions.parse("deb", upper)
        for text in [*INSTALLED, upper, "99", "1.5-1.1"]:
            installed = versions.parse("deb", text)
            if installed >= bound:
                assert evaluate(installed, statement).affected is False, text


def test_upper_bound_skips_without_changing_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan using the stored bounds equals one that evaluates every statement."""
    statements = [s for s, _ in UPPER_CASES if s.problem is None]
    db = build(tmp_path, [adv(f"CVE-2024-{i}", s) for i, s in enumerate(statements, 1)])
    bom = sbom(*(deb(f"p{i}", v, source="p") for i, v in enumerate(INSTALLED[1:])))
    with VulnStore(db) as store:
        with_bounds = match_sbom(bom, store, now=NOW)
        rows = store.affected_bodies("debian:12", ["p"])["p"]
        assert sum(upper is not None for _, upper, _ in rows) >= 8
    read = VulnStore.affected_bodies

    def unbounded(
        self: VulnStore, namespace: str, packages: Iterable[str]
    ) -> dict[str, list[tuple[int, str | None, bytes]]]:
        found = read(self, namespace, packages)
        return {k: [(a, None, b) for a, _, b in v] for k, v in found.items()}

    monkeypatch.setattr(VulnStore, "affected_bodies", unbounded)
    with VulnStore(db) as store:
        without = match_sbom(bom, store, now=NOW)
    assert with_bounds == without
    assert len(with_bounds.findings) > 20
