"""``table``: a scan result for people, rendered with rich (not a stable format: parse ``json``).

Layout::

    Target: docker-archive:image.tar
    Distro: Debian GNU/Linux 12 (bookworm) (namespace debian:12)
    warning: debian:12 reached end of standard security support ...     (warnings first)

    debian:12 (OS packages): 110 findings (1 critical, 2 high, ...)
     Package  Installed  Fixed  ID  Severity  Status  Layer
     ...
    pypi (Python packages): 3 findings (...)
     ...

    Remediation
     Package  Installed  Upgrade to  Fixes  Command
     ...
    38 package(s) have findings without a fix: curl, ...

    Layers (base = rule first-layer): base image 74 findings, application 36
    Suppressed: 3 (--show-suppressed lists them)                      (or the list)
    110 findings: 1 critical, 2 high, 16 medium, 3 low, 70 negligible, 18 unknown

Groups: OS packages (deb/rpm/apk) first, then one group per language package type. Rows keep
the result's order (risk unless ``--sort``). Status is the fix state, plus ``KEV`` (in CISA's
Known Exploited list), ``MALICIOUS``, ``not compared`` (the version could not be compared).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from typing import IO, ClassVar

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hullscan.model.finding import Finding, Remediation, ScanResult, Suppressed
from hullscan.report.base import digest_lines
from hullscan.report.table import TableWriter as _SbomTable
from hullscan.report.table import short_step

OS_TYPES = ("deb", "rpm", "apk")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "negligible", "unknown")
_STYLES = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "negligible": "dim",
    "unknown": "dim",
}
_LANG_NAMES = {
    "pypi": "Python packages",
    "npm": "Node.js packages",
    "maven": "Java packages",
    "golang": "Go modules",
    "cargo": "Rust crates",
    "gem": "Ruby gems",
    "composer": "PHP packages",
    "nuget": ".NET packages",
}


def _counts(findings: Sequence[Finding]) -> str:
    c = Counter(f.severity_rating for f in findings)
    parts = [f"{c[s]} {s}" for s in SEVERITY_ORDER if c[s]]
    return ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _status(f: Finding) -> str:
    parts: list[str] = [f.fix_state]
    if f.kev:
        parts.append("KEV")
    if f.malicious:
        parts.append("MALICIOUS")
    if not f.compared:
        parts.append("not compared")
    return " ".join(parts)


def _layer(index: int | None, created_by: str | None) -> str:
    if index is None:
        return ""
    step = short_step(created_by, 30)
    return f"{index} {step}" if step else str(index)


def _table(*headers: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for h in headers:
        table.add_column(h, overflow="fold", no_wrap=h in ("Severity", "Status", "ID"))
    return table


def _findings_table(findings: Sequence[Finding]) -> Table:
    table = _table("Package", "Installed", "Fixed", "ID", "Severity", "Status", "Layer")
    for f in findings:
        p = f.package
        table.add_row(
            Text(p.name),
            Text(p.version),
            Text(f.fixed_version or ""),
            Text(f.id),
            Text(f.severity_rating, style=_STYLES.get(f.severity_rating, "")),
            Text(_status(f)),
            Text(_layer(p.layer_index, p.created_by), style="dim"),
        )
    return table


def _groups(result: ScanResult) -> list[tuple[str, list[Finding]]]:
    os_findings = [f for f in result.findings if f.package.type in OS_TYPES]
    groups: list[tuple[str, list[Finding]]] = []
    if os_findings:
        ns = result.namespace or (result.distro.id if result.distro else "OS")
        groups.append((f"{ns} (OS packages)", os_findings))
    others: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.package.type not in OS_TYPES:
            others.setdefault(f.package.type, []).append(f)
    for t in sorted(others):
        groups.append((f"{t} ({_LANG_NAMES.get(t, 'packages')})", others[t]))
    return groups


def _remediation_table(rems: Sequence[Remediation]) -> Table:
    table = _table("Package", "Installed", "Upgrade to", "Fixes", "Command")
    for r in rems:
        table.add_row(
            Text(r.package.name),
            Text(r.package.version),
            Text(r.fixed_version or ""),
            Text(str(len(r.findings))),
            Text(r.command or ""),
        )
    return table


def _suppressed_table(items: Sequence[Suppressed]) -> Table:
    table = _table("Package", "Installed", "ID", "Severity", "By", "Reason")
    for s in items:
        f = s.finding
        table.add_row(
            Text(f.package.name),
            Text(f.package.version),
            Text(f.id),
            Text(f.severity_rating),
            Text(s.by),
            Text(s.reason or ""),
        )
    return table


class TableWriter:
    """``table``: findings grouped per package kind, remediation, layers, suppressed."""

    id: ClassVar[str] = "table"
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "text/plain"

    def __init__(self, width: int | None = None) -> None:
        self.width = width

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None:
        buffer = io.StringIO()
        console: Console = _SbomTable(self.width)._console(stream, buffer)

        def line(text: str, style: str = "") -> None:
            console.print(Text(text, style=style), soft_wrap=True)

        line(f"Target: {result.target.name}", "bold")
        for label, value in digest_lines(result.target):
            line(f"{label}: {value}")
        if result.distro is not None:
            d = result.distro
            name = d.pretty_name or " ".join(filter(None, (d.id, d.version)))
            ns = (
                f" (namespace {result.namespace})"
                if result.namespace
                else " (no vulnerability data)"
            )
            line(f"Distro: {name}{ns}")
        if result.db_built_at:
            line(f"DB built: {result.db_built_at}")
        for w in result.warnings:
            line(f"warning: {w}", "yellow")

        for title, findings in _groups(result):
            console.print()
            line(f"{title}: {_plural(len(findings), 'finding')} ({_counts(findings)})", "bold")
            console.print(_findings_table(findings))

        fixable = [r for r in result.remediations if r.fixed_version is not None]
        unfixable = [r for r in result.remediations if r.fixed_version is None]
        if result.remediations:
            console.print()
            line("Remediation", "bold")
            if fixable:
                console.print(_remediation_table(fixable))
            if unfixable:
                names = ", ".join(dict.fromkeys(r.package.name for r in unfixable))
                line(
                    f"{_plural(len(unfixable), 'package')} with findings that have no fix: {names}"
                )

        summary = result.layer_summary
        if summary is not None and result.findings and summary.layers:
            console.print()
            base = ", ".join(str(i) for i in summary.base_layers) or "none"
            line(
                f"Layers: base image (layer {base}; rule {summary.rule}): "
                f"{_plural(summary.base_findings, 'finding')}; "
                f"application: {_plural(summary.app_findings, 'finding')}"
                + (f"; no layer: {summary.unknown_layer}" if summary.unknown_layer else "")
            )
            for lf in summary.layers:
                if lf.findings:
                    kind = "base" if lf.base else "app"
                    line(
                        f"  {lf.index} [{kind}] {short_step(lf.created_by, 60)}: "
                        f"{_plural(lf.findings, 'finding')} in {_plural(lf.packages, 'package')}",
                        "dim",
                    )

        if result.suppressed:
            console.print()
            line(f"Suppressed ({len(result.suppressed)})", "bold")
            console.print(_suppressed_table(result.suppressed))
        console.print()
        total = len(result.findings)
        tail = f": {_counts(result.findings)}" if total else ""
        line(
            f"{_plural(total, 'finding')}{tail}"
            + (
                f"; {result.suppressed_count} suppressed"
                + ("" if result.suppressed else " (--show-suppressed lists them)")
                if result.suppressed_count
                else ""
            )
        )
        stream.write("".join(ln.rstrip() + "\n" for ln in buffer.getvalue().splitlines()))
