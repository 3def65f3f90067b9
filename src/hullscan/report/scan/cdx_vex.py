"""CycloneDX 1.6 VEX for scan results (``cyclonedx``, alias ``cyclonedx-vex``).

Built with cyclonedx-python-lib and serialized by the SBOM writer's :func:`render`, with the SBOM
writer's conventions: the image is ``metadata.component`` with ``bom-ref`` ``image``
(:data:`IMAGE_REF`) and ``hullscan:image:*`` properties; each package a finding is about is a
``library`` component whose ``bom-ref`` is ``Package.id`` (= ``PackageRef.id``), the same bom-ref
the ``hullscan sbom -f cyclonedx`` document gives it, so ``affects[].ref`` can be resolved against
either document.

One ``vulnerabilities[]`` entry per (id, fix state, fixed version, ratings) group: packages built
from the same source with the same verdict share one entry with several ``affects``. Fields:
``id``, ``source`` (the feed(s) that matched, with the advisory URL), ``ratings`` (every rating
seen: ``severity``, ``method`` CVSSv2/CVSSv3/CVSSv31/CVSSv4 or ``other`` for vendor words,
``source``), ``cwes`` (when the finding carries any), ``description`` (summary),
``references`` (aliases), ``affects[].versions`` (the installed version, ``affected``),
``analysis``, ``recommendation`` and KEV/EPSS as ``hullscan:*`` properties.

``analysis.state`` follows the CycloneDX meaning, not the fix state: a finding is a package that
is *still installed at a vulnerable version*, so it is never ``resolved`` (that means the
vulnerability has been remediated in this component). A confirmed version match is
``exploitable`` (CSAF ``known_affected``); a could-not-compare finding is ``in_triage``
(``under_investigation``). ``analysis.response`` carries the fix state:

======================  =================================  ===============================
hullscan fix state      analysis.response                  recommendation
======================  =================================  ===============================
fixed (fix available)   update                             Upgrade <pkg> to <fixed version>
affected (no fix yet)   (none)                             No fix is available yet ...
deferred                (none)                             The vendor deferred the fix ...
will-not-fix            will_not_fix                       The vendor will not fix ...
end-of-life             will_not_fix, update               Move to a supported release ...
unknown                 (none)                             (none)
not-affected            state not_affected (never emitted by the matcher)
======================  =================================  ===============================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import IO, ClassVar
from uuid import UUID

from cyclonedx.model import XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from packageurl import PackageURL

from hullscan._version import __version__
from hullscan.model.advisory import Severity
from hullscan.model.finding import Finding, PackageRef, ScanResult
from hullscan.report.base import Pair, image_properties
from hullscan.report.cyclonedx import IMAGE_REF, _properties, render
from hullscan.report.scan.sarif import advisory_url, finding_references

_VENDOR_WORDS: dict[str, VulnerabilitySeverity] = {
    "critical": VulnerabilitySeverity.CRITICAL,
    "high": VulnerabilitySeverity.HIGH,
    "important": VulnerabilitySeverity.HIGH,
    "medium": VulnerabilitySeverity.MEDIUM,
    "moderate": VulnerabilitySeverity.MEDIUM,
    "low": VulnerabilitySeverity.LOW,
    "negligible": VulnerabilitySeverity.INFO,
    "unimportant": VulnerabilitySeverity.INFO,
    "none": VulnerabilitySeverity.NONE,
}
_CWE = re.compile(r"(?:CWE-)?([0-9]{1,6})", re.IGNORECASE)


def _severity_word(s: Severity) -> VulnerabilitySeverity:
    if s.rating:
        return _VENDOR_WORDS.get(s.rating.strip().lower(), VulnerabilitySeverity.UNKNOWN)
    if s.score is None:
        return VulnerabilitySeverity.UNKNOWN
    bands: tuple[tuple[float, VulnerabilitySeverity], ...]
    if s.type == "CVSS_V2":
        bands = ((7.0, VulnerabilitySeverity.HIGH), (4.0, VulnerabilitySeverity.MEDIUM))
    else:
        bands = (
            (9.0, VulnerabilitySeverity.CRITICAL),
            (7.0, VulnerabilitySeverity.HIGH),
            (4.0, VulnerabilitySeverity.MEDIUM),
            (0.1, VulnerabilitySeverity.LOW),
        )
    for floor, word in bands:
        if s.score >= floor:
            return word
    return VulnerabilitySeverity.LOW if s.type == "CVSS_V2" else VulnerabilitySeverity.NONE


def _method(s: Severity) -> VulnerabilityScoreSource:
    if s.type == "CVSS_V3":
        v31 = (s.vector or "").startswith("CVSS:3.1/")
        return VulnerabilityScoreSource.CVSS_V3_1 if v31 else VulnerabilityScoreSource.CVSS_V3
    if s.type == "CVSS_V4":
        return VulnerabilityScoreSource.CVSS_V4
    if s.type == "CVSS_V2":
        return VulnerabilityScoreSource.CVSS_V2
    return VulnerabilityScoreSource.OTHER


def _ratings(f: Finding) -> list[VulnerabilityRating]:
    sevs = f.severities or ((f.severity,) if f.severity is not None else ())
    out = [
        VulnerabilityRating(
            source=VulnerabilitySource(name=s.source),
            score=Decimal(str(s.score)) if s.score is not None else None,
            severity=_severity_word(s),
            method=_method(s),
            vector=s.vector,
        )
        for s in sevs
    ]
    if not out and f.severity_rating != "unknown":
        word = _VENDOR_WORDS.get(f.severity_rating, VulnerabilitySeverity.UNKNOWN)
        out.append(VulnerabilityRating(severity=word, method=VulnerabilityScoreSource.OTHER))
    return out


def _cwes(f: Finding) -> list[int]:
    raw = getattr(f, "cwes", ())
    out: list[int] = []
    for c in raw if isinstance(raw, tuple | list) else ():
        m = _CWE.fullmatch(str(c).strip())
        if m:
            out.append(int(m.group(1)))
    return out


def analysis_for(f: Finding) -> tuple[ImpactAnalysisState, list[ImpactAnalysisResponse], str]:
    """(state, responses, detail) for one finding; the mapping is in the module docstring."""
    if f.fix_state == "not-affected":
        return ImpactAnalysisState.NOT_AFFECTED, [], "The vendor states it is not affected."
    state = ImpactAnalysisState.EXPLOITABLE if f.compared else ImpactAnalysisState.IN_TRIAGE
    responses: list[ImpactAnalysisResponse] = []
    if f.fix_state == "fixed":
        responses = [ImpactAnalysisResponse.UPDATE]
        detail = f"Installed version is affected; fixed in {f.fixed_version or 'a later version'}."
    elif f.fix_state == "will-not-fix":
        responses = [ImpactAnalysisResponse.WILL_NOT_FIX]
        detail = "Installed version is affected; the vendor will not fix it."
    elif f.fix_state == "end-of-life":
        responses = [ImpactAnalysisResponse.WILL_NOT_FIX, ImpactAnalysisResponse.UPDATE]
        detail = "Installed version is affected; the package or release is end-of-life."
    elif f.fix_state == "affected":
        detail = "Installed version is affected; no fix is available yet."
    elif f.fix_state == "deferred":
        detail = "Installed version is affected; the vendor deferred the fix."
    else:
        detail = "Installed version is affected; fix state unknown."
    if not f.compared:
        detail += " Versions could not be compared: " + ("; ".join(f.notes) or "see matched_by")
    return state, responses, detail


def recommendation_for(group: Sequence[Finding]) -> str | None:
    """What to do about one vulnerability entry (its findings share fix state and version)."""
    f = group[0]
    names = ", ".join(dict.fromkeys(f"{x.package.name} {x.package.version}" for x in group))
    if f.fix_state == "fixed" and f.fixed_version:
        return f"Upgrade {names} to {f.fixed_version} or later."
    return {
        "affected": f"No fix is available yet for {names}; watch the advisory.",
        "deferred": f"The vendor deferred the fix for {names}; watch the advisory.",
        "will-not-fix": f"The vendor will not fix {names}; mitigate or replace the package.",
        "end-of-life": f"{names}: end-of-life here; move to a supported release.",
    }.get(f.fix_state)


def _ref_properties(p: PackageRef) -> list[Pair]:
    """The subset of the SBOM writer's ``package_properties`` that a PackageRef carries."""
    out: list[Pair] = []
    if p.source_name:
        out.append(("hullscan:source:name", p.source_name))
    if p.source_version:
        out.append(("hullscan:source:version", p.source_version))
    if p.layer_diff_id:
        out.append(("hullscan:layer:diff_id", p.layer_diff_id))
    if p.layer_index is not None:
        out.append(("hullscan:layer:index", str(p.layer_index)))
    if p.created_by:
        out.append(("hullscan:layer:created_by", p.created_by))
    return out


