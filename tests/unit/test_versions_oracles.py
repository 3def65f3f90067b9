"""hullscan.versions against the real tools: zero disagreements on every committed oracle row.

The oracle files were produced by scripts/gen_version_oracles.py with each ecosystem's own
implementation (apt_pkg, rpm, packaging, node-semver, Maven's ComparableVersion, x/mod/semver,
Gem::Version, composer/semver, the semver crate) over real version strings from
shared/vulndata; apk and nuget hold the upstream projects' own test vectors. These tests read
the files only: the tools are not needed here.
"""

from __future__ import annotations

import pytest

from hullscan.versions import VersionParseError, compare, parse, schemes
from hullscan.versions.npm import parse_range, satisfies
from tests.unit.versionoracles import (
    TOOL_SCHEMES,
    VECTOR_SCHEMES,
    comparisons,
    policy_rejected,
    read,
    rejected,
)

ALL = TOOL_SCHEMES + VECTOR_SCHEMES
MIN_TOOL_PAIRS = 100_000


def _show(bad: list[tuple[object, ...]], total: int) -> str:
    lines = [f"{len(bad)} of {total} rows disagree; first {min(20, len(bad))}:"]
    lines += [f"  {row!r}" for row in bad[:20]]
    return "\n".join(lines)


def test_every_scheme_has_an_oracle() -> None:
    assert set(ALL) == set(schemes())


@pytest.mark.parametrize("scheme", ALL)
def test_oracle_header_names_its_tool(scheme: str) -> None:
    header, _ = read(scheme)
    tool = [h for h in header if h.startswith("# tool: ")]
    assert tool, header
    if scheme in TOOL_SCHEMES:
        assert len(comparisons(scheme)) >= MIN_TOOL_PAIRS


@pytest.mark.parametrize("scheme", ALL)
def test_all_oracle_comparisons_agree(scheme: str) -> None:
    rows = comparisons(scheme)
    bad: list[tuple[object, ...]] = []
    for a, b, expected in rows:
        try:
            got = compare(scheme, a, b)
        except VersionParseError as exc:
            bad.append((a, b, expected, f"rejected: {exc.reason}"))
            continue
        if got != expected:
            bad.append((a, b, expected, got))
    assert not bad, _show(bad, len(rows))


@pytest.mark.parametrize("scheme", ALL)
def test_strings_the_tool_rejects_are_rejected(scheme: str) -> None:
    # P rows: accepted by the tool, rejected by hullscan on purpose (docs/versions.md).
    texts = rejected(scheme) + policy_rejected(scheme)
    accepted = []
    for text in texts:
        try:
            parse(scheme, text)
        except VersionParseError:
            continue
        accepted.append((text,))
    assert not accepted, _show(accepted, len(texts))


@pytest.mark.parametrize("scheme", ALL)
def test_oracle_equalities_are_key_equalities(scheme: str) -> None:
    """compare == 0 exactly when the parsed versions are equal (and then hash alike)."""
    bad: list[tuple[object, ...]] = []
    for a, b, expected in comparisons(scheme)[:20_000]:
        va, vb = parse(scheme, a), parse(scheme, b)
        if (va == vb) != (expected == 0) or (va == vb and hash(va) != hash(vb)):
            bad.append((a, b, expected))
    assert not bad, _show(bad, 20_000)


def test_npm_ranges_agree_with_node_semver() -> None:
    header, rows = read("npm-ranges")
    assert any(h.startswith("# tool: ") for h in header)
    bad: list[tuple[object, ...]] = []
    n = 0
    for version, range_, expected in rows:
        if expected == "E":
            try:
                parse_range(range_)
            except VersionParseError:
                continue
            bad.append((range_, "accepted"))
            continue
        n += 1
        try:
            got = satisfies(version, range_)
        except VersionParseError as exc:
            bad.append((version, range_, expected, f"rejected: {exc.reason}"))
            continue
        if int(got) != int(expected):
            bad.append((version, range_, expected, int(got)))
    assert n >= MIN_TOOL_PAIRS
    assert not bad, _show(bad, len(rows))
