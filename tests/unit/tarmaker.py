"""Tiny helpers to make tar bytes with the stdlib (independent of the code under test)."""

from __future__ import annotations

import io
import tarfile


def make_tar(
    entries: list[tuple[str, bytes | str | None, str]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    """entries: (name, data, kind) with kind file|dir|symlink|hardlink (data = link target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data, kind in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                raw = data.encode() if isinstance(data, str) else (data or b"")
                ti.size = len(raw)
                tf.addfile(ti, io.BytesIO(raw))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = str(data)
                tf.addfile(ti)
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = str(data)
                tf.addfile(ti)
    return buf.getvalue()
