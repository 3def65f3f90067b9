"""Registry authentication: the ``WWW-Authenticate`` challenge, Docker's token flow, basic.

The flow of the Docker token specification (``distribution/docs/spec/auth/token.md``):
a request answered ``401`` with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``
is retried with a token from ``GET realm?service=...&scope=...`` (credentials, when there
are any, as HTTP basic auth on that request), or, with an identity token, from the OAuth2
``POST realm`` (``grant_type=refresh_token``). ``Basic`` challenges get the credentials
directly. Tokens are cached per scope until shortly before they expire.

Credentials go only over TLS, or to a loopback or explicitly ``--insecure`` registry.
"""

from __future__ import annotations

import base64
import re
import time
import urllib.parse
from dataclasses import dataclass, field

import httpx

from hullscan.image.registry.credentials import Credentials
from hullscan.image.registry.errors import RegistryAuthError, RegistryError
from hullscan.net import redact_url

_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*\s*(?=,|\Z)")
_MAX_TOKEN_RESPONSE = 1024 * 1024
_EARLY_REFRESH = 10.0  # seconds before expiry a token is replaced
_DEFAULT_EXPIRY = 60.0  # the spec's default when expires_in is absent


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "bearer" or "basic" (lower case)
    params: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        for k, v in self.params:
            if k == key:
                return v
        return None


def parse_challenges(header: str | None) -> list[Challenge]:
    """The challenges of a ``WWW-Authenticate`` header, in order."""
    out: list[Challenge] = []
    text = (header or "").strip()
    while text:
        # Challenges are comma-separated (httpx also joins repeated headers with ", ").
        text = text.lstrip(" \t,")
        m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", text)
        if m is None:
            # Not a scheme: skip to the next comma rather than drop what follows.
            text = text.partition(",")[2]
            continue
        scheme = m.group(1).lower()
        text = text[m.end() :]
        # A token68 credential (``Negotiate abc+/==``) is no parameter: skip it.
        t68 = _TOKEN68.match(text)
        if t68 is not None:
            text = text[t68.end() :]
        params: list[tuple[str, str]] = []
        while text:
            pm = _PARAM.match(text)
            # A bare word not followed by '=' starts the next challenge.
            if pm is None:
                break
            value = pm.group(2) if pm.group(2) is not None else pm.group(3) or ""
            params.append((pm.group(1).lower(), re.sub(r"\\(.)", r"\1", value)))
            text = text[pm.end() :]
        out.append(Challenge(scheme, tuple(params)))
    return out


def pick_challenge(header: str | None) -> Challenge | None:
    """The challenge to answer: Bearer before Basic; None for anything else."""
    challenges = parse_challenges(header)
    for scheme in ("bearer", "basic"):
        for c in challenges:
            if c.scheme == scheme:
                return c
    return None


@dataclass(slots=True)
class _Token:
    header: str = field(repr=False)
    expires_at: float


@dataclass(slots=True)
class Authorizer:
    """Authorization for one registry endpoint: credentials, the challenge seen, tokens.

    Picklable (sent to worker processes with the tokens it already holds)."""

    registry: str
    credentials: Credentials
    secure_transport: bool  # https with verification, or a loopback/insecure registry
    challenge: Challenge | None = None
    tokens: dict[str, _Token] = field(default_factory=dict, repr=False)

    def header(self, scope: str, client: httpx.Client) -> str | None:
        """The ``Authorization`` value for a request in ``scope``, fetching a token if the
        registry's challenge asks for one and none is cached."""
        creds = self.credentials
        if creds.registry_token:
            return f"Bearer {creds.registry_token}"
        c = self.challenge
        if c is None:
            return None
        if c.scheme == "basic":
            if creds.username and creds.password and self.secure_transport:
                raw = f"{creds.username}:{creds.password}".encode()
                return "Basic " + base64.b64encode(raw).decode()
            return None
        token = self.tokens.get(scope)
        if token is not None and token.expires_at - _EARLY_REFRESH > time.time():
            return token.header
        token = self._fetch_token(c, scope, client)
        self.tokens[scope] = token
        return token.header

    def challenged(self, header: str | None, scope: str) -> bool:
        """Record a 401's challenge; True when retrying with new authorization can help."""
        c = pick_challenge(header)
        if c is None:
            return False
        had = self.tokens.pop(scope, None)
        self.challenge = c
        if c.scheme == "basic":
            return bool(self.credentials.username and self.credentials.password)
        return had is None or c.get("error") in (None, "invalid_token")

    def refused(self, status: int, detail: str) -> RegistryAuthError:
        """The error for a request still refused after authenticating."""
        creds = self.credentials
        what = detail or ("access denied" if status == 403 else "authentication required")
        if creds.empty:
            hint = (
                "no credentials found (docker login, --username/--password-stdin or "
                "HULLSCAN_REGISTRY_USERNAME/_PASSWORD)"
            )
        else:
            hint = f"credentials from {creds.source} were not accepted"
        return RegistryAuthError(f"{self.registry}: {what} (HTTP {status}): {hint}")

    def _fetch_token(self, c: Challenge, scope: str, client: httpx.Client) -> _Token:
        realm = c.get("realm")
        if not realm:
            raise RegistryAuthError(f"{self.registry}: Bearer challenge without a realm")
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RegistryAuthError(
                f"{self.registry}: token realm {redact_url(realm)} is not a URL"
            )
        creds = self.credentials
        send_creds = not creds.empty
        if send_creds and parts.scheme == "http" and not self.secure_transport:
            raise RegistryAuthError(
                f"{self.registry}: token realm {redact_url(realm)} is plain HTTP; credentials "
                "are not sent over it (mark the registry --insecure to allow it)"
            )
        service = c.get("service")
        params: dict[str, str] = {}
        if service:
            params["service"] = service
        if scope:
            params["scope"] = scope
        try:
            if creds.identity_token:
                form = {
                    **params,
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "client_id": "hullscan",
                }
                resp = client.post(realm, data=form)
            else:
                auth = None
                if creds.username and creds.password:
                    params["account"] = creds.username
                    auth = httpx.BasicAuth(creds.username, creds.password)
                resp = client.get(realm, params=params, auth=auth)
        except httpx.TimeoutException:
            raise RegistryError(
                f"{self.registry}: token server {redact_url(realm)} timed out"
            ) from None
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"{self.registry}: token server {redact_url(realm)} unreachable: "
                f"{type(exc).__name__}"
            ) from None
        if resp.status_code in (401, 403):
            raise self.refused(resp.status_code, "the token server refused")
        if resp.status_code != 200:
            raise RegistryAuthError(
                f"{self.registry}: token server {redact_url(realm)} answered HTTP "
                f"{resp.status_code}"
            )
        if len(resp.content) > _MAX_TOKEN_RESPONSE:
            raise RegistryAuthError(f"{self.registry}: token response too large")
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        token = None
        expires_in: object = None
        if isinstance(doc, dict):
            token = doc.get("token") or doc.get("access_token")
            expires_in = doc.get("expires_in")
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise RegistryAuthError(f"{self.registry}: token server answered without a token")
        lifetime = (
            float(expires_in)
            if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
            else _DEFAULT_EXPIRY
        )
        return _Token(header=f"Bearer {token}", expires_at=time.time() + max(lifetime, 1.0))
