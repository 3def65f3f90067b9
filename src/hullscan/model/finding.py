"""Scan results: one ``Finding`` per vulnerability per package, with the reasoning behind it.

Produced by ``hullscan.match``; pure data (no I/O). ``MatchReason`` records, for every
advisory statement that matched (or could not be decided), what was compared with what, so a
later ``explain`` command can show why a finding is there. See ``docs/matching.md``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from hullscan.model.advisory import Severity
from hullscan.model.distro import Distro
from hullscan.model.location import LayerRef
from hullscan.model.sbom import Target

#: Version of the ``hullscan`` scan JSON document (``docs/schema/scan-v1.json``).
SCAN_SCHEMA_VERSION = 1

FindingFixState = Literal[
    "fixed", "affected", "will-not-fix", "deferred", "not-affected", "end-of-life", "unknown"
]
Verdict = Literal["affected", "could-not-compare"]


class PackageRef(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The SBOM package a finding is about (``id`` is ``Package.id``)."""

    id: str
    name: str
    version: str
    type: str
    purl: str
    source_name: str | None = None
    source_version: str | None = None
    layer_index: int | None = None
    layer_diff_id: str | None = None
    created_by: str | None = None
    path: str | None = None  # where the package was found in the image (its DB or manifest)


class EventCheck(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One range event and how the installed version compared with it.

    ``cmp`` is -1/0/1 (installed vs event version); None when the event version is ``0``
    (introduced from the beginning), ``*`` (no limit) or could not be parsed.
    """

    kind: str
    version: str
    cmp: int | None = None


class RangeCheck(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One range evaluated with OSV's algorithm: ``affected`` True/False, None = undecidable."""

    type: str
    events: tuple[EventCheck, ...]
    affected: bool | None
    before_limits: bool = True
    error: str | None = None


class MatchReason(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Why one advisory statement applies to the package.

    ``rule``: ``versions`` (installed version listed), ``range`` (inside a range),
    ``fixed-version`` (below the fixed version of an entry without ranges), ``unversioned``
    (the statement names no versions: every version is affected) or ``problem`` (the statement
    could not be evaluated: ``verdict`` is ``could-not-compare``).
    """

    advisory_id: str
    source: str
    namespace: str
    package: str  # the name looked up (source package for distros, normalized for languages)
    installed_version: str
    scheme: str
    verdict: Verdict
    rule: str
    fix_state: str
    fixed_version: str | None = None
    listed_versions: int = 0
    ranges: tuple[RangeCheck, ...] = ()
    problem: str | None = None


class Finding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One vulnerability in one package.

    ``id`` is the primary id of the merged alias group (see ``docs/matching.md``), ``aliases``
    the other ids. ``severity`` is the one rating used for sorting, ``severities`` every rating
    seen. ``compared`` is False when no statement could be decided (``notes`` says why): the
    finding is a "could not compare", not a confirmed match.
    """

    id: str
    aliases: tuple[str, ...] = ()
    package: PackageRef
    namespace: str
    fix_state: FindingFixState
    fixed_version: str | None = None
    severity: Severity | None = None
    severity_rating: str = "unknown"  # critical/high/medium/low/negligible/unknown
    severity_score: float | None = None
    severities: tuple[Severity, ...] = ()
    kev: bool = False
    kev_date_added: str | None = None
    epss: float | None = None
    epss_percentile: float | None = None
    malicious: bool = False
    compared: bool = True
    summary: str | None = None
    notes: tuple[str, ...] = ()
    matched_by: tuple[MatchReason, ...] = ()


class Unmatched(msgspec.Struct, frozen=True, kw_only=True):
    """A package that was not looked up, and why (no distro, unknown type, bad version...)."""

    package_id: str
    name: str
    version: str
    type: str
    reason: str


class Remediation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How to clear every finding of one vulnerable package (``hullscan.match.remediation``).

    ``fixed_version`` is the lowest version that fixes ALL of the package's findings (the
    highest of their fixed versions in the package's version scheme), None when at least one
    finding has no fix (``unfixed`` lists those ids). For deb packages it is a *source*
    version (the trackers publish source versions). ``command`` is the upgrade command for the
    package's ecosystem (None when there is no fix or no command-line way to apply it).
    """

    package: PackageRef
    scheme: str
    findings: tuple[str, ...]
    fixed_version: str | None = None
    unfixed: tuple[str, ...] = ()
    command: str | None = None
    base_layer: bool | None = None


class LayerFindings(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Findings per filesystem layer; ``base`` says whether the layer counts as the base image."""

    index: int
    diff_id: str
    base: bool
    created_by: str | None = None
    findings: int = 0
    packages: int = 0
    by_severity: dict[str, int] = {}


class LayerSummary(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Findings in base-image layers vs the application's own layers.

    ``rule`` says how the base layers were chosen (``docs/scanning.md``): ``option`` (the user
    said how many), ``label`` (an image label gave the count) or ``first-layer`` (the default:
    layer 0 only). ``unknown_layer`` counts findings of packages with no layer (SBOM input).
    """

    rule: str
    base_layers: tuple[int, ...] = ()
    base_findings: int = 0
    app_findings: int = 0
    unknown_layer: int = 0
    layers: tuple[LayerFindings, ...] = ()


class Suppressed(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A finding the policy hid: ``by`` is ``vex``, ``ignorefile``, ``unfixed`` or ``severity``."""

    finding: Finding
    by: str
    reason: str | None = None


class ScanResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One scan: findings (already filtered by the policy when it ran), plus context.

    Fields after ``unmatched`` are filled by ``hullscan.api.scan``/``scan_sbom`` and the
    policy (``hullscan.policy``); ``match_sbom`` alone leaves them at their defaults.
    """

    target: Target
    distro: Distro | None = None
    namespace: str | None = None  # the distro namespace used, if any
    db_built_at: str | None = None
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    unmatched: tuple[Unmatched, ...] = ()
    package_count: int = 0
    layers: tuple[LayerRef, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    layer_summary: LayerSummary | None = None
    suppressed: tuple[Suppressed, ...] = ()
    suppressed_count: int = 0
