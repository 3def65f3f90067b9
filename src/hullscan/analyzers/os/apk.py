"""Alpine-family packages: apk's installed database (``lib/apk/db/installed``).

The file is apk's "FDB" format: one stanza per package, stanzas separated by an empty line,
each line ``X:value`` with a one-letter field. Read here: ``P`` name, ``V`` version, ``A`` arch,
``o`` origin (source package), ``L`` license, ``m`` maintainer, ``U`` url, ``T`` description,
``I`` installed size, ``C`` checksum, ``c`` commit, ``D`` depends, ``p`` provides, and the file
list: ``F:`` a directory (empty for the root), ``R:`` a file in the last ``F``.

apk-tools >= 3 keeps the same file at ``usr/lib/apk/db/installed`` (``lib/apk`` is then usually
a symlink); squash resolves links, and a package is reported once per database file.

A stanza missing ``P`` or ``V``, with a name that is not printable ASCII without spaces or ``/``
or a version that is not printable ASCII without spaces (apk writes neither; such a name could
not be written as a purl), or with a line that is not ``X:value``, is dropped and reported as an
error; the rest of the file is kept. A file with no valid stanza raises ParseError.

Permission lines (``M:`` after ``F:``, ``a:`` after ``R:``) are not needed and not checked.
apko's reader rejects ``M:`` after the bare root ``F:`` ("M entry cannot be associated with top
level dir", fixture ``wolfi-bad-top-level-perms``) because its tar-header model cannot express
root permissions; apk-tools itself writes and reads such lines (``apk_db_fdb_read`` applies them
to the root directory instance). A scanner must not lose a package inventory over a directory
mode, so the package in that fixture is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly, Interests
from hullscan.analyzers.base import location as make_location
from hullscan.analyzers.purls import apk_purl
from hullscan.errors import ParseError
from hullscan.model import ApkMeta, Package

PATHS = ("lib/apk/db/installed", "usr/lib/apk/db/installed")
_SCALARS = frozenset({"P", "V", "A", "o", "L", "m", "U", "T", "I", "C", "c"})
_NAME_RE = re.compile(r"[!-.0-~]+\Z")  # printable ASCII, no space, no "/"
_VERSION_RE = re.compile(r"[!-~]+\Z")  # printable ASCII, no space
_SIZE_RE = re.compile(r"[0-9]{1,18}\Z")


class ApkEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One installed package, as the database states it."""

    name: str
    version: str
    arch: str | None = None
    origin: str | None = None
    license: str | None = None
    maintainer: str | None = None
    url: str | None = None
    description: str | None = None
    installed_size: int | None = None
    checksum: str | None = None
    commit: str | None = None
    depends: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


class ApkRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    packages: tuple[ApkEntry, ...] = ()
    errors: tuple[str, ...] = ()


class _Stanza:
    __slots__ = ("bad", "dir", "fields", "files", "lists", "start")

    def __init__(self, start: int) -> None:
        self.start = start
        self.fields: dict[str, str] = {}
        self.lists: dict[str, tuple[str, ...]] = {}
        self.files: list[str] = []
        self.dir: str | None = None
        self.bad: str | None = None

    def empty(self) -> bool:
        return not (self.fields or self.lists or self.files or self.bad)


def parse_installed(data: bytes, what: str = "installed") -> ApkRecord:
    """Every package of an apk installed database; see the module docstring for errors."""
    if b"\0" in data:
        raise ParseError(f"{what}: binary data (NUL byte)")
    text = data.decode("utf-8", errors="replace")
    packages: list[ApkEntry] = []
    errors: list[str] = []
    cur = _Stanza(1)
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if len(line) < 2:  # apk-tools: any line shorter than "X:" ends the stanza
            if not cur.empty():
                _finish(cur, packages, errors)
            cur = _Stanza(number + 1)
            continue
        if cur.bad:
            continue
        if line[1] != ":":
            cur.bad = f"line {number}: not an 'X:value' line: {line[:60]!r}"
            continue
        field, value = line[0], line[2:]
        if field == "F":
            cur.dir = value.strip("/")
        elif field == "R":
            name = value.strip("/")
            if name:
                cur.files.append(f"{cur.dir}/{name}" if cur.dir else name)
        elif field in ("D", "p"):
            cur.lists[field] = tuple(value.split())
        elif field in _SCALARS:
            cur.fields.setdefault(field, value.strip())
    if not cur.empty():
        _finish(cur, packages, errors)
    if not packages and errors:
        raise ParseError(f"{what}: no valid package stanza ({errors[0]})")
    return ApkRecord(packages=tuple(packages), errors=tuple(errors))


