"""``hullscan db build`` over everything in ../shared/vulndata, through the CLI.

One build per module (about a minute); then lookups the matcher will do, per namespace, on
facts read from the upstream data, and the export/import round trip.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hullscan.cli.main import main
from hullscan.vulndb.store import VulnStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("db-build-shared"),
]

VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (VULNDATA / "MANIFEST.md").is_file():
        pytest.skip(f"shared vulnerability data absent: {VULNDATA}")
    out = tmp_path_factory.mktemp("db") / "vuln.sqlite"
    assert main(["db", "build", "--from", str(VULNDATA), "-o", str(out), "-q"]) == 0
    return out


def test_every_source_contributes(db: Path) -> None:
    with VulnStore(db) as store:
        sources = {s.name: s for s in store.sources()}
    # Every source has files in shared/vulndata except those only 'db update' downloads.
    live_only = {"epss-csv", "osv:AlmaLinux", "osv:Ubuntu", "osv:Wolfi", "osv:Chainguard"}
    assert {name for name, s in sources.items() if s.path is None} == live_only
    for name, s in sources.items():
        if name not in live_only:
            assert s.records > 0, name
    # Unusable records are real data faults, counted (see the feed tests for each one).
    assert sources["alpine-secdb"].issues == 4
    assert sources["ubuntu-uct"].issues == 9
    assert sum(s.issues for s in sources.values()) <= 20


def _fixed(store: VulnStore, namespace: str, package: str, adv_id: str) -> set[str | None]:
    return {
        m.affected.fixed_version
        for m in store.affected(namespace, package)
        if m.advisory.id == adv_id
    }


def test_distro_lookups(db: Path) -> None:
    with VulnStore(db) as store:
        # Log4Shell: Debian (OSV bundle), Ubuntu (UCT), Red Hat, in each one's namespace.
        debian = store.affected("debian:11", "apache-log4j2")
        assert any(m.advisory.id == "CVE-2021-44228" for m in debian)
        ubuntu = store.affected("ubuntu:20.04", "apache-log4j2")
        assert any(m.advisory.id == "CVE-2021-44228" for m in ubuntu)
        # Alpine secdb: openssl fixes per branch.
        assert store.affected("alpine:3.16", "openssl")
        # Red Hat: openssl in rhel:9 with a fixed EVR.
        rhel = store.affected("rhel:9", "openssl")
        assert any(m.affected.fix_state == "fixed" and m.affected.fixed_version for m in rhel)
        # The same CVE from two publishers is two statements, not one overwriting the other.
        publishers = {a.source for a in store.advisories("CVE-2021-44228")}
        assert len(publishers) >= 2


def test_language_lookups(db: Path) -> None:
    with VulnStore(db) as store:
        log4j = store.affected("maven", "org.apache.logging.log4j:log4j-core")
        ids = {m.advisory.id for m in log4j}
        assert "GHSA-jfh8-c2jp-5v3q" in ids  # Log4Shell's GHSA
        assert _fixed(store, "pypi", "django", "PYSEC-2022-1") is not None
        malicious = [m for m in store.affected("npm", "eslint-scope") if m.advisory.malicious]
        assert all(m.advisory.id.startswith("MAL-") for m in malicious)
        # Withdrawn GO records keep their withdrawal even where the bundle copy lost it.
        withdrawn = sqlite3.connect(db).execute(
            "SELECT count(*) FROM advisories WHERE id LIKE 'GO-%' AND withdrawn IS NOT NULL"
        )
        assert withdrawn.fetchone()[0] >= 17


def test_enrichment(db: Path) -> None:
    with VulnStore(db) as store:
        kev = store.kev("CVE-2021-44228")
        assert kev is not None and kev.date_added == "2021-12-10"
        epss = store.epss("CVE-2021-44228")
        assert epss is not None and epss.epss > 0.9
        assert store.cve_severities("CVE-2024-3400")
        (debian10,) = store.support("debian:10")
        assert debian10.eol == "2022-09-10"


def test_export_import_round_trip(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "db.export"
    assert main(["db", "export", "--db", str(db), "-o", str(archive)]) == 0
    assert archive.stat().st_size <= 40 * 1024 * 1024
    copy = tmp_path / "copy.sqlite"
    assert main(["db", "import", str(archive), "--db", str(copy)]) == 0
    with VulnStore(db) as a, VulnStore(copy) as b:
        assert a.counts() == b.counts()
        assert a.affected("debian:12", "openssl") == b.affected("debian:12", "openssl")
