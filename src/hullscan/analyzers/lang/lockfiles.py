"""Declared packages: lock files and pinned requirements, what a project asked for.

Read anywhere in the image except inside ``node_modules`` (packages ship lock files npm never
uses). Each package found is reported with ``relationship="declared"`` and located at its
lock file; ``metadata`` (``LockMeta``) names the lock format and whether the entry is a
development dependency. Whether the declared packages are installed, and at which version, is
decided once every analyzer has run (``hullscan.analyzers.drift``).

Formats (parsers below; each bounded by the analyzer's file size limit and raising
``ParseError`` on anything it cannot read):

=========================  =====================================================================
file                       what is read
=========================  =====================================================================
``requirements*.txt``      lines pinned with ``==``/``===`` (parsed by ``packaging``'s PEP 508
                           parser; ``-r``/``-e``/options, unpinned and URL requirements skipped)
``poetry.lock``            ``[[package]]`` name, version, ``category``/``groups`` (dev)
``Pipfile.lock``           every category (``develop`` is dev) with ``version: ==x``
``uv.lock``                ``[[package]]`` name, version (``editable``/``virtual`` sources: the
                           project itself, skipped); dev when only the project's
                           ``dev-dependencies`` reach it in the dependency graph
``pdm.lock``               ``[[package]]`` name, version, ``groups``
``package-lock.json``      v1 ``dependencies`` tree; v2/v3 ``packages`` (``node_modules/...``
                           entries; links and workspace folders skipped), ``dev``/``devOptional``
``yarn.lock``              v1 (yarn's own format) and berry (YAML, ``__metadata``); workspace
                           and ``patch:`` duplicates skipped
``pnpm-lock.yaml``         v5 (``/name/version``), v6 (``/name@version``), v9 (``name@version``)
=========================  =====================================================================

YAML is read with a safe loader that refuses aliases (no lock format uses them; they are how
"billion laughs" documents explode).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import msgspec
import yaml
from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement

from hullscan.analyzers.base import (
    AnalyzedFile,
    Analyzer,
    AssembleContext,
    Assembly,
    Interests,
    unique_files,
)
from hullscan.errors import ParseError
from hullscan.model import LockMeta
from hullscan.model.namespaces import normalize_package

MAX_ENTRIES = 100_000
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_~!-]{0,127}\Z")
_NPM_NAME = re.compile(r"(?:@[A-Za-z0-9~._-]+/)?[A-Za-z0-9~._-][A-Za-z0-9._~!*'()-]{0,213}\Z")
_PY_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")


class Declared(msgspec.Struct, frozen=True, array_like=True):
    type: str  # purl type: pypi, npm
    name: str
    version: str
    dev: bool = False


class LockRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["lock", "ignored"]
    format: str = ""
    packages: tuple[Declared, ...] = ()


_IGNORED = LockRecord(kind="ignored")


# --------------------------------------------------------------------------- helpers


def _json(data: bytes, what: str) -> Any:
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{what}: not JSON ({str(exc)[:100]})") from None
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None


def _toml(data: bytes, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{what}: not TOML ({str(exc)[:100]})") from None
    except RecursionError:
        raise ParseError(f"{what}: TOML nested too deeply") from None


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ParseError("YAML aliases are not allowed in lock files")
        return super().compose_node(parent, index)


def _yaml(data: bytes, what: str) -> Any:
    try:
        return yaml.load(data.decode("utf-8"), Loader=_NoAliasLoader)  # noqa: S506
    except ParseError as exc:
        raise ParseError(f"{what}: {exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"{what}: not YAML ({str(exc)[:100]})") from None
    except RecursionError:
        raise ParseError(f"{what}: YAML nested too deeply") from None


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected a mapping")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ParseError(f"{what}: expected a list")
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _declared(kind: str, name: str | None, version: str | None, dev: bool) -> Declared | None:
    """A package, or None for an entry that names no registry version (git, path, URL...)."""
    if not name or not version or not _VERSION.match(version):
        return None
    if kind == "npm" and not _NPM_NAME.match(name):
        return None
    if kind == "pypi" and not _PY_NAME.match(name):
        return None
    return Declared(kind, name, version, dev)


def _collect(items: Iterator[Declared | None], what: str) -> tuple[Declared, ...]:
    out: dict[tuple[str, str, str], Declared] = {}
    for d in items:
        if d is None:
            continue
        key = (d.type, d.name, d.version)
        prior = out.get(key)
        if prior is None or (prior.dev and not d.dev):
            out[key] = d  # a package needed at runtime by anything is not a dev package
        if len(out) > MAX_ENTRIES:
            raise ParseError(f"{what}: more than {MAX_ENTRIES} packages")
    return tuple(sorted(out.values(), key=lambda d: (d.name, d.version)))


# --------------------------------------------------------------------------- Python


def parse_requirements(data: bytes, what: str) -> tuple[Declared, ...]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what}: not UTF-8") from None

    def lines() -> Iterator[str]:
        pending = ""
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            yield (pending + line).strip()
            pending = ""
        if pending:
            yield pending.strip()

    def items() -> Iterator[Declared | None]:
        for line in lines():
            if not line or line.startswith("-"):
                continue
            spec = line.split(" --", 1)[0].strip()  # per-requirement options (--hash=...)
            try:
                req = Requirement(spec)
            except InvalidRequirement:
                continue  # pip accepts more (URLs, paths): nothing pinned to read there
            if req.url:
                continue
            pins = [s for s in req.specifier if s.operator in ("==", "===")]
            if len(pins) != 1 or len(req.specifier) != 1 or "*" in pins[0].version:
                continue
            yield _declared("pypi", req.name, pins[0].version, False)

    return _collect(items(), what)


def _toml_packages(
    data: bytes,
    what: str,
    classify: Callable[[dict[str, Any]], bool | None],
    kind: str = "pypi",
) -> tuple[Declared, ...]:
    """``[[package]]`` tables (poetry, pdm, uv); ``classify`` says dev (True/False) or skip
    (None)."""
    doc = _toml(data, what)

    def items() -> Iterator[Declared | None]:
        for p in _list(doc.get("package", []), what):
            if not isinstance(p, dict):
                continue
            dev = classify(p)
            if dev is not None:
                yield _declared(kind, _str(p.get("name")), _str(p.get("version")), dev)

    return _collect(items(), what)


def _poetry_dev(p: dict[str, Any]) -> bool:
    groups = p.get("groups")
    return p.get("category") == "dev" or (
        isinstance(groups, list) and bool(groups) and "main" not in groups
    )


def _pdm_dev(p: dict[str, Any]) -> bool:
    groups = p.get("groups")
    return isinstance(groups, list) and bool(groups) and "default" not in groups


def _uv_kind(p: dict[str, Any]) -> bool | None:
    source = p.get("source")
    if isinstance(source, dict) and ({"editable", "virtual"} & set(source)):
        return None  # the project itself (and workspace members)
    return False


def parse_poetry_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    return _toml_packages(data, what, _poetry_dev)


def parse_pdm_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    return _toml_packages(data, what, _pdm_dev)


def parse_uv_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    """uv records dev groups only on the project's own entries (``dev-dependencies``): a
    package is dev when only the dev groups reach it through the dependency graph."""
    doc = _toml(data, what)
    entries = [p for p in _list(doc.get("package", []), what) if isinstance(p, dict)]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for p in entries:
        name = _str(p.get("name"))
        if name:
            by_name.setdefault(name, []).append(p)

    def refs(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, list):
            yield from (r for r in value if isinstance(r, dict))
        elif isinstance(value, dict):  # {group or extra: [refs]}
            for group in value.values():
                yield from refs(group)

    def reach(roots: list[dict[str, Any]]) -> set[int]:
        seen: set[int] = set()
        todo = list(roots)
        while todo:
            ref = todo.pop()
            for p in by_name.get(_str(ref.get("name")) or "", ()):
                if ref.get("version") not in (None, p.get("version")) or id(p) in seen:
                    continue
                seen.add(id(p))
                todo.extend(refs(p.get("dependencies")))
                extras = ref.get("extra")
                optional = p.get("optional-dependencies")
                if isinstance(extras, list) and isinstance(optional, dict):
                    for extra in extras:
                        todo.extend(refs(optional.get(extra)))
        return seen

    projects = [p for p in entries if _uv_kind(p) is None]
    runtime_roots = [r for p in projects for key in ("dependencies", "optional-dependencies")
                     for r in refs(p.get(key))]  # fmt: skip
    dev_roots = [r for p in projects for r in refs(p.get("dev-dependencies"))]
    runtime_ids, dev_ids = reach(runtime_roots), reach(dev_roots)

    def items() -> Iterator[Declared | None]:
        for p in entries:
            if _uv_kind(p) is None:
                continue
            dev = id(p) in dev_ids and id(p) not in runtime_ids
            yield _declared("pypi", _str(p.get("name")), _str(p.get("version")), dev)

    return _collect(items(), what)


def parse_pipfile_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    doc = _dict(_json(data, what), what)

    def items() -> Iterator[Declared | None]:
        # "default", "develop" (dev) and any custom category pipenv locked (runtime)
        for section, entries in doc.items():
            if section == "_meta" or not isinstance(entries, dict):
                continue
            dev = section == "develop"
            for name, entry in entries.items():
                version = _str(entry.get("version")) if isinstance(entry, dict) else None
                if version and version.startswith("=="):
                    yield _declared("pypi", name, version[2:].strip(), dev)

    return _collect(items(), what)


# --------------------------------------------------------------------------- npm


def _npm_name_from_path(path: str) -> str:
    """``node_modules/a/node_modules/@s/b`` -> ``@s/b``."""
    return path.rsplit("node_modules/", 1)[-1]


def parse_package_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    doc = _dict(_json(data, what), what)
    packages = doc.get("packages")

    def v1(deps: Any, depth: int = 0) -> Iterator[Declared | None]:
        if depth > 256:
            raise ParseError(f"{what}: dependencies nested too deeply")
        if not isinstance(deps, dict):
            return
        for name, entry in deps.items():
            if not isinstance(entry, dict):
                continue
            dev = bool(entry.get("dev"))
            yield _declared("npm", name, _str(entry.get("version")), dev)
            yield from v1(entry.get("dependencies"), depth + 1)

    def v2(entries: dict[str, Any]) -> Iterator[Declared | None]:
        for path, entry in entries.items():
            if not path or "node_modules/" not in path or not isinstance(entry, dict):
                continue  # the root project, workspace folders
            if entry.get("link"):
                continue  # a symlink to a workspace folder
            dev = bool(entry.get("dev") or entry.get("devOptional"))
            name = _str(entry.get("name")) or _npm_name_from_path(path)
            yield _declared("npm", name, _str(entry.get("version")), dev)

    if isinstance(packages, dict):
        return _collect(v2(packages), what)
    return _collect(v1(doc.get("dependencies")), what)


_YARN_HEADER = re.compile(r"^(?![ #])(.+):\s*$")
_YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')


def _yarn_name(specifier: str) -> str:
    """``"@babel/core@^7.0.0"`` -> ``@babel/core``; ``lodash@npm:^4`` -> ``lodash``."""
    spec = specifier.strip().strip('"')
    at = spec.find("@", 1)
    return spec[:at] if at > 0 else spec


def parse_yarn_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what}: not UTF-8") from None
    if "__metadata:" in text:
        return _parse_yarn_berry(data, what)

    def items() -> Iterator[Declared | None]:
        name: str | None = None
        for line in text.splitlines():
            header = _YARN_HEADER.match(line)
            if header:
                name = _yarn_name(header.group(1).split(",")[0])
                continue
            if name is not None:
                version = _YARN_VERSION.match(line)
                if version:
                    yield _declared("npm", name, version.group(1), False)
                    name = None

    return _collect(items(), what)


def _parse_yarn_berry(data: bytes, what: str) -> tuple[Declared, ...]:
    doc = _dict(_yaml(data, what), what)

    def items() -> Iterator[Declared | None]:
        for key, entry in doc.items():
            if key == "__metadata" or not isinstance(entry, dict):
                continue
            resolution = _str(entry.get("resolution")) or str(key).split(",")[0]
            if "@workspace:" in resolution or "@patch:" in resolution:
                continue  # the project's own packages; patched copies of listed ones
            version = entry.get("version")
            yield _declared("npm", _yarn_name(resolution), _str(str(version)), False)

    return _collect(items(), what)


_PNPM_PEERS = re.compile(r"\(.*\)\Z")


def _pnpm_key(key: str, major: int) -> tuple[str, str] | None:
    """(name, version) of a ``packages`` key of lockfile format ``major``."""
    key = _PNPM_PEERS.sub("", key.lstrip("/"))
    if major <= 5:  # /name/version[_peer@x]
        name, _, version = key.rpartition("/")
        version = version.split("_", 1)[0]
    else:  # /name@version (6), name@version (9)
        at = key.rfind("@")
        if at <= 0:
            return None
        name, version = key[:at], key[at + 1 :]
    return (name, version) if name else None


def parse_pnpm_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    doc = _dict(_yaml(data, what), what)
    raw = doc.get("lockfileVersion")
    try:
        major = int(float(str(raw).split(".")[0]))
    except ValueError:
        raise ParseError(f"{what}: lockfileVersion {str(raw)[:20]!r}") from None
    packages = doc.get("packages") or {}
    if not isinstance(packages, dict):
        raise ParseError(f"{what}: packages is not a mapping")

    def items() -> Iterator[Declared | None]:
        for key, entry in packages.items():
            parsed = _pnpm_key(str(key), major)
            if parsed is None:
                continue
            name, version = parsed
            if isinstance(entry, dict):
                # tarball, git and file: packages say their name and version in the entry
                name = _str(entry.get("name")) or name
                version = _str(entry.get("version")) or version
            dev = isinstance(entry, dict) and entry.get("dev") is True
            yield _declared("npm", name, version, dev)

    return _collect(items(), what)


# --------------------------------------------------------------------------- other ecosystems


def parse_cargo_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    """``[[package]]`` with a ``source`` (registry or git); workspace crates have none."""
    return _toml_packages(
        data, what, lambda p: False if isinstance(p.get("source"), str) else None, "cargo"
    )


_GEM_SPEC = re.compile(r"^    ([A-Za-z0-9][A-Za-z0-9._-]*) \(([^)\s]+)\)\s*$")


def parse_gemfile_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    """The ``specs:`` of the ``GEM`` sections: ``    name (version[-platform])`` (4 spaces;
    6-space lines are their dependencies). GIT/PATH sections are the project's own sources."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what}: not UTF-8") from None

    def items() -> Iterator[Declared | None]:
        section = ""
        for line in text.splitlines():
            if line and not line[0].isspace():
                section = line.strip()
                continue
            if section != "GEM":
                continue
            m = _GEM_SPEC.match(line)
            if m:
                version = m.group(2)
                for platform in ("-x86_64", "-aarch64", "-arm64", "-java", "-x86", "-universal"):
                    cut = version.find(platform)
                    if cut > 0:
                        version = version[:cut]
                yield _declared("gem", m.group(1), version, False)

    return _collect(items(), what)


