"""A cached, REAL Debian bookworm image built without Docker (debootstrap + apt in a chroot).

Two steps, like a two-line Dockerfile:

1. ``debootstrap --variant=minbase bookworm`` into ``base_root`` (then the downloaded ``.deb``
   files and the apt lists are removed, as the official images do; the empty ``partial/``
   directories debootstrap creates are kept);
2. ``cp -a base_root app_root`` and ``apt-get update && apt-get install -y
   --no-install-recommends PKGS`` in a chroot of ``app_root``, then ``apt-get clean`` and
   ``rm -rf /var/lib/apt/lists/*`` (which removes ``lists/partial`` from step 1, so the app
   layer carries at least one whiteout).

Layer 1 is a tar of ``base_root``; layer 2 is the diff ``app_root`` vs ``base_root`` with OCI
whiteouts (``DIR/.wh.NAME``) for removed paths. The ground truth is what ``dpkg-query`` reads
from each root's dpkg database.

Everything lands under ``cache_dir/debian-bookworm-minbase-<recipe hash>/`` and is reused by
later sessions on the same machine; concurrent builders (pytest-xdist workers) serialise on a
``flock`` and the result appears with one atomic ``rename``. The recipe hash covers the suite,
variant, package list and :data:`BUILDER_VERSION` -- not the mirror, and not the archive's
state: a cached fixture is a snapshot of whatever bookworm was on the day it was built.

Building needs root, ``debootstrap``, ``chroot``, ``dpkg-query`` and network access to a Debian
mirror (the host's own apt mirror by default).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "BUILDER_VERSION",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_EXTRA_PACKAGES",
    "DebianFixture",
    "FixtureUnavailable",
    "build_debian_fixture",
    "debian_image",
    "default_cache_dir",
    "diff_trees",
    "fixture_unavailable_reason",
    "host_debian_mirror",
    "read_dpkg",
    "write_diff_tar",
    "write_tree_tar",
]

#: Bump when the recipe or the layer/truth format changes: it is part of the cache key.
BUILDER_VERSION = 1
SUITE = "bookworm"
VARIANT = "minbase"
DEFAULT_EXTRA_PACKAGES: tuple[str, ...] = ("curl", "ca-certificates", "libsqlite3-0")
DEFAULT_CACHE_DIR = Path("/var/tmp/hullscan-fixtures")
FALLBACK_MIRROR = "http://deb.debian.org/debian"

ImageFormat = Literal["docker-archive", "docker-archive-oci", "oci-dir", "oci-archive"]
Compression = Literal["none", "gzip", "zstd"]
Package = tuple[str, str, str]

_DPKG_FORMAT = (
    "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}"
    "\\t${source:Package}\\t${source:Version}\\n"
)
_CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C.UTF-8",
    "HOME": "/root",
}
_POLICY_RC_D = (
    "#!/bin/sh\n# installed by the hullscan fixture builder for the build only\nexit 101\n"
)
_CHUNK = 1 << 20


class FixtureUnavailable(RuntimeError):
    """The fixture cannot be built on this machine (not root, tool missing)."""


@dataclass(frozen=True)
class DebianFixture:
    base_root: Path
    """Rootfs after ``debootstrap --variant=minbase bookworm`` (plus apt cache cleanup)."""
    app_root: Path
    """Rootfs after the second step (apt-get install of the extra packages)."""
    base_layer: Path
    """Uncompressed PAX tar of ``base_root`` (layer 1)."""
    app_layer: Path
    """Uncompressed PAX tar of the diff ``app_root`` vs ``base_root`` (layer 2), with whiteouts."""
    expected_base: list[Package]
    """(name, version, arch) of the packages installed in ``base_root``, per dpkg-query."""
    expected_app: list[Package]
    """(name, version, arch) of the packages installed in ``app_root`` (the final image)."""
    expected_app_sources: dict[str, str]
    """Binary name -> source, formatted like the dpkg status ``Source:`` field: the source
    package name, plus `` (VERSION)`` when the source version differs from the binary's."""
    root: Path
    """The cache entry directory holding everything above."""
    key: str
    """The recipe hash (cache key)."""
    extra_packages: tuple[str, ...]
    """The packages installed in step 2, as given."""
    whiteouts: tuple[str, ...]
    """Names of the whiteout members of ``app_layer`` (e.g. ``var/lib/apt/lists/.wh.partial``)."""
    build_seconds: float
    """Wall time of the (cold) build that produced this cache entry."""


