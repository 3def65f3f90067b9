"""PhpComposerAnalyzer: a vendor tree written by the REAL Composer, checked against Composer's own
report of it; a hand-written Composer 1 file; the purl version convention checked against
osv.dev's Packagist data; hostile input.

Real data: Debian's ``composer`` package (``apt-get install composer``; Composer 2.5 on
bookworm) installs a project offline. The project's packages come from a ``path`` repository
(local directories made here, each with its own ``composer.json``; Packagist is disabled and
``COMPOSER_DISABLE_NETWORK=1``), so Composer resolves, mirrors them into ``vendor/`` and writes
``vendor/composer/installed.json`` itself (Composer 2 format). Two installs of the same lock:
with dev packages (``composer update``) and without (``composer install --no-dev``). Built once
and cached under ``/var/tmp/hullscan-fixtures/lang/php`` (``$HULLSCAN_LANG_FIXTURES/php``) with
Composer's own answers, taken from the same projects at build time:

* ``composer show --format=json``: every installed package, name and version as Composer
  reports them;
* ``composer show --no-dev --format=json``: the same without the dev packages (the dev set is
  the difference);
* ``composer licenses --format=json``: each package's licenses.

The tests skip, saying why, when the cache is absent and ``composer`` is not installed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan import versions
from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.lang import php
from hullscan.analyzers.lang.php import (
    ComposerRecord,
    PhpComposerAnalyzer,
    composer_purl,
    is_installed_json,
    parse_installed_json,
)
from hullscan.errors import ParseError
from tests.unit.osfixtures import analyze, assemble

PHP = PhpComposerAnalyzer()
CACHE = Path(os.environ.get("HULLSCAN_LANG_FIXTURES", "/var/tmp/hullscan-fixtures/lang")) / "php"
FIXTURE_VERSION = "1"
VULNDATA = Path(__file__).resolve().parents[2].parent / "shared" / "vulndata"
OSV_PACKAGIST = VULNDATA / "osv-dev" / "Packagist" / "all.zip.zst"
IMAGE_PATH = "var/www/app/vendor/composer/installed.json"

# The local packages (directory -> composer.json): a "v"-tagged version, a pre-release, a
# four-part version, an upper-case name (Composer keeps it as written), a metapackage (no files),
# a package without a version (Composer makes it dev-main), licenses as a string, a list, none,
# and a dev-only package with a runtime dependency.
LOCAL_PACKAGES: dict[str, dict[str, Any]] = {
    "logger": {
        "name": "acme/logger",
        "version": "v1.2.3",
        "license": "MIT",
        "require": {"acme/util": "^2.0@beta"},
    },
    "util": {"name": "acme/util", "version": "2.0.0-beta1", "license": ["MIT", "Apache-2.0"]},
    "http": {
        "name": "acme/http-client",
        "version": "3.4.5.6",
        "license": "(LGPL-2.1-only or GPL-3.0-or-later)",
    },
    "legacy": {"name": "Acme/Legacy-Lib", "version": "1.0.0", "license": "BSD-3-Clause"},
    "bundle": {
        "name": "acme/bundle",
        "version": "5.0.0",
        "type": "metapackage",
        "require": {"acme/noversion": "*"},
    },
    "noversion": {"name": "acme/noversion", "license": "proprietary"},
    "testkit": {"name": "acme/testkit", "version": "0.9.0", "require": {"acme/logger": "*"}},
}
PROJECT: dict[str, Any] = {
    "name": "acme/app",
    "version": "1.0.0",
    "type": "project",
    "repositories": [
        {"packagist.org": False},
        {"type": "path", "url": "../pkgs/*", "options": {"symlink": False}},
    ],
    "require": {
        "acme/logger": "^1.2",
        "acme/http-client": "^3.4",
        "acme/legacy-lib": "^1.0",
        "acme/bundle": "5.0.0",
    },
    "require-dev": {"acme/testkit": "0.9.0"},
    "minimum-stability": "dev",
    "prefer-stable": True,
}


# --------------------------------------------------------------------------- the real tree


def _composer(args: list[str], cwd: Path, home: Path) -> str:
    env = {
        **os.environ,
        "COMPOSER_HOME": str(home),
        "COMPOSER_CACHE_DIR": str(home / "cache"),
        "COMPOSER_DISABLE_NETWORK": "1",
        "COMPOSER_NO_AUDIT": "1",
        "COMPOSER_ALLOW_SUPERUSER": "1",
    }
    r = subprocess.run(
        ["composer", *args, "--no-plugins", "--no-interaction"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"composer {' '.join(args)} failed: {r.stderr[-800:]}")
    return r.stdout


def _build(root: Path) -> None:
    """Build the projects with the real Composer and record its answers (see the module doc)."""
    staging = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    home = staging / "home"
    for folder, manifest in LOCAL_PACKAGES.items():
        (staging / "pkgs" / folder).mkdir(parents=True)
        (staging / "pkgs" / folder / "composer.json").write_text(json.dumps(manifest, indent=2))
    dev, nodev, oracle = staging / "dev", staging / "nodev", staging / "oracle"
    for d in (dev, nodev, oracle, home):
        d.mkdir(parents=True)
    (dev / "composer.json").write_text(json.dumps(PROJECT, indent=2))
    _composer(["update", "--no-scripts", "--no-progress"], dev, home)
    shutil.copy(dev / "composer.json", nodev / "composer.json")
    shutil.copy(dev / "composer.lock", nodev / "composer.lock")
    _composer(["install", "--no-dev", "--no-scripts", "--no-progress"], nodev, home)
    (oracle / "show.json").write_text(_composer(["show", "--format=json"], dev, home))
    (oracle / "show-nodev.json").write_text(
        _composer(["show", "--no-dev", "--format=json"], dev, home)
    )
    (oracle / "licenses.json").write_text(_composer(["licenses", "--format=json"], dev, home))
    (oracle / "show-nodev-install.json").write_text(
        _composer(["show", "--format=json"], nodev, home)
    )
    (oracle / "composer-version.txt").write_text(_composer(["--version"], dev, home))
    shutil.rmtree(home)
    (staging / "VERSION").write_text(FIXTURE_VERSION)
    try:
        staging.rename(root)
    except OSError:  # another worker built it first
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="module")
def tree() -> Path:
    root = CACHE / f"v{FIXTURE_VERSION}"
    if not (root / "VERSION").is_file():
        if shutil.which("composer") is None:
            pytest.skip(
                f"no cached Composer tree at {root} and no `composer` to build it "
                "(apt-get install composer)"
            )
        root.parent.mkdir(parents=True, exist_ok=True)
        _build(root)
    return root


def _oracle(tree: Path, name: str) -> Any:
    return json.loads((tree / "oracle" / name).read_text())


def _shown(tree: Path, name: str) -> set[tuple[str, str]]:
    return {(p["name"].lower(), p["version"]) for p in _oracle(tree, name)["installed"]}


def test_real_composer_tree_matches_composer_show(tree: Path) -> None:
    data = (tree / "dev" / "vendor" / "composer" / "installed.json").read_bytes()
    out = assemble(PHP, {IMAGE_PATH: data})
    assert not out.errors
    got = {(p.name, p.version) for p in out.packages}
    assert got == _shown(tree, "show.json")
    assert len(out.packages) == len(LOCAL_PACKAGES)  # the root project is not a package
    for p in out.packages:
        assert p.type == "composer" and p.found_by == "lang/php"
        assert p.purl == composer_purl(p.name, p.version)
        assert [loc.path for loc in p.locations] == [IMAGE_PATH]
    by_name = {p.name: p for p in out.packages}
    # as written, "v" kept; the upper-case name lower-cased; the version Composer made up
    assert by_name["acme/logger"].purl == "pkg:composer/acme/logger@v1.2.3"
    assert by_name["acme/legacy-lib"].purl == "pkg:composer/acme/legacy-lib@1.0.0"
    assert by_name["acme/noversion"].version == "dev-main"


def test_real_composer_licenses_match_composer_licenses(tree: Path) -> None:
    data = (tree / "dev" / "vendor" / "composer" / "installed.json").read_bytes()
    expected = {
        name.lower(): tuple(dep["license"])
        for name, dep in _oracle(tree, "licenses.json")["dependencies"].items()
    }
    got = {p.name: p.licenses for p in assemble(PHP, {IMAGE_PATH: data}).packages}
    assert got == expected
    assert got["acme/util"] == ("MIT", "Apache-2.0")


def test_real_dev_packages_are_kept_and_flagged(tree: Path) -> None:
    data = (tree / "dev" / "vendor" / "composer" / "installed.json").read_bytes()
    rec = analyze(PHP, IMAGE_PATH, data)
    assert isinstance(rec, ComposerRecord) and rec.format == 2
    dev = {(p.name, p.version) for p in rec.packages if p.dev}
    expected = _shown(tree, "show.json") - _shown(tree, "show-nodev.json")
    assert dev == expected == {("acme/testkit", "0.9.0")}


def test_real_no_dev_install(tree: Path) -> None:
    data = (tree / "nodev" / "vendor" / "composer" / "installed.json").read_bytes()
    rec = analyze(PHP, IMAGE_PATH, data)
    assert isinstance(rec, ComposerRecord) and not rec.errors
    assert {(p.name, p.version) for p in rec.packages} == _shown(tree, "show-nodev-install.json")
    assert not any(p.dev for p in rec.packages)
    assert "acme/testkit" not in {p.name for p in rec.packages}


def test_real_tree_through_dispatch_and_symlinked_vendor(tree: Path) -> None:
    data = (tree / "dev" / "vendor" / "composer" / "installed.json").read_bytes()
    assert PHP in Dispatch([PHP]).match(IMAGE_PATH, len(data))
    # /srv/app -> /var/www/app: the same file seen twice counts once, at its real path
    out = assemble(
        PHP,
        {IMAGE_PATH: data},
        links={"srv/app/vendor/composer/installed.json": IMAGE_PATH},
    )
    assert len(out.packages) == len(LOCAL_PACKAGES)
    assert {p.locations[0].path for p in out.packages} == {IMAGE_PATH}


# --------------------------------------------------------------------------- Composer 1

# HAND-WRITTEN (no Composer 1 here: Debian bookworm ships Composer 2.5, which only writes the
# Composer 2 format). Composer 1.x wrote installed.json as a bare JSON list of the packages,
# each dumped by its ArrayDumper (the same per-package fields as Composer 2 minus
# "install-path"), with no record of which packages were dev-only.
COMPOSER1 = b"""[
    {
        "name": "symfony/http-kernel",
        "version": "v4.4.0",
        "version_normalized": "4.4.0.0",
        "source": {"type": "git", "url": "https://github.com/symfony/http-kernel.git",
                   "reference": "5a5e7237d928aa98ff8952050cbbf0135899b6b0"},
        "dist": {"type": "zip", "url": "https://api.github.com/repos/symfony/http-kernel/zipball/5a5e7237d928aa98ff8952050cbbf0135899b6b0",
                 "reference": "5a5e7237d928aa98ff8952050cbbf0135899b6b0", "shasum": ""},
        "require": {"php": "^7.1.3", "psr/log": "~1.0"},
        "time": "2019-11-21T07:08:15+00:00",
        "type": "library",
        "installation-source": "dist",
        "autoload": {"psr-4": {"Symfony\\\\Component\\\\HttpKernel\\\\": ""}},
        "notification-url": "https://packagist.org/downloads/",
        "license": ["MIT"],
        "authors": [{"name": "Fabien Potencier", "email": "fabien@symfony.com"}],
        "description": "Symfony HttpKernel Component",
        "homepage": "https://symfony.com"
    },
    {
        "name": "psr/log",
        "version": "1.1.2",
        "version_normalized": "1.1.2.0",
        "type": "library",
        "installation-source": "dist",
        "license": ["MIT"]
    },
    {
        "name": "Monolog/Monolog",
        "version": "1.25.2",
        "version_normalized": "1.25.2.0",
        "type": "library",
        "license": "MIT"
    }
]"""


def test_composer1_list_format() -> None:
    rec = analyze(PHP, "app/vendor/composer/installed.json", COMPOSER1)
    assert isinstance(rec, ComposerRecord) and rec.format == 1 and not rec.errors
    assert [(p.name, p.version, p.licenses, p.dev) for p in rec.packages] == [
        ("symfony/http-kernel", "v4.4.0", ("MIT",), False),
        ("psr/log", "1.1.2", ("MIT",), False),
        ("monolog/monolog", "1.25.2", ("MIT",), False),
    ]
    out = assemble(PHP, {"app/vendor/composer/installed.json": COMPOSER1})
    assert sorted(p.purl for p in out.packages) == [
        "pkg:composer/monolog/monolog@1.25.2",
        "pkg:composer/psr/log@1.1.2",
        "pkg:composer/symfony/http-kernel@v4.4.0",
    ]


# --------------------------------------------------------------------------- purl versions


def test_version_convention_follows_osv_packagist() -> None:
    """osv.dev's Packagist records list affected versions as Packagist spells them, which is
    what Composer writes in installed.json: the release's tag (symfony/http-kernel ``2.0.4``,
    then ``v2.0.10``), and write range events without the ``v``; Composer's order treats both
    alike. So the version is reported exactly as written, never with the ``v`` added or
    removed."""
    if not OSV_PACKAGIST.is_file():
        pytest.skip(f"shared vulndata absent: {OSV_PACKAGIST}")
    buf = io.BytesIO()
    with OSV_PACKAGIST.open("rb") as fh:
        zstandard.ZstdDecompressor().copy_stream(fh, buf)
    with zipfile.ZipFile(buf) as zf:
        record = json.loads(zf.read("GHSA-5c58-w9xc-qcj9.json"))
    [affected] = [
        a
        for a in record["affected"]
        if (a["package"]["ecosystem"], a["package"]["name"]) == ("Packagist", "symfony/http-kernel")
        and "v2.0.10" in a.get("versions", ())
    ]
    # each release as tagged: early tags had no "v", later ones do; never rewritten
    assert "2.0.4" in affected["versions"] and "v2.0.4" not in affected["versions"]
    assert "2.0.10" not in affected["versions"]
    events = [v for r in affected["ranges"] for e in r["events"] for v in e.values()]
    assert events == ["2.0.0", "2.3.27"]
    assert versions.compare("composer", "v2.0.10", "2.0.0") > 0
    assert versions.compare("composer", "v2.0.10", "2.3.27") < 0
    assert versions.compare("composer", "v2.0.10", "2.0.10") == 0
    assert composer_purl("symfony/http-kernel", "v2.0.10") == (
        "pkg:composer/symfony/http-kernel@v2.0.10"
    )


# --------------------------------------------------------------------------- paths, entries


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("vendor/composer/installed.json", True),
        ("var/www/html/vendor/composer/installed.json", True),
        ("app/libs/composer/installed.json", True),  # a renamed vendor-dir
        ("installed.json", False),
        ("vendor/installed.json", False),
        ("usr/share/foo/installed.json", False),
        ("vendor/composer/installed.php", False),
    ],
)
def test_path_filter(path: str, wanted: bool) -> None:
    assert is_installed_json(path) is wanted
    rec = PHP.analyze_file(path, COMPOSER1)
    assert (rec.kind == "installed") is wanted


def test_bad_entries_are_left_out_and_noted() -> None:
    doc = {
        "packages": [
            {"name": "good/one", "version": "1.0.0"},
            {"name": "../../etc/passwd", "version": "1"},
            {"name": "a/..", "version": "1"},
            {"name": "/etc/passwd", "version": "1"},
            {"name": "a/b/c", "version": "1"},
            {"name": "nopackage", "version": "1"},
            {"name": "ünï/code", "version": "1"},
            {"name": "good/two", "version": "1.0 with spaces"},
            {"name": "good/three", "version": ""},
            {"name": "good/four"},
            {"version": "1"},
            {"name": "Good/One", "version": "2.0.0"},
            {"name": "x" * 300 + "/y", "version": "1"},
            {"name": "good/five", "version": "1" * 300},
            {"name": "good/six", "version": "1", "license": ["  ", "x" * 500, "MIT", "MIT"]},
        ],
        "dev": False,
        "dev-package-names": ["GOOD/SIX"],
    }
    rec = parse_installed_json(json.dumps(doc).encode())
    assert [(p.name, p.version, p.licenses, p.dev) for p in rec.packages] == [
        ("good/one", "1.0.0", (), False),
        ("good/six", "1", ("MIT",), True),
    ]
    assert len(rec.errors) == 13
    assert any("listed twice" in e for e in rec.errors)
    out = assemble(PHP, {"vendor/composer/installed.json": json.dumps(doc).encode()})
    assert len(out.errors) == 13 and out.errors[0][0] == "vendor/composer/installed.json"


def test_errors_and_packages_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = [{"name": f"bad{i}", "version": "1"} for i in range(100)]
    rec = parse_installed_json(json.dumps(bad).encode())
    assert rec.packages == () and len(rec.errors) == php._MAX_ERRORS
    monkeypatch.setattr(php, "MAX_PACKAGES", 10)
    many = [{"name": f"a/b{i}", "version": "1"} for i in range(11)]
    with pytest.raises(ParseError, match="more than 10 packages"):
        parse_installed_json(json.dumps(many).encode())


def test_empty_installs() -> None:
    assert parse_installed_json(b"[]").packages == ()
    rec = parse_installed_json(b'{"packages": [], "dev": true, "dev-package-names": []}')
    assert rec.format == 2 and rec.packages == ()


# --------------------------------------------------------------------------- hostile input


def _wrong_types() -> list[bytes]:
    docs: list[object] = [
        None,
        1,
        "packages",
        True,
        {},
        {"packages": None},
        {"packages": {}},
        {"packages": "a/b"},
        {"packages": [1]},
        {"packages": [None]},
        {"packages": [[]]},
        {"packages": [{"name": 1, "version": "1"}]},
        {"packages": [{"name": "a/b", "version": 1.5}]},
        {"packages": [{"name": "a/b", "version": "1", "license": 1}]},
        {"packages": [{"name": "a/b", "version": "1", "license": [1]}]},
        {"packages": [{"name": "a/b", "version": "1", "license": {"MIT": 1}}]},
        {"packages": [], "dev": "yes"},
        {"packages": [], "dev-package-names": "a/b"},
        {"packages": [], "dev-package-names": [1]},
        [1],
        [None],
        [{"name": ["a/b"], "version": "1"}],
        [{"name": "a/b", "version": {"v": 1}}],
    ]
    return [json.dumps(d).encode() for d in docs]


@pytest.mark.parametrize("data", _wrong_types())
def test_wrong_types_are_parse_errors(data: bytes) -> None:
    with pytest.raises(ParseError):
        PHP.analyze_file("vendor/composer/installed.json", data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"\xef\xbb\xbf[]",  # a BOM is not JSON
        b'{"packages": [',
        COMPOSER1[: len(COMPOSER1) // 2],
        b'{"packages": []} trailing',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"packages": [], "x": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}",
        b'[{"name": "a/b", "version": "1", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]",
        b'[{"name": "a/b", "version": "\\ud800"}]',  # a lone surrogate
    ],
)
def test_garbage_truncation_and_deep_nesting_are_parse_errors(data: bytes) -> None:
    with pytest.raises(ParseError):
        PHP.analyze_file("vendor/composer/installed.json", data)


def test_huge_strings_are_refused_not_reported() -> None:
    huge = "a" * (4 * 1024 * 1024)
    doc = [
        {"name": f"{huge}/x", "version": "1"},
        {"name": "a/x", "version": huge},
        {"name": "a/y", "version": "1", "license": [huge]},
    ]
    rec = PHP.analyze_file("vendor/composer/installed.json", json.dumps(doc).encode())
    assert [(p.name, p.licenses) for p in rec.packages] == [("a/y", ())]
    assert all(len(e) < 200 for e in rec.errors)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_KEYS = st.sampled_from(["name", "version", "license", "packages", "dev", "dev-package-names"])


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_never_raise_anything_but_parse_error(data: bytes) -> None:
    try:
        PHP.analyze_file("vendor/composer/installed.json", data)
    except ParseError:
        pass


@given(
    st.one_of(
        _json,
        st.lists(st.dictionaries(_KEYS, _json), max_size=4),
        st.fixed_dictionaries(
            {"packages": st.lists(st.dictionaries(_KEYS, _json | st.text()), max_size=4)},
            optional={"dev": _json, "dev-package-names": _json},
        ),
    )
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_json_never_raises_anything_but_parse_error(doc: object) -> None:
    try:
        rec = analyze(PHP, "vendor/composer/installed.json", json.dumps(doc).encode())
    except ParseError:
        return
    assert isinstance(rec, ComposerRecord)
    for p in rec.packages:
        assert php._NAME_RE.match(p.name) and php._VERSION_RE.match(p.version)
        composer_purl(p.name, p.version)


@given(st.lists(st.tuples(st.integers(0, len(COMPOSER1) - 1), st.integers(0, 255)), max_size=8))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_files_never_raise_anything_but_parse_error(flips: list[tuple[int, int]]) -> None:
    data = bytearray(COMPOSER1)
    for offset, value in flips:
        data[offset] = value
    try:
        rec = PHP.analyze_file("vendor/composer/installed.json", bytes(data))
    except ParseError:
        return
    assert isinstance(rec, ComposerRecord)


def test_record_round_trips_through_the_cache_encoding() -> None:
    rec = PHP.analyze_file("vendor/composer/installed.json", COMPOSER1)
    assert PHP.decode(PHP.encode(rec)) == rec
    assert msgspec.msgpack.decode(PHP.encode(rec), type=ComposerRecord) == rec
