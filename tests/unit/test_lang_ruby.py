"""RubyGemsAnalyzer: REAL gem specifications, checked against Ruby's own loader.

Inputs:

* Debian bookworm packages (``apt-get download`` + ``dpkg-deb -x``, ``DEB_PACKAGES``): the
  gemspecs Debian's gem2deb installs under ``usr/share/rubygems-integration/all/specifications``,
  ``usr/share/rubygems-integration/3.1.0/...`` and ``usr/lib/<triplet>/rubygems-integration/
  3.1.0/specifications``, and ``libruby3.1``'s own gem home ``usr/lib/ruby/gems/3.1.0``
  (bundled gems in ``specifications/``, Ruby's default gems in ``specifications/default/``);
* a gem home written by the real ``gem`` tool (``gem build`` then ``gem install --local
  --install-dir``) from gems made here: a prerelease native-platform gem, escaped licenses, a
  capitalized name, no license. Its ``gems/<gem>/<name>.gemspec`` source files are real
  non-installed gemspecs (ignored);
* hand-written but benign variants (RubyGems 1.x ``%q{}`` style, single quotes,
  ``Gem::Version.new``, multi-line license arrays, ``%w``, CRLF, reassignment, non-literal
  version with a stub line), whose expected values are checked against Ruby too.

Both real trees are cached under ``$HULLSCAN_LANG_FIXTURES/ruby`` (default
``/var/tmp/hullscan-fixtures/lang/ruby``; the deb extraction is pruned to its ``.gemspec``
files), so later runs need neither apt nor ``gem``; each test skips with the reason when its tree
is neither cached nor buildable.

Oracle: ``Gem::Specification.load(path)`` (it evaluates the file: only ever given the trusted
files above) for name, version and licenses of every gemspec, and RubyGems' non-evaluating
``Gem::StubSpecification`` for the ``# stub:`` line; one ``ruby`` process for all of them. The
oracle parts skip when ``ruby`` is not installed (Debian package ``ruby``). Hostile inputs are
never given to Ruby.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hullscan.analyzers.dispatch import Dispatch
from hullscan.analyzers.lang import ruby
from hullscan.analyzers.lang.ruby import (
    GemRecord,
    RubyGemsAnalyzer,
    gem_purl,
    is_installed_spec,
    parse_gemspec,
    read_literal,
)
from hullscan.errors import ParseError
from tests.unit import debfixtures
from tests.unit.osfixtures import analyze, assemble, tree

RUBY = RubyGemsAnalyzer()
CACHE = Path(os.environ.get("HULLSCAN_LANG_FIXTURES", "/var/tmp/hullscan-fixtures/lang")) / "ruby"
FIXTURE_VERSION = "1"
DEB_PACKAGES = (
    "libruby3.1", "rake", "ruby-rubygems", "ruby-json", "ruby-rack", "ruby-nokogiri",
    "ruby-activesupport", "ruby-i18n", "ruby-concurrent", "ruby-thor", "ruby-pg", "ruby-net-ssh",
    "ruby-addressable", "ruby-public-suffix", "ruby-tzinfo", "ruby-sinatra", "ruby-mustermann",
    "ruby-rspec-core", "ruby-mini-portile2", "ruby-ffi", "ruby-sqlite3", "ruby-redcarpet",
    "puma", "ruby-rack-test", "ruby-mime-types", "ruby-mime-types-data", "ruby-diff-lcs",
    "ruby-httpclient", "ruby-webrick", "ruby-builder", "ruby-erubi", "ruby-crass", "ruby-loofah",
)  # fmt: skip

Spec = tuple[str, str, tuple[str, ...]]  # name, version, licenses


def _run(
    args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    """``CACHE/v<N>/<name>``, built once by ``build(staging)``."""
    return debfixtures.cached_at(
        CACHE / f"v{FIXTURE_VERSION}" / name, build, f"ruby fixture {name!r}"
    )


# --------------------------------------------------------------------------- Debian packages


def _build_debs(staging: Path) -> None:
    debfixtures.extract_debs(
        staging, DEB_PACKAGES, lambda p: p.name.endswith(".gemspec"), must="ruby-rack"
    )


@pytest.fixture(scope="module")
def debs() -> Path:
    return _cached("debs", _build_debs) / "root"


# --------------------------------------------------------------------------- gem install

LICENSES_SRC = 'Nonstandard "quoted" #{x} caf\u00e9 \\ back'
# name -> (version in the source gemspec, extra Ruby lines, expected installed spec)
GEMS: dict[str, tuple[str, str, Spec]] = {
    "hullscan-native_ext.x": (
        "1.2.0-rc1",  # Gem::Version writes it 1.2.0.pre.rc1
        's.platform = Gem::Platform.local\n  s.license = "Apache-2.0"',
        ("hullscan-native_ext.x", "1.2.0.pre.rc1", ("Apache-2.0",)),
    ),
    "hullscan_licenses": (
        "0.0.1",
        f"s.licenses = ['MIT', '{LICENSES_SRC}', \"GPL-2.0+\"]",
        ("hullscan_licenses", "0.0.1", ("MIT", LICENSES_SRC, "GPL-2.0+")),
    ),
    "Hullscan-Caps": ("10.0", "", ("Hullscan-Caps", "10.0", ())),
}


def _build_gemhome(staging: Path) -> None:
    if shutil.which("gem") is None:
        raise RuntimeError("the gem tool is not installed (Debian package ruby)")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(staging), "LANG": "C.UTF-8"}
    built: list[Path] = []
    for name, (version, extra, _) in GEMS.items():
        src = staging / "src" / name
        (src / "lib").mkdir(parents=True)
        (src / "lib" / f"{name}.rb").write_text("module HullscanFixture; end\n")
        (src / f"{name}.gemspec").write_text(
            "Gem::Specification.new do |s|\n"
            f"  s.name = {name!r}\n  s.version = {version!r}\n"
            '  s.summary = "hullscan test fixture"\n  s.authors = ["hullscan"]\n'
            f'  s.files = ["lib/{name}.rb", "{name}.gemspec"]\n  {extra}\nend\n',
            encoding="utf-8",
        )
        r = _run(["gem", "build", f"{name}.gemspec"], cwd=src, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"gem build {name}: {r.stderr.strip()[-300:]}")
        built += src.glob("*.gem")
    home = staging / "home"
    r = _run(["gem", "install", "--local", "--no-document", "--ignore-dependencies",
              "--install-dir", home, *built], env=env)  # fmt: skip
    if r.returncode != 0:
        raise RuntimeError(f"gem install: {r.stderr.strip()[-300:]}")
    shutil.rmtree(staging / "src")


@pytest.fixture(scope="module")
def gemhome() -> Path:
    return _cached("gemhome", _build_gemhome) / "home"


# --------------------------------------------------------------------------- hand-written

VARIANTS: dict[str, tuple[str, Spec]] = {
    "rack-1.1.0.gemspec": (  # RubyGems 1.x wrote %q{} strings
        """# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{rack}
  s.version = "1.1.0"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.authors = ["Christian Neukirchen"]
  s.date = %q{2010-01-03}
  s.licenses = [%q{MIT}]
  s.summary = %q{a modular Ruby webserver interface}

  if s.respond_to? :specification_version then
    current_version = Gem::Specification::CURRENT_SPECIFICATION_VERSION
    s.specification_version = 3
  end
