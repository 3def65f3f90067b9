"""The analyzer protocol.

An analyzer has two pure halves:

* ``analyze_file(path, data)`` runs during the single streaming pass over a layer, for each
  file the analyzer declared interest in, and turns that file's bytes into small typed records
  (``record_type``). The walker stores them, encoded, in the layer's ``LayerResult``, so they
  can be cached per layer digest.
* ``assemble(files, context)`` runs after the squash step over the records of the files still
  visible in the image (whiteouts applied, links resolved) and produces packages or a distro.
  Multi-file formats (dpkg ``status`` plus ``info/*.list``) are joined here, never by reading
  the layer again.

Interests are declared statically (exact paths, basenames, directories, suffixes, globs) and
compiled by :mod:`hullscan.analyzers.dispatch` into one lookup table; ``wants`` is a fallback
for rules that cannot be written as interests. Both look only at the path and size.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgspec

from hullscan.model import Distro, Location, Package
from hullscan.model.location import LayerRef

DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Interests:
    """Paths an analyzer wants, relative to the image root, without a leading slash.

    ``dirs`` matches files directly inside a directory (``var/lib/dpkg/status.d``);
    ``dir_suffixes`` matches files directly inside a directory whose name ends with a suffix
    (``("var/lib/dpkg/info", ".list")``); ``globs`` are fnmatch patterns over the whole path
    (``*`` does not cross ``/``; ``**/`` matches any number of directories) — a regex per path:
    prefer ``basename_patterns`` and ``parent_names``, which cost one dict lookup by extension.
    """

    paths: tuple[str, ...] = ()
    basenames: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()
    dir_suffixes: tuple[tuple[str, str], ...] = ()
    suffixes: tuple[str, ...] = ()
    # (basename prefix, suffix): ``("requirements", ".txt")`` is ``requirements*.txt`` anywhere
    basename_patterns: tuple[tuple[str, str], ...] = ()
    # (parent directory name, suffix): ``("conda-meta", ".json")`` is ``**/conda-meta/*.json``
    parent_names: tuple[tuple[str, str], ...] = ()
    globs: tuple[str, ...] = ()
    # Every regular file with an executable bit and at least EXEC_MIN_SIZE bytes, wherever it
    # is (compiled programs: Go and Rust binaries, binary classifiers).
    executables: bool = False


#: Smaller executables are scripts or tiny tools, never a Go/Rust program (a Go "hello world"
#: is ~1.5 MB): skipping them keeps the mode check off the hot path of small-file layers.
EXEC_MIN_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class AnalyzedFile:
    """One file still visible after squash, with the records its analyzer produced.

    ``path`` is the path asked for (possibly a symlink); ``real_path`` the file read.
    """

    path: str
    real_path: str
    layer: LayerRef
    record: Any


@dataclass(frozen=True, slots=True)
class AssembleContext:
    distro: Distro | None = None


@dataclass(slots=True)
class Assembly:
    """What an analyzer concluded about the whole image (or the image up to some layer)."""

    packages: list[Package] = field(default_factory=list)
    distro: Distro | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)


class Analyzer(ABC):
    """Base class; subclasses set the class attributes and implement the two halves."""

    name: ClassVar[str]
    version: ClassVar[int]
    interests: ClassVar[Interests]
    max_file_size: ClassVar[int] = DEFAULT_MAX_FILE_SIZE
    # msgspec-encodable type of what analyze_file returns (used to decode cached results).
    record_type: ClassVar[Any]
    # Analyzers whose results others need (os-release before package analyzers).
    order: ClassVar[int] = 100

    #: ``wants`` is asked only for files of at least this size (it runs on the walker's hot
    #: path: a million-file layer must not pay a method call per file for it).
    wants_min_size: ClassVar[int] = 0

    def wants(self, path: str, size: int) -> bool:
        """Fallback for interests that cannot be declared statically. Path and size only."""
        return False

    @abstractmethod
    def analyze_file(self, path: str, data: bytes) -> Any:
        """Parse one file's bytes; raise ``ParseError`` on bad input, nothing else."""

    @abstractmethod
    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        """Join the squashed per-file records into packages (or a distro)."""

    def package_at(self, f: AnalyzedFile, **fields: Any) -> Package:
        """A package found by this analyzer, located at the file ``f`` was read from."""
        return Package(found_by=self.name, locations=(location(f.real_path, f.layer),), **fields)

    # -- encoding of records for the layer cache and the process pool --------------------
    def encode(self, record: Any) -> bytes:
        return msgspec.msgpack.encode(record)

    def decode(self, payload: bytes) -> Any:
        return msgspec.msgpack.decode(payload, type=self.record_type)


def unique_files(files: Mapping[str, AnalyzedFile]) -> list[AnalyzedFile]:
    """One AnalyzedFile per file actually read: a file reached through symlinks too
    (Debian's ``/usr/share/java/foo.jar -> foo-1.2.jar``) counts once, under its real path."""
    out: list[AnalyzedFile] = []
    seen: set[str] = set()
    for f in sorted(files.values(), key=lambda f: (f.path != f.real_path, f.path)):
        if f.real_path not in seen:
            seen.add(f.real_path)
            out.append(f)
    return out


def location(path: str, layer: LayerRef | None) -> Location:
    return Location(path=path, layer_diff_id=layer.diff_id if layer else None)
