"""Run distribution's ``docker-registry`` (2.8) on 127.0.0.1 for one test session.

    with RegistryServer(tmp_path) as reg:                      # anonymous, plain HTTP
        reg.url, reg.host, reg.log_path
    RegistryServer(tmp_path, tls=True).ca_cert                  # HTTPS, trust ``ca_cert``
    RegistryServer(tmp_path, tls=True, htpasswd=("u", "pw"))     # basic auth
    RegistryServer(tmp_path, token=token_server)                # bearer tokens (TokenServer)

distribution 2.8.2 accepts ``auth: htpasswd`` over plain HTTP (its docs only *recommend* TLS),
so ``htpasswd`` works with or without ``tls``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from tests.registry import Stoppable
from tests.registry.certs import TLSFiles, make_tls_files

if TYPE_CHECKING:
    from tests.registry.token_server import TokenServer

REGISTRY_BIN = "docker-registry"
LOCALHOST = "127.0.0.1"
# Env prefixes that would leak into the child: distribution maps REGISTRY_* onto its config,
# and skopeo/Go honour proxy variables.
_SCRUBBED_ENV = ("REGISTRY_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def child_env(**extra: str) -> dict[str, str]:
    """The current environment without proxy/REGISTRY_* variables, 127.0.0.1 never proxied."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_SCRUBBED_ENV)}
    env["NO_PROXY"] = env["no_proxy"] = f"{LOCALHOST},localhost"
    env.update(extra)
    return env


def free_port() -> int:
    """A port free right now. Racy by nature (another process may take it before the
    registry binds), hence the retry in :class:`RegistryServer`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return int(s.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(text.splitlines()[-lines:])


class RegistryStartError(RuntimeError):
    pass


class RegistryServer(Stoppable):
    """A running ``docker-registry serve`` with filesystem storage under ``directory``.

    Attributes: ``host`` ("127.0.0.1:PORT", what goes into an image reference), ``url``
    (``http(s)://host``), ``ca_cert`` (CA PEM to trust, or None without TLS), ``log_path``,
    ``storage_dir``, ``credentials`` (the htpasswd pair or None), ``token_server``.
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        htpasswd: tuple[str, str] | None = None,
        tls: bool | TLSFiles = False,
        token: TokenServer | None = None,
        start_timeout: float = 10.0,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        if htpasswd is not None and token is not None:
            raise ValueError("htpasswd and token auth are exclusive")
        if shutil.which(REGISTRY_BIN) is None:
            raise RegistryStartError(f"{REGISTRY_BIN} not found on PATH")
        self._own_dir = directory is None
        self.directory = (
            Path(tempfile.mkdtemp(prefix="hullscan-registry-")) if directory is None else directory
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.credentials = htpasswd
        self.token_server = token
        self.storage_dir = self.directory / "storage"
        self.log_path = self.directory / "registry.log"
        self.config_path = self.directory / "config.yml"
        self.tls: TLSFiles | None = None
        if tls is True:
            self.tls = make_tls_files(self.directory / "tls")
        elif isinstance(tls, tuple):
            self.tls = tls
        self.ca_cert: Path | None = self.tls.ca if self.tls else None
        self._extra_config = extra_config or {}
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        try:
            self._start(start_timeout)
        except BaseException:
            self.stop()
            raise

    # --- derived ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this registry: base URL set, CA trusted, no env proxies."""
        if self.ca_cert is not None:
            kwargs.setdefault("verify", ssl.create_default_context(cafile=str(self.ca_cert)))
        kwargs.setdefault("timeout", 10.0)
        return httpx.Client(base_url=self.url, trust_env=False, **kwargs)

    # --- lifecycle -------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        http: dict[str, Any] = {
            "addr": self.host,
            "secret": secrets.token_hex(16),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        }
        if self.tls:
            http["tls"] = {"certificate": str(self.tls.cert), "key": str(self.tls.key)}
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage_dir)},
                "delete": {"enabled": True},
                # No background goroutines touching the storage while tests inspect it.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.credentials:
            htpasswd_file = self.directory / "htpasswd"
            user, password = self.credentials
            # -B: bcrypt, the only hash distribution accepts.
            out = subprocess.run(
                ["htpasswd", "-Bbn", user, password], capture_output=True, check=True
            ).stdout
            htpasswd_file.write_bytes(out)
            config["auth"] = {"htpasswd": {"realm": "hullscan-test", "path": str(htpasswd_file)}}
        if self.token_server is not None:
            ts = self.token_server
            config["auth"] = {
                "token": {
                    "realm": ts.realm,
                    "service": ts.service,
                    "issuer": ts.issuer,
                    "rootcertbundle": str(ts.signing.cert_path),
                }
            }
        _deep_update(config, self._extra_config)
        return config

    def _start(self, timeout: float) -> None:
        for attempt in range(3):
            self.port = free_port()
            self.config_path.write_text(yaml.safe_dump(self._config(), sort_keys=False))
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    [REGISTRY_BIN, "serve", str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=child_env(),
                    start_new_session=True,
                )
            try:
                self._wait_ready(timeout)
                return
            except RegistryStartError:
                self._terminate()
                # Lost the port race with another process: try a fresh port.
                if attempt < 2 and "address already in use" in log_tail(self.log_path):
                    continue
                raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        with self.client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    last_error = f"exited with status {self._proc.returncode}"
                    break
                try:
                    status = client.get("/v2/").status_code
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
                else:
                    if status in (200, 401):
                        return
                    last_error = f"GET /v2/ answered {status}"
                time.sleep(0.05)
        raise RegistryStartError(
            f"docker-registry on {self.host} not ready after {timeout:.0f}s ({last_error}); "
            f"config {self.config_path}, log tail:\n{log_tail(self.log_path)}"
        )

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop(self) -> None:
        self._terminate()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __repr__(self) -> str:
        mode = "token" if self.token_server else "htpasswd" if self.credentials else "anonymous"
        return f"<RegistryServer {self.url} {mode}>"


def _deep_update(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value
