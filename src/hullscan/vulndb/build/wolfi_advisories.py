"""Wolfi / Chainguard advisory YAML (schema 2: ``<package>.advisories.yaml``) -> ``Advisory``.

Layout (wolfi-dev/advisories, chainguard-dev/advisories)::

    schema-version: 2.0.2
    package: {name: openssl}
    advisories:
      - id: CGA-6vmf-q9cg-qhx4
        aliases: [CVE-2023-4807, GHSA-53wr-cx66-4578]
        events:
          - {timestamp: 2023-09-08T16:29:47Z, type: false-positive-determination,
             data: {type: component-vulnerability-mismatch, note: ...}}

One ``Advisory`` per entry of ``advisories`` (id = the ``CGA-`` id, ``aliases`` = its
aliases: Chainguard states they name the same vulnerability), with one ``Affected`` for the
file's package in namespace ``wolfi`` (``chainguard`` for the Chainguard repository: pass
``namespace``), scheme ``apk``. ``published``/``modified`` are the first/latest event times.

The state is the **latest event** (by timestamp, upstream order among equal times), as
wolfictl's ``Advisory.Latest()`` reads it:

=================================  ==============  ============================================
event                              fix_state       why
=================================  ==============  ============================================
``fixed``                          fixed           ``fixed-version``; range 0 -> it. A
                                                   ``fixed-version`` of "0" is not-affected
``false-positive-determination``   not-affected    Chainguard's analysis says it doesn't apply
``true-positive-determination``    affected        confirmed, no fix yet
``pending-upstream-fix``           affected        confirmed, waiting for upstream
``fix-not-planned``                will-not-fix    Chainguard says no fix will come
``analysis-not-planned``           unknown         nobody will look: no statement either way
                                                   (not "deferred", which would claim a fix
                                                   is planned for later)
``detection``                      unknown         a scanner hit awaiting triage
=================================  ==============  ============================================

The note of the deciding event (false-positive type and note, fix-not-planned note...) is not
kept: the model has no per-package note field.

YAML is read with PyYAML's ``safe_load`` machinery (the libyaml C loader when available),
every scalar kept a string (``fixed-version: 1.10`` must not become the float 1.1; timestamps
stay text), and anchors/aliases refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    FixState,
    ParseIssue,
    RangeEvent,
)
from hullscan.vulndb.build.containers import iter_zip, read_bounded
from hullscan.vulndb.build.feed import MAX_RECORD_BYTES

SOURCE = "wolfi-advisories"
SCHEME = "apk"
SUFFIX = ".advisories.yaml"
_MAX_ERROR = 300
_MAX_ID = 256

try:
    from yaml import CSafeLoader as _SafeLoader  # libyaml
except ImportError:  # pragma: no cover (PyYAML built without libyaml)
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _StringLoader(_SafeLoader):
    """``SafeLoader`` that keeps every plain scalar a string except ``null``; no aliases."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases are not accepted", node.start_mark
            )
        return super().construct_object(node, deep)


_StringLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

EVENT_STATES: dict[str, FixState] = {
    "fixed": "fixed",
    "false-positive-determination": "not-affected",
    "true-positive-determination": "affected",
    "pending-upstream-fix": "affected",
    "fix-not-planned": "will-not-fix",
    "analysis-not-planned": "unknown",
    "detection": "unknown",
}

_TS = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:[Tt ]+(\d\d?):(\d\d):(\d\d)(\.\d+)?\s*(Z|z|[+-]\d\d?(?::?\d\d)?)?)?$"
)


def _issue(source: str, item: str, error: str) -> ParseIssue:
    return ParseIssue(source=source, item=item[:200], error=error[:_MAX_ERROR])


def _timestamp(value: object) -> datetime | None:
    """A YAML timestamp (``2023-09-08T16:29:47Z``, ``2023-09-08 16:29:47+00:00``) in UTC."""
    if not isinstance(value, str):
        return None
    m = _TS.match(value.strip())
    if m is None:
        return None
    year, mon, day, hh, mm, ss, _frac, tz = m.groups()
    offset = timedelta(0)
    if tz and tz not in ("Z", "z"):
        hours, _, minutes = tz[1:].partition(":")
        if not minutes and len(hours) > 2:
            hours, minutes = hours[:-2], hours[-2:]
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if tz[0] == "-":
            offset = -offset
    try:
        t = datetime(
            int(year), int(mon), int(day), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=UTC
        )
        return t - offset
    except (ValueError, OverflowError):
        return None


