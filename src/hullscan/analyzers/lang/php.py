"""Installed PHP packages: Composer's ``<vendor-dir>/composer/installed.json``, anywhere in the
image (``var/www/html/vendor/composer/installed.json``, ``app/vendor/...``; the vendor directory
can be renamed with Composer's ``vendor-dir`` setting, so only the ``composer/installed.json``
tail is required).

The interest is the basename ``installed.json`` (one dict lookup per tar member);
``analyze_file`` keeps only a file whose parent directory is named ``composer``; every other
``installed.json`` gives an ``ignored`` record.

Both formats Composer writes:

* Composer 1: a JSON list of package objects;
* Composer 2: ``{"packages": [...], "dev": bool, "dev-package-names": [...]}``. A package named
  in ``dev-package-names`` was installed for ``require-dev`` only: it is kept, with
  ``ComposerPackage.dev`` set (how to show it is the caller's choice). Composer 1 did not record
  this, so its packages all have ``dev=False``.

Read per package: ``name`` (``vendor/package``, lower-cased as Packagist and Composer compare
names: Composer writes the name as the package spelt it, ``Acme/Legacy-Lib``), ``version``
exactly as written (the tag, ``v6.4.0`` for Symfony; not ``version_normalized``: osv.dev's
Packagist records list affected versions the same way, ``v2.0.10``, and Composer's version order,
``hullscan.versions.composer``, ignores the ``v`` when it compares ranges) and ``license``
(a list of strings, or one string). A package whose name is not ``vendor/package`` or whose
version is empty or not printable ASCII is left out and noted in ``errors`` (the other packages
of the file are kept); a file that is not JSON, or whose values have the wrong JSON types
(``packages`` not a list, a ``name`` that is a number...), raises ``ParseError``.

Bounds: the file size (``max_file_size``), ``MAX_PACKAGES`` packages per file, ``_MAX_ERRORS``
notes, ``_MAX_LICENSES`` licenses of at most ``_MAX_LICENSE`` characters. Deeply nested JSON is a
``ParseError`` (msgspec's recursion limit), never a crash.

Packages: type ``composer`` (OSV ecosystem ``Packagist``), purl
``pkg:composer/<vendor>/<name>@<version>``, located at the ``installed.json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import msgspec
from packageurl import PackageURL

from hullscan.analyzers.base import (
    AnalyzedFile,
    Analyzer,
    AssembleContext,
    Assembly,
    Interests,
    unique_files,
)
from hullscan.errors import ParseError

MAX_SIZE = 32 * 1024 * 1024
MAX_PACKAGES = 50_000
_MAX_ERRORS = 20
_MAX_LICENSES = 20
_MAX_LICENSE = 200
# Composer's package name rule (``vendor/package``, lower-case ASCII letters, digits, ``_.-``),
# slightly looser than the one Composer 2 enforces on new packages so that old Packagist names
# still pass; each part starts with a letter or digit, so ``..`` and ``/`` never make a part.
_PART = r"[a-z0-9][a-z0-9_.-]{0,199}"
_NAME_RE = re.compile(rf"{_PART}/{_PART}\Z", re.ASCII)
_VERSION_RE = re.compile(r"[!-~]{1,256}\Z")


class ComposerPackage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One installed package; ``name`` lower-cased, ``version`` as written."""

    name: str
    version: str
    licenses: tuple[str, ...] = ()
    dev: bool = False


class ComposerRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["installed", "ignored"]
    format: int = 0  # 1 (a list) or 2 (``{"packages": ...}``)
    packages: tuple[ComposerPackage, ...] = ()
    errors: tuple[str, ...] = ()  # entries left out (the rest of the file was read)


_IGNORED = ComposerRecord(kind="ignored")


# -- the JSON shapes (typed decoding: a wrong type anywhere we read is a ValidationError) ------


class _Entry(msgspec.Struct):
    name: str = ""
    version: str = ""
    license: list[str] | str | None = None


class _Installed2(msgspec.Struct):
    packages: list[_Entry]
    dev: bool | None = None
    dev_package_names: list[str] | None = msgspec.field(name="dev-package-names", default=None)


_DECODER = msgspec.json.Decoder(list[_Entry] | _Installed2)


def is_installed_json(path: str) -> bool:
    """``.../composer/installed.json`` (the vendor directory's ``composer`` folder)."""
    parts = path.split("/")
    return len(parts) >= 2 and parts[-1] == "installed.json" and parts[-2] == "composer"


def _licenses(value: list[str] | str | None) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else (value or [])[:_MAX_LICENSES]
    out = (x.strip() for x in items)
    return tuple(dict.fromkeys(x for x in out if x and len(x) <= _MAX_LICENSE))


def parse_installed_json(data: bytes, what: str = "installed.json") -> ComposerRecord:
    """Both formats of ``installed.json``; raises ``ParseError`` on input that is not one."""
    try:
        doc = _DECODER.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ParseError(f"{what}: not a Composer installed.json: {str(e)[:100]}") from None
    if isinstance(doc, list):
        fmt, entries, dev_names = 1, doc, frozenset[str]()
    else:
        fmt, entries = 2, doc.packages
        dev_names = frozenset(n.lower() for n in doc.dev_package_names or ())
    if len(entries) > MAX_PACKAGES:
        raise ParseError(f"{what}: more than {MAX_PACKAGES} packages")
    packages: dict[str, ComposerPackage] = {}
    errors: list[str] = []

    def note(message: str) -> None:
        if len(errors) < _MAX_ERRORS:
            errors.append(message)

    for i, entry in enumerate(entries):
        name = entry.name.strip().lower()
        version = entry.version.strip()
        if not _NAME_RE.match(name):
            note(f"packages[{i}]: invalid package name {entry.name[:60]!r}")
            continue
        if not _VERSION_RE.match(version):
            note(f"packages[{i}] {name}: invalid version {entry.version[:60]!r}")
            continue
        if name in packages:
            note(f"packages[{i}] {name}: listed twice (the first is kept)")
            continue
        packages[name] = ComposerPackage(
            name=name,
            version=version,
            licenses=_licenses(entry.license),
            dev=name in dev_names,
        )
    return ComposerRecord(
        kind="installed", format=fmt, packages=tuple(packages.values()), errors=tuple(errors)
    )


def composer_purl(name: str, version: str) -> str:
    vendor, _, base = name.partition("/")
    url: str = PackageURL(type="composer", namespace=vendor, name=base, version=version).to_string()
    return url


class PhpComposerAnalyzer(Analyzer):
    """Installed Composer packages (``vendor/composer/installed.json``, Composer 1 and 2)."""

    name = "lang/php"
    version = 1
    interests = Interests(basenames=("installed.json",))
    max_file_size = MAX_SIZE
    record_type = ComposerRecord

    def analyze_file(self, path: str, data: bytes) -> ComposerRecord:
        if not is_installed_json(path):
            return _IGNORED
        return parse_installed_json(data, path)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):  # a symlinked vendor directory counts once
            rec = f.record
            if not isinstance(rec, ComposerRecord) or rec.kind != "installed":
                continue
            where = f.real_path
            out.errors.extend((where, e) for e in rec.errors)
            for p in rec.packages:
                out.packages.append(
                    self.package_at(
                        f,
                        name=p.name,
                        version=p.version,
                        type="composer",
                        purl=composer_purl(p.name, p.version),
                        licenses=p.licenses,
                    )
                )
        return out
