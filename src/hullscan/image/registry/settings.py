"""How hullscan talks to registries: TLS, timeouts, retries, mirrors, credentials.

A frozen, picklable value: it travels with each layer opener to the worker processes that
stream the blobs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from hullscan.errors import UsageError
from hullscan.image.registry.credentials import Credentials
from hullscan.net import RetryPolicy

DEFAULT_RETRY = RetryPolicy(retries=4, backoff=0.5, max_backoff=20.0, max_retry_after=120.0)


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1, with or without a port."""
    name = host
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Mirror:
    """One mirror of a registry: ``host[:port][/path]``, reached over ``scheme`` (``https``
    unless written ``http://...``, which also marks it insecure)."""

    host: str
    path: str = ""
    insecure: bool = False

    @classmethod
    def parse(cls, text: str) -> Mirror:
        value = text.strip().rstrip("/")
        insecure = False
        if value.startswith("http://"):
            insecure, value = True, value[len("http://") :]
        elif value.startswith("https://"):
            value = value[len("https://") :]
        host, _, path = value.partition("/")
        if not host or any(c in host for c in "@?# "):
            raise UsageError(f"mirror {text[:80]!r}: expected [http(s)://]host[:port][/path]")
        return cls(host=host, path=f"/{path}" if path else "", insecure=insecure)


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """``insecure``: registries (host[:port]) reached over plain HTTP or unverified TLS;
    loopback registries may always fall back to plain HTTP, as in Docker. ``ca_certs``: PEM
    files trusted on top of the system's CAs. ``mirrors``: registry -> mirrors tried in
    order before it. ``credentials``: registry -> explicit credentials (options,
    environment), before Docker's config. ``docker_config``: the directory holding
    ``config.json`` (None: ``$DOCKER_CONFIG`` or ``~/.docker``; reading it can be turned
    off with ``use_docker_config``)."""

    insecure: frozenset[str] = frozenset()
    ca_certs: tuple[Path, ...] = ()
    mirrors: tuple[tuple[str, tuple[Mirror, ...]], ...] = ()
    credentials: tuple[tuple[str, Credentials], ...] = field(default=(), repr=False)
    docker_config: Path | None = None
    use_docker_config: bool = True
    connect_timeout: float = 15.0
    read_timeout: float = 60.0  # longest silence while waiting for headers or body bytes
    retry: RetryPolicy = DEFAULT_RETRY
    user_agent: str = "hullscan"

    def mirrors_for(self, registry: str) -> tuple[Mirror, ...]:
        for name, mirrors in self.mirrors:
            if name == registry:
                return mirrors
        return ()

    def explicit_credentials(self, registry: str) -> Credentials | None:
        for name, creds in self.credentials:
            if name == registry:
                return creds
        return None

    def is_insecure(self, host: str) -> bool:
        return host in self.insecure
