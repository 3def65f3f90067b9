"""Compile every analyzer's static interests into one lookup table.

The walker asks ``match(path, size)`` for every tar member, so this is hot: an image with a
million files makes a million calls. Exact paths, basenames and directories are dict lookups;
suffixes are one dict lookup by the basename's extension (then ``endswith`` on the few
candidates); basename prefixes one ``str.startswith`` with a tuple; globs one combined regex,
tried only on paths with one of the globs' literal endings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from hullscan.analyzers.base import Analyzer


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


class Dispatch:
    def __init__(self, analyzers: Sequence[Analyzer]) -> None:
        self.analyzers = tuple(analyzers)
        self._paths: dict[str, list[Analyzer]] = {}
        self._basenames: dict[str, list[Analyzer]] = {}
        self._dirs: dict[str, list[Analyzer]] = {}
        self._dir_suffixes: dict[str, list[tuple[str, Analyzer]]] = {}
        suffixes: list[tuple[str, Analyzer]] = []
        globs: list[tuple[str, Analyzer]] = []
        self._fallback = [a for a in analyzers if type(a).wants is not Analyzer.wants]
        #: Analyzers that want every executable of at least EXEC_MIN_SIZE bytes (the walker
        #: checks the tar mode for those sizes only: ``wants_executable``).
        self.exec_analyzers = [a for a in analyzers if a.interests.executables]
        for a in analyzers:
            it = a.interests
            for p in it.paths:
                self._paths.setdefault(p, []).append(a)
            for b in it.basenames:
                self._basenames.setdefault(b, []).append(a)
            for d in it.dirs:
                self._dirs.setdefault(d, []).append(a)
            for d, s in it.dir_suffixes:
                self._dir_suffixes.setdefault(d, []).append((s, a))
            suffixes.extend((s, a) for s in it.suffixes)
            globs.extend((g, a) for g in it.globs)
        self._suffixes = suffixes
        # Suffixes, (basename prefix, suffix) patterns and (parent directory name, suffix)
        # pairs, indexed by the last ".ext" of their suffix: a path is checked only against
        # the entries of its own extension (".deps.json" sits under ".json",
        # ("requirements", ".txt") under ".txt"), and a prefix pattern costs one
        # ``startswith`` with a tuple. Dotless suffixes are checked apart.
        self._sfx_by_ext: dict[str, list[tuple[str, Analyzer]]] = {}
        self._pfx_by_ext: dict[str, tuple[tuple[str, ...], list[tuple[str, str, Analyzer]]]] = {}
        self._parent_by_ext: dict[str, dict[str, list[tuple[str, Analyzer]]]] = {}
        dotless: list[tuple[str, Analyzer]] = []

        def ext_of(sfx: str) -> str | None:
            dot = sfx.rfind(".")
            if dot >= 0 and "/" not in sfx[dot:]:
                return sfx[dot:]
            return None

        for sfx, a in suffixes:
            ext = ext_of(sfx)
            if ext is None:
                dotless.append((sfx, a))
            else:
                self._sfx_by_ext.setdefault(ext, []).append((sfx, a))
        for a in analyzers:
            for pfx, sfx in a.interests.basename_patterns:
                ext = ext_of(sfx)
                if ext is None:
                    raise ValueError(f"{a.name}: pattern suffix {sfx!r} needs a '.ext'")
                tup, entries = self._pfx_by_ext.get(ext, ((), []))
                self._pfx_by_ext[ext] = ((*tup, pfx), [*entries, (pfx, sfx, a)])
            for name, sfx in a.interests.parent_names:
                ext = ext_of(sfx)
                if ext is None:
                    raise ValueError(f"{a.name}: parent-name suffix {sfx!r} needs a '.ext'")
                self._parent_by_ext.setdefault(ext, {}).setdefault(name, []).append((sfx, a))
        self._dotless = dotless
        self._dotless_tuple = tuple(s for s, _ in dotless)
        # one lookup per path: ext -> (suffix entries, prefix patterns, parent names)
        self._by_ext: dict[str, _ExtEntry] = {
            ext: (
                self._sfx_by_ext.get(ext),
                self._pfx_by_ext.get(ext),
                self._parent_by_ext.get(ext),
            )
            for ext in {*self._sfx_by_ext, *self._pfx_by_ext, *self._parent_by_ext}
        }
        self._globs = globs
        self._glob_re = (
            re.compile(
                "|".join(f"(?P<g{i}>{_glob_to_regex(g)})" for i, (g, _) in enumerate(globs)) + r"\Z"
            )
            if globs
            else None
        )

        # Every glob whose last component ends in a literal (``requirements*.txt``,
        # ``*.json``) can only match paths with that ending: one str.endswith per path instead
        # of the combined regex (a million-file layer paid ~0.5 s for it). None: some glob
        # ends in a wildcard, so the regex always runs.
        self._glob_suffixes = _literal_suffixes([g for g, _ in globs])
        self.match = self._build_matcher()

    def _build_matcher(self) -> Callable[[str, int], list[Analyzer]]:
        """The hot lookup as a closure: tables are bound as locals (no attribute lookups)."""
        paths, basenames, dirs = self._paths, self._basenames, self._dirs
        dir_suffixes, by_ext = self._dir_suffixes, self._by_ext
        dotless, dotless_tuple = self._dotless, self._dotless_tuple
        glob_re, globs, fallback = self._glob_re, self._globs, self._fallback
        glob_suffixes = self._glob_suffixes
        fallback_min = min((a.wants_min_size for a in fallback), default=0)
        empty = _EMPTY

        def match(path: str, size: int) -> list[Analyzer]:
            """Analyzers interested in ``path`` (relative, normalized). Usually an empty list."""
            found: list[Analyzer] | None = None
            slash = path.rfind("/")
            base = path[slash + 1 :]
            hit = paths.get(path)
            if hit:
                found = list(hit)
            hit = basenames.get(base)
            if hit:
                found = _add(found, hit)
            if slash >= 0:
                parent = path[:slash]
                hit = dirs.get(parent)
                if hit:
                    found = _add(found, hit)
                ds = dir_suffixes.get(parent)
                if ds:
                    found = _add(found, [a for s, a in ds if base.endswith(s)])
            dot = base.rfind(".")
            entry = by_ext.get(base[dot:]) if dot >= 0 else None
            if entry is not None:
                sfx_hits, pfx, by_parent = entry
                if sfx_hits:
                    hits = [a for s, a in sfx_hits if base.endswith(s)]
                    if hits:
                        found = _add(found, hits)
                if pfx is not None and base.startswith(pfx[0]):
                    found = _add(found, [a for p, s, a in pfx[1]
                                         if base.startswith(p) and base.endswith(s)])  # fmt: skip
                if by_parent is not None and slash >= 0:
                    pname = path[path.rfind("/", 0, slash) + 1 : slash]
                    entries = by_parent.get(pname)
                    if entries:
                        found = _add(found, [a for s, a in entries if base.endswith(s)])
            if dotless_tuple and path.endswith(dotless_tuple):
                found = _add(found, [a for s, a in dotless if path.endswith(s)])
            if (
                glob_re is not None
                and (glob_suffixes is None or path.endswith(glob_suffixes))
                and glob_re.match(path)
            ):
                # The combined regex says "some glob matches"; find all of them (rare path).
                found = _add(found, [a for g, a in globs if _compiled(g).match(path)])
            if fallback and size >= fallback_min:
                for a in fallback:
                    if size >= a.wants_min_size and a.wants(path, size):
                        found = _add(found, [a])
            return found or empty

        return match


_EMPTY: list[Analyzer] = []
_ExtEntry = tuple[
    list[tuple[str, Analyzer]] | None,
    tuple[tuple[str, ...], list[tuple[str, str, Analyzer]]] | None,
    dict[str, list[tuple[str, Analyzer]]] | None,
]


def _literal_suffixes(globs: Sequence[str]) -> tuple[str, ...] | None:
    """The literal endings every path matching one of ``globs`` must have; None when a glob
    ends in a wildcard (no such ending)."""
    out: list[str] = []
    for g in globs:
        last = g.rsplit("/", 1)[-1]
        tail = last[max(last.rfind("*"), last.rfind("?"), last.rfind("]")) + 1 :]
        if not tail:
            return None
        out.append(tail)
    return tuple(dict.fromkeys(out))


@functools.cache
def _compiled(glob: str) -> re.Pattern[str]:
    return re.compile(_glob_to_regex(glob) + r"\Z")


def _add(found: list[Analyzer] | None, more: list[Analyzer]) -> list[Analyzer]:
    if found is None:
        return list(dict.fromkeys(more))
    for a in more:
        if a not in found:
            found.append(a)
    return found


def with_executables(
    wanted: list[Analyzer], exec_analyzers: list[Analyzer], mode_field: bytes
) -> list[Analyzer]:
    """``wanted`` plus the executable analyzers when the tar ``mode`` field has an x bit."""
    try:
        mode = int(mode_field.split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:  # GNU base-256 or garbage: not a mode we can read
        return wanted
    if not mode & 0o111:
        return wanted
    return _add(list(wanted) if wanted else None, exec_analyzers)
