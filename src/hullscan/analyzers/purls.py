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

Example::

    >>> deb_purl("attr", "1:2.4.47-2+b1", "amd64", Distro(id="debian", version="12"))
    'pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64&distro=debian-12'
"""

from __future__ import annotations

from packageurl import PackageURL

from hullscan.model import Distro

_DEB_VENDORS = frozenset({"debian", "ubuntu"})
_APK_VENDORS = frozenset({"alpine", "wolfi", "chainguard", "postmarketos", "adelie"})

# rpm vendors by os-release ID, as vendors name themselves in purls (Red Hat's VEX/CSAF use
# "redhat", SUSE's "suse", Amazon's "amazon"); IDs not listed are used as they are.
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
# Without an os-release, the rpm Vendor tag still names the vendor of most packages.
_RPM_VENDOR_TAGS = (
    ("red hat", "redhat"),
    ("centos", "centos"),
    ("fedora", "fedora"),
    ("suse", "suse"),
    ("opensuse", "opensuse"),
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


def _build(
    ptype: str,
    namespace: str | None,
    name: str,
    version: str,
    qualifiers: dict[str, str | None],
) -> str:
    quals = {k: v for k, v in qualifiers.items() if v}
    url: str = PackageURL(
        type=ptype, namespace=namespace, name=name, version=version, qualifiers=quals
    ).to_string()
    return url


def deb_purl(name: str, version: str, arch: str | None, distro: Distro | None) -> str:
    """``pkg:deb/<vendor>/<name>@<[epoch:]version>?arch=..&distro=..``.

    The vendor is the distro's ID when it is Debian-like (Debian, Ubuntu and derivatives that
    say so in ID_LIKE), else ``debian``.
    """
    vendor = distro.id if distro is not None and _is_family(distro, _DEB_VENDORS) else "debian"
    quals = {"arch": arch, "distro": distro_qualifier(distro) if distro else None}
    return _build("deb", vendor, name.lower(), version, quals)


def apk_purl(name: str, version: str, arch: str | None, distro: Distro | None) -> str:
    """``pkg:apk/<vendor>/<name>@<version>?arch=..&distro=..``; vendor ``alpine`` by default."""
    vendor = distro.id if distro is not None and _is_family(distro, _APK_VENDORS) else "alpine"
    quals = {"arch": arch, "distro": distro_qualifier(distro) if distro else None}
    return _build("apk", vendor, name.lower(), version, quals)


def rpm_vendor(distro: Distro | None, vendor_tag: str | None = None) -> str | None:
    """The purl namespace for an rpm: from the distro, else guessed from the rpm Vendor tag."""
    if distro is not None:
        return _RPM_VENDORS.get(distro.id, distro.id)
    if vendor_tag:
        low = vendor_tag.lower()
        for needle, vendor in _RPM_VENDOR_TAGS:
            if needle in low:
                return vendor
    return None


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
        "distro": distro_qualifier(distro),
    }
    return _build("rpm", rpm_vendor(distro, vendor_tag), name, version_release, quals)