def _rfc3339(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def _load(data: bytes) -> Any:
    return yaml.load(data, Loader=_StringLoader)  # noqa: S506 (a SafeLoader subclass)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for v in value:
        if isinstance(v, str) and v.strip() and len(v) <= _MAX_ID and v.strip() not in out:
            out.append(v.strip())
    return out


def _affected(
    package: str, namespace: str, events: list[tuple[datetime | None, int, dict[str, Any]]]
) -> Affected:
    latest = events[-1][2]
    kind = latest.get("type")
    state = EVENT_STATES.get(kind) if isinstance(kind, str) else None
    if state is None:
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            problem=f"unknown event type {str(kind)[:40]!r}",
        )
    if state != "fixed":
        return Affected(namespace=namespace, package=package, scheme=SCHEME, fix_state=state)
    data = latest.get("data")
    version = data.get("fixed-version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.strip() or " " in version.strip():
        return Affected(
            namespace=namespace,
            package=package,
            scheme=SCHEME,
            problem="fixed event without a fixed-version",
        )
    version = version.strip()
    if version == "0":
        return Affected(
            namespace=namespace, package=package, scheme=SCHEME, fix_state="not-affected"
        )
    return Affected(
        namespace=namespace,
        package=package,
        scheme=SCHEME,
        fix_state="fixed",
        fixed_version=version,
        ranges=(
            AffectedRange(events=(RangeEvent("introduced", "0"), RangeEvent("fixed", version))),
        ),
    )


def parse_advisories_yaml(
    data: bytes, *, item: str, namespace: str = "wolfi", source: str = SOURCE
) -> Iterator[Advisory | ParseIssue]:
    """One ``<package>.advisories.yaml`` -> one ``Advisory`` per advisory entry.

    A file that is not YAML, or not a schema-2 document, is one ``ParseIssue``; an advisory
    entry without an id or events is a ``ParseIssue`` and the others are still read.
    """
    try:
        doc = _load(data)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        yield _issue(source, item, f"not YAML: {str(exc)[:200]}")
        return
    if not isinstance(doc, dict):
        yield _issue(source, item, "top level is not a mapping")
        return
    schema = doc.get("schema-version")
    if not isinstance(schema, str) or not schema.startswith("2"):
        yield _issue(source, item, f"unsupported schema-version {str(schema)[:20]!r}")
        return
    pkg = doc.get("package")
    package = pkg.get("name") if isinstance(pkg, dict) else None
    if not isinstance(package, str) or not package.strip() or len(package) > _MAX_ID:
        yield _issue(source, item, "no package name")
        return
    package = package.strip()
    advisories = doc.get("advisories")
    if advisories is None:
        return
    if not isinstance(advisories, list):
        yield _issue(source, item, "advisories is not a list")
        return
    for n, adv in enumerate(advisories):
        where = f"{item}: advisories[{n}]"
        if not isinstance(adv, dict):
            yield _issue(source, where, "advisory is not a mapping")
            continue
        adv_id = adv.get("id")
        if not isinstance(adv_id, str) or not adv_id.strip() or len(adv_id) > _MAX_ID:
            yield _issue(source, where, "advisory without an id")
            continue
        adv_id = adv_id.strip()
        raw_events = adv.get("events")
        if not isinstance(raw_events, list) or not raw_events:
            yield _issue(source, f"{item}: {adv_id}", "advisory without events")
            continue
        events: list[tuple[datetime | None, int, dict[str, Any]]] = []
        for i, ev in enumerate(raw_events):
            if isinstance(ev, dict):
                events.append((_timestamp(ev.get("timestamp")), i, ev))
        if not events:
            yield _issue(source, f"{item}: {adv_id}", "no readable event")
            continue
        # latest = greatest timestamp; upstream order among equal (or missing) times
        floor = datetime.min.replace(tzinfo=UTC)
        events.sort(key=lambda e: (e[0] or floor, e[1]))
        times = [t for t, _, _ in events if t is not None]
        aliases = [a for a in _strings(adv.get("aliases")) if a != adv_id]
        yield Advisory(
            id=adv_id,
            source=source,
            aliases=tuple(aliases),
            published=_rfc3339(min(times)) if times else None,
            modified=_rfc3339(max(times)) if times else None,
            affected=(_affected(package, namespace, events),),
        )


def iter_advisories_zip(
    path: Path, *, namespace: str = "wolfi", source: str = SOURCE
) -> Iterator[Advisory | ParseIssue]:
    """Every ``*.advisories.yaml`` in a zip (or ``.zip.zst``) of the advisories repository."""
    for member in iter_zip(path, suffixes=(SUFFIX,), source=source):
        if isinstance(member, ParseIssue):
            yield member
            continue
        name, data = member
        yield from parse_advisories_yaml(data, item=name, namespace=namespace, source=source)


def read(path: Path, source: str = SOURCE) -> Iterator[Advisory | ParseIssue]:
    """The builder's reader signature: a zip (``.zip``, ``.zip.zst``) of the repository, a
    checkout directory, or one ``*.advisories.yaml``."""
    if path.is_dir():
        yield from iter_advisories_dir(path, source=source)
    elif path.name.endswith(SUFFIX):
        yield from parse_advisories_yaml(
            read_bounded(path, MAX_RECORD_BYTES), item=path.name, source=source
        )
    else:
        yield from iter_advisories_zip(path, source=source)


def iter_advisories_dir(
    root: Path, *, namespace: str = "wolfi", source: str = SOURCE
) -> Iterator[Advisory | ParseIssue]:
    """Every ``*.advisories.yaml`` directly under a checkout of the repository."""
    for p in sorted(root.glob(f"*{SUFFIX}")):
        try:
            data = p.read_bytes()
        except OSError as exc:
            yield _issue(source, p.name, f"unreadable: {exc}")
            continue
        yield from parse_advisories_yaml(data, item=p.name, namespace=namespace, source=source)


__all__ = [
    "EVENT_STATES",
    "SOURCE",
    "iter_advisories_dir",
    "iter_advisories_zip",
    "parse_advisories_yaml",
    "read",
]
