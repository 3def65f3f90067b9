"""Markdown for scan results (``markdown``, alias ``md``): a pull-request comment summary.

Layout: a heading with the image and digest; counts per severity (and how many have a fix);
a table of the top findings, most severe first (severity, id, package, installed, fixed in, fix
state); then one collapsible ``<details>`` block per package listing its findings; warnings last.

Text from advisories and images is untrusted: ``|`` and backticks and every other character
Markdown or HTML would interpret are backslash-escaped or written as entities, newlines become
spaces, and ``@`` is written as ``&#64;`` so a package like ``@org/pkg`` never mentions anyone.
The whole comment is bounded by ``max_chars`` (GitHub's comment limit, 65,536, by default):
rows and detail blocks are added while they fit, then a note says how many were left out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import IO, ClassVar

from hullscan.model.finding import Finding, ScanResult
from hullscan.report.scan.sarif import (
    RATINGS,
    advisory_url,
    finding_references,
    finding_score,
    image_digest,
    rating_rank,
)

GITHUB_COMMENT_LIMIT = 65_536
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_ICONS = {
    "critical": "🟣",
    "high": "🔴",
    "medium": "🟠",
    "low": "🟡",
    "negligible": "⚪",
    "unknown": "⚫",
}


def md_escape(text: str, limit: int = 300) -> str:
    """One line of inert Markdown: specials escaped, HTML and mentions neutralized."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "&#64;")


def html_escape(text: str, limit: int = 120) -> str:
    """For text inside an HTML block (``<summary>``), where Markdown escapes would show."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text).replace("@", "&#64;").replace("|", "&#124;")


def severity_sorted(findings: Sequence[Finding]) -> list[Finding]:
    """Most severe first; ties by score (highest first), then the result's risk order."""
    order = {id(f): n for n, f in enumerate(findings)}
    return sorted(
        findings,
        key=lambda f: (rating_rank(f.severity_rating), -(finding_score(f) or 0.0), order[id(f)]),
    )


def _fixed(f: Finding) -> str:
    return md_escape(f.fixed_version, 80) if f.fixed_version else "—"


def _link(f: Finding) -> str:
    url = advisory_url(f.id, finding_references(f))
    return f"[{md_escape(f.id, 80)}](<{url.replace('>', '%3E').replace(' ', '%20')}>)"


def _row(f: Finding) -> str:
    p = f.package
    sev = f"{_ICONS.get(f.severity_rating, '')} {f.severity_rating}"
    if f.kev:
        sev += " (KEV)"
    cells = (
        sev,
        _link(f),
        md_escape(p.name, 80),
        md_escape(p.version, 60),
        _fixed(f),
        f.fix_state,
    )
    return "| " + " | ".join(cells) + " |"


def _details(name: str, findings: Sequence[Finding]) -> str:
    p = findings[0].package
    worst = findings[0].severity_rating
    head = (
        f"<details><summary>{html_escape(name)} {html_escape(p.version, 60)}"
        f" — {len(findings)} finding{'s' if len(findings) != 1 else ''} (worst: {worst})"
        "</summary>\n\n"
    )
    lines = []
    for f in findings:
        line = f"- {_link(f)} **{f.severity_rating}**, {f.fix_state}"
        if f.fixed_version:
            line += f", fixed in {_fixed(f)}"
        if f.summary:
            line += f": {md_escape(f.summary, 200)}"
        lines.append(line)
    src = f"source {md_escape(p.source_name, 80)}, " if p.source_name else ""
    layer = f"layer {p.layer_index}, " if p.layer_index is not None else ""
    meta = f"\n\n{src}{layer}purl {md_escape(p.purl, 200)}" if (src or layer or p.purl) else ""
    return head + "\n".join(lines) + meta + "\n\n</details>\n"


