"""Table writer: deterministic plain text off a terminal, sane at 80 columns, footer lines."""

from __future__ import annotations

import io

import msgspec
import pytest

from hullscan.model import SBOM, Package
from hullscan.report.table import MAX_STEP, TableWriter, short_step
from tests.unit.test_report_samples import CASES, check_golden


def render(sbom: SBOM, width: int | None = None, stream: io.StringIO | None = None) -> str:
    buf = stream or io.StringIO()
    TableWriter(width=width).write_sbom(sbom, buf)
    return buf.getvalue()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("case", sorted(CASES))
def test_table_golden_plain(case: str) -> None:
    check_golden("table", case, render(CASES[case]))


@pytest.mark.parametrize("case", ["debian", "rpm"])
def test_table_golden_80_columns(case: str) -> None:
    check_golden("table", f"{case}-80", render(CASES[case], width=80))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("width", [80, 100])
def test_table_fits_width_and_keeps_names_and_versions(case: str, width: int) -> None:
    text = render(CASES[case], width=width)
    table_lines = text.split("\n\n")[1] if CASES[case].packages else ""
    for line in table_lines.splitlines():
        assert len(line) <= width, line
    for p in CASES[case].packages:
        assert p.name in text
        if len(p.version) <= 25:
            assert p.version in text


def test_table_plain_has_no_escape_codes_and_no_trailing_spaces() -> None:
    text = render(CASES["rpm"])
    assert "\x1b" not in text
    assert all(line == line.rstrip() for line in text.splitlines())
    assert text.endswith("\n")


def test_table_to_terminal_uses_style() -> None:
    text = render(CASES["debian"], width=120, stream=FakeTerminal())
    assert "\x1b[" in text


def test_table_header_lines() -> None:
    lines = render(CASES["debian"]).splitlines()
    assert lines[0] == "Target: docker-archive:/tmp/images/curl-bookworm.tar"
    assert lines[1] == "Distro: Debian GNU/Linux 12 (bookworm)"
    assert lines[2] == f"Digest: {CASES['debian'].target.manifest_digest}"


def test_table_rows_are_sorted_regardless_of_input_order() -> None:
    sbom = CASES["debian"]
    reversed_ = msgspec.structs.replace(sbom, packages=tuple(reversed(sbom.packages)))
    assert render(reversed_) == render(sbom)
    rows = render(sbom).split("\n\n")[1].splitlines()[2:]
    names = [row.split()[0] for row in rows]
    assert names == sorted(names)


def test_table_layer_column_shows_index_and_short_step() -> None:
    text = render(CASES["debian"])
    curl_row = next(line for line in text.splitlines() if line.startswith("curl "))
    assert "1 RUN apt-get update && apt-get install" in curl_row
    assert "/bin/sh -c" not in curl_row
    base_row = next(line for line in text.splitlines() if line.startswith("base-files "))
    assert "0 ADD file:4b1be1de" in base_row


def test_table_footer_has_count_warnings_and_statuses() -> None:
    text = render(CASES["rpm"])
    assert "4 packages" in text
    assert "warning: layer 1: 3 entries with unsafe names were skipped" in text
    assert "analyzer os/rpm: partial (1 file could not be read)" in text
    assert "  usr/lib/sysimage/rpm/Packages: truncated page 12" in text
    assert "analyzer os/osrelease" not in text
    assert render(CASES["empty"]).endswith("0 packages\n")


def test_table_markup_in_names_is_printed_literally() -> None:
    pkg = Package(
        name="[bold red]evil[/]", version="1", type="npm", purl="pkg:npm/evil@1", found_by="t"
    )
    text = render(SBOM(target=CASES["empty"].target, packages=(pkg,)))
    assert "[bold red]evil[/]" in text


def test_table_long_version_wraps_rather_than_truncates_at_80() -> None:
    lines = render(CASES["rpm"], width=80).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Name "))
    start, end = lines[header].index("Version"), lines[header].index("Type")
    row = next(i for i, line in enumerate(lines) if line.startswith("nodejs "))
    cells = [lines[row][start:end].strip(), lines[row + 1][start:end].strip()]
    assert "".join(cells) == "1:18.19.0-1.module+el8.9.0+20473+c4e3d824"


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        pytest.param("/bin/sh -c #(nop) ADD file:abc in / ", "ADD file:abc in /", id="classic-nop"),
        pytest.param("/bin/sh -c apt-get update", "RUN apt-get update", id="classic-run"),
        pytest.param("RUN /bin/sh -c make # buildkit", "RUN make", id="buildkit-run"),
        pytest.param("|2 A=1 B=2 /bin/sh -c make", "RUN make", id="build-args"),
        pytest.param("COPY . /app # buildkit", "COPY . /app", id="buildkit-copy"),
        pytest.param("  ENV   A=b  ", "ENV A=b", id="whitespace"),
        pytest.param(None, "", id="none"),
    ],
)
def test_short_step(created_by: str | None, expected: str) -> None:
    assert short_step(created_by) == expected


def test_short_step_caps_length() -> None:
    out = short_step("RUN " + "x" * 200)
    assert len(out) == MAX_STEP
    assert out.endswith("…")
