"""hullscan.policy: filters, ignorefile (with expiry), gate and exit codes, empty scans."""

from __future__ import annotations

import datetime as dt

import pytest

from hullscan.errors import UsageError
from hullscan.model.distro import Distro
from hullscan.model.finding import Finding, PackageRef, ScanResult
from hullscan.model.location import LayerRef
from hullscan.model.sbom import Target
from hullscan.policy import (
    NothingScannedError,
    Policy,
    apply_policy,
    parse_ignorefile,
    parse_severity_list,
    sort_findings,
)

TODAY = dt.date(2025, 6, 1)


def f(id: str, rating: str, name: str = "curl", fixed: str | None = None, **kw: object) -> Finding:
    pkg = PackageRef(id=f"id-{name}", name=name, version="1.0-1", type="deb",
                     purl=f"pkg:deb/debian/{name}@1.0-1", source_name=f"src-{name}", layer_index=0)
    return Finding(id=id, package=pkg, namespace="debian:12", fix_state="fixed" if fixed else "affected",
                   fixed_version=fixed, severity_rating=rating, **kw)  # type: ignore[arg-type]


FINDINGS = (
    f("CVE-1", "critical", fixed="2.0-1"),
    f("CVE-2", "high", "zlib1g"),
    f("CVE-3", "low", "perl-base", fixed="5-1", aliases=("GHSA-aaaa",)),
    f("CVE-4", "unknown", "libc6"),
)


def result(findings: tuple[Finding, ...] = FINDINGS, **kw: object) -> ScanResult:
    return ScanResult(
        target=Target(name="img", kind="docker-archive"), distro=Distro(id="debian", version="12"),
        findings=findings, package_count=4, layers=(LayerRef(index=0, diff_id="sha256:0"),), **kw,  # type: ignore[arg-type]
    )


def run(**kw: object) -> tuple[list[str], int, list[str]]:
    out = apply_policy(result(), Policy(today=TODAY, **kw))  # type: ignore[arg-type]
    return [x.id for x in out.result.findings], out.exit_code, list(out.messages)


def test_no_policy_shows_everything_and_passes() -> None:
    ids, code, _ = run()
    assert sorted(ids) == ["CVE-1", "CVE-2", "CVE-3", "CVE-4"] and code == 0


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [("critical", 1), ("high", 1), ("low", 1), ("unknown", 1)],
)
def test_fail_on(fail_on: str, code: int) -> None:
    assert run(fail_on=fail_on)[1] == code


def test_fail_on_respects_the_shown_set() -> None:
    assert run(fail_on="high", severities=frozenset({"low"}))[1] == 0
    assert run(fail_on="critical", ignore_unfixed=True, severities=frozenset({"low"}))[1] == 0


def test_malicious_always_fails_with_fail_on() -> None:
    mal = (f("MAL-1", "unknown", "evil", malicious=True),)
    out = apply_policy(result(mal), Policy(fail_on="critical", today=TODAY))
    assert out.exit_code == 1
    assert apply_policy(result(mal), Policy(today=TODAY)).exit_code == 0


def test_exit_code_with_severity() -> None:
    assert run(exit_code=5, severities=frozenset({"high"})) == (["CVE-2"], 5, [])
    assert run(exit_code=5, severities=frozenset({"medium"}))[:2] == ([], 0)
    assert run(exit_code=7, fail_on="critical")[1] == 7


def test_ignore_unfixed_removes_exactly_the_unfixed() -> None:
    out = apply_policy(result(), Policy(ignore_unfixed=True, show_suppressed=True, today=TODAY))
    assert sorted(x.id for x in out.result.findings) == ["CVE-1", "CVE-3"]
    assert sorted(s.finding.id for s in out.result.suppressed) == ["CVE-2", "CVE-4"]
    assert out.result.suppressed_count == 2
    hidden = apply_policy(result(), Policy(ignore_unfixed=True, today=TODAY)).result
    assert hidden.suppressed == () and hidden.suppressed_count == 2


def test_severity_list_parsing() -> None:
    assert parse_severity_list("CRITICAL, high") == {"critical", "high"}
    with pytest.raises(UsageError, match="unknown severity"):
        parse_severity_list("severe")


IGNORE = """
ignore:
  - id: GHSA-aaaa            # an alias
    reason: not reachable
  - purl: "pkg:deb/debian/zlib1g@*"
    expires: 2030-01-01
  - package: "src-lib*"      # glob over the source name
    id: CVE-4
  - id: CVE-1
    expires: 2020-01-01      # expired: warns, does not suppress
  - path: "usr/lib/*"
"""


def test_ignorefile_by_id_alias_purl_glob_and_expiry() -> None:
    entries = parse_ignorefile(IGNORE)
    out = apply_policy(
        result(), Policy(ignore=entries, show_suppressed=True, today=TODAY),
        paths={"id-curl": ("var/lib/dpkg/status",)},
    )
    assert [x.id for x in out.result.findings] == ["CVE-1"]
    by = {s.finding.id: s for s in out.result.suppressed}
    assert set(by) == {"CVE-2", "CVE-3", "CVE-4"}
    assert by["CVE-3"].reason == "not reachable" and by["CVE-3"].by == "ignorefile"
    (msg,) = out.messages
    assert "entry 4" in msg and "expired on 2020-01-01" in msg


def test_ignorefile_path_entry() -> None:
    entries = parse_ignorefile("- path: 'usr/lib/python3/*'\n")
    out = apply_policy(result(), Policy(ignore=entries, today=TODAY),
                       paths={"id-zlib1g": ("usr/lib/python3/x/METADATA",)})
    assert "CVE-2" not in [x.id for x in out.result.findings]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("ignore: 3", "must be a list"),
        ("ignore:\n  - reason: x\n", "at least one of"),
        ("ignore:\n  - id: X\n    colour: red\n", "unknown key"),
        ("ignore:\n  - id: X\n    expires: someday\n", "expires must be a date"),
        ("ignore: [", "not valid YAML"),
    ],
)
def test_ignorefile_errors(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_ignorefile(text)


def test_nothing_scanned_is_an_error_unless_allowed() -> None:
    empty = ScanResult(target=Target(name="img", kind="dir"), warnings=("3 components skipped",))
    with pytest.raises(NothingScannedError, match="nothing could be scanned.*3 components skipped") as e:
        apply_policy(empty, Policy())
    assert e.value.exit_code == 2
    assert apply_policy(empty, Policy(allow_empty=True)).exit_code == 0
    # a distro with no packages is a (clean) scan
    assert apply_policy(ScanResult(target=Target(name="i", kind="dir"), distro=Distro(id="debian")), Policy()).exit_code == 0


def test_sort_orders() -> None:
    by_sev = sort_findings(FINDINGS, "severity")
    assert [x.severity_rating for x in by_sev] == ["critical", "high", "low", "unknown"]
    by_pkg = sort_findings(FINDINGS, "package")
    assert [x.package.name for x in by_pkg] == ["curl", "libc6", "perl-base", "zlib1g"]
    with pytest.raises(UsageError):
        sort_findings(FINDINGS, "colour")


def test_remediation_recomputed_over_shown_findings() -> None:
    out = apply_policy(result(), Policy(severities=frozenset({"critical"}), today=TODAY))
    assert [r.package.name for r in out.result.remediations] == ["curl"]
    assert out.result.remediations[0].fixed_version == "2.0-1"
    assert out.result.layer_summary is not None and out.result.layer_summary.base_findings == 1
