"""``hullscan image|rootfs|sbom-scan`` end to end: the REAL Debian test image against a DB built
(once per module, through the CLI) from ``../shared/vulndata``.

Expectations are computed from the scan's own JSON output or from ``match_sbom`` in-process,
never hard-coded: the data and the fixture are snapshots that move.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.images.builder import write_image
from tests.images.debian import DebianFixture, debian_image, default_cache_dir
from tests.integration.cli_support import (
    Run,
    Sandbox,
    assert_one_line_error,
    build_debian_db,
    debian_fixture_or_skip,
    run_cli,
)
from tests.unit.tarmaker import make_tar

from hullscan.api import sbom as make_sbom
from hullscan.match import match_sbom
from hullscan.vulndb.store import VulnStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.xdist_group("cli-image"),
]

RANK = {"unknown": 0, "negligible": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("cli-image")).make()


@pytest.fixture(scope="module")
def fx() -> DebianFixture:
    return debian_fixture_or_skip(default_cache_dir())


@pytest.fixture(scope="module")
def image(fx: DebianFixture) -> Path:
    return debian_image(fx, default_cache_dir())


@pytest.fixture(scope="module")
def db(sandbox: Sandbox) -> Path:
    return build_debian_db(sandbox)


def scan(sandbox: Sandbox, *args: str | Path) -> Run:
    return run_cli(*args, "-q", "--no-cache", sandbox=sandbox)


@pytest.fixture(scope="module")
def image_json(sandbox: Sandbox, image: Path, db: Path) -> dict[str, Any]:
    r = scan(sandbox, "image", image, "--db", db, "-f", "json")
    doc: dict[str, Any] = r.json()
    assert doc["schema_version"] == 1
    return doc["result"]


def finding_keys(result: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["id"], f["package"]["name"], f["package"]["version"]) for f in result["findings"]}


def gate(findings: list[dict[str, Any]], threshold: str) -> int:
    t = RANK[threshold]
    hit = any(
        f.get("malicious") or RANK[f.get("severity_rating", "unknown")] >= t for f in findings
    )
    return 1 if hit else 0


# --------------------------------------------------------------------------- image


def test_findings_equal_match_sbom(image_json: dict[str, Any], image: Path, db: Path) -> None:
    with VulnStore(db) as store:
        expected = match_sbom(make_sbom(str(image)), store)
    assert image_json["findings"] == json.loads(msgspec.json.encode(expected.findings))
    assert image_json["package_count"] > 0 and image_json["findings"]
    assert image_json["namespace"] == "debian:12"
    summary = image_json["layer_summary"]
    assert summary["rule"] == "first-layer" and summary["base_layers"] == [0]
    assert summary["base_findings"] + summary["app_findings"] == len(image_json["findings"])
    per_layer = {lf["index"]: lf.get("findings", 0) for lf in summary["layers"]}
    for index, count in per_layer.items():
        assert count == sum(
            1 for f in image_json["findings"] if f["package"]["layer_index"] == index
        )


def test_table_output(sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any]) -> None:
    r = scan(sandbox, "image", image, "--db", db)
    assert r.returncode == 0, r.describe()
    out = r.stdout
    assert "debian:12 (OS packages)" in out and "Remediation" in out and "Layers:" in out
    for f in image_json["findings"]:
        assert f["id"] in out
    for w in image_json.get("warnings", []):
        assert out.index("warning: " + w[:40]) < out.index("debian:12 (OS packages)")
    assert f"{len(image_json['findings'])} findings" in out
    assert "\x1b[" not in out


@pytest.mark.parametrize("threshold", ["critical", "high", "low"])
def test_fail_on(
    sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any], threshold: str
) -> None:
    r = scan(sandbox, "image", image, "--db", db, "-f", "json", "--fail-on", threshold)
    assert r.returncode == gate(image_json["findings"], threshold), r.describe()
    assert json.loads(r.stdout)["result"]["findings"] == image_json["findings"]


def test_ignore_unfixed(
    sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any]
) -> None:
    r = scan(
        sandbox, "image", image, "--db", db, "-f", "json", "--ignore-unfixed", "--show-suppressed"
    )
    res = json.loads(r.stdout)["result"]
    fixed = [
        f for f in image_json["findings"] if f["fix_state"] == "fixed" and f.get("fixed_version")
    ]
    assert res.get("findings", []) == fixed
    unfixed = [f for f in image_json["findings"] if f not in fixed]
    assert [s["finding"] for s in res.get("suppressed", [])] == unfixed
    assert {s["by"] for s in res.get("suppressed", [])} <= {"unfixed"}


def test_exit_code_with_severity(
    sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any]
) -> None:
    r = scan(
        sandbox, "image", image, "--db", db, "-f", "json", "--exit-code", "5", "--severity", "HIGH"
    )
    high = [f for f in image_json["findings"] if f.get("severity_rating") == "high"]
    assert r.returncode == (5 if high else 0), r.describe()
    assert json.loads(r.stdout)["result"].get("findings", []) == high


def test_ignorefile(sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any]) -> None:
    findings = image_json["findings"]
    by_id = findings[0]["id"]
    purl_pkg = next(f["package"] for f in findings if f["id"] != by_id)
    glob_name = next(
        f["package"]["name"] for f in findings if f["package"]["name"].startswith("lib")
    )
    expired = next(
        f["id"]
        for f in findings
        if f["id"] != by_id
        and f["package"]["purl"] != purl_pkg["purl"]
        and not f["package"]["name"].startswith(glob_name[:5])
    )
    ignore = sandbox.root / "ignore.yaml"
    ignore.write_text(
        "ignore:\n"
        f"  - id: {by_id}\n    reason: accepted risk\n    expires: 2999-01-01\n"
        f'  - purl: "{purl_pkg["purl"].split("@")[0]}@*"\n'
        f'  - package: "{glob_name[:5]}*"\n'
        f"  - id: {expired}\n    expires: 2000-01-01\n"
    )
    r = run_cli(
        "image",
        image,
        "--db",
        db,
        "-f",
        "json",
        "--no-cache",
        "--ignorefile",
        ignore,
        "--show-suppressed",
        sandbox=sandbox,
    )
    assert r.returncode == 0, r.describe()
    res = json.loads(r.stdout)["result"]

    def ignored(f: dict[str, Any]) -> bool:
        return (
            f["id"] == by_id
            or f["package"]["purl"].split("@")[0] == purl_pkg["purl"].split("@")[0]
            or f["package"]["name"].startswith(glob_name[:5])
            or (f["package"].get("source_name") or "").startswith(glob_name[:5])
        )

    assert res["findings"] == [f for f in findings if not ignored(f)]
    assert [s["finding"] for s in res["suppressed"]] == [f for f in findings if ignored(f)]
    assert any(f["id"] == expired for f in res["findings"])  # expired: no longer suppresses
    assert "expired on 2000-01-01" in r.stderr and "entry 4" in r.stderr
    assert (
        next(s for s in res["suppressed"] if s["finding"]["id"] == by_id)["reason"]
        == "accepted risk"
    )
    # the table hides the suppressed list without --show-suppressed, but counts them
    t = run_cli(
        "image", image, "--db", db, "--no-cache", "-q", "--ignorefile", ignore, sandbox=sandbox
    )
    assert "Suppressed (" not in t.stdout and f"{len(res['suppressed'])} suppressed" in t.stdout


# --------------------------------------------------------------------------- rootfs, sbom-scan


def test_rootfs(sandbox: Sandbox, fx: DebianFixture, db: Path, image_json: dict[str, Any]) -> None:
    r = scan(sandbox, "rootfs", fx.app_root, "--db", db, "-f", "json")
    res = r.json()["result"]
    assert finding_keys(res) == finding_keys(image_json)
    assert res["layer_summary"].get("app_findings", 0) == 0  # one layer: all base


def test_sbom_scan_of_own_json_equals_image_scan(
    sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any]
) -> None:
    sbom = sandbox.root / "sbom.json"
    r = scan(sandbox, "sbom", image, "-f", "json", "-o", sbom)
    assert r.returncode == 0, r.describe()
    res = scan(sandbox, "sbom-scan", sbom, "--db", db, "-f", "json").json()["result"]
    assert res["findings"] == image_json["findings"]
    assert res["remediations"] == image_json["remediations"]
    assert res["layer_summary"] == image_json["layer_summary"]


def test_sbom_scan_cyclonedx_round_trip(
    sandbox: Sandbox, image: Path, db: Path, image_json: dict[str, Any]
) -> None:
    cdx = sandbox.root / "sbom.cdx.json"
    r = scan(sandbox, "sbom", image, "-f", "cyclonedx", "-o", cdx)
    assert r.returncode == 0, r.describe()
    res = scan(sandbox, "sbom-scan", cdx, "--db", db, "-f", "json").json()["result"]
    assert finding_keys(res) == finding_keys(image_json)


def test_foreign_cyclonedx_without_purls_warns(sandbox: Sandbox, db: Path) -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": "openssl", "version": "3.0.2"},
            {"type": "library", "name": "zlib", "version": "1.2.11"},
        ],
    }
    path = sandbox.root / "foreign.cdx.json"
    path.write_text(json.dumps(doc))
    r = run_cli("sbom-scan", path, "--db", db, sandbox=sandbox)
    line = assert_one_line_error(r, 2, "nothing could be scanned", "without a purl")
    assert "--allow-empty" in line
    ok = run_cli("sbom-scan", path, "--db", db, "--allow-empty", "-f", "json", sandbox=sandbox)
    assert ok.returncode == 0, ok.describe()
    assert "2 CycloneDX component(s) without a purl were skipped" in ok.stderr
    assert any("without a purl" in w for w in json.loads(ok.stdout)["result"]["warnings"])
    # a mix: what has a purl is scanned; what has none is named in a warning
    doc["components"].append(
        {"type": "library", "name": "x", "version": "1", "purl": "pkg:generic/x@1"}
    )
    path.write_text(json.dumps(doc))
    mixed = run_cli("sbom-scan", path, "--db", db, "-f", "json", sandbox=sandbox)
    assert mixed.returncode == 0, mixed.describe()
    assert "without a purl were skipped" in mixed.stderr
    assert "could not be matched" in mixed.stderr and "x@1" in mixed.stderr


@functools.cache
def dpkg_gt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b], check=False).returncode == 0


def test_remediation_lowest_fixing_version(sandbox: Sandbox, image: Path, db: Path) -> None:
    """Old source versions (a doctored SBOM) give fixed findings; the remediation's version is
    the max of the package's fixed versions under the real dpkg --compare-versions."""
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed")
    sbom = sandbox.root / "old.json"
    r = scan(sandbox, "sbom", image, "-f", "json", "-o", sbom)
    assert r.returncode == 0, r.describe()
    doc = json.loads(sbom.read_text())
    for p in doc["packages"]:
        if p.get("source_name") in ("curl", "openssl", "glibc"):
            p["source_version"] = "0.1-1"
    sbom.write_text(json.dumps(doc))
    res = scan(sandbox, "sbom-scan", sbom, "--db", db, "-f", "json", "--ignore-unfixed").json()[
        "result"
    ]
    checked = 0
    for rem in res["remediations"]:
        fixes = [
            f["fixed_version"]
            for f in res["findings"]
            if f["package"]["id"] == rem["package"]["id"]
        ]
        assert fixes and rem["fixed_version"] in fixes
        assert not any(dpkg_gt(v, rem["fixed_version"]) for v in fixes)
        assert rem["command"] == f"apt-get install --only-upgrade {rem['package']['name']}"
        checked += len(set(fixes)) > 1
    assert checked > 0, "no package with several distinct fixed versions"
    # without --ignore-unfixed a package that also has unfixed findings has no version
    full = scan(sandbox, "sbom-scan", sbom, "--db", db, "-f", "json").json()["result"]
    for rem in full["remediations"]:
        fs = [f for f in full["findings"] if f["package"]["id"] == rem["package"]["id"]]
        if any(f["fix_state"] != "fixed" for f in fs):
            assert rem.get("fixed_version") is None and rem.get("unfixed")


# --------------------------------------------------------------------------- errors


def test_missing_db_is_one_line_exit_2(sandbox: Sandbox, image: Path) -> None:
    r = run_cli("image", image, "--db", sandbox.root / "nope.sqlite", sandbox=sandbox)
    assert_one_line_error(r, 2, "nope.sqlite", "no vulnerability db")


def test_empty_image_exit_2(sandbox: Sandbox, db: Path, tmp_path: Path) -> None:
    layer = make_tar([("etc", None, "dir"), ("etc/hello.txt", "hi", "file")])
    img = write_image(tmp_path / "empty.tar", [layer], fmt="docker-archive")
    r = run_cli("image", img, "--db", db, "--no-cache", sandbox=sandbox)
    assert_one_line_error(r, 2, "nothing could be scanned")
    ok = run_cli(
        "image", img, "--db", db, "--no-cache", "--allow-empty", "-f", "json", sandbox=sandbox
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["result"].get("findings", []) == []
    empty_dir = tmp_path / "rootfs"
    empty_dir.mkdir()
    assert_one_line_error(
        run_cli("rootfs", empty_dir, "--db", db, sandbox=sandbox), 2, "nothing could be scanned"
    )
