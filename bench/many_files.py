"""Generate (once, cached) an image layer with N small files, for the memory/speed bench.

Tar headers are written by hand: tarfile needs ~30 µs per member, which for a million
members is most of a minute spent in the benchmark's own set-up.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _header(name: bytes, size: int, typeflag: bytes = b"0", mode: int = 0o644) -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"14000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def write_many_files_tar(path: Path, count: int) -> Path:
    """A layer with ``count`` 100-byte files in 1000-file directories, plus an os-release."""
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    payload = b"x" * 100 + b"\0" * 412
    with tmp.open("wb") as f:
        osr = b"ID=benchlinux\nVERSION_ID=1\n"
        f.write(_header(b"etc/", 0, b"5", 0o755))
        f.write(_header(b"etc/os-release", len(osr)))
        f.write(osr.ljust(512, b"\0"))
        for d in range((count + 999) // 1000):
            dname = b"data/d%05d/" % d
            f.write(_header(dname, 0, b"5", 0o755))
            for i in range(min(1000, count - d * 1000)):
                f.write(_header(dname + b"f%04d.txt" % i, 100))
                f.write(payload)
        f.write(b"\0" * 1024)
    tmp.rename(path)
    return path


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