def render_markdown(
    result: ScanResult, *, max_chars: int = GITHUB_COMMENT_LIMIT, top: int = 50
) -> str:
    t = result.target
    findings = severity_sorted(result.findings)
    digest = image_digest(t)
    parts = [f"### hullscan: {md_escape(t.name, 200)}\n"]
    if digest:
        parts.append(f"\nDigest: {md_escape(digest, 100)}\n")
    packages = {f.package.id for f in findings}
    fixable = sum(1 for f in findings if f.fix_state == "fixed")
    if not findings:
        parts.append("\n**No vulnerabilities found.**\n")
    else:
        parts.append(
            f"\n**{len(findings)} vulnerabilit{'ies' if len(findings) != 1 else 'y'}** in "
            f"{len(packages)} package{'s' if len(packages) != 1 else ''}; "
            f"{fixable} with a fix available.\n"
        )
        counts = dict.fromkeys(RATINGS, 0)
        for f in findings:
            counts[f.severity_rating if f.severity_rating in counts else "unknown"] += 1
        parts.append("\n| " + " | ".join(f"{_ICONS[r]} {r}" for r in RATINGS) + " |\n")
        parts.append("|" + "---:|" * len(RATINGS) + "\n")
        parts.append("| " + " | ".join(str(counts[r]) for r in RATINGS) + " |\n")

    tail: list[str] = []
    if result.warnings:
        tail.append("\n**Warnings**\n\n" + "".join(f"- {md_escape(w)}\n" for w in result.warnings))
    tail_text = "".join(tail)

    body = "".join(parts)
    note_reserve = 200
    budget = max_chars - len(tail_text) - note_reserve
    left_out_rows = 0
    left_out_blocks = 0
    if findings:
        shown = findings[:top]
        head = (
            f"\n#### Top {len(shown)} finding{'s' if len(shown) != 1 else ''}\n\n"
            "| Severity | ID | Package | Installed | Fixed in | Fix state |\n"
            "|---|---|---|---|---|---|\n"
        )
        if len(body) + len(head) < budget:
            body += head
            for n, f in enumerate(shown):
                row = _row(f) + "\n"
                if len(body) + len(row) > budget:
                    left_out_rows = len(shown) - n
                    break
                body += row
        else:
            left_out_rows = len(shown)
        by_pkg: dict[str, list[Finding]] = {}
        for f in findings:
            by_pkg.setdefault(f.package.id, []).append(f)
        blocks = [_details(fs[0].package.name, fs) for fs in by_pkg.values()]
        section = "\n#### By package\n\n"
        if len(body) + len(section) < budget:
            body += section
            for n, block in enumerate(blocks):
                if len(body) + len(block) > budget:
                    left_out_blocks = len(blocks) - n
                    break
                body += block
        else:
            left_out_blocks = len(blocks)
    if left_out_rows or left_out_blocks:
        body += (
            f"\n> **Truncated** to fit {max_chars:,} characters: {left_out_rows} table row(s) "
            f"and {left_out_blocks} package block(s) not shown; use `-f json` or `-f sarif` "
            "for the full report.\n"
        )
    elif len(findings) > top:
        body += f"\n> The table shows the top {top} of {len(findings)} findings.\n"
    out = body + tail_text
    if len(out) > max_chars:  # only when max_chars is tiny: hard cut, still with a note
        note = "\n…truncated\n"
        out = out[: max(0, max_chars - len(note))] + note
        out = out[:max_chars]
    return out


class MarkdownWriter:
    """``markdown`` / ``md``: a PR-comment summary bounded to GitHub's comment size."""

    id: ClassVar[str] = "markdown"
    aliases: ClassVar[tuple[str, ...]] = ("md",)
    media_type: ClassVar[str] = "text/markdown"

    def __init__(self, *, max_chars: int = GITHUB_COMMENT_LIMIT, top: int = 50) -> None:
        self.max_chars = max_chars
        self.top = top

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None:
        stream.write(render_markdown(result, max_chars=self.max_chars, top=self.top))
