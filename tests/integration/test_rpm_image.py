"""An rpm-based image built with the real rpm tools, scanned end to end.

Debian's ``rpmbuild`` builds small real packages (epoch, license, vendor, owned files); Debian's
``rpm`` installs them into a root filesystem with its SQLite database, then upgrades one and
adds another in a second step. The two states become two image layers; ``rpm -qa`` on each state
is the ground truth. What is checked: exact NEVRA, source rpm, license, vendor, owned files, and
the origin layer of every package (an upgrade moves a package to the layer that upgraded it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.images.builder import write_image
from tests.images.debian import write_diff_tar, write_tree_tar

from hullscan.cli.main import main

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rpm-image")]

OS_RELEASE = b"""NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
"""

# name, epoch, version, release, license, the file it owns
PACKAGES = {
    "hello-tool": ("2", "1.0", "1.el9", "MIT", "/usr/bin/hello-tool"),
    "libfoo-old": (None, "0.9", "3.el9", "BSD-3-Clause", "/usr/lib64/libfoo.so.0"),
    "libfoo-new": (None, "1.0", "1.el9", "BSD-3-Clause", "/usr/lib64/libfoo.so.0"),
    "bar": (None, "5.2", "7.el9", "GPL-2.0-or-later", "/usr/share/bar/data.txt"),
}
QUERY = "%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\t%{VENDOR}\n"


def _unavailable() -> str | None:
    if shutil.which("rpmbuild") is None or shutil.which("rpm") is None:
        return "needs Debian's rpm (rpmbuild, rpm): make system-deps"
    if os.geteuid() != 0:
        return "rpm --root installs need root"
    return None


def _spec(key: str) -> str:
    epoch, version, release, license_, owned = PACKAGES[key]
    name = key.removesuffix("-old").removesuffix("-new")
    return "\n".join(
        [
            f"Name: {name}",
            *([f"Epoch: {epoch}"] if epoch else []),
            f"Version: {version}",
            f"Release: {release}",
            "Summary: hullscan test package",
            f"License: {license_}",
            "Vendor: Hullscan Test Vendor",
            "BuildArch: noarch",
            "%description",
            "test package",
            "%install",
            f"mkdir -p %{{buildroot}}{os.path.dirname(owned)}",
            f"echo {key} > %{{buildroot}}{owned}",
            "%files",
            owned,
            "",
        ]
    )


def _rpmbuild(work: Path, key: str) -> Path:
    top = work / "rpmbuild"
    spec = work / f"{key}.spec"
    spec.write_text(_spec(key))
    subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {top}", "--quiet", str(spec)],
        check=True,
        capture_output=True,
    )
    _epoch, version, release, _, _ = PACKAGES[key]
    name = key.removesuffix("-old").removesuffix("-new")
    return top / "RPMS" / "noarch" / f"{name}-{version}-{release}.noarch.rpm"


def _rpm(root: Path, *args: str) -> str:
    cmd = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _qa(root: Path) -> set[tuple[str, ...]]:
    return {tuple(line.split("\t")) for line in _rpm(root, "-qa", "--qf", QUERY).splitlines()}


@pytest.fixture(scope="module")
def rpm_image(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("rpm-image")
    rpms = {key: _rpmbuild(work, key) for key in PACKAGES}
    base, app = work / "base", work / "app"
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "os-release").write_bytes(OS_RELEASE)
    _rpm(base, "--initdb")
    flags = ("--nodeps", "--noscripts", "--notriggers")
    _rpm(base, "-i", *flags, str(rpms["hello-tool"]), str(rpms["libfoo-old"]))
    base_qa = _qa(base)
    shutil.copytree(base, app, symlinks=True)
    _rpm(app, "-U", *flags, str(rpms["libfoo-new"]), str(rpms["bar"]))
    app_qa = _qa(app)
    layer0, layer1 = work / "layer0.tar", work / "layer1.tar"
    write_tree_tar(base, layer0)
    write_diff_tar(base, app, layer1)
    history = [
        {"created_by": "rpm -i hello-tool libfoo-0.9"},
        {"created_by": "ENV X=1", "empty_layer": True},
        {"created_by": "rpm -U libfoo-1.0 bar"},
    ]
    image = write_image(work / "image", [layer0, layer1], fmt="oci-dir", history=history)
    return {"image": image, "base_qa": base_qa, "app_qa": app_qa, "work": work}


def _scan(source: str, tmp: Path) -> dict[str, Any]:
    out = tmp / "sbom.json"
    code = main(["sbom", source, "-q", "-f", "json", "-o", str(out), "--cache-dir", str(tmp / "c")])
    assert code == 0
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _rows(sbom: dict[str, Any]) -> set[tuple[str, ...]]:
    rows = set()
    for p in sbom["packages"]:
        if p["type"] != "rpm":
            continue
        meta = p["metadata"]
        epoch = meta.get("epoch")
        source_rpm = meta.get("source_rpm") or "(none)"
        rows.add(
            (
                p["name"],
                "(none)" if epoch is None else str(epoch),
                *p["version"].split(":", 1)[-1].rsplit("-", 1),
                p["arch"],
                source_rpm,
                " ".join(p["licenses"]) or "(none)",
                meta.get("vendor") or "(none)",
            )
        )
    return rows


def test_rpm_packages_equal_rpm_qa(rpm_image: dict[str, Any], tmp_path: Path) -> None:
    sbom = _scan(f"oci-dir:{rpm_image['image']}", tmp_path)
    assert _rows(sbom) == rpm_image["app_qa"]
    assert sbom["distro"]["id"] == "rocky"
    assert sbom["distro"]["version"] == "9.3"


def test_rpm_origin_layers_and_files(rpm_image: dict[str, Any], tmp_path: Path) -> None:
    sbom = _scan(f"oci-dir:{rpm_image['image']}", tmp_path)
    diff_ids = [layer["diff_id"] for layer in sbom["layers"]]
    origin = {}
    for p in sbom["packages"]:
        assert p["layer_diff_id"] == diff_ids[p["layer_index"]]
        origin[p["name"]] = (p["layer_index"], p["created_by"], p["version"], tuple(p["files"]))
    assert origin["hello-tool"][:3] == (0, "rpm -i hello-tool libfoo-0.9", "2:1.0-1.el9")
    # Upgraded in the second layer: that layer brought the version that is in the image.
    assert origin["libfoo"][:3] == (1, "rpm -U libfoo-1.0 bar", "1.0-1.el9")
    assert origin["bar"][:2] == (1, "rpm -U libfoo-1.0 bar")
    assert "usr/bin/hello-tool" in origin["hello-tool"][3]
    assert "usr/lib64/libfoo.so.0" in origin["libfoo"][3]
    assert "usr/share/bar/data.txt" in origin["bar"][3]


def test_rpm_purls(rpm_image: dict[str, Any], tmp_path: Path) -> None:
    from packageurl import PackageURL

    sbom = _scan(f"oci-dir:{rpm_image['image']}", tmp_path)
    purls = {p["name"]: PackageURL.from_string(p["purl"]) for p in sbom["packages"]}
    hello = purls["hello-tool"]
    assert hello.type == "rpm"
    assert hello.name == "hello-tool"
    assert hello.version == "1.0-1.el9"
    assert hello.qualifiers.get("epoch") == "2"
    assert hello.qualifiers.get("arch") == "noarch"
    assert hello.qualifiers.get("distro") == "rocky-9.3"


def test_base_layer_alone_equals_first_state(rpm_image: dict[str, Any], tmp_path: Path) -> None:
    """The base layer on its own (an image of one layer) gives exactly the first rpm -qa."""
    work: Path = rpm_image["work"]
    one = write_image(tmp_path / "one", [work / "layer0.tar"], fmt="docker-archive")
    assert _rows(_scan(f"docker-archive:{one}", tmp_path)) == rpm_image["base_qa"]
