"""Go binaries: the build information the Go linker embeds in every executable (Go >= 1.13 for
module data), read straight from the ELF file, without the ``go`` tool; stripped binaries too.

How ``go version -m`` finds it (``debug/buildinfo``), done the same way here:

1. the data to search: the ``.go.buildinfo`` section, else (section headers stripped) the first
   writable, non-executable ``PT_LOAD`` segment; its first 64 KiB;
2. the 32-byte header ``\\xff Go buildinf:`` at a 16-byte aligned offset, then the pointer size
   and flags (bit 0: big-endian; bit 1: strings inline, Go >= 1.18);
3. two strings, the toolchain version and the module info: inline as uvarint-length-prefixed
   bytes (>= 1.18), or (older) through two pointers to Go string headers (pointer, length),
   virtual addresses mapped to the file by the ``PT_LOAD`` segments;
4. module info between 16-byte sentinels, as lines: ``path`` (main package), ``mod`` (main
   module), ``dep`` (dependencies), ``=>`` (a replacement of the line before), ``build``
   (settings: ``-ldflags``, ``CGO_ENABLED``, ``vcs.revision``...).

ELF structure (sections, segments) is read with pyelftools; the build-info decoding, which no
Python library does, is written here. Only files that are ELF and contain the magic are parsed
(one ``bytes.find``), so other executables cost almost nothing.

Packages (type ``golang``, OSV ecosystem ``Go``): the main module (the main package path for a
GOPATH build, which has no module line; its version is ``(devel)``
for a local build unless ``-ldflags -X <pkg>.version=v1.2.3`` says otherwise, as Trivy and
Syft also read it), every dependency (a replacement with a version stands in for the module it
replaces), and the standard library as ``pkg:golang/stdlib@1.x.y`` (Go's vulnerability data
names it so).
"""

from __future__ import annotations

import json
import re
import shlex
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
from hullscan.analyzers.base import location as make_location
from hullscan.analyzers.lang.elf import PF_W, PF_X, ElfImage
from hullscan.errors import ParseError
from hullscan.model import GoMeta, Location, Package

MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_ALIGN = 16
_SEARCH = 64 * 1024
_MAX_STRING = 4 * 1024 * 1024
_MAX_MODULES = 20_000
_SENTINEL_LEN = 16


