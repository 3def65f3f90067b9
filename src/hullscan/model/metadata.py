"""Per-format package metadata: a tagged union, never ``Any``."""

from __future__ import annotations

import msgspec


class DpkgMeta(msgspec.Struct, frozen=True, kw_only=True, tag="dpkg"):
    status: str | None = None
    maintainer: str | None = None
    installed_size: int | None = None
    section: str | None = None
    priority: str | None = None
    multi_arch: str | None = None
    depends: str | None = None
    provides: str | None = None


class ApkMeta(msgspec.Struct, frozen=True, kw_only=True, tag="apk"):
    origin: str | None = None
    maintainer: str | None = None
    url: str | None = None
    description: str | None = None
    installed_size: int | None = None
    checksum: str | None = None
    commit: str | None = None
    depends: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()


class RpmMeta(msgspec.Struct, frozen=True, kw_only=True, tag="rpm"):
    epoch: int | None = None
    release: str | None = None
    source_rpm: str | None = None
    vendor: str | None = None
    modularity_label: str | None = None
    size: int | None = None


class JavaMeta(msgspec.Struct, frozen=True, kw_only=True, tag="java"):
    """How a Maven artifact was identified: ``evidence`` is ``pom.properties`` (exact),
    ``manifest`` (MANIFEST.MF heuristics) or ``filename`` (the archive's name only: lowest
    confidence)."""

    evidence: str
    group_id: str | None = None
    artifact_id: str | None = None


class GoMeta(msgspec.Struct, frozen=True, kw_only=True, tag="go"):
    """The Go binary a module was built into: toolchain (``go1.21.5``), main package path,
    ``build`` settings (``-ldflags=...``, ``CGO_ENABLED=1``, ``vcs.revision=...``) and the
    module's ``h1:`` checksum."""

    go_version: str
    main_path: str | None = None
    build_settings: tuple[str, ...] = ()
    h1: str | None = None


class LockMeta(msgspec.Struct, frozen=True, kw_only=True, tag="lock"):
    """Where a declared package was declared: the lock format (``package-lock.json``,
    ``poetry.lock``, ``requirements.txt``...) and whether it is a development dependency."""

    format: str
    dev: bool = False


class BinaryMeta(msgspec.Struct, frozen=True, kw_only=True, tag="binary"):
    """How a binary classifier identified a file: the text matched (``evidence``), where
    (``offset``), how (``method``: ``pattern``, ``nearest``, ``symbol``) and the product's
    CPE 2.3 names (for CPE-keyed advisories)."""

    evidence: str
    offset: int | None = None
    method: str | None = None
    cpes: tuple[str, ...] = ()


PackageMetadata = DpkgMeta | ApkMeta | RpmMeta | JavaMeta | GoMeta | LockMeta | BinaryMeta
