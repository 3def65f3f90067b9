"""An OCI distribution client over httpx: manifests, blobs (streamed, resumable), pushes.

One ``RegistryClient`` serves one registry through its endpoints: the configured mirrors in
order, then the registry itself. Each endpoint is *pinged* (``GET /v2/``) once to choose the
scheme and learn its authentication challenge:

* ``https`` with certificate verification (system CAs plus ``--ca-cert`` files);
* a loopback registry falls back to plain ``http`` when ``https`` fails, as Docker does;
* an ``--insecure`` registry tries ``https`` without verification, then plain ``http``.

Every request has timeouts and is retried with backoff on connection errors, timeouts, 408,
429 (``Retry-After`` honoured) and 5xx. A ``401`` is answered once by authenticating
(:mod:`~hullscan.image.registry.auth`). Messages name the registry, the repository and the
digest, never a credential or a token.

Endpoint state (scheme, challenge, tokens) is picklable, so layer openers carry it to worker
processes, which then need no ping and, while the token lives, no token request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from hullscan.image.digests import Digest, compute_digest, parse_digest, show, verify_digest
from hullscan.image.registry.auth import Authorizer, pick_challenge
from hullscan.image.registry.credentials import (
    ANONYMOUS,
    CredentialError,
    Credentials,
    from_docker_config,
)
from hullscan.image.registry.errors import (
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    error_detail,
)
from hullscan.image.registry.settings import RegistrySettings, is_loopback
from hullscan.net import (
    RETRYABLE_STATUS,
    RetryPolicy,
    parse_int,
    retry_after,
    transport_reason,
)

DOCKER_HUB_API = "registry-1.docker.io"
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        # Asked for so that schema 1 gets a clear "not supported" instead of a 404.
        "application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1",
        "application/vnd.docker.distribution.manifest.v1+json;q=0.1",
    )
)
_MAX_REDIRECTS = 5
BLOB_CHUNK = 1024 * 1024


def api_host(registry: str) -> str:
    """The host serving ``registry``'s API (Docker Hub's is not ``docker.io``)."""
    return DOCKER_HUB_API if registry == "docker.io" else registry


@dataclass(slots=True)
class Endpoint:
    """One place the registry's content is served from: a mirror or the registry itself."""

    host: str
    path: str = ""  # a mirror's path prefix before /v2
    mirror: bool = False
    insecure: bool = False  # plain HTTP / unverified TLS allowed
    base_url: str | None = None  # set by the ping: "https://host[/path]"
    verify: bool = True
    authorizer: Authorizer | None = None

    @property
    def label(self) -> str:
        return f"mirror {self.host}{self.path}" if self.mirror else self.host


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document fetched whole: its bytes, the Content-Type and Docker-Content-Digest."""

    data: bytes
    media_type: str | None
    digest_header: str | None
    endpoint: Endpoint

    def verified_digest(self, reference: str, *, where: str) -> Digest:
        """The digest of these bytes, checked: a digest ``reference`` must name them, and a
        tag's bytes must hash to the registry's ``Docker-Content-Digest`` when it sends one."""
        if ":" in reference:
            return verify_digest(self.data, parse_digest(reference, where=where), where=where)
        if self.digest_header:
            said = parse_digest(
                self.digest_header.strip(), where=f"{where} (Docker-Content-Digest)"
            )
            return verify_digest(self.data, said, where=where)
        return parse_digest(compute_digest(self.data), where=where)


class _RetryableError(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _tls_failure(exc: BaseException) -> bool:
    """True when a connection failed in the TLS handshake (bad certificate, plain HTTP)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@functools.cache
def _ssl_context(ca_certs: tuple[Path, ...]) -> ssl.SSLContext:
    """The verifying context, built once per process: loading the system's CAs costs tens of
    milliseconds, and forked layer workers inherit the parent's."""
    ctx = ssl.create_default_context()
    for path in ca_certs:
        try:
            ctx.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise RegistryError(f"--ca-cert {path}: cannot load: {exc}") from None
    return ctx


