"""Installed .NET (NuGet) packages: the ``<App>.deps.json`` the .NET SDK writes next to every
app and library it builds or publishes (``app/MyApp.deps.json``), anywhere in the image.

The interest is the suffix ``.deps.json``. The file (``runtime-configuration-file.md`` of the
.NET SDK) is::

    {"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64"},
     "targets": {"<target>": {"<Name>/<Version>": {"dependencies": {...}, "runtime": {...},
                                                    "native": {...}, "runtimeTargets": {...}}}},
     "libraries": {"<Name>/<Version>": {"type": "package", "serviceable": true,
                                         "sha512": "...", "path": "..."}}}

What is read: every ``libraries`` entry, by ``type`` (compared case-insensitively):

* ``package``: a NuGet package. Reported.
* ``runtimepack``: the .NET runtime bundled into a self-contained app, keyed
  ``runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0``. Reported as the NuGet package
  it comes from (the ``runtimepack.`` prefix removed: ``Microsoft.NETCore.App.Runtime.linux-x64``),
  which is the name GitHub's and osv.dev's NuGet advisories give the .NET runtime.
* ``project``: the app itself and the projects it references (``MyApp/1.0.0``). Kept in the
  record (``kind="project"``) but NOT reported as packages: a project is not a NuGet package,
  and a ``pkg:nuget/<project>`` purl could match advisories of an unrelated package that happens
  to share its name on nuget.org.
* anything else (``reference``, ``referenceassembly``, ``msbuildproject``...): not a NuGet
  package; skipped.

``DotnetLibrary.runtime`` tells whether the library's entry in the runtime target
(``targets[runtimeTarget.name]``) lists runtime, native or RID-specific assets: ``False`` for
build-time-only packages (``Microsoft.SourceLink.GitHub``) and meta-packages
(``NETStandard.Library``, ``Microsoft.NETCore.App`` of .NET Core 2.x), ``None`` when the file
has no such entry. All are reported; the flag is there for the caller.

Names are kept as written (NuGet ids are case-insensitive; matching lower-cases them,
``hullscan.model.namespaces.normalize_package``), versions too. An entry whose key is not
``<Name>/<Version>`` or whose name or version is not a NuGet id or version is left out and noted
in ``errors`` (the rest of the file is kept); a file that is not JSON, has no ``libraries``
object, or has values of the wrong JSON types where they are read raises ``ParseError``.

Bounds: the file size (``max_file_size``), ``MAX_LIBRARIES`` libraries, ``_MAX_ERRORS`` notes;
deeply nested JSON is a ``ParseError`` (msgspec's recursion limit).

Packages: type ``nuget`` (OSV ecosystem ``NuGet``), purl ``pkg:nuget/<Name>@<Version>``, located
at the ``.deps.json``.
"""

from __future__ import annotations

import re
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
from hullscan.errors import ParseError

MAX_SIZE = 32 * 1024 * 1024
MAX_LIBRARIES = 50_000
RUNTIMEPACK_PREFIX = "runtimepack."
_MAX_ERRORS = 20
# NuGet package ids (``\w+([.-]\w+)*``, ASCII here) and versions (SemVer 2 / legacy 4-part).
_ID_RE = re.compile(r"[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*\Z", re.ASCII)
_VERSION_RE = re.compile(r"[0-9][0-9A-Za-z.+-]{0,127}\Z", re.ASCII)
# A project's name is its project file's name: anything printable but ``/``.
_PROJECT_RE = re.compile(r"[^\x00-\x1f\x7f/]{1,256}\Z")
_ANY_VERSION_RE = re.compile(r"[!-~]{1,128}\Z")

Kind = Literal["package", "runtimepack", "project"]
_KINDS: dict[str, Kind] = {"package": "package", "runtimepack": "runtimepack", "project": "project"}


