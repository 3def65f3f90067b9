"""RustAnalyzer: the real cargo-auditable binary of ``../shared/fixtures/pkgdb/lang/rust-binary``
(expected crates from its MANIFEST: Trivy's test), real ELF programs given a ``.dep-v0`` section
with binutils' ``objcopy --add-section``, and hostile sections (zlib bombs, bad JSON)."""

from __future__ import annotations

import json
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.lang import rust
from hullscan.analyzers.lang.rust import RustAnalyzer, RustRecord, parse_dep_section
from hullscan.errors import ParseError
from tests.unit.osfixtures import PKGDB, assemble

RUST = RustAnalyzer()
FIXTURE = PKGDB / "lang" / "rust-binary" / "executable_rust"
OBJCOPY = shutil.which("objcopy")
HOST_ELF = Path("/bin/true")


def with_section(tmp: Path, payload: bytes) -> bytes:
    """A real ELF program (``/bin/true``) with ``payload`` as its ``.dep-v0`` section."""
    if OBJCOPY is None or not HOST_ELF.is_file():
        pytest.skip("objcopy (binutils) or /bin/true missing")
    section = tmp / "dep.bin"
    section.write_bytes(payload)
    out = tmp / "prog"
    subprocess.run(
        [OBJCOPY, "--add-section", f".dep-v0={section}", str(HOST_ELF), str(out)], check=True
    )
    return out.read_bytes()


def deps(packages: list[dict[str, Any]]) -> bytes:
    return zlib.compress(json.dumps({"packages": packages}).encode())


def test_shared_cargo_auditable_binary() -> None:
    if not FIXTURE.is_file():
        pytest.skip(f"shared fixture absent: {FIXTURE}")
    out = assemble(RUST, {"usr/local/bin/app": FIXTURE.read_bytes()})
    assert not out.errors
    assert sorted(p.purl for p in out.packages) == [
        "pkg:cargo/crate_with_features@0.1.0",
        "pkg:cargo/library_crate@0.1.0",
    ]
    assert {p.locations[0].path for p in out.packages} == {"usr/local/bin/app"}


def test_objcopy_section_with_registry_crates_and_build_deps(tmp_path: Path) -> None:
    data = with_section(
        tmp_path,
        deps(
            [
                {"name": "app", "version": "0.3.0", "source": "local", "root": True,
                 "dependencies": [1, 2, 3]},
                {"name": "hyper", "version": "0.14.10", "source": "crates.io"},
                {"name": "openssl", "version": "0.10.38", "source": "crates.io"},
                {"name": "cc", "version": "1.0.73", "source": "crates.io", "kind": "build"},
            ]
        ),
    )  # fmt: skip
    out = assemble(RUST, {"app": data})
    assert sorted(p.purl for p in out.packages) == [
        "pkg:cargo/app@0.3.0",
        "pkg:cargo/hyper@0.14.10",
        "pkg:cargo/openssl@0.10.38",  # the build-only "cc" is not in the binary
    ]


def test_programs_without_the_section_are_ignored(tmp_path: Path) -> None:
    if HOST_ELF.is_file():
        assert RUST.analyze_file("x", HOST_ELF.read_bytes()).kind == "ignored"
    assert RUST.analyze_file("x", b"#!/bin/sh\n.dep-v0\n").kind == "ignored"


def test_zlib_bomb_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rust, "MAX_JSON", 1024 * 1024)
    bomb = zlib.compress(b" " * (50 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(ParseError, match="decompresses to more than"):
        parse_dep_section(bomb)


@pytest.mark.parametrize(
    "raw",
    [
        b"not zlib",
        zlib.compress(b"not json"),
        zlib.compress(b'{"packages": 3}'),
        zlib.compress(b'{"packages": [{"name": "a"}]}'),
        deps([{"name": "../etc", "version": "1"}]),
        deps([{"name": "a", "version": "1 2"}]),
        zlib.compress(b'{"packages": [' * 10000),
    ],
)
def test_bad_sections_are_parse_errors(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_dep_section(raw)


@given(st.binary(max_size=512))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_section_bytes(raw: bytes) -> None:
    try:
        crates = parse_dep_section(raw)
    except ParseError:
        return
    assert all(c.name and c.version for c in crates)


_BASE = FIXTURE.read_bytes() if FIXTURE.is_file() else b"\x7fELF" + b"\0" * 100 + b".dep-v0"


@given(st.lists(st.tuples(st.integers(0, len(_BASE) - 1), st.integers(0, 255)), max_size=6))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_binaries(flips: list[tuple[int, int]]) -> None:
    data = bytearray(_BASE)
    for offset, value in flips:
        data[offset] = value
    try:
        rec = RUST.analyze_file("x", bytes(data))
    except ParseError:
        return
    assert isinstance(rec, RustRecord)