@dataclass(slots=True)
class RegistryClient:
    """Talks to one registry. Not thread-safe; one per process (workers make their own)."""

    registry: str
    settings: RegistrySettings = field(default_factory=RegistrySettings)
    endpoints: list[Endpoint] = field(default_factory=list)
    _http: dict[bool, httpx.Client] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.endpoints:
            s = self.settings
            self.endpoints = [
                Endpoint(host=m.host, path=m.path, mirror=True, insecure=m.insecure)
                for m in s.mirrors_for(self.registry)
            ]
            self.endpoints.append(
                Endpoint(host=api_host(self.registry), insecure=s.is_insecure(self.registry))
            )

    # --- plumbing ---------------------------------------------------------------------

    def http(self, verify: bool) -> httpx.Client:
        client = self._http.get(verify)
        if client is None:
            s = self.settings
            client = httpx.Client(
                verify=_ssl_context(s.ca_certs) if verify else False,
                timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
                follow_redirects=True,
                max_redirects=_MAX_REDIRECTS,
                headers={"User-Agent": s.user_agent},
            )
            self._http[verify] = client
        return client

    def close(self) -> None:
        for client in self._http.values():
            client.close()
        self._http.clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _credentials(self, ep: Endpoint) -> Credentials:
        name = self.registry if not ep.mirror else ep.host
        explicit = self.settings.explicit_credentials(name)
        if explicit is not None:
            return explicit
        if not self.settings.use_docker_config:
            return ANONYMOUS
        try:
            return from_docker_config(name, self.settings.docker_config)
        except CredentialError as exc:
            raise RegistryAuthError(f"{name}: {exc}") from None

    def _policy(self, ep: Endpoint) -> RetryPolicy:
        """A mirror gets one retry at most: when it is down, the next endpoint is better
        than waiting."""
        policy = self.settings.retry
        if ep.mirror and policy.retries > 1:
            return dataclasses.replace(policy, retries=1)
        return policy

    def _with_retries(
        self, what: str, send: Callable[[], httpx.Response], policy: RetryPolicy | None = None
    ) -> httpx.Response:
        """``send()`` until it gives a response that is not retryable; the last error after
        ``retries`` further attempts."""
        policy = policy or self.settings.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                try:
                    resp = send()
                except httpx.TimeoutException as exc:
                    raise _RetryableError(f"timed out ({type(exc).__name__})") from None
                except httpx.TooManyRedirects:
                    raise RegistryError(f"{what}: too many redirects") from None
                except httpx.ConnectError as exc:
                    if _tls_failure(exc):  # deterministic: retrying cannot help
                        raise RegistryError(
                            f"{what}: TLS failed: {transport_reason(exc)}"
                        ) from None
                    raise _RetryableError(f"connection failed: {transport_reason(exc)}") from None
                except httpx.TransportError as exc:
                    raise _RetryableError(f"connection failed: {transport_reason(exc)}") from None
                if resp.status_code in RETRYABLE_STATUS:
                    wait = retry_after(resp.headers.get("Retry-After"))
                    resp.close()
                    raise _RetryableError(f"HTTP {resp.status_code}", wait)
                return resp
            except _RetryableError as exc:
                if attempt > policy.retries:
                    raise RegistryError(
                        f"{what}: {exc} (gave up after {_attempts(attempt)})"
                    ) from None
                delay = policy.delay(attempt, exc.wait)
                if delay is None:
                    raise RegistryError(
                        f"{what}: {exc}; the registry asks to wait {exc.wait:.0f} s, longer "
                        f"than {policy.max_retry_after:.0f} s"
                    ) from None
                time.sleep(delay)

    # --- ping -------------------------------------------------------------------------

    def ping(self, ep: Endpoint) -> None:
        """Choose ``ep``'s scheme and record its challenge (once)."""
        if ep.base_url is not None:
            return
        loopback = is_loopback(ep.host)
        attempts: list[tuple[str, bool]] = [("https", not ep.insecure)]
        if ep.insecure or loopback:
            attempts.append(("http", True))
        first_error: RegistryError | None = None
        for scheme, verify in attempts:
            base = f"{scheme}://{ep.host}{ep.path}"
            client = self.http(verify)
            try:
                resp = self._with_retries(
                    f"{ep.label}: GET /v2/",
                    functools.partial(client.get, f"{base}/v2/"),
                    self._policy(ep),
                )
            except RegistryError as exc:
                first_error = first_error or exc
                continue
            with contextlib.closing(resp):
                if resp.status_code not in (200, 401):
                    first_error = first_error or RegistryError(
                        f"{ep.label}: GET /v2/ answered HTTP {resp.status_code}: not an OCI "
                        "registry API"
                    )
                    continue
                ep.base_url, ep.verify = base, verify
                secure = (scheme == "https" and verify) or ep.insecure or loopback
                ep.authorizer = Authorizer(
                    registry=ep.label, credentials=self._credentials(ep), secure_transport=secure
                )
                if resp.status_code == 401:
                    ep.authorizer.challenge = pick_challenge(resp.headers.get("WWW-Authenticate"))
                return
        assert first_error is not None
        msg = str(first_error)
        # A loopback registry's https failure may only mean it speaks plain HTTP: hint only
        # when its certificate was not trusted.
        if not ep.insecure and "SSL" in msg and (not loopback or "CERTIFICATE_VERIFY" in msg):
            raise RegistryError(f"{first_error} (a private CA? use --ca-cert FILE)")
        raise first_error

    # --- requests ---------------------------------------------------------------------

    def request(
        self,
        ep: Endpoint,
        method: str,
        path: str,
        *,
        scope: str,
        what: str,
        headers: dict[str, str] | None = None,
        content: bytes | Callable[[], IO[bytes]] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One API request on ``ep`` with auth and retries (errors other than 401 are
        returned to the caller, which knows what a 404 means there)."""
        self.ping(ep)
        assert ep.base_url is not None and ep.authorizer is not None
        authz = ep.authorizer
        client = self.http(ep.verify)
        url = f"{ep.base_url}{path}"
        reauthenticated = False
        while True:

            def send() -> httpx.Response:
                hdrs = dict(headers or {})
                value = authz.header(scope, client)
                if value:
                    hdrs["Authorization"] = value
                if not callable(content):
                    req = client.build_request(method, url, headers=hdrs, content=content)
                    return client.send(req, stream=stream)
                with content() as body:  # a file, opened again for every attempt
                    req = client.build_request(method, url, headers=hdrs, content=body)
                    return client.send(req, stream=stream)

            resp = self._with_retries(what, send, self._policy(ep))
            if resp.status_code == 401:
                challenge = resp.headers.get("WWW-Authenticate")
                detail = error_detail(resp.read())
                resp.close()
                if not reauthenticated and authz.challenged(challenge, scope):
                    reauthenticated = True
                    continue
                raise authz.refused(401, detail)
            if resp.status_code == 403:
                detail = error_detail(resp.read())
                resp.close()
                raise authz.refused(403, detail)
            return resp

    def fetch(
        self,
        repository: str,
        kind: str,
        reference: str,
        *,
        limit: int,
        accept: str | None = None,
        endpoint: Endpoint | None = None,
    ) -> Fetched:
        """GET ``/v2/<repository>/<kind>/<reference>`` whole (manifests, configs), at most
        ``limit`` bytes. Mirrors are tried first; a mirror that fails is skipped."""
        eps = [endpoint] if endpoint is not None else self.endpoints
        path = f"/v2/{repository}/{kind}/{reference}"
        errors: list[str] = []
        for ep in eps:
            what = f"{ep.label}: {repository}: {kind[:-1]} {show(reference)[1:-1]}"
            try:
                return self._fetch_from(ep, path, repository, what, limit, accept)
            except (RegistryError, RegistryNotFoundError) as exc:
                if not ep.mirror or ep is eps[-1]:
                    raise
                errors.append(str(exc))
        raise RegistryError("; ".join(errors))

    def _fetch_from(
        self, ep: Endpoint, path: str, repository: str, what: str, limit: int, accept: str | None
    ) -> Fetched:
        # request() retries what fails before the headers; a body that breaks or stalls
        # later is fetched again whole (documents are small).
        policy = self.settings.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._fetch_once(ep, path, repository, what, limit, accept)
            except _RetryableError as exc:
                if attempt > policy.retries:
                    raise RegistryError(
                        f"{what}: {exc} (gave up after {_attempts(attempt)})"
                    ) from None
                time.sleep(policy.delay(attempt, None) or 0.0)

    def _fetch_once(
        self, ep: Endpoint, path: str, repository: str, what: str, limit: int, accept: str | None
    ) -> Fetched:
        headers = {"Accept": accept} if accept else {}
        resp = self.request(
            ep, "GET", path, scope=f"repository:{repository}:pull", what=what, headers=headers,
            stream=True,
        )  # fmt: skip
        with contextlib.closing(resp):
            if resp.status_code == 404:
                detail = error_detail(resp.read())
                raise RegistryNotFoundError(
                    f"{what}: not found" + (f" ({detail})" if detail else "")
                )
            if resp.status_code != 200:
                detail = error_detail(resp.read())
                raise RegistryError(
                    f"{what}: HTTP {resp.status_code}" + (f" ({detail})" if detail else "")
                )
            declared = parse_int(resp.headers.get("Content-Length"))
            if declared is not None and declared > limit:
                raise RegistryError(f"{what}: {declared} bytes, over the limit of {limit}")
            body = bytearray()
            try:
                for chunk in resp.iter_raw(BLOB_CHUNK):
                    body += chunk
                    if len(body) > limit:
                        raise RegistryError(f"{what}: over the limit of {limit} bytes")
            except httpx.TimeoutException as exc:
                raise _RetryableError(f"timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise _RetryableError(f"connection broken: {transport_reason(exc)}") from None
            except httpx.HTTPError as exc:
                raise RegistryError(f"{what}: transfer failed: {type(exc).__name__}") from None
            media_type = resp.headers.get("Content-Type")
            if media_type:
                media_type = media_type.split(";", 1)[0].strip() or None
            return Fetched(
                data=bytes(body),
                media_type=media_type,
                digest_header=resp.headers.get("Docker-Content-Digest"),
                endpoint=ep,
            )

    # --- pushing (db push, tests) -----------------------------------------------------

    def blob_exists(self, repository: str, digest: str) -> bool:
        ep = self.endpoints[-1]
        resp = self.request(
            ep, "HEAD", f"/v2/{repository}/blobs/{digest}",
            scope=f"repository:{repository}:pull,push", what=f"{ep.label}: {repository}: blob",
        )  # fmt: skip
        resp.close()
        return resp.status_code == 200

    def push_blob(
        self, repository: str, digest: str, size: int, content: Callable[[], IO[bytes]] | bytes
    ) -> None:
        """Monolithic upload (POST then PUT ?digest=), skipped when the blob exists."""
        if self.blob_exists(repository, digest):
            return
        ep = self.endpoints[-1]
        scope = f"repository:{repository}:pull,push"
        what = f"{ep.label}: {repository}: upload {digest}"
        resp = self.request(
            ep, "POST", f"/v2/{repository}/blobs/uploads/", scope=scope, what=what,
            headers={"Content-Length": "0"},
        )  # fmt: skip
        resp.close()
        if resp.status_code != 202 or "Location" not in resp.headers:
            raise RegistryError(f"{what}: starting the upload answered HTTP {resp.status_code}")
        location = str(resp.url.join(resp.headers["Location"]))
        sep = "&" if "?" in location else "?"
        assert ep.base_url is not None
        path = location.removeprefix(ep.base_url) if location.startswith(ep.base_url) else None
        if path is None:
            raise RegistryError(f"{what}: the upload location points to another host")
        resp = self.request(
            ep, "PUT", f"{path}{sep}digest={digest}", scope=scope, what=what, content=content,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )  # fmt: skip
        detail = error_detail(resp.read())
        resp.close()
        if resp.status_code != 201:
            raise RegistryError(f"{what}: HTTP {resp.status_code} {detail}".rstrip())

    def push_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> None:
        ep = self.endpoints[-1]
        what = f"{ep.label}: {repository}: manifest {reference}"
        resp = self.request(
            ep, "PUT", f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull,push", what=what, content=data,
            headers={"Content-Type": media_type},
        )  # fmt: skip
        detail = error_detail(resp.read())
        resp.close()
        if resp.status_code != 201:
            raise RegistryError(f"{what}: HTTP {resp.status_code} {detail}".rstrip())
