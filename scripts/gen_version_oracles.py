#!/usr/bin/env python3
"""Generate the version-comparison oracles in tests/oracles/versions/ from real tools.

Usage::

    python scripts/gen_version_oracles.py [--scheme S ...] [--pairs N] [--vulndata DIR]
                                          [--apk-vectors FILE] [--seed N]

For every scheme that has a real implementation on this machine, the script

1. collects the version strings of that ecosystem from shared/vulndata (MANIFEST.md there):
   ``affected[].versions`` and the ``affected[].ranges[].events`` of non-GIT ranges in the OSV
   bundles and GHSA exports, plus the native feeds that carry versions (Debian DSA/DLA lists,
   Ubuntu's UCT, Amazon ALAS package lists, RubySec, FriendsOfPHP, Node.js security WG);
2. asks the real tool which of them it accepts (rejected ones become ``E`` rows);
3. forms ``--pairs`` distinct ordered pairs of accepted versions (about a third neighbours in
   natural sort order, a third pairs sharing a prefix, a third random pairs, plus a few
   identical ones) and asks the real tool to compare each pair;
4. writes ``<scheme>.tsv.xz``: ``#`` header lines naming the tool and its version, then rows
   ``a<TAB>b<TAB>-1|0|1`` and ``a<TAB><TAB>E`` (the tool rejects ``a``).

Real implementations used (all from Debian's archive or the npm registry, none re-implemented):

=========  ==============================================================================
deb        python3-apt ``apt_pkg.version_compare`` (run with /usr/bin/python3); validity from
           ``dpkg --validate-version``
rpm        python3-rpm: ``rpm.ver`` parses, ``rpm.labelCompare`` compares
pypi       ``packaging.version.Version`` (the library hullscan uses; pins the behaviour)
npm        node + the ``semver`` npm package (installed with npm into a temporary directory);
           also ``npm-ranges.tsv.xz`` from ``semver.satisfies`` / ``semver.validRange``
maven      ``org.apache.maven.artifact.versioning.ComparableVersion`` from Debian's
           /usr/share/maven/lib/maven-artifact-*.jar, driven by a small Java class
golang     ``golang.org/x/mod/semver`` (Debian golang-golang-x-mod-dev) in a small Go program
gem        ``Gem::Version`` of Debian's ruby
composer   composer/semver (Debian php-composer-semver): ``VersionParser::normalize``,
           ``normalizeDefaultBranch`` and ``Comparator``, as ``Semver::sort`` uses them
cargo      the ``semver`` crate (Debian librust-semver-dev) in a small Rust program
=========  ==============================================================================

apk and nuget have no implementation installable here (apk-tools is not in Debian; NuGet's
Debian package is NuGet 2, not NuGet.Versioning): their files hold the upstream projects'
own test vectors instead (apk-tools ``test/version.data``, given with ``--apk-vectors``;
NuGet.Client's NuGet.Versioning tests, listed below).

System packages: python3-apt python3-rpm maven ruby golang-go golang-golang-x-mod-dev php-cli
php-composer-semver librust-semver-dev (plus node/npm and cargo). Needs no network except
``npm install semver``.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import lzma
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VULNDATA = REPO.parent / "shared" / "vulndata"
OUT_DIR = REPO / "tests" / "oracles" / "versions"
MAX_INVALID_ROWS = 5000

# --------------------------------------------------------------------------------------------
# Reading shared/vulndata


def open_zip(path: Path) -> zipfile.ZipFile:
    if path.name.endswith(".zst"):
        tmp = tempfile.TemporaryFile()  # noqa: SIM115 - the ZipFile reads it until closed
        with path.open("rb") as src:
            zstandard.ZstdDecompressor().copy_stream(src, tmp)
        tmp.seek(0)
        return zipfile.ZipFile(tmp)
    return zipfile.ZipFile(path)


def iter_zip(path: Path, suffix: str) -> Iterator[tuple[str, bytes]]:
    with open_zip(path) as z:
        for name in z.namelist():
            if name.endswith(suffix):
                yield name, z.read(name)


def iter_tar_zst(path: Path) -> Iterator[tuple[str, bytes]]:
    with path.open("rb") as f:
        reader = zstandard.ZstdDecompressor().stream_reader(f)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                if member.isfile():
                    fh = tar.extractfile(member)
                    if fh is not None:
                        yield member.name, fh.read()


def osv_versions(path: Path, ecosystem: str) -> set[str]:
    """Versions in the OSV records of one ecosystem (``Debian`` also takes ``Debian:12``)."""
    out: set[str] = set()
    for _, data in iter_zip(path, ".json"):
        rec = json.loads(data)
        for aff in rec.get("affected") or []:
            eco = (aff.get("package") or {}).get("ecosystem") or ""
            if eco != ecosystem and not eco.startswith(ecosystem + ":"):
                continue
            ranges = aff.get("ranges") or []
            if any(r.get("type") == "GIT" for r in ranges):
                continue
            out.update(v for v in aff.get("versions") or [] if isinstance(v, str))
            for r in ranges:
                for ev in r.get("events") or []:
                    out.update(v for v in ev.values() if isinstance(v, str))
    out.discard("0")  # OSV's "introduced: 0" sentinel, not a version
    return out


def debian_tracker_versions(vulndata: Path) -> set[str]:
    out: set[str] = set()
    pat = re.compile(r"^\s+(?:\[[a-z-]+\]\s+)?- \S+ ([^\s(<]+)")
    for name in ("DSA", "DLA"):
        with gzip.open(vulndata / "debian-security-tracker" / "data" / name / "list.gz", "rt") as f:
            for line in f:
                m = pat.match(line)
                if m:
                    out.add(m.group(1))
    return out


def uct_versions(vulndata: Path) -> set[str]:
    out: set[str] = set()
    pat = re.compile(rb"^[a-z0-9./+-]+_[^:\s]+:\s*(?:released|not-affected)\s*\(([^)\s]+)\)", re.M)
    for name, data in iter_tar_zst(vulndata / "ubuntu-cve-tracker" / "uct.tar.zst"):
        if re.match(r"(?:.*/)?(?:active|retired)/", name):
            out.update(m.group(1).decode("utf-8", "replace") for m in pat.finditer(data))
    return out


def alas_versions(vulndata: Path) -> set[str]:
    out: set[str] = set()
    for name, data in iter_tar_zst(vulndata / "amazon-alas-vuls-derived" / "alas.tar.zst"):
        if not name.endswith(".json"):
            continue
        rec = json.loads(data)
        coll = ((rec.get("Pkglist") or {}).get("Collection")) or {}
        colls = coll if isinstance(coll, list) else [coll]
        for c in colls:
            for p in c.get("Package") or []:
                e, v, r = p.get("Epoch") or "0", p.get("Version"), p.get("Release")
                if v and r:
                    out.add(f"{e}:{v}-{r}")
    return out


_RANGE_VERSION = re.compile(r"(?:^|[\s,'\"\[(<>=~^!|])(v?[0-9][0-9A-Za-z.+_~-]*)")


def yaml_range_versions(path: Path, keys: tuple[str, ...]) -> set[str]:
    """Version strings inside the ranges listed under ``keys`` in a zip of YAML files."""
    out: set[str] = set()
    for _, data in _iter_yaml(path):
        text = data.decode("utf-8", "replace")
        in_list = False
        for line in text.splitlines():
            stripped = line.strip()
            if any(stripped.startswith(k + ":") for k in keys):
                in_list = True
                rest = stripped.split(":", 1)[1]
                out.update(m.group(1) for m in _RANGE_VERSION.finditer(rest))
                continue
            if in_list and stripped.startswith("- "):
                out.update(m.group(1) for m in _RANGE_VERSION.finditer(stripped[1:]))
            elif stripped and not stripped.startswith("#"):
                in_list = False
    return out


def _iter_yaml(path: Path) -> Iterator[tuple[str, bytes]]:
    with open_zip(path) as z:
        for name in z.namelist():
            if name.endswith((".yml", ".yaml")):
                yield name, z.read(name)


def nodejs_wg(vulndata: Path) -> tuple[set[str], set[str]]:
    """(versions, ranges) from the Node.js security WG's npm advisories."""
    versions: set[str] = set()
    ranges: set[str] = set()
    for name, data in iter_zip(vulndata / "nodejs-security-wg" / "vuln.zip", ".json"):
        if "/npm/" not in name:
            continue
        rec = json.loads(data)
        for key in ("vulnerable_versions", "patched_versions"):
            r = rec.get(key)
            if isinstance(r, str) and "\n" not in r and "\t" not in r:
                ranges.add(r)
                versions.update(m.group(1) for m in _RANGE_VERSION.finditer(r))
    return versions, ranges