class GoModule(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    path: str
    version: str = ""
    sum: str = ""
    replaced_path: str = ""  # the module this one replaces ("=>" line), when it does


class GoRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["binary", "ignored"]
    go_version: str = ""
    main_path: str = ""  # the main package ("path" line)
    main: GoModule | None = None
    deps: tuple[GoModule, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()


_IGNORED = GoRecord(kind="ignored")


# --------------------------------------------------------------------------- build info


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(buf) and shift < 64:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    raise ParseError("build info: bad string length")


def _inline_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    n, pos = _uvarint(buf, pos)
    if n > _MAX_STRING or pos + n > len(buf):
        raise ParseError("build info: string runs past the data")
    return buf[pos : pos + n], pos + n


def _search_window(elf: ElfImage) -> bytes:
    """Where ``debug/buildinfo`` looks for the header: the ``.go.buildinfo`` section, else the
    first writable, non-executable ``PT_LOAD`` segment; its first 64 KiB."""
    found = elf.section(".go.buildinfo")
    if found is not None:
        _, offset, size = found
        return elf.data[offset : offset + min(size, _SEARCH)]
    for _, offset, filesz, flags in elf.loads:
        if flags & (PF_X | PF_W) == PF_W:
            return elf.data[offset : offset + min(filesz, _SEARCH)]
    return b""


def read_raw(data: bytes) -> tuple[str, str] | None:
    """(toolchain version, module info text) of a Go ELF binary; None when it is not one."""
    if not data.startswith(b"\x7fELF") or MAGIC not in data:
        return None
    elf = ElfImage(data)
    window = _search_window(elf)
    i = 0
    while True:
        i = window.find(MAGIC, i)
        if i < 0 or len(window) - i < _HEADER:
            return None
        if i % _ALIGN == 0:
            break
        i += 1
    header = window[i:]
    ptr_size, flags = header[14], header[15]
    if flags & 2:  # Go >= 1.18: strings inline after the header
        version, pos = _inline_string(header, _HEADER)
        mod, _ = _inline_string(header, pos)
    else:
        if ptr_size not in (4, 8):
            raise ParseError(f"build info: pointer size {ptr_size}")
        order: Literal["little", "big"] = "big" if flags & 1 else "little"

        def ptr(raw: bytes) -> int:
            return int.from_bytes(raw, order)

        def string_at(addr: int) -> bytes:
            head = elf.read(addr, 2 * ptr_size)
            data_addr, length = ptr(head[:ptr_size]), ptr(head[ptr_size:])
            if length > _MAX_STRING:
                raise ParseError("build info: string too long")
            return elf.read(data_addr, length) if length else b""

        version = string_at(ptr(header[16 : 16 + ptr_size]))
        mod = string_at(ptr(header[16 + ptr_size : 16 + 2 * ptr_size]))
    # between 16-byte sentinels, the second one after a newline
    mod = mod[_SENTINEL_LEN:-_SENTINEL_LEN] if len(mod) >= 33 and mod[-17] == 0x0A else b""
    return version.decode("utf-8", "replace"), mod.decode("utf-8", "replace")


def parse_modinfo(go_version: str, text: str) -> GoRecord:
    """The ``path``/``mod``/``dep``/``=>``/``build`` lines of the module info."""
    main_path = ""
    main: GoModule | None = None
    deps: list[GoModule] = []
    settings: list[tuple[str, str]] = []
    last: Literal["main", "dep", ""] = ""
    for line in text.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            main_path = rest
        elif kind in ("mod", "dep") and fields[0]:
            module = GoModule(
                path=fields[0],
                version=fields[1] if len(fields) > 1 else "",
                sum=fields[2] if len(fields) > 2 else "",
            )
            if kind == "mod":
                main, last = module, "main"
            else:
                if len(deps) >= _MAX_MODULES:
                    raise ParseError(f"build info: more than {_MAX_MODULES} modules")
                deps.append(module)
                last = "dep"
        elif kind == "=>" and fields[0] and last:
            replaced = deps[-1] if last == "dep" else main
            if replaced is None:
                continue
            module = GoModule(
                path=fields[0],
                version=fields[1] if len(fields) > 1 else "",
                sum=fields[2] if len(fields) > 2 else "",
                replaced_path=replaced.path,
            )
            if last == "dep":
                deps[-1] = module
            else:
                main = module
        elif kind == "build":
            key, sep, value = rest.partition("=")
            if sep and key:
                settings.append((key, _unquote(value)))
    return GoRecord(
        kind="binary",
        go_version=go_version,
        main_path=main_path,
        main=main,
        deps=tuple(deps),
        settings=tuple(settings),
    )


def _unquote(value: str) -> str:
    """A build setting value as Go wrote it (``strconv.Quote`` when it has spaces or quotes)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            text = json.loads(value)
        except ValueError:
            return value
        return text if isinstance(text, str) else value
    return value


_VERSION_LIKE = re.compile(r"v?\d+(\.\d+)*([-+.][0-9A-Za-z.+-]*)?\Z")


def version_from_ldflags(settings: tuple[tuple[str, str], ...], main_module: str) -> str | None:
    """``-ldflags '-X main.version=v1.0.0'`` (or ``<main module>/...Version=``): the version
    the build stamped into the program, when the module version is ``(devel)``."""
    flags = next((v for k, v in settings if k == "-ldflags"), None)
    if not flags:
        return None
    try:
        words = shlex.split(flags)
    except ValueError:
        words = flags.split()
    for i, word in enumerate(words):
        assignment = None
        if word == "-X" and i + 1 < len(words):
            assignment = words[i + 1]
        elif word.startswith("-X="):
            assignment = word[3:]
        if not assignment or "=" not in assignment:
            continue
        key, value = assignment.split("=", 1)
        package, _, var = key.rpartition(".")
        if var.lower() != "version":
            continue
        if package != "main" and not (main_module and package.startswith(main_module)):
            continue
        if _VERSION_LIKE.match(value):
            return value if value.startswith("v") else f"v{value}"
    return None


def stdlib_version(go_version: str) -> str | None:
    """``go1.21.5`` (or ``go1.22.1 X:boringcrypto``) -> ``1.21.5``; None for devel builds."""
    first = go_version.split(" ", 1)[0]
    if not first.startswith("go") or not first[2:3].isdigit():
        return None
    return first[2:]


def golang_purl(path: str, version: str) -> str:
    namespace, _, name = path.rpartition("/")
    purl: str = PackageURL(
        type="golang", namespace=namespace or None, name=name, version=version or None
    ).to_string()
    return purl


class GoAnalyzer(Analyzer):
    """Modules and the toolchain of Go programs, from their embedded build info."""

    name = "lang/go"
    version = 2
    interests = Interests(executables=True)
    max_file_size = 512 * 1024 * 1024
    record_type = GoRecord

    def analyze_file(self, path: str, data: bytes) -> GoRecord:
        raw = read_raw(data)
        if raw is None:
            return _IGNORED
        return parse_modinfo(*raw)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):
            rec = f.record
            if not isinstance(rec, GoRecord) or rec.kind != "binary":
                continue
            loc = (make_location(f.real_path, f.layer),)
            meta = GoMeta(
                go_version=rec.go_version,
                main_path=rec.main_path or None,
                build_settings=tuple(f"{k}={v}" for k, v in rec.settings),
            )
            # GOPATH builds (Debian's dh-golang) have no "mod" line: the main package path
            # stands for the program's module, as Syft also reports it
            main = rec.main or (GoModule(path=rec.main_path) if rec.main_path else None)
            if main is not None:
                version = main.version
                if version in ("", "(devel)"):
                    version = version_from_ldflags(rec.settings, main.path) or "(devel)"
                out.packages.append(self._package(main.path, version, main.sum, loc, meta))
            for dep in rec.deps:
                out.packages.append(self._package(dep.path, dep.version, dep.sum, loc, meta))
            std = stdlib_version(rec.go_version)
            if std:
                out.packages.append(self._package("stdlib", std, "", loc, meta))
        return out

    def _package(
        self, name: str, version: str, h1: str, loc: tuple[Location, ...], meta: GoMeta
    ) -> Package:
        return Package(
            name=name,
            version=version,
            type="golang",
            purl=golang_purl(name, version),
            found_by=self.name,
            locations=loc,
            metadata=msgspec.structs.replace(meta, h1=h1 or None),
        )
