"""Real package databases from ../shared, put into images and scanned through the CLI.

The unit tests check each reader on the bare files; these check the whole path (image → layer
stream → walk → cache → squash → SBOM) finds the same packages at every database location a
distro uses, against the ground truth written by the real tools (``rpm -qa``) or the source
project's expectations (MANIFEST.md).
"""

from __future__ import annotations

import csv
import json
import lzma
from pathlib import Path
from typing import Any

import pytest
from tests.images.builder import Entry, layer_tar, write_image

from hullscan.cli.main import main

pytestmark = [pytest.mark.integration, pytest.mark.needs_shared]

PKGDB = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "pkgdb"


def _fixture(*parts: str) -> Path:
    path = PKGDB.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture absent: {path} (needs ../shared/fixtures/pkgdb)")
    return path


def _bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return lzma.decompress(data) if path.suffix == ".xz" else data


def _scan(image: Path, tmp: Path) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)  # -o needs an existing directory
    out = tmp / "sbom.json"
    code = main(
        ["sbom", str(image), "-q", "-f", "json", "-o", str(out), "--cache-dir", str(tmp / "c")]
    )
    assert code == 0
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _rpm_qa(path: Path) -> set[tuple[str, str, str, str]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {
        (
            r["NAME"],
            "" if r["EPOCH"] == "(none)" else r["EPOCH"],
            f"{r['VERSION']}-{r['RELEASE']}",
            r["ARCH"],
        )
        for r in rows
        if r["NAME"] != "gpg-pubkey"
    }


def _rpm_rows(sbom: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    out = set()
    for p in sbom["packages"]:
        assert p["type"] == "rpm"
        epoch, _, vr = p["version"].rpartition(":")
        out.add((p["name"], epoch, vr, p["arch"]))
    return out


RPM_CASES = [
    # fixture folder, database file, where the distro keeps it, os-release sample, distro id
    ("centos-7-bdb-plain", "Packages.xz", "var/lib/rpm/Packages", "centos-7", "centos"),
    ("centos-8-bdb-modularitylabel", "Packages.xz", "var/lib/rpm/Packages", "centos-8", "centos"),
    ("rhel-8.0-bdb-ubi", "Packages.xz", "var/lib/rpm/Packages", "rhel-9.4", "rhel"),
    (
        "cbl-mariner-2.0-sqlite",
        "rpmdb.sqlite",
        "var/lib/rpm/rpmdb.sqlite",
        "mariner-2.0",
        "mariner",
    ),
    (
        "rhel-8.0-sqlite-DERIVED-from-bdb",
        "rpmdb.sqlite.xz",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        "rhel-9.4",
        "rhel",
    ),
]


@pytest.mark.parametrize(("folder", "db", "dest", "osrel", "distro_id"), RPM_CASES)
def test_rpm_database_in_an_image(
    folder: str, db: str, dest: str, osrel: str, distro_id: str, tmp_path: Path
) -> None:
    base = _fixture("rpm", folder)
    sample = _fixture("os-release", osrel)
    release_files = [
        Entry(p.relative_to(sample).as_posix(), p.read_bytes())
        for p in sorted(sample.rglob("*"))
        if p.is_file()
    ]
    layer = layer_tar([*release_files, Entry(dest, _bytes(base / db))])
    image = write_image(tmp_path / "img.tar", [layer], fmt="docker-archive", compression="zstd")
    sbom = _scan(image, tmp_path)
    assert sbom["distro"]["id"] == distro_id
    assert _rpm_rows(sbom) == _rpm_qa(base / "expected-rpm-qa.tsv")
    for p in sbom["packages"]:
        assert p["locations"][0]["path"] == dest
        assert p["purl"].startswith("pkg:rpm/")


def test_ndb_database_in_an_image(tmp_path: Path) -> None:
    """SLE 15 keeps an NDB Packages.db under usr/lib/sysimage/rpm (go-rpmdb's list is the truth)."""
    base = _fixture("rpm", "sle-15-ndb-bci")
    expected = json.loads((base / "expected-source.json").read_text())
    os_release = _fixture("os-release", "sles-15.3", "etc", "os-release").read_bytes()
    layer = layer_tar(
        [
            Entry("etc/os-release", os_release),
            Entry("usr/lib/sysimage/rpm/Packages.db", (base / "Packages.db").read_bytes()),
        ]
    )
    image = write_image(tmp_path / "oci", [layer], fmt="oci-dir")
    sbom = _scan(image, tmp_path)
    want = {
        (
            p["name"],
            "" if p["epoch"] in (None, 0) else str(p["epoch"]),
            f"{p['version']}-{p['release']}",
            p["arch"],
        )
        for p in expected["packages"]
        if p["name"] != "gpg-pubkey"
    }
    assert len(want) == expected["count"] == 35
    assert _rpm_rows(sbom) == want
    assert sbom["distro"]["id"] == "sles"


def test_rpm_database_deleted_in_a_later_layer(tmp_path: Path) -> None:
    base = _fixture("rpm", "rhel-8-bdb-libuuid")
    first = layer_tar([Entry("var/lib/rpm/Packages", (base / "Packages").read_bytes())])
    second = layer_tar([Entry("var/lib/rpm/Packages", kind="whiteout")])
    image = write_image(tmp_path / "oci", [first], fmt="oci-dir")
    assert [p["name"] for p in _scan(image, tmp_path / "a")["packages"]] == ["libuuid"]
    image2 = write_image(tmp_path / "oci2", [first, second], fmt="oci-dir")
    assert _scan(image2, tmp_path / "b")["packages"] == []


def test_alpine_layer(tmp_path: Path) -> None:
    """A real Alpine 3.16.1 layer (scancode's): 14 packages, origin, license, owned files."""
    root = _fixture("apk", "alpine-3.16.1-layer")
    entries = [
        Entry(p.relative_to(root).as_posix(), p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]
    image = write_image(tmp_path / "img.tar", [layer_tar(entries)], fmt="oci-archive")
    sbom = _scan(image, tmp_path)
    assert sbom["distro"]["id"] == "alpine"
    assert sbom["distro"]["version"] == "3.16.1"
    pkgs = {p["name"]: p for p in sbom["packages"]}
    assert len(pkgs) == 14
    expected = {
        "alpine-baselayout-data": "3.2.0-r22",
        "musl": "1.2.3-r0",
        "busybox": "1.35.0-r15",
        "ca-certificates-bundle": "20211220-r0",
        "libcrypto1.1": "1.1.1q-r0",
        "apk-tools": "2.12.9-r3",
        "libc-utils": "0.7.2-r3",
    }
    for name, version in expected.items():
        assert pkgs[name]["version"] == version
        assert pkgs[name]["purl"].startswith(f"pkg:apk/alpine/{name}@{version}?")
        assert "distro=alpine-3.16.1" in pkgs[name]["purl"]
    # origin (source package) and owned files come straight from the database
    assert pkgs["libcrypto1.1"]["source_name"] == "openssl"
    assert pkgs["busybox"]["licenses"] == ["GPL-2.0-only"]
    assert "bin/busybox" in pkgs["busybox"]["files"]
