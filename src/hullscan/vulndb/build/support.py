"""End-of-life data -> ``SupportStatus``.

Release level, from Debian's ``distro-info-data`` (what ``distro-info`` reads):

* ``debian.csv`` (``version,codename,series,created,release,eol,eol-lts,eol-elts``) ->
  namespace ``debian:N`` (major release from 4.0 on, as ``namespaces.distro_namespace`` gives
  for an image; the full number before that: ``debian:3.1``), ``codename`` = ``series``
  (``bookworm``), ``released``, ``eol`` (end of the security team's support),
  ``extended_until`` = ``eol-lts`` (Debian LTS: the DLAs the Debian feeds carry) and, in
  ``note``, ``eol-elts`` (Freexian's paid ELTS, outside the Debian feeds).
* ``ubuntu.csv`` (``version,codename,series,created,release,eol,eol-server,eol-esm,
  eol-legacy``) -> ``ubuntu:22.04`` (`` LTS`` dropped), ``eol`` = the later of ``eol`` and
  ``eol-server`` (images are server installs), ``extended_until`` = ``eol-esm`` (Ubuntu Pro;
  the tracker carries its statuses), ``eol-legacy`` in ``note``.

Rows without a version (``sid``, ``experimental``) are not releases and are skipped. A release
record's ``state`` stays ``supported``: whether its dates are past depends on the day of the
scan, which a parser must not read; the consumer compares.

Package level, from ``debian-security-support`` (what ``check-support-status`` reads):

* ``security-support-ended.debN``: ``<source package> <last supported version> <date>
  [details]`` -> ``debian:N``, ``state`` ``ended``, ``eol`` = the date (which may lie in the
  future: "will end"), ``note`` = ``last supported version V`` + the details.
* ``security-support-limited``: ``<source package> [details]`` -> ``state`` ``limited``. The
  file does not name its release: it is the one of the package version it came from
  (``1:12+...`` is bookworm's), so the caller passes it (default ``12``). Names may be
  patterns: ``golang.*`` and ``rust.*`` are regular expressions over source package names, as
  ``check-support-status`` applies them; kept as written.

Not read: Ubuntu's ``*-supported.txt`` lists (in the UCT tree; they say which packages each
Ubuntu Pro/ESM offering covers, which needs the tracker's per-package statuses to mean
anything; left to the UCT parser).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from hullscan.model.advisory import ParseIssue, SupportStatus
from hullscan.vulndb.build.containers import read_bounded

SOURCE = "eol"
DEFAULT_LIMITED_RELEASE = "12"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.\-*]*\Z")
_DEB_FILE = re.compile(r"security-support-ended\.deb(\d+)\Z")

SupportRecords = Iterator[SupportStatus | ParseIssue]


def _date(v: str | None) -> str | None:
    v = (v or "").strip()
    return v if _DATE.match(v) else None


def _debian_namespace(version: str) -> str | None:
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?", version)
    if m is None:
        return None
    major = int(m.group(1))
    return f"debian:{major}" if major >= 4 or m.group(2) is None else f"debian:{version}"


def parse_distro_info(
    data: bytes, name: str = "debian.csv", source: str = SOURCE
) -> SupportRecords:
    """``debian.csv`` or ``ubuntu.csv`` (told apart by the file name, else by the columns)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8", "replace"), newline=""))
    fields = set(reader.fieldnames or ())
    if not {"version", "series", "release", "eol"} <= fields:
        yield ParseIssue(source=source, item=name, error="not a distro-info-data CSV")
        return
    ubuntu = "ubuntu" in name.lower() or ("debian" not in name.lower() and "eol-esm" in fields)
    try:
        for row in reader:
            item = f"{name}:{reader.line_num}"
            version = (row.get("version") or "").strip()
            series = (row.get("series") or "").strip().lower()
            if not version:
                continue  # sid, experimental
            if ubuntu:
                m = re.fullmatch(r"(\d+\.\d+)(?: LTS)?", version)
                ns = f"ubuntu:{m.group(1)}" if m else None
            else:
                ns = _debian_namespace(version)
            if ns is None or not series:
                yield ParseIssue(source=source, item=item, error=f"bad row {version!r}")
                continue
            if ubuntu:
                eols = [d for d in (_date(row.get("eol")), _date(row.get("eol-server"))) if d]
                eol = max(eols) if eols else None
                extended = _date(row.get("eol-esm"))
                legacy = _date(row.get("eol-legacy"))
                note = f"Legacy support until {legacy}" if legacy else None
            else:
                eol = _date(row.get("eol"))
                extended = _date(row.get("eol-lts"))
                elts = _date(row.get("eol-elts"))
                note = f"ELTS (Freexian) until {elts}" if elts else None
            yield SupportStatus(
                namespace=ns,
                released=_date(row.get("release")),
                eol=eol,
                extended_until=extended,
                codename=series,
                note=note,
            )
    except csv.Error as exc:
        yield ParseIssue(source=source, item=f"{name}:{reader.line_num}", error=str(exc))


def _lines(data: bytes) -> Iterator[tuple[int, list[str], str]]:
    """``(line number, first fields, rest)`` of each non-comment line."""
    for n, raw in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield n, line.split(), line


def parse_security_support_ended(
    data: bytes, release: str, name: str = "security-support-ended", source: str = SOURCE
) -> SupportRecords:
    """``security-support-ended.debN`` for Debian ``release`` (``"12"``)."""
    ns = f"debian:{release}"
    for n, fields, line in _lines(data):
        if len(fields) < 3 or not _PACKAGE.match(fields[0]) or not _date(fields[2]):
            yield ParseIssue(source=source, item=f"{name}:{n}", error=f"bad line {line[:100]!r}")
            continue
        details = line.split(None, 3)[3].strip() if len(fields) > 3 else ""
        note = f"last supported version {fields[1]}" + (f"; {details}" if details else "")
        yield SupportStatus(
            namespace=ns, package=fields[0], state="ended", eol=fields[2], note=note
        )


def parse_security_support_limited(
    data: bytes,
    release: str = DEFAULT_LIMITED_RELEASE,
    name: str = "security-support-limited",
    source: str = SOURCE,
) -> SupportRecords:
    """``security-support-limited`` of Debian ``release``."""
    ns = f"debian:{release}"
    for n, fields, line in _lines(data):
        if not _PACKAGE.match(fields[0]):
            yield ParseIssue(source=source, item=f"{name}:{n}", error=f"bad line {line[:100]!r}")
            continue
        details = line.split(None, 1)[1].strip() if len(fields) > 1 else None
        yield SupportStatus(namespace=ns, package=fields[0], state="limited", note=details)


def read(path: Path, source: str = SOURCE) -> SupportRecords:
    """Builder entry point (``SourceSpec.read``), by file name: ``debian.csv``,
    ``ubuntu.csv``, ``security-support-ended.debN``, ``security-support-limited`` (release
    12, see the module doc). Any other file is one ``ParseIssue``."""
    name = path.name
    data = read_bounded(path, 16 * 1024 * 1024)
    if name.removesuffix(".gz").endswith(".csv"):
        return parse_distro_info(data, name, source)
    if m := _DEB_FILE.match(name):
        return parse_security_support_ended(data, m.group(1), name, source)
    if name == "security-support-limited":
        return parse_security_support_limited(data, DEFAULT_LIMITED_RELEASE, name, source)
    return iter([ParseIssue(source=source, item=name, error="not an end-of-life data file")])
