"""Installed Ruby gems: the gem specifications RubyGems writes when it installs a gem,
``specifications/<name>-<version>[-<platform>].gemspec`` under any gem home
(``usr/lib/ruby/gems/3.1.0``, ``var/lib/gems/3.1.0``, ``usr/local/bundle``, Debian's
``usr/share/rubygems-integration/all`` and ``usr/lib/<triplet>/rubygems-integration/3.1.0``...),
and the default gems of a Ruby install in ``specifications/default/`` (gems that ship with Ruby
itself, ``json``, ``psych``, ``openssl``...: installed gems, with advisories of their own).

The interest is the suffix ``.gemspec`` (one ``str.endswith`` per tar member); ``analyze_file``
keeps only a file whose parent directory is ``specifications`` or ``specifications/default``.
Every other ``.gemspec`` (the hand-written one in a gem's source tree, ``gems/rack-2.2.4/
rack.gemspec``, a project's own) gives an ``ignored`` record.

A gemspec is Ruby code (``Gem::Specification.new do |s| s.name = "rack".freeze ...``). It is
NEVER executed: it is read as UTF-8 text (undecodable bytes replaced; RubyGems itself puts NUL
bytes in the ``# stub:`` comment) and only string literals are taken from it:

* ``<var>.name = <string>`` and ``<var>.version = <string>`` (or
  ``Gem::Version.new(<string>)``/``.create``), at the start of a line;
* ``<var>.licenses = [<string>, ...]`` (or one string, or ``%w[...]``) and
  ``<var>.license = <string>``;
* ``<string>``: ``"..."`` (escapes decoded; an interpolation ``#{...}`` makes it not a literal),
  ``'...'``, ``%q``/``%Q``/``%`` with any delimiter, each optionally followed by ``.freeze``.

A value is a literal only when the statement ends after it (end of line, a comment, ``;``, an
``if``/``unless`` modifier): ``s.version = "1.0" + suffix`` is not one. As in Ruby, the last
assignment of an attribute is the one that counts (``license`` and ``licenses`` are one
attribute); only that one is parsed.

When the name or version is not a literal (a hand-written spec: ``s.version = Foo::VERSION``),
the ``# stub: <name> <version> <platform> <paths>`` line RubyGems writes on line 1 or 2 (and
reads itself instead of evaluating the file) is used, if it names the same gem. A spec with no
name or version from either, a name that is not a RubyGems name (ASCII letters, digits,
``._-``; not starting with ``._-``; at least one letter) or a version that does not match
``Gem::Version``'s pattern raises ``ParseError``. The version is normalized as
``Gem::Version.new`` does (surrounding blanks stripped, ``-`` read as ``.pre.``: ``1.0-rc1`` is
``1.0.pre.rc1``; RubyGems writes installed specs that way already). Licenses that are not
literals, blank, longer than ``_MAX_LICENSE`` or with control characters are left out.

Bounds: the file size (``MAX_SIZE``, also the analyzer's ``max_file_size``), one string literal
(``_MAX_LITERAL`` characters; longer is not a literal), one license list (``_MAX_VALUE``
characters and ``_MAX_LICENSES`` entries; a longer one is not read). Only the last assignment of
each attribute is parsed, so the work is linear in the file size whatever its content.

Packages: type ``gem`` (OSV ecosystem ``RubyGems``), purl ``pkg:gem/<name>@<version>`` (names
are case-sensitive and kept as written; the platform of a native gem is not a qualifier), located
at the gemspec. A gem installed in two gem homes is two packages, one per gemspec.
"""

from __future__ import annotations

import re
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
from hullscan.errors import ParseError

MAX_SIZE = 1024 * 1024
_MAX_LITERAL = 4096
_MAX_VALUE = 64 * 1024
_MAX_LICENSES = 64
_MAX_LICENSE = 200
# Gem::Specification's VALID_NAME_PATTERN, plus its other checks (a letter; no leading ._-).
_NAME_RE = re.compile(r"(?=[A-Za-z0-9._-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9._-]{0,199}\Z")
# Gem::Version::VERSION_PATTERN (the empty version, which Ruby reads as "0", is refused).
_VERSION_RE = re.compile(r"[0-9]+(?:\.[0-9A-Za-z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z")

