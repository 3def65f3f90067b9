"""Java archives (``.jar .war .ear .par .jpi .hpi``), the archives nested in them, and JDK/JRE
``release`` files.

One archive is read from its bytes (the single pass hands every file with an archive suffix
to ``analyze_file``); archives inside it (``WEB-INF/lib/*.jar``, Spring Boot's
``BOOT-INF/lib/``, a shaded jar's ``META-INF/jars/``...) are opened in memory, to
``MAX_DEPTH`` levels. A package found in a nested archive is located at
``outer.jar!/BOOT-INF/lib/inner.jar`` (the ``!/`` notation of Java's own jar URLs).

What identifies the packages of one archive, best first (``JavaPackage.evidence``):

1. ``pom.properties`` (Maven writes ``META-INF/maven/<groupId>/<artifactId>/pom.properties``;
   any entry of that name is read): ``groupId``, ``artifactId``, ``version``, all three
   required. A shaded/fat jar has several: each is a package of that archive.
2. ``META-INF/MANIFEST.MF`` when there is no ``pom.properties``: the version from
   ``Implementation-Version``, ``Bundle-Version`` or ``Specification-Version``; the artifact
   from the file name, else ``Bundle-SymbolicName`` / ``Implementation-Title``; the group from
   ``Implementation-Vendor-Id``, else a ``Bundle-SymbolicName`` that ends in ``.<artifact>``.
3. the file name alone (``name-1.2.3.jar``), lowest confidence.

Without a group the purl has no namespace (``pkg:maven/heuristic@1.0.0-SNAPSHOT``): it is
reported (inventory) but cannot match Maven advisories, which name ``group:artifact``.

Bounds (hostile archives; each failure is recorded on the file, the scan goes on): at most
``MAX_ENTRIES`` central-directory entries per archive, ``MAX_DEPTH`` nesting levels,
``MAX_META_SIZE`` for a metadata entry, ``MAX_NESTED_SIZE`` for a nested archive, and
``MAX_INFLATE`` decompressed bytes for one outer archive and everything in it (a zip bomb stops
there); a nested archive that fails is noted and its siblings are still read.

``release`` files (``<jdk>/release``: ``JAVA_VERSION="17.0.9"``, ``IMPLEMENTOR=...``) give the
JDK/JRE itself as ``pkg:generic/<implementor>/jdk@<version>``.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from typing import Literal

import msgspec
from packageurl import PackageURL

from hullscan.analyzers.base import (
    AnalyzedFile,
    Analyzer,
    AssembleContext,
    Assembly,
    Interests,
    unique_files,
)
from hullscan.analyzers.base import location as make_location
from hullscan.errors import ParseError
from hullscan.model import JavaMeta, Package

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".jpi", ".hpi")
MAX_DEPTH = 8
MAX_ENTRIES = 200_000
MAX_META_SIZE = 1024 * 1024
MAX_NESTED_SIZE = 256 * 1024 * 1024
MAX_INFLATE = 1024 * 1024 * 1024
MAX_PACKAGES = 10_000
_MAX_RELEASE = 64 * 1024

Evidence = Literal["pom.properties", "manifest", "filename"]


class JavaPackage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One Maven artifact found in an archive. ``path``: the archive, nested ones as
    ``outer.jar!/inner.jar`` (relative to the outer archive's image path, which is added at
    assembly); empty for the outer archive itself."""

    artifact: str
    version: str
    group: str = ""
    evidence: Evidence
    path: str = ""


class JdkRelease(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    version: str
    implementor: str = ""


class JavaRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["archive", "jdk", "ignored"]
    packages: tuple[JavaPackage, ...] = ()
    jdk: JdkRelease | None = None
    errors: tuple[str, ...] = ()  # nested archives that could not be read (the rest was)


_IGNORED = JavaRecord(kind="ignored")

# What zipfile raises on a corrupt archive or entry (zlib.error is not a ValueError; an
# encrypted entry is a RuntimeError, an unknown compression method NotImplementedError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    IndexError,
    KeyError,
)


