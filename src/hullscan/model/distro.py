"""The operating system release an image is built on."""

from __future__ import annotations

import msgspec


class Distro(msgspec.Struct, frozen=True, kw_only=True):
    """``id`` is the os-release ID (debian, ubuntu, alpine, rhel, ...), lower case.

    ``version`` is VERSION_ID (or the release file's version); ``codename`` is
    VERSION_CODENAME where known. ``source`` names the file the answer came from.
    """

    id: str
    version: str | None = None
    codename: str | None = None
    name: str | None = None
    pretty_name: str | None = None
    id_like: tuple[str, ...] = ()
    variant: str | None = None
    cpe: str | None = None
    source: str | None = None
