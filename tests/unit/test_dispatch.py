from __future__ import annotations

import pytest

from hullscan.analyzers.base import Interests
from hullscan.analyzers.dispatch import Dispatch
from tests.unit.textanalyzer import PkgFileAnalyzer


class _Globby(PkgFileAnalyzer):
    name = "test/globby"
    interests = Interests(
        paths=("etc/exact",),
        basenames=("METADATA",),
        dir_suffixes=(("var/lib/dpkg/info", ".list"),),
        globs=("**/node_modules/*/package.json", "opt/*/release"),
    )


class _Fallback(PkgFileAnalyzer):
    name = "test/fallback"
    interests = Interests()

    def wants(self, path: str, size: int) -> bool:
        return size == 42


@pytest.mark.parametrize(
    ("path", "size", "expected"),
    [
        ("etc/exact", 1, {"test/globby"}),
        ("etc/exact2", 1, set()),
        ("usr/lib/python3/x.dist-info/METADATA", 1, {"test/globby"}),
        ("var/lib/dpkg/info/libc6:amd64.list", 1, {"test/globby"}),
        ("var/lib/dpkg/info/libc6.md5sums", 1, set()),
        ("var/lib/dpkg/info/sub/x.list", 1, set()),
        ("app/node_modules/left-pad/package.json", 1, {"test/globby"}),
        ("node_modules/a/package.json", 1, {"test/globby"}),
        ("app/node_modules/@scope/x/package.json", 1, set()),
        ("opt/java/release", 1, {"test/globby"}),
        ("opt/java/sub/release", 1, set()),
        ("pkgs/a", 1, {"test/pkgfile"}),
        ("deep/x.pkg", 1, {"test/pkgfile"}),
        ("pkgs/x.pkg", 1, {"test/pkgfile"}),
        ("anything", 42, {"test/fallback"}),
    ],
)
def test_dispatch_match(path: str, size: int, expected: set[str]) -> None:
    table = Dispatch([_Globby(), PkgFileAnalyzer(), _Fallback()])
    found = table.match(path, size)
    assert {a.name for a in found} == expected
    assert len(found) == len(set(found))  # no analyzer twice


class _WildEnd(PkgFileAnalyzer):
    name = "test/wildend"
    interests = Interests(globs=("opt/*/rel*", "**/requirements*.txt"))


def test_glob_suffix_prefilter() -> None:
    """Globs ending in a literal are tried only on paths with that ending; a glob ending in a
    wildcard turns the prefilter off (it must still match)."""
    literal = Dispatch([_Globby()])
    assert literal._glob_suffixes == ("package.json", "release")
    wild = Dispatch([_WildEnd()])
    assert wild._glob_suffixes is None
    assert [a.name for a in wild.match("opt/java/release-notes", 1)] == ["test/wildend"]
    assert [a.name for a in wild.match("srv/requirements-dev.txt", 1)] == ["test/wildend"]
    assert wild.match("srv/requirements-dev.in", 1) == []


class _Patterns(PkgFileAnalyzer):
    name = "test/patterns"
    interests = Interests(
        suffixes=(".deps.json", ".jar"),
        basename_patterns=(("requirements", ".txt"),),
        parent_names=(("conda-meta", ".json"),),
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/App.deps.json", True),
        ("app/x.json", False),
        ("lib/a.jar", True),
        ("srv/requirements.txt", True),
        ("requirements-dev.txt", True),
        ("srv/notes.txt", False),
        ("srv/requirements.in", False),
        ("opt/conda/conda-meta/openssl-3.0.json", True),
        ("opt/conda/other/openssl-3.0.json", False),
        ("conda-meta.json", False),
    ],
)
def test_extension_indexed_interests(path: str, wanted: bool) -> None:
    assert (Dispatch([_Patterns()]).match(path, 1) != []) == wanted
