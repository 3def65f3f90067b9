"""Self-tests of the registry test infrastructure, against the real distribution + skopeo."""

from __future__ import annotations

import hashlib
import json
import ssl
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.images.builder import BuiltImage, Entry, build_image, layer_tar
from tests.registry.certs import make_tls_files
from tests.registry.fault_proxy import (
    Corrupt,
    FaultProxy,
    append,
    corrupt,
    drop,
    hang,
    no_range,
    reset_after,
    status,
)
from tests.registry.fixtures import HTPASSWD_CREDS, TOKEN_CREDS, PushedImage
from tests.registry.push import SkopeoError, push_docker_archive, push_oci_layout, skopeo_inspect
from tests.registry.server import RegistryServer
from tests.registry.token_server import REGISTRY_TOKEN_LEEWAY, TokenServer, decode_jwt

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = {"Accept": f"{OCI_MANIFEST}, {DOCKER_MANIFEST}"}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    params = {}
    for part in rest.split('",'):
        key, _, value = part.partition("=")
        params[key.strip()] = value.strip().strip('"')
    return scheme, params


def big_layer(image: BuiltImage) -> tuple[str, int]:
    layer = max(image.layers, key=lambda la: la.blob_size)
    return layer.blob_digest, layer.blob_size


# --- anonymous ----------------------------------------------------------------------------


def test_anonymous_push_and_read_back(registry: RegistryServer, pushed_image: PushedImage) -> None:
    image = pushed_image.image
    # gzip blobs are copied as-is, so the digest is the layout's.
    assert pushed_image.digest == image.manifest_digest
    raw = skopeo_inspect(registry, f"{pushed_image.repo}:v1").encode()
    assert sha256(raw) == pushed_image.digest
    with registry.client() as client:
        resp = client.get(f"/v2/{pushed_image.repo}/manifests/v1", headers=ACCEPT)
        assert resp.status_code == 200
        assert resp.headers["Docker-Content-Digest"] == pushed_image.digest
        assert resp.headers["Content-Type"] == OCI_MANIFEST
        assert json.loads(resp.content)["config"]["digest"] == image.config_digest
        config = client.get(f"/v2/{pushed_image.repo}/blobs/{image.config_digest}")
        assert config.status_code == 200
        assert sha256(config.content) == image.config_digest
        assert client.get(f"/v2/{pushed_image.repo}/manifests/nope").status_code == 404


def test_docker_archive_push_is_schema2(
    registry: RegistryServer, tmp_path: Path, unique_repo: str
) -> None:
    built = build_image(
        tmp_path / "img.tar", [layer_tar([Entry("etc/x", b"x\n")])], fmt="docker-archive"
    )
    digest = push_docker_archive(built.path, registry, unique_repo, "d1")
    manifest = json.loads(skopeo_inspect(registry, f"{unique_repo}@{digest}"))
    assert manifest["mediaType"] == DOCKER_MANIFEST
    assert manifest["config"]["digest"] == built.config_digest


# --- htpasswd + TLS -----------------------------------------------------------------------


def test_htpasswd_rejects_wrong_password(
    htpasswd_registry: RegistryServer, small_image: BuiltImage, unique_repo: str
) -> None:
    user, password = HTPASSWD_CREDS
    assert htpasswd_registry.credentials == HTPASSWD_CREDS
    with htpasswd_registry.client() as client:
        anon = client.get("/v2/")
        assert anon.status_code == 401
        assert anon.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert client.get("/v2/", auth=(user, password + "x")).status_code == 401
        assert client.get("/v2/", auth=(user, password)).status_code == 200
    with pytest.raises(SkopeoError, match="unauthorized|authentication required"):
        push_oci_layout(small_image.path, htpasswd_registry, unique_repo, "v1", creds=(user, "bad"))
    digest = push_oci_layout(
        small_image.path, htpasswd_registry, unique_repo, "v1", creds=HTPASSWD_CREDS
    )
    raw = skopeo_inspect(htpasswd_registry, f"{unique_repo}:v1", creds=HTPASSWD_CREDS)
    assert sha256(raw.encode()) == digest
    with pytest.raises(SkopeoError):
        skopeo_inspect(htpasswd_registry, f"{unique_repo}:v1")


# --- TLS ----------------------------------------------------------------------------------


