"""Hand-picked version comparisons from each ecosystem's documentation and test suites.

Sources: Debian Policy 5.6.12 and dpkg's examples; rpm's ``tests/rpmvercmp.at``; PEP 440;
semver.org section 11 and node-semver's README (ranges); Maven's ``ComparableVersionTest``;
the Go modules reference (pseudo-versions, ``+incompatible``); ``Gem::Version``'s docs;
NuGet's versioning docs; composer/semver's ``VersionParser`` / ``Comparator`` docs; the
``semver`` crate's docs. Every expected value below for a scheme with a real tool (all but apk
and nuget) was checked against that tool when written (scripts/gen_version_oracles.py's
drivers); apk's come from apk-tools' ``src/version.c`` and ``test/version.data``.
"""

from __future__ import annotations

import pytest

from hullscan.errors import ParseError
from hullscan.versions import Version, VersionParseError, compare, parse, schemes
from hullscan.versions.npm import parse_range, satisfies

CASES: dict[str, list[tuple[str, str, int]]] = {
    "deb": [
        ("1.0~~", "1.0~~a", -1),
        ("1.0~~a", "1.0~", -1),
        ("1.0~", "1.0", -1),
        ("1.0", "1.0a", -1),
        ("1.0a", "1.0+", -1),
        ("1:0.1", "2.0", 1),
        ("0:1.0", "1.0", 0),
        ("1.0-0", "1.0", 0),
        ("1.0", "1.00", 0),
        ("1.0", "1.0.", -1),
        ("2.30-1", "2.3-1", 1),
        ("1.2+dfsg-1", "1.2-1", 1),
        ("7.6p2-4", "7.6-0", 1),
        ("1.0.0~rc1-1", "1.0.0-1", -1),
        ("2:1.0", "1:9.9", 1),
        ("1.0-1ubuntu1", "1.0-1", 1),
        ("1.0-1~bpo11+1", "1.0-1", -1),
        ("1:1.0:2-1", "1:1.0-1", 1),
        ("1.0-1.1", "1.0-1", 1),
        ("2.2.19-1+deb9u1", "2.2.19-1+deb9u1~", 1),
        ("4.5.0-1", "4.5.0-1+b1", -1),
        ("0.9", "0.10", -1),
        ("1.001", "1.1", 0),
    ],
    "rpm": [
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1", 1),
        ("5.5p1", "5.5p2", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("xyz10", "xyz10.1", -1),
        ("xyz.4", "8", -1),
        ("xyz.4", "2", -1),
        ("5.5p2", "5.6p1", -1),
        ("6.0.rc1", "6.0", 1),
        ("10b2", "10a1", 1),
        ("1.0a", "1.0aa", -1),
        ("10.0001", "10.1", 0),
        ("10.0001", "10.0039", -1),
        ("4.999.9", "5.0", -1),
        ("20101121", "20101122", -1),
        ("2_0", "2.0", 0),
        ("a+", "a_", 0),
        ("+a", "_a", 0),
        ("_+", "_", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0^", "1.0", 1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git1", "1.01", -1),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0^git1", "1.0^git1~pre", 1),
        ("1:1.0-1", "2.0-1", 1),
        ("0:1.0-1", "1.0-1", 0),
        ("1.0", "1.0-1", -1),
        ("1.0-1.el8", "1.0-1.el8_1", -1),
        ("2.02-156.el8", "1:2.02-1.el8", -1),
        ("1.0-1", "1.0-01", 0),
        ("1.0-1.el8", "1.0-1.el8.rocky.0.1", -1),
    ],
    "pypi": [
        ("1.0.dev0", "1.0a1", -1),
        ("1.0a1", "1.0b1", -1),
        ("1.0b1", "1.0rc1", -1),
        ("1.0rc1", "1.0", -1),
        ("1.0", "1.0.post1", -1),
        ("1!0.1", "2.0", 1),
        ("1.0+local", "1.0", 1),
        ("1.0", "1.0.0", 0),
        ("v1.0", "1.0", 0),
        ("1.0-1", "1.0.post1", 0),
        ("1.0alpha1", "1.0a1", 0),
        ("1.0c1", "1.0rc1", 0),
        ("1.0a1.dev1", "1.0a1", -1),
        ("1.0.post1.dev1", "1.0.post1", -1),
        ("1.0+abc.5", "1.0+abc.10", -1),
        ("1.0+5", "1.0+abc", 1),
        ("1.10", "1.9", 1),
        ("2.0.0b1", "2.0.0", -1),
    ],
    "npm": [
        ("1.0.0-alpha", "1.0.0-alpha.1", -1),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
        ("1.0.0-alpha.beta", "1.0.0-beta", -1),
        ("1.0.0-beta", "1.0.0-beta.2", -1),
        ("1.0.0-beta.2", "1.0.0-beta.11", -1),
        ("1.0.0-beta.11", "1.0.0-rc.1", -1),
        ("1.0.0-rc.1", "1.0.0", -1),
        ("1.0.0+build.1", "1.0.0", 0),
        ("v1.2.3", "1.2.3", 0),
        (" 1.2.3 ", "1.2.3", 0),
        ("1.2.3-1", "1.2.3-a", -1),
        ("10.0.0", "9.0.0", 1),
        ("1.2.3-A", "1.2.3-a", -1),
        ("1.2.3--", "1.2.3-0", 1),
    ],
    "maven": [
        ("1-alpha2snapshot", "1-alpha2", -1),
        ("1-alpha2", "1-alpha-123", -1),
        ("1-alpha-123", "1-beta-2", -1),
        ("1-beta-2", "1-beta123", -1),
        ("1-beta123", "1-m2", -1),
        ("1-m2", "1-m11", -1),
        ("1-m11", "1-rc", -1),
        ("1-rc", "1-cr2", -1),
        ("1-cr2", "1-rc123", -1),
        ("1-rc123", "1-SNAPSHOT", -1),
        ("1-SNAPSHOT", "1", -1),
        ("1", "1-sp", -1),
        ("1-sp", "1-sp2", -1),
        ("1-sp2", "1-sp123", -1),
        ("1-sp123", "1-abc", -1),
        ("1-abc", "1-def", -1),
        ("1-def", "1-pom-1", -1),
        ("1-pom-1", "1-1-snapshot", -1),
        ("1-1-snapshot", "1-1", -1),
        ("1-1", "1-2", -1),
        ("1-2", "1-123", -1),
        ("2.0", "2.0.a", -1),
        ("2.0.a", "2-1", -1),
        ("2-1", "2.0.2", -1),
        ("2.0.2", "2.0.123", -1),
        ("2.0.123", "2.1.0", -1),
        ("2.1.0", "2.1-a", -1),
        ("2.1-a", "2.1b", -1),
        ("2.1b", "2.1-c", -1),
        ("2.1-c", "2.1-1", -1),
        ("2.1-1", "2.1.0.1", -1),
        ("2.1.0.1", "2.2", -1),
        ("2.2", "2.123", -1),
        ("2.123", "11.a2", -1),
        ("11.a2", "11.a11", -1),
        ("11.a11", "11.b2", -1),
        ("11.b2", "11.b11", -1),
        ("11.b11", "11.m2", -1),
        ("11.m2", "11.m11", -1),
        ("11.m11", "11", -1),
        ("11", "11.a", -1),
        ("11.a", "11b", -1),
        ("11b", "11c", -1),
        ("11c", "11m", -1),
        ("1", "1.0", 0),
        ("1", "1.0.0", 0),
        ("1", "1-0", 0),
        ("1.0", "1.0-0", 0),
        ("1a", "1-a", 0),
        ("1a", "1.0-a", 0),
        ("1.0a", "1-a", 0),
        ("1x", "1.0.0-x", 0),
        ("1ga", "1", 0),
        ("1release", "1", 0),
        ("1final", "1", 0),
        ("1cr", "1rc", 0),
        ("1a1", "1-alpha-1", 0),
        ("1b2", "1-beta-2", 0),
        ("1m3", "1-milestone-3", 0),
        ("1X", "1x", 0),
        ("1GA", "1", 0),
        ("1.0.0.RELEASE", "1", 0),
        ("1.0.0.RC1", "1.0.0-RC1", 0),
        ("5.3.0.Final", "5.3.0", 0),
        ("2.0.0.M1", "2.0.0-M1", 0),
        ("1.0.0-SNAPSHOT", "1.0.0", -1),
        ("r09", "r10", -1),
        ("1.0.1", "1.0.0.1", 1),
    ],
    "golang": [
        ("v1.2.3", "v1.2.3+incompatible", 0),
        ("v2.0.0+incompatible", "v1.9.9", 1),
        ("1.2.3", "v1.2.3", 0),
        ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-abcdefabcdef", -1),
        ("v0.0.0-20200101000000-abcdefabcdef", "v0.1.0", -1),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", -1),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-pre", -1),
        ("v1.2", "v1.2.0", 0),
        ("v1", "v1.0.0", 0),
        ("v1.10.0", "v1.9.0", 1),
        ("v1.0.0-rc.1", "v1.0.0-rc.1+meta", 0),
    ],
    "gem": [
        ("1.0.a", "1.0", -1),
        ("1.0.0.pre", "1.0.0", -1),
        ("1.0", "1.0.0", 0),
        ("1.0.0-rc1", "1.0.0.rc1", -1),
        ("1.10", "1.9", 1),
        ("1.0.b1", "1.0.a2", 1),
        ("0.9", "1.0.a", -1),
        ("1.0.a", "1.a", 0),
        ("1.0.0.rc.1", "1.0.0.rc1", 0),
        (" 1.0 ", "1.0", 0),
        ("2.0.0.beta2", "2.0.0.beta10", -1),
        ("1.0.0.a10", "1.0.0.b1", -1),
        ("3.2.22.5", "3.2.22", 1),
    ],
    "nuget": [
        ("1.0.0-alpha.10", "1.0.0-alpha.9", 1),
        ("1.0.0.1", "1.0.0", 1),
        ("1.0.0-beta", "1.0.0-Beta", 0),
        ("1.0.0-rc.1", "1.0.0", -1),
    ],
    "composer": [
        ("1.0.0-dev", "1.0.0-alpha1", -1),
        ("1.0.0-alpha1", "1.0.0-beta", -1),
        ("1.0.0-beta", "1.0.0-RC1", -1),
        ("1.0.0-RC1", "1.0.0", -1),
        ("1.0.0", "1.0.0-patch1", -1),
        ("1.0.0-patch1", "1.0.0-pl1", 0),
        ("1.0.0-p1", "1.0.0-pl1", 0),
        ("v1.2.3", "1.2.3", 0),
        ("1.2.3", "1.2.3.0", 0),
        ("1.0.0-b2", "1.0.0-beta2", 0),
        ("dev-master", "99999.0", 1),
        ("1.2.x-dev", "1.2.5", 1),
        ("1.2.x-dev", "1.3.0", -1),
        ("2023.01.01", "2023.1.1", 0),
        ("20230101", "20230102", -1),
        ("1.0.0-beta.1", "1.0.0-beta2", -1),
        ("1.0.0+build5", "1.0.0", 0),
        ("1.0.0-stable", "1.0.0", 0),
        ("1.0.0-alpha", "1.0.0-a", 0),
        ("1.0.0-rc", "1.0.0-RC", 0),
        ("1.0.0-beta1-dev", "1.0.0-beta1", -1),
        ("master", "dev-master", 0),
    ],
    "cargo": [
        ("1.0.0-alpha", "1.0.0-alpha.1", -1),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
        ("1.0.0-beta.2", "1.0.0-beta.11", -1),
        ("1.0.0-rc.1", "1.0.0", -1),
        ("1.0.0+a", "1.0.0+b", 0),
        ("0.9.0", "0.10.0", -1),
        ("1.0.0-x.7.z.92", "1.0.0-x.7.z.93", -1),
    ],
    "apk": [
        ("1.0_alpha", "1.0_beta", -1),
        ("1.0_beta", "1.0_pre", -1),
        ("1.0_pre", "1.0_rc", -1),
        ("1.0_rc", "1.0", -1),
        ("1.0", "1.0_cvs", -1),
        ("1.0_cvs", "1.0_svn", -1),
        ("1.0_svn", "1.0_git", -1),
        ("1.0_git", "1.0_hg", -1),
        ("1.0_hg", "1.0_p", -1),
        ("1.0_rc1", "1.0", -1),
        ("1.0_p1", "1.0", 1),
        ("1.0-r1", "1.0", 1),
        ("1.0-r0", "1.0", 1),
        ("1.0.1", "1.0a", 1),
        ("1.0a", "1.0", 1),
        ("1.01", "1.1", -1),
        ("1.010", "1.02", -1),
        ("006", "6", 0),
        ("1.0_git20240101", "1.0_git20231231", 1),
        ("1.0~abc", "1.0", 1),
        ("1.0~abc", "1.0~abd", -1),
        ("1.0~abc", "1.0-r1", 1),
        ("1.2.3-r10", "1.2.3-r9", 1),
        ("2.0_alpha1-r1", "2.0_alpha2", -1),
    ],
}