end
""",
        ("rack", "1.1.0", ("MIT",)),
    ),
    "my_gem.core-2.0.0.pre.rc1.gemspec": (
        """Gem::Specification.new do |spec|
  spec.name    = 'my_gem.core'
  spec.version = Gem::Version.new('2.0.0-rc1')
  spec.summary = 'x'
  spec.license = 'Apache-2.0'
end
""",
        ("my_gem.core", "2.0.0.pre.rc1", ("Apache-2.0",)),
    ),
    "multi-0.1.gemspec": (
        """Gem::Specification.new do |s|
  s.name = "multi".freeze
  s.version = Gem::Version.create "0.1"
  s.licenses = [
    "MIT".freeze, # the code
    'CC-BY-4.0',  # the docs
  ]
end
""",
        ("multi", "0.1", ("MIT", "CC-BY-4.0")),
    ),
    "pct-q-4.0.gemspec": (
        'Gem::Specification.new do |s|\r\n  s.name = %Q(pct-q)\r\n  s.version = " 4.0 "\r\n'
        "  s.licenses = %w[Ruby BSD-2-Clause]\r\nend\r\n",
        ("pct-q", "4.0", ("Ruby", "BSD-2-Clause")),
    ),
    "escapes-1.0.0.rc1.gemspec": (  # what Gem::Specification#to_ruby writes for such a license
        """# -*- encoding: utf-8 -*-
# stub: escapes 1.0.0.rc1 ruby lib

