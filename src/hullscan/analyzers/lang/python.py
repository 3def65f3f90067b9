"""Installed Python distributions: ``*.dist-info/METADATA`` (+ ``RECORD``), ``*.egg-info/PKG-INFO``,
the single-file ``*.egg-info`` distutils writes, eggs (``foo.egg/EGG-INFO/PKG-INFO`` unzipped,
``EGG-INFO/PKG-INFO`` inside a zipped ``foo.egg``), and conda's ``conda-meta/*.json``.

Found anywhere in the image (``usr/lib/python3/dist-packages``, a virtualenv, a
``pip install --target`` tree, ``/opt/conda``...). The interest is by basename (``METADATA``,
``PKG-INFO``, ``RECORD``), suffix (``.egg-info``, ``.egg``) and the glob
``**/conda-meta/*.json``; ``analyze_file`` then keeps only files in the right place (a
``METADATA`` in a ``.dist-info`` directory...). Other files with those names are ignored.

A conda-meta record (``name``, ``version``, ``license``, ``files`` relative to the environment)
is a package of type ``conda`` (purl ``pkg:conda/<name>@<version>``; no vulnerability feed
covers conda's own packages; the Python packages conda installs also have a ``.dist-info``,
reported as ``pypi``).

``METADATA``/``PKG-INFO`` are in the core metadata format (RFC 822 style headers, then the
description as the body). Only the header block is read (up to the first empty line, at most
``_MAX_HEADER`` bytes): ``Name``, ``Version``, ``License-Expression`` (core metadata 2.4), else
a one-line ``License``, else the ``License ::`` trove classifiers. A file with no ``Name`` or
``Version``, a name that is not a PEP 508 name, a version with whitespace or control characters,
or a NUL byte in the header raises ``ParseError``.

``RECORD`` is a CSV of ``path,hash,size`` rows, paths relative to the site-packages directory
(the dist-info's parent); they are made image-relative and become the package's ``files``
(rows escaping the image root are dropped).

Packages: type ``pypi``, purl ``pkg:pypi/<PEP 503 name>@<version>``, name as written in the
metadata, located at the ``METADATA``/``PKG-INFO`` path.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from typing import Literal

import msgspec
from packageurl import PackageURL

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly, Interests
from hullscan.analyzers.base import location as make_location
from hullscan.errors import ParseError
from hullscan.model import Package
from hullscan.model.namespaces import normalize_package

_MAX_HEADER = 256 * 1024
_MAX_LICENSE = 200
_MAX_RECORD_ROWS = 200_000
# PEP 508 / core metadata: ASCII letters and digits, with . _ - inside.
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
_VERSION_RE = re.compile(r"[!-~]{1,128}\Z")  # printable ASCII, no whitespace


class PyRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``kind``: ``metadata`` (METADATA / PKG-INFO), ``record`` (RECORD) or ``ignored``."""

    kind: Literal["metadata", "record", "conda", "ignored"]
    name: str = ""
    version: str = ""
    licenses: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


_IGNORED = PyRecord(kind="ignored")


_Kind = Literal["metadata", "record", "egg", "conda", "ignored"]


def _kind(path: str) -> _Kind:
    parent, _, base = path.rpartition("/")
    pdir = parent.rpartition("/")[2]
    if base == "PKG-INFO":
        # foo.egg-info/PKG-INFO, or the EGG-INFO/PKG-INFO of an unzipped foo-1.0-py3.8.egg
        egg_dir = pdir == "EGG-INFO" and parent.rpartition("/")[0].endswith(".egg")
        return (
            "metadata" if (pdir.endswith(".egg-info") and len(pdir) > 9) or egg_dir else "ignored"
        )
    if base.endswith(".egg-info") and len(base) > 9:
        return "metadata"  # the single-file form distutils writes: PKG-INFO content
    if base.endswith(".egg") and len(base) > 4:
        return "egg"  # a zipped egg: its EGG-INFO/PKG-INFO
    if pdir == "conda-meta" and base.endswith(".json"):
        return "conda"
    if not (pdir.endswith(".dist-info") and len(pdir) > 10):
        return "ignored"
    return "metadata" if base == "METADATA" else "record" if base == "RECORD" else "ignored"


