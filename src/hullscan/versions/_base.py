"""The parsed-version object, the one error type and the helpers every scheme shares."""

from __future__ import annotations

from hullscan.errors import ParseError

#: Longest version string any scheme accepts. Real ones are far shorter (npm's own limit is 256);
#: the cap keeps hostile input from costing more than a few microseconds.
MAX_LENGTH = 512

#: A scheme's ordering key: a plain tuple whose built-in comparison *is* the scheme's order.
Key = tuple[object, ...]


class VersionParseError(ParseError):
    """A version string is not valid in its scheme (or the scheme is unknown)."""

    def __init__(self, scheme: str, text: object, reason: str) -> None:
        self.scheme = scheme
        self.text = text
        self.reason = reason
        shown = text if not isinstance(text, str) or len(text) <= 80 else text[:77] + "..."
        super().__init__(f"invalid {scheme} version {shown!r}: {reason}")


class Version:
    """One parsed version: hashable, totally ordered within its scheme.

    Two versions are equal exactly when the scheme says they compare equal (``1.0`` and
    ``1.0.0`` in PEP 440, ``1.0-0`` and ``1.0`` in dpkg), and then they also hash alike.
    Comparing versions of different schemes raises TypeError.
    """

    __slots__ = ("_hash", "key", "scheme", "text")

    scheme: str
    text: str
    key: Key
    _hash: int

    def __init__(self, scheme: str, text: str, key: Key) -> None:
        # Instances are shared through the parse cache: keep them immutable.
        object.__setattr__(self, "scheme", scheme)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "_hash", hash((scheme, key)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"Version({self.scheme!r}, {self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.scheme == other.scheme and self.key == other.key

    def _other_key(self, other: object) -> Key:
        if not isinstance(other, Version):
            raise TypeError(f"cannot compare Version with {type(other).__name__}")
        if other.scheme != self.scheme:
            raise TypeError(f"cannot compare {self.scheme} and {other.scheme} versions")
        return other.key

    def __lt__(self, other: object) -> bool:
        return self.key < self._other_key(other)

    def __le__(self, other: object) -> bool:
        return self.key <= self._other_key(other)

    def __gt__(self, other: object) -> bool:
        return self.key > self._other_key(other)

    def __ge__(self, other: object) -> bool:
        return self.key >= self._other_key(other)


def check_text(scheme: str, text: object) -> str:
    """The checks every scheme starts with: a non-empty str of sane length."""
    if not isinstance(text, str):
        raise VersionParseError(scheme, text, f"expected str, got {type(text).__name__}")
    if not text:
        raise VersionParseError(scheme, text, "empty version")
    if len(text) > MAX_LENGTH:
        raise VersionParseError(scheme, text, f"longer than {MAX_LENGTH} characters")
    return text


def is_ascii_digits(s: str) -> bool:
    """``str.isdigit`` accepts other scripts' digits; versions only ever use 0-9."""
    return s.isascii() and s.isdigit()
