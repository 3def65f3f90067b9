"""Debian packages: the dpkg database (``status``, distroless ``status.d/``, ``info/*.list``).

Files read:

* ``var/lib/dpkg/status``: RFC 822-style stanzas, one per package dpkg knows about.
* ``var/lib/dpkg/status.d/<pkg>``: distroless images have no ``status``; each file there holds
  one or more stanzas, usually without a ``Status`` field (those count as installed). The
  ``<pkg>.md5sums`` next to them list the package's files; other ``<pkg>.<suffix>`` files
  (maintainer scripts, conffiles) are skipped.
* ``var/lib/dpkg/info/<pkg>[:<arch>].list``: the files each package owns (dpkg writes
  ``libc6:amd64.list`` for ``Multi-Arch: same`` packages, ``bash.list`` otherwise), and
  ``info/<pkg>[:<arch>].md5sums``, used only for a package whose ``.list`` is missing (it lists
  regular files only, without conffiles, so the ``.list`` is preferred).
* ``usr/share/doc/<pkg>/copyright``: the package's licenses (dpkg has no license field; see
  :mod:`hullscan.analyzers.os.debcopyright`).

A package is reported when its status is one where its files are on disk: ``installed``,
``triggers-pending``, ``triggers-awaited``, ``unpacked``, ``half-configured``,
``half-installed`` (whatever is wanted: a held ``hi`` package is installed, a ``deinstall ok
installed`` one is still installed). ``config-files`` (``rc``: removed, only conffiles left) and
``not-installed`` are not packages in the image; neither is a stanza of the ``status`` file
without a ``Status`` field, which dpkg itself reads as ``not-installed``. (In ``status.d`` a
missing ``Status`` means installed: that is the distroless convention.) This is exactly the
set ``dpkg-query -W`` lists with a status other than ``n``/``c``.

The source package is dpkg's ``${source:Package}`` / ``${source:Version}``: the ``Source:`` field
``name`` or ``name (version)`` (a binNMU ``bash 5.2.15-2+b13`` says ``Source: bash (5.2.15-2)``),
defaulting to the binary's own name and version.

Owned files are the paths listed, minus the directories that hold other listed paths (dpkg
lists every parent directory; keeping them would make ``usr`` "owned" by every package).

A malformed stanza (a bad line, a malformed or unknown ``Status``, a package name dpkg would
refuse, a missing ``Version`` or one with spaces or non-ASCII characters) is dropped and
reported as an error; a file with no valid stanza at all raises ParseError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly, Interests
from hullscan.analyzers.base import location as make_location
from hullscan.analyzers.os.debcopyright import copyright_licenses
from hullscan.analyzers.purls import deb_purl
from hullscan.errors import ParseError
from hullscan.model import Distro, DpkgMeta, Package

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d"
INFO = "var/lib/dpkg/info"
DOC = "usr/share/doc"

# Status values (3rd word of "want flag status") whose package files are on disk.
_ON_DISK = frozenset(
    {
        "installed",
        "triggers-pending",
        "triggers-awaited",
        "unpacked",
        "half-configured",
        "half-installed",
    }
)
# Every state dpkg knows (the third word of Status).
_STATES = _ON_DISK | {"not-installed", "config-files"}
# dpkg's pkg_name_is_illegal(): an alphanumeric, then alphanumerics and "-+._".
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*\Z")
# dpkg refuses versions with spaces or control characters ("version string has embedded spaces").
_VERSION_RE = re.compile(r"[!-~]+\Z")
# Suffixes of non-stanza files distroless puts next to the stanza files in status.d.
_STATUS_D_SKIP = (
    ".preinst",
    ".postinst",
    ".prerm",
    ".postrm",
    ".conffiles",
    ".list",
    ".shlibs",
    ".symbols",
    ".triggers",
    ".templates",
    ".config",
)
# deb822 field name: printable ASCII but ':', not starting with '#' or '-'.
_FIELD_RE = re.compile(r"([!-9;-~][!-9;-~]*):[ \t]*(.*)\Z")
_SOURCE_RE = re.compile(r"(\S+)(?:\s+\((\S+)\))?")
_KEEP = frozenset(
    {
        "package",
        "version",
        "architecture",
        "status",
        "source",
        "maintainer",
        "installed-size",
        "section",
        "priority",
        "multi-arch",
        "depends",
        "pre-depends",
        "provides",
    }
)


class DpkgEntry(msgspec.Struct, frozen=True, array_like=True):
    """One installed package's stanza, reduced to what the package needs."""

    name: str
    version: str
    arch: str | None
    status: str | None
    source: str | None
    maintainer: str | None
    installed_size: int | None
    section: str | None
    priority: str | None
    multi_arch: str | None
    depends: str | None
    provides: str | None


class DpkgRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``kind``: ``status`` (stanzas), ``files`` (a ``.list``/``.md5sums``), ``copyright``
    (``usr/share/doc/<package>/copyright``: ``licenses``) or ``skipped``."""

    kind: str
    packages: tuple[DpkgEntry, ...] = ()
    files: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def _text(data: bytes, what: str) -> str:
    if b"\0" in data:
        raise ParseError(f"{what}: binary data (NUL byte)")
    # Old stanzas carry Latin-1 maintainer names; the fields we keep are ASCII anyway.
    return data.decode("utf-8", errors="replace")


def parse_stanzas(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Split deb822 text into stanzas (lower-cased field -> value) and per-stanza errors.

    A stanza with a malformed line is dropped whole (its fields cannot be trusted) and
    described in the errors; blank lines separate stanzas; CRLF is tolerated.
    """
    stanzas: list[dict[str, str]] = []
    errors: list[str] = []
    # field -> its lines (joined when the stanza closes: += on a dict value is quadratic)
    fields: dict[str, list[str]] = {}
    bad: str | None = None
    start = 1
    last: str | None = None
    lines = text.split("\n")
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        if not line.strip():
            if fields or bad:
                _close(stanzas, errors, fields, bad, start)
            fields, bad, last, start = {}, None, None, number + 1
            continue
        if bad:
            continue
        if line[0] in " \t":
            if last is None:
                bad = f"line {number}: continuation line outside a field"
            elif last in fields:
                fields[last].append(line.strip())
            continue
        if line.startswith("#"):
            continue
        m = _FIELD_RE.match(line)
        if m is None:
            bad = f"line {number}: not a 'Field: value' line: {line[:60]!r}"
            continue
        key = m.group(1).lower()
        # Continuations of a repeated or unneeded field are dropped with it.
        last = key if key in _KEEP and key not in fields else ""
        if last:
            fields[key] = [m.group(2).strip()]
    if fields or bad:
        _close(stanzas, errors, fields, bad, start)
    return stanzas, errors


def _close(
    stanzas: list[dict[str, str]],
    errors: list[str],
    fields: dict[str, list[str]],
    bad: str | None,
    start: int,
) -> None:
    name = fields.get("package", [""])[0]
    if bad:
        errors.append(f"stanza at line {start} ({name or 'no Package'}) dropped: {bad}")
    else:
        stanzas.append({k: "\n".join(v) for k, v in fields.items()})


def _int(value: str | None) -> int | None:
    # Installed-Size is KiB; crafted files say "4KB": keep the number, drop the unit.
    m = re.match(r"\s*([0-9]{1,18})", value or "")
    return int(m.group(1)) if m else None


