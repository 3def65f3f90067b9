"""Where registry credentials come from, in Docker's order, and how they are kept secret.

For a registry host, the first of these that has something wins:

1. credentials given explicitly for that registry (options, ``HULLSCAN_REGISTRY_*``);
2. ``config.json`` in ``$DOCKER_CONFIG`` (else ``~/.docker``): ``credHelpers[host]`` runs
   ``docker-credential-<helper> get``; else ``credsStore`` runs its helper; else the
   ``auths`` entry (``auth`` = base64 ``user:password``, or ``username``/``password``,
   ``identitytoken``, ``registrytoken``);
3. nothing: anonymous.

Docker Hub is stored under ``https://index.docker.io/v1/``; other keys may be written as a
host or as a URL (``https://host/v1/``), both are recognised. ``Credentials`` never shows its
secrets in ``repr``; messages name only where credentials came from.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hullscan.errors import UsageError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_HELPER_TIMEOUT = 30.0
_MAX_CONFIG_BYTES = 4 * 1024 * 1024
ENV_USERNAME = "HULLSCAN_REGISTRY_USERNAME"
ENV_PASSWORD = "HULLSCAN_REGISTRY_PASSWORD"  # noqa: S105 (a variable name, not a secret)
ENV_TOKEN = "HULLSCAN_REGISTRY_TOKEN"  # noqa: S105


@dataclass(frozen=True, slots=True)
class Credentials:
    """What to authenticate with. ``identity_token`` is an OAuth2 refresh token (``docker
    login`` to some registries stores one); ``registry_token`` is a bearer token sent as it
    is. ``source`` says where they came from, for messages; it never holds a secret."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    registry_token: str | None = field(default=None, repr=False)
    source: str = ""

    @property
    def empty(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so messages can be checked never to contain one."""
        return tuple(s for s in (self.password, self.identity_token, self.registry_token) if s)


ANONYMOUS = Credentials(source="anonymous")


class CredentialError(UsageError):
    """A credential store or helper is configured but unusable (exit 2)."""


def config_key(registry: str) -> str:
    """The ``auths``/helper key Docker uses for ``registry``."""
    return DOCKER_HUB_KEY if registry in _HUB_ALIASES else registry


def _host_of(key: str) -> str:
    """``https://host:5000/v1/`` -> ``host:5000``; a bare host stays as it is."""
    text = key.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    return "docker.io" if text in _HUB_ALIASES else text


def docker_config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    configured = env.get("DOCKER_CONFIG")
    if configured:
        return Path(configured)
    return Path.home() / ".docker"


def _read_config(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise CredentialError(f"{path}: larger than {_MAX_CONFIG_BYTES} bytes")
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        # The position only: the text around it may be a secret.
        raise CredentialError(f"{path}: not valid JSON (at byte {_pos(exc)})") from None
    if not isinstance(doc, dict):
        raise CredentialError(f"{path}: not a JSON object")
    return doc


def _pos(exc: Exception) -> int:
    return getattr(exc, "pos", 0) or getattr(exc, "start", 0)


def _auth_entry(entry: object, where: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    username = entry.get("username") if isinstance(entry.get("username"), str) else None
    password = entry.get("password") if isinstance(entry.get("password"), str) else None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialError(f"{where}: 'auth' is not base64 of user:password") from None
        user, sep, pw = decoded.partition(":")
        if not sep:
            raise CredentialError(f"{where}: 'auth' does not decode to user:password")
        username, password = user, pw
    identity = entry.get("identitytoken")
    registry_token = entry.get("registrytoken")
    creds = Credentials(
        username=username or None,
        password=password or None,
        identity_token=identity if isinstance(identity, str) and identity else None,
        registry_token=registry_token
        if isinstance(registry_token, str) and registry_token
        else None,
        source=where,
    )
    return None if creds.empty else creds


def run_helper(helper: str, server: str, *, env: Mapping[str, str] | None = None) -> Credentials:
    """``docker-credential-<helper> get`` for ``server``; anonymous when it has nothing."""
    if not _HELPER_NAME.match(helper):
        raise CredentialError(f"credential helper name {helper[:60]!r} is not valid")
    program = f"docker-credential-{helper}"
    path = shutil.which(program, path=(env or os.environ).get("PATH"))
    if path is None:
        raise CredentialError(f"credential helper {program} is configured but not on PATH")
    try:
        proc = subprocess.run(
            [path, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(f"{program} did not answer in {_HELPER_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise CredentialError(f"{program}: cannot run: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        # Helpers say "credentials not found in native keychain" when they have nothing;
        # anything else is shown (it is the helper's own message, never its output).
        message = (
            proc.stdout.decode("utf-8", "replace").strip()
            or proc.stderr.decode("utf-8", "replace").strip()
        )
        if "not found" in message.lower():
            return ANONYMOUS
        first = message.splitlines()[0][:160] if message else "no message"
        raise CredentialError(f"{program} failed (exit {proc.returncode}): {first}")
    try:
        doc = json.loads(proc.stdout)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CredentialError(f"{program}: its answer is not JSON") from None
    if not isinstance(doc, dict):
        raise CredentialError(f"{program}: its answer is not a JSON object")
    username, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise CredentialError(f"{program}: its answer lacks Username/Secret strings")
    where = f"credential helper {program}"
    if username == "<token>":  # Docker's convention for an identity token
        return Credentials(identity_token=secret, source=where)
    return Credentials(username=username or None, password=secret or None, source=where)


def from_docker_config(
    registry: str, config_dir: Path | None = None, *, env: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials for ``registry`` from Docker's ``config.json`` (anonymous when none)."""
    directory = config_dir if config_dir is not None else docker_config_dir(env)
    path = directory / "config.json"
    doc = _read_config(path)
    key = config_key(registry)
    host = _host_of(key)
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        for name, helper in helpers.items():
            if isinstance(name, str) and isinstance(helper, str) and _host_of(name) == host:
                return run_helper(helper, key, env=env)
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, key, env=env)
    auths = doc.get("auths")
    if isinstance(auths, dict):
        # An exact key first, then any key naming the same host (URL or bare host).
        entries = [(k, v) for k, v in auths.items() if isinstance(k, str)]
        entries.sort(key=lambda kv: kv[0] != key)
        for name, entry in entries:
            if _host_of(name) == host:
                found = _auth_entry(entry, f"{path} (auths.{name})")
                if found is not None:
                    return found
    return ANONYMOUS


def from_env(env: Mapping[str, str] | None = None) -> Credentials | None:
    """``HULLSCAN_REGISTRY_USERNAME``/``_PASSWORD``/``_TOKEN``, for the target's registry."""
    env = os.environ if env is None else env
    username, password, token = env.get(ENV_USERNAME), env.get(ENV_PASSWORD), env.get(ENV_TOKEN)
    if not (username or password or token):
        return None
    if bool(username) != bool(password):
        raise CredentialError(f"{ENV_USERNAME} and {ENV_PASSWORD} must be set together")
    return Credentials(
        username=username or None,
        password=password or None,
        registry_token=token or None,
        source="environment",
    )
