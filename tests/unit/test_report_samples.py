"""Hand-built SBOMs shared by the report tests, the golden-file helper and its redactor.

(A test module so that it sits with the tests it serves; its own tests check the samples.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.model import (
    SBOM,
    AnalyzerStatus,
    ApkMeta,
    Distro,
    DpkgMeta,
    FileError,
    LayerRef,
    Location,
    Package,
    Relationship,
    RpmMeta,
    Target,
)

REPO = Path(__file__).resolve().parents[2]
GOLDENS = REPO / "tests" / "goldens"
UPDATE_GOLDENS = os.environ.get("HULLSCAN_UPDATE_GOLDENS") == "1"


def _purl(type_: str, ns: str, name: str, version: str, quals: dict[str, str]) -> str:
    return PackageURL(
        type=type_, namespace=ns, name=name, version=version, qualifiers=quals
    ).to_string()


# --- Debian: two layers, dpkg metadata, a depends-on relationship ------------------------------

DEB_L0 = "sha256:9853575bc4f955c5892dd64187538a6cd02dba6968eba9201854876a7a257034"
DEB_L1 = "sha256:1f1a2b5c6bd0c5d6e9a1f6c1c7e0bd3d2b0c2b4f0e8c8a0d7a8c6b3f0e2d1c4b"
DEB_LAYERS = (
    LayerRef(
        index=0,
        diff_id=DEB_L0,
        digest="sha256:24c63b8dcb66721062f32b893ef1027404afddd62aade87f3f39a3a6e70a74d0",
        media_type="application/vnd.docker.image.rootfs.diff.tar.gzip",
        size=29126484,
        created_by="/bin/sh -c #(nop) ADD file:4b1be1de1a1e5aa608c688cad2824587262081866180d7368feb79d33ca05953 in / ",
        created="2024-05-13T00:00:00Z",
    ),
    LayerRef(
        index=1,
        diff_id=DEB_L1,
        size=10500123,
        created_by="RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends "
        "curl ca-certificates && rm -rf /var/lib/apt/lists/* # buildkit",
        created="2024-05-20T10:11:12Z",
        comment="buildkit.dockerfile.v0",
    ),
)
_STATUS = "var/lib/dpkg/status"


def _deb(
    name: str,
    version: str,
    *,
    arch: str = "amd64",
    source: str | None = None,
    source_version: str | None = None,
    layer: int = 0,
    licenses: tuple[str, ...] = (),
    meta: DpkgMeta | None = None,
) -> Package:
    quals = {"arch": arch, "distro": "debian-12"}
    if source:
        quals["upstream"] = source + (f"@{source_version}" if source_version else "")
    return Package(
        name=name,
        version=version,
        type="deb",
        purl=_purl("deb", "debian", name, version, quals),
        found_by="os/dpkg",
        arch=arch,
        source_name=source,
        source_version=source_version,
        licenses=licenses,
        locations=(Location(path=_STATUS, layer_diff_id=DEB_L1),),
        layer_diff_id=DEB_LAYERS[layer].diff_id,
        layer_index=layer,
        created_by=DEB_LAYERS[layer].created_by,
        files=(f"usr/share/doc/{name}/copyright",),
        metadata=meta
        or DpkgMeta(
            status="install ok installed",
            maintainer="Debian Developers <debian-devel@lists.debian.org>",
            section="libs",
            priority="optional",
        ),
    )


_LIBCURL = _deb(
    "libcurl4",
    "7.88.1-10+deb12u5",
    source="curl",
    layer=1,
    licenses=("curl", "BSD-3-Clause", "ISC"),
    meta=DpkgMeta(
        status="install ok installed",
        maintainer="Debian Curl Maintainers <team+curl@tracker.debian.org>",
        installed_size=1052,
        section="libs",
        priority="optional",
        multi_arch="same",
        depends="libbrotli1 (>= 0.6.0), libc6 (>= 2.34), libssl3 (>= 3.0.0)",
    ),
)
_CURL = _deb(
    "curl",
    "7.88.1-10+deb12u5",
    layer=1,
    licenses=("curl",),
    meta=DpkgMeta(
        status="install ok installed",
        maintainer="Debian Curl Maintainers <team+curl@tracker.debian.org>",
        installed_size=510,
        section="web",
        priority="optional",
        depends="libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u5), zlib1g (>= 1:1.1.4)",
    ),
)

DEBIAN = SBOM(
    tool_version="0.1.0",
    target=Target(
        name="docker-archive:/tmp/images/curl-bookworm.tar",
        kind="docker-archive",
        manifest_digest="sha256:4e6ae9e7a7ccb17e2d12ad1d5a2a5a2d6f5c8e3c1f7d0b9a8c6e4d2f0a1b3c5d",
        config_digest="sha256:c2ef1b4d1c4d8e7f3a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f",
        image_id="sha256:c2ef1b4d1c4d8e7f3a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f",
        repo_tags=("example.org/curl:bookworm",),
        os="linux",
        architecture="amd64",
        created="2024-05-20T10:11:12Z",
        user="nobody",
        env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TOKEN=s3cr3t"),
        exposed_ports=("8080/tcp",),
        labels={"org.opencontainers.image.source": "https://example.org/curl", "maintainer": "ops"},
    ),
    distro=Distro(
        id="debian",
        version="12",
        codename="bookworm",
        name="Debian GNU/Linux",
        pretty_name="Debian GNU/Linux 12 (bookworm)",
        source="etc/os-release",
    ),
    layers=DEB_LAYERS,
    packages=(
        _deb(
            "base-files",
            "12.4+deb12u5",
            licenses=("GPL-2",),
            meta=DpkgMeta(
                status="install ok installed",
                maintainer="Santiago Vila <sanvila@debian.org>",
                installed_size=340,
                section="admin",
                priority="required",
            ),
        ),
        _deb("bash", "5.2.15-2+b2", source="bash", source_version="5.2.15-2", licenses=("GPL-3",)),
        _deb(
            "ca-certificates",
            "20230311",
            arch="all",
            layer=1,
            licenses=("GPL-2+", "MPL-2.0"),
        ),
        _CURL,
        _deb("libc6", "2.36-9+deb12u7", source="glibc", licenses=("LGPL-2.1", "GPL-2")),
        _LIBCURL,
        _deb("zlib1g", "1:1.2.13.dfsg-1", source="zlib", source_version="1:1.2.13.dfsg-1"),
    ),
    relationships=(Relationship(from_id=_CURL.id, to_id=_LIBCURL.id, type="depends-on"),),
    statuses=(
        AnalyzerStatus(name="os/dpkg", version=1),
        AnalyzerStatus(name="os/osrelease", version=1),
    ),
)

# --- Alpine: one layer, apk metadata, an SPDX expression ----------------------------------------

ALP_L0 = "sha256:d4fc045c9e3a848011de66f34b81f052d4f2c15a17bb196d637e526349601820"
_INSTALLED = "lib/apk/db/installed"
_ALP_CREATED_BY = "/bin/sh -c #(nop) ADD file:37a76ec18f9887751cd8473744917d08b7431fc4085097bb6a09d81b41775473 in / "


def _apk(name: str, version: str, origin: str, licenses: tuple[str, ...], **meta: Any) -> Package:
    return Package(
        name=name,
        version=version,
        type="apk",
        purl=_purl("apk", "alpine", name, version, {"arch": "x86_64", "distro": "3.19.1"}),
        found_by="os/apk",
        arch="x86_64",
        source_name=origin,
        source_version=version,
        licenses=licenses,
        locations=(Location(path=_INSTALLED, layer_diff_id=ALP_L0),),
        layer_diff_id=ALP_L0,
        layer_index=0,
        created_by=_ALP_CREATED_BY,
        metadata=ApkMeta(origin=origin, maintainer="Natanael Copa <ncopa@alpinelinux.org>", **meta),
    )


ALPINE = SBOM(
    tool_version="0.1.0",
    target=Target(
        name="oci-dir:/tmp/images/alpine",
        kind="oci-dir",
        manifest_digest="sha256:6457d53fb065d6f250e1504b9bc42d5b6c65941d57532c072d929dd0628977d0",
        config_digest="sha256:05455a08881ea9cf0e752bc48e61bbd71a34c029bb13df01e40e3e70e0d007bd",
        os="linux",
        architecture="amd64",
    ),
    distro=Distro(
        id="alpine",
        version="3.19.1",
        name="Alpine Linux",
        pretty_name="Alpine Linux v3.19",
        source="etc/os-release",
    ),
    layers=(LayerRef(index=0, diff_id=ALP_L0, created_by=_ALP_CREATED_BY),),
    packages=(
        _apk(
            "busybox",
            "1.36.1-r15",
            "busybox",
            ("GPL-2.0-only",),
            checksum="Q1NgqAg0XWFPuL0EaK5nLcJ8bDy8o=",
            commit="e1d1e8b3a4b0c0d3e8a0a4c2b2b6b7c8d9e0f1a2",
            installed_size=946176,
            depends=("so:libc.musl-x86_64.so.1",),
            provides=("cmd:busybox=1.36.1-r15",),
            description="Size optimized toolbox of many common UNIX utilities",
            url="https://busybox.net/",
        ),
        _apk(
            "ca-certificates-bundle",
            "20230506-r0",
            "ca-certificates",
            ("MPL-2.0 AND MIT",),
            description="Pre generated bundle of Mozilla certificates",
        ),
        _apk(
            "musl",
            "1.2.4_git20230717-r4",
            "musl",
            ("MIT",),
            provides=("so:libc.musl-x86_64.so.1=1",),
            description="the musl c library (libc) implementation",
        ),
    ),
    statuses=(
        AnalyzerStatus(name="os/apk", version=1),
        AnalyzerStatus(name="os/osrelease", version=1),
    ),
)

# --- RHEL/UBI: rpm with epoch and a modularity label, a partial analyzer, warnings --------------

RPM_L0 = "sha256:6d5e8b6c2d1f4e7a9b0c3d2e1f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a"
RPM_L1 = "sha256:7e6f9c7d3e2a5f8b0c1d4e3f2a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
_RPMDB = "var/lib/rpm/rpmdb.sqlite"
_RPM_STEPS = ("", "RUN /bin/sh -c dnf -y module install nodejs:18 && dnf clean all # buildkit")


def _rpm(
    name: str,
    epoch: int | None,
    version: str,
    release: str,
    *,
    arch: str = "x86_64",
    layer: int = 0,
    licenses: tuple[str, ...] = (),
    modularity_label: str | None = None,
) -> Package:
    full = f"{epoch}:{version}-{release}" if epoch is not None else f"{version}-{release}"
    quals = {"arch": arch, "distro": "rhel-8.9"}
    if epoch is not None:
        quals["epoch"] = str(epoch)
    diff = (RPM_L0, RPM_L1)[layer]
    return Package(
        name=name,
        version=full,
        type="rpm",
        purl=_purl("rpm", "redhat", name, f"{version}-{release}", quals),
        found_by="os/rpm",
        arch=arch,
        source_name=name,
        source_version=f"{version}-{release}",
        licenses=licenses,
        locations=(Location(path=_RPMDB, layer_diff_id=RPM_L1),),
        layer_diff_id=diff,
        layer_index=layer,
        created_by=_RPM_STEPS[layer] or None,
        metadata=RpmMeta(
            epoch=epoch,
            release=release,
            source_rpm=f"{name}-{version}-{release}.src.rpm",
            vendor="Red Hat, Inc.",
            modularity_label=modularity_label,
            size=123456,
        ),
    )


RPM = SBOM(
    tool_version="0.1.0",
    target=Target(
        name="oci-archive:/tmp/images/ubi8-nodejs.tar",
        kind="oci-archive",
        manifest_digest="sha256:0d1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
        config_digest="sha256:1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f",
        os="linux",
        architecture="amd64",
        labels={"com.redhat.component": "ubi8-container", "name": "ubi8"},
    ),
    distro=Distro(
        id="rhel",
        version="8.9",
        name="Red Hat Enterprise Linux",
        pretty_name="Red Hat Enterprise Linux 8.9 (Ootpa)",
        id_like=("fedora",),
        cpe="cpe:/o:redhat:enterprise_linux:8::baseos",
        source="etc/os-release",
    ),
    layers=(
        LayerRef(index=0, diff_id=RPM_L0),
        LayerRef(index=1, diff_id=RPM_L1, created_by=_RPM_STEPS[1]),
    ),
    packages=(
        _rpm("bash", None, "4.4.20", "4.el8_6", licenses=("GPLv3+",)),
        _rpm(
            "nodejs",
            1,
            "18.19.0",
            "1.module+el8.9.0+20473+c4e3d824",
            layer=1,
            licenses=("MIT and ASL 2.0 and ISC and BSD",),
            modularity_label="nodejs:18:8090020231207120000:a75119d5",
        ),
        _rpm("openssl-libs", 1, "1.1.1k", "12.el8_9", licenses=("OpenSSL and ASL 2.0",)),
        _rpm("tzdata", None, "2024a", "1.el8", arch="noarch", licenses=("Public Domain",)),
    ),
    statuses=(
        AnalyzerStatus(name="os/osrelease", version=1),
        AnalyzerStatus(
            name="os/rpm",
            version=2,
            status="partial",
            reason="1 file could not be read",
            file_errors=(
                FileError(
                    path="usr/lib/sysimage/rpm/Packages",
                    error="truncated page 12",
                    layer_diff_id=RPM_L0,
                ),
            ),
        ),
    ),
    warnings=("layer 1: 3 entries with unsafe names were skipped",),
)

EMPTY = SBOM(target=Target(name="dir:/tmp/empty-rootfs", kind="dir"))

CASES: dict[str, SBOM] = {"debian": DEBIAN, "alpine": ALPINE, "rpm": RPM, "empty": EMPTY}


# --- goldens -----------------------------------------------------------------------------------

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_REDACTIONS = (
    (re.compile(r'("serialNumber": )"urn:uuid:' + _UUID + '"'), r'\1"urn:uuid:redacted"'),
    (re.compile(r'("(?:timestamp|annotationDate)": )"\d{4}-[^"]*"'), r'\1"redacted"'),
    (re.compile(r'("creationInfo": \{\s*"created": )"[^"]*"'), r'\1"redacted"'),
    (re.compile(r'("documentNamespace": "[^"]*?)' + _UUID + '"'), r'\1redacted"'),
    (re.compile(r"(Tool: hullscan-)[^\"\s]*"), r"\1redacted"),
    (re.compile(r'("tool_version": )"[^"]*"'), r'\1"redacted"'),
)


def redact(text: str, tool_version: str = "0.1.0") -> str:
    """Blank out what changes between runs (serials, timestamps, namespaces, tool version)."""
    for pattern, repl in _REDACTIONS:
        text = pattern.sub(repl, text)
    return text.replace(f'"version": "{tool_version}"', '"version": "redacted"')


def check_golden(writer: str, case: str, text: str) -> None:
    """Compare with ``tests/goldens/<writer>/<case>.golden``; ``HULLSCAN_UPDATE_GOLDENS=1`` rewrites."""
    path = GOLDENS / writer / f"{case}.golden"
    if UPDATE_GOLDENS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"missing golden {path}; run with HULLSCAN_UPDATE_GOLDENS=1 to create it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{path} differs; HULLSCAN_UPDATE_GOLDENS=1 rewrites it after review"


# --- hypothesis strategies over the model -------------------------------------------------------

_text = st.text(max_size=12)
_opt = st.none() | _text
_int = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_opt_int = st.none() | _int
_strs = st.lists(_text, max_size=3).map(tuple)

locations = st.builds(Location, path=_text, layer_diff_id=_opt)
layer_refs = st.builds(
    LayerRef,
    index=_int,
    diff_id=_text,
    digest=_opt,
    media_type=_opt,
    size=_opt_int,
    created_by=_opt,
    created=_opt,
    comment=_opt,
)
metadata = st.one_of(
    st.none(),
    st.builds(
        DpkgMeta,
        status=_opt,
        maintainer=_opt,
        installed_size=_opt_int,
        section=_opt,
        priority=_opt,
        multi_arch=_opt,
        depends=_opt,
        provides=_opt,
    ),
    st.builds(
        ApkMeta,
        origin=_opt,
        maintainer=_opt,
        url=_opt,
        description=_opt,
        installed_size=_opt_int,
        checksum=_opt,
        commit=_opt,
        depends=_strs,
        provides=_strs,
    ),
    st.builds(
        RpmMeta,
        epoch=_opt_int,
        release=_opt,
        source_rpm=_opt,
        vendor=_opt,
        modularity_label=_opt,
        size=_opt_int,
    ),
)


def _make_purl(
    type_: str, ns: str | None, name: str, version: str | None, quals: dict[str, str]
) -> str:
    try:
        return PackageURL(
            type=type_, namespace=ns, name=name, version=version, qualifiers=quals
        ).to_string()
    except (TypeError, ValueError):  # packageurl-python rejects (or trips on) some inputs
        return f"pkg:{type_}/x"


purls = st.builds(
    _make_purl,
    st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
    st.none() | st.text(min_size=1, max_size=8),
    st.text(min_size=1, max_size=12),
    st.none() | st.text(min_size=1, max_size=12),
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), st.text(min_size=1, max_size=8)
    ),
)
packages = st.builds(
    Package,
    name=_text,
    version=_text,
    type=_text,
    purl=purls | _text,
    found_by=_text,
    arch=_opt,
    source_name=_opt,
    source_version=_opt,
    licenses=_strs,
    locations=st.lists(locations, max_size=2).map(tuple),
    layer_diff_id=_opt,
    layer_index=_opt_int,
    created_by=_opt,
    files=_strs,
    metadata=metadata,
)
targets = st.builds(
    Target,
    name=_text,
    kind=_text,
    manifest_digest=_opt,
    config_digest=_opt,
    image_id=_opt,
    repo_tags=_strs,
    os=_opt,
    architecture=_opt,
    variant=_opt,
    created=_opt,
    user=_opt,
    env=_strs,
    exposed_ports=_strs,
    labels=st.dictionaries(_text, _text, max_size=3),
)
distros = st.builds(
    Distro,
    id=_text,
    version=_opt,
    codename=_opt,
    name=_opt,
    pretty_name=_opt,
    id_like=_strs,
    variant=_opt,
    cpe=_opt,
    source=_opt,
)
statuses = st.builds(
    AnalyzerStatus,
    name=_text,
    version=_int,
    status=_text,
    reason=_opt,
    file_errors=st.lists(
        st.builds(FileError, path=_text, error=_text, layer_diff_id=_opt), max_size=2
    ).map(tuple),
)
sboms = st.builds(
    SBOM,
    tool=_text,
    tool_version=_text,
    target=targets,
    distro=st.none() | distros,
    layers=st.lists(layer_refs, max_size=3).map(tuple),
    packages=st.lists(packages, max_size=5).map(tuple),
    relationships=st.lists(
        st.builds(Relationship, from_id=_text, to_id=_text, type=_text), max_size=3
    ).map(tuple),
    statuses=st.lists(statuses, max_size=2).map(tuple),
    warnings=_strs,
)


# --- the samples' own checks ----------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_samples_package_ids_unique(case: str) -> None:
    ids = [p.id for p in CASES[case].packages]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", sorted(CASES))
def test_samples_survive_msgspec_round_trip(case: str) -> None:
    sbom = CASES[case]
    assert msgspec.json.decode(msgspec.json.encode(sbom), type=SBOM) == sbom


def test_redact_blanks_volatile_fields() -> None:
    text = (
        '"serialNumber": "urn:uuid:0b144d40-4be8-40d3-bd9d-ee8fde023c2f", '
        '"timestamp": "2026-01-01T00:00:00+00:00", "Tool: hullscan-0.1.0"'
    )
    assert redact(text) == (
        '"serialNumber": "urn:uuid:redacted", "timestamp": "redacted", "Tool: hullscan-redacted"'
    )