def collect(scheme: str, vulndata: Path) -> set[str]:
    v = vulndata

    def osv(rel: str, eco: str) -> set[str]:
        return osv_versions(v / rel, eco)

    sources: dict[str, Callable[[], Iterable[set[str]]]] = {
        "deb": lambda: (
            osv("osv-dev/Debian/all.zip.zst", "Debian"),
            debian_tracker_versions(v),
            uct_versions(v),
        ),
        "rpm": lambda: (
            osv("osv-dev/Rocky-Linux/all.zip", "Rocky Linux"),
            osv("almalinux-osv/advisories.zip.zst", "AlmaLinux"),
            alas_versions(v),
        ),
        "apk": lambda: (osv("osv-dev/Alpine/all.zip.zst", "Alpine"),),
        "pypi": lambda: (
            osv("osv-dev/PyPI/all.zip.zst", "PyPI"),
            osv("ghsa/PyPI/github-reviewed.zip.zst", "PyPI"),
        ),
        "npm": lambda: (
            osv("osv-dev/npm/all.zip.zst", "npm"),
            osv("ghsa/npm/github-reviewed.zip.zst", "npm"),
            nodejs_wg(v)[0],
        ),
        "maven": lambda: (
            osv("osv-dev/Maven/all.zip.zst", "Maven"),
            osv("ghsa/Maven/github-reviewed.zip.zst", "Maven"),
        ),
        "golang": lambda: (
            osv("osv-dev/Go/all.zip.zst", "Go"),
            osv("golang-vulndb/all.zip.zst", "Go"),
            osv("ghsa/Go/github-reviewed.zip", "Go"),
        ),
        "gem": lambda: (
            osv("osv-dev/RubyGems/all.zip", "RubyGems"),
            osv("ghsa/RubyGems/github-reviewed.zip", "RubyGems"),
            yaml_range_versions(
                v / "rubysec/advisories.zip", ("patched_versions", "unaffected_versions")
            ),
        ),
        "nuget": lambda: (
            osv("osv-dev/NuGet/all.zip", "NuGet"),
            osv("ghsa/NuGet/github-reviewed.zip", "NuGet"),
        ),
        "composer": lambda: (
            osv("osv-dev/Packagist/all.zip.zst", "Packagist"),
            osv("ghsa/Packagist/github-reviewed.zip.zst", "Packagist"),
            yaml_range_versions(v / "friendsofphp/advisories.zip", ("versions",)),
        ),
        "cargo": lambda: (
            osv("osv-dev/crates.io/all.zip", "crates.io"),
            osv("rustsec/all.zip", "crates.io"),
            osv("ghsa/crates.io/github-reviewed.zip", "crates.io"),
        ),
    }
    out: set[str] = set()
    for part in sources[scheme]():
        out |= part
    # Keep the TSV format simple: no strings with tabs, newlines or other control characters.
    return {s for s in out if s and s.isprintable() and "\t" not in s}