Gem::Specification.new do |s|
  s.name = "escapes".freeze
  s.version = "1.0.0.rc1"
  s.licenses = ["MIT".freeze, "Nonstandard \\"quoted\\" \\#{x} caf\\u00E9 \\\\ back".freeze, "\\x41\\101\\u{42 43}".freeze]
end
""",
        ("escapes", "1.0.0.rc1", ("MIT", 'Nonstandard "quoted" #{x} caf\u00e9 \\ back', "AABC")),
    ),
    "stubbed-3.2.1.gemspec": (  # a computed version: the stub line has it
        """# -*- encoding: utf-8 -*-
# stub: stubbed 3.2.1 ruby lib

Gem::Specification.new do |s|
  s.name = "stubbed"
  s.version = "3.2" + ".1"
  s.license = "MIT"; s.summary = "x"
end
""",
        ("stubbed", "3.2.1", ("MIT",)),
    ),
    "twice-1.1.gemspec": (  # reassigned: the last assignment counts, as in Ruby
        """Gem::Specification.new do |s|
  s.name = "twice"
  s.version = "1.0"
  s.licenses = ["GPL-2.0"]
  s.version = "1.1" if true
  s.license = "LGPL-2.1"
end
""",
        ("twice", "1.1", ("LGPL-2.1",)),
    ),
}


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    specs = tmp_path_factory.mktemp("ruby-variants") / "specifications"
    specs.mkdir()
    for name, (text, _) in VARIANTS.items():
        (specs / name).write_bytes(text.encode())
    return specs


# --------------------------------------------------------------------------- the oracle

ORACLE_RB = r"""
require "json"
out = {}
ARGV.each do |path|
  spec = Gem::Specification.load(path)
  stub = Gem::StubSpecification.gemspec_stub(path, "/nonexistent", "/nonexistent/gems")
  out[path] = {
    "loaded" => spec && [spec.name, spec.version.to_s, spec.licenses],
    "stub" => stub.stubbed? ? [stub.name, stub.version.to_s] : nil,
  }