def _component(p: PackageRef) -> Component:
    try:
        purl: PackageURL | None = PackageURL.from_string(p.purl)
    except ValueError:
        purl = None
    return Component(
        name=p.name,
        version=p.version,
        type=ComponentType.LIBRARY,
        bom_ref=p.id,
        purl=purl,
        properties=_properties(_ref_properties(p)),
    )


def _sources(group: Sequence[Finding]) -> str:
    names = sorted({m.source for f in group for m in f.matched_by} or {group[0].namespace})
    return ", ".join(names)


def _vulnerability(group: Sequence[Finding], serial: int) -> Vulnerability:
    f = group[0]
    state, responses, detail = analysis_for(f)
    props: list[Pair] = [("hullscan:fix_state", f.fix_state)]
    if f.fixed_version:
        props.append(("hullscan:fixed_version", f.fixed_version))
    if f.kev:
        props.append(("hullscan:kev", "true"))
        if f.kev_date_added:
            props.append(("hullscan:kev:date_added", f.kev_date_added))
    if f.epss is not None:
        props.append(("hullscan:epss", str(f.epss)))
    if f.epss_percentile is not None:
        props.append(("hullscan:epss:percentile", str(f.epss_percentile)))
    if f.malicious:
        props.append(("hullscan:malicious", "true"))
    refs = [
        VulnerabilityReference(id=a, source=VulnerabilitySource(url=XsUri(advisory_url(a))))
        for a in f.aliases
    ]
    affects = [
        BomTarget(
            ref=x.package.id,
            versions=[
                BomTargetVersionRange(
                    version=x.package.version, status=ImpactAnalysisAffectedStatus.AFFECTED
                )
            ],
        )
        for x in group
    ]
    return Vulnerability(
        bom_ref=f"vuln-{serial}-{f.id}",
        id=f.id,
        source=VulnerabilitySource(
            name=_sources(group), url=XsUri(advisory_url(f.id, finding_references(f)))
        ),
        references=refs,
        ratings=_ratings(f),
        cwes=_cwes(f),
        description=f.summary,
        recommendation=recommendation_for(group),
        analysis=VulnerabilityAnalysis(state=state, responses=responses, detail=detail),
        affects=affects,
        properties=_properties(props),
    )