# `  s.name = `, `spec.licenses=`; not `==`, `=>`, `=~`.
_ASSIGN = re.compile(
    r"^[ \t]{0,64}[A-Za-z_][A-Za-z0-9_]{0,63}\.(name|version|licenses|license)"
    r"[ \t]*=(?![=>~])[ \t]*",
    re.MULTILINE,
)
_VERSION_CALL = re.compile(r"(?:::)?Gem::Version\.(?:new|create)(?:[ \t]*(\()|[ \t])[ \t]*")
_PERCENT = re.compile(r"%([qQ]?)([^A-Za-z0-9\s])")
_PERCENT_W = re.compile(r"%[wW]([^A-Za-z0-9\s])")
# After an unescaped `#` in a double-quoted string: `#{expr}`, `#@ivar`, `#@@cvar`, `#$global`.
_INTERPOLATION = re.compile(r"\{|@@?[A-Za-z_]|\$[^\s]")
_UNICODE = re.compile(
    r"\{[ \t]*([0-9A-Fa-f]{1,6}(?:[ \t]+[0-9A-Fa-f]{1,6})*)[ \t]*\}|([0-9A-Fa-f]{4})"
)
_HEX = re.compile(r"[0-9A-Fa-f]{1,2}")
_OCTAL = re.compile(r"[0-7]{1,3}")
_FREEZE = re.compile(r"\.freeze\b")
_CALL_END = re.compile(r"[ \t]*\)|")
# What may follow a value: the end of the line, a comment, `;`, an `if`/`unless` modifier.
_END = re.compile(r"[ \t]*(?:\r?$|#|;|(?:if|unless)\b)", re.MULTILINE)
_SPACE = re.compile(r"(?:[ \t\r\n]|#[^\n]*\n)*")  # blanks, newlines and comments in an array
_STUB = "# stub: "
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "e": "\x1b", "s": " ", "a": "\a", "b": "\b", "f": "\f",
    "v": "\v",
}  # fmt: skip


class GemRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    kind: Literal["package", "ignored"]
    name: str = ""
    version: str = ""
    licenses: tuple[str, ...] = ()


_IGNORED = GemRecord(kind="ignored")


def is_installed_spec(path: str) -> bool:
    """``.../specifications/<x>.gemspec`` or ``.../specifications/default/<x>.gemspec``."""
    parts = path.split("/")
    if len(parts) < 2 or not parts[-1].endswith(".gemspec") or parts[-1] == ".gemspec":
        return False
    if parts[-2] == "specifications":
        return True
    return len(parts) >= 3 and parts[-2] == "default" and parts[-3] == "specifications"


# --------------------------------------------------------------------------- string literals


def _unescape_double(body: str) -> str | None:
    """A double-quoted (``"..."``, ``%Q``) literal's value; None when it interpolates."""
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        i += 1
        if c == "#" and _INTERPOLATION.match(body, i):
            return None
        if c != "\\":
            out += c.encode()
            continue
        if i >= n:
            return None
        e = body[i]
        i += 1
        if e in _ESCAPES:
            out += _ESCAPES[e].encode()
        elif e == "\n":
            pass  # line continuation
        elif e == "u":
            m = _UNICODE.match(body, i)
            if m is None:
                return None
            i = m.end()
            for code in (m.group(1) or m.group(2)).split():
                cp = int(code, 16)
                if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                    return None
                out += chr(cp).encode()
        elif e == "x":
            m = _HEX.match(body, i)
            if m is None:
                return None
            i = m.end()
            out.append(int(m.group(), 16))
        elif e in "01234567":
            m = _OCTAL.match(body, i - 1)
            end = m.end() if m else i
            out.append(int(body[i - 1 : end], 8) & 0xFF)
            i = end
        else:  # \" \\ \# and unknown escapes: the character itself
            out += e.encode()
    return out.decode("utf-8", errors="replace")


