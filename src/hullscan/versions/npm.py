"""npm versions (node-semver, strict mode) and npm range matching.

Versions are SemVer 2.0.0 as node-semver's ``new SemVer(v)`` reads them: surrounding whitespace
is dropped, one leading ``v`` is allowed, numbers have no leading zeros and are at most
``Number.MAX_SAFE_INTEGER``, the whole string is at most 256 characters. Precedence is SemVer's
(build metadata ignored). node-semver turns numeric pre-release identifiers into JavaScript
numbers, so identifiers past 2**53 compare as doubles; the key does the same.

:func:`satisfies` is node-semver's ``satisfies(version, range)`` without options: ``||`` sets,
hyphen ranges ``a - b``, ``^``, ``~`` / ``~>``, x-ranges (``1.x``, ``1.2.*``, ``*``, ``""``) and
the primitives ``< <= > >= =``, with node-semver's rule that a pre-release version only matches
a comparator set naming a pre-release of the same ``major.minor.patch``. It raises
:class:`VersionParseError` where node-semver would return ``false`` for an unparsable version or
range, since "cannot tell" must not read as "not affected".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hullscan.versions._base import Key, VersionParseError, check_text

if TYPE_CHECKING:
    from collections.abc import Callable

SCHEME = "npm"

_MAX_LENGTH = 256
_MAX_SAFE_INTEGER = 2**53 - 1


def _compile(src: str, *, safe: bool = True) -> re.Pattern[str]:
    """Compile one of node-semver's regexes.

    ``safe`` applies its ``makeSafeRegex`` (greedy repetitions bounded, as in the regexes it
    uses internally). ``$`` becomes ``\\Z``: in JavaScript it only matches at the very end.
    ASCII mode: JavaScript's ``\\d`` is 0-9 only.
    """
    if safe:
        for token, limit in ((r"\s", 1), (r"\d", _MAX_LENGTH), ("[a-zA-Z0-9-]", _MAX_LENGTH - 6)):
            src = src.replace(token + "*", f"{token}{{0,{limit}}}")
            src = src.replace(token + "+", f"{token}{{1,{limit}}}")
    return re.compile(src.replace("$", r"\Z"), re.ASCII)


_LDN = "[a-zA-Z0-9-]"
_NUMERIC = r"0|[1-9]\d*"
_NONNUMERIC = rf"\d*[a-zA-Z-]{_LDN}*"
_MAINVERSION = rf"({_NUMERIC})\.({_NUMERIC})\.({_NUMERIC})"
_MAINVERSION_LOOSE = r"(\d+)\.(\d+)\.(\d+)"
_PRERELEASE_ID = f"(?:{_NONNUMERIC}|{_NUMERIC})"
_PRERELEASE_ID_LOOSE = rf"(?:{_NONNUMERIC}|\d+)"
_PRERELEASE = rf"(?:-({_PRERELEASE_ID}(?:\.{_PRERELEASE_ID})*))"
_PRERELEASE_LOOSE = rf"(?:-?({_PRERELEASE_ID_LOOSE}(?:\.{_PRERELEASE_ID_LOOSE})*))"
_BUILD = rf"(?:\+({_LDN}+(?:\.{_LDN}+)*))"
_FULLPLAIN = f"v?{_MAINVERSION}{_PRERELEASE}?{_BUILD}?"
_LOOSEPLAIN = rf"[v=\s]*{_MAINVERSION_LOOSE}{_PRERELEASE_LOOSE}?{_BUILD}?"
_GTLT = "((?:<|>)?=?)"
_XID = rf"{_NUMERIC}|x|X|\*"
_XRANGEPLAIN = rf"[v=\s]*({_XID})(?:\.({_XID})(?:\.({_XID})(?:{_PRERELEASE})?{_BUILD}?)?)?"

_RE_FULL = _compile(f"^{_FULLPLAIN}$")
_RE_BUILD = _compile(_BUILD)
_RE_BUILD_ALL = _compile(_BUILD, safe=False)
_RE_HYPHEN = _compile(rf"^\s*({_XRANGEPLAIN})\s+-\s+({_XRANGEPLAIN})\s*$")
_RE_COMPARATOR_TRIM = _compile(rf"(\s*){_GTLT}\s*({_LOOSEPLAIN}|{_XRANGEPLAIN})")
_RE_TILDE_TRIM = _compile(r"(\s*)(?:~>?)\s+")
_RE_CARET_TRIM = _compile(r"(\s*)(?:\^)\s+")
_RE_TILDE = _compile(f"^(?:~>?){_XRANGEPLAIN}$")
_RE_CARET = _compile(rf"^(?:\^){_XRANGEPLAIN}$")
_RE_XRANGE = _compile(rf"^{_GTLT}\s*{_XRANGEPLAIN}$")
_RE_STAR = _compile(r"(<|>)?=?\s*\*")
_RE_GTE0 = _compile(r"^\s*>=\s*0\.0\.0\s*$")
_RE_COMPARATOR = _compile(rf"^{_GTLT}\s*({_FULLPLAIN})$|^$")
_RE_SPACES = _compile(r"\s+", safe=False)


@dataclass(frozen=True, slots=True)
class _SemVer:
    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...]
    key: Key

    @property
    def version(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return core + ("-" + ".".join(str(i) for i in self.prerelease) if self.prerelease else "")


def _id_key(ident: str) -> tuple[object, ...]:
    if ident.isdigit():
        n = int(ident)
        return (0, n if n <= _MAX_SAFE_INTEGER else float(n))
    return (1, ident)


def _semver(text: str, original: str) -> _SemVer:
    if len(text) > _MAX_LENGTH:
        raise VersionParseError(SCHEME, original, f"longer than {_MAX_LENGTH} characters")
    m = _RE_FULL.match(text.strip())
    if m is None:
        raise VersionParseError(SCHEME, original, "not a SemVer 2.0.0 version")
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if max(major, minor, patch) > _MAX_SAFE_INTEGER:
        raise VersionParseError(SCHEME, original, "number larger than Number.MAX_SAFE_INTEGER")
    ids: tuple[int | str, ...] = ()
    pre_key: tuple[object, ...] = (1,)
    if m.group(4):
        parts = m.group(4).split(".")
        ids = tuple(int(p) if p.isdigit() and int(p) < _MAX_SAFE_INTEGER else p for p in parts)
        pre_key = (0, *(_id_key(p) for p in parts))
    return _SemVer(major, minor, patch, ids, (major, minor, patch, pre_key))


def parse_key(text: str) -> Key:
    check_text(SCHEME, text)
    return _semver(text, text).key


# --- ranges -----------------------------------------------------------------------------------


def _is_x(ident: str | None) -> bool:
    return not ident or ident.lower() == "x" or ident == "*"


def _inc(n: str) -> str:
    return str(int(n) + 1)


def _hyphen_replace(m: re.Match[str]) -> str:
    frm, fmaj, fmin, fpat = m.group(1), m.group(2), m.group(3), m.group(4)
    to, tmaj, tmin, tpat, tpre = m.group(7), m.group(8), m.group(9), m.group(10), m.group(11)
    if _is_x(fmaj):
        frm = ""
    elif _is_x(fmin):
        frm = f">={fmaj}.0.0"
    elif _is_x(fpat):
        frm = f">={fmaj}.{fmin}.0"
    else:
        frm = f">={frm}"
    if _is_x(tmaj):
        to = ""
    elif _is_x(tmin):
        to = f"<{_inc(tmaj)}.0.0-0"
    elif _is_x(tpat):
        to = f"<{tmaj}.{_inc(tmin)}.0-0"
    elif tpre:
        to = f"<={tmaj}.{tmin}.{tpat}-{tpre}"
    else:
        to = f"<={to}"
    return f"{frm} {to}".strip()


def _tilde(m: re.Match[str]) -> str:
    maj, mnr, pat, pre = m.group(1), m.group(2), m.group(3), m.group(4)
    if _is_x(maj):
        return ""
    if _is_x(mnr):
        return f">={maj}.0.0 <{_inc(maj)}.0.0-0"
    if _is_x(pat):
        return f">={maj}.{mnr}.0 <{maj}.{_inc(mnr)}.0-0"
    if pre:
        return f">={maj}.{mnr}.{pat}-{pre} <{maj}.{_inc(mnr)}.0-0"
    return f">={maj}.{mnr}.{pat} <{maj}.{_inc(mnr)}.0-0"


def _caret(m: re.Match[str]) -> str:
    maj, mnr, pat, pre = m.group(1), m.group(2), m.group(3), m.group(4)
    if _is_x(maj):
        return ""
    if _is_x(mnr):
        return f">={maj}.0.0 <{_inc(maj)}.0.0-0"
    if _is_x(pat):
        if maj == "0":
            return f">={maj}.{mnr}.0 <{maj}.{_inc(mnr)}.0-0"
        return f">={maj}.{mnr}.0 <{_inc(maj)}.0.0-0"
    low = f">={maj}.{mnr}.{pat}-{pre}" if pre else f">={maj}.{mnr}.{pat}"
    if maj == "0":
        if mnr == "0":
            return f"{low} <{maj}.{mnr}.{_inc(pat)}-0"
        return f"{low} <{maj}.{_inc(mnr)}.0-0"
    return f"{low} <{_inc(maj)}.0.0-0"


def _xrange(comp: str) -> str:
    m = _RE_XRANGE.match(comp)
    if m is None:
        return comp
    gtlt, maj, mnr, pat = m.group(1), m.group(2), m.group(3), m.group(4)
    if (_is_x(maj) and not _is_x(mnr)) or (_is_x(mnr) and pat and not _is_x(pat)):
        return comp  # node-semver's invalidXRangeOrder: left for the comparator to reject
    x_major = _is_x(maj)
    x_minor = x_major or _is_x(mnr)
    any_x = x_minor or _is_x(pat)
    if gtlt == "=" and any_x:
        gtlt = ""
    if x_major:
        return "<0.0.0-0" if gtlt in (">", "<") else "*"
    if gtlt and any_x:
        mnr = "0" if x_minor else mnr
        pat = "0"
        pre = ""
        if gtlt == ">":
            gtlt = ">="
            if x_minor:
                maj, mnr = _inc(maj), "0"
            else:
                mnr = _inc(mnr)
        elif gtlt == "<=":
            gtlt = "<"
            if x_minor:
                maj = _inc(maj)
            else:
                mnr = _inc(mnr)
        if gtlt == "<":
            pre = "-0"
        return f"{gtlt}{maj}.{mnr}.{pat}{pre}"
    if x_minor:
        return f">={maj}.0.0 <{_inc(maj)}.0.0-0"
    if any_x:
        return f">={maj}.{mnr}.0 <{maj}.{_inc(mnr)}.0-0"
    return m.group(0)


def _each_word(comp: str, fn: Callable[[str], str]) -> str:
    return " ".join(fn(c) for c in _RE_SPACES.split(comp.strip()))


def _parse_comparator_text(comp: str) -> str:
    comp = _RE_BUILD.sub("", comp, count=1)
    comp = _each_word(comp, lambda c: _RE_CARET.sub(_caret, c, count=1))
    comp = _each_word(comp, lambda c: _RE_TILDE.sub(_tilde, c, count=1))
    comp = " ".join(_xrange(c.strip()) for c in _RE_SPACES.split(comp))
    return _RE_STAR.sub("", comp.strip(), count=1)


@dataclass(frozen=True, slots=True)
class _Comparator:
    operator: str  # "", "<", "<=", ">", ">="
    semver: _SemVer | None  # None: any version

    @property
    def value(self) -> str:
        return "" if self.semver is None else self.operator + self.semver.version

    def test(self, v: _SemVer) -> bool:
        if self.semver is None:
            return True
        a, b = v.key, self.semver.key
        op = self.operator
        if op == "":
            return a == b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b


def _comparator(comp: str, original: str) -> _Comparator:
    comp = " ".join(_RE_SPACES.split(comp.strip())) if comp.strip() else ""
    m = _RE_COMPARATOR.match(comp)
    if m is None:
        raise VersionParseError(SCHEME, original, f"invalid comparator {comp!r}")
    op = m.group(1) or ""
    if op == "=":
        op = ""
    if not m.group(2):
        return _Comparator(op, None)
    return _Comparator(op, _semver(m.group(2), original))


def _parse_set(part: str, original: str) -> list[_Comparator]:
    part = _RE_BUILD_ALL.sub("", part)
    part = _RE_HYPHEN.sub(_hyphen_replace, part, count=1)
    part = _RE_COMPARATOR_TRIM.sub(r"\1\2\3", part)
    part = _RE_TILDE_TRIM.sub(r"\1~", part)
    part = _RE_CARET_TRIM.sub(r"\1^", part)
    words = " ".join(_parse_comparator_text(c) for c in part.split(" "))
    comps = [_RE_GTE0.sub("", w.strip(), count=1) for w in _RE_SPACES.split(words)]
    seen: dict[str, _Comparator] = {}
    for text in comps:
        c = _comparator(text, original)
        if c.value == "<0.0.0-0":
            return [c]
        seen[c.value] = c
    if len(seen) > 1:
        seen.pop("", None)
    return list(seen.values())


def parse_range(range_: str) -> tuple[tuple[_Comparator, ...], ...]:
    """node-semver's ``new Range(range)``: comparator sets (OR of ANDs). Cached."""
    if not isinstance(range_, str):
        raise VersionParseError(SCHEME, range_, "range must be a str")
    return _parse_range(range_)