def _entries(stanzas: list[dict[str, str]], errors: list[str], status_d: bool) -> list[DpkgEntry]:
    out: list[DpkgEntry] = []
    for f in stanzas:
        name = f.get("package", "")
        status = f.get("status")
        if status is None and not status_d:
            continue  # status file, no Status: dpkg reads "unknown ok not-installed"
        if status is not None:  # (none in status.d: installed, and kept as None)
            words = status.split()
            if len(words) != 3 or words[2] not in _STATES:
                errors.append(f"package {name or '?'}: malformed Status {status[:60]!r}; skipped")
                continue
            if words[2] not in _ON_DISK:
                continue  # rc / not-installed: nothing of it is in the image
        if not name:
            errors.append("stanza without a Package name skipped")
            continue
        if not _NAME_RE.match(name):
            errors.append(f"package {name[:60]!r}: not a valid package name; skipped")
            continue
        version = f.get("version", "")
        if not version:
            errors.append(f"package {name}: no Version; skipped")
            continue
        if not _VERSION_RE.match(version):
            errors.append(f"package {name}: invalid Version {version[:60]!r}; skipped")
            continue
        depends = ", ".join(v for v in (f.get("pre-depends"), f.get("depends")) if v) or None
        out.append(
            DpkgEntry(
                name=name,
                version=version,
                arch=f.get("architecture") or None,
                status=status,
                source=f.get("source") or None,
                maintainer=f.get("maintainer") or None,
                installed_size=_int(f.get("installed-size")),
                section=f.get("section") or None,
                priority=f.get("priority") or None,
                multi_arch=f.get("multi-arch") or None,
                depends=depends.replace("\n", " ") if depends else None,
                provides=f.get("provides") or None,
            )
        )
    return out


def parse_status(data: bytes, what: str = "status", *, status_d: bool = False) -> DpkgRecord:
    """The installed packages of a status file (``status_d``: a distroless status.d file, where
    a stanza without ``Status`` is installed)."""
    stanzas, errors = parse_stanzas(_text(data, what))
    packages = _entries(stanzas, errors, status_d)
    if not packages and errors and not stanzas:
        raise ParseError(f"{what}: no valid stanza ({errors[0]})")
    return DpkgRecord(kind="status", packages=tuple(packages), errors=tuple(errors))


def leaf_paths(paths: list[str]) -> tuple[str, ...]:
    """Sorted, relative paths minus the directories that hold other listed paths.

    dpkg lists every parent directory (``/.``, ``/usr``, ``/usr/bin``...); keeping them would
    make ``usr`` "owned" by every package.
    """
    rel = {p.strip("/") for p in paths}
    rel.discard("")
    rel.discard(".")
    # Sorted with "/" as the lowest character, a path's descendants follow it directly; so a
    # path holds others exactly when the next one starts with it plus "/". Linear after the
    # sort, whatever the depth (walking each path's parents is quadratic in deep paths).
    order = sorted(rel, key=lambda p: p.replace("/", "\0"))
    nexts = [*order[1:], ""] if order else []
    leaves = [
        p
        for p, nxt in zip(order, nexts, strict=True)
        if not (nxt.startswith(p) and nxt[len(p) : len(p) + 1] == "/")
    ]
    return tuple(sorted(leaves))


def parse_list(data: bytes, what: str = "list") -> DpkgRecord:
    """A ``.list`` file: one absolute path per line."""
    text = _text(data, what)
    lines = [s.rstrip("\r") for s in text.split("\n")]
    return DpkgRecord(kind="files", files=leaf_paths([s for s in lines if s.strip()]))


def parse_md5sums(data: bytes, what: str = "md5sums") -> DpkgRecord:
    """A ``.md5sums`` file: ``<md5>  <path relative to />`` per line."""
    text = _text(data, what)
    paths: list[str] = []
    bad = 0
    for line in text.split("\n"):
        parts = line.strip().split(maxsplit=1)
        if not parts:
            continue
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-fA-F]{32}", parts[0]):
            bad += 1
            continue
        paths.append(parts[1])
    if bad and not paths:
        raise ParseError(f"{what}: no '<md5>  <path>' line")
    return DpkgRecord(kind="files", files=leaf_paths(paths))


def _owner_key(basename: str, suffix: str) -> tuple[str, str | None]:
    """``libc6:amd64.list`` -> (``libc6``, ``amd64``); ``bash.list`` -> (``bash``, None)."""
    stem = basename[: -len(suffix)]
    name, _, arch = stem.partition(":")
    return name, arch or None