# --------------------------------------------------------------------------- environment


def default_cache_dir() -> Path:
    """``$HULLSCAN_FIXTURE_CACHE`` or ``/var/tmp/hullscan-fixtures``."""
    env = os.environ.get("HULLSCAN_FIXTURE_CACHE")
    return Path(env) if env else DEFAULT_CACHE_DIR


def fixture_unavailable_reason() -> str | None:
    """Why a cold build cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "building the Debian fixture needs root (debootstrap, chroot)"
    for tool in ("debootstrap", "chroot", "dpkg-query"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install debootstrap dpkg)"
    return None


def host_debian_mirror() -> str:
    """The Debian archive URL the host's apt uses (first non-security ``debian`` URI)."""
    candidates: list[str] = []
    apt = Path("/etc/apt")
    for f in sorted((apt / "sources.list.d").glob("*.sources")):
        with contextlib.suppress(OSError):
            for m in re.finditer(r"(?mi)^URIs:\s*(.+)$", f.read_text()):
                candidates.extend(m.group(1).split())
    lists = [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]
    for f in lists:
        with contextlib.suppress(OSError):
            for line in f.read_text().splitlines():
                deb = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", line)
                if deb is not None:
                    candidates.append(deb.group(1))
    for uri in candidates:
        u = uri.rstrip("/")
        if re.match(r"https?://", u) and u.endswith("/debian"):
            return u
    return FALLBACK_MIRROR


def _chroot_mirror(mirror: str) -> str:
    # The host may trust a proxy CA the chroot does not have (and minbase has no CA bundle
    # at all); the archive is signed, so plain http is fine inside the chroot.
    return "http://" + mirror.removeprefix("https://") if mirror.startswith("https://") else mirror


# --------------------------------------------------------------------------- ground truth


