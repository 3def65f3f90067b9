"""``hullscan image|rootfs|sbom-scan``: thin wiring over ``api`` and ``policy``."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from hullscan.errors import UsageError

IGNOREFILE = ".hullscanignore.yaml"

_WHAT = {
    "image": (
        "scan an image for vulnerabilities",
        "source",
        "an image reference (nginx:1.25, registry:REF), docker-archive:PATH, oci-dir:PATH, "
        "oci-archive:PATH, dir:PATH or a path whose kind is detected",
    ),
    "rootfs": ("scan a root filesystem directory for vulnerabilities", "dir", "a directory"),
    "sbom-scan": (
        "scan an SBOM (hullscan JSON, CycloneDX or SPDX JSON) for vulnerabilities",
        "file",
        "SBOM file",
    ),
}


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser, list[str]], None],
) -> None:
    from hullscan.policy import SEVERITY_ORDER, SORT_KEYS
    from hullscan.report.scan.registry import scan_writer_names

    for name, (what, dest, arg_help) in _WHAT.items():
        p = sub.add_parser(name, help=what, description=what)
        p.add_argument(dest, help=arg_help)
        common(p, scan_writer_names())
        if name == "image":
            from hullscan.cli.registry_opts import add_registry_args

            add_registry_args(p)
        p.add_argument(
            "--db",
            type=Path,
            default=None,
            help="vulnerability DB (env HULLSCAN_DB; default: "
            "the user cache dir; see 'hullscan db')",
        )
        sev = ",".join(s.upper() for s in reversed(SEVERITY_ORDER))
        p.add_argument(
            "--severity",
            default=None,
            metavar="LIST",
            help=f"show only findings of these severities (comma-separated: {sev})",
        )
        p.add_argument(
            "--fail-on",
            default=None,
            metavar="SEVERITY",
            help="exit 1 when a shown finding is at or above SEVERITY, or is a malicious package",
        )
        p.add_argument(
            "--exit-code",
            type=int,
            default=None,
            metavar="N",
            help="exit N when the gate fails; alone: when any finding is shown",
        )
        p.add_argument("--ignore-unfixed", action="store_true", help="hide findings with no fix")
        p.add_argument(
            "--ignorefile",
            type=Path,
            default=None,
            help=f"accepted findings (YAML; default ./{IGNOREFILE} when present)",
        )
        p.add_argument(
            "--vex",
            type=Path,
            action="append",
            default=None,
            metavar="FILE",
            help="VEX document (OpenVEX, CycloneDX VEX or CSAF VEX JSON; repeatable): "
            "not_affected/fixed statements suppress matching findings",
        )
        p.add_argument(
            "--show-suppressed", action="store_true", help="list suppressed findings too"
        )
        p.add_argument(
            "--allow-empty",
            action="store_true",
            help="exit 0 even when nothing could be scanned (no packages, no distro)",
        )
        p.add_argument(
            "--sort", choices=SORT_KEYS, default="risk", help="finding order (default risk)"
        )
        p.add_argument(
            "--base-layers",
            type=int,
            default=None,
            metavar="N",
            help="the first N layers are the base image (default: layer 0 only)",
        )


def _policy(args: argparse.Namespace) -> Any:
    from hullscan.policy import (
        Policy,
        load_ignorefile,
        load_vex,
        parse_severity,
        parse_severity_list,
    )

    if args.exit_code is not None and not 0 <= args.exit_code <= 255:
        raise UsageError("--exit-code: must be between 0 and 255")
    if args.base_layers is not None and args.base_layers < 0:
        raise UsageError("--base-layers: must not be negative")
    ignorefile: Path | None = args.ignorefile
    if ignorefile is None and Path(IGNOREFILE).is_file():
        ignorefile = Path(IGNOREFILE)
    return Policy(
        severities=parse_severity_list(args.severity) if args.severity is not None else None,
        fail_on=parse_severity(args.fail_on) if args.fail_on is not None else None,
        exit_code=args.exit_code,
        ignore_unfixed=args.ignore_unfixed,
        ignore=load_ignorefile(ignorefile) if ignorefile is not None else (),
        show_suppressed=args.show_suppressed,
        allow_empty=args.allow_empty,
        sort=args.sort,
        base_layers=args.base_layers,
        vex=tuple(st for path in args.vex or () for st in load_vex(path)),
    )


def _outputs(
    args: argparse.Namespace, check: Callable[[Path], None]
) -> list[tuple[str, Path | None]]:
    import os

    from hullscan.report.scan.registry import get_scan_writer

    formats = args.format or ["table"]
    outputs = args.output or []
    if len(outputs) > len(formats):
        raise UsageError("more -o/--output than -f/--format values")
    pairs = [(fmt, Path(outputs[i]) if i < len(outputs) else None) for i, fmt in enumerate(formats)]
    if sum(1 for _, out in pairs if out is None) > 1:
        raise UsageError("only one format can go to stdout; give -o FILE for the others")
    for fmt, _ in pairs:
        get_scan_writer(fmt)
    seen: set[str] = set()
    for _, out in pairs:
        if out is not None:
            check(out)
            real = os.path.realpath(out)
            if real in seen:
                raise UsageError(f"-o {out}: the same file is given for two formats")
            seen.add(real)
    return pairs


def run(
    args: argparse.Namespace,
    stderr: Console,
    *,
    options: Any,
    check_writable: Callable[[Path], None],
    write_output: Callable[[Path, str], None],
) -> int:
    from hullscan import api
    from hullscan.policy import apply_policy
    from hullscan.report.scan.registry import get_scan_writer
    from hullscan.vulndb.manage import default_db_path

    outputs = _outputs(args, check_writable)
    policy = _policy(args)
    db = args.db or default_db_path()
    if args.command == "sbom-scan":
        doc = _read_sbom(Path(args.file))
        result = api.scan_sbom(doc, db, base_layers=args.base_layers, from_sbom_file=True)
    else:
        target = args.source if args.command == "image" else _rootfs(args.dir)
        show_progress = not args.quiet and stderr.is_terminal
        if show_progress:
            from hullscan.cli.progress import RichProgress

            with RichProgress(stderr) as progress:
                doc, result = api.scan_image(
                    target, options, db, observer=progress, base_layers=args.base_layers
                )
        else:
            doc, result = api.scan_image(target, options, db, base_layers=args.base_layers)
    paths = {p.id: tuple(loc.path for loc in p.locations) for p in doc.packages}
    outcome = apply_policy(result, policy, paths=paths)
    shown = outcome.result

    rendered: list[tuple[str, Path | None]] = []
    direct: str | None = None
    for fmt, out in outputs:
        writer = get_scan_writer(fmt)
        if out is None and sys.stdout.isatty() and writer.id == "table":
            direct = fmt
            continue
        buf = io.StringIO()
        writer.write_scan(shown, buf)
        rendered.append((buf.getvalue(), out))
    for text, out in rendered:
        if out is not None:
            write_output(out, text)
    for text, out in rendered:
        if out is None:
            sys.stdout.write(text)
    if direct is not None:
        get_scan_writer(direct).write_scan(shown, sys.stdout)
    lines = [f"warning: {m}" for m in outcome.messages]
    if not args.quiet:
        lines += [f"warning: {w}" for w in shown.warnings]
    for line in lines:
        stderr.print(line, markup=False, highlight=False, soft_wrap=True)
    return outcome.exit_code


def _rootfs(path: str) -> str:
    p = Path(path)
    if not p.is_dir():
        raise UsageError(f"{path}: not a directory (hullscan rootfs scans a root filesystem)")
    return f"dir:{p}"


def _read_sbom(path: Path) -> Any:
    from hullscan.report.registry import read_sbom

    try:
        with path.open(encoding="utf-8") as f:
            return read_sbom(f)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not an SBOM file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (an SBOM is a JSON document)") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