def parse_composer_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    doc = _dict(_json(data, what), what)

    def items() -> Iterator[Declared | None]:
        for key, dev in (("packages", False), ("packages-dev", True)):
            for p in _list(doc.get(key) or [], what):
                if isinstance(p, dict):
                    name = _str(p.get("name"))
                    yield _declared("composer", name.lower() if name else None,
                                    _str(p.get("version")), dev)  # fmt: skip

    return _collect(items(), what)


def parse_nuget_lock(data: bytes, what: str) -> tuple[Declared, ...]:
    """``packages.lock.json``: ``dependencies.<framework>.<Name>.resolved`` (``Project``
    entries are the solution's own projects)."""
    doc = _dict(_json(data, what), what)
    frameworks = _dict(doc.get("dependencies") or {}, what)

    def items() -> Iterator[Declared | None]:
        for deps in frameworks.values():
            if not isinstance(deps, dict):
                continue
            for name, entry in deps.items():
                if isinstance(entry, dict) and entry.get("type") != "Project":
                    yield _declared("nuget", name, _str(entry.get("resolved")), False)

    return _collect(items(), what)


_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([^\s()]+)\s+(v[^\s]+)(\s*//.*)?$")
_GO_REPLACE = re.compile(r"^\s*(?:replace\s+)?([^\s()]+)(?:\s+v\S+)?\s*=>\s*(\S+)(?:\s+(v\S+))?")


def parse_go_mod(data: bytes, what: str) -> tuple[Declared, ...]:
    """``require`` lines and blocks (``// indirect`` ones included), with ``replace``
    directives applied (a replacement by a local path keeps the required module)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what}: not UTF-8") from None
    required: list[tuple[str, str]] = []
    replaced: dict[str, tuple[str, str]] = {}
    block = ""
    for raw in text.splitlines():
        line = raw.strip()
        if block:
            if line.startswith(")"):
                block = ""
                continue
        elif line.startswith(("require (", "replace (")):
            block = line.split()[0]
            continue
        kind = block or line.split(" ", 1)[0]
        if kind == "require":
            m = _GO_REQUIRE.match(line)
            if m:
                required.append((m.group(1), m.group(2)))
        elif kind == "replace":
            m = _GO_REPLACE.match(line)
            if m and m.group(3):
                replaced[m.group(1)] = (m.group(2), m.group(3))
    if len(required) > MAX_ENTRIES:
        raise ParseError(f"{what}: more than {MAX_ENTRIES} modules")
    return _collect(
        (_declared("golang", *replaced.get(path, (path, version)), False)
         for path, version in required),
        what,
    )  # fmt: skip


def parse_gradle_lockfile(data: bytes, what: str) -> tuple[Declared, ...]:
    """``group:artifact:version=configurations`` lines (``empty=`` and comments skipped)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what}: not UTF-8") from None

    def items() -> Iterator[Declared | None]:
        for line in text.splitlines():
            coords, sep, configs = line.strip().partition("=")
            if not sep or line.startswith("#") or coords == "empty":
                continue
            parts = coords.split(":")
            if len(parts) == 3:
                names = [c.strip() for c in configs.split(",") if c.strip()]
                dev = bool(names) and all(c.startswith("test") for c in names)
                yield _declared("maven", f"{parts[0]}:{parts[1]}", parts[2], dev)

    return _collect(items(), what)