def read_dpkg(root: Path) -> tuple[list[Package], dict[str, str]]:
    """Installed packages of a rootfs per the real ``dpkg-query`` and their sources.

    Returns (sorted ``(name, version, arch)`` list, ``name -> source`` where source is
    ``NAME`` or ``NAME (VERSION)`` exactly as the dpkg status ``Source:`` field would say).
    """
    out = subprocess.run(
        ["dpkg-query", f"--admindir={root / 'var/lib/dpkg'}", "-W", "-f", _DPKG_FORMAT],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pkgs: list[Package] = []
    sources: dict[str, str] = {}
    for line in out.splitlines():
        name, version, arch, abbrev, src, src_version = line.split("\t")
        if not abbrev.startswith("ii"):
            continue
        pkgs.append((name, version, arch))
        sources[name] = src if src_version == version else f"{src} ({src_version})"
    pkgs.sort()
    return pkgs, dict(sorted(sources.items()))


# --------------------------------------------------------------------------- tree walking


def _walk(root: Path) -> dict[str, os.stat_result]:
    """lstat of every path under root (not root itself), keyed by POSIX relative path."""
    out: dict[str, os.stat_result] = {}

    def rec(dir_path: str, prefix: str) -> None:
        with os.scandir(dir_path) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            rel = prefix + e.name
            st = e.stat(follow_symlinks=False)
            out[rel] = st
            if stat.S_ISDIR(st.st_mode):
                rec(e.path, rel + "/")

    rec(str(root), "")
    return out


def _sort_key(rel: str) -> tuple[str, ...]:
    # Component-wise order == pre-order walk with sorted children: a dir before its contents.
    return tuple(rel.split("/"))


def _same_bytes(a: Path, b: Path) -> bool:
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            ca, cb = fa.read(_CHUNK), fb.read(_CHUNK)
            if ca != cb:
                return False
            if not ca:
                return True


def _changed(
    rel: str, old: os.stat_result, new: os.stat_result, old_root: Path, new_root: Path
) -> bool:
    if stat.S_IFMT(old.st_mode) != stat.S_IFMT(new.st_mode):
        return True
    if (old.st_mode, old.st_uid, old.st_gid, old.st_mtime_ns) != (
        new.st_mode,
        new.st_uid,
        new.st_gid,
        new.st_mtime_ns,
    ):
        return True
    mode = new.st_mode
    if stat.S_ISREG(mode):
        return old.st_size != new.st_size or not _same_bytes(old_root / rel, new_root / rel)
    if stat.S_ISLNK(mode):
        return os.readlink(old_root / rel) != os.readlink(new_root / rel)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return old.st_rdev != new.st_rdev
    return False


def diff_trees(old_root: Path, new_root: Path) -> tuple[list[str], list[str]]:
    """What a layer turning ``old_root`` into ``new_root`` must hold.

    Returns (paths of ``new_root`` to put in the layer -- new or changed entries plus every
    directory above them -- in tar order, whiteout member names ``DIR/.wh.NAME``). A removed
    directory gets one whiteout; its contents none. A path whose type changed is simply
    re-emitted (extracting it replaces the lower entry).
    """
    old = _walk(old_root)
    new = _walk(new_root)
    emit: set[str] = set()
    for rel, st in new.items():
        if rel not in old or _changed(rel, old[rel], st, old_root, new_root):
            emit.add(rel)
    whiteouts: list[str] = []
    for rel in old:
        if rel in new:
            continue
        parent, _, name = rel.rpartition("/")
        if parent and (parent not in new or not stat.S_ISDIR(new[parent].st_mode)):
            continue  # an ancestor was removed or replaced: that covers this path
        whiteouts.append(f"{parent}/.wh.{name}" if parent else f".wh.{name}")
        if parent:
            emit.add(parent)
    for rel in list(emit):
        parts = rel.split("/")
        for i in range(1, len(parts)):
            emit.add("/".join(parts[:i]))
    return sorted(emit, key=_sort_key), sorted(whiteouts, key=_sort_key)


# --------------------------------------------------------------------------- tar writing


def _tarinfo(rel: str, st: os.stat_result) -> tarfile.TarInfo | None:
    ti = tarfile.TarInfo(rel)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid, ti.gid = st.st_uid, st.st_gid
    ti.uname = ti.gname = ""
    ti.mtime = int(st.st_mtime)
    m = st.st_mode
    if stat.S_ISDIR(m):
        ti.type = tarfile.DIRTYPE
    elif stat.S_ISREG(m):
        ti.type = tarfile.REGTYPE
        ti.size = st.st_size
    elif stat.S_ISLNK(m):
        ti.type = tarfile.SYMTYPE
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        ti.type = tarfile.CHRTYPE if stat.S_ISCHR(m) else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(m):
        ti.type = tarfile.FIFOTYPE
    else:
        return None  # sockets and the like cannot go in a tar
    return ti


def _write_members(
    out: Path,
    root: Path,
    paths: Sequence[str],
    stats: Mapping[str, os.stat_result],
    whiteouts: Sequence[str] = (),
) -> None:
    whiteout_set = set(whiteouts)
    order = sorted([*paths, *whiteouts], key=_sort_key)
    first_link: dict[tuple[int, int], str] = {}
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in order:
            if rel in whiteout_set:
                parent = rel.rpartition("/")[0]
                ti = tarfile.TarInfo(rel)
                ti.type, ti.mode, ti.uid, ti.gid = tarfile.REGTYPE, 0o644, 0, 0
                ti.uname = ti.gname = ""
                ti.mtime = int(stats[parent].st_mtime) if parent else 0
                tar.addfile(ti)
                continue
            st = stats[rel]
            info = _tarinfo(rel, st)
            if info is None:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                ident = (st.st_dev, st.st_ino)
                target = first_link.get(ident)
                if target is not None:
                    info.type, info.linkname, info.size = tarfile.LNKTYPE, target, 0
                    tar.addfile(info)
                    continue
                first_link[ident] = rel
            if info.type == tarfile.SYMTYPE:
                info.linkname = os.readlink(root / rel)
                tar.addfile(info)
            elif info.type == tarfile.REGTYPE:
                with (root / rel).open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    tmp.rename(out)


def write_tree_tar(root: Path, out: Path) -> None:
    """Deterministic PAX tar of a whole tree (lstat, hard links as LNKTYPE members)."""
    stats = _walk(root)
    _write_members(out, root, sorted(stats, key=_sort_key), stats)


def write_diff_tar(old_root: Path, new_root: Path, out: Path) -> list[str]:
    """Deterministic PAX tar of the diff ``new_root`` vs ``old_root``; returns the whiteouts."""
    paths, whiteouts = diff_trees(old_root, new_root)
    stats = {rel: os.lstat(new_root / rel) for rel in paths}
    _write_members(out, new_root, paths, stats, whiteouts)
    return whiteouts


# --------------------------------------------------------------------------- building


def _recipe(extra_packages: Sequence[str]) -> dict[str, object]:
    return {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": list(extra_packages),
        "builder_version": BUILDER_VERSION,
    }


def _recipe_key(extra_packages: Sequence[str]) -> str:
    blob = json.dumps(_recipe(extra_packages), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _run(cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> None:
    with log.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}); log {log}:\n{tail}")


def _clean_apt(root: Path, *, keep_partial: bool) -> None:
    """Drop downloaded .debs, apt's binary caches and the lists (like the official images)."""
    archives = root / "var/cache/apt/archives"
    for p in archives.glob("*.deb"):
        p.unlink()
    for p in (root / "var/cache/apt").glob("*.bin"):
        p.unlink()
    lists = root / "var/lib/apt/lists"
    if lists.is_dir():
        for p in lists.iterdir():
            if keep_partial and p.name == "partial":
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()


def _step_debootstrap(base: Path, mirror: str, log: Path) -> None:
    _run(["debootstrap", f"--variant={VARIANT}", SUITE, str(base), mirror], log)
    _clean_apt(base, keep_partial=True)
    if mirror != _chroot_mirror(mirror):
        (base / "etc/apt/sources.list").write_text(f"deb {_chroot_mirror(mirror)} {SUITE} main\n")


@contextlib.contextmanager
def _temporarily(path: Path, content: bytes, mode: int) -> Iterator[None]:
    """Put ``content`` at ``path`` for the duration; restore what was there (bytes, mtime)."""
    saved: tuple[bytes, os.stat_result] | None = None
    if path.is_symlink():
        raise RuntimeError(f"{path} is a symlink; refusing to overwrite it")
    if path.exists():
        saved = (path.read_bytes(), path.lstat())
    path.write_bytes(content)
    path.chmod(mode)
    try:
        yield
    finally:
        if saved is None:
            path.unlink()
        else:
            data, st = saved
            path.write_bytes(data)
            path.chmod(stat.S_IMODE(st.st_mode))
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _host_apt_proxy() -> list[str]:
    """``-o Acquire::http::Proxy=...`` when the host's apt is configured with a proxy."""
    if shutil.which("apt-config") is None:
        return []
    out = subprocess.run(
        ["apt-config", "dump", "Acquire::http::Proxy"], capture_output=True, text=True, check=False
    ).stdout
    m = re.search(r'^Acquire::http::Proxy "([^"]+)";', out, re.MULTILINE)
    return ["-o", f"Acquire::http::Proxy={m.group(1)}"] if m else []


def _step_apt(app: Path, packages: Sequence[str], log: Path) -> None:
    resolv = Path("/etc/resolv.conf").read_bytes()
    opts = " ".join(shlex.quote(o) for o in _host_apt_proxy())
    script = (
        f"set -e; apt-get {opts} update -q; "
        f"apt-get {opts} install -y -q --no-install-recommends "
        f"{' '.join(shlex.quote(p) for p in packages)}; "
        "apt-get clean; rm -rf /var/lib/apt/lists/*"
    )
    env = dict(_CHROOT_ENV)
    env.update({k: v for k, v in os.environ.items() if k.lower().endswith("_proxy")})
    with (
        _temporarily(app / "etc/resolv.conf", resolv, 0o644),
        _temporarily(app / "usr/sbin/policy-rc.d", _POLICY_RC_D.encode(), 0o755),
    ):
        _run(["chroot", str(app), "/bin/sh", "-c", script], log, env=env)
    _clean_apt(app, keep_partial=False)


def _load(entry: Path) -> DebianFixture:
    meta = json.loads((entry / "fixture.json").read_text())
    return DebianFixture(
        base_root=entry / "base_root",
        app_root=entry / "app_root",
        base_layer=entry / "base_layer.tar",
        app_layer=entry / "app_layer.tar",
        expected_base=[(p[0], p[1], p[2]) for p in meta["expected_base"]],
        expected_app=[(p[0], p[1], p[2]) for p in meta["expected_app"]],
        expected_app_sources=dict(meta["expected_app_sources"]),
        root=entry,
        key=meta["key"],
        extra_packages=tuple(meta["recipe"]["packages"]),
        whiteouts=tuple(meta["whiteouts"]),
        build_seconds=float(meta["build_seconds"]),
    )


def build_debian_fixture(
    cache_dir: Path,
    *,
    extra_packages: Sequence[str] = DEFAULT_EXTRA_PACKAGES,
    mirror: str | None = None,
) -> DebianFixture:
    """Build (once per recipe and machine) or load the two-step Debian bookworm fixture.

    Raises :class:`FixtureUnavailable` when nothing is cached and this machine cannot build.
    """
    packages = tuple(extra_packages)
    key = _recipe_key(packages)
    cache_dir = Path(cache_dir)
    entry = cache_dir / f"debian-{SUITE}-{VARIANT}-{key}"
    if (entry / "fixture.json").is_file():
        return _load(entry)
    reason = fixture_unavailable_reason()
    if reason is not None:
        raise FixtureUnavailable(f"{reason}; nothing cached at {entry}")
    with _locked(cache_dir / f".debian-{SUITE}-{VARIANT}-{key}.lock"):
        if (entry / "fixture.json").is_file():
            return _load(entry)  # another process built it while we waited
        for stale in cache_dir.glob(f".tmp-{entry.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # a killed earlier build (we hold the lock)
        t0 = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{entry.name}-", dir=cache_dir))
        try:
            _build_into(tmp, packages, mirror or host_debian_mirror(), key)
            meta = json.loads((tmp / "fixture.json").read_text())
            meta["build_seconds"] = round(time.monotonic() - t0, 1)
            (tmp / "fixture.json").write_text(json.dumps(meta, indent=1) + "\n")
            tmp.chmod(0o755)
            tmp.rename(entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return _load(entry)


def _build_into(tmp: Path, packages: Sequence[str], mirror: str, key: str) -> None:
    log = tmp / "build.log"
    base, app = tmp / "base_root", tmp / "app_root"
    _step_debootstrap(base, mirror, log)
    expected_base, _ = read_dpkg(base)
    _run(["cp", "-a", str(base), str(app)], log)
    _step_apt(app, packages, log)
    expected_app, sources = read_dpkg(app)
    write_tree_tar(base, tmp / "base_layer.tar")
    whiteouts = write_diff_tar(base, app, tmp / "app_layer.tar")
    meta = {
        "key": key,
        "recipe": _recipe(packages),
        "mirror": mirror,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "expected_base": expected_base,
        "expected_app": expected_app,
        "expected_app_sources": sources,
        "whiteouts": whiteouts,
        "build_seconds": 0.0,
    }
    (tmp / "fixture.json").write_text(json.dumps(meta, indent=1) + "\n")


# --------------------------------------------------------------------------- images


def _builder_digest() -> str:
    src = Path(__file__).with_name("builder.py")
    return hashlib.sha256(src.read_bytes()).hexdigest()[:12]


def debian_image(
    fixture: DebianFixture,
    cache_dir: Path,
    fmt: ImageFormat = "docker-archive",
    compression: Compression = "gzip",
) -> Path:
    """The fixture's two layers as an image file/dir (cached; rebuilt when builder.py changes).

    History: the debootstrap step, an empty-layer ENV, the apt-get step.
    """
    from tests.images.builder import write_image

    suffix = "" if fmt == "oci-dir" else ".tar"
    images = Path(cache_dir) / "images"
    name = f"{fixture.root.name}-{fmt}-{compression}-{_builder_digest()}{suffix}"
    out = images / name
    if out.exists():
        return out
    with _locked(images / ".lock"):
        if out.exists():
            return out
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=images))
        try:
            built = write_image(
                tmp / name,
                [fixture.base_layer, fixture.app_layer],
                fmt=fmt,
                compression=compression,
                history=_history(fixture),
                config_extra={"config": {"Env": [_CHROOT_ENV_PATH, _ENV_STEP]}},
                platform=_platform(fixture),
                repo_tag="hullscan-test/debian:bookworm",
            )
            built.rename(out)
            _prune_stale_images(images, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


_CHROOT_ENV_PATH = f"PATH={_CHROOT_ENV['PATH']}"
_ENV_STEP = "DEBIAN_FRONTEND=noninteractive"
_OCI_PLATFORMS: dict[str, tuple[str, str, str | None]] = {
    "amd64": ("linux", "amd64", None),
    "arm64": ("linux", "arm64", "v8"),
    "armhf": ("linux", "arm", "v7"),
    "armel": ("linux", "arm", "v5"),
    "i386": ("linux", "386", None),
    "ppc64el": ("linux", "ppc64le", None),
    "s390x": ("linux", "s390x", None),
}


def _platform(fixture: DebianFixture) -> tuple[str, str, str | None]:
    arch = next(a for n, _, a in fixture.expected_base if n == "libc6")
    return _OCI_PLATFORMS.get(arch, ("linux", arch, None))


def _prune_stale_images(images: Path, keep: Path) -> None:
    """Drop this image's siblings made by an older builder.py (same name bar the digest)."""
    stem = keep.name.removesuffix(".tar").rsplit("-", 1)[0]
    suffix = ".tar" if keep.name.endswith(".tar") else ""
    for old in images.glob(f"{stem}-*{suffix}"):
        rest = old.name.removeprefix(stem + "-").removesuffix(suffix)
        if old == keep or not re.fullmatch(r"[0-9a-f]{12}", rest):
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _history(fixture: DebianFixture) -> list[dict[str, object]]:
    stamp = "2025-01-01T00:00:00Z"
    return [
        {"created": stamp, "created_by": f"debootstrap --variant={VARIANT} {SUITE}"},
        {
            "created": stamp,
            "created_by": f"/bin/sh -c #(nop)  ENV {_ENV_STEP}",
            "empty_layer": True,
        },
        {
            "created": stamp,
            "created_by": f"apt-get install -y {' '.join(fixture.extra_packages)}",
        },
    ]