INVALID: dict[str, list[str]] = {
    "deb": [
        "a1.0",
        "1.0 1",
        ":1.0",
        "1:",
        "1.0-",
        "a:1.0",
        "1.0_1",
        "1.0-1_2",
        "-1",
        "1.0-1:2",
        "1:a1.0",
    ],
    "rpm": ["", "1.0 1", "x:1.0", "1:", "1.0-", ":1.0", "1:2:3"],
    "pypi": ["1.0-foo", "abc", "1..0", "1.0+", "french toast", "1.0.0-beta.1.x"],
    "npm": [
        "1.2",
        "01.2.3",
        "1.2.3-01",
        "=1.2.3",
        "1.2.3.4",
        "V1.2.3",
        "1.2.3-",
        "1.2.3+",
        "9007199254740992.0.0",
    ],
    "golang": ["v1.2.3.4", "v01.2.3", "v1.2-pre", "1.2.3-01", "v1.2.3-", "vv1.2.3", "v1.2.3+"],
    "gem": ["1.0..0", "junk", "1.0 beta", "-1", ".1", "1.0-"],
    "composer": ["dev-feature", "1.0.0-foo", "abc", "1.2.3.4.5", "123456.0.0"],
    "cargo": [
        "v1.0.0",
        "1.0",
        "01.0.0",
        " 1.0.0",
        "1.0.0-01",
        "1.0.0-",
        "18446744073709551616.0.0",
        "1.0.0+",
    ],
    "maven": ["", "1.0 1", "[1.0,2.0)", "1,0", "-1.0", "1.\u00e9"],
    "apk": [
        "",
        "1.0bc",
        "23_foo",
        "v1.0",
        "1.0-1",
        "1.0-r",
        "1..0",
        "1.0_",
        "1.0~",
        "1.0~XYZ",
        "1.0A",
        "a1.0",
        "1.0-r1_p1",
    ],
    "nuget": ["", "v1.0.0", "1.0.0-", "1.2.3.4.5", "1.0.0-01", "2147483648.0.0"],
}