def _finish(s: _Stanza, packages: list[ApkEntry], errors: list[str]) -> None:
    name, version = s.fields.get("P", ""), s.fields.get("V", "")
    label = name or "no P:"
    if s.bad:
        errors.append(f"stanza at line {s.start} ({label[:60]}) dropped: {s.bad}")
        return
    if not name or not version:
        missing = " and ".join(k for k, v in (("P", name), ("V", version)) if not v)
        errors.append(f"stanza at line {s.start} ({label[:60]}) dropped: no {missing} field")
        return
    if not _NAME_RE.match(name):
        errors.append(f"stanza at line {s.start} ({name[:60]!r}) dropped: invalid package name")
        return
    if not _VERSION_RE.match(version):
        bad = f"invalid version {version[:60]!r}"
        errors.append(f"stanza at line {s.start} ({name}) dropped: {bad}")
        return
    f = s.fields
    size = f.get("I", "")
    packages.append(
        ApkEntry(
            name=name,
            version=version,
            arch=f.get("A") or None,
            origin=f.get("o") or None,
            license=f.get("L") or None,
            maintainer=f.get("m") or None,
            url=f.get("U") or None,
            description=f.get("T") or None,
            installed_size=int(size) if _SIZE_RE.match(size) else None,
            checksum=f.get("C") or None,
            commit=f.get("c") or None,
            depends=s.lists.get("D", ()),
            provides=s.lists.get("p", ()),
            files=tuple(sorted(set(s.files))),
        )
    )


class ApkAnalyzer(Analyzer):
    """Installed apk packages (Alpine, Wolfi, Chainguard, postmarketOS)."""

    name = "os/apk"
    version = 2
    interests = Interests(paths=PATHS)
    record_type = ApkRecord

    def analyze_file(self, path: str, data: bytes) -> ApkRecord:
        return parse_installed(data, path)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        # lib/apk/db/installed -> usr/lib/apk/db/installed is one database seen twice: read
        # each real file once, located at its real path when that path is visible too.
        by_real: dict[str, tuple[str, AnalyzedFile]] = {}
        for path, f in sorted(files.items()):
            if not isinstance(f.record, ApkRecord):
                continue
            kept = by_real.get(f.real_path)
            if kept is None or path == f.real_path:
                by_real[f.real_path] = (path, f)
        seen: set[tuple[str, str, str | None]] = set()
        for _, (path, f) in sorted(by_real.items()):
            out.errors.extend((path, e) for e in f.record.errors)
            for e in f.record.packages:
                key = (e.name, e.version, e.arch)
                if key in seen:
                    continue
                seen.add(key)
                out.packages.append(
                    Package(
                        name=e.name,
                        version=e.version,
                        type="apk",
                        purl=apk_purl(e.name, e.version, e.arch, context.distro),
                        found_by=self.name,
                        arch=e.arch,
                        source_name=e.origin or e.name,
                        source_version=e.version,
                        licenses=(e.license,) if e.license else (),
                        locations=(make_location(path, f.layer),),
                        files=e.files,
                        metadata=ApkMeta(
                            origin=e.origin,
                            maintainer=e.maintainer,
                            url=e.url,
                            description=e.description,
                            installed_size=e.installed_size,
                            checksum=e.checksum,
                            commit=e.commit,
                            depends=e.depends,
                            provides=e.provides,
                        ),
                    )
                )
        return out
