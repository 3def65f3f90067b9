"""A minimal real analyzer for walker/squash tests: reads ``*.pkg`` files as 'name version'."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from hullscan.analyzers.base import (
    AnalyzedFile,
    Analyzer,
    AssembleContext,
    Assembly,
    Interests,
    location,
)
from hullscan.errors import ParseError
from hullscan.model import Distro, Package


class PkgRecord(msgspec.Struct, frozen=True):
    name: str
    version: str


class PkgFileAnalyzer(Analyzer):
    name = "test/pkgfile"
    version = 1
    interests = Interests(dirs=("pkgs",), suffixes=(".pkg",))
    max_file_size = 1024
    record_type = PkgRecord

    def analyze_file(self, path: str, data: bytes) -> PkgRecord:
        try:
            name, version = data.decode().split()
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"bad pkg file: {exc}") from exc
        return PkgRecord(name, version)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for path, f in sorted(files.items()):
            r: PkgRecord = f.record
            out.packages.append(
                Package(
                    name=r.name,
                    version=r.version,
                    type="generic",
                    purl=f"pkg:generic/{r.name}@{r.version}",
                    found_by=self.name,
                    locations=(location(path, f.layer),),
                )
            )
        return out


class OsAnalyzer(Analyzer):
    name = "test/os"
    version = 1
    order = 10
    interests = Interests(paths=("etc/os-release", "usr/lib/os-release"))
    record_type = str

    def analyze_file(self, path: str, data: bytes) -> str:
        return data.decode(errors="replace").strip()

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        f = files.get("etc/os-release") or files.get("usr/lib/os-release")
        return Assembly(distro=Distro(id=f.record, source=f.real_path) if f else None)
