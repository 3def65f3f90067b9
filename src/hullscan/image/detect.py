"""Turn what the user typed into a :class:`~hullscan.image.source.Source`.

Schemes: ``docker-archive:PATH[:REPO:TAG|:@N]``, ``oci-dir:PATH[:REF]`` (alias ``oci:``),
``oci-archive:PATH[:REF]``, ``dir:PATH``. When the whole remainder is an existing path it is
the path (paths may contain ``:``); otherwise the longest existing prefix before a ``:`` is
the path and the rest the reference.

Without a scheme the kind is detected:

- a directory with an ``oci-layout`` file -> ``oci-dir``; any other directory -> ``dir``;
- a file that is a tar (or a gzip/zstd of a tar) holding ``manifest.json`` ->
  ``docker-archive`` (Docker >= 25 archives also hold ``index.json``); holding ``oci-layout``
  and ``index.json`` but no ``manifest.json`` -> ``oci-archive``;
- anything else that exists -> ``SourceNotFoundError`` ("not a docker-archive or OCI image");
- a string that does not exist but looks like an image reference (``alpine:3.20``,
  ``ghcr.io/org/app@sha256:...``) -> the registry source. ``registry:REF`` and
  ``docker://REF`` (skopeo's spelling) force it, even when a file of that name exists.

Example::

    source = open_source("oci-archive:build/app.tar", limits=Limits())
    try:
        info = source.resolve("linux/arm64")
    finally:
        source.close()
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hullscan.errors import SourceNotFoundError, UsageError
from hullscan.image.archive import DockerArchiveSource
from hullscan.image.limits import DEFAULT_LIMITS, Limits
from hullscan.image.oci import OciArchiveSource, OciDirSource, TarStore, truncation_hint
from hullscan.image.registry.settings import RegistrySettings
from hullscan.image.rootfs import RootfsSource
from hullscan.image.source import Source

SourceFactory = Callable[[str, str, Limits, Path | None], Source]
"""``factory(name, rest, limits, work_dir)``: ``name`` is what the user typed, ``rest`` what
followed the scheme."""

_SUPPORTED = "docker-archive:, oci-dir:, oci-archive:, dir:, registry:"


def split_path_ref(rest: str) -> tuple[Path, str | None]:
    """``PATH[:REF]`` -> (path, ref). The path is the whole string when it exists, else the
    longest existing prefix ending before a ``:``; else the whole string (not found)."""
    if not rest or Path(rest).exists():
        return Path(rest), None
    for i in range(len(rest) - 1, 0, -1):
        if rest[i] == ":" and Path(rest[:i]).exists():
            return Path(rest[:i]), rest[i + 1 :] or None
    return Path(rest), None


def _need_path(scheme: str, rest: str) -> None:
    if not rest:
        raise UsageError(f"{scheme}: needs a path, e.g. {scheme}:./image.tar")


def _docker_archive(name: str, rest: str, limits: Limits, work_dir: Path | None) -> Source:
    _need_path("docker-archive", rest)
    path, ref = split_path_ref(rest)
    return DockerArchiveSource(path, ref=ref, limits=limits, work_dir=work_dir, name=name)


def _oci_dir(name: str, rest: str, limits: Limits, work_dir: Path | None) -> Source:
    _need_path("oci-dir", rest)
    path, ref = split_path_ref(rest)
    return OciDirSource(path, ref=ref, limits=limits, name=name)


def _oci_archive(name: str, rest: str, limits: Limits, work_dir: Path | None) -> Source:
    _need_path("oci-archive", rest)
    path, ref = split_path_ref(rest)
    return OciArchiveSource(path, ref=ref, limits=limits, work_dir=work_dir, name=name)


def _rootfs(name: str, rest: str, limits: Limits, work_dir: Path | None) -> Source:
    _need_path("dir", rest)
    return RootfsSource(Path(rest), limits=limits, name=name)


SCHEMES: dict[str, SourceFactory] = {
    "docker-archive": _docker_archive,
    "oci-dir": _oci_dir,
    "oci": _oci_dir,  # skopeo's name for a layout directory
    "oci-archive": _oci_archive,
    "dir": _rootfs,
}
"""Scheme -> factory for local sources; registry references are handled by :func:`open_source`."""

# Schemes other tools accept that hullscan does not (yet): a clear error instead of "no file".
_UNSUPPORTED_SCHEMES = {
    "docker-daemon": "reading from a Docker daemon is not supported; run docker save and use "
    "docker-archive:",
    "podman": "reading from podman is not supported; run podman save and use docker-archive:",
    "containers-storage": "containers-storage is not supported; use skopeo copy to oci-dir:",
}

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE_RE = re.compile(
    rf"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_PATHY_SUFFIXES = (".tar", ".tgz", ".gz", ".zst", ".tar.gz", ".tar.zst", ".json")


def looks_like_reference(text: str) -> bool:
    """True for strings shaped like ``[host[:port]/]name[:tag][@digest]`` and not like a
    file path (no leading ``/``, ``./``, ``~``; no archive suffix)."""
    if text.startswith(("/", ".", "~")) or text.endswith(_PATHY_SUFFIXES):
        return False
    return _REFERENCE_RE.fullmatch(text) is not None


def detect(path: Path, *, name: str, limits: Limits, work_dir: Path | None = None) -> Source:
    """The source for an existing path without a scheme (see the module docstring)."""
    if path.is_dir():
        if (path / "oci-layout").exists():
            return OciDirSource(path, limits=limits, name=name)
        return RootfsSource(path, limits=limits, name=name)
    label = str(path)
    store = TarStore.open(path, limits=limits, work_dir=work_dir, label=label)
    try:
        if store.locate("manifest.json") is not None:
            return DockerArchiveSource(
                path, limits=limits, work_dir=work_dir, name=name, store=store
            )
        if store.locate("oci-layout") is not None and store.locate("index.json") is not None:
            return OciArchiveSource(path, limits=limits, work_dir=work_dir, name=name, store=store)
    except BaseException:
        store.close()
        raise
    hint = truncation_hint(store)
    store.close()
    raise SourceNotFoundError(
        f"{label}: not a docker-archive or OCI image: the tar holds neither manifest.json nor "
        f"oci-layout + index.json{hint}"
    )


def _registry(
    name: str, reference: str, limits: Limits, settings: RegistrySettings | None
) -> Source:
    # Imported here: a local scan never needs the HTTP client.
    from hullscan.image.registry.source import RegistrySource

    if not reference:
        raise UsageError(f"{name}: needs an image reference, e.g. registry:nginx:1.25")
    return RegistrySource(reference, settings=settings, limits=limits, name=name)


def registry_reference(spec: str) -> str | None:
    """The image reference ``spec`` names in a registry, or None for a local source (no
    network and nothing read; an existing path wins over a scheme-less reference)."""
    scheme, sep, rest = spec.partition(":")
    if sep and scheme == "registry":
        return rest
    if sep and scheme == "docker" and rest.startswith("//"):
        return rest[2:]
    if sep and (scheme in SCHEMES or scheme in _UNSUPPORTED_SCHEMES):
        return None
    if Path(spec).exists() or not looks_like_reference(spec):
        return None
    return spec


def open_source(
    spec: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    work_dir: Path | None = None,
    registry: RegistrySettings | None = None,
) -> Source:
    """A Source for ``spec`` (see the module docstring). Nothing is read until
    ``resolve()`` except what kind detection needs; call ``close()`` when done.
    ``registry``: how to reach registries (TLS, credentials, mirrors...)."""
    if not spec:
        raise UsageError(f"no image given; use one of {_SUPPORTED} or an image reference")
    scheme, sep, rest = spec.partition(":")
    if sep and scheme in SCHEMES:
        return SCHEMES[scheme](spec, rest, limits, work_dir)
    reference = registry_reference(spec)
    if reference is not None:
        return _registry(spec, reference, limits, registry)
    path = Path(spec)
    if path.exists():
        return detect(path, name=spec, limits=limits, work_dir=work_dir)
    if sep and scheme in _UNSUPPORTED_SCHEMES:
        raise UsageError(f"{spec}: {_UNSUPPORTED_SCHEMES[scheme]}")
    raise SourceNotFoundError(f"{spec}: no such file or directory")
