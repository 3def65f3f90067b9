"""dir: a directory as one lazily generated, deterministic, safe tar stream."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import socket
import tarfile
from pathlib import Path

import pytest

from hullscan.errors import LimitExceededError, SourceNotFoundError
from hullscan.image.layer import LayerStream
from hullscan.image.limits import Limits
from hullscan.image.rootfs import DirTarOpener, RootfsSource, tar_stream


def make_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc" / "apt").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=debian\nVERSION_ID=12\n")
    (root / "etc" / "apt" / "sources.list").write_text(
        "deb http://deb.debian.org/debian bookworm main\n"
    )
    (root / "usr" / "bin").mkdir(parents=True)
    tool = root / "usr" / "bin" / "tool"
    tool.write_bytes(b"\x7fELF" + bytes(range(256)) * 10)
    tool.chmod(0o755)
    os.symlink("/etc/os-release", root / "usr" / "os-release")
    os.symlink("../../../../../../etc/shadow", root / "escape")
    os.link(tool, root / "usr" / "bin" / "tool-hardlink")
    (root / "empty-dir").mkdir()
    return root


def read_tar(root: Path, limits: Limits = Limits()) -> bytes:
    info = RootfsSource(root, limits=limits).resolve(None)
    with info.layers[0].opener.open() as f:
        return f.read()


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return list(tf)


def test_resolve_describes_one_unknown_layer(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    info = RootfsSource(root, name=f"dir:{root}").resolve(None)
    assert info.target.kind == "dir"
    assert info.target.name == f"dir:{root}"
    assert info.target.config_digest is None
    assert info.config == {}
    (layer,) = info.layers
    assert layer.ref.index == 0
    assert layer.ref.diff_id == ""  # computed by the caller while streaming
    assert layer.blob_digest is None
    assert layer.size is None


def test_tar_contents(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    data = read_tar(root)
    by_name = {m.name: m for m in members(data)}
    assert list(by_name) == [
        "empty-dir",
        "escape",
        "etc",
        "etc/apt",
        "etc/apt/sources.list",
        "etc/os-release",
        "usr",
        "usr/bin",
        "usr/bin/tool",
        "usr/bin/tool-hardlink",
        "usr/os-release",
    ]
    assert by_name["etc"].isdir()
    assert (
        by_name["escape"].issym() and by_name["escape"].linkname == "../../../../../../etc/shadow"
    )
    assert by_name["usr/os-release"].issym()
    assert by_name["usr/bin/tool"].isreg() and by_name["usr/bin/tool"].mode == 0o755
    assert by_name["usr/bin/tool-hardlink"].islnk()
    assert by_name["usr/bin/tool-hardlink"].linkname == "usr/bin/tool"
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        f = tf.extractfile("etc/os-release")
        assert f is not None and f.read() == b"ID=debian\nVERSION_ID=12\n"


def test_deterministic(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    assert read_tar(root) == read_tar(root)


def test_skips_sockets_and_fifos(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    os.mkfifo(root / "fifo")  # opening it would block: must be skipped, not read
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(root / "sock"))
        names = {m.name for m in members(read_tar(root))}
    finally:
        sock.close()
    assert "fifo" not in names and "sock" not in names


def test_symlinked_directory_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    ms = members(read_tar(root))
    assert [(m.name, m.issym()) for m in ms] == [("link", True)]


def test_root_may_be_a_symlink(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    link = tmp_path / "rootlink"
    os.symlink(root, link)
    assert read_tar(link) == read_tar(root)


def test_long_and_non_utf8_names(tmp_path: Path) -> None:
    root = tmp_path / "root"
    deep = root / ("d" * 120) / ("e" * 120)
    deep.mkdir(parents=True)
    (deep / ("f" * 200)).write_text("x")
    (root / os.fsdecode(b"caf\xe9")).write_text("latin-1 name")
    names = [m.name for m in members(read_tar(root))]
    assert f"{'d' * 120}/{'e' * 120}/{'f' * 200}" in names
    assert len(names) == 4


def test_unreadable_entries_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_root(tmp_path)
    (root / "etc" / "secret").write_text("x")
    (root / "private").mkdir()
    (root / "private" / "key").write_text("k")
    real_open = os.open

    def fake_open(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path in ("secret", "private"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", fake_open)
    names = {m.name for m in members(read_tar(root))}
    assert "etc/secret" not in names and "etc/os-release" in names
    assert "private" not in names and "private/key" not in names


def test_streams_through_layer_stream(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    data = read_tar(root)
    opener = pickle.loads(pickle.dumps(DirTarOpener(str(root))))
    with opener.open() as raw:
        stream = LayerStream(
            raw, name="dir", limits=Limits(), expected_diff_id=None, expected_blob_digest=None
        )
        out = b"".join(stream.chunks())
    assert out == data
    assert stream.compression == "none"
    assert stream.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()


def test_big_file_in_chunks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    payload = os.urandom(3 * 1024 * 1024 + 17)
    (root / "big").write_bytes(payload)
    with tarfile.open(fileobj=io.BytesIO(read_tar(root))) as tf:
        f = tf.extractfile("big")
        assert f is not None and f.read() == payload


def test_close_early_releases_fds(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else None
    f = DirTarOpener(str(root)).open()
    f.read(100)
    f.close()
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


def test_entry_limit(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    with pytest.raises(LimitExceededError, match="max_entries_per_layer"):
        b"".join(tar_stream(str(root), Limits(max_entries_per_layer=3)))


def test_depth_limit(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a" / "b" / "c" / "d").mkdir(parents=True)
    with pytest.raises(LimitExceededError, match="max_path_depth"):
        b"".join(tar_stream(str(root), Limits(max_path_depth=3)))


def test_missing_and_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="no such directory"):
        RootfsSource(tmp_path / "nope")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SourceNotFoundError, match="not a directory"):
        RootfsSource(f)
