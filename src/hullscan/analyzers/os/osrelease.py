"""Which OS release an image is: os-release, then the older per-distro release files.

``analyze_file`` keeps what a file says (``KEY=VALUE`` assignments or its first lines);
``assemble`` decides.

Which file names the distro (the first that identifies one wins):

1. ``etc/os-release``, then ``usr/lib/os-release`` (freedesktop os-release(5): the ``etc`` file
   overrides the ``usr/lib`` one; an ``etc/os-release`` symlink to ``usr/lib`` is one file).
   An os-release without ``ID`` only counts when nothing else names the distro (``ID`` then
   defaults to ``linux``, as os-release(5) says).
2. ``etc/lsb-release`` (Ubuntu before os-release existed),
3. a distro's own release file (``centos-release``, ``alpine-release``, ``SuSE-release``...),
4. ``etc/debian_version``, then the generic ``redhat-release`` / ``system-release`` /
   ``system-release-cpe`` (Oracle Linux's ``redhat-release`` claims to be RHEL, so it comes last).

What ``version`` means: the os-release ``VERSION_ID`` whenever an os-release names the distro.
Lower files never change it, not even when they are more precise: ``etc/debian_version`` says
``12.15`` where os-release says ``12``, ``centos-release`` says ``7.6.1810`` where os-release says
``7``. ``VERSION_ID`` is the release line that vulnerability feeds, the SBOM's operating-system
component and purl ``distro=`` qualifiers key on (``debian-12``, as every other scanner writes
it), and the point release is not lost: it is the version of the ``base-files`` /
``centos-release`` package in the package list. Lower files of the same family only fill what
os-release leaves out:

* no ``VERSION_ID``: Debian testing/sid says ``<codename>/sid`` (from ``PRETTY_NAME``,
  ``VERSION_CODENAME`` or ``etc/debian_version``); Alpine takes ``etc/alpine-release``;
* no codename: Debian and derivatives (``ID_LIKE=debian``, not Ubuntu) from the release number
  or ``VERSION="9 (stretch)"`` (Debian 7/8, distroless and Raspbian say no ``VERSION_CODENAME``);
  Ubuntu from ``etc/lsb-release``'s ``DISTRIB_CODENAME``. Alpine edge
  (``PRETTY_NAME="Alpine Linux edge"``, ``VERSION_ID=3.19_alpha20230901``) gets the codename
  ``edge``: the version is kept as stated, the codename says it is the rolling branch and not a
  3.19 release.

Without an os-release, ``version`` is what the release file states: ``etc/debian_version``
``9.8`` gives ``9.8`` (codename ``stretch`` from its major), ``buster/sid`` gives ``buster/sid``;
``CentOS release 5.7 (Final)`` gives ``5.7`` (and that line as ``pretty_name``). Codenames are
never taken from the parenthesised word of redhat-style files (CentOS says "Core"/"Final").

Reading is lenient: files are decoded as UTF-8 with replacement (a stray byte must not lose the
distro); only binary data (a NUL byte) or an os-release with no assignment at all is a ParseError.

Example::

    >>> a = OsReleaseAnalyzer()
    >>> rec = a.analyze_file("etc/os-release", b'ID=debian\\nVERSION_ID="12"\\n')
    >>> layer = LayerRef(index=0, diff_id="sha256:...")
    >>> f = AnalyzedFile("etc/os-release", "etc/os-release", layer, rec)
    >>> a.assemble({"etc/os-release": f}, AssembleContext()).distro
    Distro(id='debian', version='12', codename='bookworm', ...)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly, Interests
from hullscan.errors import ParseError
from hullscan.model import Distro

_OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
_LSB = "etc/lsb-release"
# Distro-specific release files: the distro is known from the file name alone (or its text).
_SPECIFIC = (
    "etc/alpine-release",
    "etc/centos-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/oracle-release",
    "etc/fedora-release",
    "usr/lib/fedora-release",
    "etc/photon-release",
    "etc/mariner-release",
    "etc/azurelinux-release",
    "etc/SuSE-release",
    "etc/gentoo-release",
)
_GENERIC = (
    "etc/debian_version",
    "etc/redhat-release",
    "etc/system-release",
    "etc/system-release-cpe",
)
PATHS = (*_OS_RELEASE, _LSB, *_SPECIFIC, *_GENERIC)

_MAX_LINES = 8  # release files are one line (SuSE-release a few); keep records tiny
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

DEBIAN_CODENAMES = {
    "6": "squeeze",
    "7": "wheezy",
    "8": "jessie",
    "9": "stretch",
    "10": "buster",
    "11": "bullseye",
    "12": "bookworm",
    "13": "trixie",
    "14": "forky",
    "15": "duke",
}

# "<Name> release <version> (<codename>)" in redhat-style files -> os-release ID.
_RH_NAMES = (
    ("centos", "centos"),
    ("red hat", "rhel"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("oracle", "ol"),
    ("fedora", "fedora"),
    ("scientific", "scientific"),
    ("amazon", "amzn"),
    ("cbl-mariner", "mariner"),
    ("azure linux", "azurelinux"),
    ("photon", "photon"),
    ("opensuse", "opensuse"),
    ("suse linux enterprise server", "sles"),
    ("suse linux enterprise desktop", "sled"),
    ("gentoo", "gentoo"),
)
_CPE_VENDORS = {
    "centos": "centos",
    "redhat": "rhel",
    "rocky": "rocky",
    "almalinux": "almalinux",
    "oracle": "ol",
    "fedoraproject": "fedora",
    "scientificlinux": "scientific",
    "amazon": "amzn",
}
# Every pattern here is linear on hostile text (no nested or lazily backtracking quantifiers):
# a 64 KiB release file of spaces or word characters must not take seconds.
_VERSION_RE = re.compile(r"\b(\d+(?:\.\d+)*)\b")
_RELEASE_VERSION_RE = re.compile(r"[0-9][\w.]*")
_SID_RE = re.compile(r"(?<![\w/])(\w+/sid)\b")
_DEBIAN_VERSION_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*\Z")


class ReleaseRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``fields``: KEY=VALUE assignments (os-release, lsb-release, SuSE-release);
    ``lines``: the first non-empty lines of a one-line release file."""

    fields: dict[str, str] = {}
    lines: tuple[str, ...] = ()


