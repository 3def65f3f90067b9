"""Which files of a feed directory feed which parser.

The feed directory is laid out like ``shared/vulndata`` (and like what ``hullscan db update``
downloads): one folder per upstream, the upstream's own file names. Each ``SourceSpec`` names
a glob under it and the parser for the files it matches. Order matters for duplicates only in
one way: the builder keeps the newest copy of an advisory and any copy's withdrawal, so
reading order does not change the result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

from hullscan.vulndb.build.builder import SourceSpec
from hullscan.vulndb.build.feed import Record

# osv.dev ecosystems as folders of osv-dev/ (the folder is the ecosystem name, spaces -> '-').
_OSV_DEV = (
    "PyPI",
    "npm",
    "Maven",
    "NuGet",
    "RubyGems",
    "Packagist",
    "Go",
    "crates.io",
    "Debian",
    "Alpine",
    "Rocky-Linux",
    "AlmaLinux",
    "Ubuntu",
    "Wolfi",
    "Chainguard",
)
_GHSA = ("npm", "Maven", "PyPI", "Packagist", "Go", "NuGet", "RubyGems", "crates.io")


def _osv(path: Path, source: str) -> Iterator[Record]:
    from hullscan.vulndb.build.osv import iter_osv_container

    return iter_osv_container(path, source=source)


def default_sources() -> list[SourceSpec]:
    """Every source ``hullscan db build`` reads, in reading order."""
    specs: list[SourceSpec] = []
    specs += [SourceSpec(f"osv:{eco}", f"osv-dev/{eco}/all.zip*", _osv, "osv") for eco in _OSV_DEV]
    specs += [
        SourceSpec(f"ghsa:{eco}", f"ghsa/{eco}/github-reviewed.zip*", _osv, "osv") for eco in _GHSA
    ]
    specs += [
        SourceSpec("go-vulndb", "golang-vulndb/all.zip*", _osv, "osv"),
        SourceSpec("rustsec", "rustsec/all.zip*", _osv, "osv"),
        SourceSpec("almalinux", "almalinux-osv/advisories.zip*", _osv, "osv"),
        SourceSpec("malicious-packages", "ossf-malicious-packages/*.zip*", _osv, "osv"),
        SourceSpec("pypa", "pypa-advisory-database/vulns.zip*", _osv, "osv"),
        SourceSpec("ubuntu-osv", "samples/ubuntu-osv/**/*.json", _osv_file, "osv"),
        SourceSpec("chainguard-osv", "samples/chainguard-osv/CGA-*.json", _osv_file, "osv"),
    ]
    # Distro trackers in their own formats (each its own group: a bare CVE id from one
    # tracker is that tracker's statement).
    specs += [
        SourceSpec(
            "debian-tracker", "samples/debian-tracker-json/*.json*", _lazy("debian_tracker")
        ),
        SourceSpec(
            "debian-dsa-dla", "debian-security-tracker/data/*/list*", _lazy("debian_tracker")
        ),
        SourceSpec("alpine-secdb", "alpine-secdb/*/*.json", _lazy("alpine_secdb")),
        SourceSpec("wolfi-secdb", "samples/wolfi-secdb/*.json", _lazy("alpine_secdb")),
        SourceSpec(
            "wolfi-advisories", "wolfi-advisories/advisories.zip*", _lazy("wolfi_advisories")
        ),
        SourceSpec("redhat-api", "redhat-security-data-api/cve.tar.zst", _lazy("redhat")),
        SourceSpec("redhat-csaf-vex", "samples/redhat-csaf-vex/*.json", _lazy("redhat")),
        SourceSpec("ubuntu-uct", "ubuntu-cve-tracker/uct.tar.zst", _lazy("ubuntu_uct")),
        SourceSpec("amazon-alas", "amazon-alas-vuls-derived/alas.tar.zst", _lazy("amazon")),
        SourceSpec("amazon-updateinfo", "samples/amazon-alas/updateinfo/*.xml*", _lazy("amazon")),
    ]
    # Language advisory databases in their native (non-OSV) formats.
    specs += [
        SourceSpec("rubysec", "rubysec/advisories.zip*", _lazy("rubysec")),
        SourceSpec("friendsofphp", "friendsofphp/advisories.zip*", _lazy("friendsofphp")),
        SourceSpec("nodejs-security-wg", "nodejs-security-wg/vuln.zip*", _lazy("nodejs_wg")),
    ]
    # Enrichment and end-of-life data (never used for matching).
    specs += [
        SourceSpec("kev", "cisa-kev/known_exploited_vulnerabilities.json*", _lazy("kev")),
        SourceSpec("nvd", "samples/nvd-api-2.0/**/*.json*", _lazy("nvd")),
        SourceSpec("cve-vulnrichment", "cve-vulnrichment/vulnrichment.tar.zst", _lazy("cve5")),
        SourceSpec("epss", "epss-emba-derived/EPSS_CVE_data.tar.zst", _lazy("epss")),
        SourceSpec("epss-csv", "samples/epss-csv/epss_scores-*.csv*", _lazy("epss")),
        SourceSpec("distro-info", "distro-info-data/*.csv", _lazy("support")),
        SourceSpec(
            "debian-security-support",
            "debian-security-support/security-support-*",
            _lazy("support"),
        ),
    ]
    return specs


def _lazy(module: str) -> Callable[[Path, str], Iterator[Record]]:
    """``module.read`` imported on first use (``db sources`` needs no parser imported)."""

    def read(path: Path, source: str) -> Iterator[Record]:
        mod = importlib.import_module(f"hullscan.vulndb.build.{module}")
        records: Iterator[Record] = mod.read(path, source)
        return records

    return read


def _osv_file(path: Path, source: str) -> Iterator[Record]:
    from hullscan.vulndb.build.containers import read_bounded
    from hullscan.vulndb.build.feed import MAX_RECORD_BYTES
    from hullscan.vulndb.build.osv import parse_osv

    return parse_osv(read_bounded(path, MAX_RECORD_BYTES), source=source, item=path.name)
