"""A Docker token-auth server (https://distribution.github.io/distribution/spec/auth/token/).

``GET /token?service=S&scope=repository:NAME:pull,push[&scope=...][&account=U][&offline_token=true]``
with optional HTTP basic auth, and the OAuth2 form ``POST /token`` (``grant_type=password`` or
``grant_type=refresh_token``, docker's identity-token flow). Tokens are RS256 JWTs whose ``x5c``
header carries the self-signed signing certificate, which the registry trusts through
``auth.token.rootcertbundle``.

Policy (mutable between tests, see :meth:`TokenServer.reset`): ``users`` (name -> password),
``grants`` (fnmatch pattern on the repository name -> actions an authenticated user gets),
``anonymous_pull`` (credential-less requests get ``pull``), ``reject_anonymous`` (credential-less
requests get 401 instead of a token with no access, Docker Hub's behaviour).

distribution 2.8 accepts a token up to 60 s past its ``exp`` (``REGISTRY_TOKEN_LEEWAY``); to
see the registry really reject an expired token after ``expires_in`` seconds, set
``registry_leeway=REGISTRY_TOKEN_LEEWAY``: ``exp`` is then backdated by the leeway.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.registry import Stoppable
from tests.registry.certs import SigningKey, TLSFiles, make_signing_key
from tests.registry.server import LOCALHOST

REGISTRY_TOKEN_LEEWAY = 60  # seconds distribution 2.8 tolerates past exp / before nbf
DEFAULT_USERS: Mapping[str, str] = {"hullscan": "hullscan-password"}
DEFAULT_GRANTS: Mapping[str, Sequence[str]] = {"*": ("pull", "push", "delete", "*")}
_SECRET_FIELDS = frozenset({"password", "refresh_token"})


@dataclass(frozen=True)
class _Policy:
    users: dict[str, str]
    grants: dict[str, tuple[str, ...]]
    anonymous_pull: bool
    reject_anonymous: bool
    expires_in: int
    registry_leeway: int


@dataclass(frozen=True)
class TokenRequest:
    """One request the token server saw. Secrets (password, refresh token) are never kept."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]  # POST form without password/refresh_token
    authorization: bool  # an Authorization header was present
    username: str | None  # from basic auth, the password grant, or the refresh token
    grant_type: str | None  # POST only
    scopes: list[str]
    status: int
    granted: list[dict[str, Any]] = field(default_factory=list)  # the JWT ``access`` claim

    @property
    def refresh_token_sent(self) -> bool:
        return "refresh_token" in self.form


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a JWT, unverified: for assertions on what the server issued."""
    header, claims, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(claims))


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """``type:name:actions``; the name may itself contain ':' (a registry host with a port)."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


