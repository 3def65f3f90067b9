"""What to upgrade, to what, and where the package came from: remediation per vulnerable package.

``remediations(findings, distro)`` gives one :class:`Remediation` per vulnerable package:

* ``fixed_version``: the lowest version that fixes ALL the package's findings -- each finding's
  ``fixed_version`` is already the highest fix of its statements (``docs/matching.md``), so the
  answer is the maximum of them, compared with ``hullscan.versions`` in the package's scheme.
  None when any finding has no fix (``unfixed`` names those) or a fixed version cannot be parsed
  (never a guess);
* ``command``: the ecosystem's upgrade command (apt-get/apk/dnf or yum/pip/npm/...);
* the layer that brought the package in is on ``package`` (``layer_index``, ``layer_diff_id``,
  ``created_by``).

``layer_summary(findings, layers, base_layers=...)`` counts findings in base-image layers vs the
application's own layers. The rule for "base" (``docs/scanning.md``):

1. ``base_layers`` given (``--base-layers N``): layers ``0..N-1`` (rule ``option``);
2. the image label ``hullscan.base.layers`` = N (set by a build that knows it): same (``label``);
3. otherwise layer 0 only (``first-layer``): official distro base images (debian, ubuntu,
   alpine, ubi-micro, distroless static) are a single rootfs layer, and a build's own steps
   come after it. The OCI ``org.opencontainers.image.base.name``/``base.digest`` annotations
   name the base image but not how many layers it has (that needs the base image's manifest,
   which a scan of one image does not have), so they are not used to count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from hullscan import versions
from hullscan.model.distro import Distro
from hullscan.model.finding import (
    Finding,
    LayerFindings,
    LayerSummary,
    PackageRef,
    Remediation,
)
from hullscan.model.location import LayerRef
from hullscan.versions import VersionParseError

BASE_LAYERS_LABEL = "hullscan.base.layers"

# rpm distros whose package manager is yum, not dnf: (distro id, major version).
_YUM = {("rhel", "7"), ("centos", "7"), ("ol", "7"), ("amzn", "2"), ("scientific", "7")}


def _scheme(finding: Finding) -> str:
    for reason in finding.matched_by:
        if reason.scheme:
            return reason.scheme
    return finding.package.type


def _quote(text: str) -> str:
    """Single-quote for a POSIX shell when the text has anything but safe characters."""
    safe = all(c.isalnum() or c in "-._+:@/=~" for c in text)
    return text if safe and text else "'" + text.replace("'", "'\\''") + "'"


def _purl_name(pkg: PackageRef) -> str:
    """The name as the ecosystem's tool spells it (npm scope, Go module path, Maven coords)."""
    purl = pkg.purl
    if not purl.startswith("pkg:"):
        return pkg.name
    body = purl[4:].split("#", 1)[0].split("?", 1)[0]
    body = body.rsplit("@", 1)[0] if "@" in body.rsplit("/", 1)[-1] else body
    parts = body.split("/")[1:]
    if not parts:
        return pkg.name
    from urllib.parse import unquote

    parts = [unquote(p) for p in parts]
    if pkg.type == "maven" and len(parts) >= 2:
        return f"{'/'.join(parts[:-1])}:{parts[-1]}"
    if pkg.type in ("npm", "golang", "composer"):
        return "/".join(parts)
    return parts[-1]


def upgrade_command(pkg: PackageRef, fixed: str, distro: Distro | None = None) -> str | None:
    """The command that upgrades ``pkg`` to (at least) ``fixed``; None when there is none."""
    name = _purl_name(pkg)
    t = pkg.type
    if t == "deb":
        # The fixed version is a source version: upgrading the binary pulls the fixed build.
        return f"apt-get install --only-upgrade {_quote(pkg.name)}"
    if t == "apk":
        return f"apk upgrade {_quote(pkg.name)}"
    if t == "rpm":
        major = ((distro.version or "") if distro else "").split(".", 1)[0]
        tool = "yum" if distro is not None and (distro.id, major) in _YUM else "dnf"
        return f"{tool} update {_quote(pkg.name)}"
    if t == "pypi":
        return f"pip install {_quote(f'{name}>={fixed}')}"
    if t == "npm":
        return f"npm install {_quote(f'{name}@{fixed}')}"
    if t == "gem":
        return f"gem install {_quote(name)} -v {_quote(f'>= {fixed}')}"
    if t == "cargo":
        return f"cargo update -p {_quote(name)} --precise {_quote(fixed)}"
    if t == "golang":
        v = fixed if fixed.startswith("v") else f"v{fixed}"
        return f"go get {_quote(f'{name}@{v}')}"
    if t == "composer":
        return f"composer require {_quote(f'{name}:>={fixed}')}"
    if t == "nuget":
        return f"dotnet add package {_quote(name)} --version {_quote(fixed)}"
    return None  # maven and others: the version lives in a build file


