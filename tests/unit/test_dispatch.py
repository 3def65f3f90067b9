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