def _unescape_single(body: str, open_: str, close: str) -> str:
    """A single-quoted (``'...'``, ``%q``) literal: only ``\\\\`` and escaped delimiters."""
    return re.sub(r"\\([\\" + re.escape(open_ + close) + "])", r"\1", body)


def _find_close(text: str, start: int, open_: str, close: str) -> int:
    """Index of the delimiter closing a literal whose body starts at ``start`` (brackets nest,
    backslash escapes); -1 when not within ``_MAX_LITERAL`` characters."""
    depth = 0
    end = min(len(text), start + _MAX_LITERAL)
    i = start
    while i < end:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == close and depth == 0:
            return i
        if open_ != close:
            if c == open_:
                depth += 1
            elif c == close:
                depth -= 1
        i += 1
    return -1


def read_literal(text: str, pos: int) -> tuple[str | None, int]:
    """The Ruby string literal at ``text[pos]`` (``.freeze`` after it skipped): its value and
    where it ends. ``(None, pos)`` when there is no plain literal there."""
    c = text[pos : pos + 1]
    if c in ('"', "'"):
        open_ = close = c
        double = c == '"'
        start = pos + 1
    elif c == "%":
        m = _PERCENT.match(text, pos)
        if m is None:
            return None, pos
        open_ = m.group(2)
        close = _PAIRS.get(open_, open_)
        double = m.group(1) != "q"
        start = m.end()
    else:
        return None, pos
    end = _find_close(text, start, open_, close)
    if end < 0:
        return None, pos
    body = text[start:end]
    value = _unescape_double(body) if double else _unescape_single(body, open_, close)
    return value, _after_freeze(text, end + 1)


def _read_list(text: str, pos: int) -> tuple[list[str] | None, int]:
    """``[<literal>, ...]``, ``%w[a b]`` or a single literal at ``pos`` and where it ends;
    ``(None, pos)`` when the value is anything else (a constant, a method call, an
    interpolated string, more than ``_MAX_LICENSES`` entries)."""
    limit = pos + _MAX_VALUE
    m = _PERCENT_W.match(text, pos)
    if m is not None:
        close = _PAIRS.get(m.group(1), m.group(1))
        end = _find_close(text, m.end(), m.group(1), close)
        words = text[m.end() : end].split() if end >= 0 else []
        if end < 0 or len(words) > _MAX_LICENSES:
            return None, pos
        return words, _after_freeze(text, end + 1)
    if not text.startswith("[", pos):
        value, end = read_literal(text, pos)
        return (None, pos) if value is None else ([value], end)
    out: list[str] = []
    i = _skip_space(text, pos + 1, limit)
    while not text.startswith("]", i):
        if i >= limit or len(out) >= _MAX_LICENSES:
            return None, pos
        value, end = read_literal(text, i)
        if value is None:
            return None, pos
        out.append(value)
        i = _skip_space(text, end, limit)
        if text.startswith(",", i):
            i = _skip_space(text, i + 1, limit)
        elif not text.startswith("]", i):
            return None, pos
    return out, _after_freeze(text, i + 1)


def _after_freeze(text: str, pos: int) -> int:
    m = _FREEZE.match(text, pos)
    return m.end() if m else pos


def _skip_space(text: str, pos: int, limit: int) -> int:
    m = _SPACE.match(text, pos, limit)
    return m.end() if m else pos


# --------------------------------------------------------------------------- gemspecs


def _clean_license(value: str) -> str | None:
    value = value.strip()
    if not value or len(value) > _MAX_LICENSE or not value.isprintable():
        return None
    return value


