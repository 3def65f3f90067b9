"""Rust programs built with ``cargo auditable``: the dependency tree the build embeds in the ELF
section ``.dep-v0`` (zlib-compressed JSON, format of the ``auditable-serde`` crate):
``{"packages": [{"name", "version", "source", "kind"?, "dependencies"?: [index...], "root"?}]}``.

Offered every executable of at least 64 KiB (``Interests.executables``); only ELF files that
contain the section name are parsed (one ``bytes.find``). The decompressed JSON is bounded
(``MAX_JSON``: a zlib bomb stops there).

Packages: type ``cargo`` (OSV ecosystem ``crates.io``), purl ``pkg:cargo/<name>@<version>``,
every crate of the tree (the root crate, ``source: local``, included: it is the program
itself). ``kind: build`` crates (build scripts, not in the binary) are left out, as
``cargo audit bin`` does.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Literal

import msgspec
from packageurl import PackageURL

from hullscan.analyzers.base import (
    AnalyzedFile,
    Analyzer,
    AssembleContext,
    Assembly,
    Interests,
    unique_files,
)
from hullscan.analyzers.lang.elf import ElfImage
from hullscan.errors import ParseError

SECTION = ".dep-v0"
MAX_SECTION = 8 * 1024 * 1024
MAX_JSON = 64 * 1024 * 1024
MAX_CRATES = 50_000
_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")
_VERSION = re.compile(r"[0-9A-Za-z.+-]{1,128}\Z")


class Crate(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str
    version: str
    source: str = ""
    kind: str = "runtime"
    root: bool = False


class RustRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["binary", "ignored"]
    crates: tuple[Crate, ...] = ()


_IGNORED = RustRecord(kind="ignored")


class _Dep(msgspec.Struct):
    name: str
    version: str
    source: str = ""
    kind: str = "runtime"
    root: bool = False
    dependencies: list[int] = []


class _Deps(msgspec.Struct):
    packages: list[_Dep]


_decode = msgspec.json.Decoder(_Deps).decode


def parse_dep_section(raw: bytes) -> tuple[Crate, ...]:
    """The crates of a ``.dep-v0`` section's bytes."""
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(raw, MAX_JSON + 1)
    except zlib.error as exc:
        raise ParseError(f"{SECTION}: not zlib data ({exc})") from None
    if len(text) > MAX_JSON or inflater.unconsumed_tail:
        raise ParseError(f"{SECTION}: decompresses to more than {MAX_JSON} bytes")
    try:
        doc = _decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ParseError(f"{SECTION}: not the cargo-auditable format ({exc})") from None
    except RecursionError:
        raise ParseError(f"{SECTION}: JSON nested too deeply") from None
    if len(doc.packages) > MAX_CRATES:
        raise ParseError(f"{SECTION}: more than {MAX_CRATES} crates")
    crates = []
    for p in doc.packages:
        if not _NAME.match(p.name) or not _VERSION.match(p.version):
            raise ParseError(f"{SECTION}: invalid crate {p.name[:60]!r} {p.version[:60]!r}")
        crate = Crate(
            name=p.name, version=p.version, source=p.source[:200], kind=p.kind[:20], root=p.root
        )
        crates.append(crate)
    return tuple(crates)


def cargo_purl(name: str, version: str) -> str:
    purl: str = PackageURL(type="cargo", name=name, version=version).to_string()
    return purl


class RustAnalyzer(Analyzer):
    """Crates of Rust programs built with cargo-auditable."""

    name = "lang/rust"
    version = 1
    interests = Interests(executables=True)
    max_file_size = 512 * 1024 * 1024
    record_type = RustRecord

    def analyze_file(self, path: str, data: bytes) -> RustRecord:
        if not data.startswith(b"\x7fELF") or SECTION.encode() not in data:
            return _IGNORED
        raw = ElfImage(data).section_bytes(SECTION, MAX_SECTION)
        if raw is None:
            return _IGNORED
        return RustRecord(kind="binary", crates=parse_dep_section(raw))

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):
            rec = f.record
            if not isinstance(rec, RustRecord) or rec.kind != "binary":
                continue
            for crate in rec.crates:
                if crate.kind == "build":
                    continue
                out.packages.append(
                    self.package_at(
                        f,
                        name=crate.name,
                        version=crate.version,
                        type="cargo",
                        purl=cargo_purl(crate.name, crate.version),
                    )
                )
        return out
