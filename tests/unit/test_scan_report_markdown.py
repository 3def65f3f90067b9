"""Markdown scan writer: counts, severity-sorted table, escaping, bounded length."""

from __future__ import annotations

import io
import re
from pathlib import Path

import msgspec

from hullscan.model.finding import ScanResult
from hullscan.report.scan.markdown import GITHUB_COMMENT_LIMIT, MarkdownWriter, md_escape
from hullscan.report.scan.sarif import RATINGS, rating_rank
from tests.unit.test_scan_report_support import empty_result, sample_result


def render(result: ScanResult, **kw: int) -> str:
    buf = io.StringIO()
    MarkdownWriter(**kw).write_scan(result, buf)
    return buf.getvalue()


def table_rows(text: str) -> list[list[str]]:
    """Rows of the top-findings table, split on unescaped pipes."""
    section = text.split("#### Top", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [
        [c.strip() for c in re.split(r"(?<!\\)\|", r.strip().strip("|"))] for r in rows[1:]
    ]


def test_writer_attributes() -> None:
    assert MarkdownWriter.id == "markdown" and "md" in MarkdownWriter.aliases


def test_summary_table_and_details(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    text = render(result)
    assert "registry.example/app:1.0" in text
    assert f"**{len(result.findings)} vulnerabilities**" in text
    # counts per severity: header cells then the count row
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if "critical" in line and line.startswith("| "))
    counts = [int(c) for c in lines[i + 2].strip("| ").split(" | ")]
    assert counts[RATINGS.index("critical")] == 2 and sum(counts) == len(result.findings)
    rows = table_rows(text)
    assert len(rows) == len(result.findings)
    ranks = [rating_rank(r[0].split()[-1] if "KEV" not in r[0] else r[0].split()[1]) for r in rows]
    assert ranks == sorted(ranks)
    assert any(r[4] == "3.0.14-1\\~deb12u1" for r in rows)  # GFM: a lone ~ strikes through
    assert all(len(r) == 6 for r in rows)  # escaped pipes did not split cells
    assert text.count("<details>") == len({f.package.id for f in result.findings})
    assert text.count("<details>") == text.count("</details>")
    # the summary text's pipe, backticks and HTML are inert
    assert "buffer \\| overflow in \\`X509\\`" in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_escape() -> None:
    assert md_escape("a|b`c") == "a\\|b\\`c"
    assert md_escape("@babel/core") == "&#64;babel/core"
    assert md_escape("x\ny") == "x y"
    assert md_escape("<img src=x>") == "&lt;img src=x&gt;"


def test_bounded_length(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    f = result.findings[0]
    many = tuple(
        msgspec.structs.replace(
            f,
            id=f"CVE-2024-{n:05d}",
            summary="x" * 500,
            package=msgspec.structs.replace(f.package, id=f"p{n}", name=f"pkg{n}"),
        )
        for n in range(3000)
    )
    big = msgspec.structs.replace(result, findings=many)
    text = render(big)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "**Truncated**" in text
    assert "3000 vulnerabilities" in text
    small = render(big, max_chars=2000)
    assert len(small) <= 2000 and "runcated" in small
    tiny = render(big, max_chars=100)
    assert len(tiny) <= 100


def test_top_limit_note(tmp_path: Path) -> None:
    text = render(sample_result(tmp_path), top=2)
    assert len(table_rows(text)) == 2
    assert "top 2 of 5" in text


def test_empty_and_warnings() -> None:
    r = msgspec.structs.replace(empty_result(), warnings=("no | distro",))
    text = render(r)
    assert "No vulnerabilities found" in text
    assert "no \\| distro" in text
