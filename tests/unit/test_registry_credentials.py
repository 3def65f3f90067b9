"""Registry credentials and challenges without a server: ``WWW-Authenticate`` parsing, the
Authorizer's decisions, Docker's ``config.json`` and credential helpers (real executables),
the CLI's credential options, and reprs that never show a secret."""

from __future__ import annotations

import argparse
import base64
import io
import json
import stat
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from hullscan.cli.registry_opts import add_registry_args, registry_settings
from hullscan.errors import UsageError
from hullscan.image.registry import credentials as credmod
from hullscan.image.registry.auth import (
    Authorizer,
    Challenge,
    _Token,
    parse_challenges,
    pick_challenge,
)
from hullscan.image.registry.blobs import RegistryBlobOpener
from hullscan.image.registry.client import Endpoint, RegistryClient
from hullscan.image.registry.credentials import (
    ANONYMOUS,
    DOCKER_HUB_KEY,
    CredentialError,
    Credentials,
    config_key,
    from_docker_config,
    from_env,
    run_helper,
)
from hullscan.image.registry.errors import RegistryAuthError
from hullscan.image.registry.settings import RegistrySettings

SECRET = "pa55-w0rd-not-to-be-seen"
HOST = "registry.example:5000"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(directory: Path, doc: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = doc if isinstance(doc, str) else json.dumps(doc)
    (directory / "config.json").write_text(text)
    return directory


# --- WWW-Authenticate -----------------------------------------------------------------------


def params(c: Challenge) -> dict[str, str]:
    return dict(c.params)


def test_bearer_challenge_with_commas_inside_quotes() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:team/app:pull,push repository:other:pull"'
    )
    [c] = parse_challenges(header)
    assert c.scheme == "bearer"
    assert params(c) == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:team/app:pull,push repository:other:pull",
    }


def test_escaped_quotes_and_unquoted_values() -> None:
    [c] = parse_challenges(r'BASIC realm="say \"hi\", then \\ go" , charset=UTF-8')
    assert c.scheme == "basic"
    assert params(c) == {"realm": 'say "hi", then \\ go', "charset": "UTF-8"}
    [c] = parse_challenges("Bearer realm = https://t.example/token , service = s")
    assert params(c) == {"realm": "https://t.example/token", "service": "s"}


@pytest.mark.parametrize(
    ("header", "schemes"),
    [
        ('Basic realm="r", Bearer realm="https://t/token",service="s"', ["basic", "bearer"]),
        ('Bearer realm="https://t/token",Basic realm="r"', ["bearer", "basic"]),
        ('Basic, Bearer realm="https://t/token"', ["basic", "bearer"]),
        ('Negotiate, Basic realm="r"', ["negotiate", "basic"]),
        ('Negotiate YII+/xyz==, Basic realm="r"', ["negotiate", "basic"]),
        ('!!junk!!, Bearer realm="https://t/token"', ["bearer"]),
    ],
)
def test_several_challenges(header: str, schemes: list[str]) -> None:
    challenges = parse_challenges(header)
    assert [c.scheme for c in challenges] == schemes
    by_scheme = {c.scheme: c for c in challenges}
    if "basic" in by_scheme:
        expected = {"realm": "r"} if 'Basic realm="r"' in header else {}
        assert params(by_scheme["basic"]) == expected
    if "bearer" in by_scheme:
        assert by_scheme["bearer"].get("realm") == "https://t/token"
    # Bearer is answered before Basic, whatever the order.
    picked = pick_challenge(header)
    assert picked is not None
    assert picked.scheme == ("bearer" if "bearer" in by_scheme else "basic")


@pytest.mark.parametrize("header", [None, "", "   ", "Negotiate abc==, NTLM", "Digest realm=x"])
def test_nothing_to_answer(header: str | None) -> None:
    assert pick_challenge(header) is None


def test_error_parameter_is_kept() -> None:
    header = 'Bearer realm="https://t/token",error="insufficient_scope",scope="repository:a:pull"'
    c = pick_challenge(header)
    assert c is not None and c.get("error") == "insufficient_scope"
    assert c.get("missing") is None


# --- Authorizer decisions (no network) ------------------------------------------------------

USER = Credentials(username="alice", password=SECRET, source="--username")
BASIC = Challenge("basic", (("realm", "r"),))
BEARER = Challenge("bearer", (("realm", "http://auth.example/token"), ("service", "s")))