# --------------------------------------------------------------------------------------------
# Pairs


def natural_key(s: str) -> tuple[object, ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", s) if p)


def prefix(s: str) -> str:
    m = re.match(r"[^.\-_+~:]*[.\-_+~:]?[^.\-_+~:]*", s)
    return m.group(0) if m else s


def make_pairs(pool: list[str], n: int, rng: random.Random) -> list[tuple[str, str]]:
    pool = sorted(set(pool), key=natural_key)
    if len(pool) < 2:
        return []
    pairs: dict[tuple[str, str], None] = {}

    def add(a: str, b: str) -> None:
        if rng.random() < 0.5:
            a, b = b, a
        pairs.setdefault((a, b), None)

    for s in rng.sample(pool, min(len(pool), n // 100)):
        pairs.setdefault((s, s), None)
    third = n // 3
    gap = 1
    while len(pairs) < third and gap < len(pool):
        for i in range(len(pool) - gap):
            add(pool[i], pool[i + gap])
            if len(pairs) >= third:
                break
        gap += 1
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for s in pool:
        groups[prefix(s)].append(s)
    multi = [g for g in groups.values() if len(g) > 1]
    attempts = 0
    while multi and len(pairs) < 2 * third and attempts < 20 * n:
        attempts += 1
        g = rng.choice(multi)
        a, b = rng.sample(g, 2)
        add(a, b)
    attempts = 0
    max_pairs = len(pool) * len(pool)
    while len(pairs) < min(n, max_pairs) and attempts < 50 * n:
        attempts += 1
        add(rng.choice(pool), rng.choice(pool))
    out = list(pairs)[:n]
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------------------------
# Talking to the real tools. Each tool reads lines "V<TAB>a" (is a valid?) and "C<TAB>a<TAB>b"
# (compare) on stdin and answers one line each: V/E, or -1/0/1.


def run_lines(cmd: list[str], lines: list[str], env: dict[str, str] | None = None) -> list[str]:
    data = "".join(line + "\n" for line in lines)
    proc = subprocess.run(
        cmd, input=data, capture_output=True, text=True, check=False, env=env, encoding="utf-8"
    )
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = proc.stdout.splitlines()
    if len(out) != len(lines):
        raise SystemExit(f"{cmd}: {len(lines)} questions but {len(out)} answers")
    return out


APT_PY = r"""
import sys, apt_pkg
apt_pkg.init_system()
out = []
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    r = apt_pkg.version_compare(f[1], f[2])
    out.append(str((r > 0) - (r < 0)))
sys.stdout.write("".join(x + "\n" for x in out))
"""

RPM_PY = r"""
import sys, rpm
def evr(s):
    v = rpm.ver(s)
    return (v.e, v.v, v.r)
out = []
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if f[0] == "V":
        try:
            rpm.ver(f[1])
            out.append("V")
        except ValueError:
            out.append("E")
    else:
        r = rpm.labelCompare(evr(f[1]), evr(f[2]))
        out.append(str((r > 0) - (r < 0)))
sys.stdout.write("".join(x + "\n" for x in out))
"""

PACKAGING_PY = r"""
import sys
from packaging.version import InvalidVersion, Version
out = []
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if f[0] == "V":
        try:
            Version(f[1])
            out.append("V")
        except InvalidVersion:
            out.append("E")
    else:
        a, b = Version(f[1]), Version(f[2])
        out.append(str((a > b) - (a < b)))
sys.stdout.write("".join(x + "\n" for x in out))
"""

NODE_JS = r"""
const semver = require('semver')
const lines = require('fs').readFileSync(0, 'utf8').split('\n')
const out = []
for (const l of lines) {
  if (!l) continue
  const f = l.split('\t')
  if (f[0] === 'V') out.push(semver.valid(f[1]) === null ? 'E' : 'V')
  else if (f[0] === 'C') out.push(String(semver.compare(f[1], f[2])))
  else if (f[0] === 'R') out.push(semver.validRange(f[1]) === null ? 'E' : 'V')
  else if (f[0] === 'S') out.push(semver.satisfies(f[1], f[2]) ? '1' : '0')
}
process.stdout.write(out.map(x => x + '\n').join(''))
"""

JAVA_SRC = r"""
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOracle {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintWriter out = new PrintWriter(
            new BufferedWriter(new OutputStreamWriter(System.out, "UTF-8")));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            if (f[0].equals("V")) {
                new ComparableVersion(f[1]);
                out.println("V");
            } else {
                int c = new ComparableVersion(f[1]).compareTo(new ComparableVersion(f[2]));
                out.println(Integer.signum(c));
            }
        }
        out.flush();
    }
}
"""

GO_SRC = r"""
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if f[0] == "V" {
			if semver.IsValid(f[1]) {
				fmt.Fprintln(w, "V")
			} else {
				fmt.Fprintln(w, "E")
			}
		} else {
			fmt.Fprintln(w, semver.Compare(f[1], f[2]))
		}
	}
}
"""

RUBY_SRC = r"""
out = []
STDIN.each_line do |l|
  f = l.chomp.split("\t", -1)
  if f[0] == "V"
    out << (Gem::Version.correct?(f[1]) ? "V" : "E")
  else
    out << (Gem::Version.new(f[1]) <=> Gem::Version.new(f[2])).to_s
  end
end
STDOUT.write(out.map { |x| x + "\n" }.join)
"""

PHP_SRC = r"""<?php
require '/usr/share/php/Composer/Semver/autoload.php';
use Composer\Semver\Comparator;
use Composer\Semver\VersionParser;
$p = new VersionParser();
$out = '';
while (($l = fgets(STDIN)) !== false) {
    $f = explode("\t", rtrim($l, "\n"));
    if ($f[0] === 'V') {
        try { $n = $p->normalize($f[1]); $out .= (strpos($n, 'dev-') === 0 ? 'B' : 'V') . "\n"; }
        catch (\Exception $e) { $out .= "E\n"; }
    } else {
        $a = $p->normalizeDefaultBranch($p->normalize($f[1]));
        $b = $p->normalizeDefaultBranch($p->normalize($f[2]));
        $r = Comparator::lessThan($a, $b) ? -1 : (Comparator::equalTo($a, $b) ? 0 : 1);
        $out .= $r . "\n";
    }
}
echo $out;
"""

RUST_SRC = r"""
use semver::Version;
use std::io::{self, BufRead, Write};

fn main() {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let f: Vec<&str> = line.split('\t').collect();
        if f[0] == "V" {
            writeln!(w, "{}", if Version::parse(f[1]).is_ok() { "V" } else { "E" }).unwrap();
        } else {
            let a = Version::parse(f[1]).unwrap();
            let b = Version::parse(f[2]).unwrap();
            // SemVer precedence: the crate's own Ord would also order build metadata.
            let o = (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre));
            writeln!(w, "{}", o as i32).unwrap();
        }
    }
}
"""


def _out(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def _dpkg_status_version(pkg: str) -> str:
    return _out(["dpkg-query", "-W", "-f=${Version}", pkg])


class Tool:
    """A real implementation: a command speaking the V/C line protocol."""

    name = ""
    cmd: list[str]
    env: dict[str, str] | None = None

    def describe(self) -> str:
        raise NotImplementedError

    def to_tool(self, s: str) -> str:
        return s

    def valid(self, strings: list[str]) -> dict[str, bool]:
        answers = run_lines(self.cmd, [f"V\t{self.to_tool(s)}" for s in strings], self.env)
        return {s: a != "E" for s, a in zip(strings, answers, strict=True)}

    def compare(self, pairs: list[tuple[str, str]]) -> list[int]:
        lines = [f"C\t{self.to_tool(a)}\t{self.to_tool(b)}" for a, b in pairs]
        return [int(x) for x in run_lines(self.cmd, lines, self.env)]


class AptTool(Tool):
    def __init__(self, work: Path) -> None:
        script = work / "apt_oracle.py"
        script.write_text(APT_PY)
        self.cmd = ["/usr/bin/python3", str(script)]

    def describe(self) -> str:
        return (
            f"python3-apt {_dpkg_status_version('python3-apt')} apt_pkg.version_compare "
            f"(libapt-pkg {_dpkg_status_version('apt')}); validity: dpkg --validate-version "
            f"(dpkg {_dpkg_status_version('dpkg')})"
        )

    def valid(self, strings: list[str]) -> dict[str, bool]:
        out = {}
        for s in strings:
            r = subprocess.run(
                ["dpkg", "--validate-version", "--", s], capture_output=True, check=False
            )
            out[s] = r.returncode == 0
        return out


class RpmTool(Tool):
    def __init__(self, work: Path) -> None:
        script = work / "rpm_oracle.py"
        script.write_text(RPM_PY)
        self.cmd = ["/usr/bin/python3", str(script)]

    def describe(self) -> str:
        v = _out(["/usr/bin/python3", "-c", "import rpm; print(rpm.__version__)"])
        return (
            f"python3-rpm {_dpkg_status_version('python3-rpm')} (rpm {v}): "
            "rpm.ver parses, rpm.labelCompare compares"
        )


class PackagingTool(Tool):
    def __init__(self, work: Path) -> None:
        script = work / "packaging_oracle.py"
        script.write_text(PACKAGING_PY)
        self.cmd = [sys.executable, str(script)]

    def describe(self) -> str:
        v = _out([sys.executable, "-c", "import packaging; print(packaging.__version__)"])
        return f"packaging {v} (PyPA's PEP 440 reference implementation): packaging.version.Version"


class NodeTool(Tool):
    def __init__(self, work: Path) -> None:
        npm_dir = work / "npm"
        npm_dir.mkdir()
        subprocess.run(["npm", "init", "-y"], cwd=npm_dir, check=True, capture_output=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "semver"],
            cwd=npm_dir,
            check=True,
            capture_output=True,
        )
        script = npm_dir / "oracle.js"
        script.write_text(NODE_JS)
        self.dir = npm_dir
        self.cmd = ["node", str(script)]

    def describe(self) -> str:
        v = json.loads((self.dir / "node_modules" / "semver" / "package.json").read_text())[
            "version"
        ]
        node = _out(["node", "--version"])
        return f"node {node} with the npm package semver {v}: semver.compare / semver.valid"

    def ranges(
        self, rows: list[tuple[str, str]], ranges: list[str]
    ) -> tuple[list[bool], dict[str, bool]]:
        ok = run_lines(self.cmd, [f"R\t{r}" for r in ranges])
        answers = run_lines(self.cmd, [f"S\t{v}\t{r}" for v, r in rows])
        return [a == "1" for a in answers], {r: a == "V" for r, a in zip(ranges, ok, strict=True)}


class MavenTool(Tool):
    def __init__(self, work: Path) -> None:
        jars = sorted(glob.glob("/usr/share/maven/lib/maven-artifact-*.jar"))
        if not jars:
            raise SystemExit("maven-artifact jar not found: apt-get install maven")
        self.jar = jars[0]
        (work / "MavenOracle.java").write_text(JAVA_SRC)
        subprocess.run(
            ["javac", "-cp", self.jar, "-d", str(work), str(work / "MavenOracle.java")], check=True
        )
        self.cmd = ["java", "-cp", f"{work}:{self.jar}", "MavenOracle"]

    def describe(self) -> str:
        with zipfile.ZipFile(self.jar) as z:
            props = z.read("META-INF/maven/org.apache.maven/maven-artifact/pom.properties").decode()
        v = re.search(r"^version=(.*)$", props, re.M)
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, check=True
        ).stderr.splitlines()[0]
        return (
            f"org.apache.maven.artifact.versioning.ComparableVersion from maven-artifact "
            f"{v.group(1) if v else '?'} ({self.jar}, "
            f"Debian maven {_dpkg_status_version('maven')}); {java}"
        )


class GoTool(Tool):
    def __init__(self, work: Path) -> None:
        src = work / "gosrc"
        src.mkdir()
        (src / "main.go").write_text(GO_SRC)
        self.env = dict(
            os.environ,
            GOPATH="/usr/share/gocode",
            GO111MODULE="off",
            GOFLAGS="",
            GOCACHE=str(work / "gocache"),
        )
        subprocess.run(
            ["go", "build", "-o", str(work / "gooracle"), "main.go"],
            cwd=src,
            check=True,
            env=self.env,
        )
        self.cmd = [str(work / "gooracle")]

    def to_tool(self, s: str) -> str:
        return s if s.startswith("v") else "v" + s

    def describe(self) -> str:
        return (
            f"golang.org/x/mod/semver from golang-golang-x-mod-dev "
            f"{_dpkg_status_version('golang-golang-x-mod-dev')}, "
            f"built with {_out(['go', 'version'])} "
            "(versions without a leading v are given one)"
        )


class RubyTool(Tool):
    def __init__(self, work: Path) -> None:
        (work / "gem_oracle.rb").write_text(RUBY_SRC)
        self.cmd = ["ruby", str(work / "gem_oracle.rb")]

    def describe(self) -> str:
        v = _out(["ruby", "-e", "print RUBY_VERSION, ' rubygems ', Gem::VERSION"])
        return f"Gem::Version of Debian ruby {v}"


class ComposerTool(Tool):
    def __init__(self, work: Path) -> None:
        (work / "composer_oracle.php").write_text(PHP_SRC)
        self.cmd = ["php", str(work / "composer_oracle.php")]

    def describe(self) -> str:
        php = _out(["php", "-r", "echo PHP_VERSION;"])
        return (
            f"composer/semver {_dpkg_status_version('php-composer-semver')} "
            "(Debian php-composer-semver) on "
            f"PHP {php}: VersionParser::normalize + normalizeDefaultBranch, then Comparator"
        )


class CargoTool(Tool):
    def __init__(self, work: Path) -> None:
        crates = sorted(glob.glob("/usr/share/cargo/registry/semver-1.*"))
        if not crates:
            raise SystemExit("semver crate not found: apt-get install librust-semver-dev")
        self.crate = crates[-1]
        proj = work / "rs"
        (proj / "src").mkdir(parents=True)
        (proj / "Cargo.toml").write_text(
            '[package]\nname = "semver-oracle"\nversion = "0.1.0"\nedition = "2018"\n\n'
            f'[dependencies]\nsemver = {{ path = "{self.crate}" }}\n'
        )
        (proj / "src" / "main.rs").write_text(RUST_SRC)
        subprocess.run(
            ["cargo", "build", "--release", "--offline", "-q"],
            cwd=proj,
            check=True,
            capture_output=True,
        )
        self.cmd = [str(proj / "target" / "release" / "semver-oracle")]

    def describe(self) -> str:
        return (
            f"the semver crate {Path(self.crate).name.split('-', 1)[1]} (Debian librust-semver-dev "
            f"{_dpkg_status_version('librust-semver-dev')}), {_out(['rustc', '--version'])}: "
            "Version::parse, "
            "precedence = (major, minor, patch, pre) with the crate's Prerelease order"
        )


TOOLS: dict[str, type[Tool]] = {
    "deb": AptTool,
    "rpm": RpmTool,
    "pypi": PackagingTool,
    "npm": NodeTool,
    "maven": MavenTool,
    "golang": GoTool,
    "gem": RubyTool,
    "composer": ComposerTool,
    "cargo": CargoTool,
}

# Strings the tool accepts that hullscan rejects on purpose (documented in docs/versions.md and
# the scheme's module): kept out of the pairs, written as "a<TAB><TAB>P" rows.
_MAVEN_OK = re.compile(r"[\x21-\x7e]+\Z")
EXCLUDE: dict[str, Callable[[str], bool]] = {
    # Composer branches other than the default ones normalize to "dev-..." and have no order.
    "composer": lambda s: (
        s.strip().lower().startswith("dev-")
        and s.strip().lower() not in ("dev-master", "dev-trunk", "dev-default")
    ),
    # Maven takes any string; hullscan wants printable ASCII, no range syntax, no leading "-".
    "maven": lambda s: not _MAVEN_OK.match(s) or any(c in "[](),]" for c in s) or s.startswith("-"),
}

# --------------------------------------------------------------------------------------------
# Upstream vectors for the schemes without a tool here.

# NuGet.Client, test/NuGet.Core.Tests/NuGet.Versioning.Test (VersionComparerTests.cs,
# NuGetVersionTest.cs, SemVer201SpecTests.cs, VersionParsingTests.cs): (a, b, sign) and
# strings NuGetVersion.Parse rejects.
NUGET_VECTORS: list[tuple[str, str, int]] = [
    ("1.0.0", "1.0.0", 0),
    ("1.0.0-BETA", "1.0.0-beta", 0),
    ("1.0.0-BETA+AA", "1.0.0-beta+aa", 0),
    ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa", 0),
    ("0.0.0", "1.0.0", -1),
    ("1.0.0", "1.1.0", -1),
    ("1.0.0", "1.0.1", -1),
    ("1.999.9999", "2.1.1", -1),
    ("1.0.0-BETA", "1.0.0-beta2", -1),
    ("1.0.0-beta+AA", "1.0.0+aa", -1),
    ("1.0.0-BETA", "1.0.0-beta.1+AA", -1),
    ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa", -1),
    ("1.0.0-BETA.X.y.5.79.0+AA", "1.0.0-beta.x.y.5.790.0+abc", -1),
    ("1.0.0+AA", "1.0.0-beta+aa", 1),
    ("1.0.0-BETA+AA", "1.0.0-beta", 0),
    ("1.0", "1.0.1", -1),
    ("1.23", "1.231", -1),
    ("1.4.5.6", "1.45.6", -1),
    ("1.4.5.6", "1.4.5.60", -1),
    ("1.01", "1.10", -1),
    ("1.01-alpha", "1.10-beta", -1),
    ("1.01.0-RC-1", "1.10.0-rc-2", -1),
    ("1.01-RC-1", "1.01", -1),
    ("1.01", "1.2-preview", -1),
    ("1.0", "1.0.0.0", 0),
    ("1.23.01", "1.23.1", 0),
    ("1.45.6", "1.45.6.0", 0),
    ("1.45.6-Alpha", "1.45.6-Alpha", 0),
    ("1.6.2-BeTa", "1.6.02-beta", 0),
    ("22.3.07     ", "22.3.07", 0),
    ("2", "2.0.0", 0),
    ("2.0", "2.0.0", 0),
    ("2.0.0.0", "2.0.0", 0),
    ("1.022", "1.22.0.0", 0),
    ("1.3.42.10133", "1.3.42.10133", 0),
    ("  1.022-Beta", "1.22.0.0-Beta", 0),
    ("    1.3.42.10133-PreRelease  ", "1.3.42.10133-PreRelease", 0),
    ("1.0.0009.01-1.1+A", "1.0.9.1-1.1", 0),
    ("1.2.3", "1.2.4", -1),
    ("1.2.3", "2.0.0", -1),
    ("9.9.9", "10.1.1", -1),
    ("1.2.3-alpha", "1.2.3", -1),
    ("1.2.3-2", "1.2.3-3", -1),
    ("1.2.3-1.9", "1.2.3-1.50", -1),
    ("1.2.3-2A", "1.2.3-3A", -1),
    ("1.2.3-1.50A", "1.2.3-1.9A", -1),
    ("1.2.3-999999", "1.2.3-Z", -1),
    ("1.2.3-A.999999", "1.2.3-A.56-2", -1),
    ("1.2.3-a", "1.2.3-a.2", -1),
    ("1.2.3-a.2.3.4", "1.2.3-a.2.3.4.5", -1),
    ("1.2.3-a", "1.2.3-A", 0),
    ("1.2.3-A-b2-C", "1.2.3-a-B2-c", 0),
    ("0.1.2+AA-02A", "0.1.2", 0),
    ("0.1.2+A.-A-02A", "0.1.2", 0),
]
NUGET_VALID = [
    "0.1.2-Alpha",
    "0.1.2-Alpha.2.34.5.453.345.345.345.345.A.B.bbbbbbb.Csdfdfdf",
    "0.1.2-Alpha-2-5Bdd",
    "0.1.2--",
    "0.1.2--B-C-",
    "0.1.2--B2.-.C.-A0-",
    "0.1.2+NoReleaseLabel",
    "0.1.2-02A",
    "0.1.2-2.02B",
    "0.1.2-2.A.02-",
    "0.1.2-A02.A",
    "0.1.2+02A",
    "0.1.2+A",
    "0.1.2+20349244.233.344.0",
    "0.1.2+203-49244.23-3.34-4.0-.-.-",
    "0.1.2+AAaaaaAAAaaaa",
    "0.1.2+-",
    "0.1.2+----.-.-.-",
    "0.1.2----+----",
    "0.1.2+02.02-02",
    "0.1.2+02",
    "0.1.2+000000",
    "1.3.2-CTP-2-Refresh-Alpha",
    "01.42.0",
    "01.0",
    "01.42.0-alpha",
    "01.42.0-alpha.1",
    "01.42.0-alpha+metadata",
    "01.42.0+metadata",
    "1.2.3-X.yZ.3.234.243.3242342+METADATA",
    "1.2.3-X.y3+0",
    "1.2.3-X+0",
    "1.2.3+0",
    "1.2.3-0",
    "3.4.0.3-RC-3",
]
NUGET_INVALID = [
    "1beta",
    "$version$",
    "1.2Av^c",
    "1.2..",
    "1.2.3.4.5",
    "1.2.3.Beta",
    "1.2.3.4This version is full of awesomeness!!",
    "So.is.this",
    "1.34.2Alpha",
    "1.34.2Release Candidate",
    "1.4.7-",
    "1.4.7-*",
    "1.4.7+*",
    "1.4.7-AA.01^",
    "1.4.7-AA.0A^",
    "1.4.7-A^A",
    "1.4.7+AA.01^",
    "0.1.2-Alpha..2",
    "0.1.2-Alpha.",
    "0.1.2-.AA",
    "0.1.2-",
    "0.1.2-alp=ha",
    "0.1.2-alp\u2510jj",
    "0.1.2-a&444",
    "0.1.2-a.&.444",
    "0.1.2-02",
    "0.1.2-2.02",
    "0.1.2-2.A.02",
    "0.1.2-02.A",
    "0.1.2+\u00c4\u00c4",
    "0.1.2+22.2\u00c4\u00c4",
    "0.1.2+2+A",
    "0.1.2+02A.",
    "0.1.2+02..A",
    "0.1.2+",
    "-1.2.3",
    "X.2.3",
    "1.2.Z",
    "X.Y.Z",
]
NUGET_SOURCE = (
    "NuGet.Client test/NuGet.Core.Tests/NuGet.Versioning.Test (VersionComparerTests.cs, "
    "NuGetVersionTest.cs, SemVer201SpecTests.cs, VersionParsingTests.cs): upstream test vectors, "
    "no NuGet.Versioning implementation is installable here"
)


_APK_SUFFIX = re.compile(r"_([a-z]*)")
_APK_SUFFIXES = {"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"}


def apk_vectors(path: Path) -> tuple[list[tuple[str, str, int]], list[str], list[str]]:
    """apk-tools test/version.data lines ``a OP b  # comment`` -> (rows, invalid, skipped).

    Lines whose versions fail ``apk_version_validate`` (upstream marks "1.0bc" as invalid input
    it string-sorts; "23_foo" has an unknown suffix) are not comparisons: their invalid strings
    become E rows."""
    rows: list[tuple[str, str, int]] = []
    invalid: list[str] = []
    skipped: list[str] = []
    ops = {"<": -1, "=": 0, ">": 1}
    for line in path.read_text().splitlines():
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        a, op, b = body.split()
        bad = [
            v
            for v in (a, b)
            if re.search(r"[a-z][a-z]", v.split("_", 1)[0])
            or any(m.group(1) not in _APK_SUFFIXES for m in _APK_SUFFIX.finditer(v))
        ]
        if bad or op not in ops:
            skipped.append(line.strip())
            invalid += bad
            continue
        rows.append((a, b, ops[op]))
    return rows, sorted(set(invalid)), skipped


# --------------------------------------------------------------------------------------------
# Writing


def write_oracle(
    path: Path,
    header: list[str],
    rows: list[tuple[str, str, int]],
    invalid: list[str],
    policy: Iterable[str] = (),
) -> None:
    policy = list(policy)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {h}" for h in header]
    lines.append(
        f"# comparisons: {len(rows)}; rejected strings: {len(invalid)}; "
        f"accepted by the tool, rejected by hullscan's policy: {len(policy)}"
    )
    lines.append(
        "# rows: a<TAB>b<TAB>sign of compare(a, b); a<TAB><TAB>E = the tool rejects a; "
        "a<TAB><TAB>P = the tool accepts a, hullscan rejects it by policy"
    )
    lines += [f"{a}\t{b}\t{r}" for a, b, r in rows]
    lines += [f"{s}\t\tE" for s in invalid]
    lines += [f"{s}\t\tP" for s in policy]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
    print(
        f"  wrote {path.relative_to(REPO)}: {len(rows)} comparisons, {len(invalid)} rejected, "
        f"{path.stat().st_size:,} bytes"
    )


def sources_line(scheme: str) -> str:
    return {
        "deb": (
            "osv-dev/Debian (OSV), debian-security-tracker DSA/DLA lists, ubuntu-cve-tracker UCT"
        ),
        "rpm": "osv-dev/Rocky-Linux, almalinux-osv, amazon-alas-vuls-derived package lists (E:V-R)",
        "pypi": "osv-dev/PyPI, ghsa/PyPI",
        "npm": "osv-dev/npm, ghsa/npm, nodejs-security-wg npm ranges",
        "maven": "osv-dev/Maven, ghsa/Maven",
        "golang": "osv-dev/Go, golang-vulndb, ghsa/Go",
        "gem": "osv-dev/RubyGems, ghsa/RubyGems, rubysec patched/unaffected ranges",
        "composer": "osv-dev/Packagist, ghsa/Packagist, friendsofphp ranges",
        "cargo": "osv-dev/crates.io, rustsec, ghsa/crates.io",
    }[scheme]


def generate(scheme: str, args: argparse.Namespace, work: Path) -> None:
    rng = random.Random(f"{args.seed}:{scheme}")
    print(f"{scheme}: collecting versions")
    strings = sorted(collect(scheme, args.vulndata))
    if scheme == "golang":
        # OSV leaves the "v" out; keep both spellings in play.
        strings = sorted(set(strings) | {"v" + s for s in rng.sample(strings, len(strings) // 3)})
    print(f"  {len(strings)} distinct strings; asking the tool")
    tool = TOOLS[scheme](work)
    validity = tool.valid(strings)
    excluded = [s for s in strings if validity[s] and EXCLUDE.get(scheme, lambda _s: False)(s)]
    pool = [s for s in strings if validity[s] and s not in set(excluded)]
    invalid = [s for s in strings if not validity[s]]
    if len(invalid) > MAX_INVALID_ROWS:
        invalid = sorted(rng.sample(invalid, MAX_INVALID_ROWS))
    pairs = make_pairs(pool, args.pairs, rng)
    results = tool.compare(pairs)
    rows = [(a, b, r) for (a, b), r in zip(pairs, results, strict=True)]
    header = [
        f"hullscan version oracle for scheme {scheme!r}",
        f"tool: {tool.describe()}",
        f"versions from shared/vulndata: {sources_line(scheme)}",
        f"{len(strings)} distinct strings: {len(pool)} paired, "
        f"{len([s for s in strings if not validity[s]])} rejected by the tool, "
        f"{len(excluded)} accepted by the tool but rejected by hullscan's policy",
        "generated by scripts/gen_version_oracles.py (seed " + str(args.seed) + ")",
    ]
    write_oracle(OUT_DIR / f"{scheme}.tsv.xz", header, rows, invalid, excluded)
    if scheme == "npm":
        assert isinstance(tool, NodeTool)
        generate_npm_ranges(tool, pool, args, rng)


def synth_ranges(pool: list[str], rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    ops = [
        "^{a}",
        "~{a}",
        ">={a} <{b}",
        "{a} - {b}",
        "<={a}",
        ">{a}",
        "<{a}",
        "={a}",
        "{a}",
        "{x}.x",
        "{x}.{y}.x",
        "^{x}.{y}",
        "~{x}",
        "{a} || {b}",
        ">={a} <{b} || {c}",
        "<{a} || >={b}",
        ">= {a}",
        "> {a} < {b}",
        "~> {a}",
        "{x}",
        "{x}.{y}",
        "*",
        "x",
        "",
        ">=0.0.0",
        "<{x}.{y}.x",
        ">{x}.x",
        "<={x}.{y}",
        "^0.{y}.{z}",
        "^0.0.{z}",
        ">={a}-0 <{b}",
        "{a} - {x}.{y}",
    ]
    while len(out) < n:
        a, b, c = sorted(rng.sample(pool, 3), key=natural_key)
        m = re.match(r"v?(\d+)\.(\d+)\.(\d+)", a)
        x, y, z = m.groups() if m else ("1", "2", "3")
        out.add(rng.choice(ops).format(a=a, b=b, c=c, x=x, y=y, z=z))
    return sorted(out)


BROKEN_RANGES = [
    ">=1.2.3.4",
    "blerg",
    "^01.2.3",
    ">=a.b.c",
    "1.2.3 -",
    "~>",
    ">= <1",
    "x.1.2",
    "1.2.3-01",
    "<=1.2.3-",
    ">=1.2.3 <",
    "^1.2.3.4",
    "1.2.3 - 2.3.4 - 3",
    "=>1.0.0",
    "1.2.3 | 2",
    ">1.2.3beta",
]


def mutate_range(r: str, rng: random.Random) -> str:
    i = rng.randrange(len(r) + 1)
    return r[:i] + rng.choice(".-^~<>=|x* v+a0") + r[i + 1 :]


def generate_npm_ranges(
    tool: NodeTool, pool: list[str], args: argparse.Namespace, rng: random.Random
) -> None:
    _, wg_ranges = nodejs_wg(args.vulndata)
    ranges = sorted(wg_ranges) + synth_ranges(pool, rng, 3000)
    ranges += BROKEN_RANGES + [mutate_range(r, rng) for r in rng.sample(ranges, 300)]
    ranges = sorted(set(ranges))
    _, range_ok = tool.ranges([], ranges)
    good = [r for r in ranges if range_ok[r]]
    bad = [r for r in ranges if not range_ok[r]]
    by_major: dict[str, list[str]] = collections.defaultdict(list)
    for v in pool:
        m = re.match(r"v?(\d+)\.", v)
        by_major[m.group(1) if m else ""].append(v)
    rows_in: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(rows_in) < args.pairs:
        r = rng.choice(good)
        nums = re.findall(r"(\d+)\.\d+", r)
        if nums and rng.random() < 0.7 and by_major.get(nums[0]):
            v = rng.choice(by_major[nums[0]])
        else:
            v = rng.choice(pool)
        if (v, r) not in seen:
            seen.add((v, r))
            rows_in.append((v, r))
    answers, _ = tool.ranges(rows_in, [])
    path = OUT_DIR / "npm-ranges.tsv.xz"
    lines = [
        "# hullscan npm range oracle: version<TAB>range<TAB>1|0 = semver.satisfies(version, range)",
        "# tool: "
        + tool.describe().replace(
            "semver.compare / semver.valid", "semver.satisfies / semver.validRange"
        ),
        f"# ranges: Node.js security WG npm advisories ({len(wg_ranges)}) "
        "+ ranges built from real versions; "
        f"<TAB>range<TAB>E = semver.validRange rejects it",
        f"# rows: {len(rows_in)}; rejected ranges: {len(bad)}",
    ]
    lines += [f"{v}\t{r}\t{int(a)}" for (v, r), a in zip(rows_in, answers, strict=True)]
    lines += [f"\t{r}\tE" for r in bad]
    path.write_bytes(
        lzma.compress(("\n".join(lines) + "\n").encode(), preset=9 | lzma.PRESET_EXTREME)
    )
    print(f"  wrote {path.relative_to(REPO)}: {len(rows_in)} rows, {len(bad)} rejected ranges")


def generate_vectors(scheme: str, args: argparse.Namespace) -> None:
    if scheme == "nuget":
        write_oracle(
            OUT_DIR / "nuget.tsv.xz",
            ["hullscan version oracle for scheme 'nuget'", f"tool: none; {NUGET_SOURCE}"],
            NUGET_VECTORS + [(s, s, 0) for s in NUGET_VALID],
            NUGET_INVALID,
        )
        return
    if args.apk_vectors is None:
        print("apk: no --apk-vectors FILE (apk-tools test/version.data); keeping the existing file")
        return
    rows, invalid, skipped = apk_vectors(args.apk_vectors)
    write_oracle(
        OUT_DIR / "apk.tsv.xz",
        [
            "hullscan version oracle for scheme 'apk'",
            "tool: none (apk-tools is not installable here); upstream test vectors from "
            f"alpinelinux/apk-tools test/version.data {args.apk_vectors_rev}",
            "lines with invalid versions (E rows, not comparisons): "
            + " | ".join(" ".join(x.split()) for x in skipped),
        ],
        rows,
        invalid,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scheme", action="append", choices=[*TOOLS, "apk", "nuget"])
    p.add_argument("--pairs", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=440)
    p.add_argument("--vulndata", type=Path, default=DEFAULT_VULNDATA)
    p.add_argument("--apk-vectors", type=Path, help="apk-tools test/version.data")
    p.add_argument("--apk-vectors-rev", default="", help="where --apk-vectors came from (commit)")
    args = p.parse_args(argv)
    schemes = args.scheme or [*TOOLS, "apk", "nuget"]
    with tempfile.TemporaryDirectory(prefix="version-oracles-") as tmp:
        for scheme in schemes:
            if scheme in TOOLS:
                generate(scheme, args, Path(tmp))
            else:
                generate_vectors(scheme, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
