"""The real Debian bookworm fixture (tests/images/debian.py) builds and its ground truth is sane.

This checks the fixture, not hullscan: package counts per dpkg-query, that layer 2 over layer 1
reproduces the final rootfs exactly (names, types, whiteouts), and the whiteout format.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from tests.images.debian import (
    DebianFixture,
    FixtureUnavailable,
    build_debian_fixture,
    debian_image,
    default_cache_dir,
    diff_trees,
    read_dpkg,
    write_diff_tar,
    write_tree_tar,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+( \([^ ()]+\))?$")


@pytest.fixture(scope="module")
def fx() -> DebianFixture:
    try:
        return build_debian_fixture(default_cache_dir())
    except FixtureUnavailable as e:
        pytest.skip(f"Debian fixture not cached and cannot be built here: {e}")


def _members(layer: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(layer) as tar:
        return tar.getmembers()


def _tree(root: Path) -> dict[str, str]:
    """relpath -> type letter for everything under root (lstat)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = _kind(os.lstat(p).st_mode)
    return out


def _kind(mode: int) -> str:
    for test, letter in (
        (stat.S_ISDIR, "d"),
        (stat.S_ISREG, "f"),
        (stat.S_ISLNK, "l"),
        (stat.S_ISCHR, "c"),
        (stat.S_ISBLK, "b"),
        (stat.S_ISFIFO, "p"),
    ):
        if test(mode):
            return letter
    return "?"


def _member_kind(m: tarfile.TarInfo) -> str:
    if m.isdir():
        return "d"
    if m.issym():
        return "l"
    if m.ischr():
        return "c"
    if m.isblk():
        return "b"
    if m.isfifo():
        return "p"
    return "f"  # regular files and hard links


def _apply(tree: dict[str, str], members: list[tarfile.TarInfo]) -> dict[str, str]:
    """Apply one layer to a name->kind tree the way an OCI runtime would."""
    out = dict(tree)
    for m in members:
        name = m.name.rstrip("/")
        parent, _, base = name.rpartition("/")
        if base.startswith(".wh."):
            gone = f"{parent}/{base[4:]}" if parent else base[4:]
            for k in [k for k in out if k == gone or k.startswith(gone + "/")]:
                del out[k]
            continue
        kind = _member_kind(m)
        if name in out and (out[name] == "d") != (kind == "d"):
            for k in [k for k in out if k.startswith(name + "/")]:
                del out[k]
        out[name] = kind
    return out


def test_fixture_builds_or_is_cached(fx: DebianFixture) -> None:
    for p in (fx.base_root, fx.app_root):
        assert (p / "var/lib/dpkg/status").is_file()
    for p in (fx.base_layer, fx.app_layer):
        assert p.is_file() and p.stat().st_size > 0
    assert fx.base_layer.stat().st_size > fx.app_layer.stat().st_size
    t0 = time.monotonic()
    again = build_debian_fixture(default_cache_dir())
    assert time.monotonic() - t0 < 5, "a cached fixture must load fast"
    assert again == fx


def test_base_ground_truth(fx: DebianFixture) -> None:
    names = {n for n, _, _ in fx.expected_base}
    assert 75 <= len(fx.expected_base) <= 110, len(fx.expected_base)
    assert {"dpkg", "libc6", "apt", "base-files", "bash", "coreutils"} <= names
    assert "curl" not in names
    assert len(names) == len(fx.expected_base), "one arch per package expected"
    host_arch = (
        subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=False
        ).stdout.strip()
        or "amd64"
    )
    for name, version, arch in fx.expected_base:
        assert version and arch in (host_arch, "all"), (name, version, arch)
    libc = {n: v for n, v, _ in fx.expected_base}["libc6"]
    assert libc.startswith("2.36-"), libc


def test_app_ground_truth(fx: DebianFixture) -> None:
    base = {n: v for n, v, _ in fx.expected_base}
    app = {n: v for n, v, _ in fx.expected_app}
    assert {"curl", "libcurl4", "ca-certificates", "libsqlite3-0", "openssl"} <= set(app)
    assert set(base) < set(app)
    for name, version in base.items():
        assert app[name] == version, f"step 2 changed {name}"
    assert set(fx.expected_app_sources) == set(app)
    for name, src in fx.expected_app_sources.items():
        assert SOURCE_RE.match(src), (name, src)
    assert fx.expected_app_sources["curl"] == "curl"
    assert fx.expected_app_sources["libcurl4"].split(" ")[0] == "curl"
    assert fx.expected_app_sources["libsqlite3-0"].split(" ")[0] == "sqlite3"
    assert fx.expected_app_sources["libc6"] == "glibc"


@pytest.mark.skipif(
    shutil.which("dpkg-query") is None,
    reason="dpkg-query not installed",
)
def test_ground_truth_matches_dpkg_query_now(fx: DebianFixture) -> None:
    assert read_dpkg(fx.base_root)[0] == fx.expected_base
    assert read_dpkg(fx.app_root) == (fx.expected_app, fx.expected_app_sources)