def read_headers(data: bytes, what: str = "METADATA") -> list[tuple[str, str]]:
    """The header block as (lower-case name, value) pairs; continuation lines are joined."""
    head = data[:_MAX_HEADER]
    end = -1
    for blank in (b"\n\n", b"\r\n\r\n"):
        i = head.find(blank)
        if i >= 0 and (end < 0 or i < end):
            end = i
    if end >= 0:
        head = head[:end]
    if b"\0" in head:
        raise ParseError(f"{what}: binary data (NUL byte)")
    text = head.decode("utf-8", errors="replace")
    out: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            break
        if line[0] in " \t":
            if out:
                k, v = out[-1]
                out[-1] = (k, f"{v}\n{line.strip()}")
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue  # not a header line; the email parser would also skip it
        out.append((key.strip().lower(), value.strip()))
    return out


def parse_metadata(data: bytes, what: str = "METADATA") -> PyRecord:
    headers = read_headers(data, what)
    first: dict[str, str] = {}
    classifiers: list[str] = []
    for k, v in headers:
        first.setdefault(k, v)
        if k == "classifier" and v.startswith("License ::"):
            classifiers.append(v.rpartition("::")[2].strip())
    name, version = first.get("name", ""), first.get("version", "")
    if not name or not version:
        missing = " and ".join(k for k, v in (("Name", name), ("Version", version)) if not v)
        raise ParseError(f"{what}: no {missing} header")
    if not _NAME_RE.match(name):
        raise ParseError(f"{what}: invalid distribution name {name[:60]!r}")
    if not _VERSION_RE.match(version):
        raise ParseError(f"{what}: invalid version {version[:60]!r}")
    return PyRecord(
        kind="metadata", name=name, version=version, licenses=_licenses(first, classifiers)
    )


def _licenses(first: Mapping[str, str], classifiers: list[str]) -> tuple[str, ...]:
    expr = first.get("license-expression", "")
    if expr and "\n" not in expr and len(expr) <= _MAX_LICENSE:
        return (expr,)
    lic = first.get("license", "")
    if lic and lic.upper() != "UNKNOWN" and "\n" not in lic and len(lic) <= _MAX_LICENSE:
        return (lic,)
    return tuple(dict.fromkeys(c for c in classifiers if c and len(c) <= _MAX_LICENSE))


def parse_record(data: bytes, what: str = "RECORD") -> PyRecord:
    """The paths of a RECORD file, as written (relative to site-packages)."""
    if b"\0" in data:
        raise ParseError(f"{what}: binary data (NUL byte)")
    text = data.decode("utf-8", errors="replace")
    paths: list[str] = []
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            if n >= _MAX_RECORD_ROWS:
                break
            if row and row[0].strip():
                paths.append(row[0].strip())
    except csv.Error as e:
        raise ParseError(f"{what}: not a RECORD CSV: {e}") from None
    return PyRecord(kind="record", files=tuple(paths))


def _image_path(site: str, rel: str) -> str | None:
    joined = posixpath.normpath(posixpath.join("/", site, rel.replace("\\", "/")))
    out = joined.lstrip("/")
    return out or None


def pypi_purl(name: str, version: str) -> str:
    url: str = PackageURL(
        type="pypi", name=normalize_package("pypi", name), version=version
    ).to_string()
    return url


_MAX_EGG_INFO = 1024 * 1024
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    IndexError,
)