def _decode(data: bytes) -> str:
    if b"\0" in data:
        raise ParseError("binary data (NUL byte) in a release file")
    # os-release is UTF-8; the fields used are ASCII, so a stray byte must not lose the distro.
    return data.decode("utf-8", errors="replace")


def _shell_value(raw: str) -> str | None:
    """One shell-quoted value as os-release(5) allows it; None when a quote is unterminated.

    Double quotes keep ``\\`` escapes of ``$ " \\ `` ``; single quotes keep everything; outside
    quotes a backslash escapes the next character and whitespace ends the value (what follows,
    e.g. a trailing comment, is ignored).
    """
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == '"':
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n and raw[i + 1] in '$"\\`':
                    i += 1
                out.append(raw[i])
                i += 1
            if i >= n:
                return None
            i += 1
        elif c == "'":
            end = raw.find("'", i + 1)
            if end < 0:
                return None
            out.append(raw[i + 1 : end])
            i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
        elif c.isspace():
            break
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=VALUE assignments of an os-release/lsb-release file; bad lines are skipped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, raw = line.partition("=")
        key = key.strip()
        if not eq or not _KEY_RE.match(key):
            continue
        value = _shell_value(raw.strip())
        if value is not None:
            fields[key] = value
    return fields


def _parse_suse_release(lines: list[str]) -> dict[str, str]:
    # SuSE-release: a title line, then "VERSION = 12" / "PATCHLEVEL = 4" / "CODENAME = ..."
    out: dict[str, str] = {}
    for line in lines[1:]:
        key, eq, value = line.partition("=")
        if eq:
            out[key.strip().upper()] = value.strip()
    return out


class OsReleaseAnalyzer(Analyzer):
    """Finds the image's distro; runs first (``order = 10``) so package purls can carry it."""

    name = "os/osrelease"
    version = 2
    order = 10
    interests = Interests(paths=PATHS)
    max_file_size = 64 * 1024
    record_type = ReleaseRecord

    def analyze_file(self, path: str, data: bytes) -> ReleaseRecord:
        text = _decode(data)
        if path in (*_OS_RELEASE, _LSB):
            fields = parse_os_release(text)
            if not fields and any(
                (line := raw.strip()) and not line.startswith("#") for raw in text.splitlines()
            ):
                # Text, but not one assignment: not an os-release (blank or comments is one).
                raise ParseError(f"{path}: no KEY=VALUE assignments")
            return ReleaseRecord(fields=fields)
        lines = [s for s in (line.strip() for line in text.splitlines()) if s]
        if path == "etc/SuSE-release":
            return ReleaseRecord(fields=_parse_suse_release(lines), lines=tuple(lines[:1]))
        return ReleaseRecord(lines=tuple(lines[:_MAX_LINES]))

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        records = {p: f.record for p, f in files.items() if isinstance(f.record, ReleaseRecord)}
        distro = _from_os_release(records)
        if distro is None:
            distro = _from_lsb(records)
        if distro is None:
            for path in (*_SPECIFIC, *_GENERIC):
                rec = records.get(path)
                distro = _from_release_file(path, rec) if rec is not None else None
                if distro is not None:
                    break
        if distro is None:
            return Assembly()
        return Assembly(distro=_fill_gaps(distro, records))


