"""Platform parsing, normalisation and matching."""

from __future__ import annotations

import pytest

from hullscan.errors import UsageError
from hullscan.image.platform import (
    DEFAULT_PLATFORM,
    Platform,
    best_match,
    match_score,
    matches,
    normalize_arch,
    parse_platform,
    platform_from_json,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "linux/amd64"),
        ("", "linux/amd64"),
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/x86-64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/aarch64", "linux/arm64/v8"),
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm64/8", "linux/arm64/v8"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm/6", "linux/arm/v6"),
        ("linux/i686", "linux/386"),
        ("linux/ppc64el", "linux/ppc64le"),
        ("Linux/AMD64", "linux/amd64"),
        (" linux/s390x ", "linux/s390x"),
        ("windows/amd64", "windows/amd64"),
    ],
)
def test_parse_platform(text: str | None, expected: str) -> None:
    assert str(parse_platform(text)) == expected


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux/arm64/v8/x", "a//b"])
def test_parse_platform_invalid(text: str) -> None:
    with pytest.raises(UsageError, match="os/arch"):
        parse_platform(text)


def test_default_is_linux_amd64() -> None:
    assert Platform("linux", "amd64") == DEFAULT_PLATFORM


def test_normalize_arch() -> None:
    assert normalize_arch("aarch64", None) == ("arm64", "v8")
    assert normalize_arch("x86_64", "v1") == ("amd64", None)
    assert normalize_arch("riscv64", None) == ("riscv64", None)


@pytest.mark.parametrize(
    ("want", "have", "ok"),
    [
        ("linux/amd64", Platform("linux", "amd64"), True),
        ("linux/amd64", Platform("linux", "x86_64"), True),
        ("linux/amd64", Platform("linux", "amd64", "v2"), True),
        ("linux/amd64/v3", Platform("linux", "amd64", "v2"), True),
        ("linux/amd64/v2", Platform("linux", "amd64", "v3"), False),
        ("linux/arm64", Platform("linux", "arm64"), True),
        ("linux/arm64", Platform("linux", "aarch64", "v8"), True),
        ("linux/arm/v7", Platform("linux", "arm", "v6"), True),
        ("linux/arm/v6", Platform("linux", "arm", "v7"), False),
        ("linux/amd64", Platform("linux", "arm64"), False),
        ("linux/amd64", Platform("windows", "amd64"), False),
        ("linux/s390x", Platform("linux", "s390x", "weird"), False),
    ],
)
def test_matches(want: str, have: Platform, ok: bool) -> None:
    assert matches(parse_platform(want), have) is ok


def test_best_match_prefers_exact() -> None:
    cands = [
        Platform("linux", "amd64", "v3"),
        None,
        Platform("linux", "amd64"),
        Platform("linux", "arm64", "v8"),
    ]
    assert best_match(parse_platform("linux/amd64"), cands) == 2
    assert best_match(parse_platform("linux/amd64/v3"), cands) == 0
    assert best_match(parse_platform("linux/arm64"), cands) == 3
    assert best_match(parse_platform("linux/ppc64le"), cands) is None
    exact = match_score(parse_platform("linux/arm/v7"), Platform("linux", "arm", "v7"))
    compat = match_score(parse_platform("linux/arm/v7"), Platform("linux", "arm", "v6"))
    assert exact is not None and compat is not None and exact > compat


def test_platform_from_json() -> None:
    assert platform_from_json({"os": "linux", "architecture": "arm", "variant": "v7"}) == Platform(
        "linux", "arm", "v7"
    )
    assert platform_from_json({"os": "linux", "architecture": "amd64", "variant": ""}) == Platform(
        "linux", "amd64"
    )
    assert platform_from_json({"os": "linux"}) is None
    assert platform_from_json({"os": 1, "architecture": "amd64"}) is None
    assert platform_from_json(["linux"]) is None
