"""Squash: apply layers in order over their cached results, never over tar data.

Overlay semantics as the OCI image spec defines them: a layer's whiteout ``DIR/.wh.NAME``
deletes ``DIR/NAME`` (and everything below it) from the layers beneath; an opaque marker
``DIR/.wh..wh..opq`` hides everything the lower layers had below ``DIR``; an entry replaces
whatever a lower layer had at the same path.

Symlinks and hard links at wanted paths are resolved inside the image root only: an absolute
target restarts at the image root and ``..`` at the root stays at the root (what the kernel
does inside the container's root), so no path ever leaves the image. A loop is an error.

While applying layers, each analyzer whose files changed is re-assembled, so a package's
*origin layer* is the first layer after which it has been present, unchanged, up to the top —
the layer a user must rebuild to change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hullscan.analyzers.base import AnalyzedFile, Analyzer, AssembleContext, Assembly
from hullscan.analyzers.dispatch import Dispatch
from hullscan.errors import LayerFormatError
from hullscan.image.limits import Limits
from hullscan.model import AnalyzerStatus, Distro, FileError, LayerRef, Package
from hullscan.walk.layer_result import FileResult, LayerResult


@dataclass(slots=True)
class SquashResult:
    distro: Distro | None
    packages: list[Package]
    statuses: list[AnalyzerStatus]
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Entry:
    layer: int
    results: list[FileResult]


@dataclass(slots=True)
class _View:
    files: dict[str, _Entry] = field(default_factory=dict)
    links: dict[str, tuple[int, str, str]] = field(
        default_factory=dict
    )  # path -> (layer, kind, target)
    # Links at paths some analyzer wants -> those analyzers' names.
    wanted_links: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def _pop(self, p: str, store: dict[str, Any]) -> set[str]:
        entry = store.pop(p)
        if isinstance(entry, _Entry):
            return {r.analyzer for r in entry.results}
        return set(self.wanted_links.pop(p, ()))

    def remove_tree(self, path: str) -> set[str]:
        """Delete ``path`` and everything below it; return names of analyzers affected."""
        touched: set[str] = set()
        prefix = path + "/" if path else ""
        for store in (self.files, self.links):
            doomed = (
                [p for p in store if p == path or p.startswith(prefix)] if path else list(store)
            )
            for p in doomed:
                touched |= self._pop(p, store)
        return touched

    def remove_below(self, path: str) -> set[str]:
        prefix = path + "/" if path else ""
        touched: set[str] = set()
        for store in (self.files, self.links):
            doomed = [p for p in store if p.startswith(prefix)]
            for p in doomed:
                touched |= self._pop(p, store)
        return touched


def resolve_in_root(path: str, links: dict[str, tuple[int, str, str]], max_hops: int) -> str:
    """Resolve symlinks/hard links in ``path`` without ever leaving the image root."""
    pending = [c for c in path.split("/") if c]
    pending.reverse()
    resolved: list[str] = []
    hops = 0
    while pending:
        comp = pending.pop()
        if comp == ".":
            continue
        if comp == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = "/".join([*resolved, comp])
        link = links.get(candidate)
        if link is None:
            resolved.append(comp)
            continue
        hops += 1
        if hops > max_hops:
            raise LayerFormatError(f"symlink loop (more than {max_hops} links) resolving {path!r}")
        _, kind, target = link
        if kind == "hard" or target.startswith("/"):
            resolved = []
        parts = [c for c in target.split("/") if c]
        pending.extend(reversed(parts))
    return "/".join(resolved)


class Squasher:
    """Applies LayerResults in order and assembles analyzers; see module docstring."""

    def __init__(self, analyzers: Sequence[Analyzer], limits: Limits) -> None:
        self.analyzers = sorted(analyzers, key=lambda a: (a.order, a.name))
        self.by_name = {a.name: a for a in self.analyzers}
        self.limits = limits
        self.dispatch = Dispatch(self.analyzers)
        self._decoded: dict[tuple[int, str, str], Any] = {}
        self._link_errors: dict[str, dict[str, str]] = {}

    def squash(self, layers: Sequence[tuple[LayerRef, LayerResult]]) -> SquashResult:
        view = _View()
        present_since: dict[str, dict[tuple[Any, ...], int]] = {a.name: {} for a in self.analyzers}
        warnings: list[str] = []
        distro: Distro | None = None
        for i, (_ref, result) in enumerate(layers):
            warnings.extend(result.warnings)
            touched: set[str] = set()
            for d in result.opaque_dirs:
                touched |= view.remove_below(d)
            for w in result.whiteouts:
                touched |= view.remove_tree(w)
            for kind, links in (("sym", result.symlinks), ("hard", result.hardlinks)):
                for p, target in links.items():
                    if p in view.files:
                        touched |= view._pop(p, view.files)
                    view.links[p] = (i, kind, target)
                    wanted = tuple(a.name for a in self.dispatch.match(p, 0))
                    if wanted:
                        view.wanted_links[p] = wanted
                        touched.update(wanted)
                    else:
                        view.wanted_links.pop(p, None)
            for p, results in result.files.items():
                old = view.files.get(p)
                if old:
                    touched.update(r.analyzer for r in old.results)
                if p in view.links:
                    touched |= view._pop(p, view.links)
                view.files[p] = _Entry(i, results)
                touched.update(r.analyzer for r in results)
            dirty = [a for a in self.analyzers if a.name in touched]
            for a in dirty:
                asm = a.assemble(self._files_for(a, view, layers), AssembleContext(distro=distro))
                if asm.distro is not None or a.order < 100:
                    distro = asm.distro or distro
                keys = {_package_key(p) for p in asm.packages}
                since = present_since[a.name]
                for k in list(since):
                    if k not in keys:
                        del since[k]
                for k in keys:
                    since.setdefault(k, i)

        # Final assembly over the top view with the final distro (purls carry the distro).
        self._link_errors = {}
        packages: list[Package] = []
        statuses: list[AnalyzerStatus] = []
        final_distro: Distro | None = None
        for a in self.analyzers:
            files = self._files_for(a, view, layers)
            asm = a.assemble(files, AssembleContext(distro=final_distro))
            if asm.distro is not None:
                final_distro = asm.distro
            since = present_since[a.name]
            for pkg in asm.packages:
                origin = since.get(_package_key(pkg), len(layers) - 1)
                ref = layers[origin][0] if layers else None
                packages.append(_attribute(pkg, ref))
            statuses.append(self._status(a, view, layers, asm))
        packages.sort(key=lambda p: (p.type, p.name, p.version, p.arch or "", p.purl))
        return SquashResult(
            distro=final_distro, packages=packages, statuses=statuses, warnings=warnings
        )

    def _files_for(
        self, a: Analyzer, view: _View, layers: Sequence[tuple[LayerRef, LayerResult]]
    ) -> dict[str, AnalyzedFile]:
        out: dict[str, AnalyzedFile] = {}
        for p, entry in view.files.items():
            for r in entry.results:
                if r.analyzer == a.name and r.payload is not None:
                    out[p] = AnalyzedFile(
                        p, p, layers[entry.layer][0], self._decode(a, entry.layer, p, r.payload)
                    )
        for p, names in view.wanted_links.items():
            if a.name not in names:
                continue
            real = resolve_in_root(p, view.links, self.limits.max_symlink_hops)
            target = view.files.get(real)
            if target is None:
                if real != p:
                    self._link_errors.setdefault(a.name, {})[p] = (
                        f"link to {real!r}, which this analyzer did not read "
                        "(missing, or not one of its interests)"
                    )
                continue
            for r in target.results:
                if r.analyzer == a.name and r.payload is not None:
                    out[p] = AnalyzedFile(
                        p,
                        real,
                        layers[target.layer][0],
                        self._decode(a, target.layer, real, r.payload),
                    )
        return out

    def _decode(self, a: Analyzer, layer: int, path: str, payload: bytes) -> Any:
        key = (layer, path, a.name)
        if key not in self._decoded:
            self._decoded[key] = a.decode(payload)
        return self._decoded[key]

    def _status(
        self,
        a: Analyzer,
        view: _View,
        layers: Sequence[tuple[LayerRef, LayerResult]],
        asm: Assembly,
    ) -> AnalyzerStatus:
        errors = [
            FileError(path=p, error=r.error, layer_diff_id=layers[e.layer][0].diff_id)
            for p, e in sorted(view.files.items())
            for r in e.results
            if r.analyzer == a.name and r.error is not None
        ]
        errors.extend(FileError(path=p, error=m) for p, m in asm.errors)
        errors.extend(
            FileError(path=p, error=m) for p, m in sorted(self._link_errors.get(a.name, {}).items())
        )
        return AnalyzerStatus(
            name=a.name,
            version=a.version,
            status="partial" if errors else "ok",
            file_errors=tuple(errors),
        )


def _package_key(p: Package) -> tuple[Any, ...]:
    loc = p.locations[0].path if p.locations else ""
    return (p.found_by, p.type, p.name, p.version, p.arch, loc)


def _attribute(pkg: Package, ref: LayerRef | None) -> Package:
    if ref is None:
        return pkg
    return msgspec.structs.replace(
        pkg, layer_diff_id=ref.diff_id, layer_index=ref.index, created_by=ref.created_by
    )
