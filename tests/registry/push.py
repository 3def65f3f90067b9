"""Push test images into a registry with skopeo (a real, independent client).

    digest = push_oci_layout(built.path, registry, "team/app", "v1")
    digest = push_docker_archive(tar, registry, "team/app", "v1", creds=("user", "pw"))

``registry`` is anything with ``host`` ("127.0.0.1:PORT") and ``ca_cert`` (Path or None): a
:class:`~tests.registry.server.RegistryServer` or a :class:`~tests.registry.fault_proxy.FaultProxy`.
With a CA, TLS is verified against it; without, skopeo is told the registry is insecure (it
then tries HTTPS and falls back to plain HTTP).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from tests.registry.server import child_env

SKOPEO_BIN = "skopeo"
_INSECURE_POLICY = {"default": [{"type": "insecureAcceptAnything"}]}


class Endpoint(Protocol):
    @property
    def host(self) -> str: ...

    @property
    def ca_cert(self) -> Path | None: ...


class SkopeoError(RuntimeError):
    pass


def _run_skopeo(
    args: Sequence[str], work: Path, *, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run skopeo isolated from the host's containers configuration and proxies."""
    policy = work / "policy.json"
    policy.write_text(json.dumps(_INSECURE_POLICY))
    registries_d = work / "registries.d"
    registries_d.mkdir(exist_ok=True)
    registries_conf = work / "registries.conf"
    registries_conf.write_text("")  # no mirrors, no short-name aliases
    tmp = work / "tmp"
    tmp.mkdir(exist_ok=True)
    env = child_env(
        CONTAINERS_REGISTRIES_CONF=str(registries_conf),
        REGISTRY_AUTH_FILE=str(work / "auth.json"),  # never the user's stored logins
        TMPDIR=str(tmp),
    )
    cmd = [
        SKOPEO_BIN,
        "--policy",
        str(policy),
        "--registries.d",
        str(registries_d),
        "--tmpdir",
        str(tmp),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise SkopeoError(
            f"skopeo failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}"
        )
    return proc


def _registry_flags(
    registry: Endpoint, creds: tuple[str, str] | None, work: Path, prefix: str
) -> list[str]:
    flags: list[str] = []
    if registry.ca_cert is not None:
        # containers/image reads every *.crt in the directory as a CA.
        cert_dir = work / f"{prefix or 'src'}certs"
        cert_dir.mkdir(exist_ok=True)
        shutil.copyfile(registry.ca_cert, cert_dir / "ca.crt")
        flags += [f"--{prefix}tls-verify=true", f"--{prefix}cert-dir", str(cert_dir)]
    else:
        flags.append(f"--{prefix}tls-verify=false")
    if creds is not None:
        flags += [f"--{prefix}creds", f"{creds[0]}:{creds[1]}"]
    else:
        flags.append(f"--{prefix}no-creds")
    return flags


def _push(
    source: str,
    registry: Endpoint,
    repo: str,
    tag: str,
    *,
    creds: tuple[str, str] | None,
    all_images: bool,
    dest_format: Literal["oci", "v2s2"] | None,
) -> str:
    with tempfile.TemporaryDirectory(prefix="hullscan-skopeo-") as tmp:
        work = Path(tmp)
        digest_file = work / "digest"
        args = ["copy", "--quiet", "--retry-times", "0", "--digestfile", str(digest_file)]
        args += _registry_flags(registry, creds, work, "dest-")
        if all_images:
            args.append("--all")
        if dest_format is not None:
            args += ["--format", dest_format]
        args += [source, f"docker://{registry.host}/{repo}:{tag}"]
        _run_skopeo(args, work)
        return digest_file.read_text().strip()


def push_oci_layout(
    layout_dir: Path,
    registry: Endpoint,
    repo: str,
    tag: str,
    *,
    ref: str | None = None,
    creds: tuple[str, str] | None = None,
    all_images: bool = False,
    dest_format: Literal["oci", "v2s2"] | None = None,
) -> str:
    """Push an OCI layout directory (``ref``: its ``org.opencontainers.image.ref.name``; may be
    omitted when the index holds a single image). ``all_images`` pushes a whole image index
    (``skopeo copy --all``); ``dest_format="v2s2"`` converts to Docker media types.
    Returns the pushed manifest digest ("sha256:...")."""
    source = f"oci:{layout_dir}" + (f":{ref}" if ref else "")
    return _push(
        source,
        registry,
        repo,
        tag,
        creds=creds,
        all_images=all_images,
        dest_format=dest_format,
    )


def push_docker_archive(
    tar: Path,
    registry: Endpoint,
    repo: str,
    tag: str,
    *,
    creds: tuple[str, str] | None = None,
    dest_format: Literal["oci", "v2s2"] | None = None,
) -> str:
    """Push a ``docker save`` tarball (skopeo stores it as Docker schema 2 by default)."""
    return _push(
        f"docker-archive:{tar}",
        registry,
        repo,
        tag,
        creds=creds,
        all_images=False,
        dest_format=dest_format,
    )


def skopeo_inspect(
    registry: Endpoint,
    reference: str,
    *,
    creds: tuple[str, str] | None = None,
    raw: bool = True,
    config: bool = False,
) -> str:
    """``skopeo inspect [--raw] [--config] docker://HOST/REFERENCE``; returns stdout."""
    with tempfile.TemporaryDirectory(prefix="hullscan-skopeo-") as tmp:
        work = Path(tmp)
        args = ["inspect", "--retry-times", "0", *_registry_flags(registry, creds, work, "")]
        if raw:
            args.append("--raw")
        if config:
            args.append("--config")
        args.append(f"docker://{registry.host}/{reference}")
        return _run_skopeo(args, work).stdout