class _Budget:
    """Decompressed bytes left for one outer archive and everything nested in it."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, n: int, what: str) -> None:
        self.left -= n
        if self.left < 0:
            raise ParseError(f"{what}: more than {MAX_INFLATE} bytes decompressed (zip bomb?)")


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


# --------------------------------------------------------------------------- metadata files


def parse_properties(data: bytes) -> dict[str, str]:
    """Java ``.properties`` (the subset Maven writes: ``key=value``/``key: value``, ``#``/``!``
    comments, backslash line continuations; ISO-8859-1)."""
    text = data.decode("latin-1")
    out: dict[str, str] = {}
    logical: list[str] = []
    for raw in text.splitlines():
        line = raw.lstrip() if logical else raw.strip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical.append(line[:-1])
            continue
        logical.append(line)
        joined = "".join(logical).strip()
        logical = []
        m = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)\Z", joined)
        if m:
            out.setdefault(m.group(1), m.group(2).strip())
    return out


def parse_manifest(data: bytes) -> dict[str, str]:
    """The main section of a ``MANIFEST.MF`` (``Name: value``; a line starting with one space
    continues the previous one; the main section ends at the first empty line)."""
    text = data.decode("utf-8", errors="replace")
    out: dict[str, str] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line:
            break
        if line.startswith(" ") and key is not None:
            out[key] += line[1:]
            continue
        name, sep, value = line.partition(":")
        if not sep:
            key = None
            continue
        key = name.strip()
        out[key] = value.strip()
    return out


_FILENAME = re.compile(r"(?P<name>.+?)-(?P<version>\d[^-]*(?:-[^-]+)*?)\Z")


def name_version_from_filename(filename: str) -> tuple[str, str]:
    """``commons-lang3-3.11.jar`` -> (``commons-lang3``, ``3.11``); ``(stem, "")`` when there
    is no ``-<digit>...`` version part."""
    stem = filename
    for suffix in ARCHIVE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    m = _FILENAME.match(stem)
    if m is None:
        return stem, ""
    return m.group("name"), m.group("version")


_SAFE = re.compile(r"[\x21-\x7e]{1,256}\Z")  # printable ASCII, no spaces


def _clean(value: str | None) -> str:
    value = (value or "").strip()
    return value if _SAFE.match(value) else ""


def _from_manifest(manifest: Mapping[str, str], filename: str) -> JavaPackage | None:
    file_name, file_version = name_version_from_filename(filename)
    symbolic = _clean((manifest.get("Bundle-SymbolicName") or "").split(";", 1)[0])
    title = (manifest.get("Implementation-Title") or "").strip().lower().replace(" ", "-")
    version = _clean(
        manifest.get("Implementation-Version")
        or manifest.get("Bundle-Version")
        or manifest.get("Specification-Version")
    )
    evidence: Evidence = "manifest"
    if not version:
        version, evidence = file_version, "filename"
    artifact = _clean(file_name) if file_version else ""
    artifact = artifact or _clean(symbolic.rsplit(".", 1)[-1] if symbolic else "") or _clean(title)
    artifact = artifact or _clean(file_name)
    if not artifact or not version:
        return None
    group = _clean(manifest.get("Implementation-Vendor-Id"))
    if not group and symbolic.endswith("." + artifact):
        group = symbolic[: -len(artifact) - 1]
    return JavaPackage(artifact=artifact, version=version, group=group, evidence=evidence)


# --------------------------------------------------------------------------- archives


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: _Budget) -> bytes:
    """An entry's bytes. The declared size is checked (against ``limit`` and the budget)
    before anything is decompressed: ``zipfile`` never returns more than it, and a CRC or
    length mismatch is an error."""
    if info.file_size > limit:
        raise ParseError(f"{info.filename}: {info.file_size} bytes, over the limit of {limit}")
    budget.take(info.file_size, info.filename)
    with zf.open(info) as fh:
        return fh.read(limit + 1)


def scan_archive(
    data: bytes,
    filename: str,
    *,
    budget: _Budget | None = None,
    depth: int = 0,
    prefix: str = "",
) -> tuple[list[JavaPackage], list[str]]:
    """Packages of one archive and of the archives nested in it, and the nested archives that
    could not be read (``path: reason``). Raises ``ParseError`` when this archive itself is
    unreadable."""
    budget = budget or _Budget(MAX_INFLATE)
    what = prefix or filename
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise ParseError(f"{what}: not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ParseError(f"{what}: more than {MAX_ENTRIES} entries")
        packages: list[JavaPackage] = []
        errors: list[str] = []
        manifest: dict[str, str] = {}
        nested: list[zipfile.ZipInfo] = []
        try:
            for info in infos:
                name = info.filename
                if not name or name.endswith("/"):  # directories (zipfile's is_dir fails on "")
                    continue
                base = posixpath.basename(name)
                if base == "pom.properties":
                    props = parse_properties(_read_entry(zf, info, MAX_META_SIZE, budget))
                    group, artifact, version = (
                        _clean(props.get(k)) for k in ("groupId", "artifactId", "version")
                    )
                    if group and artifact and version:
                        packages.append(
                            JavaPackage(
                                artifact=artifact,
                                version=version,
                                group=group,
                                evidence="pom.properties",
                                path=prefix,
                            )
                        )
                elif name.upper() == "META-INF/MANIFEST.MF":
                    manifest = parse_manifest(_read_entry(zf, info, MAX_META_SIZE, budget))
                elif is_archive(name):
                    nested.append(info)
        except _ZIP_ERRORS as e:
            raise ParseError(f"{what}: corrupt entry ({e})") from None
        if not packages:
            found = _from_manifest(manifest, posixpath.basename(filename))
            if found is not None:
                packages.append(msgspec.structs.replace(found, path=prefix))
        for info in nested:
            inner_path = f"{prefix}!/{info.filename}"
            if depth + 1 > MAX_DEPTH:
                errors.append(f"{inner_path}: nested more than {MAX_DEPTH} archives deep")
                continue
            try:
                inner = _read_entry(zf, info, MAX_NESTED_SIZE, budget)
                more, more_errors = scan_archive(
                    inner, info.filename, budget=budget, depth=depth + 1, prefix=inner_path
                )
            except ParseError as exc:
                if budget.left < 0:
                    raise
                errors.append(f"{inner_path}: {exc}")
                continue
            except _ZIP_ERRORS as e:
                errors.append(f"{inner_path}: corrupt entry ({e})")
                continue
            packages += more
            errors += more_errors
            if len(packages) > MAX_PACKAGES:
                raise ParseError(f"{what}: more than {MAX_PACKAGES} packages")
    return packages, errors


# --------------------------------------------------------------------------- JDK release


_RELEASE_LINE = re.compile(r'([A-Z_]+)="?([^"\n]*)"?')


def parse_release(data: bytes) -> JdkRelease | None:
    """A JDK/JRE ``release`` file (``JAVA_VERSION="17.0.9"``); None for other ``release``
    files."""
    fields = dict(_RELEASE_LINE.findall(data[:_MAX_RELEASE].decode("utf-8", errors="replace")))
    version = _clean(fields.get("JAVA_RUNTIME_VERSION") or fields.get("JAVA_VERSION"))
    if not version or "JAVA_VERSION" not in fields:
        return None
    return JdkRelease(version=version, implementor=(fields.get("IMPLEMENTOR") or "").strip()[:100])


def maven_purl(group: str, artifact: str, version: str) -> str:
    purl: str = PackageURL(
        type="maven", namespace=group or None, name=artifact, version=version
    ).to_string()
    return purl


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class JavaAnalyzer(Analyzer):
    """Maven artifacts in Java archives (nested to any bounded depth) and JDK installs."""

    name = "lang/java"
    version = 1
    interests = Interests(suffixes=ARCHIVE_SUFFIXES, basenames=("release",))
    max_file_size = 256 * 1024 * 1024  # the outer archive is held in memory while read
    record_type = JavaRecord

    def analyze_file(self, path: str, data: bytes) -> JavaRecord:
        if posixpath.basename(path) == "release":
            jdk = parse_release(data) if len(data) <= _MAX_RELEASE else None
            return JavaRecord(kind="jdk", jdk=jdk) if jdk else _IGNORED
        if not is_archive(path):
            return _IGNORED
        packages, errors = scan_archive(data, posixpath.basename(path))
        return JavaRecord(kind="archive", packages=tuple(packages), errors=tuple(errors))

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):  # a symlinked jar (Debian's foo.jar) counts once
            rec = f.record
            if not isinstance(rec, JavaRecord) or rec.kind == "ignored":
                continue
            where = f.real_path
            for error in rec.errors:
                nested, _, reason = error.partition(": ")
                out.errors.append((where + nested, reason))
            if rec.jdk is not None:
                vendor = _slug(rec.jdk.implementor)
                purl = PackageURL(
                    type="generic", namespace=vendor or None, name="jdk", version=rec.jdk.version
                ).to_string()
                out.packages.append(
                    Package(
                        name="jdk",
                        version=rec.jdk.version,
                        type="generic",
                        purl=purl,
                        found_by=self.name,
                        locations=(make_location(where, f.layer),),
                    )
                )
            for p in rec.packages:
                name = f"{p.group}:{p.artifact}" if p.group else p.artifact
                out.packages.append(
                    Package(
                        name=name,
                        version=p.version,
                        type="maven",
                        purl=maven_purl(p.group, p.artifact, p.version),
                        found_by=self.name,
                        locations=(make_location(where + p.path, f.layer),),
                        metadata=JavaMeta(
                            evidence=p.evidence,
                            group_id=p.group or None,
                            artifact_id=p.artifact,
                        ),
                    )
                )
        return out