# --------------------------------------------------------------------------- analyzer

_Parser = Callable[[bytes, str], tuple[Declared, ...]]
PARSERS: dict[str, tuple[str, _Parser]] = {
    "poetry.lock": ("poetry.lock", parse_poetry_lock),
    "Pipfile.lock": ("Pipfile.lock", parse_pipfile_lock),
    "uv.lock": ("uv.lock", parse_uv_lock),
    "pdm.lock": ("pdm.lock", parse_pdm_lock),
    "package-lock.json": ("package-lock.json", parse_package_lock),
    "yarn.lock": ("yarn.lock", parse_yarn_lock),
    "pnpm-lock.yaml": ("pnpm-lock.yaml", parse_pnpm_lock),
    "Cargo.lock": ("Cargo.lock", parse_cargo_lock),
    "Gemfile.lock": ("Gemfile.lock", parse_gemfile_lock),
    "composer.lock": ("composer.lock", parse_composer_lock),
    "packages.lock.json": ("packages.lock.json", parse_nuget_lock),
    "go.mod": ("go.mod", parse_go_mod),
    "gradle.lockfile": ("gradle.lockfile", parse_gradle_lockfile),
}
_REQUIREMENTS = re.compile(r"requirements[\w.-]*\.txt\Z")


def parser_for(path: str) -> tuple[str, _Parser] | None:
    base = posixpath.basename(path)
    if "node_modules/" in path or path.startswith("node_modules"):
        return None
    if base in PARSERS:
        return PARSERS[base]
    if _REQUIREMENTS.match(base):
        return "requirements.txt", parse_requirements
    return None