class TokenServer(Stoppable):
    """A threaded token server on 127.0.0.1 (HTTPS when ``tls`` is given). Starts at once."""

    def __init__(
        self,
        directory: Path,
        *,
        users: Mapping[str, str] = DEFAULT_USERS,
        grants: Mapping[str, Sequence[str]] = DEFAULT_GRANTS,
        anonymous_pull: bool = False,
        reject_anonymous: bool = False,
        expires_in: int = 300,
        registry_leeway: int = 0,
        service: str = "hullscan-test-registry",
        issuer: str = "hullscan-test-issuer",
        tls: TLSFiles | None = None,
    ) -> None:
        self.directory = directory
        self.service = service
        self.issuer = issuer
        self.tls = tls
        self.ca_cert: Path | None = tls.ca if tls else None
        self.signing: SigningKey = make_signing_key(directory)
        self._defaults = _Policy(
            users=dict(users),
            grants={k: tuple(v) for k, v in grants.items()},
            anonymous_pull=anonymous_pull,
            reject_anonymous=reject_anonymous,
            expires_in=expires_in,
            registry_leeway=registry_leeway,
        )
        self.users: dict[str, str] = {}
        self.grants: dict[str, tuple[str, ...]] = {}
        self.anonymous_pull = False
        self.reject_anonymous = False
        self.expires_in = 0
        self.registry_leeway = 0
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._refresh_tokens: dict[str, str] = {}  # token -> username
        self.reset()

        self._httpd = ThreadingHTTPServer((LOCALHOST, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.cert, tls.key)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"token-server-{self.port}", daemon=True
        )
        self._thread.start()

    # --- public API ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{LOCALHOST}:{self.port}"

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    @property
    def requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Back to the constructor's policy; forget requests and refresh tokens."""
        d = self._defaults
        self.users = dict(d.users)
        self.grants = dict(d.grants)
        self.anonymous_pull = d.anonymous_pull
        self.reject_anonymous = d.reject_anonymous
        self.expires_in = d.expires_in
        self.registry_leeway = d.registry_leeway
        with self._lock:
            self._requests.clear()
            self._refresh_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()

    def issue(
        self, username: str | None, scopes: Sequence[str]
    ) -> tuple[str, list[dict[str, Any]]]:
        """A signed JWT for ``username`` (None: anonymous) with what the policy grants."""
        access = self._grant(username, scopes)
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.signing.x5c}
        claims = {
            "iss": self.issuer,
            "sub": username or "",
            "aud": self.service,  # distribution 2.8 wants a string here, not a list
            "exp": now + self.expires_in - self.registry_leeway,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = f"{b64url(_dumps(header))}.{b64url(_dumps(claims))}".encode()
        signature = self.signing.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{b64url(signature)}", access

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"<TokenServer {self.realm} service={self.service!r}>"

    # --- internals -------------------------------------------------------------------------

    def _grant(self, username: str | None, scopes: Sequence[str]) -> list[dict[str, Any]]:
        access: list[dict[str, Any]] = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None or parsed[0] != "repository":
                continue  # e.g. registry:catalog:* is never granted
            kind, name, wanted = parsed
            allowed: set[str] = set()
            if username is not None:
                for pattern, pattern_actions in self.grants.items():
                    if fnmatch.fnmatchcase(name, pattern):
                        allowed.update(pattern_actions)
            elif self.anonymous_pull:
                allowed.add("pull")
            actions = [a for a in wanted if a in allowed]
            if actions:
                access.append({"type": kind, "name": name, "actions": actions})
        return access

    def _check_password(self, username: str, password: str) -> bool:
        expected = self.users.get(username)
        return expected is not None and secrets.compare_digest(expected.encode(), password.encode())

    def _record(self, req: TokenRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _new_refresh_token(self, username: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[token] = username
        return token

    def _refresh_user(self, token: str) -> str | None:
        with self._lock:
            return self._refresh_tokens.get(token)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        auth_header = h.headers.get("Authorization")
        form: dict[str, list[str]] = {}
        if h.command == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(
                h.rfile.read(length).decode(errors="replace"), keep_blank_values=True
            )

        def respond(
            status: int,
            body: dict[str, Any],
            *,
            username: str | None = None,
            scopes: list[str] | None = None,
            granted: list[dict[str, Any]] | None = None,
        ) -> None:
            self._record(
                TokenRequest(
                    method=h.command,
                    path=parsed.path,
                    query=query,
                    form={k: v for k, v in form.items() if k not in _SECRET_FIELDS}
                    | ({"refresh_token": ["<redacted>"]} if "refresh_token" in form else {}),
                    authorization=auth_header is not None,
                    username=username,
                    grant_type=_first(form, "grant_type"),
                    scopes=scopes or [],
                    status=status,
                    granted=granted or [],
                )
            )
            data = _dumps(body)
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            if status == 401:
                h.send_header("WWW-Authenticate", f'Basic realm="{self.realm}"')
            h.end_headers()
            h.wfile.write(data)

        if parsed.path != "/token":
            respond(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
            return
        params = form if h.command == "POST" else query
        service = _first(params, "service")
        if service is not None and service != self.service:
            respond(400, {"error": "invalid_request", "error_description": "unknown service"})
            return

        if h.command == "GET":
            scopes = query.get("scope", [])
            username: str | None = None
            if auth_header is not None:
                creds = _basic_credentials(auth_header)
                if creds is None or not self._check_password(*creds):
                    respond(
                        401,
                        {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                        username=creds[0] if creds else None,
                        scopes=scopes,
                    )
                    return
                username = creds[0]
            elif self.reject_anonymous:
                respond(
                    401,
                    {"errors": [{"code": "UNAUTHORIZED", "message": "login required"}]},
                    scopes=scopes,
                )
                return
            token, granted = self.issue(username, scopes)
            body = self._token_body(token)
            if username is not None and _first(query, "offline_token") == "true":
                body["refresh_token"] = self._new_refresh_token(username)
            respond(200, body, username=username, scopes=scopes, granted=granted)
            return

        if h.command != "POST":
            respond(405, {"error": "invalid_request", "error_description": "GET or POST"})
            return
        # OAuth2 (RFC 6749) as the token spec describes it: scopes are space-separated.
        scopes = (_first(form, "scope") or "").split()
        grant_type = _first(form, "grant_type")
        if not _first(form, "client_id"):
            respond(
                400,
                {"error": "invalid_request", "error_description": "client_id required"},
                scopes=scopes,
            )
            return
        if grant_type == "password":
            user = _first(form, "username") or ""
            if not self._check_password(user, _first(form, "password") or ""):
                respond(401, {"error": "invalid_grant"}, username=user or None, scopes=scopes)
                return
            token, granted = self.issue(user, scopes)
            body = self._token_body(token)
            body["refresh_token"] = self._new_refresh_token(user)
            respond(200, body, username=user, scopes=scopes, granted=granted)
        elif grant_type == "refresh_token":
            user_or_none = self._refresh_user(_first(form, "refresh_token") or "")
            if user_or_none is None:
                respond(401, {"error": "invalid_grant"}, scopes=scopes)
                return
            token, granted = self.issue(user_or_none, scopes)
            respond(
                200, self._token_body(token), username=user_or_none, scopes=scopes, granted=granted
            )
        else:
            respond(400, {"error": "unsupported_grant_type"}, scopes=scopes)

    def _token_body(self, token: str) -> dict[str, Any]:
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _first(params: Mapping[str, list[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values else None


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _make_handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.handle(self)

        def do_POST(self) -> None:
            server.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request list is the log

    return Handler
