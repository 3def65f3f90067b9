"""Package URLs for deb, apk and rpm packages, parsed and validated with packageurl-python.

Expected strings follow the purl-spec type definitions (``types/deb|apk|rpm-definition.json``):
deb and apk names are lower-cased, an rpm name keeps its case; the deb version carries the epoch,
the rpm version does not (``epoch`` qualifier); the namespace (vendor) is required.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.analyzers.purls import apk_purl, deb_purl, distro_qualifier, rpm_purl, rpm_vendor
from hullscan.model import Distro

DEBIAN_12 = Distro(id="debian", version="12", codename="bookworm")
UBUNTU = Distro(id="ubuntu", version="22.04", codename="jammy", id_like=("debian",))
ALPINE = Distro(id="alpine", version="3.19.1")
RHEL = Distro(id="rhel", version="9.4", id_like=("fedora",))


def parsed(purl: str) -> PackageURL:
    """The purl parsed back, after checking it has no validation error."""
    errors = [m for m in PackageURL.validate_string(purl) if m.severity.value == "error"]
    assert not errors, (purl, errors)
    p = PackageURL.from_string(purl)
    assert p.to_string() == purl  # canonical: what we write is what a parser writes back
    return p


# -- distro qualifier -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distro", "expected"),
    [
        (None, None),
        (DEBIAN_12, "debian-12"),
        (Distro(id="debian", version="trixie/sid", codename="trixie"), "debian-trixie"),
        (Distro(id="debian", version="buster/sid"), "debian-buster"),
        (Distro(id="ubuntu", version="20.04", codename="focal"), "ubuntu-20.04"),
        (
            Distro(id="alpine", version="3.19_alpha20230901", codename="edge"),
            "alpine-3.19_alpha20230901",
        ),
        (Distro(id="arch"), "arch"),
        (Distro(id="gentoo", codename="rolling"), "gentoo-rolling"),
        (Distro(id="wolfi", version="20220914"), "wolfi-20220914"),
        (RHEL, "rhel-9.4"),
    ],
)
def test_distro_qualifier(distro: Distro | None, expected: str | None) -> None:
    assert distro_qualifier(distro) == expected


# -- deb ------------------------------------------------------------------------------------------


def test_deb_spec_examples() -> None:
    assert deb_purl("attr", "1:2.4.47-2+b1", "amd64", None) == (
        "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64"
    )
    assert deb_purl("dpkg", "1.19.0.4", "amd64", UBUNTU) == (
        "pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64&distro=ubuntu-22.04"
    )
    assert deb_purl("curl", "7.88.1-10+deb12u5", "amd64", DEBIAN_12) == (
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"
    )


def test_deb_names_vendors_and_qualifiers() -> None:
    p = parsed(deb_purl("LibFoo++", "2.0~rc1", None, DEBIAN_12))
    assert (p.namespace, p.name, p.version, p.qualifiers) == (
        "debian",
        "libfoo++",
        "2.0~rc1",
        {"distro": "debian-12"},
    )
    raspbian = Distro(id="raspbian", version="9", id_like=("debian",))
    assert parsed(deb_purl("bash", "4.4", "armhf", raspbian)).namespace == "raspbian"
    # another family's distro: default vendor, no distro qualifier
    p = parsed(deb_purl("bash", "5.2", "amd64", ALPINE))
    assert (p.namespace, p.qualifiers) == ("debian", {"arch": "amd64"})
    # an invalid os-release ID never becomes a namespace
    forged = Distro(id="evil/ns", version="1", id_like=("debian",))
    p = parsed(deb_purl("bash", "5.2", None, forged))
    assert (p.namespace, p.name) == ("debian", "bash")
    assert p.qualifiers == {"distro": "evil/ns-1"}


# -- apk ------------------------------------------------------------------------------------------


def test_apk() -> None:
    assert apk_purl("curl", "7.83.0-r0", "x86", None) == "pkg:apk/alpine/curl@7.83.0-r0?arch=x86"
    assert apk_purl("musl", "1.2.4-r2", "x86_64", ALPINE) == (
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1"
    )
    for vendor in ("wolfi", "chainguard", "postmarketos"):
        distro = Distro(
            id=vendor, version="1", id_like=("alpine",) if vendor == "postmarketos" else ()
        )
        p = parsed(apk_purl("glibc", "2.41-r55", "x86_64", distro))
        assert (p.namespace, p.qualifiers["distro"]) == (vendor, f"{vendor}-1")
    p = parsed(apk_purl("Py3-Foo", "1.0-r0", None, DEBIAN_12))
    assert (p.namespace, p.name, p.qualifiers) == ("alpine", "py3-foo", {})


# -- rpm ------------------------------------------------------------------------------------------


def test_rpm_spec_examples() -> None:
    fedora = Distro(id="fedora", version="25")
    assert rpm_purl("curl", "7.50.3-1.fc25", None, "i386", fedora) == (
        "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25"
    )
    assert rpm_purl("centerim", "4.22.10-1.el6", 1, "i686", fedora) == (
        "pkg:rpm/fedora/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1"
    )


@pytest.mark.parametrize(
    ("distro_id", "vendor"),
    [
        ("rhel", "redhat"),
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("almalinux", "almalinux"),
        ("ol", "oracle"),
        ("amzn", "amazon"),
        ("fedora", "fedora"),
        ("fedora-modular", "fedora"),
        ("sles", "suse"),
        ("sle-micro", "suse"),
        ("sl-micro", "suse"),
        ("opensuse-leap", "opensuse"),
        ("opensuse-tumbleweed", "opensuse"),
        ("mariner", "mariner"),
        ("azurelinux", "azurelinux"),
        ("photon", "photon"),
        ("scientific", "scientific"),
    ],
)
def test_rpm_vendor_by_distro(distro_id: str, vendor: str) -> None:
    distro = Distro(id=distro_id, version="1")
    assert rpm_vendor(distro, "Some Vendor") == vendor
    p = parsed(rpm_purl("Name-Case", "1.0-1", 0, "noarch", distro))
    assert (p.namespace, p.name, p.version) == (vendor, "Name-Case", "1.0-1")
    assert p.qualifiers == {"arch": "noarch", "epoch": "0", "distro": f"{distro_id}-1"}


@pytest.mark.parametrize(
    ("tag", "vendor"),
    [
        ("Red Hat, Inc.", "redhat"),
        ("CentOS", "centos"),
        ("Fedora Project", "fedora"),
        ("SUSE LLC <https://www.suse.com/>", "suse"),
        ("openSUSE", "opensuse"),  # contains "suse": the more specific name wins
        ("Rocky Enterprise Software Foundation", "rocky"),
        ("AlmaLinux", "almalinux"),
        ("Oracle America", "oracle"),
        ("Amazon Linux", "amazon"),
        ("Microsoft Corporation", "mariner"),
        ("VMware, Inc.", "photon"),
        ("Docker", "docker"),
        ("ACME Corp. (Widgets)", "acme-corp-widgets"),
        ("(none)", "unknown"),
        ("", "unknown"),
        ("???", "unknown"),
        (None, "unknown"),
    ],
)
def test_rpm_vendor_without_a_distro(tag: str | None, vendor: str) -> None:
    assert rpm_vendor(None, tag) == vendor
    assert parsed(rpm_purl("pkg", "1-1", None, None, None, tag)).namespace == vendor


def test_rpm_vendor_of_a_foreign_or_forged_distro() -> None:
    assert rpm_vendor(UBUNTU, "Red Hat, Inc.") == "redhat"
    p = parsed(rpm_purl("pkg", "1-1", None, "x86_64", UBUNTU, "Red Hat, Inc."))
    assert (p.namespace, p.qualifiers) == ("redhat", {"arch": "x86_64"})
    assert rpm_vendor(Distro(id="a/b"), None) == "unknown"
    assert rpm_vendor(Distro(id="a/b"), "CentOS") == "centos"
    assert rpm_vendor(Distro(id="x" * 300), None) == "x" * 300  # valid, if long
    assert len(rpm_vendor(None, "x y " * 100)) <= 64


def test_names_a_purl_cannot_hold_are_refused() -> None:
    for bad in ("", " ", "/", "a/b"):
        with pytest.raises(ValueError, match="not a package name"):
            deb_purl(bad, "1", None, None)
        with pytest.raises(ValueError, match="not a package name"):
            rpm_purl(bad, "1-1", None, None, None)


# -- any name and version the analyzers accept --------------------------------------------------

# printable ASCII without space or "/" (what the apk and rpm analyzers accept as names)
NAMES = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/"),
    min_size=1,
    max_size=30,
)
VERSIONS = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30
)
DISTROS = st.none() | st.builds(
    Distro,
    id=st.sampled_from(["debian", "ubuntu", "alpine", "wolfi", "rhel", "sles", "a/b", "Évil", ""]),
    version=st.none() | VERSIONS,
    codename=st.none() | st.sampled_from(["bookworm", "edge"]),
    id_like=st.sampled_from([(), ("debian",), ("alpine",), ("rhel", "fedora")]),
)


@settings(max_examples=200, deadline=None)
@given(
    name=NAMES,
    version=VERSIONS,
    arch=st.none() | NAMES,
    distro=DISTROS,
    epoch=st.none() | st.integers(0, 2**31),
)
def test_purls_round_trip(
    name: str, version: str, arch: str | None, distro: Distro | None, epoch: int | None
) -> None:
    for ptype, purl, want_name in (
        ("deb", deb_purl(name, version, arch, distro), name.lower()),
        ("apk", apk_purl(name, version, arch, distro), name.lower()),
        ("rpm", rpm_purl(name, version, epoch, arch, distro, "Vendor"), name),
    ):
        p = parsed(purl)
        assert (p.type, p.name, p.version) == (ptype, want_name, version)
        assert p.namespace
        assert "/" not in p.namespace
        assert p.qualifiers.get("arch") == arch
        if ptype == "rpm":
            assert p.qualifiers.get("epoch") == (None if epoch is None else str(epoch))