def read_egg_pkg_info(data: bytes, what: str) -> bytes:
    """``EGG-INFO/PKG-INFO`` of a zipped egg (bounded: declared size checked before reading)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("EGG-INFO/PKG-INFO")
            if info.file_size > _MAX_EGG_INFO:
                raise ParseError(f"{what}: EGG-INFO/PKG-INFO of {info.file_size} bytes")
            with zf.open(info) as fh:
                return fh.read(_MAX_EGG_INFO)
    except KeyError:
        raise ParseError(f"{what}: no EGG-INFO/PKG-INFO in the egg") from None
    except _ZIP_ERRORS as exc:
        raise ParseError(f"{what}: not a readable egg ({exc})") from None


class _CondaMeta(msgspec.Struct):
    name: str
    version: str
    license: str | None = None
    files: list[str] = []


_conda_decoder = msgspec.json.Decoder(_CondaMeta)
_CONDA_NAME = re.compile(r"[a-z0-9_][a-z0-9._-]{0,199}\Z")


def parse_conda_meta(data: bytes, what: str) -> PyRecord:
    """``conda-meta/<name>-<version>-<build>.json``: one installed conda package."""
    try:
        meta = _conda_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ParseError(f"{what}: not a conda-meta record ({str(exc)[:100]})") from None
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None
    if not _CONDA_NAME.match(meta.name) or not _VERSION_RE.match(meta.version):
        raise ParseError(f"{what}: invalid conda package {meta.name[:60]!r} {meta.version[:60]!r}")
    lic = meta.license.strip() if meta.license and len(meta.license) <= _MAX_LICENSE else ""
    files = tuple(meta.files[:_MAX_RECORD_ROWS])
    return PyRecord(
        kind="conda", name=meta.name, version=meta.version,
        licenses=(lic,) if lic else (), files=files,
    )  # fmt: skip


def conda_purl(name: str, version: str) -> str:
    url: str = PackageURL(type="conda", name=name, version=version).to_string()
    return url


def _owned(prefix: str, rel_paths: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({p for p in (_image_path(prefix, x) for x in rel_paths) if p}))


class PythonAnalyzer(Analyzer):
    """Installed Python distributions (dist-info, egg-info, eggs) and conda packages."""

    name = "lang/python"
    version = 2
    interests = Interests(
        basenames=("METADATA", "PKG-INFO", "RECORD"),
        suffixes=(".egg-info", ".egg"),
        parent_names=(("conda-meta", ".json"),),
    )
    record_type = PyRecord

    def analyze_file(self, path: str, data: bytes) -> PyRecord:
        kind = _kind(path)
        if kind == "metadata":
            return parse_metadata(data, path)
        if kind == "record":
            return parse_record(data, path)
        if kind == "egg":
            return parse_metadata(read_egg_pkg_info(data, path), path)
        if kind == "conda":
            return parse_conda_meta(data, path)
        return _IGNORED

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        by_real: dict[str, tuple[str, AnalyzedFile]] = {}
        for path, f in sorted(files.items()):
            if not isinstance(f.record, PyRecord) or f.record.kind not in ("metadata", "conda"):
                continue
            kept = by_real.get(f.real_path)
            if kept is None or path == f.real_path:
                by_real[f.real_path] = (path, f)
        for _, (path, f) in sorted(by_real.items()):
            rec: PyRecord = f.record
            dist_dir = path.rpartition("/")[0]
            if rec.kind == "conda":
                prefix = dist_dir.rpartition("/")[0]  # the environment: <prefix>/conda-meta/
                out.packages.append(
                    Package(
                        name=rec.name,
                        version=rec.version,
                        type="conda",
                        purl=PackageURL(
                            type="conda", name=rec.name, version=rec.version
                        ).to_string(),
                        found_by=self.name,
                        licenses=rec.licenses,
                        locations=(make_location(path, f.layer),),
                        files=tuple(
                            sorted({p for p in (_image_path(prefix, x) for x in rec.files) if p})
                        ),
                    )
                )
                continue
            owned: tuple[str, ...] = ()
            record_file = files.get(f"{dist_dir}/RECORD") if path.endswith("METADATA") else None
            if record_file is not None and isinstance(record_file.record, PyRecord):
                site = dist_dir.rpartition("/")[0]
                paths = (_image_path(site, p) for p in record_file.record.files)
                owned = tuple(sorted({p for p in paths if p}))
            out.packages.append(
                Package(
                    name=rec.name,
                    version=rec.version,
                    type="pypi",
                    purl=pypi_purl(rec.name, rec.version),
                    found_by=self.name,
                    licenses=rec.licenses,
                    locations=(make_location(path, f.layer),),
                    files=owned,
                )
            )
        return out
