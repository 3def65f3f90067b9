"""Registry TLS and authentication end to end: ``hullscan sbom REF`` as a real process against
distribution's registry (HTTPS, htpasswd, Docker token auth), Docker config files and real
credential-helper executables. Every run is also checked for leaked secrets: stdout, stderr,
the json/cyclonedx/spdx reports and every file the run wrote (cache included)."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hullscan.image.registry.blobs import RegistryBlobOpener
from hullscan.image.registry.credentials import Credentials
from hullscan.image.registry.settings import RegistrySettings
from hullscan.image.registry.source import RegistrySource
from tests.images.builder import BuiltImage, Entry, build_image, layer_tar
from tests.integration.cli_support import (
    Run,
    Sandbox,
    assert_one_line_error,
    cache_entries,
    run_cli,
)
from tests.registry.fault_proxy import FaultProxy, hang
from tests.registry.fixtures import HTPASSWD_CREDS, TOKEN_CREDS
from tests.registry.push import push_oci_layout
from tests.registry.server import RegistryServer
from tests.registry.token_server import REGISTRY_TOKEN_LEEWAY, TokenServer

REPO = "auth/app"
TAG = "v1"
HELPER = "hstest"  # docker-credential-hstest, written per test

_APK_DB = (
    b"C:Q1Zm9vYmFyYmF6cXV4cXV1eHF1dXg=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:1\nI:1\n"
    b"T:the musl c library\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:test\nt:1\nc:x\n\n"
)
_METADATA = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\n"


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_image(tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    """Two gzip layers, each with a package, so the SBOM comparison has content."""
    layers = [
        layer_tar(
            [
                Entry("etc", kind="dir"),
                Entry("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                Entry("lib/apk/db/installed", _APK_DB),
            ]
        ),
        layer_tar(
            [
                Entry(
                    "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", _METADATA
                )
            ]
        ),
    ]
    out = tmp_path_factory.mktemp("auth-image") / "oci"
    return build_image(out, layers, fmt="oci-dir", compression="gzip")


@pytest.fixture(scope="module")
def baseline(auth_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The SBOM of the OCI layout itself: what every registry scan must equal."""
    sandbox = Sandbox(tmp_path_factory.mktemp("baseline"))
    r = run_cli("sbom", f"oci-dir:{auth_image.path}", "-f", "json", "-q", "--no-cache",
                sandbox=sandbox, env=clean_env(tmp_path_factory.mktemp("no-docker")))  # fmt: skip
    doc: dict[str, Any] = r.json()
    assert {(p["name"], p["version"]) for p in doc["packages"]} == {
        ("musl", "1.2.4-r2"),
        ("requests", "2.31.0"),
    }
    return doc


@pytest.fixture(scope="module")
def tls_pushed(tls_registry: RegistryServer, auth_image: BuiltImage) -> str:
    push_oci_layout(auth_image.path, tls_registry, REPO, TAG)
    return f"{tls_registry.host}/{REPO}:{TAG}"


@pytest.fixture(scope="module")
def htpasswd_pushed(htpasswd_registry: RegistryServer, auth_image: BuiltImage) -> str:
    push_oci_layout(auth_image.path, htpasswd_registry, REPO, TAG, creds=HTPASSWD_CREDS)
    return f"{htpasswd_registry.host}/{REPO}:{TAG}"


@pytest.fixture(scope="module")
def token_pushed(token_registry: RegistryServer, auth_image: BuiltImage) -> str:
    push_oci_layout(auth_image.path, token_registry, REPO, TAG, creds=TOKEN_CREDS)
    return f"{token_registry.host}/{REPO}:{TAG}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox").make()