RANGES: list[tuple[str, str, int]] = [
    ("1.2.3", "^1.2.0", 1),
    ("2.0.0", "^1.2.0", 0),
    ("0.2.5", "^0.2.3", 1),
    ("0.3.0", "^0.2.3", 0),
    ("0.0.4", "^0.0.3", 0),
    ("1.2.4-beta", ">=1.2.3", 0),
    ("1.2.3-beta.2", ">=1.2.3-beta.1 <1.3", 1),
    ("1.2.9", "~1.2.3", 1),
    ("1.3.0", "~1.2.3", 0),
    ("1.5.0", "1.2.3 - 2.3.4", 1),
    ("2.3.5", "1.2.3 - 2.3.4", 0),
    ("2.3.9", "1.2.3 - 2.3", 1),
    ("1.9.9", "1.x", 1),
    ("3.0.0", "<2.0.0 || >=3.0.0", 1),
    ("2.5.0", "<2.0.0 || >=3.0.0", 0),
    ("1.0.0", "*", 1),
    ("1.0.0-rc1", "*", 0),
    ("1.0.0", "", 1),
    ("1.2.3", ">= 1.2.3", 1),
    ("1.2.3", "~> 1.2", 1),
    ("2.0.0", ">1", 1),
    ("1.9.0", ">1", 0),
    ("1.0.0", "<=1.0", 1),
    ("1.1.0", "<=1.0", 0),
    ("1.0.0-rc1", "* || 1.0.0-rc1", 0),
    ("1.0.0-rc1", "1.0.0-rc1 || 2", 1),
]
BAD_RANGES = [">=1.2.3.4", "blerg", "^01.2.3", ">=a.b.c", "1.2.3 -"]


