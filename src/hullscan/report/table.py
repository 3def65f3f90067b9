"""A human-readable table of packages (the default ``--format``), rendered with rich.

Layout::

    Target: docker-archive:image.tar
    Distro: Debian GNU/Linux 12 (bookworm)
    Digest: sha256:4e6a...

     Name       Version            Type  Arch   Source  Layer
     ────────────────────────────────────────────────────────────────────────
     bash       5.2.15-2+b2        deb   amd64  bash    0 ADD file:4b1b… in /
     curl       7.88.1-10+deb12u5  deb   amd64          1 RUN apt-get upda…

    7 packages
    warning: ...                       (warnings and non-ok analyzers, one per line)

Rows are sorted by name, version, type, arch. Names and versions are never truncated; the build
step in the Layer column is shortened to fit (and to at most :data:`MAX_STEP` characters). To a
terminal the table takes the terminal's width and may use bold/dim; to anything else it is plain
text with no escape codes, as wide as its content (up to :data:`PLAIN_WIDTH`), or ``width``
when given::

    TableWriter(width=80).write_sbom(sbom, sys.stdout)
"""

from __future__ import annotations

import io
import re
from typing import IO, ClassVar

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hullscan.model import SBOM, Package
from hullscan.report.base import digest_lines, package_sort_key, status_lines

MAX_STEP = 40
PLAIN_WIDTH = 200
MAX_SOURCE = 24
_SHELL = re.compile(r"^(RUN\s+)?(?:\|\d+(?:\s+\S+=\S*)*\s+)?/bin/(?:ba)?sh\s+-c\s+(#\(nop\)\s*)?")
_BUILDKIT = re.compile(r"\s*# buildkit$")
_SEP = 3  # between two columns: padding, the (blank) rule, padding


def short_step(created_by: str | None, limit: int = MAX_STEP) -> str:
    """A build step as people write it: ``RUN apt-get …``, ``ADD file:… in /``; capped."""
    if not created_by:
        return ""
    text = " ".join(_BUILDKIT.sub("", created_by).split())
    m = _SHELL.match(text)
    if m is not None:
        rest = text[m.end() :]
        text = rest if m.group(2) else f"RUN {rest}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _layer_cell(p: Package) -> str:
    if p.layer_index is None:
        return ""
    step = short_step(p.created_by)
    return f"{p.layer_index} {step}" if step else str(p.layer_index)


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _row_key(p: Package) -> tuple[str, ...]:
    return (p.name, p.version, p.type, p.arch or "", *package_sort_key(p))


class TableWriter:
    """``table``: packages as a text table for people (not a stable format: parse ``json``)."""

    id: ClassVar[str] = "table"
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "text/plain"

    def __init__(self, width: int | None = None) -> None:
        self.width = width

    def _console(self, stream: IO[str], buffer: IO[str]) -> Console:
        tty = _is_tty(stream)
        width = self.width
        if width is None and not tty:
            width = PLAIN_WIDTH
        console = Console(
            file=buffer,
            width=width,
            force_terminal=tty,
            no_color=not tty,
            color_system="auto" if tty else None,
            highlight=False,
            markup=False,
            emoji=False,
            legacy_windows=False,
            soft_wrap=False,
        )
        if width is None:
            # A terminal: measure it through the real stream, render into the buffer.
            console.width = Console(file=stream, force_terminal=True, legacy_windows=False).width
        return console

    def write_sbom(self, sbom: SBOM, stream: IO[str]) -> None:
        buffer = io.StringIO()
        console = self._console(stream, buffer)
        target = sbom.target
        header = [("Target", target.name)]
        if sbom.distro is not None:
            d = sbom.distro
            header.append(("Distro", d.pretty_name or " ".join(filter(None, (d.id, d.version)))))
        header.extend(digest_lines(target))
        for label, value in header:
            line = Text(f"{label}: ", style="bold")
            line.append(value)
            console.print(line, soft_wrap=True)

        packages = sorted(sbom.packages, key=_row_key)
        if packages:
            console.print()
            console.print(_table(packages, console.width))
        console.print()
        count = len(packages)
        console.print(Text(f"{count} package{'' if count == 1 else 's'}"), soft_wrap=True)
        for status in status_lines(sbom):
            console.print(Text(status, style="yellow"), soft_wrap=True)
        stream.write("".join(ln.rstrip() + "\n" for ln in buffer.getvalue().splitlines()))


def _fit(natural: list[int], floors: list[int], avail: int) -> list[int]:
    """Column widths that fit ``avail``: Layer gives way first, then Source; then the wider of
    Name and Version narrows (its cells wrap, nothing is cut) until the row fits."""
    widths = list(natural)
    excess = sum(widths) + _SEP * (len(widths) - 1) - avail
    for i in (5, 4):
        cut = max(0, min(excess, widths[i] - floors[i]))
        widths[i] -= cut
        excess -= cut
    while excess > 0:
        i = 0 if widths[0] - floors[0] >= widths[1] - floors[1] else 1
        if widths[i] <= floors[i]:
            break
        widths[i] -= 1
        excess -= 1
    return widths


def _table(packages: list[Package], avail: int) -> Table:
    rows = [
        (p.name, p.version, p.type, p.arch or "", p.source_name or "", _layer_cell(p))
        for p in packages
    ]
    headers = ("Name", "Version", "Type", "Arch", "Source", "Layer")
    natural = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    natural[4] = min(natural[4], MAX_SOURCE)
    floors = [len(h) for h in headers]
    widths = _fit(natural, floors, avail)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for i, header in enumerate(headers):
        cut = i in (4, 5)
        table.add_column(
            header,
            width=widths[i],
            no_wrap=cut or i in (2, 3),
            overflow="ellipsis" if cut else "fold",
            style="dim" if i == 5 else "",
        )
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table
