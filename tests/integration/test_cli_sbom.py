"""``hullscan sbom`` end to end on a REAL Debian bookworm image, in every container format.

The image (tests/images/debian.py) is debootstrap minbase (layer 0) plus ``apt-get install
curl ca-certificates libsqlite3-0`` (layer 1), with an ``empty_layer`` ENV step between them in
the history. The ground truth is what ``dpkg-query`` said about each root. Each format is
scanned by the real CLI in a child process with ``--no-cache``, so every layer really is read
from that format; the results must equal the ground truth and each other.

Also here: whiteouts and opaque directories in a layer added on top of the real image, the
``dir:`` rootfs source on the real trees, and every output format written in one run and
validated by the reference tools (cyclonedx-python-lib, spdx-tools, the JSON schema).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from isal import igzip
from packageurl import PackageURL
from tests.images.builder import Entry, layer_tar, write_image
from tests.images.debian import DebianFixture, debian_image, default_cache_dir
from tests.integration.cli_support import (
    REPO,
    Run,
    Sandbox,
    cache_entries,
    comparable,
    deb_rows,
    deb_sources,
    debian_fixture_or_skip,
    files_under,
    run_cli,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("cli-debian")]

BASE_STEP = "debootstrap --variant=minbase bookworm"
ENV_STEP = "/bin/sh -c #(nop)  ENV DEBIAN_FRONTEND=noninteractive"


@dataclass(frozen=True)
class Variant:
    id: str
    fmt: str
    compression: str
    scheme: str | None  # None: a bare path, the kind is detected
    kind: str  # the Target.kind the scan must report
    gzip_outer: bool = False  # `docker save | gzip`


VARIANTS = (
    Variant("docker-archive-gzip", "docker-archive", "gzip", "docker-archive", "docker-archive"),
    Variant("docker-archive-oci", "docker-archive-oci", "gzip", None, "docker-archive"),
    Variant("oci-dir-gzip", "oci-dir", "gzip", "oci-dir", "oci-dir"),
    Variant("oci-archive-gzip", "oci-archive", "gzip", "oci-archive", "oci-archive"),
    Variant("oci-dir-zstd", "oci-dir", "zstd", None, "oci-dir"),
    Variant("docker-archive-uncompressed", "docker-archive", "none", None, "docker-archive"),
    Variant("docker-save-gzip", "docker-archive", "none", None, "docker-archive", True),
)
BY_ID = {v.id: v for v in VARIANTS}


@dataclass(frozen=True)
class Scan:
    variant: Variant
    image: Path
    run: Run
    sbom: dict[str, Any]
    sandbox: Sandbox
    new_siblings: frozenset[str]  # what appeared next to the image during the scan


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fx() -> DebianFixture:
    return debian_fixture_or_skip(default_cache_dir())


@pytest.fixture(scope="module")
def layer_diff_ids(fx: DebianFixture) -> list[str]:
    out = []
    for layer in (fx.base_layer, fx.app_layer):
        h = hashlib.sha256()
        with open(layer, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        out.append("sha256:" + h.hexdigest())
    return out


@pytest.fixture(scope="module")
def image_of(
    fx: DebianFixture, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Variant], Path]:
    built: dict[str, Path] = {}

    def get(v: Variant) -> Path:
        if v.id not in built:
            plain = debian_image(fx, default_cache_dir(), fmt=v.fmt, compression=v.compression)  # type: ignore[arg-type]
            if v.gzip_outer:
                out = tmp_path_factory.mktemp("docker-save-gzip") / "debian.tar.gz"
                with open(plain, "rb") as fin, igzip.open(out, "wb", compresslevel=1) as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
                plain = out
            built[v.id] = plain
        return built[v.id]

    return get


@pytest.fixture(scope="module")
def scan_of(
    image_of: Callable[[Variant], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Variant], Scan]:
    """One CLI scan per format (shared by the tests of this module)."""
    done: dict[str, Scan] = {}

    def get(v: Variant) -> Scan:
        if v.id not in done:
            image = image_of(v)
            spec = f"{v.scheme}:{image}" if v.scheme else str(image)
            box = Sandbox(tmp_path_factory.mktemp(f"scan-{v.id}"))
            before = set(os.listdir(image.parent))
            run = run_cli("sbom", spec, "-f", "json", "-q", "--no-cache", sandbox=box)
            # Other processes may be building fixture images in the same cache directory.
            new = frozenset(
                n
                for n in set(os.listdir(image.parent)) - before
                if not n.startswith(("debian-", ".tmp-debian-"))
            )
            assert run.returncode == 0, run.describe()
            done[v.id] = Scan(v, image, run, json.loads(run.stdout), box, new)
        return done[v.id]

    return get


# --------------------------------------------------------------------------- every format


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_packages_equal_dpkg_query(
    variant: Variant, scan_of: Callable[[Variant], Scan], fx: DebianFixture
) -> None:
    scan = scan_of(variant)
    sbom = scan.sbom
    assert scan.run.stderr == ""
    assert sbom["target"]["kind"] == variant.kind
    assert deb_rows(sbom) == fx.expected_app
    assert deb_sources(sbom) == fx.expected_app_sources
    for p in sbom["packages"]:
        assert (p["type"], p["found_by"]) == ("deb", "os/dpkg"), p["name"]
        purl = PackageURL.from_string(p["purl"])
        assert (purl.type, purl.namespace, purl.name, purl.version) == (
            "deb",
            "debian",
            p["name"],
            p["version"],
        ), p["purl"]
        assert purl.qualifiers == {"arch": p["arch"], "distro": "debian-12"}, p["purl"]
    distro = sbom["distro"]
    assert (distro["id"], distro["version"], distro["codename"]) == ("debian", "12", "bookworm")
    assert [s["status"] for s in sbom["statuses"]] == ["ok"] * len(sbom["statuses"])
    assert sbom["warnings"] == []


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_origin_layer_and_build_step(
    variant: Variant,
    scan_of: Callable[[Variant], Scan],
    fx: DebianFixture,
    layer_diff_ids: list[str],
) -> None:
    sbom = scan_of(variant).sbom
    layers = sbom["layers"]
    app_step = f"apt-get install -y {' '.join(fx.extra_packages)}"
    # History has an empty_layer ENV between the two steps: it must not shift the alignment.
    assert [(ly["index"], ly["diff_id"], ly["created_by"]) for ly in layers] == [
        (0, layer_diff_ids[0], BASE_STEP),
        (1, layer_diff_ids[1], app_step),
    ]
    base = {name for name, _, _ in fx.expected_base}
    for p in sbom["packages"]:
        want = 0 if p["name"] in base else 1
        assert (p["layer_index"], p["layer_diff_id"], p["created_by"]) == (
            want,
            layers[want]["diff_id"],
            layers[want]["created_by"],
        ), p["name"]
    by_layer = {i: {p["name"] for p in sbom["packages"] if p["layer_index"] == i} for i in (0, 1)}
    assert by_layer[0] == base
    assert {"curl", "libcurl4", "ca-certificates", "libsqlite3-0", "openssl"} <= by_layer[1]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_scan_writes_nothing_but_its_output(
    variant: Variant, scan_of: Callable[[Variant], Scan]
) -> None:
    """--no-cache: no cache, no HOME cache, no file in cwd, TMPDIR cleaned (the whole-tarball
    gzip is decompressed to a temporary file there while the scan runs)."""
    scan = scan_of(variant)
    box = scan.sandbox
    assert files_under(box.tmp) == []
    assert files_under(box.home) == []
    assert files_under(box.cwd) == []
    assert not box.cache.exists()
    assert scan.new_siblings == frozenset()


def test_every_format_gives_the_same_sbom(scan_of: Callable[[Variant], Scan]) -> None:
    first = comparable(scan_of(VARIANTS[0]).sbom)
    for v in VARIANTS[1:]:
        assert comparable(scan_of(v).sbom) == first, v.id


def test_layer_blobs_reported_per_format(
    scan_of: Callable[[Variant], Scan], layer_diff_ids: list[str]
) -> None:
    """What does differ between formats: the stored blobs, which the SBOM must describe."""
    blobs: dict[str, list[str]] = {}
    for v in VARIANTS:
        sbom = scan_of(v).sbom
        layers, target = sbom["layers"], sbom["target"]
        assert target["config_digest"].startswith("sha256:"), v.id
        assert (target["os"], target["architecture"]) == ("linux", "amd64"), v.id
        if v.fmt == "docker-archive":  # classic docker save: layers by path, no manifest blob
            assert [(ly["digest"], ly["media_type"]) for ly in layers] == [(None, None)] * 2
            assert target["manifest_digest"] is None, v.id
            assert target["repo_tags"] == ["hullscan-test/debian:bookworm"], v.id
            continue
        assert target["manifest_digest"].startswith("sha256:"), v.id
        suffix = {"none": "tar", "gzip": "tar+gzip", "zstd": "tar+zstd"}[v.compression]
        assert [ly["media_type"] for ly in layers] == [
            f"application/vnd.oci.image.layer.v1.{suffix}"
        ] * 2, v.id
        digests = [ly["digest"] for ly in layers]
        assert all(d.startswith("sha256:") for d in digests), v.id
        assert (digests == layer_diff_ids) == (v.compression == "none"), v.id
        blobs.setdefault(v.compression, digests)
        assert blobs[v.compression] == digests, f"{v.id}: same blobs, other digests?"
        tags = ["hullscan-test/debian:bookworm"] if v.fmt == "docker-archive-oci" else ["bookworm"]
        assert target["repo_tags"] == tags, v.id


def test_owned_files_match_dpkg_lists(
    scan_of: Callable[[Variant], Scan], fx: DebianFixture
) -> None:
    sbom = scan_of(VARIANTS[0]).sbom
    info = fx.app_root / "var/lib/dpkg/info"
    for p in sbom["packages"]:
        lst = info / f"{p['name']}:{p['arch']}.list"
        if not lst.exists():
            lst = info / f"{p['name']}.list"
        listed = {
            line.strip().lstrip("/")
            for line in lst.read_text().splitlines()
            if line.strip() not in ("", "/.")
        }
        files = set(p["files"])
        assert files <= listed, (p["name"], sorted(files - listed)[:5])
        not_dirs = {f for f in listed if not (fx.app_root / f).is_dir()}
        assert not_dirs <= files, (p["name"], sorted(not_dirs - files)[:5])
    owned = {p["name"]: set(p["files"]) for p in sbom["packages"] if p["type"] == "deb"}
    assert "usr/bin/curl" in owned["curl"]
    assert "usr/bin/dpkg" in owned["dpkg"]
    assert not any("usr/bin/curl" in files for name, files in owned.items() if name != "curl")


def test_json_output_matches_the_published_schema(scan_of: Callable[[Variant], Scan]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "docs/schema/sbom-v1.json").read_text())
    for v in (VARIANTS[0], BY_ID["oci-dir-zstd"]):
        jsonschema.Draft202012Validator(schema).validate(scan_of(v).sbom)


# --------------------------------------------------------------------------- layers on top


def _status_without(fx: DebianFixture, name: str) -> bytes:
    text = (fx.app_root / "var/lib/dpkg/status").read_text()
    stanzas = [s for s in text.split("\n\n") if s.strip()]
    kept = [s for s in stanzas if not s.startswith(f"Package: {name}\n")]
    assert len(kept) == len(stanzas) - 1, f"no stanza for {name}"
    return ("\n\n".join(kept) + "\n\n").encode()


def _list_name(fx: DebianFixture, package: str) -> str:
    info = fx.app_root / "var/lib/dpkg/info"
    (found,) = [p.name for p in info.glob(f"{package}*.list") if p.stem.split(":")[0] == package]
    return found


@pytest.fixture(scope="module")
def derived_cache(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """One layer cache shared by the scans of images built on top of the real one."""
    return Sandbox(tmp_path_factory.mktemp("derived"))


@pytest.fixture(scope="module")
def purged(
    fx: DebianFixture, tmp_path_factory: pytest.TempPathFactory, derived_cache: Sandbox
) -> dict[str, Any]:
    """Layer 2 = ``dpkg --purge curl`` done by hand: a new status without curl, whiteouts for
    curl's files and its .list/.md5sums, plus whiteouts of libsqlite3-0's .list and .md5sums
    (the package itself is kept).
    History: empty_layer entries before, between and after the filesystem layers."""
    sqlite = _list_name(fx, "libsqlite3-0").removesuffix(".list")
    layer2 = layer_tar(
        [
            Entry("var/lib/dpkg/status", _status_without(fx, "curl")),
            Entry("var/lib/dpkg/info/curl.list", kind="whiteout"),
            Entry("var/lib/dpkg/info/curl.md5sums", kind="whiteout"),
            Entry(f"var/lib/dpkg/info/{sqlite}.list", kind="whiteout"),
            Entry(f"var/lib/dpkg/info/{sqlite}.md5sums", kind="whiteout"),
            Entry("usr/bin/curl", kind="whiteout"),
        ]
    )
    history = [
        {"created_by": "ARG RELEASE=bookworm", "empty_layer": True},
        {"created_by": BASE_STEP},
        {"created_by": ENV_STEP, "empty_layer": True},
        {"created_by": f"apt-get install -y {' '.join(fx.extra_packages)}"},
        {"created_by": "LABEL purpose=test", "empty_layer": True},
        {"created_by": "dpkg --purge curl", "comment": "by hand"},
        {"created_by": 'CMD ["bash"]', "empty_layer": True},
    ]
    image = write_image(
        tmp_path_factory.mktemp("purged") / "layout",
        [fx.base_layer, fx.app_layer, layer2],
        fmt="oci-dir",
        compression="none",
        history=history,
    )
    cache = derived_cache.cache
    run = run_cli(
        "sbom", f"oci-dir:{image}", "-f", "json", "-q", "--cache-dir", cache, sandbox=derived_cache
    )
    return dict(run.json())


def test_whiteouts_in_a_later_layer_remove_package_and_files(
    purged: dict[str, Any], fx: DebianFixture
) -> None:
    expected = [row for row in fx.expected_app if row[0] != "curl"]
    assert deb_rows(purged) == expected
    owned = {p["name"]: p["files"] for p in purged["packages"] if p["type"] == "deb"}
    assert not any("usr/bin/curl" in files for files in owned.values())
    # libsqlite3-0's file lists were deleted: the package stays (status), its files are gone.
    assert "libsqlite3-0" in owned and owned["libsqlite3-0"] == []
    assert any(f.endswith("/libcurl.so.4") for f in owned["libcurl4"])
    # Rewriting the status file in layer 2 does not move the untouched packages to layer 2.
    base = {name for name, _, _ in fx.expected_base}
    for p in purged["packages"]:
        if p["type"] == "deb":
            assert p["layer_index"] == (0 if p["name"] in base else 1), p["name"]
    assert purged["packages"][0]["locations"][0]["layer_diff_id"] == purged["layers"][2]["diff_id"]


def test_history_aligned_across_empty_layer_entries(
    purged: dict[str, Any], fx: DebianFixture
) -> None:
    layers = purged["layers"]
    assert [(ly["created_by"], ly["comment"]) for ly in layers] == [
        (BASE_STEP, None),
        (f"apt-get install -y {' '.join(fx.extra_packages)}", None),
        ("dpkg --purge curl", "by hand"),
    ]
    assert purged["warnings"] == []


def test_opaque_directory_hides_lower_layers(
    fx: DebianFixture,
    tmp_path_factory: pytest.TempPathFactory,
    derived_cache: Sandbox,
    purged: dict[str, Any],
) -> None:
    layer2 = layer_tar(
        [
            Entry("var/lib/dpkg/info", kind="opaque"),
            Entry("var/lib/dpkg/info/curl.list", b"/.\n/usr\n/usr/bin\n/usr/bin/curl-renamed\n"),
        ]
    )
    image = write_image(
        tmp_path_factory.mktemp("opaque") / "layout",
        [fx.base_layer, fx.app_layer, layer2],
        fmt="oci-dir",
        compression="none",
    )
    before = cache_entries(derived_cache.cache)
    cache = derived_cache.cache
    run = run_cli("sbom", image, "-f", "json", "-q", "--cache-dir", cache, sandbox=derived_cache)
    sbom = run.json()
    assert deb_rows(sbom) == fx.expected_app  # the status file is untouched
    owned = {p["name"]: p["files"] for p in sbom["packages"] if p["type"] == "deb"}
    assert owned.pop("curl") == ["usr/bin/curl-renamed"]
    assert all(files == [] for files in owned.values())
    # The purge scan cached the two real layers (and its own layer 2); only this layer 2 is new.
    assert len(before) == 3
    assert len(cache_entries(derived_cache.cache)) == 4


# --------------------------------------------------------------------------- dir:


@pytest.mark.parametrize("which", ["app_root", "base_root"])
def test_rootfs_directory_scan(which: str, fx: DebianFixture, tmp_path: Path) -> None:
    root = fx.app_root if which == "app_root" else fx.base_root
    expected = fx.expected_app if which == "app_root" else fx.expected_base
    box = Sandbox(tmp_path)
    spec = f"dir:{root}" if which == "app_root" else str(root)  # bare path: detected as dir
    sbom = run_cli("sbom", spec, "-f", "json", "-q", "--cache-dir", box.cache, sandbox=box).json()
    assert sbom["target"]["kind"] == "dir"
    assert deb_rows(sbom) == expected
    sources = deb_sources(sbom)
    for name, _, _ in expected:
        assert sources[name] == fx.expected_app_sources[name], name
    assert (sbom["distro"]["id"], sbom["distro"]["version"]) == ("debian", "12")
    (layer,) = sbom["layers"]
    assert layer["diff_id"].startswith("sha256:") and layer["created_by"] is None
    assert {(p["layer_index"], p["layer_diff_id"]) for p in sbom["packages"]} == {
        (0, layer["diff_id"])
    }
    if which == "base_root":
        assert "curl" not in {p["name"] for p in sbom["packages"]}
    # A directory can change between scans: it is never cached.
    assert cache_entries(box.cache) == []


def test_rootfs_scan_equals_image_scan(
    fx: DebianFixture, scan_of: Callable[[Variant], Scan], tmp_path: Path
) -> None:
    box = Sandbox(tmp_path)
    tree = run_cli("sbom", f"dir:{fx.app_root}", "-f", "json", "-q", "--no-cache", sandbox=box)
    image = scan_of(VARIANTS[0]).sbom

    def strip(sbom: dict[str, Any]) -> list[dict[str, Any]]:
        drop = ("layer_index", "layer_diff_id", "created_by", "locations")
        return [{k: v for k, v in p.items() if k not in drop} for p in sbom["packages"]]

    assert strip(tree.json()) == strip(image)
    assert tree.json()["distro"] == image["distro"]


# --------------------------------------------------------------------------- outputs


def test_every_output_format_in_one_run(
    image_of: Callable[[Variant], Path],
    scan_of: Callable[[Variant], Scan],
    fx: DebianFixture,
    tmp_path: Path,
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.json.json_parser import parse_from_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    v = VARIANTS[0]
    box = Sandbox(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    run = run_cli(
        "sbom", f"{v.scheme}:{image_of(v)}", "-q", "--cache-dir", box.cache,
        "-f", "json", "-o", out / "a.json",
        "-f", "cyclonedx", "-o", out / "b.cdx.json",
        "-f", "spdx-json", "-o", out / "c.spdx.json",
        "-f", "table",
        sandbox=box,
    )  # fmt: skip
    assert run.returncode == 0, run.describe()
    assert run.stderr == ""
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.cdx.json", "c.spdx.json"]

    # Native JSON: identical to the stdout of the --no-cache scan of the same spec
    # (deterministic output; the cache does not change a byte).
    native = json.loads((out / "a.json").read_text())
    assert native == scan_of(v).sbom
    purls = {p["purl"] for p in native["packages"]}
    assert len(purls) == len(native["packages"]) == len(fx.expected_app)

    cdx_text = (out / "b.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx_text) is None
    cdx = json.loads(cdx_text)
    assert cdx["specVersion"] == "1.6"
    cdx_purls = {c["purl"] for c in cdx.get("components", []) if c.get("type") == "library"}
    assert cdx_purls == purls

    doc = parse_from_file(str(out / "c.spdx.json"))
    assert validate_full_spdx_document(doc) == []
    spdx_names = {(p.name, p.version) for p in doc.packages}
    assert {(p["name"], p["version"]) for p in native["packages"]} <= spdx_names

    table = run.stdout
    assert f"{len(native['packages'])} packages" in table
    curl = next(line for line in table.splitlines() if line.startswith("curl "))
    assert "7.88.1" in curl and " 1 apt-get install" in curl
    assert "Debian GNU/Linux 12 (bookworm)" in table


def test_output_file_in_a_missing_directory_fails_before_scanning(
    image_of: Callable[[Variant], Path], tmp_path: Path
) -> None:
    from tests.integration.cli_support import assert_one_line_error

    box = Sandbox(tmp_path)
    image = image_of(VARIANTS[0])
    run = run_cli(
        "sbom", image, "-q", "--cache-dir", box.cache,
        "-f", "json", "-o", tmp_path / "ok.json",
        "-f", "spdx", "-o", tmp_path / "missing" / "b.json",
        sandbox=box,
    )  # fmt: skip
    assert_one_line_error(run, 2, "cannot write", "does not exist")
    assert not (tmp_path / "ok.json").exists(), "nothing is written when one output cannot be"
    assert cache_entries(box.cache) == [], "the scan must not even start"
    assert os.listdir(tmp_path / "cwd") == []
