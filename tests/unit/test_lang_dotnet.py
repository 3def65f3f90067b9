"""DotnetDepsAnalyzer: REAL ``*.deps.json`` files written by the .NET SDK, taken from two PyPI
wheels that ship .NET code; a hand-written self-contained .NET 8 file for ``runtimepack``;
hostile input.

Real data (no .NET SDK in Debian, so nothing here can build a .NET app; these files were written
by Microsoft's and pythonnet's own builds and are shipped unchanged inside the wheels):

* ``pythonnet==3.2.1`` (``pythonnet/runtime/Python.Runtime.deps.json``): a .NET Standard 2.0
  library built by a current SDK: the project itself, nine NuGet packages, one of them
  build-time only (``Microsoft.SourceLink.GitHub``: dependencies but no assets);
* ``mssql-cli==1.0.0``, manylinux wheel (``mssqlcli/mssqltoolsservice/bin/*.deps.json``):
  Microsoft's SQL Tools Service, three self-contained .NET Core 2.2 apps for
  ``rhel.7.2-x64``: 76 to 113 packages each (the runtime as the ``Microsoft.NETCore.App`` 2.2.5
  meta-package and ``runtime.linux-x64.*`` packages) and 2 to 4 projects.

They are downloaded once with ``pip download`` (PyPI) and only the ``.deps.json`` files are
cached, under ``/var/tmp/hullscan-fixtures/lang/dotnet`` (``$HULLSCAN_LANG_FIXTURES/dotnet``);
the tests skip, saying why, when the cache is absent and PyPI cannot be reached.

What they are compared with: the ``libraries`` object read with Python's ``json`` module (every
``"type": "package"`` key split at its ``/``), plus facts about the artifacts that do not come
from the parser: the project's version is the wheel's version, the target framework, the
runtime meta-package's version.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.lang import dotnet
from hullscan.analyzers.lang.dotnet import (
    DotnetDepsAnalyzer,
    DotnetLibrary,
    DotnetRecord,
    nuget_purl,
    parse_deps_json,
)
from hullscan.errors import ParseError
from tests.unit.osfixtures import analyze, assemble

NET = DotnetDepsAnalyzer()
CACHE = Path(os.environ.get("HULLSCAN_LANG_FIXTURES", "/var/tmp/hullscan-fixtures/lang"))
CACHE = CACHE / "dotnet"
FIXTURE_VERSION = "1"

# (pip requirement, pip platform options, wheel members to keep)
WHEELS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "pythonnet": ("pythonnet==3.2.1", (), ("pythonnet/runtime/Python.Runtime.deps.json",)),
    "mssql-cli": (
        "mssql-cli==1.0.0",
        ("--platform", "manylinux1_x86_64", "--python-version", "3.11"),
        tuple(
            f"mssqlcli/mssqltoolsservice/bin/{app}.deps.json"
            for app in (
                "MicrosoftSqlToolsServiceLayer",
                "MicrosoftSqlToolsCredentials",
                "SqlToolsResourceProviderService",
            )
        ),
    ),
}


# --------------------------------------------------------------------------- real files


def _build(root: Path) -> str | None:
    """Download, extract, cache; the reason it could not, or None."""
    staging = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    downloads = staging / "downloads"
    downloads.mkdir(parents=True)
    for folder, (requirement, options, members) in WHEELS.items():
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             *options, "-d", str(downloads / folder), requirement],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            last = (r.stderr.strip().splitlines() or [""])[-1][:200]
            return f"pip download {requirement} failed (PyPI unreachable?): {last}"
        [wheel] = (downloads / folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as zf:
            for member in members:
                out = staging / folder / member
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(member))
        (staging / folder / "WHEEL_NAME").write_text(wheel.name)
    shutil.rmtree(downloads)
    (staging / "VERSION").write_text(FIXTURE_VERSION)
    try:
        staging.rename(root)
    except OSError:  # another worker built it first
        shutil.rmtree(staging, ignore_errors=True)
    return None


@functools.cache
def _cached() -> tuple[Path, str | None]:
    """The cache folder, built on first use (once per process, failure included)."""
    root = CACHE / f"v{FIXTURE_VERSION}"
    if (root / "VERSION").is_file():
        return root, None
    root.parent.mkdir(parents=True, exist_ok=True)
    why = _build(root)
    return root, (f"no cached deps.json files at {root}: {why}" if why else None)


@pytest.fixture
def real() -> Path:
    root, why = _cached()
    if why:
        pytest.skip(why)
    return root


def _real_files(real: Path) -> dict[str, Path]:
    """Image path -> cached file, for every kept wheel member."""
    return {
        f"usr/lib/python3/dist-packages/{member}": real / folder / member
        for folder, (_, _, members) in WHEELS.items()
        for member in members
    }


def _oracle(path: Path) -> set[tuple[str, str]]:
    """The NuGet packages of a deps.json, read with the standard library."""
    libraries = json.loads(path.read_text())["libraries"]
    pairs = (key.split("/") for key, lib in libraries.items() if lib["type"] == "package")
    return {(name, version) for name, version in pairs}


def test_real_deps_files_match_their_libraries(real: Path) -> None:
    files = _real_files(real)
    out = assemble(NET, {path: f.read_bytes() for path, f in files.items()})
    assert not out.errors
    for image_path, f in files.items():
        assert NET in Dispatch([NET]).match(image_path, f.stat().st_size)
        got = {(p.name, p.version) for p in out.packages if p.locations[0].path == image_path}
        assert got == _oracle(f), image_path
    for p in out.packages:
        assert p.type == "nuget" and p.found_by == "lang/dotnet"
        assert p.purl == f"pkg:nuget/{p.name}@{p.version}"


def test_real_pythonnet_library(real: Path) -> None:
    wheel = (real / "pythonnet" / "WHEEL_NAME").read_text()
    wheel_version = wheel.split("-")[1]
    data = (real / "pythonnet/pythonnet/runtime/Python.Runtime.deps.json").read_bytes()
    rec = analyze(NET, "app/Python.Runtime.deps.json", data)
    assert isinstance(rec, DotnetRecord) and not rec.errors
    assert rec.framework == ".NETStandard,Version=v2.0/"
    projects = [lib for lib in rec.libraries if lib.kind == "project"]
    assert projects == [DotnetLibrary(name="Python.Runtime", version=wheel_version,
                                      kind="project", runtime=True)]  # fmt: skip
    packages = {lib.name: lib for lib in rec.libraries if lib.kind == "package"}
    assert len(packages) == 9
    assert packages["Microsoft.CSharp"].version == "4.7.0"
    # a build-time package (source link): dependencies, no assets
    assert {n for n, lib in packages.items() if not lib.runtime} == {"Microsoft.SourceLink.GitHub"}
    out = assemble(NET, {"app/Python.Runtime.deps.json": data})
    assert "Python.Runtime" not in {p.name for p in out.packages}  # the project is not a package
    assert "pkg:nuget/System.Runtime.CompilerServices.Unsafe@6.1.2" in {
        p.purl for p in out.packages
    }


def test_real_self_contained_netcore22_apps(real: Path) -> None:
    expected = {  # file -> (packages, projects)
        "MicrosoftSqlToolsServiceLayer": (113, 4),
        "MicrosoftSqlToolsCredentials": (76, 2),
        "SqlToolsResourceProviderService": (105, 4),
    }
    for app, (n_packages, n_projects) in expected.items():
        data = (real / f"mssql-cli/mssqlcli/mssqltoolsservice/bin/{app}.deps.json").read_bytes()
        rec = parse_deps_json(data)
        assert rec.framework == ".NETCoreApp,Version=v2.2/rhel.7.2-x64" and not rec.errors
        kinds = [lib.kind for lib in rec.libraries]
        assert (kinds.count("package"), kinds.count("project")) == (n_packages, n_projects)
        by_name = {lib.name: lib for lib in rec.libraries}
        assert (app, "1.0.0", "project") == (
            by_name[app].name, by_name[app].version, by_name[app].kind
        )  # fmt: skip
        # the runtime: a meta-package (no assets of its own) and the RID-specific package
        assert (by_name["Microsoft.NETCore.App"].version, by_name["Microsoft.NETCore.App"].runtime) == (
            "2.2.5", False
        )  # fmt: skip
        assert by_name["runtime.linux-x64.Microsoft.NETCore.App"].runtime is True


def test_real_files_symlinked_count_once(real: Path) -> None:
    data = (real / "pythonnet/pythonnet/runtime/Python.Runtime.deps.json").read_bytes()
    out = assemble(NET, {"opt/app/Python.Runtime.deps.json": data},
                   links={"app/Python.Runtime.deps.json": "opt/app/Python.Runtime.deps.json"})  # fmt: skip
    assert len(out.packages) == 9
    assert {p.locations[0].path for p in out.packages} == {"opt/app/Python.Runtime.deps.json"}


# --------------------------------------------------------------------------- hand-written

# HAND-WRITTEN, following the SDK's documented format (runtime-configuration-file.md) and the
# shape `dotnet publish --self-contained -r linux-x64` gives a .NET 8 app: no self-contained
# .NET 5+ app with its deps.json could be found in the registries reachable here (PyPI, npm,
# Debian), and the real files above predate the "runtimepack" library type (.NET Core 3.0+).
# Exercises: runtimepack entries (the bundled runtime, prefix removed), a project reference,
# the "reference" and "msbuildproject" types (not NuGet packages), a package missing from the
# target (runtime unknown), RID-specific assets, and a type written in another case.
SELF_CONTAINED = json.dumps(
    {
        "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64", "signature": ""},
        "compilationOptions": {},
        "targets": {
            ".NETCoreApp,Version=v8.0": {},
            ".NETCoreApp,Version=v8.0/linux-x64": {
                "MyApp/1.0.0": {
                    "dependencies": {
                        "Newtonsoft.Json": "13.0.1",
                        "MyApp.Core": "1.0.0",
                        "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64": "8.0.0",
                        "runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64": "8.0.0",
                    },
                    "runtime": {"MyApp.dll": {}},
                },
                "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {
                    "runtime": {
                        "System.Private.CoreLib.dll": {
                            "assemblyVersion": "8.0.0.0",
                            "fileVersion": "8.0.23.53103",
                        }
                    },
                    "native": {"libSystem.Native.so": {"fileVersion": "0.0.0.0"}},
                },
                "runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64/8.0.0": {
                    "runtime": {"Microsoft.AspNetCore.dll": {"assemblyVersion": "8.0.0.0"}}
                },
                "Newtonsoft.Json/13.0.1": {
                    "runtime": {"lib/net6.0/Newtonsoft.Json.dll": {"assemblyVersion": "13.0.0.0"}}
                },
                "SQLitePCLRaw.lib.e_sqlite3/2.1.6": {
                    "runtimeTargets": {
                        "runtimes/linux-x64/native/libe_sqlite3.so": {
                            "rid": "linux-x64",
                            "assetType": "native",
                        }
                    }
                },
                "NETStandard.Library/2.0.3": {
                    "dependencies": {"Microsoft.NETCore.Platforms": "1.1.0"}
                },
                "MyApp.Core/1.0.0": {"runtime": {"MyApp.Core.dll": {}}},
            },
        },
        "libraries": {
            "MyApp/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
            "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {
                "type": "runtimepack",
                "serviceable": False,
                "sha512": "",
            },
            "runtimepack.Microsoft.AspNetCore.App.Runtime.linux-x64/8.0.0": {
                "type": "runtimepack",
                "serviceable": False,
                "sha512": "",
            },
            "Newtonsoft.Json/13.0.1": {
                "type": "package",
                "serviceable": True,
                "sha512": "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==",
                "path": "newtonsoft.json/13.0.1",
                "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512",
            },
            "SQLitePCLRaw.lib.e_sqlite3/2.1.6": {"type": "Package", "serviceable": True},
            "NETStandard.Library/2.0.3": {"type": "package", "serviceable": True},
            "Microsoft.NETCore.Platforms/1.1.0": {"type": "package", "serviceable": True},
            "MyApp.Core/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
            "System.Xml/4.0.0.0": {"type": "reference", "serviceable": False, "sha512": ""},
            "Legacy.Tasks/1.0.0": {"type": "msbuildproject", "serviceable": False},
        },
    }
).encode()


def test_hand_written_self_contained_app() -> None:
    rec = analyze(NET, "app/MyApp.deps.json", SELF_CONTAINED)
    assert isinstance(rec, DotnetRecord) and not rec.errors
    assert rec.framework == ".NETCoreApp,Version=v8.0/linux-x64"
    assert {(lib.name, lib.version, lib.kind, lib.runtime) for lib in rec.libraries} == {
        ("MyApp", "1.0.0", "project", True),
        ("MyApp.Core", "1.0.0", "project", True),
        ("Microsoft.NETCore.App.Runtime.linux-x64", "8.0.0", "runtimepack", True),
        ("Microsoft.AspNetCore.App.Runtime.linux-x64", "8.0.0", "runtimepack", True),
        ("Newtonsoft.Json", "13.0.1", "package", True),
        ("SQLitePCLRaw.lib.e_sqlite3", "2.1.6", "package", True),
        ("NETStandard.Library", "2.0.3", "package", False),
        ("Microsoft.NETCore.Platforms", "1.1.0", "package", None),  # not in the target
    }
    out = assemble(NET, {"app/MyApp.deps.json": SELF_CONTAINED})
    assert sorted(p.purl for p in out.packages) == [
        "pkg:nuget/Microsoft.AspNetCore.App.Runtime.linux-x64@8.0.0",
        "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.0",
        "pkg:nuget/Microsoft.NETCore.Platforms@1.1.0",
        "pkg:nuget/NETStandard.Library@2.0.3",
        "pkg:nuget/Newtonsoft.Json@13.0.1",
        "pkg:nuget/SQLitePCLRaw.lib.e_sqlite3@2.1.6",
    ]
    assert all(p.locations[0].path == "app/MyApp.deps.json" for p in out.packages)


def test_without_targets_or_runtime_target_the_runtime_flag_is_unknown() -> None:
    doc = {"libraries": {"A/1.0.0": {"type": "package"}, "B/2.0.0-rc.1+sha.1": {"type": "package"}}}
    rec = parse_deps_json(json.dumps(doc).encode())
    assert rec.framework == ""
    assert [(lib.name, lib.version, lib.runtime) for lib in rec.libraries] == [
        ("A", "1.0.0", None),
        ("B", "2.0.0-rc.1+sha.1", None),
    ]
    assert nuget_purl("B", "2.0.0-rc.1+sha.1") == "pkg:nuget/B@2.0.0-rc.1%2Bsha.1"
    doc["runtimeTarget"] = {"name": "missing"}  # type: ignore[assignment]
    doc["targets"] = {"other": {"A/1.0.0": {"runtime": {"a.dll": {}}}}}  # type: ignore[assignment]
    assert all(lib.runtime is None for lib in parse_deps_json(json.dumps(doc).encode()).libraries)


def test_bad_keys_are_left_out_and_noted() -> None:
    doc = {
        "libraries": {
            "Good/1.0.0": {"type": "package"},
            "NoVersion": {"type": "package"},
            "Name/": {"type": "package"},
            "/1.0.0": {"type": "package"},
            "../../etc/passwd/1.0": {"type": "package"},
            "A/B/1.0": {"type": "package"},
            "Bad Name/1.0.0": {"type": "package"},
            "Name/not-a-version": {"type": "package"},
            "Name/1.0 0": {"type": "package"},
            "Ünïcode/1.0.0": {"type": "package"},
            "x" * 300 + "/1.0.0": {"type": "package"},
            "Long/1" + "0" * 300: {"type": "package"},
            "runtimepack./8.0.0": {"type": "runtimepack"},
            "My Project/1.0.0": {"type": "project"},  # projects: any printable name
            "Proj\nect/1.0.0": {"type": "project"},
            "Ref/1.0": {"type": "reference"},
            "Untyped/1.0": {},
            "runtimepack.X/1.0.0": {"type": "runtimepack"},
            "X/1.0.0": {"type": "package"},  # the same as the runtimepack: once
        }
    }
    rec = parse_deps_json(json.dumps(doc).encode())
    assert [(lib.name, lib.kind) for lib in rec.libraries] == [
        ("Good", "package"),
        ("My Project", "project"),
        ("X", "runtimepack"),
    ]
    assert len(rec.errors) == 13
    out = assemble(NET, {"a.deps.json": json.dumps(doc).encode()})
    assert [p.name for p in out.packages] == ["Good", "X"]
    assert len(out.errors) == 13 and {e[0] for e in out.errors} == {"a.deps.json"}


def test_errors_and_libraries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"libraries": {f"bad{i}": {"type": "package"} for i in range(100)}}
    rec = parse_deps_json(json.dumps(doc).encode())
    assert rec.libraries == () and len(rec.errors) == dotnet._MAX_ERRORS
    monkeypatch.setattr(dotnet, "MAX_LIBRARIES", 10)
    doc = {"libraries": {f"A{i}/1.0": {"type": "package"} for i in range(11)}}
    with pytest.raises(ParseError, match="more than 10 libraries"):
        parse_deps_json(json.dumps(doc).encode())


def test_interest_is_the_suffix() -> None:
    dispatch = Dispatch([NET])
    assert NET in dispatch.match("app/MyApp.deps.json", 100)
    assert NET not in dispatch.match("app/MyApp.runtimeconfig.json", 100)
    assert NET not in dispatch.match("app/deps.json", 100)
    assert NET.analyze_file("app/package.json", b"garbage").kind == "ignored"


# --------------------------------------------------------------------------- hostile input


def _wrong_types() -> list[bytes]:
    docs: list[object] = [
        None,
        [],
        1,
        "libraries",
        {},
        {"libraries": None},
        {"libraries": []},
        {"libraries": "A/1.0"},
        {"libraries": {"A/1.0": None}},
        {"libraries": {"A/1.0": "package"}},
        {"libraries": {"A/1.0": []}},
        {"libraries": {"A/1.0": {"type": 1}}},
        {"libraries": {"A/1.0": {"type": ["package"]}}},
        {"libraries": {}, "runtimeTarget": "x"},
        {"libraries": {}, "runtimeTarget": {"name": 1}},
        {"libraries": {}, "targets": []},
        {"libraries": {}, "targets": {"t": []}},
        {"libraries": {}, "targets": {"t": {"A/1.0": 1}}},
        {"libraries": {}, "targets": {"t": {"A/1.0": {"runtime": []}}}},
        {"libraries": {}, "targets": {"t": {"A/1.0": {"native": "x"}}}},
        {"libraries": {}, "targets": {"t": {"A/1.0": {"runtimeTargets": 1}}}},
    ]
    return [json.dumps(d).encode() for d in docs]


@pytest.mark.parametrize("data", _wrong_types())
def test_wrong_types_are_parse_errors(data: bytes) -> None:
    with pytest.raises(ParseError):
        NET.analyze_file("app/x.deps.json", data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b'{"libraries": {',
        SELF_CONTAINED[: len(SELF_CONTAINED) // 2],
        SELF_CONTAINED + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"libraries": {}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"libraries": {}, "targets": {"t": {"A/1": {"runtime": {"a": '
        + b'{"b":' * 100_000
        + b"1"
        + b"}" * 100_000
        + b"}}}}}",
        b'{"libraries": {"A/1.0": {"type": "\\udc00"}}}',  # a lone surrogate
    ],
)
def test_garbage_truncation_and_deep_nesting_are_parse_errors(data: bytes) -> None:
    with pytest.raises(ParseError):
        NET.analyze_file("app/x.deps.json", data)


def test_huge_strings_are_refused_not_reported() -> None:
    huge = "a" * (4 * 1024 * 1024)
    doc = {
        "runtimeTarget": {"name": huge},
        "libraries": {
            f"{huge}/1.0": {"type": "package"},
            f"A/{huge}": {"type": "package"},
            "B/1.0": {"type": huge},
            "C/1.0": {"type": "package", "sha512": huge},
        },
    }
    rec = NET.analyze_file("app/x.deps.json", json.dumps(doc).encode())
    assert [lib.name for lib in rec.libraries] == ["C"]
    assert len(rec.framework) <= 200 and all(len(e) < 200 for e in rec.errors)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_KEY = st.one_of(st.text(max_size=20), st.sampled_from(["A/1.0", "runtimepack.R/8.0.0", "/", "B"]))
_LIB = st.dictionaries(st.sampled_from(["type", "serviceable", "sha512"]),
                      st.sampled_from(["package", "project", "runtimepack"]) | _json)  # fmt: skip
_TARGET_LIB = st.dictionaries(st.sampled_from(["runtime", "native", "runtimeTargets"]), _json)


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_never_raise_anything_but_parse_error(data: bytes) -> None:
    try:
        NET.analyze_file("app/x.deps.json", data)
    except ParseError:
        pass


@given(
    st.one_of(
        _json,
        st.fixed_dictionaries(
            {"libraries": st.dictionaries(_KEY, _LIB | _json, max_size=4)},
            optional={
                "runtimeTarget": st.fixed_dictionaries({"name": st.just("t") | _json}) | _json,
                "targets": st.dictionaries(
                    st.just("t") | st.text(max_size=4),
                    st.dictionaries(_KEY, _TARGET_LIB | _json, max_size=3) | _json,
                    max_size=2,
                )
                | _json,
            },
        ),
    )
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_json_never_raises_anything_but_parse_error(doc: object) -> None:
    try:
        rec = analyze(NET, "app/x.deps.json", json.dumps(doc).encode())
    except ParseError:
        return
    assert isinstance(rec, DotnetRecord)
    for lib in rec.libraries:
        assert "/" not in lib.name and lib.version
        nuget_purl(lib.name, lib.version)


@given(
    st.lists(st.tuples(st.integers(0, len(SELF_CONTAINED) - 1), st.integers(0, 255)), max_size=8)
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_files_never_raise_anything_but_parse_error(flips: list[tuple[int, int]]) -> None:
    data = bytearray(SELF_CONTAINED)
    for offset, value in flips:
        data[offset] = value
    try:
        rec = NET.analyze_file("app/x.deps.json", bytes(data))
    except ParseError:
        return
    assert isinstance(rec, DotnetRecord)


def test_record_round_trips_through_the_cache_encoding() -> None:
    rec = NET.analyze_file("app/MyApp.deps.json", SELF_CONTAINED)
    assert NET.decode(NET.encode(rec)) == rec
    assert msgspec.msgpack.decode(NET.encode(rec), type=DotnetRecord) == rec