end
$stdout.write(JSON.generate(out))
"""


def oracle(paths: list[Path]) -> dict[str, dict[str, object]]:
    """Ruby's view of each (trusted) gemspec: ``loaded`` [name, version, licenses] or None,
    ``stub`` [name, version] or None."""
    if shutil.which("ruby") is None:
        pytest.skip("ruby is not installed (Debian package ruby): no oracle")
    r = _run(["ruby", "-e", ORACLE_RB, *paths], env={"PATH": os.environ.get("PATH", ""),
                                                     "LANG": "C.UTF-8"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    out: dict[str, dict[str, object]] = json.loads(r.stdout)
    return out


def installed_specs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.gemspec") if is_installed_spec(p.as_posix()))


def ours(path: Path) -> Spec:
    rec = parse_gemspec(path.read_bytes(), str(path))
    return rec.name, rec.version, rec.licenses


def loaded(entry: dict[str, object]) -> Spec:
    name, version, licenses = entry["loaded"]  # type: ignore[misc]
    return name, version, tuple(dict.fromkeys(licenses))


# --------------------------------------------------------------------------- real gemspecs


def test_debian_gemspecs(debs: Path) -> None:
    specs = installed_specs(debs)
    assert len(specs) >= 100  # ~80 of libruby3.1 + one per ruby-* package
    got = {p.as_posix(): ours(p) for p in specs}
    names = {name for name, _, _ in got.values()}
    assert {"rack", "nokogiri", "activesupport", "puma", "rake", "json", "psych"} <= names
    # Ruby's default json (specifications/default) and Debian's ruby-json both count
    json_specs = [p for p, spec in got.items() if spec[0] == "json"]
    assert any("/specifications/default/" in p for p in json_specs)
    assert any("/rubygems-integration/" in p for p in json_specs)
    assert any("rubygems-integration/all/specifications" in p for p in got)
    assert sum(bool(licenses) for _, _, licenses in got.values()) >= len(specs) - 5


def test_debian_gemspecs_match_rubys_loader(debs: Path) -> None:
    specs = installed_specs(debs)
    expected = oracle(specs)
    assert {str(p): ours(p) for p in specs} == {p: loaded(e) for p, e in expected.items()}


def test_debian_stub_lines_match_rubygems_stub_reader(debs: Path) -> None:
    specs = installed_specs(debs)
    expected = oracle(specs)
    stubs = {str(p): ruby.read_stub(p.read_bytes().decode("utf-8", "replace")) for p in specs}
    assert {p: list(s) if s else None for p, s in stubs.items()} == {
        p: e["stub"] for p, e in expected.items()
    }
    assert sum(s is not None for s in stubs.values()) == len(specs)  # RubyGems writes one


def test_gem_install_tree(gemhome: Path) -> None:
    specs = installed_specs(gemhome)
    assert sorted(ours(p) for p in specs) == sorted(spec for _, _, spec in GEMS.values())
    native = next(p for p in specs if p.name.startswith("hullscan-native_ext.x-"))
    assert native.name != "hullscan-native_ext.x-1.2.0.pre.rc1.gemspec"  # platform suffix
    # the hand-written source gemspec of each gem is in gems/<gem>/ and is not an install
    sources = sorted((gemhome / "gems").rglob("*.gemspec"))
    assert len(sources) == len(GEMS)
    for src in sources:
        rel = src.relative_to(gemhome).as_posix()
        assert RUBY in Dispatch([RUBY]).match(rel, 100)
        assert analyze(RUBY, rel, src.read_bytes()) == GemRecord(kind="ignored")


def test_gem_install_tree_matches_rubys_loader(gemhome: Path) -> None:
    specs = installed_specs(gemhome)
    expected = oracle(specs)
    assert {str(p): ours(p) for p in specs} == {p: loaded(e) for p, e in expected.items()}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_handwritten_variants(name: str, variants: Path) -> None:
    assert ours(variants / name) == VARIANTS[name][1]


def test_handwritten_variants_match_loader(variants: Path) -> None:
    specs = sorted(variants.glob("*.gemspec"))
    expected = oracle(specs)
    assert {str(p): ours(p) for p in specs} == {p: loaded(e) for p, e in expected.items()}


def test_assembled_packages_of_real_trees(debs: Path, gemhome: Path) -> None:
    files: dict[str, bytes] = {}
    for root in (debs, gemhome):
        files |= tree(root, RUBY)  # every .gemspec, installed or not (dispatch by suffix)
    installed = {rel for rel in files if is_installed_spec(rel)}
    assert installed and len(installed) < len(files)  # gems/<gem>/*.gemspec are in too
    out = assemble(RUBY, files)
    assert not out.errors
    got = {p.locations[0].path: p for p in out.packages}
    assert set(got) == installed
    for rel, pkg in got.items():
        rec = parse_gemspec(files[rel])
        assert (pkg.name, pkg.version, pkg.licenses) == (rec.name, rec.version, rec.licenses)
        assert pkg.type == "gem" and pkg.found_by == "lang/ruby"
        assert pkg.purl == f"pkg:gem/{rec.name}@{rec.version}"
    rack = next(p for p in out.packages if p.name == "rack")
    assert rack.licenses == ("MIT",)
    assert "rubygems-integration/all/specifications/rack-" in rack.locations[0].path


# --------------------------------------------------------------------------- paths and purls


@pytest.mark.parametrize(
    ("path", "installed"),
    [
        ("usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.4.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", True),
        ("usr/local/bundle/specifications/nokogiri-1.15.0-x86_64-linux.gemspec", True),
        ("var/lib/gems/3.1.0/specifications/rails-7.0.0.gemspec", True),
        ("usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec", True),
        ("specifications/top-1.0.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/gems/rack-2.2.4/rack.gemspec", False),
        ("app/myapp.gemspec", False),
        ("usr/local/bundle/bundler/gems/rails-abc123/rails.gemspec", False),
        ("x/specifications/other/y-1.0.gemspec", False),
        ("x/default/y-1.0.gemspec", False),
        ("x/specifications/.gemspec", False),
        ("x/specifications/y-1.0.gemspec.bak", False),
        ("y-1.0.gemspec", False),
    ],
)
def test_installed_spec_paths(path: str, installed: bool) -> None:
    assert is_installed_spec(path) is installed
    rec = analyze(RUBY, path, b's.name = "y"\ns.version = "1.0"\n')
    assert (rec == GemRecord(kind="ignored")) is not installed


def test_interest_is_the_gemspec_suffix() -> None:
    dispatch = Dispatch([RUBY])
    assert dispatch.match("usr/lib/ruby/gems/3.1.0/specifications/a-1.gemspec", 10) == [RUBY]
    assert dispatch.match("usr/lib/ruby/gems/3.1.0/gems/a-1/a.gemspec", 10) == [RUBY]
    assert dispatch.match("usr/lib/ruby/gems/3.1.0/specifications/a-1.gem", 10) == []
    assert RUBY.max_file_size == ruby.MAX_SIZE


def test_purls() -> None:
    assert gem_purl("rack", "2.2.4") == "pkg:gem/rack@2.2.4"
    assert gem_purl("Hullscan-Caps", "10.0") == "pkg:gem/Hullscan-Caps@10.0"  # case kept
    assert gem_purl("mini_portile2", "2.8.1.pre.rc1") == "pkg:gem/mini_portile2@2.8.1.pre.rc1"


def test_symlinked_gemspec_counts_once() -> None:
    real = "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec"
    out = assemble(
        RUBY,
        {real: b's.name = "rack".freeze\ns.version = "2.2.22"\ns.licenses = ["MIT".freeze]\n'},
        links={"var/lib/gems/3.1.0/specifications/rack-2.2.22.gemspec": real},
    )
    assert [(p.purl, p.locations[0].path, p.licenses) for p in out.packages] == [
        ("pkg:gem/rack@2.2.22", real, ("MIT",))
    ]


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('"rack".freeze', "rack"),
        ("'it\\'s \\n'", "it's \\n"),
        ('"tab\\tnl\\n\\e\\s"', "tab\tnl\n\x1b "),
        ('"\\u00e9\\u{1F600 41}"', "\u00e9\U0001f600A"),
        ('"\\xc3\\xa9"', "\u00e9"),  # bytes of UTF-8
        ("%q{a{b}c}", "a{b}c"),  # brackets nest
        ("%q<x\\>y>", "x>y"),
        ("%(pct)", "pct"),
        ("%Q|v#{1}|", None),  # interpolation
        ('"v#{RUBY_VERSION}"', None),
        ('"v#@x"', None),
        ('"v\\#{x}"', "v#{x}"),  # escaped: a literal
        ('"a#b"', "a#b"),
        ('"\\ud800"', None),  # a lone surrogate is not text
        ('"unterminated', None),
        ("VERSION", None),
        ("%w[a b]", None),
    ],
)
def test_read_literal(source: str, value: str | None) -> None:
    assert read_literal(source, 0)[0] == value


def test_values_that_are_not_literals_are_not_read() -> None:
    head = '# stub: x 9.9 ruby lib\nGem::Specification.new do |s|\n  s.name = "x"\n'
    # a computed version: the stub line stands in
    assert parse_gemspec((head + '  s.version = "1.0" + "-x"\n').encode()).version == "9.9"
    assert parse_gemspec((head + "  s.version = X::VERSION\n").encode()).version == "9.9"
    assert parse_gemspec((head + '  s.version = "1.0" # c\n').encode()).version == "1.0"
    assert parse_gemspec((head + '  s.version = "1.0"; x\n').encode()).version == "1.0"
    for call in ('Gem::Version.new( "1.0" )', "Gem::Version.create '1.0'"):
        assert parse_gemspec((head + f"  s.version = {call}\n").encode()).version == "1.0"
    for call in ('Gem::Version.new("1.0"', 'Gem::Version.new "1.0")', "Gem::Version.new(V)"):
        assert parse_gemspec((head + f"  s.version = {call}\n").encode()).version == "9.9"
    # adjacent literals concatenate in Ruby: not read rather than read wrong
    spec = head + '  s.version = "1.0"\n  s.licenses = ["MI" "T"]\n'
    assert parse_gemspec(spec.encode()).licenses == ()
    assert parse_gemspec((head + '  s.version = "1"\n  s.license = L\n').encode()).licenses == ()
    # the stub names another gem: no mix of the two
    other = '# stub: y 9.9 ruby lib\ns.name = "x"\ns.version = V\n'
    with pytest.raises(ParseError, match="no literal name and version"):
        parse_gemspec(other.encode())
    # Gem::Specification.new("n", "v") form: not read (RubyGems never writes it)
    with pytest.raises(ParseError, match="no literal name and version"):
        parse_gemspec(b'Gem::Specification.new("ctor", "1.0") do |s|\nend\n')


def test_licenses_are_cleaned() -> None:
    spec = 's.name = "x"\ns.version = "1"\ns.licenses = ["MIT", " MIT ", "", "a\\nb", "%s"]\n'
    assert parse_gemspec((spec % ("L" * 201)).encode()).licenses == ("MIT",)
    many = ", ".join(['"MIT"'] * (ruby._MAX_LICENSES + 1))
    assert parse_gemspec(f's.name = "x"\ns.version = "1"\ns.licenses = [{many}]\n'.encode()) == (
        GemRecord(kind="package", name="x", version="1")
    )


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (b"", "no literal name and version"),
        (b"\x00\xff" * 1000, "no literal name and version"),
        (b's.name = "rack; rm -rf /"\ns.version = "1"\n', "invalid gem name"),
        (b's.name = "../../etc"\ns.version = "1"\n', "invalid gem name"),
        (b's.name = "_x"\ns.version = "1"\n', "invalid gem name"),
        (b's.name = "123"\ns.version = "1"\n', "invalid gem name"),
        (b's.name = "x"\ns.version = "1.0 beta"\n', "invalid version"),
        (b's.name = "x"\ns.version = "1.0\\n2"\n', "invalid version"),
        (b's.name = "x"\ns.version = ""\n', "invalid version"),
        (b's.name = "x#{`id`}"\ns.version = "1"\n', "no literal name and version"),
        (b"# stub: x\xff 1 ruby lib\n", "invalid gem name"),
    ],
)
def test_rejected_specs(spec: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        RUBY.analyze_file("specifications/x-1.gemspec", spec)


def test_ruby_code_is_never_run(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    spec = f"""# -*- encoding: utf-8 -*-
system("touch {canary}"); `touch {canary}`; File.write("{canary}", "x")
Gem::Specification.new do |s|
  s.name = "evil".freeze
  s.version = "6.6.6"
  system("rm -rf /")
  s.licenses = ["MIT".freeze] if system("touch {canary}")
  exec("touch {canary}")
