"""SARIF 2.1.0 for scan results (``sarif``), shaped for GitHub code scanning.

Mapping (see ``docs/formats.md``, "Scan reports"):

- one run; ``tool.driver`` = hullscan, its version and ``informationUri``;
- one rule per vulnerability id (the finding's primary id): short/full description from the
  finding's summary and aliases, ``helpUri`` from the finding's references when the result
  carries them, else the id's canonical advisory page (NVD, GitHub advisories, OSV);
  ``properties.security-severity`` is the highest CVSS-like score (a string, as GitHub wants),
  ``tags`` security/vulnerability/the rating;
- one result per finding: ``level`` from the rating (critical/high -> error, medium -> warning,
  anything lower or unknown -> note), a message naming package, installed and fixed version,
  one location whose ``artifactLocation.uri`` is the package's file path inside the image when
  known (PackageRef carries none today) else the image reference, plus a logical location for
  the image digest; ``partialFingerprints`` hash (id, package type/name/source, target name) so
  the same alert survives a rebuild or a version bump that does not fix it.

Scan warnings become ``invocations[0].toolExecutionNotifications``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import IO, Any, ClassVar
from urllib.parse import quote, urlsplit

from hullscan._version import __version__
from hullscan.model.finding import Finding, PackageRef, ScanResult
from hullscan.model.sbom import Target

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/hullscan/hullscan"
FINGERPRINT_KEY = "hullscan/finding/v1"

# Ratings from most to least severe (``Finding.severity_rating`` values).
RATINGS: tuple[str, ...] = ("critical", "high", "medium", "low", "negligible", "unknown")
# The numbers docs/matching.md uses for a rating without a CVSS score.
RATING_SCORES: dict[str, float] = {
    "critical": 9.5,
    "high": 7.5,
    "medium": 5.0,
    "low": 2.5,
    "negligible": 0.5,
}
_LEVELS: dict[str, str] = {"critical": "error", "high": "error", "medium": "warning"}
_LEVEL_ORDER = ("none", "note", "warning", "error")


def rating_rank(rating: str) -> int:
    """0 for critical ... 5 for unknown (and anything unrecognized)."""
    return RATINGS.index(rating) if rating in RATINGS else len(RATINGS) - 1


def finding_score(f: Finding) -> float | None:
    if f.severity_score is not None:
        return f.severity_score
    return RATING_SCORES.get(f.severity_rating)


def sarif_level(rating: str) -> str:
    return _LEVELS.get(rating, "note")


def advisory_url(vuln_id: str, references: Iterable[str] = ()) -> str:
    """The first http(s) reference, else the canonical page for the id's namespace."""
    for ref in references:
        if ref.startswith(("https://", "http://")):
            return ref
    safe = quote(vuln_id, safe="")
    if vuln_id.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{safe}"
    if vuln_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{safe}"
    return f"https://osv.dev/vulnerability/{safe}"


def finding_references(f: Finding) -> tuple[str, ...]:
    """``references`` if the finding model carries them (it may grow the field), else ()."""
    refs = getattr(f, "references", ())
    return tuple(r for r in refs if isinstance(r, str)) if isinstance(refs, tuple | list) else ()


def package_path(p: PackageRef) -> str | None:
    """The package's file path in the image, when the model carries one (optional fields)."""
    for name in ("path", "location"):
        value = getattr(p, name, None)
        if isinstance(value, str) and value:
            return value
    locations = getattr(p, "locations", None)
    if isinstance(locations, tuple | list):
        for loc in locations:
            path = getattr(loc, "path", loc)
            if isinstance(path, str) and path:
                return path
    return None


def image_digest(t: Target) -> str | None:
    return t.manifest_digest or t.config_digest or t.image_id


def image_reference(t: Target) -> str:
    """The registry's ``name@digest`` when the image came from one; else ``name@digest`` when
    the name carries no digest yet, else the name."""
    if t.repo_digests:
        return t.repo_digests[0]
    digest = image_digest(t)
    if digest and "@" not in t.name:
        return f"{t.name}@{digest}"
    return t.name


def fix_phrase(f: Finding) -> str:
    if f.fix_state == "fixed" and f.fixed_version:
        return f"fixed in {f.fixed_version}"
    return {
        "affected": "no fix available yet",
        "will-not-fix": "the vendor will not fix it",
        "deferred": "the fix is deferred",
        "end-of-life": "the package is end-of-life",
        "not-affected": "not affected",
    }.get(f.fix_state, "fix state unknown")


def _uri(text: str) -> str:
    """A uri-reference: percent-encoded, and never mistaken for one with a scheme."""
    uri = quote(text, safe="/@:+~!$&'()*,;=-._")
    if urlsplit(uri).scheme:
        uri = uri.replace(":", "%3A")
    return uri


