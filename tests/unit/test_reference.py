"""Image references against the REAL ``reference`` package of the distribution project (Debian's
golang-github-docker-distribution-dev, compiled here with Debian's Go into a small program that
prints ``ParseNormalizedNamed``'s verdict, domain, path, tag and digest for each input line)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.errors import UsageError
from hullscan.image.reference import Reference, parse_reference
from tests.unit import debfixtures

GO = shutil.which("go")
ORACLE_SRC = """package main

import (
\t"bufio"
\t_ "crypto/sha256"
\t_ "crypto/sha512"
\t"encoding/json"
\t"os"

\t"github.com/docker/distribution/reference"
)

type out struct {
\tOK     bool   `json:"ok"`
\tDomain string `json:"domain"`
\tPath   string `json:"path"`
\tTag    string `json:"tag"`
\tDigest string `json:"digest"`
}

func main() {
\tsc := bufio.NewScanner(os.Stdin)
\tsc.Buffer(make([]byte, 1<<20), 1<<20)
\tenc := json.NewEncoder(os.Stdout)
\tfor sc.Scan() {
\t\to := out{}
\t\tnamed, err := reference.ParseNormalizedNamed(sc.Text())
\t\tif err == nil {
\t\t\to.OK = true
\t\t\to.Domain = reference.Domain(named)
\t\t\to.Path = reference.Path(named)
\t\t\tif t, ok := named.(reference.Tagged); ok {
\t\t\t\to.Tag = t.Tag()
\t\t\t}
\t\t\tif d, ok := named.(reference.Digested); ok {
\t\t\t\to.Digest = d.Digest().String()
\t\t\t}
\t\t}
\t\tenc.Encode(o)
\t}
}
"""


@pytest.fixture(scope="module")
def oracle() -> Path:
    if GO is None:
        pytest.skip("go (Debian golang-go) is not installed")

    def build(staging: Path) -> None:
        debfixtures.extract_debs(
            staging,
            ("golang-github-docker-distribution-dev", "golang-github-opencontainers-go-digest-dev"),
            lambda p: p.suffix == ".go",
            must="golang-github-docker-distribution-dev",
        )
        gopath = staging / "root" / "usr" / "share" / "gocode"
        src = gopath / "src" / "reforacle"
        src.mkdir(parents=True)
        (src / "main.go").write_text(ORACLE_SRC)
        env = {**os.environ, "GOPATH": str(gopath), "GO111MODULE": "off", "GOFLAGS": "",
               "GOCACHE": str(staging / "gocache"), "GOTOOLCHAIN": "local"}  # fmt: skip
        r = subprocess.run([GO, "build", "-o", str(staging / "reforacle"), "."], cwd=src,
                           env=env, capture_output=True, text=True, check=False)  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"go build: {r.stderr[-400:]}")
        shutil.rmtree(staging / "root")
        shutil.rmtree(staging / "gocache", ignore_errors=True)

    return debfixtures.cached("reference-oracle", "1", build) / "reforacle"


def go_verdicts(oracle: Path, refs: list[str]) -> list[dict[str, Any]]:
    r = subprocess.run([str(oracle)], input="".join(f"{x}\n" for x in refs), text=True,
                       capture_output=True, check=True, timeout=60)  # fmt: skip
    return [json.loads(line) for line in r.stdout.splitlines()]


def ours(ref: str) -> dict[str, Any]:
    try:
        r = parse_reference(ref)
    except UsageError:
        return {"ok": False, "domain": "", "path": "", "tag": "", "digest": ""}
    return {"ok": True, "domain": r.registry, "path": r.repository, "tag": r.tag or "",
            "digest": r.digest or ""}  # fmt: skip


SHA = "sha256:" + "0123456789abcdef" * 4
CORPUS = [
    "nginx", "nginx:1.25", "library/nginx", "docker.io/nginx", "index.docker.io/library/nginx",
    "ghcr.io/org/app:tag", f"registry.local:5000/team/app@{SHA}",
    f"registry.local:5000/team/app:v1@{SHA}", "localhost/x", "localhost:5000/x/y/z:latest",
    "Nginx", "ghcr.io/Org/app", "GHCR.IO/org/app", "nginx:", ":tag", "nginx@sha256:abc",
    f"nginx@{SHA.upper()}", f"nginx@sha512:{'a' * 128}", f"nginx@md5:{'a' * 32}",
    "0123456789abcdef" * 4, "a" * 256, "a/" + "b" * 254, "foo__bar", "foo___bar", "foo--bar",
    "foo-", "-foo", "foo.bar/baz", "foo:5000/bar", "foo.bar:tag", "foo_bar.com/x", "a:b:c",
    "host:99999999999/x", "x/y:tag-with.dots_1", "x:" + "t" * 128, "x:" + "t" * 129, "",
    " nginx", "nginx ", "ngin\u00e9x", "x:t\u00e9", "[::1]:5000/x", "x//y", "x/", "/x",
]  # fmt: skip


def test_corpus_equals_the_reference_package(oracle: Path) -> None:
    expected = go_verdicts(oracle, CORPUS)
    assert sum(e["ok"] for e in expected) > 15 and sum(not e["ok"] for e in expected) > 15
    for ref, exp in zip(CORPUS, expected, strict=True):
        assert ours(ref) == exp, ref


_CHARS = st.sampled_from([*"abcdefghijklmnopqrstuvwxyzABCZ0123456789._-:/@", "__", "sha256:"])


@given(st.lists(st.lists(_CHARS, max_size=30).map("".join), min_size=50, max_size=50))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_random_references_equal_the_reference_package(oracle: Path, refs: list[str]) -> None:
    refs = [r for r in refs if "\n" not in r]
    for ref, exp in zip(refs, go_verdicts(oracle, refs), strict=True):
        assert ours(ref) == exp, ref


def test_reference_strings() -> None:
    assert str(parse_reference("nginx:1.25")) == "docker.io/library/nginx:1.25"
    assert parse_reference("nginx") == Reference("docker.io", "library/nginx")
    with pytest.raises(UsageError, match="lowercase"):
        parse_reference("Nginx")