@pytest.fixture
def issued(token_server: TokenServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token the token server signs during the test (to check none leaks)."""
    tokens: list[str] = []
    original = token_server.issue

    def issue(username: str | None, scopes: Any) -> tuple[str, list[dict[str, Any]]]:
        token, access = original(username, scopes)
        tokens.append(token)
        return token, access

    monkeypatch.setattr(token_server, "issue", issue)
    return tokens


# --- helpers --------------------------------------------------------------------------------


def clean_env(docker_config: Path, **extra: str) -> dict[str, str]:
    """No credentials or registry settings from the caller's environment; 127.0.0.1 never
    proxied; ``DOCKER_CONFIG`` pointing at ``docker_config``."""
    env = {
        "DOCKER_CONFIG": str(docker_config),
        "HULLSCAN_REGISTRY_USERNAME": "",
        "HULLSCAN_REGISTRY_PASSWORD": "",
        "HULLSCAN_REGISTRY_TOKEN": "",
        "HULLSCAN_REGISTRY_MIRRORS": "",
        "HULLSCAN_INSECURE_REGISTRIES": "",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def write_config(directory: Path, doc: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(doc))
    return directory


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class Helper:
    """A ``docker-credential-<name>`` executable: answers ``get`` for the servers it knows
    and logs what it was asked on stdin."""

    bindir: Path
    log: Path

    def calls(self) -> list[str]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def env_path(self) -> str:
        return f"{self.bindir}{os.pathsep}{os.environ.get('PATH', '')}"


_HELPER_SCRIPT = """\
#!{python}
import json, sys
server = sys.stdin.read()
with open({log!r}, "a") as f:
    f.write(json.dumps(server) + "\\n")
known = json.loads({known!r})
if sys.argv[1:] != ["get"] or server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = known[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""


def make_helper(directory: Path, name: str, known: dict[str, tuple[str, str]]) -> Helper:
    bindir = directory / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    log = directory / f"{name}.log"
    script = bindir / f"docker-credential-{name}"
    script.write_text(
        _HELPER_SCRIPT.format(python=sys.executable, log=str(log), known=json.dumps(known))
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return Helper(bindir, log)


def scan(
    ref: str, sandbox: Sandbox, *extra: str | Path, env: dict[str, str], stdin: str | None = None
) -> Run:
    """``hullscan sbom REF`` writing json, cyclonedx and spdx reports into the sandbox."""
    out = sandbox.root / "reports"
    out.mkdir(exist_ok=True)
    return run_cli(
        "sbom", ref, "-q", "--cache-dir", sandbox.cache, "--registry-retries", "0",
        "-f", "json", "-o", out / "sbom.json",
        "-f", "cyclonedx", "-o", out / "sbom.cdx.json",
        "-f", "spdx", "-o", out / "sbom.spdx.json",
        *extra, sandbox=sandbox, env=env, stdin=stdin, timeout=60,
    )  # fmt: skip


def assert_scanned(run: Run, sandbox: Sandbox, baseline: dict[str, Any], ref: str) -> None:
    """Success, and the same SBOM as the OCI layout (only the target differs)."""
    assert run.returncode == 0, run.describe()
    assert run.stdout == "", run.describe()
    out = sandbox.root / "reports"
    doc = json.loads((out / "sbom.json").read_text())
    assert doc["target"]["kind"] == "registry"
    assert doc["target"]["name"] == ref
    assert doc["target"]["manifest_digest"] == baseline["target"]["manifest_digest"]
    assert {k: v for k, v in doc.items() if k != "target"} == {
        k: v for k, v in baseline.items() if k != "target"
    }
    cdx = json.loads((out / "sbom.cdx.json").read_text())
    assert {c["name"] for c in cdx["components"]} >= {"musl", "requests"}
    spdx = json.loads((out / "sbom.spdx.json").read_text())
    assert {p["name"] for p in spdx["packages"]} >= {"musl", "requests"}
    # Both layers were fetched and cached (the cache is part of the leak check).
    assert len(cache_entries(sandbox.cache)) == 2


def assert_no_leak(run: Run, sandbox: Sandbox, secrets: Iterable[str]) -> None:
    """No secret in stdout/stderr nor in any file the run wrote (reports, cache, tmp, home)."""
    needles = sorted({s.encode() for s in secrets if s})
    assert needles
    for stream in (run.stdout, run.stderr):
        data = stream.encode()
        for n in needles:
            assert n not in data, f"secret {n[:6]!r}... in output:\n{run.describe()}"
    seen = 0
    for path in sandbox.root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            seen += 1
            data = path.read_bytes()
            for n in needles:
                assert n not in data, f"secret {n[:6]!r}... in {path}"
    assert seen or run.returncode != 0


def basic_secrets(user: str, password: str) -> list[str]:
    return [password, b64(f"{user}:{password}")]


# --- TLS ------------------------------------------------------------------------------------


def test_tls_with_ca_cert_matches_the_layout(
    tls_registry: RegistryServer, tls_pushed: str, baseline: dict[str, Any], sandbox: Sandbox,
    tmp_path: Path,
) -> None:  # fmt: skip
    assert tls_registry.ca_cert is not None
    run = scan(tls_pushed, sandbox, "--ca-cert", tls_registry.ca_cert, env=clean_env(tmp_path))
    assert_scanned(run, sandbox, baseline, tls_pushed)


def test_tls_without_ca_cert_fails_with_a_hint(
    tls_pushed: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = scan(tls_pushed, sandbox, env=clean_env(tmp_path))
    assert_one_line_error(run, 2, "TLS", "certificate", "--ca-cert")
    assert not (sandbox.root / "reports" / "sbom.json").exists()


def test_tls_insecure_skips_verification(
    tls_pushed: str, baseline: dict[str, Any], sandbox: Sandbox, tmp_path: Path
) -> None:
    # The registry speaks only HTTPS: success means unverified TLS, not a plain-HTTP fallback.
    run = scan(tls_pushed, sandbox, "--insecure", env=clean_env(tmp_path))
    assert_scanned(run, sandbox, baseline, tls_pushed)


# --- htpasswd (basic auth over TLS) ---------------------------------------------------------


def test_htpasswd_without_credentials(
    htpasswd_registry: RegistryServer, htpasswd_pushed: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    assert htpasswd_registry.ca_cert is not None
    run = scan(htpasswd_pushed, sandbox, "--ca-cert", htpasswd_registry.ca_cert,
               env=clean_env(tmp_path / "empty"))  # fmt: skip
    assert_one_line_error(run, 2, htpasswd_registry.host, "authentication required",
                          "no credentials found")  # fmt: skip


@pytest.mark.parametrize("how", ["stdin", "env", "config"])
def test_htpasswd_wrong_password(
    how: str,
    htpasswd_registry: RegistryServer,
    htpasswd_pushed: str,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    user, wrong = HTPASSWD_CREDS[0], "wrong-password-4b1d"
    config = tmp_path / "docker"
    args: list[str | Path] = ["--ca-cert", str(htpasswd_registry.ca_cert)]
    env = clean_env(config)
    stdin = None
    if how == "stdin":
        args += ["--username", user, "--password-stdin"]
        stdin = wrong + "\n"
    elif how == "env":
        env.update(HULLSCAN_REGISTRY_USERNAME=user, HULLSCAN_REGISTRY_PASSWORD=wrong)
    else:
        write_config(config, {"auths": {htpasswd_registry.host: {"auth": b64(f"{user}:{wrong}")}}})
    run = scan(htpasswd_pushed, sandbox, *args, env=env, stdin=stdin)
    line = assert_one_line_error(run, 2, htpasswd_registry.host, "not accepted")
    expected = {"stdin": "--username", "env": "environment", "config": "config.json"}[how]
    assert expected in line
    assert_no_leak(run, sandbox, basic_secrets(user, wrong))


def _htpasswd_source(
    how: str, host: str, tmp_path: Path
) -> tuple[list[str], dict[str, str], str | None, Helper | None]:
    user, password = HTPASSWD_CREDS
    config = tmp_path / "docker"
    env = clean_env(config)
    args: list[str] = []
    stdin: str | None = None
    helper: Helper | None = None
    if how == "stdin":
        args = ["--username", user, "--password-stdin"]
        stdin = password + "\n"
    elif how == "env":
        env.update(HULLSCAN_REGISTRY_USERNAME=user, HULLSCAN_REGISTRY_PASSWORD=password)
    elif how.startswith("auths-"):
        _, form, key_form = how.split("-")
        key = f"https://{host}/v1/" if key_form == "url" else host
        entry = (
            {"auth": b64(f"{user}:{password}")}
            if form == "auth"
            else {"username": user, "password": password}
        )
        # Another registry's entry must not be picked up instead.
        other = {"auth": b64("someone:else")}
        write_config(config, {"auths": {"127.0.0.1:1": other, key: entry}})
    else:
        helper = make_helper(tmp_path, HELPER, {host: (user, password)})
        env["PATH"] = helper.env_path()
        doc: dict[str, Any] = (
            {"credHelpers": {host: HELPER, "elsewhere.example": "missing"}}
            if how == "credHelpers"
            else {"credsStore": HELPER}
        )
        # The helper wins over a (wrong) auths entry, as in Docker.
        doc["auths"] = {host: {"auth": b64(f"{user}:stale")}}
        write_config(config, doc)
    return args, env, stdin, helper


@pytest.mark.parametrize(
    "how",
    [
        "stdin",
        "env",
        "auths-auth-url",
        "auths-auth-host",
        "auths-userpass-url",
        "auths-userpass-host",
        "credHelpers",
        "credsStore",
    ],
)
def test_htpasswd_credentials(
    how: str,
    htpasswd_registry: RegistryServer,
    htpasswd_pushed: str,
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    host = htpasswd_registry.host
    args, env, stdin, helper = _htpasswd_source(how, host, tmp_path)
    run = scan(htpasswd_pushed, sandbox, "--ca-cert", str(htpasswd_registry.ca_cert), *args,
               env=env, stdin=stdin)  # fmt: skip
    assert_scanned(run, sandbox, baseline, htpasswd_pushed)
    assert_no_leak(run, sandbox, [*basic_secrets(*HTPASSWD_CREDS), "stale"])
    if helper is not None:
        # Asked once, by the parent's ping (workers carry its endpoint state), for exactly
        # the server, no newline.
        assert helper.calls() == [host]


def test_explicit_credentials_win_over_docker_config(
    htpasswd_registry: RegistryServer,
    htpasswd_pushed: str,
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    user, password = HTPASSWD_CREDS
    config = write_config(
        tmp_path / "docker", {"auths": {htpasswd_registry.host: {"auth": b64(f"{user}:nope")}}}
    )
    run = scan(htpasswd_pushed, sandbox, "--ca-cert", str(htpasswd_registry.ca_cert),
               "--username", user, "--password-stdin", env=clean_env(config),
               stdin=password)  # fmt: skip
    assert_scanned(run, sandbox, baseline, htpasswd_pushed)
    assert_no_leak(run, sandbox, basic_secrets(user, password))


@pytest.mark.parametrize("case", ["helper-not-found", "no-docker-config"])
def test_docker_config_left_unused(
    case: str,
    htpasswd_registry: RegistryServer,
    htpasswd_pushed: str,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    """A helper without an entry for the registry, or --no-docker-config: anonymous."""
    host = htpasswd_registry.host
    user, password = HTPASSWD_CREDS
    args = ["--ca-cert", str(htpasswd_registry.ca_cert)]
    helper = make_helper(tmp_path, HELPER, {"registry.example:5000": (user, password)})
    if case == "helper-not-found":
        doc: dict[str, Any] = {"credHelpers": {host: HELPER}}
    else:
        doc = {"credsStore": HELPER, "auths": {host: {"auth": b64(f"{user}:{password}")}}}
        args.append("--no-docker-config")
    config = write_config(tmp_path / "docker", doc)
    env = clean_env(config, PATH=helper.env_path())
    run = scan(htpasswd_pushed, sandbox, *args, env=env)
    assert_one_line_error(run, 2, host, "no credentials found")
    assert helper.calls() == ([host] if case == "helper-not-found" else [])
    assert_no_leak(run, sandbox, basic_secrets(user, password))


def test_docker_config_errors_are_one_line_without_content(
    htpasswd_registry: RegistryServer, htpasswd_pushed: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    host = htpasswd_registry.host
    secret = "s3cret-in-a-broken-file"
    config = tmp_path / "docker"
    config.mkdir()
    # Cut short: the parser's message must not quote the text around the error.
    (config / "config.json").write_text(json.dumps({"auths": {host: {"password": secret}}})[:-3])
    args = ["--ca-cert", str(htpasswd_registry.ca_cert)]
    run = scan(htpasswd_pushed, sandbox, *args, env=clean_env(config))
    line = assert_one_line_error(run, 2, "config.json", "not valid JSON")
    assert secret not in line

    write_config(config, {"credHelpers": {host: "absent-helper"}})
    run = scan(htpasswd_pushed, sandbox, *args, env=clean_env(config))
    assert_one_line_error(run, 2, host, "docker-credential-absent-helper", "not on PATH")


# --- token auth -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["token-without-access", "token-server-refuses"])
def test_token_anonymous_pull_refused(
    policy: str,
    token_server: TokenServer,
    token_pushed: str,
    issued: list[str],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    token_server.reject_anonymous = policy == "token-server-refuses"
    run = scan(token_pushed, sandbox, env=clean_env(tmp_path))
    line = assert_one_line_error(run, 2, "no credentials found", "HTTP 401")
    if policy == "token-server-refuses":
        assert "token server refused" in line
    requests = token_server.requests
    # One token request, anonymous, and no retry loop.
    assert [(r.method, r.authorization, r.username) for r in requests] == [("GET", False, None)]
    assert bool(issued) == (policy == "token-without-access")
    if issued:
        assert_no_leak(run, sandbox, issued)


def test_token_anonymous_pull_allowed(
    token_server: TokenServer,
    token_pushed: str,
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    token_server.anonymous_pull = True
    run = scan(token_pushed, sandbox, env=clean_env(tmp_path))
    assert_scanned(run, sandbox, baseline, token_pushed)
    assert {(r.method, r.authorization, r.status) for r in token_server.requests} == {
        ("GET", False, 200)
    }


def test_token_with_credentials(
    token_server: TokenServer,
    token_pushed: str,
    issued: list[str],
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    user, password = TOKEN_CREDS
    run = scan(token_pushed, sandbox, "--username", user, "--password-stdin",
               env=clean_env(tmp_path), stdin=password + "\n")  # fmt: skip
    assert_scanned(run, sandbox, baseline, token_pushed)
    requests = token_server.requests
    assert requests
    for r in requests:
        assert (r.method, r.status, r.username, r.authorization) == ("GET", 200, user, True)
        assert r.query["service"] == [token_server.service]
        assert r.scopes == [f"repository:{REPO}:pull"]
    # The workers reuse the parent's token: one request for the whole scan.
    assert len(requests) == 1
    assert issued
    assert_no_leak(run, sandbox, [*basic_secrets(user, password), *issued])


def _refresh_token(token_server: TokenServer) -> str:
    user, password = TOKEN_CREDS
    form = {"grant_type": "password", "username": user, "password": password,
            "client_id": "test", "service": token_server.service}  # fmt: skip
    with httpx.Client(trust_env=False, timeout=10) as client:
        resp = client.post(token_server.realm, data=form)
    assert resp.status_code == 200
    token: str = resp.json()["refresh_token"]
    token_server.clear_requests()
    return token


@pytest.mark.parametrize("how", ["config", "stdin", "credsStore"])
def test_token_identity_token(
    how: str,
    token_registry: RegistryServer,
    token_server: TokenServer,
    token_pushed: str,
    issued: list[str],
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    refresh = _refresh_token(token_server)
    issued.clear()
    host = token_registry.host
    config = tmp_path / "docker"
    env = clean_env(config)
    args: list[str] = []
    stdin = None
    if how == "config":
        write_config(config, {"auths": {host: {"identitytoken": refresh}}})
    elif how == "stdin":
        args = ["--username", "<token>", "--password-stdin"]
        stdin = refresh + "\n"
    else:
        helper = make_helper(tmp_path, HELPER, {host: ("<token>", refresh)})
        env["PATH"] = helper.env_path()
        write_config(config, {"credsStore": HELPER})
    run = scan(token_pushed, sandbox, *args, env=env, stdin=stdin)
    assert_scanned(run, sandbox, baseline, token_pushed)
    requests = token_server.requests
    assert [(r.method, r.grant_type, r.status, r.username) for r in requests] == [
        ("POST", "refresh_token", 200, TOKEN_CREDS[0])
    ]
    assert requests[0].refresh_token_sent and not requests[0].authorization
    assert requests[0].scopes == [f"repository:{REPO}:pull"]
    assert requests[0].form["service"] == [token_server.service]
    assert_no_leak(run, sandbox, [refresh, TOKEN_CREDS[1], *issued])


def test_token_expired_at_the_registry_is_renewed_in_the_workers(
    token_registry: RegistryServer,
    token_server: TokenServer,
    token_pushed: str,
    auth_image: BuiltImage,
    fault_proxy_factory: Any,
    issued: list[str],
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    """Tokens announced for 300 s but accepted by the registry for ~2 s only: the layer
    requests (in worker processes, with the token the parent got) are held back until it
    has expired, get 401, and must fetch a new token and carry on."""
    token_server.expires_in = 300
    token_server.registry_leeway = REGISTRY_TOKEN_LEEWAY + 298
    proxy: FaultProxy = fault_proxy_factory(token_registry)
    for layer in auth_image.layers:
        proxy.inject(hang(3.0), method="GET", path=f"/blobs/{layer.blob_digest}$")
    ref = f"{proxy.host}/{REPO}:{TAG}"
    user, password = TOKEN_CREDS
    run = scan(ref, sandbox, "--username", user, "--password-stdin", env=clean_env(tmp_path),
               stdin=password)  # fmt: skip
    assert_scanned(run, sandbox, baseline, ref)
    for layer in auth_image.layers:
        seen = proxy.matching("GET", f"/blobs/{layer.blob_digest}$")
        assert [(r.status, r.authorization) for r in seen] == [(401, True), (200, True)]
    # The parent's token, then one new token per layer: no more.
    requests = token_server.requests
    assert len(requests) == 1 + len(auth_image.layers)
    assert {(r.method, r.status, r.username) for r in requests} == {("GET", 200, user)}
    assert_no_leak(run, sandbox, [*basic_secrets(user, password), *issued])


@pytest.mark.parametrize("via", ["token-server-grant", "registry-token"])
def test_token_for_the_wrong_repository(
    via: str,
    token_server: TokenServer,
    token_pushed: str,
    issued: list[str],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    """A token the registry refuses (401 insufficient_scope): one clear error, no loop."""
    user, password = TOKEN_CREDS
    env = clean_env(tmp_path)
    args: list[str] = []
    stdin = None
    if via == "token-server-grant":
        token_server.grants = {"someone-else/*": ("pull",)}
        args = ["--username", user, "--password-stdin"]
        stdin = password
    else:
        token, _ = token_server.issue(user, [f"repository:{REPO}-other:pull"])
        env["HULLSCAN_REGISTRY_TOKEN"] = token
    run = scan(token_pushed, sandbox, *args, env=env, stdin=stdin)
    assert_one_line_error(run, 2, "HTTP 401", "not accepted")
    expected = 1 if via == "token-server-grant" else 0
    assert len(token_server.requests) == expected
    assert_no_leak(run, sandbox, [*basic_secrets(user, password), *issued])


def test_registry_token_from_the_environment(
    token_server: TokenServer,
    token_pushed: str,
    issued: list[str],
    baseline: dict[str, Any],
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    token, _ = token_server.issue(TOKEN_CREDS[0], [f"repository:{REPO}:pull"])
    run = scan(token_pushed, sandbox, env=clean_env(tmp_path, HULLSCAN_REGISTRY_TOKEN=token))
    assert_scanned(run, sandbox, baseline, token_pushed)
    assert token_server.requests == []  # sent as it is, no token flow
    assert_no_leak(run, sandbox, [token])


# --- repr ---------------------------------------------------------------------------------


def test_reprs_of_live_objects_hide_secrets(
    token_server: TokenServer, token_pushed: str, issued: list[str]
) -> None:
    """After a real token flow the source, its client, endpoints, settings and layer openers
    hold the password and a token; none of their reprs may show them."""
    user, password = TOKEN_CREDS
    creds = Credentials(username=user, password=password, source="--username")
    registry = token_pushed.split("/", 1)[0]
    settings = RegistrySettings(credentials=((registry, creds),), use_docker_config=False)
    source = RegistrySource(token_pushed, settings=settings)
    try:
        info = source.resolve(None)
        openers = [layer.opener for layer in info.layers]
        assert all(isinstance(o, RegistryBlobOpener) for o in openers)
        endpoint = source.client.endpoints[-1]
        assert endpoint.authorizer is not None and endpoint.authorizer.tokens  # really holds one
        assert issued
        shown = "\n".join(
            repr(x)
            for x in (creds, settings, source.client, endpoint, endpoint.authorizer, info,
                      *openers, *endpoint.authorizer.tokens.values())
        )  # fmt: skip
    finally:
        source.close()
    for secret in (password, *issued):
        assert secret not in shown
    assert user in shown  # the username is no secret: the repr does show something
