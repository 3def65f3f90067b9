"""Compile every analyzer's static interests into one lookup table.

The walker asks ``match(path, size)`` for every tar member, so this is hot: an image with a
million files makes a million calls. Exact paths, basenames and directories are dict lookups;
suffixes are one ``str.endswith`` with a tuple; globs are one combined regex.
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
        self._suffix_tuple = tuple(s for s, _ in suffixes)
        self._globs = globs
        self._glob_re = (
            re.compile(
                "|".join(f"(?P<g{i}>{_glob_to_regex(g)})" for i, (g, _) in enumerate(globs)) + r"\Z"
            )
            if globs
            else None
        )

        self.match = self._build_matcher()

    def _build_matcher(self) -> Callable[[str, int], list[Analyzer]]:
        """The hot lookup as a closure: tables are bound as locals (no attribute lookups)."""
        paths, basenames, dirs = self._paths, self._basenames, self._dirs
        dir_suffixes, suffixes, suffix_tuple = (
            self._dir_suffixes,
            self._suffixes,
            self._suffix_tuple,
        )
        glob_re, globs, fallback = self._glob_re, self._globs, self._fallback
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
            if suffix_tuple and path.endswith(suffix_tuple):
                found = _add(found, [a for s, a in suffixes if path.endswith(s)])
            if glob_re is not None and glob_re.match(path):
                # The combined regex says "some glob matches"; find all of them (rare path).
                found = _add(found, [a for g, a in globs if _compiled(g).match(path)])
            if fallback and size >= fallback_min:
                for a in fallback:
                    if size >= a.wants_min_size and a.wants(path, size):
                        found = _add(found, [a])
            return found or empty

        return match


_EMPTY: list[Analyzer] = []


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
