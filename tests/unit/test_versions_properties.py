"""Property tests for hullscan.versions: every scheme's order is a total order, and its parser
raises nothing but VersionParseError, whatever the input.

Versions come from each scheme's grammar (a regex) and from the real version strings in the
committed oracles, so both synthetic corner cases and real-world shapes are exercised.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.versions import VersionParseError, compare, parse, schemes
from hullscan.versions.npm import parse_range, satisfies
from tests.unit.versionoracles import strings

_SEMVER_CORE = r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})"
_SEMVER_ID = r"(0|[1-9][0-9]?|[0-9]?[a-zA-Z-][a-zA-Z0-9-]{0,3})"
_SEMVER = rf"{_SEMVER_CORE}(-{_SEMVER_ID}(\.{_SEMVER_ID}){{0,2}})?(\+[a-z0-9]{{1,3}})?"

GRAMMARS: dict[str, str] = {
    "deb": r"([0-9]{1,2}:)?[0-9][0-9a-zA-Z.+~]{0,8}(-[0-9a-zA-Z.+~]{1,5})?",
    "rpm": r"([0-9]{1,2}:)?[0-9a-zA-Z._+~^]{1,10}(-[0-9a-zA-Z._+~^]{1,6})?",
    "apk": (
        r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}[a-z]?"
        r"(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]{0,3}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?"
    ),
    "pypi": (
        r"([0-9]!)?[0-9]{1,3}(\.[0-9]{1,3}){0,3}((a|b|rc|alpha|c)[0-9]{0,2})?(\.post[0-9])?"
        r"(\.dev[0-9])?(\+[a-z0-9]{1,3}(\.[a-z0-9]{1,3})?)?"
    ),
    "npm": rf"v?{_SEMVER}",
    "cargo": _SEMVER,
    "golang": (
        r"v?(0|[1-9][0-9]?)(\.(0|[1-9][0-9]?)(\.(0|[1-9][0-9]?)"
        rf"(-{_SEMVER_ID}(\.{_SEMVER_ID}){{0,2}})?(\+incompatible)?)?)?"
    ),
    "maven": (
        r"([0-9]{1,2}|[a-z]{1,2})([.-]?([0-9]{1,2}|alpha|beta|milestone|rc|cr|snapshot|ga|final"
        r"|release|sp|[a-zA-Z]{1,3}|[abm][0-9])){0,5}"
    ),
    "gem": r"[0-9]{1,3}(\.([0-9]{1,3}|[a-zA-Z]{1,4}[0-9]{0,2})){0,4}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,4}){0,2})?",
    "nuget": (
        r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}(-[0-9A-Za-z-]{1,5}(\.[0-9A-Za-z-]{1,5}){0,2})?"
        r"(\+[0-9A-Za-z-]{1,4})?"
    ),
    "composer": (
        r"v?[0-9]{1,3}(\.[0-9]{1,3}){0,3}([-.]?(alpha|beta|RC|a|b|rc|patch|pl|p|stable)"
        r"([.-]?[0-9]{1,2}){0,2})?([-.]dev)?|[0-9]\.[0-9x]\.x-dev|dev-master|[0-9]{8}"
    ),
}

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def _valid(scheme: str, text: str) -> bool:
    try:
        parse(scheme, text)
    except VersionParseError:
        return False
    return True


@functools.cache
def _real(scheme: str) -> list[str]:
    return strings(scheme)


def versions(scheme: str) -> st.SearchStrategy[str]:
    grammar = st.from_regex(GRAMMARS[scheme], fullmatch=True).filter(lambda t: _valid(scheme, t))
    return st.one_of(grammar, st.sampled_from(_real(scheme)))


def test_every_scheme_has_a_grammar() -> None:
    assert set(GRAMMARS) == set(schemes())


@pytest.mark.parametrize("scheme", schemes())
def test_reflexive_total_and_hash(scheme: str) -> None:
    @FAST
    @given(versions(scheme), versions(scheme))
    def check(a: str, b: str) -> None:
        assert compare(scheme, a, a) == 0
        va, vb = parse(scheme, a), parse(scheme, b)
        equal = compare(scheme, a, b) == 0
        assert (va == vb) is equal
        if equal:
            assert hash(va) == hash(vb)
            assert not (va < vb) and not (va > vb) and va <= vb and va >= vb

    check()


@pytest.mark.parametrize("scheme", schemes())
def test_antisymmetric(scheme: str) -> None:
    @FAST
    @given(versions(scheme), versions(scheme))
    def check(a: str, b: str) -> None:
        assert compare(scheme, a, b) == -compare(scheme, b, a)
        assert compare(scheme, a, b) in (-1, 0, 1)

    check()


@pytest.mark.parametrize("scheme", schemes())
def test_transitive(scheme: str) -> None:
    @FAST
    @given(versions(scheme), versions(scheme), versions(scheme))
    def check(a: str, b: str, c: str) -> None:
        ab, bc, ac = compare(scheme, a, b), compare(scheme, b, c), compare(scheme, a, c)
        if ab <= 0 and bc <= 0:
            assert ac <= 0
        if ab >= 0 and bc >= 0:
            assert ac >= 0
        if ab == 0 and bc == 0:
            assert ac == 0
        ordered = sorted([a, b, c], key=lambda t: parse(scheme, t))
        assert compare(scheme, ordered[0], ordered[1]) <= 0
        assert compare(scheme, ordered[1], ordered[2]) <= 0

    check()


def _mutations(scheme: str) -> st.SearchStrategy[str]:
    """Valid versions with a few characters inserted, deleted or replaced: near-misses reach
    deeper into the parsers than random text does."""
    junk = st.sampled_from(list(".-_+~^:!*xXvV0 9aZz\t\n\x00\u00e9\u0663\u017f[],|<>=$"))

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        text = draw(st.sampled_from(_real(scheme)))
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(text)))
            op = draw(st.sampled_from(["insert", "delete", "replace"]))
            if op == "insert":
                text = text[:i] + draw(junk) + text[i:]
            elif op == "delete":
                text = text[:i] + text[i + 1 :]
            else:
                text = text[:i] + draw(junk) + text[i + 1 :]
        return text

    return mutate()


@pytest.mark.parametrize("scheme", schemes())
def test_parse_raises_only_version_parse_error(scheme: str) -> None:
    @settings(max_examples=120, deadline=None)
    @given(st.one_of(st.text(max_size=40), _mutations(scheme)))
    def check(text: str) -> None:
        try:
            v = parse(scheme, text)
        except VersionParseError as exc:
            assert exc.scheme == scheme
            return
        assert compare(scheme, text, text) == 0
        assert v == parse(scheme, text)

    check()


def test_npm_ranges_raise_only_version_parse_error() -> None:
    pieces = st.sampled_from(
        [
            "1.2.3",
            "1.x",
            "*",
            "^",
            "~",
            ">=",
            "<",
            " - ",
            " || ",
            " ",
            "1",
            ".",
            "-beta",
            "+b",
            "v",
            "=",
        ]
    )

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(st.text(max_size=30), st.lists(pieces, max_size=8).map("".join)))
    def check(range_: str) -> None:
        try:
            parse_range(range_)
            satisfies("1.2.3", range_)
        except VersionParseError:
            pass

    check()