def _cases() -> list[tuple[str, str, str, int]]:
    return [(s, a, b, e) for s, rows in CASES.items() for a, b, e in rows]


@pytest.mark.parametrize(("scheme", "a", "b", "expected"), _cases())
def test_documented_order(scheme: str, a: str, b: str, expected: int) -> None:
    assert compare(scheme, a, b) == expected
    assert compare(scheme, b, a) == -expected
    assert (parse(scheme, a) == parse(scheme, b)) == (expected == 0)


@pytest.mark.parametrize(
    ("scheme", "text"), [(s, t) for s, texts in INVALID.items() for t in texts]
)
def test_documented_invalid(scheme: str, text: str) -> None:
    with pytest.raises(VersionParseError) as info:
        parse(scheme, text)
    assert isinstance(info.value, ParseError)
    assert info.value.scheme == scheme


@pytest.mark.parametrize(("version", "range_", "expected"), RANGES)
def test_npm_satisfies(version: str, range_: str, expected: int) -> None:
    assert satisfies(version, range_) is bool(expected)


@pytest.mark.parametrize("range_", BAD_RANGES)
def test_npm_bad_range(range_: str) -> None:
    with pytest.raises(VersionParseError):
        parse_range(range_)
    with pytest.raises(VersionParseError):
        satisfies("1.2.3", range_)


