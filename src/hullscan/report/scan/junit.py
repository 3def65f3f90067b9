"""JUnit XML for scan results (``junit``): vulnerabilities as test failures for CI dashboards.

``<testsuites name="hullscan">`` holds one ``<testsuite>`` per package type in the scanned image
(named ``<image> [<type>]``, with the image reference and digest as ``<properties>``), one
``<testcase>`` per package with findings (``classname`` = ``<type>.<name>``, ``name`` =
``<name>@<version>``) and one ``<failure>`` per finding (``message`` = id, severity and fixed
version; ``type`` = severity; the body lists the details). Packages that were not looked up
(``ScanResult.unmatched``) are ``<skipped>`` test cases, so a dashboard shows what was not
checked. Scan warnings go to ``<system-err>`` of the first suite.

Hand-written with ``xml.sax.saxutils`` escaping (no dependency); characters XML 1.0 cannot carry
(control characters) are replaced by U+FFFD so the document is always well formed.
"""

from __future__ import annotations

import re
from typing import IO, ClassVar
from xml.sax.saxutils import escape, quoteattr

from hullscan.model.finding import Finding, PackageRef, ScanResult, Unmatched
from hullscan.report.scan.sarif import fix_phrase, image_digest, image_reference, rating_rank

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _attr(text: str) -> str:
    return quoteattr(_clean(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _text(text: str) -> str:
    return escape(_clean(text))


def failure_message(f: Finding) -> str:
    fixed = f"fixed in {f.fixed_version}" if f.fixed_version else fix_phrase(f)
    return f"{f.id} ({f.severity_rating}): {fixed}"


def _failure_body(f: Finding) -> str:
    p = f.package
    lines = [
        f"Vulnerability: {f.id}",
        f"Package: {p.name} {p.version} ({p.type})",
        f"Severity: {f.severity_rating}"
        + (f" (score {f.severity_score})" if f.severity_score is not None else ""),
        f"Fix state: {f.fix_state}",
        f"Fixed version: {f.fixed_version or 'none'}",
    ]
    if f.aliases:
        lines.append(f"Aliases: {', '.join(f.aliases)}")
    if p.source_name:
        lines.append(f"Source package: {p.source_name} {p.source_version or ''}".rstrip())
    if p.layer_index is not None:
        lines.append(f"Layer: {p.layer_index} {p.created_by or ''}".rstrip())
    if f.kev:
        lines.append("In CISA KEV: yes")
    if f.epss is not None:
        lines.append(f"EPSS: {f.epss}")
    if not f.compared:
        lines.append("Could not compare versions: " + "; ".join(f.notes))
    if f.summary:
        lines.append(f"Summary: {f.summary}")
    lines.append(f"PURL: {p.purl}")
    return "\n".join(lines)


def _suite_props(result: ScanResult) -> list[tuple[str, str]]:
    t = result.target
    props = [("image", t.name), ("image.reference", image_reference(t))]
    digest = image_digest(t)
    if digest:
        props.append(("image.digest", digest))
    if result.namespace:
        props.append(("namespace", result.namespace))
    return props


class _Suite:
    def __init__(self, ptype: str) -> None:
        self.type = ptype
        self.cases: dict[str, tuple[PackageRef, list[Finding]]] = {}
        self.skipped: list[Unmatched] = []

    @property
    def tests(self) -> int:
        return len(self.cases) + len(self.skipped)

    @property
    def failures(self) -> int:
        return sum(len(fs) for _, fs in self.cases.values())


def render_junit(result: ScanResult) -> str:
    suites: dict[str, _Suite] = {}
    for f in result.findings:
        suite = suites.setdefault(f.package.type, _Suite(f.package.type))
        suite.cases.setdefault(f.package.id, (f.package, []))[1].append(f)
    for u in result.unmatched:
        suites.setdefault(u.type, _Suite(u.type)).skipped.append(u)
    if not suites:
        suites[""] = _Suite("")  # an empty scan is one passing, empty suite

    tests = sum(s.tests for s in suites.values())
    failures = sum(s.failures for s in suites.values())
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.append(f'<testsuites name="hullscan" tests="{tests}" failures="{failures}" errors="0">')
    for n, key in enumerate(sorted(suites)):
        s = suites[key]
        name = f"{result.target.name} [{s.type}]" if s.type else result.target.name
        out.append(
            f'  <testsuite name={_attr(name)} tests="{s.tests}" failures="{s.failures}"'
            f' errors="0" skipped="{len(s.skipped)}">'
        )
        out.append("    <properties>")
        for pname, value in _suite_props(result):
            out.append(f"      <property name={_attr(pname)} value={_attr(value)}/>")
        out.append("    </properties>")
        cases = sorted(s.cases.values(), key=lambda c: (c[0].name, c[0].version, c[0].id))
        for p, findings in cases:
            out.append(
                f"    <testcase classname={_attr(f'{p.type}.{p.name}')}"
                f" name={_attr(f'{p.name}@{p.version}')}>"
            )
            for f in sorted(findings, key=lambda f: (rating_rank(f.severity_rating), f.id)):
                out.append(
                    f"      <failure message={_attr(failure_message(f))}"
                    f" type={_attr(f.severity_rating)}>{_text(_failure_body(f))}</failure>"
                )
            out.append("    </testcase>")
        for u in sorted(s.skipped, key=lambda u: (u.name, u.version, u.package_id)):
            out.append(
                f"    <testcase classname={_attr(f'{u.type}.{u.name}')}"
                f" name={_attr(f'{u.name}@{u.version}')}>"
            )
            out.append(f"      <skipped message={_attr('not checked: ' + u.reason)}/>")
            out.append("    </testcase>")
        if n == 0 and result.warnings:
            out.append(f"    <system-err>{_text(chr(10).join(result.warnings))}</system-err>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


class JunitWriter:
    """``junit``: JUnit XML, one failure per vulnerability."""

    id: ClassVar[str] = "junit"
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "application/xml"

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None:
        stream.write(render_junit(result))
