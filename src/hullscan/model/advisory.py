"""Vulnerability data, normalized: what every feed parser produces and the DB stores.

One ``Advisory`` per upstream record (an OSV entry, a Debian tracker CVE, an Alpine secfix, a
Red Hat CVE page...). Its ``affected`` entries are keyed by (namespace, package):

* ``namespace`` names where a package name means something: ``debian:12``, ``ubuntu:22.04``,
  ``alpine:3.19``, ``wolfi``, ``chainguard``, ``rhel:9``, ``rocky:9``, ``alma:9``,
  ``amazon:2023``, ``sles:15``, ``photon:4``, ``azurelinux:3``, ``mariner:2``, and for language
  ecosystems the purl type: ``pypi``, ``npm``, ``maven``, ``golang``, ``cargo``, ``gem``,
  ``composer``, ``nuget`` (see ``namespaces.py`` for the mapping from feed names).
* ``package`` is, for distros, the **source** package name as the distro names it (Debian
  ``openssl``, Alpine origin, RPM source name), and for language ecosystems the name normalized
  the way that ecosystem compares names (PEP 503 for PyPI, ``group:artifact`` for Maven, the
  module path for Go, lower-case for NuGet/Composer; npm and crates.io as written).

Versions stay strings here; ``scheme`` (a purl type accepted by ``hullscan.versions``) says how
to compare them. Nothing in this module does I/O.
"""

from __future__ import annotations

from typing import Literal

import msgspec

FixState = Literal["fixed", "affected", "will-not-fix", "deferred", "not-affected", "unknown"]
EventKind = Literal["introduced", "fixed", "last_affected", "limit"]
RangeType = Literal["ECOSYSTEM", "SEMVER", "GIT"]


class RangeEvent(msgspec.Struct, frozen=True, array_like=True):
    """One OSV-style event. ``introduced`` "0" means "from the beginning"."""

    kind: EventKind
    version: str


class AffectedRange(msgspec.Struct, frozen=True, kw_only=True):
    """Events in upstream order; several ranges on one entry are alternatives (any matches)."""

    type: RangeType = "ECOSYSTEM"
    events: tuple[RangeEvent, ...] = ()
    repo: str | None = None  # GIT ranges: the repository the commits belong to


class Severity(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One rating, always with who gave it.

    ``type``: ``CVSS_V2``, ``CVSS_V3``, ``CVSS_V4`` (``vector`` set, ``score`` computed or as
    published) or ``vendor`` (``rating`` is the vendor's word: Debian urgency ``low``/``medium``/
    ``high``/``unimportant``, Red Hat ``Important``, Ubuntu ``negligible``...). ``source`` names
    the rater: ``nvd``, ``cisa-adp``, ``ghsa``, ``debian``, ``redhat``, ``ubuntu``, a CNA name...
    """

    source: str
    type: str
    vector: str | None = None
    score: float | None = None
    rating: str | None = None


class Affected(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What one advisory says about one package in one namespace.

    ``fix_state`` is the distro-independent state: ``fixed`` (with ``fixed_version``: the
    version that fixes it; ranges say which versions are affected), ``affected`` (no fix yet),
    ``will-not-fix``, ``deferred``, ``not-affected`` (a vendor statement; never matched),
    ``unknown``. Ranges and ``versions`` (explicit affected versions) are alternatives: a
    version is affected if it is in ``versions`` or inside any range.

    ``problem`` records why part of the upstream entry could not be used (an unparsable range,
    say); the entry is kept so the matcher can explain it instead of silently missing it.
    """

    namespace: str
    package: str
    scheme: str
    fix_state: FixState = "unknown"
    fixed_version: str | None = None
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    severity: Severity | None = None  # a per-package rating (Debian urgency per release...)
    module: str | None = None  # rpm modularity stream ("nodejs:18"), when the data says
    arch: tuple[str, ...] = ()  # binary arches the statement is limited to, when it says
    binaries: tuple[str, ...] = ()  # binary package names, when the data lists them
    problem: str | None = None


class Advisory(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One upstream record.

    ``source`` is the feed that produced it (``osv:PyPI``, ``debian-tracker``, ``alpine-secdb``,
    ``redhat-api``, ...). ``withdrawn`` is a timestamp when the upstream withdrew the record (it
    then never matches). ``malicious`` marks known-malicious packages (OSV ``MAL-*``), which are
    reported as such, not as ordinary vulnerabilities. ``upstream``/``related`` are OSV's fields
    (ids of the same issue elsewhere); ``aliases`` are ids of exactly the same vulnerability.
    """

    id: str
    source: str
    aliases: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str | None = None
    details: str | None = None
    published: str | None = None  # RFC 3339; None when unknown (never a zero date)
    modified: str | None = None
    withdrawn: str | None = None
    malicious: bool = False
    severities: tuple[Severity, ...] = ()
    references: tuple[str, ...] = ()
    cwes: tuple[str, ...] = ()
    affected: tuple[Affected, ...] = ()


class ParseIssue(msgspec.Struct, frozen=True, kw_only=True):
    """A record a feed parser could not use (counted per source; never aborts a build)."""

    source: str
    item: str  # file name / record id / line number: where to look
    error: str


# --- enrichment: never used for matching ----------------------------------------------------


class KevEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """CISA Known Exploited Vulnerabilities catalog entry."""

    cve: str
    date_added: str | None = None
    due_date: str | None = None
    vendor: str | None = None
    product: str | None = None
    name: str | None = None
    known_ransomware: bool | None = None  # "Known" -> True, "Unknown" -> None


class EpssScore(msgspec.Struct, frozen=True, array_like=True):
    cve: str
    epss: float
    percentile: float


class CveSeverity(msgspec.Struct, frozen=True, kw_only=True):
    """Ratings of one CVE from a scoring source (NVD, a CVE 5 record's CNA/ADP containers)."""

    cve: str
    severities: tuple[Severity, ...]
    cwes: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None


class SupportStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Support of a distro release, or of one package in it.

    ``package`` None: the whole release (``eol`` is the end of standard security support;
    ``extended_until`` LTS/ELTS/ESM). With ``package``: Debian's ``security-support-ended``/
    ``-limited`` lists (``state`` ``ended`` or ``limited``, ``note`` the reason).
    """

    namespace: str
    package: str | None = None
    state: Literal["supported", "ended", "limited"] = "supported"
    released: str | None = None
    eol: str | None = None
    extended_until: str | None = None
    codename: str | None = None
    note: str | None = None
