from __future__ import annotations

import pytest

from hullscan.errors import LayerFormatError
from hullscan.image.limits import Limits
from hullscan.model import LayerRef
from hullscan.walk.squash import Squasher, resolve_in_root
from hullscan.walk.tarwalk import walk_layer
from tests.unit.tarmaker import make_tar
from tests.unit.textanalyzer import OsAnalyzer, PkgFileAnalyzer

ANALYZERS = [PkgFileAnalyzer(), OsAnalyzer()]


def layers(*tars: list[tuple[str, object, str]]):
    out = []
    for i, entries in enumerate(tars):
        diff_id = f"sha256:{i:064d}"
        res = walk_layer(
            iter([make_tar(entries)]),
            diff_id=diff_id,
            layer_name=f"layer {i}",
            analyzers=ANALYZERS,
            limits=Limits(),
        )
        out.append((LayerRef(index=i, diff_id=diff_id, created_by=f"step {i}"), res))
    return out


def squash(*tars):
    return Squasher(ANALYZERS, Limits()).squash(layers(*tars))


def pkgs(result) -> dict[str, tuple[str, int | None]]:
    return {p.name: (p.version, p.layer_index) for p in result.packages}


def test_squash_attributes_origin_layer_and_build_step() -> None:
    r = squash(
        [("pkgs/a", "a 1", "file"), ("pkgs/b", "b 1", "file")],
        [("pkgs/c", "c 1", "file")],
        [("pkgs/b", "b 2", "file"), ("unrelated", "x", "file")],
        [("other", "x", "file")],
    )
    assert pkgs(r) == {"a": ("1", 0), "b": ("2", 2), "c": ("1", 1)}
    by = {p.name: p.created_by for p in r.packages}
    assert by == {"a": "step 0", "b": "step 2", "c": "step 1"}


def test_squash_whiteout_removes_file_and_subtree() -> None:
    r = squash(
        [("pkgs/a", "a 1", "file"), ("x/y/z.pkg", "z 1", "file")],
        [("pkgs/.wh.a", "", "file"), (".wh.x", "", "file")],
    )
    assert pkgs(r) == {}


def test_squash_opaque_dir_hides_lower_layers_only() -> None:
    r = squash(
        [("pkgs/a", "a 1", "file"), ("pkgs/b", "b 1", "file")],
        [("pkgs/.wh..wh..opq", "", "file"), ("pkgs/c", "c 1", "file")],
    )
    assert pkgs(r) == {"c": ("1", 1)}


def test_squash_readding_after_delete_resets_origin() -> None:
    r = squash(
        [("pkgs/a", "a 1", "file")], [("pkgs/.wh.a", "", "file")], [("pkgs/a", "a 1", "file")]
    )
    assert pkgs(r) == {"a": ("1", 2)}


def test_squash_follows_symlinks_inside_root_only() -> None:
    r = squash(
        [("usr/lib/os-release", "debian", "file")],
        [("etc/os-release", "../../../../usr/lib/os-release", "symlink")],
    )
    assert r.distro is not None and r.distro.id == "debian"
    assert r.distro.source == "usr/lib/os-release"


def test_squash_absolute_symlink_resolves_in_image_root() -> None:
    r = squash(
        [
            ("usr/lib/os-release", "alpine", "file"),
            ("etc/os-release", "/usr/lib/os-release", "symlink"),
        ]
    )
    assert r.distro is not None and r.distro.id == "alpine"


def test_squash_symlink_loop_is_an_error() -> None:
    with pytest.raises(LayerFormatError, match="symlink loop"):
        squash([("etc/os-release", "loop", "symlink"), ("etc/loop", "os-release", "symlink")])


def test_squash_records_file_errors_as_status() -> None:
    r = squash([("pkgs/bad", "garbage", "file"), ("pkgs/ok", "ok 1", "file")])
    st = {s.name: s for s in r.statuses}["test/pkgfile"]
    assert st.status == "partial"
    assert st.file_errors[0].path == "pkgs/bad"
    assert pkgs(r) == {"ok": ("1", 0)}


@pytest.mark.parametrize(
    ("path", "links", "expected"),
    [
        ("a/b", {}, "a/b"),
        ("etc/x", {"etc": "/private/etc"}, "private/etc/x"),
        ("lib/x", {"lib": "usr/lib"}, "usr/lib/x"),
        ("a/../../../b", {}, "b"),
        ("l", {"l": "../../../../etc/passwd"}, "etc/passwd"),
    ],
)
def test_resolve_in_root(path: str, links: dict[str, str], expected: str) -> None:
    table = {k: (0, "sym", v) for k, v in links.items()}
    assert resolve_in_root(path, table, 40) == expected


def test_squash_link_to_unread_file_is_a_recorded_error() -> None:
    r = squash([("etc/os-release", "/opt/elsewhere", "symlink"), ("opt/elsewhere", "x", "file")])
    st = {s.name: s for s in r.statuses}["test/os"]
    assert st.status == "partial"
    assert "did not read" in st.file_errors[0].error
