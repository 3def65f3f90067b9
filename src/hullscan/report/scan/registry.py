"""The explicit list of scan-report writers (imported lazily: only the one asked for loads)."""

from __future__ import annotations

import importlib

from hullscan.errors import UsageError
from hullscan.report.scan.base import ScanWriter

# format id -> "module:Class". Aliases are declared on the classes and resolved here.
WRITERS: dict[str, str] = {
    "table": "hullscan.report.scan.table:TableWriter",
    "json": "hullscan.report.scan.json:JsonWriter",
    "sarif": "hullscan.report.scan.sarif:SarifWriter",
    "cyclonedx": "hullscan.report.scan.cdx_vex:CycloneDxVexWriter",
    "junit": "hullscan.report.scan.junit:JunitWriter",
    "markdown": "hullscan.report.scan.markdown:MarkdownWriter",
    "html": "hullscan.report.scan.html:HtmlWriter",
}
ALIASES: dict[str, str] = {"hullscan-json": "json", "cyclonedx-vex": "cyclonedx", "md": "markdown"}


def scan_writer_names() -> list[str]:
    return sorted(WRITERS)


def get_scan_writer(name: str) -> ScanWriter:
    key = name.lower()
    key = ALIASES.get(key, key)
    target = WRITERS.get(key)
    if target is None:
        valid = ", ".join(scan_writer_names()) or "none"
        raise UsageError(f"unknown report format {name!r}; valid: {valid}")
    module, _, cls = target.partition(":")
    writer: ScanWriter = getattr(importlib.import_module(module), cls)()
    return writer
