"""hullscan.match.remediation: lowest fixing version, commands, base vs application layers."""

from __future__ import annotations

from hullscan.match.remediation import (
    base_layer_indexes,
    layer_summary,
    lowest_fixing_version,
    remediations,
    upgrade_command,
)
from hullscan.model.distro import Distro
from hullscan.model.finding import Finding, MatchReason, PackageRef
from hullscan.model.location import LayerRef


def ref(name: str = "curl", type: str = "deb", version: str = "1.0-1", **kw: object) -> PackageRef:
    purl = kw.pop("purl", f"pkg:{type}/x/{name}@{version}")
    return PackageRef(id=f"id-{type}-{name}", name=name, version=version, type=type, purl=purl, **kw)  # type: ignore[arg-type]


def finding(id: str, pkg: PackageRef, fixed: str | None, scheme: str | None = None, **kw: object) -> Finding:
    reason = MatchReason(
        advisory_id=id, source="t", namespace="ns", package=pkg.name, installed_version=pkg.version,
        scheme=scheme or pkg.type, verdict="affected", rule="range", fix_state="fixed" if fixed else "affected",
    )
    return Finding(
        id=id, package=pkg, namespace="ns", fix_state="fixed" if fixed else "affected",
        fixed_version=fixed, matched_by=(reason,), **kw,  # type: ignore[arg-type]
    )


def test_lowest_fixing_version_is_the_max_in_the_scheme() -> None:
    p = ref()
    fs = [finding("CVE-1", p, "1.10-1"), finding("CVE-2", p, "1.9-1"), finding("CVE-3", p, "1:0.1-1")]
    assert lowest_fixing_version(fs, "deb") == "1:0.1-1"  # the epoch wins
    fs = [finding("CVE-1", p, "1.0~rc1-1"), finding("CVE-2", p, "1.0-1")]
    assert lowest_fixing_version(fs, "deb") == "1.0-1"
    # string order would say 1.9 > 1.10
    py = ref("jinja2", "pypi", "2.0")
    assert lowest_fixing_version([finding("A", py, "1.9"), finding("B", py, "1.10")], "pypi") == "1.10"


def test_no_fix_when_any_finding_is_unfixed() -> None:
    p = ref()
    fs = [finding("CVE-1", p, "2.0-1"), finding("CVE-2", p, None)]
    (r,) = remediations(fs)
    assert r.fixed_version is None and r.command is None
    assert r.unfixed == ("CVE-2",) and r.findings == ("CVE-1", "CVE-2")


def test_unparsable_fixed_version_gives_none() -> None:
    p = ref("x", "pypi", "1.0")
    assert lowest_fixing_version([finding("A", p, "not a version!!")], "pypi") is None


def test_commands_per_ecosystem() -> None:
    assert upgrade_command(ref("libssl3"), "3.0.1-1") == "apt-get install --only-upgrade libssl3"
    assert upgrade_command(ref("musl", "apk"), "1.2.4-r3") == "apk upgrade musl"
    rhel9 = Distro(id="rhel", version="9.4")
    rhel7 = Distro(id="rhel", version="7.9")
    amzn2 = Distro(id="amzn", version="2")
    assert upgrade_command(ref("openssl", "rpm"), "1", rhel9) == "dnf update openssl"
    assert upgrade_command(ref("openssl", "rpm"), "1", rhel7) == "yum update openssl"
    assert upgrade_command(ref("openssl", "rpm"), "1", amzn2) == "yum update openssl"
    assert upgrade_command(ref("jinja2", "pypi", purl="pkg:pypi/jinja2@2.0"), "3.1.4") == "pip install 'jinja2>=3.1.4'"
    npm = ref("core", "npm", purl="pkg:npm/%40babel/core@7.0.0")
    assert upgrade_command(npm, "7.26.0") == "npm install @babel/core@7.26.0"
    go = ref("net", "golang", purl="pkg:golang/golang.org/x/net@v0.1.0")
    assert upgrade_command(go, "0.23.0") == "go get golang.org/x/net@v0.23.0"
    assert upgrade_command(ref("c", "maven", purl="pkg:maven/org.x/c@1"), "2") is None


def test_remediation_per_package_in_first_seen_order() -> None:
    a, b = ref("a"), ref("b", layer_index=1)
    rs = remediations([finding("C1", b, "2-1"), finding("C2", a, "3-1"), finding("C3", b, "4-1")], base=(0,))
    assert [r.package.name for r in rs] == ["b", "a"]
    assert rs[0].fixed_version == "4-1" and rs[0].findings == ("C1", "C3")
    assert rs[0].base_layer is False and rs[1].base_layer is None  # a has no layer


def layers(n: int) -> tuple[LayerRef, ...]:
    return tuple(LayerRef(index=i, diff_id=f"sha256:{i}", created_by=f"step {i}") for i in range(n))


def test_base_layer_rule() -> None:
    assert base_layer_indexes(layers(3)) == ((0,), "first-layer")
    assert base_layer_indexes(layers(3), base_layers=2) == ((0, 1), "option")
    assert base_layer_indexes(layers(3), {"hullscan.base.layers": "2"}) == ((0, 1), "label")
    assert base_layer_indexes(layers(3), base_layers=9) == ((0, 1, 2), "option")
    assert base_layer_indexes(()) == ((), "first-layer")


def test_layer_summary_counts() -> None:
    p0, p1, px = ref("a", layer_index=0), ref("b", layer_index=1), ref("c")
    fs = [finding("1", p0, None, severity_rating="high"), finding("2", p1, None), finding("3", p1, None), finding("4", px, None)]
    s = layer_summary(fs, layers(2))
    assert (s.base_findings, s.app_findings, s.unknown_layer) == (1, 2, 1)
    assert s.layers[0].by_severity == {"high": 1} and s.layers[1].packages == 1