def purl_of(d: Declared) -> str:
    if d.type == "npm":
        scope, slash, base = d.name.rpartition("/")
        url: str = PackageURL(
            type="npm", namespace=scope if slash else None, name=base, version=d.version
        ).to_string()
        return url
    namespace: str | None = None
    name = d.name
    if d.type == "pypi":
        name = normalize_package("pypi", d.name)
    elif d.type == "maven":
        namespace, _, name = d.name.partition(":")
    elif d.type in ("golang", "composer"):
        namespace, _, name = d.name.rpartition("/")
    url = PackageURL(
        type=d.type, namespace=namespace or None, name=name, version=d.version
    ).to_string()
    return url


class LockfileAnalyzer(Analyzer):
    """Declared packages of projects (lock files, pinned requirements, ``go.mod``)."""

    name = "lang/lockfiles"
    version = 1
    interests = Interests(basenames=tuple(PARSERS), basename_patterns=(("requirements", ".txt"),))
    max_file_size = 32 * 1024 * 1024
    record_type = LockRecord

    def analyze_file(self, path: str, data: bytes) -> LockRecord:
        found = parser_for(path)
        if found is None:
            return _IGNORED
        fmt, parse = found
        return LockRecord(kind="lock", format=fmt, packages=parse(data, path))

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):
            rec = f.record
            if not isinstance(rec, LockRecord) or rec.kind != "lock":
                continue
            for d in rec.packages:
                out.packages.append(
                    self.package_at(
                        f,
                        name=d.name,
                        version=d.version,
                        type=d.type,
                        purl=purl_of(d),
                        metadata=LockMeta(format=rec.format, dev=d.dev),
                        relationship="declared",
                    )
                )
        return out