@functools.lru_cache(maxsize=8192)
def _parse_range(range_: str) -> tuple[tuple[_Comparator, ...], ...]:
    if len(range_) > 4096:
        raise VersionParseError(SCHEME, range_, "range longer than 4096 characters")
    raw = _RE_SPACES.sub(" ", range_.strip())
    sets = [s for s in (_parse_set(p.strip(), range_) for p in raw.split("||")) if s]
    if not sets:
        raise VersionParseError(SCHEME, range_, "empty range")
    if len(sets) > 1:
        first = sets[0]
        sets = [s for s in sets if s[0].value != "<0.0.0-0"]
        if not sets:
            sets = [first]
        elif len(sets) > 1:
            for s in sets:
                if len(s) == 1 and s[0].value == "":
                    sets = [s]
                    break
    return tuple(tuple(s) for s in sets)


def _test_set(comparators: tuple[_Comparator, ...], v: _SemVer) -> bool:
    if not all(c.test(v) for c in comparators):
        return False
    if v.prerelease:
        for c in comparators:
            s = c.semver
            if (
                s is not None
                and s.prerelease
                and (s.major, s.minor, s.patch)
                == (
                    v.major,
                    v.minor,
                    v.patch,
                )
            ):
                return True
        return False
    return True


def satisfies(version: str, range_: str) -> bool:
    """True when ``version`` is in the npm ``range_`` (node-semver ``satisfies``)."""
    check_text(SCHEME, version)
    v = _version(version)
    return any(_test_set(s, v) for s in parse_range(range_))


@functools.lru_cache(maxsize=65536)
def _version(text: str) -> _SemVer:
    return _semver(text, text)