def test_basic_credentials_only_over_secure_transport() -> None:
    secure = Authorizer("r.example", USER, secure_transport=True, challenge=BASIC)
    with httpx.Client() as client:
        value = secure.header("repository:a:pull", client)
        assert value == "Basic " + b64(f"alice:{SECRET}")
        plain = Authorizer("r.example", USER, secure_transport=False, challenge=BASIC)
        assert plain.header("repository:a:pull", client) is None


def test_no_credentials_to_a_plain_http_realm() -> None:
    authz = Authorizer("r.example", USER, secure_transport=False, challenge=BEARER)
    with httpx.Client() as client, pytest.raises(RegistryAuthError) as err:
        authz.header("repository:a:pull", client)
    assert "plain HTTP" in str(err.value) and "--insecure" in str(err.value)
    assert SECRET not in str(err.value)


def test_bearer_without_realm_is_an_error() -> None:
    authz = Authorizer("r.example", USER, secure_transport=True, challenge=Challenge("bearer"))
    with httpx.Client() as client, pytest.raises(RegistryAuthError, match="without a realm"):
        authz.header("repository:a:pull", client)


def test_registry_token_is_sent_as_it_is() -> None:
    creds = Credentials(registry_token="tok-123", source="environment")
    authz = Authorizer("r.example", creds, secure_transport=True, challenge=BEARER)
    with httpx.Client() as client:
        assert authz.header("repository:a:pull", client) == "Bearer tok-123"


def test_challenged_retries_only_when_it_can_help() -> None:
    authz = Authorizer("r.example", USER, secure_transport=True)
    scope = "repository:a:pull"
    bearer = 'Bearer realm="https://t/token",service="s"'
    assert authz.challenged(bearer, scope)  # no token yet: get one
    authz.tokens[scope] = _Token("Bearer old", expires_at=1e12)
    assert authz.challenged(bearer + ',error="invalid_token"', scope)  # expired/revoked
    assert scope not in authz.tokens
    authz.tokens[scope] = _Token("Bearer old", expires_at=1e12)
    assert not authz.challenged(bearer + ',error="insufficient_scope"', scope)
    assert not authz.challenged("Negotiate", scope)
    assert authz.challenged('Basic realm="r"', scope)
    anonymous = Authorizer("r.example", ANONYMOUS, secure_transport=True)
    assert not anonymous.challenged('Basic realm="r"', scope)


def test_refused_messages_name_the_source_not_the_secret() -> None:
    none = Authorizer("r.example", ANONYMOUS, secure_transport=True).refused(401, "")
    assert "authentication required (HTTP 401)" in str(none)
    assert "no credentials found" in str(none)
    denied = Authorizer("r.example", USER, secure_transport=True).refused(403, "DENIED nope")
    assert "DENIED nope (HTTP 403)" in str(denied)
    assert "credentials from --username were not accepted" in str(denied)
    assert SECRET not in str(denied)


# --- config.json ----------------------------------------------------------------------------


def test_missing_config_is_anonymous(tmp_path: Path) -> None:
    assert from_docker_config(HOST, tmp_path) is ANONYMOUS
    assert from_docker_config(HOST, tmp_path / "no-such-dir") is ANONYMOUS
    write_config(tmp_path, {"auths": {}})
    assert from_docker_config(HOST, tmp_path) is ANONYMOUS


def test_docker_config_env(tmp_path: Path) -> None:
    write_config(tmp_path / "cfg", {"auths": {HOST: {"auth": b64(f"u:{SECRET}")}}})
    creds = from_docker_config(HOST, env={"DOCKER_CONFIG": str(tmp_path / "cfg")})
    assert (creds.username, creds.password) == ("u", SECRET)
    assert credmod.docker_config_dir({"DOCKER_CONFIG": ""}) == Path.home() / ".docker"


