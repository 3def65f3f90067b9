"""``hullscan explain`` and ``--vex`` end to end: the REAL Debian test image against a DB built
(once per module, through the CLI) from ``../shared/vulndata`` (``osv:Debian``).

Ids are taken from the scan's own output or from the DB, never hard-coded to a snapshot
(except the DSA/CVE pair of curl's SOCKS5 bug, checked to be in the DB first).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.images.debian import DebianFixture, debian_image, default_cache_dir
from tests.integration.cli_support import (
    VULNDATA,
    Run,
    Sandbox,
    assert_one_line_error,
    build_debian_db,
    debian_fixture_or_skip,
    run_cli,
)

from hullscan.api import sbom as make_sbom
from hullscan.match.explain import explain
from hullscan.vulndb.store import VulnStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("cli-explain"),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("cli-explain")).make()


@pytest.fixture(scope="module")
def image() -> Path:
    fx: DebianFixture = debian_fixture_or_skip(default_cache_dir())
    return debian_image(fx, default_cache_dir())


@pytest.fixture(scope="module")
def db(sandbox: Sandbox) -> Path:
    return build_debian_db(sandbox)


def cli(sandbox: Sandbox, *args: str | Path) -> Run:
    return run_cli(*args, "-q", "--no-cache", sandbox=sandbox)


@pytest.fixture(scope="module")
def findings(sandbox: Sandbox, image: Path, db: Path) -> list[dict[str, Any]]:
    r = cli(sandbox, "image", image, "--db", db, "-f", "json")
    assert r.returncode == 0, r.describe()
    result: list[dict[str, Any]] = r.json()["result"]["findings"]
    return result


def curl_or_zlib(findings: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        f
        for f in findings
        if f["package"].get("source_name") in ("curl", "zlib") and f.get("compared", True)
    )


# --------------------------------------------------------------------------- explain


def test_explain_matching_id(
    sandbox: Sandbox, image: Path, db: Path, findings: list[dict[str, Any]]
) -> None:
    f = curl_or_zlib(findings)
    r = cli(sandbox, "explain", f["id"], "--image", image, "--db", db, "-f", "json")
    assert r.returncode == 0, r.describe()
    x = r.json()
    assert x["namespace"] == "debian:12" and "'debian'" in x["namespace_reason"]
    pkgs = {p["name"]: p for p in x["packages"]}
    p = pkgs[f["package"]["name"]]
    assert p["looked_up"] == f["package"]["source_name"] and p["name_kind"] == "source"
    assert p["installed_version"] == f["package"]["source_version"]
    assert p["verdict"] == "affected"
    assert p["finding"] == f  # the same finding the scan reports (group, severity, KEV, EPSS)
    assert any(s["verdict"] == "affected" for s in p["statements"])
    for s in p["statements"]:
        for rng in s.get("ranges", []):
            for e in rng["events"]:
                assert e.get("cmp") in (None, -1, 0, 1)
    # every package the scan reports under this id is explained as affected
    reported = {g["package"]["name"] for g in findings if g["id"] == f["id"]}
    assert reported <= {n for n, q in pkgs.items() if q["verdict"] == "affected"}
    t = cli(
        sandbox, "explain", f["id"], "--image", image, "--db", db, "--package", f["package"]["name"]
    )
    assert t.returncode == 0, t.describe()
    assert "Namespace: debian:12" in t.stdout and "verdict: affected" in t.stdout
    assert f"severity: {f['severity_rating']}" in t.stdout


def test_explain_id_not_for_this_image(sandbox: Sandbox, image: Path, db: Path) -> None:
    with VulnStore(db) as store:
        doc = make_sbom(str(image))
        names = {p.source_name or p.name for p in doc.packages}
        candidates = store._db.execute(
            "SELECT a.id, f.package FROM affected f JOIN advisories a ON a.rowid = f.advisory "
            "WHERE f.namespace = 'debian:12' AND a.id LIKE 'CVE-%' ORDER BY a.id LIMIT 2000"
        ).fetchall()
        by_id: dict[str, set[str]] = {}
        for i, pkg in candidates:
            by_id.setdefault(i, set()).add(pkg)
        by_id.pop(candidates[-1][0], None)  # possibly cut by the LIMIT
        row = next(((i, min(p)) for i, p in by_id.items() if not p & names), None)
        assert row is not None
        direct = explain(doc, store, row[0])
    assert direct.packages == ()
    assert f"no package named {row[1]} in namespace debian:12" in direct.reasons
    r = cli(sandbox, "explain", row[0], "--image", image, "--db", db)
    assert r.returncode == 0, r.describe()
    assert "No package in" in r.stdout
    assert f"no package named {row[1]} in namespace debian:12" in r.stdout


def test_explain_unknown_id_is_one_line_exit_2(sandbox: Sandbox, image: Path, db: Path) -> None:
    r = cli(sandbox, "explain", "CVE-1999-99999999", "--image", image, "--db", db)
    assert_one_line_error(r, 2, "CVE-1999-99999999", "no advisory")


def test_explain_dsa_resolves(sandbox: Sandbox, image: Path, db: Path) -> None:
    with VulnStore(db) as store:
        dsa = store.advisory("DSA-5523-1")
    if dsa is None:
        pytest.skip("DSA-5523-1 not in this data snapshot")
    r = cli(sandbox, "explain", "dsa-5523-1", "--image", image, "--db", db, "-f", "json")
    assert r.returncode == 0, r.describe()
    x = r.json()
    assert x["ids"] == ["DSA-5523-1"] and "CVE-2023-38545" in x["related"]
    curl = next(p for p in x["packages"] if p["name"] == "curl")
    assert curl["looked_up"] == "curl" and curl["statements"][0]["advisory_id"] == "DSA-5523-1"
    if curl["verdict"] == "not-affected":
        assert "at or above fixed" in curl["reason"]


def test_explain_sbom_input(
    sandbox: Sandbox, image: Path, db: Path, findings: list[dict[str, Any]], tmp_path: Path
) -> None:
    f = curl_or_zlib(findings)
    sb = tmp_path / "sbom.json"
    r = cli(sandbox, "sbom", image, "-f", "json", "-o", sb)
    assert r.returncode == 0, r.describe()
    e = cli(sandbox, "explain", f["id"], "--sbom", sb, "--db", db, "-f", "json")
    assert e.returncode == 0, e.describe()
    assert any(p["verdict"] == "affected" for p in e.json()["packages"])


# --------------------------------------------------------------------------- --vex


def test_vex_suppresses_on_image(
    sandbox: Sandbox, image: Path, db: Path, findings: list[dict[str, Any]], tmp_path: Path
) -> None:
    f = curl_or_zlib(findings)
    name, purl = f["package"]["name"], f["package"]["purl"]
    bare = purl.split("@", 1)[0]
    openvex = tmp_path / "a.openvex.json"
    openvex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "statements": [
                    {
                        "vulnerability": {"name": f["id"]},
                        "products": [{"@id": bare}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    r = cli(
        sandbox, "image", image, "--db", db, "-f", "json", "--vex", openvex, "--show-suppressed"
    )
    assert r.returncode == 0, r.describe()
    res = r.json()["result"]
    hidden = [g for g in findings if g["id"] == f["id"] and g["package"]["name"] == name]
    assert [s["finding"] for s in res["suppressed"]] == hidden
    assert all(
        s["by"] == "vex" and "vulnerable_code_not_in_execute_path" in s["reason"]
        for s in res["suppressed"]
    )
    assert len(res["findings"]) == len(findings) - len(hidden)
    # the real Ubuntu OpenVEX names ubuntu purls: nothing in a Debian image is suppressed
    ubuntu = VULNDATA / "samples" / "ubuntu-vex" / "cve" / "2023" / "CVE-2023-38545.json"
    if ubuntu.is_file():
        u = cli(
            sandbox, "image", image, "--db", db, "-f", "json", "--vex", ubuntu, "--vex", openvex
        )
        assert u.returncode == 0, u.describe()
        assert u.json()["result"]["suppressed_count"] == len(hidden)


def test_bad_vex_is_one_line_exit_2(
    sandbox: Sandbox, image: Path, db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"bomFormat": "CycloneDX", "vulnerabilities": "x"}')
    r = cli(sandbox, "image", image, "--db", db, "--vex", bad)
    assert_one_line_error(r, 2, "--vex", "bad.json")
