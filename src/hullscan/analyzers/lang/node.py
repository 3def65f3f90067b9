"""Installed npm packages: ``node_modules/<name>/package.json`` and
``node_modules/@scope/<name>/package.json``, anywhere in the image.

The interest is the basename ``package.json`` (one dict lookup per tar member); ``analyze_file``
keeps only a ``package.json`` whose directory sits directly under a ``node_modules`` directory
(or under ``node_modules/@scope``), which is where npm, yarn and pnpm (its
``.pnpm/<id>/node_modules/<name>``) install packages. Every other ``package.json`` (a project's
own, the test fixtures and sub-package manifests inside an installed package such as
``node_modules/resolve/test/resolver/baz/package.json``) gives an ``ignored`` record. A fixture
that itself sits under a nested ``node_modules`` directory inside a package is indistinguishable
from an install and is reported. Workspace packages (``node_modules/<name>`` a symlink to a
folder of the project, as npm, yarn and pnpm link them) are the project's own code: not
reported; pnpm's links into its store count once, at the store path. Bundled dependencies are
ordinary nested ``node_modules`` entries and are reported.

Read: ``name`` and ``version`` (strings, required: a manifest without them, or with a name that
is not a valid npm name, raises ``ParseError``), ``license`` (a string or ``{"type": ...}``)
or the legacy ``licenses`` list. Packages: type ``npm``, purl ``pkg:npm/<name>@<version>``;
a scoped name's ``@scope`` is the purl namespace (encoded ``%40scope``, purl-spec ``npm``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec
from packageurl import PackageURL

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly, Interests
from hullscan.analyzers.base import location as make_location
from hullscan.errors import ParseError
from hullscan.model import Package

_MAX_LICENSE = 200
# npm names: at most 214 characters, URL-safe, no leading . or _ (legacy names may be upper-case).
_PART = r"[A-Za-z0-9~-][A-Za-z0-9._~!*'()-]*"
_NAME_RE = re.compile(rf"(?:@{_PART}/)?{_PART}\Z")
_VERSION_RE = re.compile(r"[!-~]{1,256}\Z")


class NodeRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["package", "ignored"]
    name: str = ""
    version: str = ""
    licenses: tuple[str, ...] = ()


_IGNORED = NodeRecord(kind="ignored")


def is_installed_manifest(path: str) -> bool:
    """``node_modules/<name>/package.json`` or ``node_modules/@scope/<name>/package.json``."""
    parts = path.split("/")
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules":
        return not parts[-2].startswith("@") and parts[-2] not in ("", ".", "..")
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


def _license_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, str) and value.strip() and len(value) <= _MAX_LICENSE:
        return value.strip()
    return None


def parse_package_json(data: bytes, what: str = "package.json") -> NodeRecord:
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ParseError(f"{what}: not JSON: {str(e)[:100]}") from None
    if not isinstance(doc, dict):
        raise ParseError(f"{what}: not a JSON object")
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise ParseError(f"{what}: no name or version")
    if len(name) > 214 or not _NAME_RE.match(name):
        raise ParseError(f"{what}: invalid package name {name[:60]!r}")
    if not _VERSION_RE.match(version):
        raise ParseError(f"{what}: invalid version {version[:60]!r}")
    licenses: list[str] = []
    one = _license_of(doc.get("license"))
    if one:
        licenses.append(one)
    elif isinstance(doc.get("licenses"), list):
        licenses.extend(x for x in map(_license_of, doc["licenses"][:20]) if x)
    return NodeRecord(
        kind="package", name=name, version=version, licenses=tuple(dict.fromkeys(licenses))
    )


def npm_purl(name: str, version: str) -> str:
    scope, slash, base = name.rpartition("/")
    url: str = PackageURL(
        type="npm", namespace=scope if slash else None, name=base, version=version
    ).to_string()
    return url


class NodeAnalyzer(Analyzer):
    """Installed npm packages (node_modules trees of npm, yarn and pnpm)."""

    name = "lang/node"
    version = 2
    interests = Interests(basenames=("package.json",))
    max_file_size = 4 * 1024 * 1024
    record_type = NodeRecord

    def analyze_file(self, path: str, data: bytes) -> NodeRecord:
        if not is_installed_manifest(path):
            return _IGNORED
        return parse_package_json(data, path)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for path, f in sorted(files.items()):
            rec = f.record
            if not isinstance(rec, NodeRecord) or rec.kind != "package":
                continue
            if f.real_path != path:
                # A link: into pnpm's store (the package is reported at its real path there)
                # or to a folder of the project (a workspace package of npm, yarn or pnpm:
                # the project's own code, not an install). Either way not reported here.
                continue
            out.packages.append(
                Package(
                    name=rec.name,
                    version=rec.version,
                    type="npm",
                    purl=npm_purl(rec.name, rec.version),
                    found_by=self.name,
                    licenses=rec.licenses,
                    locations=(make_location(path, f.layer),),
                )
            )
        return out