def test_every_scheme_has_cases() -> None:
    assert set(CASES) == set(schemes())


def test_maven_cycle_is_broken_consistently() -> None:
    # Maven itself says 1.0.alpha.1 < 1 < 1.sp.1 < 1.0.alpha.1 (checked with ComparableVersion):
    # no total order can agree on all three; hullscan keeps the two comparisons with "1".
    assert compare("maven", "1.0.alpha.1", "1") == -1
    assert compare("maven", "1", "1.sp.1") == -1
    assert compare("maven", "1.0.alpha.1", "1.sp.1") == -1


def test_unknown_scheme_and_wrong_types() -> None:
    with pytest.raises(VersionParseError):
        parse("conda", "1.0")
    with pytest.raises(VersionParseError):
        compare("deb", "1.0", None)  # type: ignore[arg-type]
    with pytest.raises(VersionParseError):
        parse(None, "1.0")  # type: ignore[arg-type]


def test_version_objects() -> None:
    a, b = parse("deb", "1:1.0-1"), parse("deb", "1:1.0-1.1")
    assert a < b and a <= b and b > a and b >= a and a != b
    assert sorted([b, a]) == [a, b]
    assert parse("pypi", "1.0") == parse("pypi", "1.0.0")
    assert {parse("pypi", "1.0"), parse("pypi", "1.0.0")} == {parse("pypi", "1.0")}
    assert str(a) == "1:1.0-1" and "deb" in repr(a)
    assert isinstance(a, Version)
    with pytest.raises(TypeError):
        _ = a < parse("rpm", "1.0")
    with pytest.raises(TypeError):
        _ = a < "1.0"  # type: ignore[operator]
    assert a != "1:1.0-1"


def test_too_long() -> None:
    with pytest.raises(VersionParseError):
        parse("deb", "1" * 513)
