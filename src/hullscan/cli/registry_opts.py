"""Registry options shared by every command that reads an image or talks to a registry."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from hullscan.errors import UsageError
from hullscan.image.reference import parse_reference
from hullscan.image.registry.credentials import Credentials, from_env
from hullscan.image.registry.settings import DEFAULT_RETRY, Mirror, RegistrySettings
from hullscan.net import RetryPolicy

MIRRORS_ENV = "HULLSCAN_REGISTRY_MIRRORS"
INSECURE_ENV = "HULLSCAN_INSECURE_REGISTRIES"


def add_registry_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("registry")
    g.add_argument(
        "--insecure",
        action="store_true",
        help="reach the image's registry over plain HTTP or TLS without verification",
    )
    g.add_argument(
        "--insecure-registry",
        action="append",
        default=None,
        metavar="HOST",
        help="another registry (a mirror) to reach insecurely; repeatable "
        f"(env {INSECURE_ENV}, comma-separated)",
    )
    g.add_argument(
        "--ca-cert",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="PEM CA certificate(s) to trust for registries, on top of the system's; repeatable",
    )
    g.add_argument(
        "--registry-mirror",
        action="append",
        default=None,
        metavar="REGISTRY=MIRROR",
        help="try MIRROR ([http://]host[:port][/path]) before REGISTRY (e.g. "
        f"docker.io=mirror.gcr.io); repeatable, tried in order (env {MIRRORS_ENV})",
    )
    g.add_argument(
        "--username",
        default=None,
        help="user for the image's registry (env HULLSCAN_REGISTRY_USERNAME); the password "
        "comes from --password-stdin or HULLSCAN_REGISTRY_PASSWORD",
    )
    g.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the registry password (or token, with --username '<token>') from stdin",
    )
    g.add_argument(
        "--no-docker-config",
        action="store_true",
        help="do not read credentials from Docker's config.json and credential helpers",
    )
    g.add_argument(
        "--registry-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="longest wait for a registry's answer or its next bytes (default 60)",
    )
    g.add_argument(
        "--registry-retries",
        type=int,
        default=None,
        metavar="N",
        help="further attempts after a failed registry request (default 4)",
    )


def _split(value: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", value) if item]


def _mirrors(specs: list[str]) -> tuple[tuple[str, tuple[Mirror, ...]], ...]:
    table: dict[str, list[Mirror]] = {}
    for spec in specs:
        registry, sep, mirror = spec.partition("=")
        if not sep or not registry or not mirror:
            raise UsageError(f"--registry-mirror {spec[:80]!r}: expected REGISTRY=MIRROR")
        name = "docker.io" if registry in ("index.docker.io", "registry-1.docker.io") else registry
        table.setdefault(name, []).append(Mirror.parse(mirror))
    return tuple((k, tuple(v)) for k, v in table.items())


def _explicit_credentials(args: argparse.Namespace, env: Mapping[str, str]) -> Credentials | None:
    password: str | None = None
    if args.password_stdin:
        if not args.username:
            raise UsageError("--password-stdin needs --username")
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: nothing was read from stdin")
    if args.username:
        password = password or env.get("HULLSCAN_REGISTRY_PASSWORD")
        if not password:
            raise UsageError("--username needs --password-stdin or HULLSCAN_REGISTRY_PASSWORD")
        if args.username == "<token>":  # Docker's spelling of an identity token
            return Credentials(identity_token=password, source="--password-stdin")
        return Credentials(username=args.username, password=password, source="--username")
    return from_env(env)


def registry_settings(
    args: argparse.Namespace, target: str | None, env: Mapping[str, str] | None = None
) -> RegistrySettings:
    """Settings from the options and environment. ``target`` is the registry reference
    being read or written (None for a local source): ``--insecure`` and the explicit
    credentials apply to its registry only."""
    env = os.environ if env is None else env
    registry = parse_reference(target).registry if target is not None else None
    insecure = set(args.insecure_registry or []) | set(_split(env.get(INSECURE_ENV, "")))
    if args.insecure:
        if registry is None:
            raise UsageError("--insecure applies to registry images only")
        insecure.add(registry)
    credentials: tuple[tuple[str, Credentials], ...] = ()
    explicit = _explicit_credentials(args, env)
    if explicit is not None:
        if registry is None:
            if args.username or args.password_stdin:
                raise UsageError("--username/--password-stdin apply to registry images only")
        else:
            credentials = ((registry, explicit),)
    for path in args.ca_cert or []:
        if not path.is_file():
            raise UsageError(f"--ca-cert {path}: no such file")
    retry = DEFAULT_RETRY
    if args.registry_retries is not None:
        if not 0 <= args.registry_retries <= 20:
            raise UsageError("--registry-retries: must be between 0 and 20")
        retry = RetryPolicy(
            retries=args.registry_retries,
            backoff=retry.backoff,
            max_backoff=retry.max_backoff,
            max_retry_after=retry.max_retry_after,
        )
    timeout = 60.0
    if args.registry_timeout is not None:
        if not 0 < args.registry_timeout <= 3600:
            raise UsageError("--registry-timeout: must be between 0 and 3600 seconds")
        timeout = args.registry_timeout
    from hullscan import __version__

    return RegistrySettings(
        insecure=frozenset(insecure),
        ca_certs=tuple(args.ca_cert or ()),
        mirrors=_mirrors([*_split(env.get(MIRRORS_ENV, "")), *(args.registry_mirror or [])]),
        credentials=credentials,
        use_docker_config=not args.no_docker_config,
        read_timeout=timeout,
        connect_timeout=min(15.0, timeout),
        retry=retry,
        user_agent=f"hullscan/{__version__}",
    )