def _copyright_owner(path: str) -> str | None:
    """``usr/share/doc/<package>/copyright`` -> ``<package>``; None for any other path."""
    if not path.startswith(DOC + "/"):
        return None
    owner, _, rest = path[len(DOC) + 1 :].partition("/")
    return owner if owner and rest == "copyright" else None


class DpkgAnalyzer(Analyzer):
    """Installed Debian packages with their source package and owned files."""

    name = "os/dpkg"
    version = 3
    # Copyright files are wanted by basename (one dict lookup per tar member; a glob would
    # cost a regex match per member) and filtered to usr/share/doc/<package>/ here.
    interests = Interests(
        paths=(STATUS,),
        dirs=(STATUS_D,),
        dir_suffixes=((INFO, ".list"), (INFO, ".md5sums")),
        basenames=("copyright",),
    )
    record_type = DpkgRecord

    def analyze_file(self, path: str, data: bytes) -> DpkgRecord:
        if path.endswith("/copyright"):
            if _copyright_owner(path) is None:
                return DpkgRecord(kind="skipped")
            return DpkgRecord(kind="copyright", licenses=copyright_licenses(data))
        if path.startswith(INFO + "/"):
            if path.endswith(".md5sums"):
                return parse_md5sums(data, path)
            return parse_list(data, path)
        if path.startswith(STATUS_D + "/"):
            if path.endswith(".md5sums"):
                return parse_md5sums(data, path)
            if path.endswith(_STATUS_D_SKIP):
                return DpkgRecord(kind="skipped")
            return parse_status(data, path, status_d=True)
        return parse_status(data, path)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        owned: dict[tuple[str, str | None], tuple[str, ...]] = {}
        licenses: dict[str, tuple[str, ...]] = {}
        status_files: list[tuple[str, AnalyzedFile]] = []
        for path, f in sorted(files.items()):
            rec = f.record
            if not isinstance(rec, DpkgRecord):
                continue
            out.errors.extend((path, e) for e in rec.errors)
            base = path.rsplit("/", 1)[-1]
            if rec.kind == "files":
                is_list = base.endswith(".list")
                owner = _owner_key(base, ".list" if is_list else ".md5sums")
                if is_list or owner not in owned:  # dpkg's .list beats a distroless md5sums
                    owned[owner] = rec.files
            elif rec.kind == "status":
                status_files.append((path, f))
            elif rec.kind == "copyright":
                owner_name = _copyright_owner(path)
                if owner_name:
                    licenses[owner_name] = rec.licenses
        # The main status file first: a package also in status.d is reported once, from it.
        status_files.sort(key=lambda item: (item[0] != STATUS, item[0]))
        seen: set[tuple[str, str, str | None]] = set()
        for path, f in status_files:
            for e in f.record.packages:
                key = (e.name, e.version, e.arch)
                if key in seen:
                    continue
                seen.add(key)
                files_owned = owned.get((e.name, e.arch)) or owned.get((e.name, None)) or ()
                out.packages.append(
                    _package(
                        self.name,
                        e,
                        path,
                        f,
                        files_owned,
                        licenses.get(e.name, ()),
                        context.distro,
                    )
                )
        return out


def _package(
    found_by: str,
    e: DpkgEntry,
    path: str,
    f: AnalyzedFile,
    files: tuple[str, ...],
    licenses: tuple[str, ...],
    distro: Distro | None,
) -> Package:
    source_name, source_version = e.name, e.version
    if e.source:
        m = _SOURCE_RE.match(e.source)
        if m:
            source_name = m.group(1)
            source_version = m.group(2) or e.version
    return Package(
        name=e.name,
        version=e.version,
        type="deb",
        purl=deb_purl(e.name, e.version, e.arch, distro),
        found_by=found_by,
        arch=e.arch,
        source_name=source_name,
        source_version=source_version,
        locations=(make_location(path, f.layer),),
        files=files,
        licenses=licenses,
        metadata=DpkgMeta(
            status=e.status,
            maintainer=e.maintainer,
            installed_size=e.installed_size,
            section=e.section,
            priority=e.priority,
            multi_arch=e.multi_arch,
            depends=e.depends,
            provides=e.provides,
        ),
    )
