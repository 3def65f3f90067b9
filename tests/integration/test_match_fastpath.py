"""The matcher's fast paths agree with the full evaluation on REAL data.

``hullscan.match.ranges.evaluate_fast`` decides the common statement shapes without the general
walk; the batched store reads (``affected_bodies``, ``advisory_heads``) replace one query per
package. Here, on a DB built from the shared osv.dev Debian and GHSA data, for every statement of
a sample of packages (300 ``debian:12`` source packages, 150 npm, 150 PyPI, 100 Maven) and many
installed versions each (every version the package's statements name, and versions just
around them), the fast path must return exactly what ``evaluate`` returns (or decline), every
statement's stored upper bound must be exact (``evaluate`` says "not affected" at and above it),
and the batched reads must give what the one-package reads give.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import msgspec
import pytest

from hullscan import versions
from hullscan.match.ranges import ParseCache, evaluate, evaluate_fast
from hullscan.model.advisory import Affected
from hullscan.vulndb.build.builder import build_db
from hullscan.vulndb.build.sources import default_sources
from hullscan.vulndb.store import VulnStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("match-fastpath"),
]

VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"
SOURCES = ("osv:Debian", "ghsa:npm", "ghsa:PyPI", "ghsa:Maven")
SAMPLE = {"debian:12": 300, "npm": 150, "pypi": 150, "maven": 100}
VERSIONS_PER_PACKAGE = 10
_decode = msgspec.msgpack.Decoder(Affected).decode


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (VULNDATA / "osv-dev" / "Debian").is_dir():
        pytest.skip(f"shared vulnerability data absent: {VULNDATA}")
    out = tmp_path_factory.mktemp("fastpath") / "db.sqlite"
    build_db(VULNDATA, out, [s for s in default_sources() if s.name in SOURCES])
    return out


def _sample(db: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        for namespace, n in SAMPLE.items():
            names = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT package FROM affected WHERE namespace = ? ORDER BY package",
                    (namespace,),
                )
            ]
            out[namespace] = random.Random(namespace).sample(names, min(n, len(names)))
        return out
    finally:
        con.close()


def _installed_versions(scheme: str, statements: list[Affected], rnd: random.Random) -> list[str]:
    named: set[str] = set()
    for a in statements:
        named.update(e.version for r in a.ranges for e in r.events)
        named.update(a.versions)
        if a.fixed_version:
            named.add(a.fixed_version)
    named -= {"0", "*"}
    picked = sorted(named)
    picked = rnd.sample(picked, min(VERSIONS_PER_PACKAGE, len(picked)))
    out = ["0.0.1", "99999"]
    for v in picked:
        out += [v, f"{v}~0", f"{v}+0", f"{v}.1", f"{v}-1", f"{v}a"]
    valid = []
    for v in out:
        try:
            versions.parse(scheme, v)
        except versions.VersionParseError:
            continue
        valid.append(v)
    return valid


def test_fast_path_agrees_with_full_evaluation(db: Path) -> None:
    rnd = random.Random(1)
    fast = full = hits = 0
    caches: dict[str, ParseCache] = {}
    with VulnStore(db) as store:
        for namespace, names in _sample(db).items():
            for name in names:
                statements = [m.affected for m in store.affected(namespace, name)]
                scheme = statements[0].scheme
                for text in _installed_versions(scheme, statements, rnd):
                    installed = versions.parse(scheme, text)
                    cache = caches.setdefault(scheme, {})
                    for a in statements:
                        if a.scheme != scheme:
                            continue
                        expected = evaluate(installed, a)
                        got = evaluate_fast(installed, a, cache)
                        full += 1
                        if got is None:
                            continue
                        fast += 1
                        hits += bool(got.affected)
                        assert got == expected, (namespace, name, text, a)
    # the sample exercises the fast path, with both outcomes
    assert full > 50_000
    assert fast / full > 0.85, (fast, full)
    assert 0.05 < hits / fast < 0.95, (hits, fast)


def test_batched_reads_match_single_reads(db: Path) -> None:
    with VulnStore(db) as store, VulnStore(db) as single:
        for namespace, names in _sample(db).items():
            bodies = store.affected_bodies(namespace, [*names, "no-such-package-x"])
            assert "no-such-package-x" not in bodies
            for name in names:
                matches = [
                    m
                    for m in single.affected(namespace, name)
                    if m.affected.fix_state != "not-affected"
                ]
                rows = bodies.get(name, [])
                assert [_decode(body) for _, _, body in rows] == [m.affected for m in matches]
                heads = store.advisory_heads(rowid for rowid, _, _ in rows)
                for (rowid, _, _), m in zip(rows, matches, strict=True):
                    head, adv = heads[rowid], m.advisory
                    assert (
                        head.id,
                        head.source,
                        head.aliases,
                        head.summary,
                        head.withdrawn,
                        head.malicious,
                        head.severities,
                    ) == (
                        adv.id,
                        adv.source,
                        adv.aliases,
                        adv.summary,
                        adv.withdrawn,
                        adv.malicious,
                        adv.severities,
                    )


def test_upper_bounds_are_exact(db: Path) -> None:
    """At or above a statement's stored ``upper`` the full evaluation says "not affected"."""
    rnd = random.Random(2)
    bounded = total = checked = 0
    with VulnStore(db) as store:
        for namespace, names in _sample(db).items():
            rows = store.affected_bodies(namespace, names)
            for name in names:
                statements = [(upper, _decode(body)) for _, upper, body in rows.get(name, [])]
                if not statements:
                    continue
                scheme = statements[0][1].scheme
                tried = [
                    versions.parse(scheme, v)
                    for v in _installed_versions(scheme, [a for _, a in statements], rnd)
                ]
                for upper, a in statements:
                    total += 1
                    if upper is None:
                        continue
                    bounded += 1
                    bound = versions.parse(a.scheme, upper)
                    for installed in [bound, *tried]:
                        if installed.scheme == a.scheme and installed >= bound:
                            checked += 1
                            ev = evaluate(installed, a)
                            assert ev.affected is False, (namespace, name, installed, upper, a)
    print(f"{bounded} of {total} statements bounded; {checked} evaluations at or above")
    assert total > 4_000 and checked > 10_000
    assert bounded / total > 0.8, (bounded, total)  # the skip applies to most statements