def lowest_fixing_version(findings: Sequence[Finding], scheme: str) -> str | None:
    """The highest of the findings' fixed versions (so it fixes all); None if any has none."""
    best: versions.Version | None = None
    for f in findings:
        if f.fix_state != "fixed" or not f.fixed_version:
            return None
        try:
            v = versions.parse(scheme, f.fixed_version)
        except VersionParseError:
            return None
        if best is None or v > best:
            best = v
    return best.text if best is not None else None


def base_layer_indexes(
    layers: Sequence[LayerRef],
    labels: Mapping[str, str] | None = None,
    base_layers: int | None = None,
) -> tuple[tuple[int, ...], str]:
    """The indexes of the base-image layers and the rule that chose them (see module doc)."""
    if not layers:
        return (), "first-layer"
    count: int | None = None
    rule = "first-layer"
    if base_layers is not None:
        count, rule = base_layers, "option"
    elif labels and labels.get(BASE_LAYERS_LABEL, "").strip().isdigit():
        count, rule = int(labels[BASE_LAYERS_LABEL].strip()), "label"
    if count is None:
        count = 1
    count = max(0, min(count, len(layers)))
    return tuple(layer.index for layer in layers[:count]), rule


def remediations(
    findings: Iterable[Finding],
    distro: Distro | None = None,
    base: Iterable[int] = (),
) -> tuple[Remediation, ...]:
    """One remediation per vulnerable package, in the order packages first appear."""
    by_pkg: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_pkg[f.package.id].append(f)
    base_set = frozenset(base)
    out: list[Remediation] = []
    for group in by_pkg.values():
        pkg = group[0].package
        scheme = _scheme(group[0])
        fixed = lowest_fixing_version(group, scheme)
        ids = tuple(dict.fromkeys(f.id for f in group))
        unfixed = tuple(
            dict.fromkeys(f.id for f in group if f.fix_state != "fixed" or not f.fixed_version)
        )
        command = upgrade_command(pkg, fixed, distro) if fixed is not None else None
        out.append(
            Remediation(
                package=pkg,
                scheme=scheme,
                findings=ids,
                fixed_version=fixed,
                unfixed=unfixed,
                command=command,
                base_layer=None if pkg.layer_index is None else pkg.layer_index in base_set,
            )
        )
    return tuple(out)


def layer_summary(
    findings: Iterable[Finding],
    layers: Sequence[LayerRef],
    labels: Mapping[str, str] | None = None,
    base_layers: int | None = None,
) -> LayerSummary:
    """Findings per layer, and in base vs application layers."""
    base, rule = base_layer_indexes(layers, labels, base_layers)
    base_set = frozenset(base)
    per_layer: dict[int, list[Finding]] = defaultdict(list)
    unknown = 0
    for f in findings:
        if f.package.layer_index is None:
            unknown += 1
        else:
            per_layer[f.package.layer_index].append(f)
    rows: list[LayerFindings] = []
    base_count = app_count = 0
    for layer in layers:
        found = per_layer.get(layer.index, [])
        sev: dict[str, int] = defaultdict(int)
        for f in found:
            sev[f.severity_rating] += 1
        is_base = layer.index in base_set
        if is_base:
            base_count += len(found)
        else:
            app_count += len(found)
        rows.append(
            LayerFindings(
                index=layer.index,
                diff_id=layer.diff_id,
                base=is_base,
                created_by=layer.created_by,
                findings=len(found),
                packages=len({f.package.id for f in found}),
                by_severity=dict(sorted(sev.items())),
            )
        )
    known = {layer.index for layer in layers}
    for index, found in per_layer.items():  # a layer index the SBOM's layer list lacks
        if index not in known:
            unknown += len(found)
    return LayerSummary(
        rule=rule,
        base_layers=base,
        base_findings=base_count,
        app_findings=app_count,
        unknown_layer=unknown,
        layers=tuple(rows),
    )
