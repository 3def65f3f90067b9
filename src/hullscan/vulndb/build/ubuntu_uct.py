"""Ubuntu CVE tracker (UCT) text records -> normalized ``Advisory``.

A UCT file (``active/CVE-*``, ``retired/CVE-*``, ``ignored/CVE-*``) is RFC-822-like::

    Candidate: CVE-2023-0030
    PublicDate: 2023-03-08 23:15:00 UTC
    References:
     https://cve.mitre.org/...
    Description:
     A use-after-free flaw was found ...
    Priority: medium
    CVSS:
     nvd: CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H [7.8 HIGH]

    Patches_linux:
     break-fix: 729eba33... -
    upstream_linux: needed
    esm-infra/xenial_linux: not-affected (4.4.0-2.16)
    xenial_linux: ignored (end of standard support)
    jammy_linux: needed
    Priority_linux_trusty/esm: medium

One ``Advisory`` per file (id = ``Candidate``, source ``ubuntu-uct``) with one ``Affected``
per (release, source package). Namespace ``ubuntu:NN.NN`` from the codename
(:data:`UBUNTU_RELEASES`, from distro-info-data's ``ubuntu.csv``); package = the source
package, scheme ``deb``.

Release keys: ``<codename>`` and its Ubuntu Pro (ESM) forms ``esm-infra/<codename>``,
``esm-apps/<codename>``, ``esm-infra-legacy/<codename>``, ``<codename>/esm`` all mean that
release. When a release has both a plain and an ESM line, the ESM line wins (after the end of
standard support the plain line just says ``ignored (end of standard support)`` while the ESM
line carries the state of the packages Pro users get, e.g. ``released (…+esm1)``), except when
the ESM line is ``DNE``, or when the plain line is definite (``released``, ``not-affected``)
and the ESM one is not (``esm-apps/xenial_nodejs: needs-triage`` next to ``xenial_nodejs:
not-affected (uses system openssl)``: the archive's package is known not to be affected, the
ESM line is an untriaged placeholder). Skipped: ``upstream``, ``devel`` (not a release), ``snap``,
FIPS (``fips/…``, ``fips-updates/…``: separate package builds), ROS ESM and the Ubuntu Core /
phone overlays of vivid.

States (the UCT word -> ``fix_state``):

==================================  ==============  =========================================
UCT                                 fix_state       why
==================================  ==============  =========================================
``released (version)``              fixed           range introduced 0 -> fixed version
``needed``, ``needs-triage``,       affected        vulnerable, no fix published (pending: a
``pending``                                         fix is prepared, not yet released)
``deferred``                        deferred
``ignored``                         will-not-fix    end of support, superseded, or judged not
                                                    worth fixing: no fix will come
``not-affected``                    not-affected
``DNE``                             (skipped)       the package does not exist in that
                                                    release, so there is nothing to match;
                                                    "not-affected" would wrongly clear a
                                                    same-named package from a PPA.
                                                    ``keep_dne=True`` emits not-affected
==================================  ==============  =========================================

Priority (``negligible``, ``low``, ``medium``, ``high``, ``critical``, ``untriaged``) ->
advisory ``Severity(source="ubuntu", type="vendor")``; ``Priority_<pkg>`` and
``Priority_<pkg>_<release>`` overrides -> that ``Affected``'s ``severity``. ``CVSS`` lines
(``nvd: CVSS:3.1/… [7.8 HIGH]``) -> CVSS severities rated by the named source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import msgspec

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    FixState,
    ParseIssue,
    RangeEvent,
    Severity,
)
from hullscan.vulndb.build.containers import iter_tar

SOURCE = "ubuntu-uct"
SCHEME = "deb"
MAX_DETAILS_CHARS = 4096
_MAX_ERROR = 300
RECORD_DIRS = ("active", "retired", "ignored")

# distro-info-data ubuntu.csv: series -> version
UBUNTU_RELEASES: dict[str, str] = {
    "warty": "4.10",
    "hoary": "5.04",
    "breezy": "5.10",
    "dapper": "6.06",
    "edgy": "6.10",
    "feisty": "7.04",
    "gutsy": "7.10",
    "hardy": "8.04",
    "intrepid": "8.10",
    "jaunty": "9.04",
    "karmic": "9.10",
    "lucid": "10.04",
    "maverick": "10.10",
    "natty": "11.04",
    "oneiric": "11.10",
    "precise": "12.04",
    "quantal": "12.10",
    "raring": "13.04",
    "saucy": "13.10",
    "trusty": "14.04",
    "utopic": "14.10",
    "vivid": "15.04",
    "wily": "15.10",
    "xenial": "16.04",
    "yakkety": "16.10",
    "zesty": "17.04",
    "artful": "17.10",
    "bionic": "18.04",
    "cosmic": "18.10",
    "disco": "19.04",
    "eoan": "19.10",
    "focal": "20.04",
    "groovy": "20.10",
    "hirsute": "21.04",
    "impish": "21.10",
    "jammy": "22.04",
    "kinetic": "22.10",
    "lunar": "23.04",
    "mantic": "23.10",
    "noble": "24.04",
    "oracular": "24.10",
    "plucky": "25.04",
    "questing": "25.10",
    "resolute": "26.04",
    "stonking": "26.10",
}

STATES: dict[str, FixState | None] = {
    "released": "fixed",
    "needed": "affected",
    "needs-triage": "affected",
    "pending": "affected",
    "deferred": "deferred",
    "ignored": "will-not-fix",
    "not-affected": "not-affected",
    "DNE": None,
}

_ESM_PREFIXES = ("esm-infra/", "esm-apps/", "esm-infra-legacy/", "esm/")
_SKIPPED_PREFIXES = ("fips/", "fips-updates/", "fips-preview/", "ros-esm/", "realtime/")
_SKIPPED = frozenset({"upstream", "devel", "snap", "product", "esm"})
_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_CVSS = re.compile(
    r"^(?P<who>[\w.-]+):\s*(?P<vector>CVSS:\d\.\d/\S+|\S*AV:\S+)(?:\s*\[(?P<score>[\d.]+)[^\]]*\])?"
)
_DATE = re.compile(r"^(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d)?))?")
_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")


def _issue(item: str, error: str) -> ParseIssue:
    return ParseIssue(source=SOURCE, item=item[:200], error=error[:_MAX_ERROR])


def release_of(key: str) -> tuple[str, bool] | None:
    """``(namespace, is_esm)`` for a UCT release key; None for keys that name no Ubuntu
    release we map (``upstream``, ``devel``, ``snap``, FIPS, ...). Raises ``KeyError`` for a
    key that looks like a release but whose codename is unknown."""
    if key in _SKIPPED or key.startswith(_SKIPPED_PREFIXES) or key.startswith("vivid/"):
        return None
    esm = False
    codename = key
    for prefix in _ESM_PREFIXES:
        if key.startswith(prefix):
            codename, esm = key[len(prefix) :], True
            break
    else:
        if key.endswith("/esm"):
            codename, esm = key[:-4], True
    if "/" in codename:
        return None  # another overlay (ubuntu-core, stable-phone-overlay, ...)
    version = UBUNTU_RELEASES.get(codename)
    if version is None:
        raise KeyError(codename)
    return f"ubuntu:{version}", esm


def _date(value: str) -> str | None:
    m = _DATE.match(value.strip())
    if m is None:
        return None
    clock = m.group(2) or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    return f"{m.group(1)}T{clock}Z"


def _cvss(line: str) -> Severity | None:
    m = _CVSS.match(line.strip())
    if m is None:
        return None
    vector = m.group("vector")
    kind = (
        "CVSS_V4"
        if vector.startswith("CVSS:4")
        else "CVSS_V3"
        if vector.startswith("CVSS:3")
        else "CVSS_V2"
    )
    score: float | None = None
    if m.group("score"):
        try:
            score = float(m.group("score"))
        except ValueError:
            score = None
        if score is not None and not 0.0 <= score <= 10.0:
            score = None
    return Severity(source=m.group("who").lower(), type=kind, vector=vector, score=score)


# release key -> release_of(key); filled as keys are met (a few hundred in the real data)
_RELEASES: dict[str, tuple[str, bool] | None] = {}
# A "Key: value" line in column 0 with its indented continuation lines. Lines that can never
# matter are skipped inside the regex engine: Patches_/Tags_ blocks, upstream_/devel_/snap_
# lines, and DNE statuses (the same as no line at all, see _choose) unless they are wanted.
_SKIP_KEYS = r"(?!(?:Patches|Tags|upstream|devel|snap)_)"
_ENTRY = re.compile(
    rf"^{_SKIP_KEYS}([A-Za-z][\w./+-]*):(?![ \t]*DNE\b)([^\n]*(?:\n[ \t][^\n]*)*)", re.M
)
_ENTRY_ALL = re.compile(rf"^{_SKIP_KEYS}([A-Za-z][\w./+-]*):([^\n]*(?:\n[ \t][^\n]*)*)", re.M)


def _priority(rest: str, value: str, priorities: dict[str, str]) -> None:
    """``Priority_<pkg>: low`` / ``Priority_<pkg>_<release>: low`` into ``priorities``."""
    rating = value.strip().lower()[:32]
    if not rating:
        return
    pkg, _, rel = rest.partition("_")
    if not rel:
        priorities[pkg] = rating
        return
    try:
        mapped = release_of(rel)
    except KeyError:
        return
    if mapped is not None:
        priorities[f"{pkg} {mapped[0]}"] = rating


class _Line:
    __slots__ = ("esm", "note", "status")

    def __init__(self, status: str, note: str | None, esm: bool) -> None:
        self.status, self.note, self.esm = status, note, esm


_DEFINITE = frozenset({"released", "not-affected"})


def _choose(plain: _Line | None, esm: _Line | None) -> _Line | None:
    """The line that speaks for a release: the ESM one, unless it is DNE or the plain line is
    definite (released, not-affected) and the ESM one is not (``needs-triage`` placeholders)."""
    if esm is None or esm.status == "DNE":
        return plain or esm
    if plain is not None and plain.status in _DEFINITE and esm.status not in _DEFINITE:
        return plain
    return esm


def _affected(
    namespace: str, package: str, line: _Line, severity: Severity | None, keep_dne: bool
) -> Affected | None:
    state = STATES.get(line.status)
    if line.status == "DNE":
        if not keep_dne:
            return None
        state = "not-affected"
    if state is None:
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            severity=severity,
            problem=f"unknown UCT status {line.status[:40]!r}",
        )
    if state != "fixed":
        return Affected(
            namespace=namespace, package=package, scheme=SCHEME, fix_state=state, severity=severity
        )
    version = (line.note or "").split(",")[0].split()
    if not version or not _VERSION.match(version[0]):
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            fix_state="fixed",
            severity=severity,
            problem=f"released without a version ({(line.note or '')[:60]!r})",
        )
    v = version[0]
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        fix_state="fixed",
        fixed_version=v,
        ranges=(AffectedRange(events=(RangeEvent("introduced", "0"), RangeEvent("fixed", v))),),
        severity=severity,
    )


def parse_uct(data: bytes, *, item: str, keep_dne: bool = False) -> Iterator[Advisory | ParseIssue]:
    """One UCT CVE file -> one ``Advisory`` (with a ``ParseIssue`` per unusable line).

    Lines are read as ``Key: value`` entries in column 0 plus their indented continuation
    lines; comments and anything else in column 0 are ignored.
    """
    text = data.decode("utf-8", "replace")
    fields: dict[str, list[str]] = {}
    # (namespace, package) -> [plain line, esm line]; insertion order = file order
    lines: dict[tuple[str, str], list[_Line | None]] = {}
    priorities: dict[str, str] = {}  # "pkg" or "pkg ns" -> rating
    entries = (_ENTRY_ALL if keep_dne else _ENTRY).finditer(text)
    for m in entries:
        key, value = m.group(1), m.group(2)
        under = key.find("_")
        if under < 0:
            fields[key] = [v for v in (line.strip() for line in value.split("\n")) if v]
            continue
        rel, pkg = key[:under], key[under + 1 :]
        if not rel.islower():
            if rel == "Priority":
                _priority(pkg, value, priorities)
            continue  # misspelt field names (PPatches_...)
        if rel in _RELEASES:
            mapped = _RELEASES[rel]
        else:
            try:
                mapped = release_of(rel)
            except KeyError:
                yield _issue(f"{item}: {key[:60]}", f"unknown release {rel[:40]!r}")
                continue
            if len(_RELEASES) < 4096:
                _RELEASES[rel] = mapped
        if mapped is None:
            continue
        status, _, note = value.strip().partition(" ")
        if not status or not pkg or not status.replace("-", "").isalpha():
            yield _issue(f"{item}: {key[:60]}", f"unreadable status {value.strip()[:80]!r}")
            continue
        note = note.strip()
        if note.startswith("("):
            note = note[1:]
            close = note.rfind(")")
            note = note[:close] if close >= 0 else note
        namespace, esm = mapped
        slot = lines.setdefault((namespace, pkg), [None, None])
        slot[1 if esm else 0] = _Line(status, note or None, esm)

    candidate = " ".join(fields.get("Candidate", [])).strip()
    if not _ID.match(candidate):
        yield _issue(item, f"no Candidate CVE id ({candidate[:40]!r})")
        return
    severities: list[Severity] = []
    priority = " ".join(fields.get("Priority", [])).strip().lower()
    if priority:
        severities.append(Severity(source="ubuntu", type="vendor", rating=priority[:32]))
    for line in fields.get("CVSS", []):
        sev = _cvss(line)
        if sev is not None:
            severities.append(sev)
    affected: list[Affected] = []
    for (namespace, pkg), (plain, esm_line) in lines.items():
        chosen = _choose(plain, esm_line)
        if chosen is None:
            continue
        rating = priorities.get(f"{pkg} {namespace}") or priorities.get(pkg)
        severity = Severity(source="ubuntu", type="vendor", rating=rating) if rating else None
        a = _affected(namespace, pkg, chosen, severity, keep_dne)
        if a is not None:
            affected.append(a)
    refs: list[str] = []
    for line in fields.get("References", []) + fields.get("Bugs", []):
        url = line.split()[0] if line.split() else ""
        if url.startswith(("http://", "https://")) and url not in refs:
            refs.append(url)
    description = " ".join(fields.get("Description", [])).strip()
    ubuntu_description = " ".join(fields.get("Ubuntu-Description", [])).strip()
    yield Advisory(
        id=candidate,
        source=SOURCE,
        details=(description or ubuntu_description)[:MAX_DETAILS_CHARS] or None,
        published=_date(" ".join(fields.get("PublicDate", []))),
        severities=tuple(severities),
        references=tuple(refs),
        affected=tuple(affected),
    )


def iter_uct_archive(
    path: Path, *, dirs: tuple[str, ...] = RECORD_DIRS, keep_dne: bool = False
) -> Iterator[Advisory | ParseIssue]:
    """Every CVE file under ``active/``, ``retired/``, ``ignored/`` of a tar (``.tar``,
    ``.tar.zst``, ``.tar.gz``) of the ubuntu-cve-tracker repository, in archive order."""
    for member in iter_tar(path, suffixes=(), source=SOURCE):
        if isinstance(member, ParseIssue):
            yield member
            continue
        name, data = member
        parts = name.split("/")
        if len(parts) < 2 or parts[-2] not in dirs or not parts[-1].startswith("CVE-"):
            continue
        yield from parse_uct(data, item=name, keep_dne=keep_dne)


def iter_uct_dir(
    root: Path, *, dirs: tuple[str, ...] = RECORD_DIRS, keep_dne: bool = False
) -> Iterator[Advisory | ParseIssue]:
    """Every CVE file under ``active/``, ``retired/``, ``ignored/`` of a checkout."""
    for d in dirs:
        for p in sorted((root / d).glob("CVE-*")):
            try:
                data = p.read_bytes()
            except OSError as exc:
                yield _issue(f"{d}/{p.name}", f"unreadable: {exc}")
                continue
            yield from parse_uct(data, item=f"{d}/{p.name}", keep_dne=keep_dne)


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """The builder's reader signature: a tar of the repository or a checkout directory."""
    records = iter_uct_dir(path) if path.is_dir() else iter_uct_archive(path)
    for r in records:
        if source != SOURCE and isinstance(r, Advisory):
            r = msgspec.structs.replace(r, source=source)
        yield r
