"""RPM packages: the rpm database in any of its three formats (Berkeley DB, NDB, SQLite).

The containers are read by :mod:`hullscan.analyzers.os.rpmdb` (pure Python, no librpm); this
module turns headers into packages. ``gpg-pubkey`` entries are imported signing keys, not
packages, and are skipped.

One image has one rpm database in use, but may show it more than once: Fedora 36+ and SUSE keep
it in ``usr/lib/sysimage/rpm`` with ``var/lib/rpm`` a symlink to it (RHEL 9 the other way round),
and a converted database can leave the old file next to the new one. So ``assemble`` reads each
real file once and, when several distinct databases remain, uses the one rpm would: the newest
format (sqlite, then ndb, then bdb), then ``usr/lib/sysimage/rpm`` before ``var/lib/rpm``.
Packages are therefore never reported twice, nor from a stale database.

A header whose NAME is not printable ASCII without spaces or ``/``, or whose VERSION or RELEASE
is empty or not printable ASCII without spaces, fails the database like any other corrupt header
(rpmbuild never writes one).

Versions: ``Package.version`` is ``[epoch:]version-release`` (the epoch whenever the header has
one, even 0); the purl carries ``version-release`` and an ``epoch`` qualifier (purl-spec ``rpm``).
The source package comes from the SOURCERPM file name ``name-version-release.src.rpm``; its
version gets the binary's epoch, since a spec's subpackages share the spec's epoch and the file
name cannot say it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly, Interests
from hullscan.analyzers.base import location as make_location
from hullscan.analyzers.os.dpkg import leaf_paths
from hullscan.analyzers.os.rpmdb import RpmHeaderInfo, read_rpmdb
from hullscan.analyzers.purls import rpm_purl
from hullscan.errors import ParseError
from hullscan.model import Package, RpmMeta

_DIRS = ("usr/lib/sysimage/rpm", "var/lib/rpm")
_FORMATS = {"rpmdb.sqlite": "sqlite", "Packages.db": "ndb", "Packages": "bdb"}
PATHS = tuple(f"{d}/{b}" for d in _DIRS for b in _FORMATS)
_FORMAT_RANK = {fmt: i for i, fmt in enumerate(_FORMATS.values())}
# rpmbuild refuses names with whitespace or "/"; such a header is corrupt (and no purl).
_NAME_RE = re.compile(r"[!-.0-~]+\Z")
_VERSION_RE = re.compile(r"[!-~]+\Z")


class RpmEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One installed package's header, reduced to what the package needs."""

    name: str
    version: str
    release: str
    epoch: int | None = None
    arch: str | None = None
    source_rpm: str | None = None
    license: str | None = None
    vendor: str | None = None
    modularity_label: str | None = None
    size: int | None = None
    files: tuple[str, ...] = ()
    files_error: str | None = None


class RpmRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    format: str
    packages: tuple[RpmEntry, ...] = ()


def db_format(path: str) -> str | None:
    """``bdb``/``ndb``/``sqlite`` for an rpm database path, by its file name."""
    return _FORMATS.get(path.rsplit("/", 1)[-1])


def _entry(h: RpmHeaderInfo) -> RpmEntry:
    return RpmEntry(
        name=h.name,
        version=h.version,
        release=h.release,
        epoch=h.epoch,
        arch=h.arch or None,
        source_rpm=h.source_rpm or None,
        license=h.license or None,
        vendor=h.vendor or None,
        modularity_label=h.modularity_label or None,
        size=h.size,
        # rpm lists the directories a package owns; keep files, as dpkg and apk do.
        files=leaf_paths(list(h.files)),
        files_error=h.files_error,
    )