def _group_key(f: Finding) -> tuple[object, ...]:
    return (f.id, f.fix_state, f.fixed_version, f.compared, f.severities, f.summary, f.kev)


def build_vex(
    result: ScanResult,
    *,
    serial_number: UUID | None = None,
    timestamp: datetime | None = None,
) -> Bom:
    """The cyclonedx-python-lib model of the VEX document (exposed for post-processing)."""
    target = result.target
    image = Component(
        name=target.name,
        version=target.manifest_digest,
        type=ComponentType.CONTAINER,
        bom_ref=IMAGE_REF,
        properties=_properties(image_properties(target, ())),
    )
    tool = Component(name="hullscan", version=__version__, type=ComponentType.APPLICATION)
    doc_props: list[Pair] = [("hullscan:warning", w) for w in result.warnings]
    if result.namespace:
        doc_props.append(("hullscan:namespace", result.namespace))
    if result.db_built_at:
        doc_props.append(("hullscan:db_built_at", result.db_built_at))
    metadata = BomMetaData(component=image, timestamp=timestamp, properties=_properties(doc_props))
    metadata.tools.components.add(tool)
    bom = Bom(metadata=metadata, serial_number=serial_number)

    packages: dict[str, PackageRef] = {}
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for f in result.findings:
        packages.setdefault(f.package.id, f.package)
        groups.setdefault(_group_key(f), []).append(f)
    components = [
        _component(p)
        for p in sorted(packages.values(), key=lambda p: (p.type, p.name, p.version, p.id))
    ]
    for c in components:
        bom.components.add(c)
    bom.dependencies.add(
        Dependency(ref=image.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in components])
    )
    for c in components:
        bom.dependencies.add(Dependency(ref=c.bom_ref))
    for n, group in enumerate(groups.values(), start=1):
        bom.vulnerabilities.add(_vulnerability(group, n))
    return bom


def affected_refs(findings: Iterable[Finding]) -> set[str]:
    """The component bom-refs a set of findings points at (= their PackageRef ids)."""
    return {f.package.id for f in findings}


class CycloneDxVexWriter:
    """``cyclonedx`` / ``cyclonedx-vex``: CycloneDX 1.6 JSON with ``vulnerabilities`` (VEX)."""

    id: ClassVar[str] = "cyclonedx"
    aliases: ClassVar[tuple[str, ...]] = ("cyclonedx-vex",)
    media_type: ClassVar[str] = "application/vnd.cyclonedx+json; version=1.6"

    def __init__(
        self, *, serial_number: UUID | None = None, timestamp: datetime | None = None
    ) -> None:
        """``serial_number``/``timestamp`` default to a random UUID and now (pin for
        reproducible output)."""
        self.serial_number = serial_number
        self.timestamp = timestamp

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None:
        bom = build_vex(result, serial_number=self.serial_number, timestamp=self.timestamp)
        stream.write(render(bom))