def test_base_layer_is_the_base_tree(fx: DebianFixture) -> None:
    members = _members(fx.base_layer)
    names = [m.name.rstrip("/") for m in members]
    assert len(names) == len(set(names))
    assert _apply({}, members) == _tree(fx.base_root)
    assert {"var/lib/dpkg/status", "usr/bin/dpkg", "etc/os-release"} <= set(names)
    assert not any(n.startswith(("/", "./")) or "/.wh." in n for n in names)


def test_layers_reproduce_the_app_tree(fx: DebianFixture) -> None:
    base, app = _members(fx.base_layer), _members(fx.app_layer)
    names = {m.name.rstrip("/") for m in app}
    assert {"usr/bin/curl", "var/lib/dpkg/status"} <= names
    assert "usr/bin/dpkg" not in names, "unchanged files must stay out of layer 2"
    assert _apply(_apply({}, base), app) == _tree(fx.app_root)


def test_layers_are_well_formed(fx: DebianFixture) -> None:
    for layer in (fx.base_layer, fx.app_layer):
        members = _members(layer)
        seen: set[str] = set()
        for m in members:
            name = m.name.rstrip("/")
            parent = name.rpartition("/")[0]
            assert not parent or parent in seen, f"{layer.name}: {name} before its dir"
            if m.islnk():
                assert m.linkname in seen, f"{layer.name}: hard link {name} -> {m.linkname}"
            seen.add(name)
    with tarfile.open(fx.base_layer) as tar:
        assert tar.pax_headers == {} or isinstance(tar.pax_headers, dict)


def test_whiteouts(fx: DebianFixture) -> None:
    wh = [m for m in _members(fx.app_layer) if m.name.rpartition("/")[2].startswith(".wh.")]
    assert [m.name for m in wh] == list(fx.whiteouts)
    # step 2 runs `rm -rf /var/lib/apt/lists/*`, removing the partial/ dir step 1 left
    assert "var/lib/apt/lists/.wh.partial" in fx.whiteouts
    dirs = {m.name.rstrip("/") for m in _members(fx.app_layer) if m.isdir()}
    for m in wh:
        parent, _, base = m.name.rpartition("/")
        target = base.removeprefix(".wh.")
        assert m.isreg() and m.size == 0, m.name
        assert target and not target.startswith(".wh.") and base != ".wh..wh..opq"
        assert not parent or parent in dirs, f"whiteout {m.name} without its dir entry"
        assert os.path.lexists(fx.base_root / parent / target), m.name
        assert not os.path.lexists(fx.app_root / parent / target), m.name


def test_diff_tar_on_a_small_tree(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        (root / "d/sub").mkdir(parents=True)
        (root / "keep").write_text("same")
        (root / "edit").write_text("aaaa")
        os.utime(root / "keep", (1_000_000, 1_000_000))
        os.utime(root / "edit", (1_000_000, 1_000_000))
    (old / "gone").write_text("x")
    (old / "gonedir/deep").mkdir(parents=True)
    (old / "gonedir/deep/f").write_text("x")
    (new / "edit").write_text("bbbb")  # same size, new content
    os.utime(new / "edit", (1_000_000, 1_000_000))  # ... and same mtime
    (new / "d/sub/new").write_text("n")
    os.link(new / "d/sub/new", new / "d/hard")
    os.symlink("keep", new / "link")
    for root in (old, new):
        for d in ("d/sub", "d", ""):
            os.utime(root / d, (2_000_000, 2_000_000))
    os.utime(new / "d/sub", (3_000_000, 3_000_000))

    paths, whiteouts = diff_trees(old, new)
    assert whiteouts == [".wh.gone", ".wh.gonedir"]
    assert paths == ["d", "d/hard", "d/sub", "d/sub/new", "edit", "link"]
    write_tree_tar(old, tmp_path / "old.tar")
    assert write_diff_tar(old, new, tmp_path / "diff.tar") == whiteouts
    members = _members(tmp_path / "diff.tar")
    by_name = {m.name.rstrip("/"): m for m in members}
    assert by_name["d/hard"].isreg() and by_name["d/sub/new"].islnk()
    assert by_name["d/sub/new"].linkname == "d/hard"
    assert by_name["link"].issym() and by_name["link"].linkname == "keep"
    assert _apply(_apply({}, _members(tmp_path / "old.tar")), members) == _tree(new)
    first = (tmp_path / "diff.tar").read_bytes()
    write_diff_tar(old, new, tmp_path / "diff.tar")
    assert (tmp_path / "diff.tar").read_bytes() == first, "layer tars must be deterministic"


def test_debian_image(fx: DebianFixture) -> None:
    pytest.importorskip("tests.images.builder", reason="tests/images/builder.py not written yet")
    image = debian_image(fx, default_cache_dir(), fmt="docker-archive", compression="gzip")
    assert image.is_file() and image.stat().st_size > 0
    assert debian_image(fx, default_cache_dir()) == image
    with tarfile.open(image) as tar:
        assert "manifest.json" in tar.getnames()
