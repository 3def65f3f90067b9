"""PythonAnalyzer and NodeAnalyzer: parsing, path filters, purls, and arbitrary input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.lang.node import NodeAnalyzer, NodeRecord, is_installed_manifest
from hullscan.analyzers.lang.python import PyRecord, PythonAnalyzer
from hullscan.analyzers.registry import create
from hullscan.errors import ParseError
from tests.unit.osfixtures import PKGDB, analyze, assemble

PY = PythonAnalyzer()
NODE = NodeAnalyzer()
SITE = "usr/lib/python3/dist-packages"

METADATA = b"""Metadata-Version: 2.1
Name: Foo_Bar.baz
Version: 1.2.3.post1
Summary: a thing
License: MIT
Classifier: License :: OSI Approved :: MIT License
Description-Content-Type: text/markdown

Name: NotThis
Version: 9.9
"""
RECORD = b"""foo_bar/__init__.py,sha256=abc,10
foo_bar/x.py,,
Foo_Bar.baz-1.2.3.post1.dist-info/METADATA,,
../../../bin/foo,sha256=def,5
"../../../../../../etc/passwd",,
"""


def test_metadata_and_record_make_one_package() -> None:
    dist = f"{SITE}/Foo_Bar.baz-1.2.3.post1.dist-info"
    out = assemble(PY, {f"{dist}/METADATA": METADATA, f"{dist}/RECORD": RECORD})
    assert not out.errors
    [p] = out.packages
    assert (p.name, p.version, p.type) == ("Foo_Bar.baz", "1.2.3.post1", "pypi")
    assert p.purl == "pkg:pypi/foo-bar-baz@1.2.3.post1"
    assert p.licenses == ("MIT",)
    assert p.locations[0].path == f"{dist}/METADATA"
    assert set(p.files) == {
        f"{SITE}/foo_bar/__init__.py",
        f"{SITE}/foo_bar/x.py",
        f"{dist}/METADATA",
        "usr/bin/foo",
        "etc/passwd",  # clamped at the image root, never outside it
    }


def test_license_expression_wins_and_classifiers_are_the_fallback() -> None:
    r = PY.analyze_file(
        "a/x-1.dist-info/METADATA",
        b"Name: x\nVersion: 1\nLicense-Expression: Apache-2.0\nLicense: foo\n",
    )
    assert r.licenses == ("Apache-2.0",)
    r = PY.analyze_file(
        "a/x-1.dist-info/METADATA",
        b"Name: x\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: BSD License\n",
    )
    assert r.licenses == ("BSD License",)


def test_egg_info_directory_and_ignored_paths() -> None:
    egg = PY.analyze_file("app/x.egg-info/PKG-INFO", b"Name: x\nVersion: 0.1\n")
    assert (egg.kind, egg.name, egg.version) == ("metadata", "x", "0.1")
    for path in (
        "app/METADATA",
        "app/foo/PKG-INFO",
        "app/x.dist-info/PKG-INFO",
        "a/.dist-info/METADATA",
    ):
        assert PY.analyze_file(path, b"\0garbage").kind == "ignored", path
    out = assemble(PY, {"app/x.egg-info/PKG-INFO": b"Name: x\nVersion: 0.1\n"})
    assert [p.purl for p in out.packages] == ["pkg:pypi/x@0.1"]


@pytest.mark.parametrize(
    "data",
    [
        b"Version: 1\n",
        b"Name: x\n",
        b"Name: bad name\nVersion: 1\n",
        b"Name: x/y\nVersion: 1\n",
        b"Name: x\nVersion: 1 2\n",
        b"Name: x\0\nVersion: 1\n",
        b"\n\nName: x\nVersion: 1\n",  # headers end at the first empty line
    ],
)
def test_bad_metadata_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        PY.analyze_file("a/x-1.dist-info/METADATA", data)


def test_dispatch_is_by_basename() -> None:
    d = Dispatch(create())

    def names(path: str) -> set[str]:
        return {a.name for a in d.match(path, 10)}

    assert names(f"{SITE}/x-1.dist-info/METADATA") == {"lang/python"}
    assert names(f"{SITE}/x-1.dist-info/RECORD") == {"lang/python"}
    assert names("app/node_modules/x/package.json") == {"lang/node"}
    assert names(f"{SITE}/x-1.dist-info/WHEEL") == set()


@pytest.mark.parametrize(
    ("path", "installed"),
    [
        ("app/node_modules/lodash/package.json", True),
        ("node_modules/lodash/package.json", True),
        ("app/node_modules/@babel/core/package.json", True),
        ("a/node_modules/x/node_modules/y/package.json", True),
        ("app/package.json", False),
        ("app/node_modules/package.json", False),
        ("app/node_modules/@babel/package.json", False),
        ("app/node_modules/resolve/test/resolver/baz/package.json", False),
        ("app/node_modules/x/lib/package.json", False),
        ("app/node_modules/@s/x/lib/package.json", False),
    ],
)
def test_node_manifest_paths(path: str, installed: bool) -> None:
    assert is_installed_manifest(path) is installed


def test_node_packages_and_purls() -> None:
    files = {
        "app/node_modules/lodash/package.json": json.dumps(
            {"name": "lodash", "version": "4.17.15", "license": "MIT"}
        ).encode(),
        "app/node_modules/@babel/core/package.json": json.dumps(
            {"name": "@babel/core", "version": "7.0.0", "license": {"type": "MIT"}}
        ).encode(),
        "app/node_modules/old/package.json": json.dumps(
            {"name": "old", "version": "0.1.0", "licenses": [{"type": "BSD"}, {"type": "MIT"}]}
        ).encode(),
        "app/node_modules/lodash/test/fixture/package.json": b'{"name":"fake","version":"1"}',
        "app/package.json": b'{"name":"root","version":"1.0.0"}',
    }
    out = assemble(NODE, files)
    got = {p.name: p for p in out.packages}
    assert set(got) == {"lodash", "@babel/core", "old"}
    assert got["@babel/core"].purl == "pkg:npm/%40babel/core@7.0.0"
    purl = PackageURL.from_string(got["@babel/core"].purl)
    assert (purl.namespace, purl.name) == ("@babel", "core")
    assert got["lodash"].purl == "pkg:npm/lodash@4.17.15"
    assert got["old"].licenses == ("BSD", "MIT")
    assert got["lodash"].locations[0].path == "app/node_modules/lodash/package.json"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"{",
        b'{"name":"x"}',
        b'{"name":1,"version":"1"}',
        b'{"name":"a/b/c","version":"1"}',
        b'{"name":"x","version":"1 2"}',
        b'{"name":".x","version":"1"}',
        b"\xff\xfe",
    ],
)
def test_bad_package_json_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        NODE.analyze_file("node_modules/x/package.json", data)


def _fuzz(analyzer: PythonAnalyzer | NodeAnalyzer, path: str, data: bytes) -> None:
    try:
        rec = analyze(analyzer, path, data)
    except ParseError:
        return
    assert isinstance(rec, (PyRecord, NodeRecord))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(
        ["a/x-1.dist-info/METADATA", "a/x-1.dist-info/RECORD", "a/x.egg-info/PKG-INFO", "METADATA"]
    ),
    st.one_of(
        st.binary(max_size=2000),
        st.lists(
            st.sampled_from(
                [
                    b"Name: x",
                    b"Version: 1.0",
                    b"License: MIT",
                    b" cont",
                    b"",
                    b"a,b,c",
                    b'"x',
                    b"\r",
                    b"\0",
                ]
            ),
            max_size=12,
        ).map(b"\n".join),
    ),
)
def test_python_arbitrary_bytes(path: str, data: bytes) -> None:
    _fuzz(PY, path, data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["name", "version", "license", "licenses", "type", "x"]),
                    c,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_node_arbitrary_bytes(data: bytes) -> None:
    _fuzz(NODE, "app/node_modules/x/package.json", data)


def test_deeply_nested_json_is_a_parse_error_or_record() -> None:
    _fuzz(NODE, "node_modules/x/package.json", b"[" * 100_000)


# --------------------------------------------------------------------------- eggs and conda

PYFIX = PKGDB / "lang" / "python"


def test_zipped_egg_single_file_egg_info_and_egg_directories() -> None:
    egg = PYFIX / "egg-zip" / "kitchen-1.2.6-py2.7.egg"
    single = PYFIX / "metadata-files" / "distlib-0.3.1-py3.9.egg-info"
    if not egg.is_file() or not single.is_file():
        pytest.skip(f"shared fixtures absent: {PYFIX}")
    site = "usr/lib/python2.7/site-packages"
    out = assemble(
        PY,
        {
            f"{site}/kitchen-1.2.6-py2.7.egg": egg.read_bytes(),  # Trivy's egg test: kitchen 1.2.6
            f"{site}/distlib-0.3.1-py3.9.egg-info": single.read_bytes(),
            f"{site}/six-1.16.0-py3.9.egg/EGG-INFO/PKG-INFO": b"Name: six\nVersion: 1.16.0\n\n",
            f"{site}/other/EGG-INFO/PKG-INFO": b"Name: nope\nVersion: 1\n\n",  # not in an egg
        },
    )
    assert sorted((p.name, p.version, p.purl) for p in out.packages) == [
        ("distlib", "0.3.1", "pkg:pypi/distlib@0.3.1"),
        ("kitchen", "1.2.6", "pkg:pypi/kitchen@1.2.6"),
        ("six", "1.16.0", "pkg:pypi/six@1.16.0"),
    ]


CONDA_META = json.dumps({
    "name": "openssl", "version": "3.0.12", "build": "h7f8727e_0", "channel": "pkgs/main",
    "license": "Apache-2.0", "files": ["lib/libssl.so.3", "bin/openssl", "../../etc/passwd"],
}).encode()  # fmt: skip


def test_conda_meta_records() -> None:
    """A conda-meta record in conda's documented layout (hand-written: no conda here)."""
    out = assemble(PY, {"opt/conda/conda-meta/openssl-3.0.12-h7f8727e_0.json": CONDA_META,
                        "opt/conda/conda-meta/history": b"==> 2024 <=="})  # fmt: skip
    [p] = out.packages
    assert (p.type, p.purl, p.licenses) == ("conda", "pkg:conda/openssl@3.0.12", ("Apache-2.0",))
    assert set(p.files) == {"opt/conda/lib/libssl.so.3", "opt/conda/bin/openssl", "etc/passwd"}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("site/x.egg", b"not a zip"),
        ("site/x.egg", b"PK\x05\x06" + b"\0" * 18),  # an empty zip: no EGG-INFO/PKG-INFO
        ("opt/conda/conda-meta/x.json", b'{"name": 1}'),
        ("opt/conda/conda-meta/x.json", b'{"name": "a b", "version": "1"}'),
        ("opt/conda/conda-meta/x.json", b"[" * 50_000),
    ],
    ids=["not-zip", "empty-zip", "bad-type", "bad-name", "deep"],
)
def test_bad_eggs_and_conda_records_are_parse_errors(path: str, data: bytes) -> None:
    with pytest.raises(ParseError):
        PY.analyze_file(path, data)


def test_npm_workspace_links_are_not_installed_packages() -> None:
    manifest = json.dumps({"name": "@acme/ws", "version": "1.0.0"}).encode()
    lodash = json.dumps({"name": "lodash", "version": "4.17.21"}).encode()
    out = assemble(
        NODE,
        {"app/packages/ws/package.json": manifest,
         "app/node_modules/lodash/package.json": lodash,
         "app/node_modules/.pnpm/x@1.0.0/node_modules/x/package.json":
             json.dumps({"name": "x", "version": "1.0.0"}).encode()},
        links={"app/node_modules/@acme/ws/package.json": "app/packages/ws/package.json",
               "app/node_modules/x/package.json":
                   "app/node_modules/.pnpm/x@1.0.0/node_modules/x/package.json"},
    )  # fmt: skip
    found = sorted((p.name, p.locations[0].path) for p in out.packages)
    # the workspace link is skipped; pnpm's link into its store counts once, at the store
    assert found == [
        ("lodash", "app/node_modules/lodash/package.json"),
        ("x", "app/node_modules/.pnpm/x@1.0.0/node_modules/x/package.json"),
    ]
