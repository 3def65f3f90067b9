"""``hullscan db info|sources|export|import`` through the CLI on a small real build."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hullscan.vulndb.schema import SCHEMA_VERSION

pytestmark = [pytest.mark.integration, pytest.mark.needs_shared]

VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"


def _hullscan(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    if env_db is not None:
        env["HULLSCAN_DB"] = str(env_db)
    return subprocess.run(
        [sys.executable, "-m", "hullscan", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (VULNDATA / "MANIFEST.md").is_file():
        pytest.skip(f"shared vulnerability data absent: {VULNDATA}")
    out = tmp_path_factory.mktemp("db") / "vuln.sqlite"
    run = _hullscan(
        "db", "build", "--from", str(VULNDATA), "-o", str(out),
        "--source", "osv:NuGet", "--source", "alpine-secdb", "--source", "kev",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "alpine-secdb: 74264 records, 4 unusable" in run.stderr
    return out


def test_info_lists_sources_counts_and_issues(small_db: Path) -> None:
    run = _hullscan("db", "info", "--issues", env_db=small_db)  # the DB via HULLSCAN_DB
    assert run.returncode == 0, run.stderr
    assert f"schema version: {SCHEMA_VERSION}" in run.stdout
    assert "osv:NuGet" in run.stdout and "alpine-secdb" in run.stdout
    assert "CVE-46838" in run.stdout  # one of the four unusable secdb entries, listed
    assert run.stderr == ""  # fresh: no age warning


def test_info_warns_when_old(small_db: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    old.write_bytes(small_db.read_bytes())
    con = sqlite3.connect(old)
    con.execute("UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key = 'built_at'")
    con.commit()
    con.close()
    run = _hullscan("db", "info", "--db", str(old), "--max-age-days", "30")
    assert run.returncode == 0
    assert "warning: the DB is" in run.stderr and "days old" in run.stderr


def test_missing_and_foreign_db_are_one_line_errors(tmp_path: Path) -> None:
    run = _hullscan("db", "info", "--db", str(tmp_path / "absent.sqlite"))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "no vulnerability DB here" in run.stderr
    junk = tmp_path / "junk.sqlite"
    junk.write_text("hello")
    run = _hullscan("db", "import", str(junk), "--db", str(tmp_path / "db.sqlite"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert not (tmp_path / "db.sqlite").exists()


def test_sources_lists_every_source() -> None:
    run = _hullscan("db", "sources")
    assert run.returncode == 0
    names = {line.split("\t")[0] for line in run.stdout.splitlines()}
    assert {"osv:Debian", "debian-tracker", "redhat-api", "ubuntu-uct", "kev", "epss"} <= names


def test_export_import_via_cli(small_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "db.export"
    assert _hullscan("db", "export", "--db", str(small_db), "-o", str(archive)).returncode == 0
    dest = tmp_path / "host.sqlite"
    run = _hullscan("db", "import", str(archive), "--db", str(dest))
    assert run.returncode == 0, run.stderr
    a = sqlite3.connect(small_db).execute("SELECT count(*) FROM affected").fetchone()
    b = sqlite3.connect(dest).execute("SELECT count(*) FROM affected").fetchone()
    assert a == b