def split_source_rpm(source_rpm: str | None) -> tuple[str, str, str] | None:
    """``util-linux-2.32.1-42.el8_8.src.rpm`` -> (``util-linux``, ``2.32.1``, ``42.el8_8``)."""
    if not source_rpm:
        return None
    stem = source_rpm
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None
    parts = stem.rsplit("-", 2)  # name may contain dashes; version and release may not
    if len(parts) != 3 or not all(parts):
        return None
    name, version, release = parts
    return name, version, release


class RpmAnalyzer(Analyzer):
    """Installed rpm packages from ``var/lib/rpm`` or ``usr/lib/sysimage/rpm``."""

    name = "os/rpm"
    version = 2
    interests = Interests(paths=PATHS)
    max_file_size = 512 * 1024 * 1024
    record_type = RpmRecord

    def analyze_file(self, path: str, data: bytes) -> RpmRecord:
        fmt = db_format(path)
        if fmt is None:
            raise ParseError(f"{path}: not an rpm database file name")
        headers = read_rpmdb(data, fmt)
        for number, h in enumerate(headers):
            # As for any corrupt header: fail the database, never shorten its list.
            if not _NAME_RE.match(h.name):
                raise ParseError(f"{path}: header #{number}: invalid package name {h.name[:60]!r}")
            if not (_VERSION_RE.match(h.version) and _VERSION_RE.match(h.release)):
                raise ParseError(f"{path}: header #{number} ({h.name}): invalid VERSION/RELEASE")
        return RpmRecord(
            format=fmt,
            packages=tuple(_entry(h) for h in headers if h.name != "gpg-pubkey"),
        )

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        chosen = _choose_database(files)
        out = Assembly()
        if chosen is None:
            return out
        path, f = chosen
        seen: set[tuple[str, int | None, str, str, str | None]] = set()
        for e in f.record.packages:
            key = (e.name, e.epoch, e.version, e.release, e.arch)
            if key in seen:
                continue
            seen.add(key)
            if e.files_error:
                out.errors.append((path, f"{e.name}: file list unreadable: {e.files_error}"))
            out.packages.append(_package(self.name, e, path, f, context))
        return out


def _choose_database(files: Mapping[str, AnalyzedFile]) -> tuple[str, AnalyzedFile] | None:
    by_real: dict[str, tuple[str, AnalyzedFile]] = {}
    for path, f in sorted(files.items()):
        if not isinstance(f.record, RpmRecord):
            continue
        if f.real_path not in by_real or path == f.real_path:
            by_real[f.real_path] = (path, f)
    if not by_real:
        return None

    def rank(item: tuple[str, AnalyzedFile]) -> tuple[int, int, str]:
        path, f = item
        directory = path.rsplit("/", 1)[0]
        dir_rank = _DIRS.index(directory) if directory in _DIRS else len(_DIRS)
        return (_FORMAT_RANK.get(f.record.format, len(_FORMAT_RANK)), dir_rank, path)

    return min(by_real.values(), key=rank)


def _package(
    found_by: str, e: RpmEntry, path: str, f: AnalyzedFile, context: AssembleContext
) -> Package:
    epoch_prefix = f"{e.epoch}:" if e.epoch is not None else ""
    version_release = f"{e.version}-{e.release}"
    source = split_source_rpm(e.source_rpm)
    source_name, source_version = (
        (source[0], f"{epoch_prefix}{source[1]}-{source[2]}")
        if source
        else (e.name, epoch_prefix + version_release)
    )
    return Package(
        name=e.name,
        version=epoch_prefix + version_release,
        type="rpm",
        purl=rpm_purl(e.name, version_release, e.epoch, e.arch, context.distro, e.vendor),
        found_by=found_by,
        arch=e.arch,
        source_name=source_name,
        source_version=source_version,
        licenses=(e.license,) if e.license else (),
        locations=(make_location(path, f.layer),),
        files=e.files,
        metadata=RpmMeta(
            epoch=e.epoch,
            release=e.release,
            source_rpm=e.source_rpm,
            vendor=e.vendor,
            modularity_label=e.modularity_label,
            size=e.size,
        ),
    )