def read_stub(text: str) -> tuple[str, str] | None:
    """Name and version from RubyGems' ``# stub:`` line (line 1, or 2 after the encoding
    comment)."""
    for line in text[:4096].split("\n", 2)[:2]:
        if line.startswith(_STUB):
            fields = line[len(_STUB) :].split(" ")
            if len(fields) >= 2:
                return fields[0], fields[1].strip()
    return None


def _statement_ends(text: str, pos: int) -> bool:
    """Nothing but the end of the statement after a value: ``s.version = "1" + x`` is not a
    literal."""
    return _END.match(text, pos) is not None


def _read_value(text: str, key: str, pos: int) -> str | list[str] | None:
    """The literal value assigned at ``pos`` (a list for licenses); None when it is not one."""
    value: str | list[str] | None
    if key == "license":
        value, end = _read_list(text, pos)
    elif key == "version" and (call := _VERSION_CALL.match(text, pos)) is not None:
        value, end = read_literal(text, call.end())
        closing = _CALL_END.match(text, end)
        if closing is None or bool(call.group(1)) != bool(closing.group()):
            return None
        end = closing.end()
    else:
        value, end = read_literal(text, pos)
    return value if value is not None and _statement_ends(text, end) else None


def parse_gemspec(data: bytes, what: str = "gemspec") -> GemRecord:
    """Name, version and licenses of one gem specification, read as text (never run)."""
    if len(data) > MAX_SIZE:
        raise ParseError(f"{what}: {len(data)} bytes, over the limit of {MAX_SIZE}")
    text = data.decode("utf-8", errors="replace")
    # The last assignment of each attribute is the one Ruby keeps; only that one is parsed.
    last: dict[str, int] = {}
    for m in _ASSIGN.finditer(text):
        last["license" if m.group(1).startswith("license") else m.group(1)] = m.end()
    values = {key: _read_value(text, key, pos) for key, pos in last.items()}
    name, version, licenses = values.get("name"), values.get("version"), values.get("license")
    if not isinstance(name, str) or not isinstance(version, str):
        stub = read_stub(text)
        if stub is not None and (not isinstance(name, str) or name == stub[0]):
            name, version = stub
    if not isinstance(name, str) or not isinstance(version, str):
        raise ParseError(f"{what}: no literal name and version (not a RubyGems-written spec?)")
    version = version.strip()
    if not _NAME_RE.match(name):
        raise ParseError(f"{what}: invalid gem name {name[:60]!r}")
    if len(version) > 128 or not _VERSION_RE.match(version):
        raise ParseError(f"{what}: invalid version {version[:60]!r}")
    version = version.replace("-", ".pre.")  # as Gem::Version.new does: 1.0-rc1 is 1.0.pre.rc1
    cleaned = (x for x in map(_clean_license, licenses or ()) if x)
    return GemRecord(
        kind="package", name=name, version=version, licenses=tuple(dict.fromkeys(cleaned))
    )


def gem_purl(name: str, version: str) -> str:
    purl: str = PackageURL(type="gem", name=name, version=version).to_string()
    return purl


class RubyGemsAnalyzer(Analyzer):
    """Installed Ruby gems (gem specifications of every gem home, default gems included)."""

    name = "lang/ruby"
    version = 1
    interests = Interests(suffixes=(".gemspec",))
    max_file_size = MAX_SIZE
    record_type = GemRecord

    def analyze_file(self, path: str, data: bytes) -> GemRecord:
        if not is_installed_spec(path):
            return _IGNORED
        return parse_gemspec(data, path)

    def assemble(self, files: Mapping[str, AnalyzedFile], context: AssembleContext) -> Assembly:
        out = Assembly()
        for f in unique_files(files):  # a symlinked gemspec counts once
            rec = f.record
            if not isinstance(rec, GemRecord) or rec.kind != "package":
                continue
            out.packages.append(
                self.package_at(
                    f,
                    name=rec.name,
                    version=rec.version,
                    type="gem",
                    purl=gem_purl(rec.name, rec.version),
                    licenses=rec.licenses,
                )
            )
        return out
