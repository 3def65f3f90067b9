"""HTML scan writer: structure via html.parser, and a real headless Chromium for layout and JS."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest

from hullscan.model.finding import ScanResult
from hullscan.report.scan.html import HtmlWriter
from tests.unit.test_scan_report_support import DIGEST, empty_result, sample_result

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (make system-deps as root installs it)",
)


def render(result: ScanResult) -> str:
    buf = io.StringIO()
    HtmlWriter().write_scan(result, buf)
    return buf.getvalue()


class Page(HTMLParser):
    """Rows (their attributes), tags seen and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str | None]] = []
        self.tags: list[str] = []
        self.external: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "tr" and "data-severity" in a:
            self.rows.append(a)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.external.append(a["src"] or "")
        if tag == "link":
            self.external.append(a.get("href") or "")


def parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    p.close()
    return p


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, unfiltered rows) of an 8-bit RGB/RGBA PNG, by its chunks (no library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 4
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def test_writer_attributes() -> None:
    assert HtmlWriter.id == "html" and HtmlWriter.media_type == "text/html"


def test_structure_self_contained_and_escaped(tmp_path: Path) -> None:
    result = sample_result(tmp_path)
    text = render(result)
    page = parse(text)
    assert page.external == []
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)" in text
    assert {"findings", "filter", "severity", "totals"} <= page.ids
    assert "style" in page.tags and "script" in page.tags
    assert len(page.rows) == len(result.findings)
    assert {(r["data-id"], r["data-package"]) for r in page.rows} == {
        (f.id, f.package.name) for f in result.findings
    }
    assert page.rows[0]["data-severity"] == "critical"  # severity-sorted
    assert {r["data-fix"] for r in page.rows} == {f.fix_state for f in result.findings}
    assert any(r["data-layer"] == "2" for r in page.rows)
    assert DIGEST in text


def test_empty_result() -> None:
    page = parse(render(msgspec.structs.replace(empty_result(), warnings=("x<y",))))
    assert "no-findings" in page.ids and page.rows == []


@needs_chromium
def test_screenshot_in_real_browser(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render(sample_result(tmp_path)))
    shot = tmp_path / "report.png"
    proc = chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1280,900", report.as_uri()
    )
    assert shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 10_000
    width, height, rows = png_pixels(data)
    assert (width, height) == (1280, 900)
    # Not one flat color: many distinct pixel values overall, and the dark header (top) is a
    # different color from the light page background (bottom).
    assert len({px for r in rows[::10] for px in r}) > 50
    assert rows[20][:12] != rows[880][:12]
    assert sum(rows[20][:30]) < sum(rows[880][:30])  # header darker than the background
    keep = os.environ.get("HULLSCAN_KEEP_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(data)


@needs_chromium
@pytest.mark.parametrize(
    ("fragment", "visible"),
    [
        ("#filter=openssl", {"libssl3", "openssl"}),  # source name matches libssl3 too
        ("#severity=medium", {"zlib1g", "requests"}),
        ("#filter=fixed&severity=critical", {"libssl3", "openssl"}),
        ("", {"libssl3", "openssl", "zlib1g", "requests", "bash"}),
    ],
)
def test_js_filters_from_fragment(tmp_path: Path, fragment: str, visible: set[str]) -> None:
    report = tmp_path / "report.html"
    report.write_text(render(sample_result(tmp_path)))
    proc = chromium(
        tmp_path, "--virtual-time-budget=5000", "--dump-dom", report.as_uri() + fragment
    )
    page = parse(proc.stdout)
    assert page.rows, proc.stderr[-2000:]
    shown = {r["data-package"] for r in page.rows if "hidden" not in r}
    assert shown == visible
    assert f'data-visible="{len(visible)}"' in proc.stdout


@needs_chromium
def test_js_sorts_from_fragment(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render(sample_result(tmp_path)))
    proc = chromium(
        tmp_path, "--virtual-time-budget=5000", "--dump-dom", report.as_uri() + "#sort=package"
    )
    names = [r["data-package"] or "" for r in parse(proc.stdout).rows]
    assert names == sorted(names) and len(names) == 5
    proc = chromium(
        tmp_path,
        "--virtual-time-budget=5000",
        "--dump-dom",
        report.as_uri() + "#sort=severity-key-desc",
    )
    sevs = [r["data-severity"] for r in parse(proc.stdout).rows]
    assert sevs[-1] == "critical" and sevs[0] == "low"