end
""".encode()
    rec = analyze(RUBY, "specifications/evil-6.6.6.gemspec", spec)
    assert rec == GemRecord(kind="package", name="evil", version="6.6.6", licenses=("MIT",))
    assert not canary.exists()


def test_size_limit() -> None:
    body = b's.name = "x"\ns.version = "1"\n'
    with pytest.raises(ParseError, match="over the limit"):
        parse_gemspec(body + b"#" * ruby.MAX_SIZE)
    assert parse_gemspec(body + b"#" * (ruby.MAX_SIZE - len(body))).name == "x"


@pytest.mark.parametrize(
    "filler",
    [
        b'  s.name = "' + b"a" * 200 + b'"\n',  # many assignments: only the last is parsed
        b'  s.licenses = ["' + b"[" * 300 + b"\n",
        b"  s.version = %q{" + b"{" * 500 + b"\n",
        b' s.name = "\\u{' + b"1" * 500,
        b"s.licenses = [" + b'"a", ' * 1000 + b"\n",
        b"x" * 100_000 + b"\n",
        b" " * 100_000,
        b"\n" * 100_000,
        b"\x00" * 100_000,
    ],
)
def test_pathological_input_is_bounded(filler: bytes) -> None:
    data = (filler * (ruby.MAX_SIZE // len(filler)))[: ruby.MAX_SIZE - 100]
    spec = b'# stub: x 1.0 ruby lib\n' + data  # fmt: skip
    start = time.perf_counter()
    try:
        RUBY.analyze_file("specifications/x-1.0.gemspec", spec)
    except ParseError:
        pass
    assert time.perf_counter() - start < 2.0


FRAGMENTS = [
    "s.name = ", "s.version = ", "s.licenses = ", "s.license = ", "Gem::Version.new(", ")",
    '"', "'", "%q{", "%Q(", "%w[", "{", "}", "[", "]", ",", ".freeze", "\\", "\\u{", "\\u",
    "\\x", "\\0", "#{", "#@", "#", "\n", "\r\n", ";", " if ", "# stub: ", "rack", "1.0",
    "-rc1", "MIT", "\u00e9", "\x00", "\ud7ff", " ",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=60))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_token_soup_never_raises_anything_but_parse_error(parts: list[str]) -> None:
    data = "".join(parts).encode("utf-8", "surrogatepass")
    try:
        rec = analyze(RUBY, "specifications/x.gemspec", data)  # encode/decode round trip too
    except ParseError:
        return
    assert isinstance(rec, GemRecord) and rec.kind == "package"


@given(st.binary(max_size=4096))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_never_raise_anything_but_parse_error(data: bytes) -> None:
    try:
        analyze(RUBY, "usr/lib/ruby/gems/3.1.0/specifications/x-1.gemspec", data)
    except ParseError:
        pass


@given(st.text(max_size=2048))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_text_never_raises_anything_but_parse_error(text: str) -> None:
    data = ('s.name = "x"\n' + text).encode("utf-8", "surrogatepass")
    try:
        analyze(RUBY, "specifications/default/x-1.gemspec", data)
    except ParseError:
        pass