def _from_os_release(records: Mapping[str, ReleaseRecord]) -> Distro | None:
    found = [(p, r) for p in _OS_RELEASE if (r := records.get(p)) is not None and r.fields]
    with_id = [(p, r) for p, r in found if r.fields.get("ID")]
    if with_id:
        path, rec = with_id[0]
    elif found and not any(p in records for p in (_LSB, *_SPECIFIC, *_GENERIC)):
        path, rec = found[0]  # os-release(5): a missing ID means "linux"
    else:
        return None  # an ID-less os-release says less than a release file would
    f = rec.fields
    return Distro(
        id=_normalize_id(f.get("ID") or "linux", f.get("NAME")),
        version=f.get("VERSION_ID") or None,
        codename=f.get("VERSION_CODENAME") or f.get("UBUNTU_CODENAME") or None,
        name=f.get("NAME") or None,
        pretty_name=f.get("PRETTY_NAME") or None,
        id_like=tuple(f.get("ID_LIKE", "").lower().split()),
        variant=f.get("VARIANT_ID") or f.get("VARIANT") or None,
        cpe=f.get("CPE_NAME") or None,
        source=path,
    )


def _normalize_id(raw: str, name: str | None) -> str:
    distro_id = raw.strip().lower()
    # openSUSE Leap 42.x said ID=opensuse; Leap 15+ says opensuse-leap. One ID per product.
    if distro_id == "opensuse" and name:
        if "leap" in name.lower():
            return "opensuse-leap"
        if "tumbleweed" in name.lower():
            return "opensuse-tumbleweed"
    return distro_id


def _from_lsb(records: Mapping[str, ReleaseRecord]) -> Distro | None:
    rec = records.get(_LSB)
    if rec is None or not rec.fields.get("DISTRIB_ID"):
        return None
    f = rec.fields
    return Distro(
        id=f["DISTRIB_ID"].strip().lower(),
        version=f.get("DISTRIB_RELEASE") or None,
        codename=f.get("DISTRIB_CODENAME") or None,
        name=f["DISTRIB_ID"],
        pretty_name=f.get("DISTRIB_DESCRIPTION") or None,
        source=_LSB,
    )


def _from_release_file(path: str, rec: ReleaseRecord) -> Distro | None:
    line = rec.lines[0] if rec.lines else ""
    if not line:
        return None
    if path == "etc/alpine-release":
        return Distro(
            id="alpine",
            version=line,
            codename="edge" if "_alpha" in line else None,
            name="Alpine Linux",
            source=path,
        )
    if path == "etc/debian_version":
        return _from_debian_version(line, path)
    if path == "etc/system-release-cpe":
        return _from_cpe(line, path)
    if path == "etc/SuSE-release":
        return _from_suse_release(line, rec.fields, path)
    return _from_redhat_style(line, path)


def _from_debian_version(line: str, path: str) -> Distro:
    """``9.8`` -> version ``9.8`` (as stated), codename ``stretch``; ``buster/sid`` -> codename
    ``buster``."""
    if _DEBIAN_VERSION_RE.match(line):
        major = line.split(".", 1)[0]
        codename = DEBIAN_CODENAMES.get(major)
    else:
        codename = line.split("/", 1)[0] if "/" in line else None
    return Distro(
        id="debian",
        version=line,
        codename=codename or None,
        name="Debian GNU/Linux",
        source=path,
    )


def _from_cpe(line: str, path: str) -> Distro | None:
    # cpe:/o:centos:linux:6:GA (CPE 2.2) or cpe:2.3:o:amazon:amazon_linux:2
    parts = line.split(":")
    if len(parts) >= 5 and parts[1] == "/o":
        vendor, version = parts[2], parts[4]
    elif len(parts) >= 6 and parts[1] == "2.3":
        vendor, version = parts[3], parts[5]
    else:
        return None
    distro_id = _CPE_VENDORS.get(vendor.lower())
    if distro_id is None:
        return None
    return Distro(id=distro_id, version=version or None, cpe=line, source=path)


def _id_from_name(text: str) -> str | None:
    low = text.lower()
    for needle, distro_id in _RH_NAMES:
        if needle in low:
            return distro_id
    return None


