"""Namespaces: where a package name means something, and how its versions compare.

Feeds name ecosystems their own way (OSV ``Debian:12``, ``Alpine:v3.19``, ``Rocky Linux:8``,
``PyPI``; Red Hat CPEs; Alpine secdb branches ``v3.19``). Everything is mapped here onto one
namespace string (``debian:12``, ``alpine:3.19``, ``rocky:8``, ``pypi``) plus the version
scheme (a purl type, see ``hullscan.versions``). Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

# OSV ecosystem -> (namespace, scheme) for language ecosystems (OSV's exact spelling).
LANGUAGE_ECOSYSTEMS: dict[str, tuple[str, str]] = {
    "PyPI": ("pypi", "pypi"),
    "npm": ("npm", "npm"),
    "Maven": ("maven", "maven"),
    "Go": ("golang", "golang"),
    "crates.io": ("cargo", "cargo"),
    "RubyGems": ("gem", "gem"),
    "Packagist": ("composer", "composer"),
    "NuGet": ("nuget", "nuget"),
    "Hex": ("hex", "hex"),
    "Pub": ("pub", "pub"),
}

# OSV distro ecosystem name (before the ':') -> (namespace prefix, scheme).
DISTRO_ECOSYSTEMS: dict[str, tuple[str, str]] = {
    "Debian": ("debian", "deb"),
    "Ubuntu": ("ubuntu", "deb"),
    "Alpine": ("alpine", "apk"),
    "Wolfi": ("wolfi", "apk"),
    "Chainguard": ("chainguard", "apk"),
    "Rocky Linux": ("rocky", "rpm"),
    "AlmaLinux": ("alma", "rpm"),
    "Red Hat": ("rhel", "rpm"),
    "openSUSE": ("opensuse", "rpm"),
    "SUSE": ("sles", "rpm"),
    "Photon OS": ("photon", "rpm"),
    "Azure Linux": ("azurelinux", "rpm"),
    "Mageia": ("mageia", "rpm"),
    "openEuler": ("openeuler", "rpm"),
}

# Distro id (os-release ID, as the analyzers report it) -> namespace prefix.
DISTRO_IDS: dict[str, str] = {
    "debian": "debian",
    "ubuntu": "ubuntu",
    "alpine": "alpine",
    "wolfi": "wolfi",
    "chainguard": "chainguard",
    "rhel": "rhel",
    "centos": "rhel",  # CentOS is rebuilt RHEL: Red Hat data applies by major release
    "rocky": "rocky",
    "almalinux": "alma",
    "alma": "alma",
    "ol": "oracle",
    "amzn": "amazon",
    "fedora": "fedora",
    "sles": "sles",
    "sled": "sles",
    "opensuse-leap": "opensuse",
    "opensuse-tumbleweed": "opensuse-tumbleweed",
    "photon": "photon",
    "azurelinux": "azurelinux",
    "mariner": "mariner",
    # OS family names other tools write (Trivy's operating-system components)
    "amazon": "amazon",
    "oracle": "oracle",
    "redhat": "rhel",
    "cbl-mariner": "mariner",
    "opensuse.leap": "opensuse",
    "opensuse.tumbleweed": "opensuse-tumbleweed",
    "suse linux enterprise server": "sles",
}

SCHEME_OF_PREFIX: dict[str, str] = {
    **dict(DISTRO_ECOSYSTEMS.values()),
    "oracle": "rpm",
    "amazon": "rpm",
    "fedora": "rpm",
    "opensuse-tumbleweed": "rpm",
    "mariner": "rpm",
    **dict(LANGUAGE_ECOSYSTEMS.values()),
}

# Distros whose advisories are per major release only (rhel:9 covers 9.4).
_MAJOR_ONLY = frozenset({"rhel", "rocky", "alma", "oracle", "centos"})


def osv_namespace(ecosystem: str) -> tuple[str, str] | None:
    """``(namespace, scheme)`` for an OSV ecosystem string; None when unknown.

    ``Debian:12`` -> (``debian:12``, ``deb``); ``Alpine:v3.19`` -> (``alpine:3.19``, ``apk``);
    ``Rocky Linux:8`` -> (``rocky:8``, ``rpm``); ``Ubuntu:22.04:LTS`` -> (``ubuntu:22.04``,
    ``deb``); ``Ubuntu:Pro:18.04:LTS`` -> (``ubuntu:18.04``, ``deb``); ``PyPI`` -> (``pypi``,
    ``pypi``). A distro ecosystem without a release (``Debian``) -> (``debian``, ``deb``).
    """
    if ecosystem in LANGUAGE_ECOSYSTEMS:
        return LANGUAGE_ECOSYSTEMS[ecosystem]
    name, _, rest = ecosystem.partition(":")
    mapped = DISTRO_ECOSYSTEMS.get(name)
    if mapped is None:
        return None
    prefix, scheme = mapped
    release = _release_from_osv(prefix, rest)
    return (f"{prefix}:{release}" if release else prefix), scheme


def _release_from_osv(prefix: str, rest: str) -> str:
    if not rest:
        return ""
    parts = [p for p in rest.split(":") if p and p not in ("LTS", "Pro", "FIPS", "ESM")]
    if not parts:
        return ""
    release = parts[0]
    if prefix == "alpine":
        release = release.removeprefix("v")
    return release


def distro_namespace(distro_id: str, version: str | None) -> str | None:
    """The namespace for an image's distro (``Distro.id`` / ``Distro.version``).

    Alpine and Debian-like versions keep major.minor (``alpine:3.19``; ``debian:12``;
    ``ubuntu:22.04``); RHEL-family keep the major release only (``rhel:9``). Rolling distros
    (Wolfi, Chainguard) have no release. None for a distro we have no data namespace for.
    """
    prefix = DISTRO_IDS.get(distro_id.lower())
    if prefix is None:
        return None
    if prefix in ("wolfi", "chainguard", "opensuse-tumbleweed"):
        return prefix
    if not version:
        return prefix
    # Only the leading version token: Trivy writes Amazon Linux 2 as "2 (Karoo)".
    v = version.strip().split(" ", 1)[0].split("(", 1)[0]
    if not v:
        return prefix
    if prefix in _MAJOR_ONLY or prefix in ("debian", "amazon", "fedora", "mariner", "azurelinux"):
        v = v.split(".")[0]
    elif prefix == "alpine":
        m = re.match(r"(\d+)\.(\d+)", v)
        v = f"{m.group(1)}.{m.group(2)}" if m else v
    elif prefix == "photon":
        v = v.split(".")[0] + ".0" if "." not in v else v
    return f"{prefix}:{v}"


def scheme_of(namespace: str) -> str | None:
    """The version scheme of a namespace (``debian:12`` -> ``deb``)."""
    return SCHEME_OF_PREFIX.get(namespace.partition(":")[0])


_PEP503 = re.compile(r"[-_.]+")


def normalize_package(namespace: str, name: str) -> str:
    """A package name as the namespace compares names.

    PyPI: PEP 503 (lower-case, runs of ``-_.`` -> ``-``). NuGet, Composer, Go module paths of
    GitHub... are case-insensitive in their registries: lower-case for NuGet and Composer only
    (Go module paths are case-sensitive). Maven: ``group:artifact`` as written. Distros: as
    written (Debian, Alpine and RPM names are already lower-case by policy; keep what we got).
    Unicode is NFC-normalized everywhere (homoglyph names stay distinct).
    """
    name = unicodedata.normalize("NFC", name.strip())
    prefix = namespace.partition(":")[0]
    if prefix == "pypi":
        return _PEP503.sub("-", name).lower()
    if prefix in ("nuget", "composer"):
        return name.lower()
    return name