@pytest.mark.parametrize(
    "text", ['{"auths": {"h": {"auth": "' + SECRET, "[1, 2]", "\xff\xfe" + SECRET, ""]
)
def test_invalid_config_is_one_line_without_content(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(CredentialError) as err:
        from_docker_config(HOST, tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(tmp_path / "config.json") in message
    assert "JSON" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    ("key", "found"),
    [
        (HOST, True),
        (f"https://{HOST}/v1/", True),
        (f"https://{HOST}", True),
        (f"http://{HOST}/", True),
        ("registry.example:5001", False),
        ("registry.example", False),
        (f"https://other.example/{HOST}", False),
    ],
)
def test_auths_key_forms(tmp_path: Path, key: str, found: bool) -> None:
    write_config(tmp_path, {"auths": {key: {"auth": b64(f"u:{SECRET}")}}})
    creds = from_docker_config(HOST, tmp_path)
    if found:
        assert (creds.username, creds.password) == ("u", SECRET)
        assert key in creds.source and "config.json" in creds.source
    else:
        assert creds is ANONYMOUS


def test_exact_key_wins_over_another_form_of_the_host(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {"auths": {f"https://{HOST}/v1/": {"auth": b64("url:pw")}, HOST: {"auth": b64("h:pw")}}},
    )
    assert from_docker_config(HOST, tmp_path).username == "h"


def test_auths_entry_forms(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "auths": {
                "a.example": {"username": "u", "password": SECRET},
                "b.example": {"identitytoken": "idtok", "username": "ignored-by-flow"},
                "c.example": {"registrytoken": "regtok"},
                "d.example": {"auth": b64("u:pass:with:colons")},
                "e.example": {"auth": ""},
                "f.example": {"email": "x@example.com"},
            }
        },
    )
    a = from_docker_config("a.example", tmp_path)
    assert (a.username, a.password) == ("u", SECRET)
    assert from_docker_config("b.example", tmp_path).identity_token == "idtok"
    assert from_docker_config("c.example", tmp_path).registry_token == "regtok"
    assert from_docker_config("d.example", tmp_path).password == "pass:with:colons"
    assert from_docker_config("e.example", tmp_path) is ANONYMOUS
    assert from_docker_config("f.example", tmp_path) is ANONYMOUS


@pytest.mark.parametrize(
    ("auth", "why"),
    [
        ("not base64!!", "not base64"),
        (b64("no-colon-" + SECRET), "does not decode to user:password"),
        (base64.b64encode(b"\xff\xfe:" + SECRET.encode()).decode(), "not base64"),
    ],
)
def test_bad_auth_field(tmp_path: Path, auth: str, why: str) -> None:
    write_config(tmp_path, {"auths": {HOST: {"auth": auth}}})
    with pytest.raises(CredentialError, match=why) as err:
        from_docker_config(HOST, tmp_path)
    assert SECRET not in str(err.value) and auth not in str(err.value)