def _from_suse_release(line: str, fields: Mapping[str, str], path: str) -> Distro | None:
    distro_id = _id_from_name(line) or "sles"
    version = fields.get("VERSION")
    if version and fields.get("PATCHLEVEL", "0") not in ("", "0"):
        version = f"{version}.{fields['PATCHLEVEL']}"
    if not version:
        m = _VERSION_RE.search(line)
        version = m.group(1) if m else None
    codename = fields.get("CODENAME") or None
    return Distro(
        id=distro_id, version=version, codename=codename, name=line, pretty_name=line, source=path
    )


def _from_redhat_style(line: str, path: str) -> Distro | None:
    """``CentOS Linux release 7.6.1810 (Core)``, ``CBL-Mariner 2.0.20220226``, ...

    The parenthesised word is not kept as a codename: for CentOS it is "Core"/"Final", and the
    os-release files of this family carry no VERSION_CODENAME either.
    """
    name, version = _split_release(line)
    distro_id = _id_from_name(name)
    if distro_id is None:
        base = path.rsplit("/", 1)[-1]
        distro_id = {
            "photon-release": "photon",
            "mariner-release": "mariner",
            "azurelinux-release": "azurelinux",
        }.get(base)
    if distro_id is None:
        return None
    return Distro(
        id=distro_id, version=version or None, name=name or None, pretty_name=line, source=path
    )


def _split_release(line: str) -> tuple[str, str]:
    """(name, version) of ``<Name> release <version> (<word>)``, else of ``<Name> <version>``."""
    words = line.split()
    for i, word in enumerate(words[1:-1], 1):
        if word.lower() == "release":
            m = _RELEASE_VERSION_RE.match(words[i + 1])
            if m:
                return " ".join(words[:i]), m.group(0)
    v = _VERSION_RE.search(line)
    if v is None:
        return line, ""
    return line[: v.start()].strip(), v.group(1)


def _fill_gaps(d: Distro, records: Mapping[str, ReleaseRecord]) -> Distro:
    """Complete a distro from lower-precedence files of the same family (never override)."""
    if d.id == "alpine":
        d = _fill_alpine(d, records)
    elif d.id == "ubuntu":
        d = _fill_ubuntu(d, records)
    if d.id == "debian" or (d.id != "ubuntu" and "debian" in d.id_like):
        d = _fill_debian(d, records)
    return d


def _first_line(records: Mapping[str, ReleaseRecord], path: str) -> str:
    rec = records.get(path)
    return rec.lines[0] if rec is not None and rec.lines else ""


def _fill_alpine(d: Distro, records: Mapping[str, ReleaseRecord]) -> Distro:
    version, codename = d.version, d.codename
    if version is None:
        version = _first_line(records, "etc/alpine-release") or None
    if codename is None and (
        (d.pretty_name or "").lower().split()[-1:] == ["edge"] or "_alpha" in (version or "")
    ):
        codename = "edge"
    if (version, codename) == (d.version, d.codename):
        return d
    return msgspec.structs.replace(d, version=version, codename=codename)


def _fill_ubuntu(d: Distro, records: Mapping[str, ReleaseRecord]) -> Distro:
    # Ubuntu 14.04's os-release has no VERSION_CODENAME; lsb-release always says it.
    lsb = records.get(_LSB)
    if d.codename is not None or lsb is None or d.source == _LSB:
        return d
    if lsb.fields.get("DISTRIB_ID", "").lower() != "ubuntu":
        return d
    return msgspec.structs.replace(d, codename=lsb.fields.get("DISTRIB_CODENAME") or None)


def _fill_debian(d: Distro, records: Mapping[str, ReleaseRecord]) -> Distro:
    version, codename = d.version, d.codename
    if codename is None and version and d.id == "debian":
        codename = DEBIAN_CODENAMES.get(version.split(".", 1)[0])
    if codename is None:
        # Debian < 9 and derivatives (Raspbian): VERSION="9 (stretch)"; distroless:
        # VERSION="Debian GNU/Linux 10 (buster)"
        rec = records.get(d.source or "")
        m = re.search(r"\(([a-z]+)\)", rec.fields.get("VERSION", "")) if rec else None
        codename = m.group(1) if m else None
    if version is None and d.id == "debian":
        # testing/sid: no VERSION_ID; PRETTY_NAME says "Debian GNU/Linux trixie/sid"
        m = _SID_RE.search(d.pretty_name or "")
        if m:
            version = m.group(1)
        elif codename:
            version = f"{codename}/sid"
        else:
            line = _first_line(records, "etc/debian_version")
            if line:
                fallback = _from_debian_version(line, "etc/debian_version")
                version, codename = fallback.version, fallback.codename
    if codename is None and version and "/" in version:
        codename = version.split("/", 1)[0]
    if (version, codename) == (d.version, d.codename):
        return d
    return msgspec.structs.replace(d, version=version, codename=codename)
