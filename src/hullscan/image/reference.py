"""Image references as Docker reads them: ``nginx:1.25``, ``library/nginx``,
``ghcr.io/org/app:tag``, ``registry.local:5000/team/app@sha256:...``.

The grammar and the normalization are those of the distribution project's ``reference``
package (``ParseNormalizedNamed``), which Docker, containerd and skopeo use:

* ``name [":" tag] ["@" digest]``; the name is path components of lower-case letters and
  digits joined by ``.``, ``_``, ``__`` or runs of ``-``, separated by ``/``, at most 255
  characters; a tag is ``[\\w][\\w.-]{0,127}``; a digest ``algorithm:hex`` (hex of 32+ digits;
  ``sha256`` needs exactly 64);
* the first component is a registry host when it contains ``.`` or ``:`` or is ``localhost``;
  otherwise the registry is Docker Hub, ``docker.io``, and a one-component name lives under
  ``library/`` (``nginx`` is ``docker.io/library/nginx``); ``index.docker.io`` is ``docker.io``;
* upper case in the repository is an error, and so is a bare 64-hex-digit name (it would be an
  image id).

Checked against the real ``reference`` package (Debian's golang-github-docker-distribution-dev,
compiled into a small oracle by the tests) on every case of a corpus and of random strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hullscan.errors import UsageError

DOCKER_HUB = "docker.io"
MAX_NAME = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[_.]|__|[-]*)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # ASCII \w, as in Go
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?\Z")
_HEX64 = re.compile(r"[a-f0-9]{64}\Z")
_DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalized reference: ``registry`` (``docker.io``, ``ghcr.io``, ``host:5000``),
    ``repository`` (``library/nginx``), and a ``tag`` and/or ``digest`` (neither: the caller
    decides the default, ``latest``)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def _split_domain(name: str) -> tuple[str, str]:
    """Docker's ``splitDockerDomain``: (registry, the rest), Docker Hub by default."""
    slash = name.find("/")
    first = name[:slash]
    if slash == -1 or (not any(c in first for c in ".:") and first != "localhost"):
        domain, rest = DOCKER_HUB, name
    else:
        domain, rest = first, name[slash + 1 :]
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in rest:
        rest = f"library/{rest}"
    return domain, rest


_ANCHORED_NAME = re.compile(rf"(?:({_DOMAIN})/)?({_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)\Z")


def parse_reference(text: str) -> Reference:
    """The normalized reference of ``text``; ``UsageError`` (one line) when it is not one.
    The steps of ``ParseNormalizedNamed``, in its order."""
    shown = text[:120]
    if len(text) > 4096:
        raise UsageError(f"invalid image reference {shown!r}: too long")
    if _HEX64.match(text):
        raise UsageError(f"invalid image reference {shown!r}: a 64-digit hex name is an image id")
    domain, rest = _split_domain(text)
    remote = rest.split(":", 1)[0]
    if remote.lower() != remote:
        raise UsageError(f"invalid image reference {shown!r}: repository must be lowercase")
    m = _REFERENCE.match(f"{domain}/{rest}")
    if m is None:
        raise UsageError(f"invalid image reference {shown!r}")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > MAX_NAME:
        raise UsageError(f"invalid image reference {shown!r}: name longer than {MAX_NAME}")
    if digest is not None:
        algorithm, _, hexpart = digest.partition(":")
        wanted = _DIGEST_HEX_LEN.get(algorithm)
        if wanted is None or len(hexpart) != wanted or hexpart.lower() != hexpart:
            raise UsageError(f"invalid image reference {shown!r}: bad digest")
    parts = _ANCHORED_NAME.match(name)
    assert parts is not None  # the reference grammar matched this name
    registry, repository = parts.group(1) or "", parts.group(2)
    return Reference(registry=registry, repository=repository, tag=tag, digest=digest)
