"""``hullscan explain ID (--image SOURCE | --sbom FILE)``: the reasoning behind one advisory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from hullscan.errors import UsageError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    what = "explain why an advisory does or does not match an image or SBOM"
    p = sub.add_parser("explain", help=what, description=what)
    p.add_argument("id", help="advisory id or alias (CVE-..., DSA-..., GHSA-...)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", metavar="SOURCE", help="image to read (as for 'hullscan image')")
    src.add_argument("--sbom", metavar="FILE", type=Path, help="SBOM file (as for 'sbom-scan')")
    p.add_argument("--package", metavar="NAME", help="only packages of this binary/source name")
    p.add_argument("--db", type=Path, default=None, help="vulnerability DB (env HULLSCAN_DB)")
    p.add_argument("-f", "--format", choices=("text", "json"), default="text")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.add_argument("--cache-dir", type=Path, default=None, help="layer cache directory")
    p.add_argument("--no-cache", action="store_true", help="do not use the layer cache")
    p.add_argument("--platform", default=None, help="os/arch[/variant] of a multi-platform image")
    from hullscan.cli.registry_opts import add_registry_args

    add_registry_args(p)


def run(args: argparse.Namespace, *, options: Any) -> int:
    from hullscan import api
    from hullscan.cli.scan import _read_sbom
    from hullscan.vulndb.manage import default_db_path

    if not args.id.strip():
        raise UsageError("explain: give an advisory id")
    db = args.db or default_db_path()
    if args.sbom is not None:
        doc = _read_sbom(args.sbom)
        result = api.explain(args.id, db, sbom_doc=doc, package=args.package)
    else:
        result = api.explain(args.id, db, target=args.image, options=options, package=args.package)
    if args.format == "json":
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result)).decode() + "\n")
    else:
        sys.stdout.write(render_text(result))
    return 0


def _events(r: Any) -> str:
    parts = []
    for e in r.events:
        cmp = "n/a" if e.cmp is None else f"{e.cmp:+d}" if e.cmp else "0"
        parts.append(f"{e.kind} {e.version} (cmp {cmp})")
    state = {True: "contains", False: "does not contain", None: "undecidable"}[r.affected]
    extra = "" if r.before_limits else ", at or above a limit"
    err = f", error: {r.error}" if r.error else ""
    return f"{r.type} range [{', '.join(parts)}]: {state} the version{extra}{err}"


def render_text(x: Any) -> str:
    """Text rendering of an ``Explanation`` (one fact per line)."""
    out = [f"Advisory {x.query}: resolves to {', '.join(x.ids)}"]
    if x.aliases:
        out.append(f"  alias group: {', '.join(x.aliases)}")
    if x.related:
        out.append(f"  related (not merged): {', '.join(x.related)}")
    out.append(f"Target: {x.target}")
    out.append(f"Namespace: {x.namespace or '(none)'} ({x.namespace_reason})")
    if x.package_filter:
        out.append(f"Package filter: {x.package_filter}")
    for p in x.packages:
        out.append("")
        out.append(f"Package {p.name} {p.version} ({p.purl})")
        out.append(
            f"  looked up: {p.namespace} / {p.looked_up} ({p.name_kind} name), "
            f"installed version {p.installed_version} ({p.scheme})"
        )
        for s in p.statements:
            out.append(f"  statement {s.advisory_id} from {s.source}:")
            if s.aliases:
                out.append(f"    aliases: {', '.join(s.aliases)}")
            fixed = f", fixed {s.fixed_version}" if s.fixed_version else ""
            out.append(f"    fix state {s.fix_state}{fixed}; listed versions: {s.listed_versions}")
            if s.withdrawn:
                out.append(f"    withdrawn: {s.withdrawn}")
            if s.problem:
                out.append(f"    problem: {s.problem}")
            out.extend(f"    {_events(r)}" for r in s.ranges)
            out.append(f"    -> {s.verdict}: {s.reason}")
        out.append(f"  verdict: {p.verdict}: {p.reason}")
        f = p.finding
        if f is not None:
            out.append(f"  finding: {f.id} (primary id of {', '.join((f.id, *f.aliases))})")
            out.append(f"  fix: {f.fix_state}" + (f" {f.fixed_version}" if f.fixed_version else ""))
            sev = f.severity
            src = f" from {sev.source} ({sev.type})" if sev is not None else ""
            score = f" score {f.severity_score}" if f.severity_score is not None else ""
            out.append(f"  severity: {f.severity_rating}{score}{src}")
            kev = f"yes (added {f.kev_date_added or 'unknown'})" if f.kev else "no"
            epss = f"{f.epss} (percentile {f.epss_percentile})" if f.epss is not None else "unknown"
            out.append(f"  KEV: {kev}; EPSS: {epss}")
    out.append("")
    if not x.packages:
        out.append(f"No package in {x.target} is concerned by {x.query}:")
    elif x.reasons:
        out.append("Other packages the advisory names:")
    for r in x.reasons:
        out.append(f"  - {r}")
    return "\n".join(out) + "\n"
