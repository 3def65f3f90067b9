"""Binaries that belong to an OS package are the OS package's: a classifier's finding of
``/usr/bin/openssl`` in an image where dpkg lists that file as ``openssl``'s is not reported
again (the OS package, with the distro's own fix data, stands for it).

Runs on the final package list, after every analyzer. Owned files are the ``files`` of deb, rpm
and apk packages (their databases' file lists). Paths are compared after the usr merge
(``bin/``, ``sbin/``, ``lib/``, ``lib32/``, ``lib64/``, ``libx32/`` are read as ``usr/...``):
dpkg lists ``/bin/bash`` while a merged image stores the file at ``usr/bin/bash``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hullscan.model import Package

OS_TYPES = frozenset({"deb", "rpm", "apk"})
_MERGED = ("bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/")


def _merged(path: str) -> str:
    path = path.lstrip("/")
    return f"usr/{path}" if path.startswith(_MERGED) else path


def drop_os_owned(packages: Sequence[Package], found_by: frozenset[str]) -> list[Package]:
    """``packages`` without those of analyzers ``found_by`` located at an OS-owned file."""
    owned = {_merged(f) for p in packages if p.type in OS_TYPES for f in p.files}
    if not owned:
        return list(packages)
    return [
        p
        for p in packages
        if p.found_by not in found_by
        or not p.locations
        or _merged(p.locations[0].path.split("!/", 1)[0]) not in owned
    ]
