"""Package URLs for OS packages, built once per package with packageurl-python.

The purl type definitions (github.com/package-url/purl-spec, ``types/``) say:

* ``deb``: namespace is the vendor (``debian``, ``ubuntu``); the version is the package version
  *including* its epoch (``pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64``).
* ``rpm``: namespace is the vendor (``fedora``, ``opensuse``...); the version is
  ``version-release`` *without* the epoch, which goes in an ``epoch`` qualifier
  (``pkg:rpm/centerim@4.22.10-1.el6?arch=i686&epoch=1&distro=fedora-25``).
* ``apk``: namespace is the vendor (``alpine``, ``wolfi``...); the version is apk's.

All three take ``arch`` and a ``distro`` qualifier, written here as ``<os-release ID>-<VERSION_ID>``
(``distro=debian-12``, ``distro=alpine-3.19.1``, ``distro=rhel-9.4``).

The namespace is required for all three (the current purl-spec type definitions, and
packageurl-python's validator, reject a namespace-less ``pkg:rpm/...`` although the older rpm
example above has none), so it is always written: the distro's vendor
when known, else a default (``debian``, ``alpine``) or, for rpm, the vendor named by the
package's Vendor tag. An os-release ID that is not a valid one (os-release(5): ``0-9``, ``a-z``,
``.``, ``_``, ``-``) is never used as a namespace: a crafted ``ID=a/b`` must not forge
a path segment.

A ``distro`` qualifier is only written for a distro of the package's own family: a dpkg
database copied into an Alpine image is not "distro=alpine-3.19" (for rpm, any distro not of
the Debian or Alpine families counts as its own).

Names must be non-empty and free of ``/`` (the analyzers drop packages whose names are not);
anything else in names, versions and qualifiers is percent-encoded by packageurl-python.

Example::

    >>> deb_purl("attr", "1:2.4.47-2+b1", "amd64", Distro(id="debian", version="12"))
    'pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64&distro=debian-12'
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from hullscan.model import Distro

# os-release(5) ID characters; also what a purl namespace segment may be without encoding.
_VENDOR_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_UNKNOWN_RPM_VENDOR = "unknown"

_DEB_VENDORS = frozenset({"debian", "ubuntu"})
_APK_VENDORS = frozenset({"alpine", "wolfi", "chainguard", "postmarketos", "adelie"})

# rpm vendors by os-release ID, as vendors name themselves in purls (Red Hat's VEX/CSAF use
# "redhat", SUSE's "suse", Amazon's "amazon"); valid IDs not listed are used as they are.
_RPM_VENDORS = {
    "rhel": "redhat",
    "amzn": "amazon",
    "ol": "oracle",
    "fedora-modular": "fedora",
    "sles": "suse",
    "sled": "suse",
    "sles_sap": "suse",
    "sle-micro": "suse",
    "sl-micro": "suse",
    "opensuse-leap": "opensuse",
    "opensuse-tumbleweed": "opensuse",
    "opensuse-microos": "opensuse",
}
# Without an os-release, the rpm Vendor tag still names the vendor of most packages. First
# match wins: "opensuse" before "suse" (an openSUSE tag contains both).
_RPM_VENDOR_TAGS = (
    ("red hat", "redhat"),
    ("centos", "centos"),
    ("fedora", "fedora"),
    ("opensuse", "opensuse"),
    ("suse", "suse"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("oracle", "oracle"),
    ("amazon", "amazon"),
    ("microsoft", "mariner"),
    ("vmware", "photon"),
)


def distro_qualifier(distro: Distro | None) -> str | None:
    """``<id>-<version>``; the codename when the version is not a plain number (Debian sid)."""
    if distro is None:
        return None
    version = distro.version
    if version and "/" in version:  # "trixie/sid": the codename says it without a slash
        version = distro.codename or version.split("/", 1)[0]
    version = version or distro.codename
    return f"{distro.id}-{version}" if version else distro.id


def _is_family(distro: Distro | None, ids: frozenset[str]) -> bool:
    return distro is not None and (distro.id in ids or any(i in ids for i in distro.id_like))


def _family(distro: Distro | None, ids: frozenset[str]) -> Distro | None:
    """The distro when it is of this package family (by ID or ID_LIKE), else None."""
    return distro if distro is not None and _is_family(distro, ids) else None


def _family_vendor(distro: Distro | None, default: str) -> str:
    if distro is not None and _VENDOR_RE.match(distro.id):
        return distro.id
    return default


def _build(
    ptype: str,
    namespace: str | None,
    name: str,
    version: str,
    qualifiers: dict[str, str | None],
) -> str:
    if not name.strip(" /") or "/" in name:
        raise ValueError(f"not a package name for a purl: {name!r}")
    quals = {k: v for k, v in qualifiers.items() if v}
    url: str = PackageURL(
        type=ptype, namespace=namespace, name=name, version=version, qualifiers=quals
    ).to_string()
    return url


def deb_purl(name: str, version: str, arch: str | None, distro: Distro | None) -> str:
    """``pkg:deb/<vendor>/<name>@<[epoch:]version>?arch=..&distro=..``.

    The vendor is the distro's ID when it is Debian-like (Debian, Ubuntu and derivatives that
    say so in ID_LIKE), else ``debian``; a distro of another family (a dpkg database copied into
    an Alpine image) is no ``distro`` qualifier either.
    """
    family = _family(distro, _DEB_VENDORS)
    quals = {"arch": arch, "distro": distro_qualifier(family)}
    return _build("deb", _family_vendor(family, "debian"), name.lower(), version, quals)


def apk_purl(name: str, version: str, arch: str | None, distro: Distro | None) -> str:
    """``pkg:apk/<vendor>/<name>@<version>?arch=..&distro=..``; vendor ``alpine`` by default.

    As for deb, a distro of another family gives neither the vendor nor the qualifier.
    """
    family = _family(distro, _APK_VENDORS)
    quals = {"arch": arch, "distro": distro_qualifier(family)}
    return _build("apk", _family_vendor(family, "alpine"), name.lower(), version, quals)


def rpm_vendor(distro: Distro | None, vendor_tag: str | None = None) -> str:
    """The purl namespace for an rpm: from the distro, else from the rpm Vendor tag.

    A known vendor tag maps to its distro's vendor (``Red Hat, Inc.`` -> ``redhat``), another one
    is written as a slug (``Docker`` -> ``docker``); with neither, ``unknown``. A Debian- or
    Alpine-family distro says nothing about an rpm's vendor.
    """
    distro = _rpm_distro(distro)
    if distro is not None:
        vendor = _RPM_VENDORS.get(distro.id, distro.id)
        if _VENDOR_RE.match(vendor):
            return vendor
    if vendor_tag and vendor_tag != "(none)":
        low = vendor_tag.lower()
        for needle, vendor in _RPM_VENDOR_TAGS:
            if needle in low:
                return vendor
        slug = re.sub(r"[^a-z0-9]+", "-", low[:200]).strip("-")[:64].strip("-")
        if slug:
            return slug
    return _UNKNOWN_RPM_VENDOR


def _rpm_distro(distro: Distro | None) -> Distro | None:
    return None if _is_family(distro, _DEB_VENDORS | _APK_VENDORS) else distro


def rpm_purl(
    name: str,
    version_release: str,
    epoch: int | None,
    arch: str | None,
    distro: Distro | None,
    vendor_tag: str | None = None,
) -> str:
    """``pkg:rpm/<vendor>/<name>@<version-release>?arch=..&epoch=..&distro=..``.

    The epoch is a qualifier, never part of the purl version (purl-spec ``rpm`` type).
    """
    quals = {
        "arch": arch,
        "epoch": str(epoch) if epoch is not None else None,
        "distro": distro_qualifier(_rpm_distro(distro)),
    }
    return _build("rpm", rpm_vendor(distro, vendor_tag), name, version_release, quals)