def _fingerprint(f: Finding, target: Target) -> str:
    p = f.package
    parts = (f.id, p.type, p.name, p.source_name or "", target.name)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _score_text(score: float) -> str:
    return f"{min(max(score, 0.0), 10.0):.1f}"


def _rule(f: Finding, same_id: list[Finding]) -> dict[str, Any]:
    best = min(same_id, key=lambda x: rating_rank(x.severity_rating))
    scores = [s for s in (finding_score(x) for x in same_id) if s is not None]
    summary = next((x.summary for x in same_id if x.summary), None)
    short = summary.splitlines()[0][:1000] if summary else f"Vulnerability {f.id}"
    full = summary or f.id
    if f.aliases:
        full += f" (also known as {', '.join(f.aliases)})"
    url = advisory_url(f.id, finding_references(f))
    packages = sorted({f"{x.package.name} {x.package.version}" for x in same_id})
    help_md = (
        f"**{f.id}** ({best.severity_rating})\n\n{full}\n\n"
        f"Affected packages: {', '.join(packages)}\n\n[Advisory]({url})"
    )
    props: dict[str, Any] = {
        "tags": ["security", "vulnerability", best.severity_rating],
        "precision": "very-high",
    }
    if scores:
        props["security-severity"] = _score_text(max(scores))
    if f.aliases:
        props["aliases"] = list(f.aliases)
    return {
        "id": f.id,
        "name": "".join(ch for ch in f.id.title() if ch.isalnum()) or "Vulnerability",
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "helpUri": url,
        "help": {"text": f"{full}\n\nAdvisory: {url}", "markdown": help_md},
        "defaultConfiguration": {"level": sarif_level(best.severity_rating)},
        "properties": props,
    }


def _result(f: Finding, rule_index: int, target: Target) -> dict[str, Any]:
    p = f.package
    fixed = f.fixed_version or "none"
    text = (
        f"Package {p.name} {p.version} ({p.type}) is vulnerable to {f.id} "
        f"(severity {f.severity_rating}); installed version: {p.version}, "
        f"fixed version: {fixed} ({fix_phrase(f)})."
    )
    if not f.compared:
        text += " Could not compare versions: " + ("; ".join(f.notes) or "see matched_by")
    digest = image_digest(target)
    logical: list[dict[str, Any]] = [
        {
            "name": digest or target.name,
            "fullyQualifiedName": image_reference(target),
            "kind": "module",
        }
    ]
    path = package_path(p)
    props: dict[str, Any] = {
        "package": {"name": p.name, "version": p.version, "type": p.type, "purl": p.purl},
        "fixState": f.fix_state,
        "severity": f.severity_rating,
        "image": image_reference(target),
    }
    if f.fixed_version:
        props["fixedVersion"] = f.fixed_version
    if p.source_name:
        props["package"]["sourceName"] = p.source_name
    if p.layer_index is not None:
        props["layerIndex"] = p.layer_index
    if p.layer_diff_id:
        props["layerDiffId"] = p.layer_diff_id
    if f.kev:
        props["kev"] = True
    if f.epss is not None:
        props["epss"] = f.epss
    if not f.compared:
        props["compared"] = False
    return {
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity_rating),
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(path or target.name)},
                    "region": {"startLine": 1},
                },
                "logicalLocations": logical,
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(f, target)},
        "properties": props,
    }


def build_sarif(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as a dict (exposed for callers that post-process it)."""
    by_id: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_id.setdefault(f.id, []).append(f)
    index = {vid: i for i, vid in enumerate(by_id)}
    rules = [_rule(group[0], group) for group in by_id.values()]
    results = [_result(f, index[f.id], result.target) for f in result.findings]
    notifications = [{"level": "warning", "message": {"text": w}} for w in result.warnings]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run_props: dict[str, Any] = {"image": result.target.name, "kind": result.target.kind}
    digest = image_digest(result.target)
    if digest:
        run_props["digest"] = digest
    if result.namespace:
        run_props["namespace"] = result.namespace
    if result.db_built_at:
        run_props["dbBuiltAt"] = result.db_built_at
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hullscan",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "results": results,
                "columnKind": "utf16CodeUnits",
                "properties": run_props,
            }
        ],
    }


class SarifWriter:
    """``sarif``: SARIF 2.1.0 JSON for GitHub code scanning and other SARIF consumers."""

    id: ClassVar[str] = "sarif"
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "application/sarif+json"

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None:
        stream.write(json.dumps(build_sarif(result), indent=2, ensure_ascii=False) + "\n")