@pytest.mark.parametrize("alias", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_aliases(tmp_path: Path, alias: str) -> None:
    assert config_key(alias) == DOCKER_HUB_KEY == "https://index.docker.io/v1/"
    write_config(tmp_path, {"auths": {DOCKER_HUB_KEY: {"auth": b64(f"hub:{SECRET}")}}})
    assert from_docker_config(alias, tmp_path).username == "hub"
    # Also written under an alias (some tools do).
    write_config(tmp_path, {"auths": {"docker.io": {"auth": b64(f"hub2:{SECRET}")}}})
    assert from_docker_config(alias, tmp_path).username == "hub2"
    assert config_key("quay.io") == "quay.io"


# --- credential helpers ---------------------------------------------------------------------

_HELPER = """\
#!{python}
import json, sys, time
server = sys.stdin.read()
with open({log!r}, "a") as f:
    f.write(json.dumps([sys.argv[1:], server]) + "\\n")
{body}
"""

_ANSWER = """\
known = {known!r}
if server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = known[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""


class Helper:
    def __init__(self, directory: Path, name: str, body: str) -> None:
        self.bindir = directory / "bin"
        self.bindir.mkdir(parents=True, exist_ok=True)
        self.log = directory / f"{name}.log"
        script = self.bindir / f"docker-credential-{name}"
        script.write_text(_HELPER.format(python=sys.executable, log=str(self.log), body=body))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)

    @property
    def env(self) -> dict[str, str]:
        return {"PATH": str(self.bindir)}

    def calls(self) -> list[list[Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def answering(tmp_path: Path, known: dict[str, tuple[str, str]], name: str = "t") -> Helper:
    return Helper(tmp_path, name, _ANSWER.format(known=known))


def test_helper_gets_exactly_the_server_on_stdin(tmp_path: Path) -> None:
    helper = answering(tmp_path, {HOST: ("u", SECRET)})
    creds = run_helper("t", HOST, env=helper.env)
    assert (creds.username, creds.password) == ("u", SECRET)
    assert creds.source == "credential helper docker-credential-t"
    assert helper.calls() == [[["get"], HOST]]


def test_helper_without_an_entry_is_anonymous(tmp_path: Path) -> None:
    helper = answering(tmp_path, {})
    assert run_helper("t", HOST, env=helper.env) is ANONYMOUS


def test_helper_identity_token(tmp_path: Path) -> None:
    helper = answering(tmp_path, {HOST: ("<token>", SECRET)})
    creds = run_helper("t", HOST, env=helper.env)
    assert creds.identity_token == SECRET and creds.username is None and creds.password is None


@pytest.mark.parametrize("name", ["../evil", "a/b", "", "-x", "a b", "x;rm"])
def test_helper_name_is_checked(tmp_path: Path, name: str) -> None:
    with pytest.raises(CredentialError, match="not valid"):
        run_helper(name, HOST, env={"PATH": str(tmp_path)})


def test_helper_not_on_path(tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as err:
        run_helper("absent", HOST, env={"PATH": str(tmp_path)})
    assert "docker-credential-absent" in str(err.value) and "not on PATH" in str(err.value)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (f"print('keychain locked: {SECRET}'); print('second line'); sys.exit(3)", "exit 3"),
        (f"print('not json {SECRET}')", "not JSON"),
        ("print('[1]')", "not a JSON object"),
        ("print(json.dumps({'Username': 'u'}))", "lacks Username/Secret"),
    ],
)
def test_helper_failures(tmp_path: Path, body: str, match: str) -> None:
    helper = Helper(tmp_path, "t", body)
    with pytest.raises(CredentialError, match=match) as err:
        run_helper("t", HOST, env=helper.env)
    message = str(err.value)
    assert "\n" not in message
    if "exit" in match:
        # A failing helper's own first line is shown (it is its error message)...
        assert "keychain locked" in message and "second line" not in message
    else:
        # ...but a malformed answer is never echoed: it may hold the secret.
        assert SECRET not in message


def test_helper_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credmod, "_HELPER_TIMEOUT", 0.5)
    helper = Helper(tmp_path, "t", "time.sleep(30)")
    with pytest.raises(CredentialError, match="did not answer"):
        run_helper("t", HOST, env=helper.env)


def test_helper_precedence(tmp_path: Path) -> None:
    """credHelpers for the host, then credsStore, then auths; the key the helper gets is
    Docker's (Hub: https://index.docker.io/v1/)."""
    per_host = answering(tmp_path / "a", {HOST: ("from-credhelpers", SECRET)}, "perhost")
    store = answering(tmp_path / "b", {DOCKER_HUB_KEY: ("from-store", SECRET)}, "store")
    env = {"PATH": f"{per_host.bindir}:{store.bindir}"}
    doc = {
        "credHelpers": {f"https://{HOST}": "perhost"},
        "credsStore": "store",
        "auths": {HOST: {"auth": b64("from-auths:x")}, "other.example": {"auth": b64("o:x")}},
    }
    write_config(tmp_path, doc)
    assert from_docker_config(HOST, tmp_path, env=env).username == "from-credhelpers"
    assert from_docker_config("docker.io", tmp_path, env=env).username == "from-store"
    # The store has nothing for other.example: anonymous, auths is not consulted (Docker's
    # credsStore replaces the file's secrets).
    assert from_docker_config("other.example", tmp_path, env=env) is ANONYMOUS
    assert per_host.calls() == [[["get"], HOST]]
    assert store.calls() == [[["get"], DOCKER_HUB_KEY], [["get"], "other.example"]]


def test_client_wraps_config_errors(tmp_path: Path) -> None:
    write_config(tmp_path, {"credsStore": "a/b"})
    client = RegistryClient(HOST, RegistrySettings(docker_config=tmp_path))
    with pytest.raises(RegistryAuthError) as err:
        client._credentials(client.endpoints[-1])
    assert str(err.value).startswith(f"{HOST}: credential helper name")
    explicit = RegistrySettings(docker_config=tmp_path, credentials=((HOST, USER),))
    assert RegistryClient(HOST, explicit)._credentials(Endpoint(HOST)) is USER
    off = RegistrySettings(docker_config=tmp_path, use_docker_config=False)
    assert RegistryClient(HOST, off)._credentials(Endpoint(HOST)) is ANONYMOUS


# --- environment and options ----------------------------------------------------------------


def test_from_env() -> None:
    assert from_env({}) is None
    assert from_env({"HULLSCAN_REGISTRY_USERNAME": ""}) is None
    creds = from_env({"HULLSCAN_REGISTRY_USERNAME": "u", "HULLSCAN_REGISTRY_PASSWORD": SECRET})
    assert creds is not None and (creds.username, creds.password) == ("u", SECRET)
    token = from_env({"HULLSCAN_REGISTRY_TOKEN": "tok"})
    assert token is not None and token.registry_token == "tok" and token.username is None
    for half in ({"HULLSCAN_REGISTRY_USERNAME": "u"}, {"HULLSCAN_REGISTRY_PASSWORD": SECRET}):
        with pytest.raises(CredentialError, match="must be set together") as err:
            from_env(half)
        assert SECRET not in str(err.value)


def settings_for(
    argv: list[str], stdin: str = "", env: dict[str, str] | None = None, target: str = HOST + "/a"
) -> RegistrySettings:
    parser = argparse.ArgumentParser()
    add_registry_args(parser)
    args = parser.parse_args(argv)
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return registry_settings(args, target, env or {})
    finally:
        sys.stdin = old


def test_password_stdin() -> None:
    s = settings_for(["--username", "u", "--password-stdin"], stdin=SECRET + "\r\nrest\n")
    creds = s.explicit_credentials(HOST)
    assert creds is not None and (creds.username, creds.password) == ("u", SECRET)
    assert s.explicit_credentials("other.example") is None  # the target's registry only
    token = settings_for(["--username", "<token>", "--password-stdin"], stdin="idtok\n")
    tcreds = token.explicit_credentials(HOST)
    assert tcreds is not None and tcreds.identity_token == "idtok" and tcreds.username is None


@pytest.mark.parametrize(
    ("argv", "stdin", "env", "match"),
    [
        (["--password-stdin"], SECRET, {}, "needs --username"),
        (["--username", "u", "--password-stdin"], "\n", {}, "nothing was read"),
        (["--username", "u"], "", {}, "needs --password-stdin"),
    ],
)
def test_credential_option_errors(
    argv: list[str], stdin: str, env: dict[str, str], match: str
) -> None:
    with pytest.raises(UsageError, match=match) as err:
        settings_for(argv, stdin, env)
    assert SECRET not in str(err.value)


def test_username_with_password_from_env() -> None:
    s = settings_for(["--username", "u"], env={"HULLSCAN_REGISTRY_PASSWORD": SECRET})
    creds = s.explicit_credentials(HOST)
    assert creds is not None and (creds.username, creds.password) == ("u", SECRET)


def test_credentials_for_a_local_source_are_refused() -> None:
    parser = argparse.ArgumentParser()
    add_registry_args(parser)
    args = parser.parse_args(["--username", "u"])
    with pytest.raises(UsageError, match="registry images only"):
        registry_settings(args, None, {"HULLSCAN_REGISTRY_PASSWORD": SECRET})


# --- reprs ----------------------------------------------------------------------------------


def test_reprs_hide_secrets() -> None:
    creds = Credentials(
        username="alice", password=SECRET, identity_token=SECRET + "-id",
        registry_token=SECRET + "-reg", source="--username",
    )  # fmt: skip
    assert creds.secrets() == (SECRET, SECRET + "-id", SECRET + "-reg")
    settings = RegistrySettings(credentials=(("r.example", creds),))
    authz = Authorizer("r.example", creds, secure_transport=True, challenge=BEARER)
    authz.tokens["repository:a:pull"] = _Token(f"Bearer {SECRET}-jwt", expires_at=1e12)
    endpoint = Endpoint("r.example", base_url="https://r.example", authorizer=authz)
    opener = RegistryBlobOpener(
        registry="r.example", settings=settings, endpoint=endpoint, repository="a",
        digest="sha256:" + "0" * 64, size=1, max_bytes=10,
    )  # fmt: skip
    client = RegistryClient("r.example", settings, endpoints=[endpoint])
    for obj in (creds, settings, authz, endpoint, opener, client, *authz.tokens.values()):
        text = repr(obj)
        assert SECRET not in text, text
    assert "alice" in repr(creds) and "--username" in repr(creds)
    assert "sha256:" in repr(opener)
