"""The built-in output formats, by id and alias.

An explicit table, not a plugin scan: what ``--format`` accepts is visible here and in
``docs/formats.md``. Writer modules are imported on first use (spdx-tools and
cyclonedx-python-lib take over half a second to import; ``hullscan --help`` should not pay it)::

    from hullscan.report.registry import get_writer, read_sbom

    get_writer("cyclonedx-json").write_sbom(sbom, stream)
    sbom = read_sbom(stream)            # native JSON, CycloneDX or SPDX, detected from the keys
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import IO, NamedTuple

from hullscan.errors import ParseError, UsageError
from hullscan.model import SBOM
from hullscan.report.base import MAX_SBOM_CHARS, SBOMReader, Writer, read_bounded, sniff_format


def _table() -> Writer:
    from hullscan.report.table import TableWriter

    return TableWriter()


def _json() -> Writer:
    from hullscan.report.json import JsonWriter

    return JsonWriter()


def _cyclonedx() -> Writer:
    from hullscan.report.cyclonedx import CycloneDXWriter

    return CycloneDXWriter()


def _spdx() -> Writer:
    from hullscan.report.spdx import SPDXWriter

    return SPDXWriter()


class FormatEntry(NamedTuple):
    """One built-in format; ``id``/``aliases`` repeat the writer's class attributes (tested)."""

    id: str
    aliases: tuple[str, ...]
    readable: bool
    factory: Callable[[], Writer]


#: The built-in formats, in the order ``--help`` lists them.
FORMATS: tuple[FormatEntry, ...] = (
    FormatEntry("table", (), False, _table),
    FormatEntry("json", ("hullscan-json",), True, _json),
    FormatEntry("cyclonedx", ("cyclonedx-json",), True, _cyclonedx),
    FormatEntry("spdx", ("spdx-json",), True, _spdx),
)


def _index() -> Mapping[str, FormatEntry]:
    out: dict[str, FormatEntry] = {}
    for entry in FORMATS:
        for name in (entry.id, *entry.aliases):
            if name in out:
                raise RuntimeError(f"duplicate format name {name!r}")  # a bug in FORMATS
            out[name] = entry
    return MappingProxyType(out)


#: Every accepted ``--format`` value (ids and aliases) -> its entry.
FORMAT_NAMES: Mapping[str, FormatEntry] = _index()


def writer_names() -> list[str]:
    """Format ids, in the order ``--help`` lists them (aliases are accepted but not listed)."""
    return [entry.id for entry in FORMATS]


@functools.cache
def _writer(format_id: str) -> Writer:
    return FORMAT_NAMES[format_id].factory()


def _entry(name: str) -> FormatEntry:
    entry = FORMAT_NAMES.get(name.strip().lower())
    if entry is None:
        valid = ", ".join(sorted(FORMAT_NAMES))
        raise UsageError(f"unknown format {name!r} (valid: {valid})")
    return entry


def get_writer(name: str) -> Writer:
    """The writer for ``name`` (an id or alias, case-insensitive); UsageError lists valid names."""
    return _writer(_entry(name).id)


def get_reader(name: str) -> SBOMReader:
    """The reader for a format that can be read back (``json``, ``cyclonedx``, ``spdx``)."""
    entry = _entry(name)
    writer = _writer(entry.id)
    if not entry.readable or not isinstance(writer, SBOMReader):
        readable = ", ".join(sorted(n for n, e in FORMAT_NAMES.items() if e.readable))
        raise UsageError(f"format {name!r} cannot be read back (readable: {readable})")
    return writer


def read_sbom(stream: IO[str], max_chars: int = MAX_SBOM_CHARS) -> SBOM:
    """Read an SBOM in any readable format, detected from its top-level keys."""
    text = read_bounded(stream, "SBOM", max_chars)
    kind = sniff_format(text)
    if kind == "json":
        from hullscan.report.json import decode

        return decode(text)
    if kind == "cyclonedx":
        from hullscan.report.cyclonedx import parse as parse_cyclonedx

        return parse_cyclonedx(text)
    if kind == "spdx":
        from hullscan.report.spdx import parse as parse_spdx

        return parse_spdx(text)
    raise ParseError("SBOM: not a hullscan JSON, CycloneDX or SPDX JSON document")