def test_tls_verified_with_ca_only(
    tls_registry: RegistryServer, small_image: BuiltImage, unique_repo: str, tmp_path: Path
) -> None:
    assert tls_registry.url.startswith("https://127.0.0.1:")
    assert tls_registry.ca_cert is not None and tls_registry.ca_cert.is_file()
    digest = push_oci_layout(small_image.path, tls_registry, unique_repo, "v1")
    trusted = ssl.create_default_context(cafile=str(tls_registry.ca_cert))
    with httpx.Client(verify=trusted, trust_env=False) as client:
        resp = client.get(f"{tls_registry.url}/v2/{unique_repo}/manifests/v1", headers=ACCEPT)
        assert resp.status_code == 200
        assert resp.headers["Docker-Content-Digest"] == digest
    # The system trust store does not know the throwaway CA.
    with (
        httpx.Client(trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(f"{tls_registry.url}/v2/")
    # Nor does another throwaway CA: the chain is really checked.
    other = ssl.create_default_context(cafile=str(make_tls_files(tmp_path / "other").ca))
    with (
        httpx.Client(verify=other, trust_env=False) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.get(f"{tls_registry.url}/v2/")


# --- token auth ---------------------------------------------------------------------------


def test_token_flow(
    token_registry: RegistryServer,
    token_server: TokenServer,
    small_image: BuiltImage,
    unique_repo: str,
) -> None:
    digest = push_oci_layout(small_image.path, token_registry, unique_repo, "v1", creds=TOKEN_CREDS)
    pushes = [r for r in token_server.requests if r.status == 200]
    assert pushes and pushes[0].username == TOKEN_CREDS[0] and pushes[0].authorization
    assert TOKEN_CREDS[1] not in repr(token_server.requests)
    token_server.clear_requests()

    path = f"/v2/{unique_repo}/manifests/v1"
    with httpx.Client(base_url=token_registry.url, trust_env=False, timeout=10) as client:
        ping = client.get("/v2/")
        assert ping.status_code == 401
        scheme, params = parse_challenge(ping.headers["WWW-Authenticate"])
        assert scheme == "Bearer"
        assert params["realm"] == token_server.realm
        assert params["service"] == token_server.service
        challenge = client.get(path, headers=ACCEPT)
        assert challenge.status_code == 401
        assert parse_challenge(challenge.headers["WWW-Authenticate"])[1]["scope"] == (
            f"repository:{unique_repo}:pull"
        )

        def token_for(repo: str, auth: tuple[str, str] | None = TOKEN_CREDS) -> httpx.Response:
            query = {"service": params["service"], "scope": f"repository:{repo}:pull"}
            return client.get(params["realm"], params=query, auth=auth)

        resp = token_for(unique_repo)
        assert resp.status_code == 200
        body = resp.json()
        assert body["token"] == body["access_token"] and body["expires_in"] > 0
        header, claims = decode_jwt(body["token"])
        assert header["alg"] == "RS256" and header["x5c"]
        assert claims["aud"] == token_server.service and claims["iss"] == token_server.issuer
        assert claims["access"] == [
            {"type": "repository", "name": unique_repo, "actions": ["pull"]}
        ]
        ok = client.get(path, headers={**ACCEPT, "Authorization": f"Bearer {body['token']}"})
        assert ok.status_code == 200
        assert ok.headers["Docker-Content-Digest"] == digest

        other = token_for(unique_repo + "-other").json()["token"]
        denied = client.get(path, headers={**ACCEPT, "Authorization": f"Bearer {other}"})
        assert denied.status_code == 401
        assert "insufficient_scope" in denied.headers["WWW-Authenticate"]

        assert token_for(unique_repo, (TOKEN_CREDS[0], "wrong")).status_code == 401
        # Anonymous: a token granting nothing (Docker Hub style), which the registry refuses.
        anon = token_for(unique_repo, None)
        assert anon.status_code == 200 and decode_jwt(anon.json()["token"])[1]["access"] == []
        bearer = {"Authorization": f"Bearer {anon.json()['token']}"}
        assert client.get(path, headers={**ACCEPT, **bearer}).status_code == 401
        token_server.anonymous_pull = True
        anon_pull = token_for(unique_repo, None).json()["token"]
        bearer = {"Authorization": f"Bearer {anon_pull}"}
        assert client.get(path, headers={**ACCEPT, **bearer}).status_code == 200

    records = token_server.requests
    assert [r.status for r in records] == [200, 200, 401, 200, 200]
    assert [r.username for r in records] == [TOKEN_CREDS[0]] * 3 + [None, None]
    assert [r.authorization for r in records] == [True] * 3 + [False, False]
    assert all(r.query["service"] == [token_server.service] for r in records)
    assert "wrong" not in repr(records) and TOKEN_CREDS[1] not in repr(records)


def test_token_oauth2_identity_token_flow(
    token_registry: RegistryServer, token_server: TokenServer, pushed_image: PushedImage
) -> None:
    # The image lives on the anonymous registry; pushing again here goes through the
    # token server, whose records are cleared below.
    push_oci_layout(
        pushed_image.image.path, token_registry, pushed_image.repo, "v1", creds=TOKEN_CREDS
    )
    token_server.clear_requests()
    scope = f"repository:{pushed_image.repo}:pull"
    user, password = TOKEN_CREDS
    with httpx.Client(base_url=token_registry.url, trust_env=False, timeout=10) as client:
        form = {
            "grant_type": "password",
            "username": user,
            "password": password,
            "service": token_server.service,
            "client_id": "hullscan",
            "scope": scope,
        }
        first = client.post(token_server.realm, data=form)
        assert first.status_code == 200
        refresh = first.json()["refresh_token"]
        bad = client.post(token_server.realm, data={**form, "password": "nope"})
        assert bad.status_code == 401
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "service": token_server.service,
            "client_id": "hullscan",
            "scope": scope,
        }
        second = client.post(token_server.realm, data=form)
        assert second.status_code == 200 and "refresh_token" not in second.json()
        path = f"/v2/{pushed_image.repo}/manifests/v1"
        bearer = {"Authorization": f"Bearer {second.json()['access_token']}"}
        assert client.get(path, headers={**ACCEPT, **bearer}).status_code == 200
        token_server.revoke_refresh_tokens()
        assert client.post(token_server.realm, data=form).status_code == 401
    records = token_server.requests
    assert [(r.grant_type, r.status, r.username) for r in records] == [
        ("password", 200, user),
        ("password", 401, user),
        ("refresh_token", 200, user),
        ("refresh_token", 401, None),
    ]
    assert records[2].refresh_token_sent
    text = repr(records)
    assert password not in text and "nope" not in text and refresh not in text


def test_token_expiry_is_enforced_by_the_registry(
    token_registry: RegistryServer, token_server: TokenServer, pushed_image: PushedImage
) -> None:
    push_oci_layout(
        pushed_image.image.path, token_registry, pushed_image.repo, "v1", creds=TOKEN_CREDS
    )
    # Whole seconds: expires_in=2 leaves at least 1 s of validity for the first request.
    token_server.expires_in = 2
    token_server.registry_leeway = REGISTRY_TOKEN_LEEWAY
    token, _ = token_server.issue(TOKEN_CREDS[0], [f"repository:{pushed_image.repo}:pull"])
    path = f"/v2/{pushed_image.repo}/manifests/v1"
    headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=token_registry.url, trust_env=False, timeout=10) as client:
        assert client.get(path, headers=headers).status_code == 200
        time.sleep(2.1)
        assert client.get(path, headers=headers).status_code == 401


# --- fault proxy --------------------------------------------------------------------------


def test_proxy_transparent_push_and_range(
    registry: RegistryServer, fault_proxy: FaultProxy, small_image: BuiltImage, unique_repo: str
) -> None:
    digest = push_oci_layout(small_image.path, fault_proxy, unique_repo, "v1")
    assert digest == small_image.manifest_digest
    uploads = fault_proxy.matching("POST", r"/blobs/uploads/$")
    assert uploads and all(r.status == 202 for r in uploads)
    assert fault_proxy.matching("PUT", r"/manifests/v1$")[0].status == 201
    with httpx.Client(base_url=fault_proxy.url, trust_env=False, timeout=10) as client:
        # Location headers are rewritten to the proxy.
        started = client.post(f"/v2/{unique_repo}/blobs/uploads/")
        assert started.status_code == 202
        assert started.headers["Location"].startswith(fault_proxy.url + "/v2/")
        blob, size = big_layer(small_image)
        part = client.get(f"/v2/{unique_repo}/blobs/{blob}", headers={"Range": "bytes=1000-"})
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes 1000-{size - 1}/{size}"
        assert len(part.content) == size - 1000
    assert fault_proxy.requests[-1].range == "bytes=1000-"


def test_proxy_faults_happen(pushed_image: PushedImage, fault_proxy: FaultProxy) -> None:
    blob, size = big_layer(pushed_image.image)
    url = f"/v2/{pushed_image.repo}/blobs/{blob}"
    with httpx.Client(base_url=fault_proxy.url, trust_env=False, timeout=10) as client:
        # reset_after: headers promise `size`, the body stops at 1000 bytes, then a RST
        # (ECONNRESET: ReadError) or, with rst=False, a FIN (a short body: RemoteProtocolError).
        for rst, error in ((True, httpx.ReadError), (False, httpx.RemoteProtocolError)):
            fault_proxy.inject(reset_after(1000, rst=rst), method="GET", path="/blobs/")
            got = 0
            with pytest.raises(error), client.stream("GET", url) as resp:
                assert resp.status_code == 200
                assert int(resp.headers["Content-Length"]) == size
                for chunk in resp.iter_raw():
                    got += len(chunk)
            assert got <= 1000 < size
            record = fault_proxy.requests[-1]
            assert record.bytes_sent == 1000 and record.aborted

        # The rule is used up: the next request is clean.
        whole = client.get(url)
        assert whole.status_code == 200 and sha256(whole.content) == blob

        fault_proxy.inject(drop(), path="/blobs/")
        with pytest.raises(httpx.ReadError, match="reset"):
            client.get(url)

        fault_proxy.inject(status(429), path="/manifests/", times=2)
        for _ in range(2):
            limited = client.get(f"/v2/{pushed_image.repo}/manifests/v1", headers=ACCEPT)
            assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        assert (
            client.get(f"/v2/{pushed_image.repo}/manifests/v1", headers=ACCEPT).status_code == 200
        )
        assert [r.upstream_status for r in fault_proxy.matching("GET", "/manifests/")] == [
            None,
            None,
            200,
        ]

        fault_proxy.inject(status(503, {}, b"busy"), method="GET")
        busy = client.get(url)
        assert busy.status_code == 503 and busy.content == b"busy"
        assert "Retry-After" not in busy.headers

        fault_proxy.inject(corrupt(), path="/blobs/")
        bad = client.get(url)
        assert bad.status_code == 200 and len(bad.content) == size
        assert sha256(bad.content) != blob
        assert isinstance(fault_proxy.requests[-1].fault, Corrupt)

        fault_proxy.inject(hang(0.6), path="/blobs/")
        start = time.monotonic()
        assert sha256(client.get(url).content) == blob
        assert time.monotonic() - start >= 0.6

        fault_proxy.inject(hang(3, after_bytes=500), path="/blobs/")
        with pytest.raises(httpx.ReadTimeout):
            client.get(url, timeout=0.5)

        fault_proxy.inject(no_range(), path="/blobs/")
        full = client.get(url, headers={"Range": "bytes=1000-"})
        assert full.status_code == 200 and len(full.content) == size
        resumed = client.get(url, headers={"Range": "bytes=1000-"})
        assert resumed.status_code == 206 and len(resumed.content) == size - 1000
        assert resumed.content == whole.content[1000:]
    assert [r.range for r in fault_proxy.matching("GET", "/blobs/")][-2:] == ["bytes=1000-"] * 2


def test_proxy_append_and_paused_reset(pushed_image: PushedImage, fault_proxy: FaultProxy) -> None:
    blob, size = big_layer(pushed_image.image)
    url = f"/v2/{pushed_image.repo}/blobs/{blob}"
    with httpx.Client(base_url=fault_proxy.url, trust_env=False, timeout=10) as client:
        fault_proxy.inject(append(10), path="/blobs/")
        more = client.get(url)
        assert int(more.headers["Content-Length"]) == size + 10
        assert sha256(more.content[:size]) == blob and more.content[size:] == bytes(10)
        # Unannounced: no Content-Length, the close ends the body.
        fault_proxy.inject(append(10, announce=False), path="/blobs/")
        more = client.get(url)
        assert "Content-Length" not in more.headers and len(more.content) == size + 10
        assert fault_proxy.requests[-1].content_length is None

        # With a pause before the RST the client reads every byte sent; without, it may not.
        fault_proxy.inject(reset_after(1000, pause=0.5), path="/blobs/")
        got = 0
        with pytest.raises(httpx.ReadError), client.stream("GET", url) as resp:
            for chunk in resp.iter_raw():
                got += len(chunk)
        assert got == 1000


def test_proxy_keeps_token_challenge(
    token_registry: RegistryServer,
    token_server: TokenServer,
    fault_proxy_factory: Callable[..., FaultProxy],
    pushed_image: PushedImage,
) -> None:
    proxy = fault_proxy_factory(token_registry)
    push_oci_layout(pushed_image.image.path, proxy, pushed_image.repo, "v1", creds=TOKEN_CREDS)
    assert any(r.authorization for r in proxy.requests)
    with httpx.Client(base_url=proxy.url, trust_env=False, timeout=10) as client:
        resp = client.get("/v2/")
        assert resp.status_code == 401
        realm = urllib.parse.urlsplit(
            resp.headers["WWW-Authenticate"].split('realm="', 1)[1].split('"', 1)[0]
        )
        assert f"{realm.scheme}://{realm.netloc}" == token_server.url  # not rewritten
