"""Platforms (``os/arch[/variant]``): parsing, normalisation and matching index entries.

Architecture names are normalised the way containerd does, plus the Debian/uname spellings
people type: ``x86_64``/``x86-64`` -> ``amd64``, ``aarch64`` -> ``arm64``, ``i386``/``i686``
-> ``386``, ``armhf`` -> ``arm/v7``, ``armel`` -> ``arm/v6``. ``arm64`` without a variant is
``arm64/v8`` and ``arm`` without one is ``arm/v7``; ``amd64/v1`` is plain ``amd64``.

The default is ``linux/amd64`` (not the host's platform): a scan must give the same answer
on a laptop and on a CI runner::

    >>> str(parse_platform("linux/aarch64"))
    'linux/arm64/v8'
    >>> match_score(parse_platform(None), Platform("linux", "x86_64")) is not None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hullscan.errors import UsageError

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "x64": "amd64",
    "aarch64": "arm64",
    "i386": "386",
    "i486": "386",
    "i586": "386",
    "i686": "386",
    "x86": "386",
    "ppc64el": "ppc64le",
}
# Architectures whose variants are ordered levels: a higher level runs images of lower ones.
_LEVELED = {"amd64", "arm", "arm64"}


@dataclass(frozen=True, slots=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    def normalized(self) -> Platform:
        arch, variant = normalize_arch(self.architecture, self.variant)
        os_name = self.os.lower()
        if os_name == "macos":
            os_name = "darwin"
        return Platform(os_name, arch, variant)


DEFAULT_PLATFORM = Platform("linux", "amd64", None)


def normalize_arch(architecture: str, variant: str | None) -> tuple[str, str | None]:
    """Canonical (architecture, variant) for matching."""
    arch = architecture.lower()
    var = variant.lower() if variant else None
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    arch = _ARCH_ALIASES.get(arch, arch)
    if var is not None and var.isdigit():
        var = "v" + var
    if arch == "amd64":
        return arch, None if var == "v1" else var
    if arch == "arm64":
        return arch, var or "v8"
    if arch == "arm":
        return arch, var or "v7"
    return arch, var


def parse_platform(text: str | None) -> Platform:
    """``os/arch[/variant]`` (normalised); None or "" means ``linux/amd64``."""
    if not text:
        return DEFAULT_PLATFORM.normalized()
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise UsageError(
            f"invalid platform {text!r}: expected os/arch[/variant], e.g. linux/amd64 or "
            "linux/arm64/v8"
        )
    os_name, arch = parts[0].strip(), parts[1].strip()
    variant = parts[2].strip() if len(parts) == 3 else None
    return Platform(os_name, arch, variant).normalized()


def platform_from_json(obj: object) -> Platform | None:
    """A Platform from a descriptor's ``platform`` object or an image config (``os``,
    ``architecture``, ``variant``); None when absent or not strings."""
    if not isinstance(obj, dict):
        return None
    os_name, arch, variant = obj.get("os"), obj.get("architecture"), obj.get("variant")
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        return None
    if not isinstance(variant, str) or not variant:
        variant = None
    return Platform(os_name, arch, variant)


def _level(variant: str | None) -> int | None:
    if variant is None:
        return 1
    if variant.startswith("v") and variant[1:].isdigit():
        return int(variant[1:])
    return None


def match_score(want: Platform, have: Platform) -> int | None:
    """How well an image for ``have`` serves a request for ``want``; None if it cannot.

    Exact matches (after normalisation) score highest; an image for a lower level of a
    leveled architecture (``arm/v6`` for ``arm/v7``, ``amd64`` for ``amd64/v3``) still matches,
    at a lower score; when ``want`` names no amd64 level any level matches, plain first.
    """
    w, h = want.normalized(), have.normalized()
    if w.os != h.os or w.architecture != h.architecture:
        return None
    if w.variant == h.variant:
        return 1000
    if w.architecture not in _LEVELED:
        return None
    wl, hl = _level(w.variant), _level(h.variant)
    if wl is None or hl is None:
        return None
    if w.variant is None:  # amd64 without a level: anything, lowest level first
        return 500 - hl
    if hl <= wl:
        return 500 + hl
    return None


def matches(want: Platform, have: Platform) -> bool:
    return match_score(want, have) is not None


def best_match(want: Platform, candidates: Sequence[Platform | None]) -> int | None:
    """Index of the best candidate for ``want`` (first one on ties), or None."""
    best: tuple[int, int] | None = None
    for i, have in enumerate(candidates):
        if have is None:
            continue
        score = match_score(want, have)
        if score is not None and (best is None or score > best[0]):
            best = (score, i)
    return None if best is None else best[1]
