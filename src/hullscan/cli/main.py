"""``hullscan`` command line: parse arguments, call the library, render, map errors to exit codes.

Wiring only; every decision lives in the library.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import platformdirs
from rich.console import Console

from hullscan import __version__, api
from hullscan.cli import db as db_cli
from hullscan.cli import explain as explain_cli
from hullscan.cli import registry_opts
from hullscan.cli import scan as scan_cli
from hullscan.errors import EXIT_INPUT_ERROR, EXIT_INTERNAL_ERROR, HullscanError, UsageError
from hullscan.options import ScanOptions
from hullscan.report.registry import get_writer, writer_names


def _common(p: argparse.ArgumentParser, formats: list[str] | None = None) -> None:
    p.add_argument(
        "-f",
        "--format",
        action="append",
        default=None,
        help="output format; repeat with -o for several outputs in one run "
        f"({', '.join(formats if formats is not None else writer_names())})",
    )
    p.add_argument(
        "-o",
        "--output",
        action="append",
        default=None,
        help="write to FILE instead of stdout (pairs with -f in order)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="layer cache directory (env HULLSCAN_CACHE_DIR; default: user cache dir)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write the layer cache")
    p.add_argument(
        "--platform",
        default=None,
        help="os/arch[/variant] to pick from a multi-platform image (default linux/amd64)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hullscan", description="Container image analysis and security scanning."
    )
    parser.add_argument("--version", action="version", version=f"hullscan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("sbom", help="list every package in an image (CycloneDX, SPDX, JSON, table)")
    p.add_argument(
        "source",
        help="an image reference (nginx:1.25, registry:REF), docker-archive:PATH, "
        "oci-dir:PATH, oci-archive:PATH, dir:PATH or a path whose kind is detected",
    )
    _common(p)
    registry_opts.add_registry_args(p)
    db_cli.add_parser(sub)
    scan_cli.add_parsers(sub, _common)
    explain_cli.add_parser(sub)
    return parser


def _cache_dir(args: argparse.Namespace) -> Path | None:
    if args.no_cache:
        return None
    if args.cache_dir is not None:
        return Path(args.cache_dir)
    env = os.environ.get("HULLSCAN_CACHE_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("hullscan"))


def _options(args: argparse.Namespace, source: str | None) -> ScanOptions:
    """Scan options from the command line; ``source`` is the image argument, if any."""
    from hullscan.image.detect import registry_reference

    registry = None
    if hasattr(args, "insecure"):
        target = registry_reference(source) if source else None
        registry = registry_opts.registry_settings(args, target)
    options = ScanOptions(platform=args.platform, cache_dir=_cache_dir(args))
    if registry is not None:
        options = dataclasses.replace(options, registry=registry)
    return options


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    formats = args.format or ["table"]
    outputs = args.output or []
    if len(outputs) > len(formats):
        raise UsageError("more -o/--output than -f/--format values")
    pairs: list[tuple[str, Path | None]] = []
    for i, fmt in enumerate(formats):
        pairs.append((fmt, Path(outputs[i]) if i < len(outputs) else None))
    if sum(1 for _, out in pairs if out is None) > 1:
        raise UsageError("only one format can go to stdout; give -o FILE for the others")
    for fmt, _ in pairs:
        get_writer(fmt)  # validate before doing any work
    seen: set[str] = set()
    for _, out in pairs:
        if out is not None:
            _check_writable(out)
            real = os.path.realpath(out)
            if real in seen:
                raise UsageError(f"-o {out}: the same file is given for two formats")
            seen.add(real)
    return pairs


def _check_writable(path: Path) -> None:
    """Fail before the scan, not after it, when an output file obviously cannot be written."""
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(path if path.exists() else parent, os.W_OK):
        raise UsageError(f"cannot write {path}: permission denied")


def _write_output(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _run_sbom(args: argparse.Namespace, stderr: Console) -> int:
    outputs = _outputs(args)
    options = _options(args, args.source)
    show_progress = not args.quiet and stderr.is_terminal
    if show_progress:
        from hullscan.cli.progress import RichProgress

        with RichProgress(stderr) as progress:
            result = api.sbom(args.source, options, observer=progress)
    else:
        result = api.sbom(args.source, options)
    # Render everything first: on an error nothing half-written is left behind.
    # A table for a terminal is the exception: it is drawn straight onto the terminal (after
    # the files are written) so that it can measure the terminal's width and use colour.
    rendered: list[tuple[str, Path | None]] = []
    direct: str | None = None
    for fmt, out in outputs:
        if out is None and sys.stdout.isatty() and get_writer(fmt).id == "table":
            direct = fmt
            continue
        buf = io.StringIO()
        get_writer(fmt).write_sbom(result, buf)
        rendered.append((buf.getvalue(), out))
    for text, out in rendered:  # files first: stdout stays empty when one cannot be written
        if out is not None:
            _write_output(out, text)
    for text, out in rendered:
        if out is None:
            sys.stdout.write(text)
    if direct is not None:
        get_writer(direct).write_sbom(result, sys.stdout)
    if not args.quiet:
        lines = [f"warning: {w}" for w in result.warnings]
        lines += [
            f"warning: {status.name}: {fe.path}: {fe.error}"
            for status in result.statuses
            if status.status != "ok"
            for fe in status.file_errors
        ]
        for line in lines:
            # soft_wrap: one line per warning, whatever the width (logs, pipes)
            stderr.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    stderr = Console(stderr=True, highlight=False)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT_ERROR
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT_ERROR
    try:
        if args.command == "sbom":
            return _run_sbom(args, stderr)
        if args.command == "db":
            return db_cli.run(args, stderr)
        if args.command in ("image", "rootfs", "sbom-scan"):
            options = _options(args, args.source if args.command == "image" else None)
            return scan_cli.run(
                args,
                stderr,
                options=options,
                check_writable=_check_writable,
                write_output=_write_output,
            )
        if args.command == "explain":
            options = _options(args, args.image)
            return explain_cli.run(args, options=options)
        raise UsageError(f"unknown command {args.command!r}")
    except HullscanError as exc:
        print(f"hullscan: error: {exc.diagnostics()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hullscan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hullscan ... | head`: the reader left; not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: say so in one line; HULLSCAN_DEBUG shows the traceback
        if os.environ.get("HULLSCAN_DEBUG"):
            raise
        print(
            f"hullscan: internal error: {type(exc).__name__}: {exc} "
            "(set HULLSCAN_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def entrypoint() -> None:
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
