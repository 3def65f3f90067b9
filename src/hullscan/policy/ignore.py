"""``.hullscanignore.yaml``: findings the user has accepted, each with a reason and an expiry.

Format (``docs/scanning.md``)::

    ignore:
      - id: CVE-2023-45853          # the finding's id or any of its aliases
        reason: zlib minizip is not used
        expires: 2026-12-31         # after this date the entry warns and stops suppressing
      - purl: "pkg:deb/debian/perl-base@*"   # glob over the package URL
      - package: "libldap-*"        # glob over the package name (binary or source name)
        id: CVE-2023-2953
      - path: "usr/lib/python3/*"   # glob over the package's file locations

Every selector given must match (an entry with ``id`` and ``package`` suppresses that id in
those packages only); an entry needs at least one selector. Globs are ``fnmatch`` style,
case-sensitive. Unknown keys, a bad date or a non-list are input errors (exit 2, one line).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml

from hullscan.errors import UsageError
from hullscan.model.finding import Finding

_KEYS = frozenset({"id", "purl", "package", "path", "expires", "reason"})
_SELECTORS = ("id", "purl", "package", "path")
MAX_IGNOREFILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    line: int  # 1-based position in the list (for messages)
    id: str | None = None
    purl: str | None = None
    package: str | None = None
    path: str | None = None
    expires: dt.date | None = None
    reason: str | None = None

    def describe(self) -> str:
        parts = [f"{k}={getattr(self, k)}" for k in _SELECTORS if getattr(self, k) is not None]
        return " ".join(parts)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def matches(self, finding: Finding, paths: tuple[str, ...] = ()) -> bool:
        pkg = finding.package
        if self.id is not None and self.id.upper() not in {
            i.upper() for i in (finding.id, *finding.aliases)
        }:
            return False
        if self.purl is not None and not fnmatch.fnmatchcase(pkg.purl, self.purl):
            return False
        if self.package is not None and not any(
            fnmatch.fnmatchcase(n, self.package) for n in (pkg.name, pkg.source_name) if n
        ):
            return False
        return self.path is None or any(
            fnmatch.fnmatchcase(p.lstrip("/"), self.path.lstrip("/")) for p in paths
        )


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UsageError(f"{where}: expires must be a date YYYY-MM-DD, not {value!r}")


def parse_ignorefile(text: str, name: str = "ignorefile") -> tuple[IgnoreEntry, ...]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{name}: not valid YAML{at}") from None
    if doc is None:
        return ()
    items = doc.get("ignore") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and set(doc) - {"ignore"}:
        raise UsageError(f"{name}: unknown top-level key(s) {sorted(set(doc) - {'ignore'})}")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise UsageError(f"{name}: 'ignore' must be a list of entries")
    out = []
    for n, item in enumerate(items, 1):
        where = f"{name}: entry {n}"
        if isinstance(item, str):  # a bare id
            item = {"id": item}
        if not isinstance(item, dict):
            raise UsageError(f"{where}: must be a mapping (id/purl/package/path/expires/reason)")
        unknown = sorted(str(k) for k in set(item) - _KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}")
        if not any(item.get(k) for k in _SELECTORS):
            raise UsageError(f"{where}: needs at least one of id, purl, package, path")
        fields: dict[str, str | None] = {}
        for k in (*_SELECTORS, "reason"):
            v = item.get(k)
            if v is not None and not isinstance(v, str | int | float):
                raise UsageError(f"{where}: {k} must be a string")
            fields[k] = None if v is None else str(v)
        expires = item.get("expires")
        out.append(
            IgnoreEntry(
                line=n,
                expires=None if expires is None else _date(expires, where),
                **fields,
            )
        )
    return tuple(out)


def load_ignorefile(path: Path) -> tuple[IgnoreEntry, ...]:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_IGNOREFILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--ignorefile {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_IGNOREFILE_BYTES:
        raise UsageError(f"--ignorefile {path}: larger than {MAX_IGNOREFILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--ignorefile {path}: not UTF-8 text") from None
    return parse_ignorefile(text, str(path))
