from __future__ import annotations

import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.errors import ImageError, LayerFormatError, LimitExceededError
from hullscan.image.limits import Limits
from hullscan.walk.layer_result import decode_layer_result, encode_layer_result
from hullscan.walk.tarwalk import walk_layer
from tests.unit.tarmaker import make_tar
from tests.unit.textanalyzer import PkgFileAnalyzer

LIMITS = Limits()


def walk(data: bytes, chunk: int = 7, limits: Limits = LIMITS):
    chunks = iter([data[i : i + chunk] for i in range(0, len(data), chunk)])
    return walk_layer(
        chunks,
        diff_id="sha256:x",
        layer_name="layer 0",
        analyzers=[PkgFileAnalyzer()],
        limits=limits,
    )


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("chunk", [1, 7, 512, 100000])
def test_walk_layer_finds_wanted_files_in_every_format(fmt: int, chunk: int) -> None:
    data = (
        make_tar(
            [
                ("./pkgs", None, "dir"),
                ("./pkgs/a", "a 1.0", "file"),
                ("other/b.pkg", "b 2.0", "file"),
                ("other/ignored.txt", "x" * 3000, "file"),
                ("deep/" + "d/" * 60 + "c.pkg", "c 3", "file"),  # long name: pax/GNU/ustar prefix
                ("link.pkg", "other/b.pkg", "symlink"),
                ("hard.pkg", "other/b.pkg", "hardlink"),
            ],
            fmt=fmt,
        )
        if fmt != tarfile.USTAR_FORMAT
        else make_tar(
            [
                ("./pkgs/a", "a 1.0", "file"),
                ("other/b.pkg", "b 2.0", "file"),
                ("link.pkg", "other/b.pkg", "symlink"),
                ("hard.pkg", "other/b.pkg", "hardlink"),
            ],
            fmt=fmt,
        )
    )
    res = walk(data, chunk)
    assert "pkgs/a" in res.files and "other/b.pkg" in res.files
    assert res.files["pkgs/a"][0].payload is not None
    assert "other/ignored.txt" not in res.files
    assert res.symlinks["link.pkg"] == "other/b.pkg"
    assert res.hardlinks["hard.pkg"] == "other/b.pkg"
    assert res.files["hard.pkg"] == res.files["other/b.pkg"]  # hard link shares the read content
    if fmt != tarfile.USTAR_FORMAT:
        assert any(p.endswith("c.pkg") and p.count("/") == 61 for p in res.files)
    assert decode_layer_result(encode_layer_result(res)) == res


def test_walk_layer_records_whiteouts_and_opaque_dirs() -> None:
    data = make_tar(
        [
            ("etc/.wh.passwd", "", "file"),
            ("var/lib/.wh..wh..opq", "", "file"),
            (".wh.top", "", "file"),
        ]
    )
    res = walk(data)
    assert sorted(res.whiteouts) == ["etc/passwd", "top"]
    assert res.opaque_dirs == ["var/lib"]


def test_walk_layer_records_parse_errors_and_size_limit_per_file() -> None:
    data = make_tar(
        [
            ("pkgs/bad", "no-version-here", "file"),
            ("pkgs/huge", "x " * 600, "file"),
            ("pkgs/ok", "ok 1", "file"),
        ]
    )
    res = walk(data)
    assert "bad pkg file" in (res.files["pkgs/bad"][0].error or "")
    assert "over this analyzer's limit" in (res.files["pkgs/huge"][0].error or "")
    assert res.files["pkgs/ok"][0].payload


@pytest.mark.parametrize("name", ["/etc/passwd", "../../etc/passwd", "a/../../b", "a/../b"])
def test_walk_layer_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(LayerFormatError, match="absolute|traversal"):
        walk(make_tar([(name, "x", "file")]))


def test_walk_layer_rejects_hardlink_escaping_root() -> None:
    with pytest.raises(LayerFormatError, match="traversal"):
        walk(make_tar([("a.pkg", "../../etc/shadow", "hardlink")]))


def test_walk_layer_truncated_stream_is_an_error() -> None:
    data = make_tar([("pkgs/a", "a " + "1" * 5000, "file")])
    with pytest.raises(LayerFormatError, match="truncated"):
        walk(data[:2000])


def test_walk_layer_bad_checksum_is_an_error() -> None:
    data = bytearray(make_tar([("pkgs/a", "a 1", "file")]))
    data[0] ^= 0xFF
    with pytest.raises(LayerFormatError, match="checksum"):
        walk(bytes(data))


def test_walk_layer_huge_declared_size_is_refused() -> None:
    data = bytearray(make_tar([("pkgs/a", "a 1", "file")], fmt=tarfile.GNU_FORMAT))
    # base-256 size field claiming 2**60 bytes, checksum recomputed
    data[124:136] = b"\x80" + (2**60).to_bytes(11, "big")
    data[148:156] = b" " * 8
    chk = sum(data[:512])
    data[148:156] = f"{chk:06o}\0 ".encode()
    with pytest.raises(LimitExceededError, match="declares"):
        walk(bytes(data))


def test_walk_layer_entry_count_limit() -> None:
    data = make_tar([(f"f{i}", "", "file") for i in range(20)])
    with pytest.raises(LimitExceededError, match="tar entries"):
        walk(data, limits=Limits(max_entries_per_layer=10))


def test_walk_layer_empty_stream_is_an_empty_layer() -> None:
    assert walk(b"").entries == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=600))
def test_walk_layer_garbage_raises_image_error_only(data: bytes, chunk: int) -> None:
    try:
        walk(data, chunk)
    except ImageError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_walk_layer_mutated_tar_raises_image_error_only(data: st.DataObject) -> None:
    base = bytearray(
        make_tar(
            [("pkgs/a", "a 1", "file"), ("x/b.pkg", "b 2", "file"), ("l", "pkgs/a", "symlink")]
        )
    )
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(base) - 1))
        base[pos] = data.draw(st.integers(0, 255))
    try:
        walk(bytes(base))
    except ImageError:
        pass