class DotnetLibrary(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One library of a deps.json; ``name`` without the ``runtimepack.`` prefix."""

    name: str
    version: str
    kind: Kind
    runtime: bool | None = None


class DotnetRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["deps", "ignored"]
    framework: str = ""  # runtimeTarget.name: ".NETCoreApp,Version=v8.0/linux-x64"
    libraries: tuple[DotnetLibrary, ...] = ()
    errors: tuple[str, ...] = ()  # entries left out (the rest of the file was read)


_IGNORED = DotnetRecord(kind="ignored")


# -- the JSON shapes (typed decoding: a wrong type anywhere we read is a ValidationError) ------


class _Library(msgspec.Struct):
    type: str = ""


class _TargetLibrary(msgspec.Struct):
    runtime: dict[str, msgspec.Raw] | None = None
    native: dict[str, msgspec.Raw] | None = None
    runtime_targets: dict[str, msgspec.Raw] | None = msgspec.field(
        name="runtimeTargets", default=None
    )


class _RuntimeTarget(msgspec.Struct):
    name: str = ""


class _Deps(msgspec.Struct):
    libraries: dict[str, _Library] | None = None
    runtime_target: _RuntimeTarget | None = msgspec.field(name="runtimeTarget", default=None)
    targets: dict[str, dict[str, _TargetLibrary]] | None = None


_DECODER = msgspec.json.Decoder(_Deps)


def _has_assets(lib: _TargetLibrary) -> bool:
    return bool(lib.runtime or lib.native or lib.runtime_targets)


def _valid(kind: Kind, name: str, version: str) -> bool:
    if kind == "project":
        return bool(_PROJECT_RE.match(name) and _ANY_VERSION_RE.match(version))
    return len(name) <= 256 and bool(_ID_RE.match(name) and _VERSION_RE.match(version))


def parse_deps_json(data: bytes, what: str = "deps.json") -> DotnetRecord:
    """The libraries of one ``.deps.json``; raises ``ParseError`` on input that is not one."""
    try:
        doc = _DECODER.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ParseError(f"{what}: not a .NET deps.json: {str(e)[:100]}") from None
    if doc.libraries is None:
        raise ParseError(f"{what}: no libraries object")
    if len(doc.libraries) > MAX_LIBRARIES:
        raise ParseError(f"{what}: more than {MAX_LIBRARIES} libraries")
    framework = doc.runtime_target.name if doc.runtime_target else ""
    target = (doc.targets or {}).get(framework) if framework else None
    libraries: list[DotnetLibrary] = []
    seen: set[tuple[str, str]] = set()
    errors: list[str] = []

    def note(message: str) -> None:
        if len(errors) < _MAX_ERRORS:
            errors.append(message)

    for key, lib in doc.libraries.items():
        kind = _KINDS.get(lib.type.lower())
        if kind is None:
            continue
        name, slash, version = key.partition("/")
        if kind == "runtimepack" and name.startswith(RUNTIMEPACK_PREFIX):
            name = name[len(RUNTIMEPACK_PREFIX) :]
        if not slash or not _valid(kind, name, version):
            note(f"libraries: {kind} {key[:80]!r} is not <Name>/<Version>")
            continue
        if (name, version) in seen:
            continue  # runtimepack.X/1 and X/1: one library
        seen.add((name, version))
        entry = target.get(key) if target is not None else None
        libraries.append(
            DotnetLibrary(
                name=name,
                version=version,
                kind=kind,
                runtime=_has_assets(entry) if entry is not None else None,
            )
        )
    return DotnetRecord(
        kind="deps",
        framework=framework[:200],
        libraries=tuple(libraries),
        errors=tuple(errors),
    )


def nuget_purl(name: str, version: str) -> str:
    url: str = PackageURL(type="nuget", name=name, version=version).to_string()
    return url


class DotnetDepsAnalyzer(Analyzer):
    """NuGet packages of .NET apps and libraries (``*.deps.json``)."""

    name = "lang/dotnet"
    version = 1
    interests = Interests(suffixes=(".deps.json",))
    max_file_size = MAX_SIZE
    record_type = DotnetRecord

    def analyze_file(self, path: str, data: bytes) -> DotnetRecord:
        if not path.endswith(".deps.json"):
            return _IGNORED
        return parse_deps_json(data, path)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):  # a symlinked app directory counts once
            rec = f.record
            if not isinstance(rec, DotnetRecord) or rec.kind != "deps":
                continue
            where = f.real_path
            out.errors.extend((where, e) for e in rec.errors)
            for lib in rec.libraries:
                if lib.kind == "project":
                    continue
                out.packages.append(
                    self.package_at(
                        f,
                        name=lib.name,
                        version=lib.version,
                        type="nuget",
                        purl=nuget_purl(lib.name, lib.version),
                    )
                )
        return out
