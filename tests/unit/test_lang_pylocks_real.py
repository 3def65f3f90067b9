"""Python lock files written by the REAL tools (uv, poetry 2 and 1, pdm, pipenv), read by
``LockfileAnalyzer`` and checked against each tool's own export of the same lock file.

Real data: for each tool, a tiny project declaring the same old pins, with known dependencies:

* runtime: ``requests==2.25.1`` (urllib3, idna, chardet, certifi), ``Django==3.2.0`` (asgiref,
  pytz, sqlparse), ``Jinja2==2.11.3`` (MarkupSafe);
* an optional runtime extra ``docs``: ``Markdown==3.3.4`` (a Pipfile category ``[docs]`` for
  pipenv, which has no extras);
* the tool's dev group: ``pytest==7.0.0`` (attrs, iniconfig, pluggy, py, packaging, tomli and,
  on Windows only, colorama and atomicwrites) and ``requests-mock==1.9.3`` (requests, six): so
  requests and its dependencies are needed by both the runtime and the dev side.

The tool, pinned, installed from PyPI into a throwaway venv, resolves against PyPI and writes the
lock file itself (``uv lock``, ``poetry lock``, ``pdm lock -G :all``, ``pipenv lock``); then its
own export of that lock is saved beside it as the oracle (``oracle/<name>.txt``):

* ``all``: every group and extra (uv ``export --all-extras --all-groups``, poetry
  ``export --all-extras --all-groups`` (1.x: ``--with dev``), pdm ``export -G :all``, pipenv
  ``requirements --categories "packages dev-packages docs"``);
* ``main`` (and pipenv's ``docs``): what the project needs at run time, extras included (uv
  ``--all-extras --no-dev``, poetry ``--all-extras --only main``, pdm ``--prod -G :all``,
  ``pipenv requirements`` and ``pipenv requirements --categories docs``);
* ``dev``: the tool's dev-only export (uv ``--only-dev``, poetry ``--only dev``, pdm
  ``--no-default -G dev``, ``pipenv requirements --dev-only``), shared packages included.

The oracle files are read here with ``packaging.requirements.Requirement`` (``name==version``
lines, markers ignored: a lock file lists the packages of every platform), independently of
hullscan's own requirements parser. Expected: hullscan reads exactly the (canonical name, version)
pairs of ``all``; the packages of ``all`` missing from the run-time exports (``main``, ``docs``)
are dev (``dev=True``), the run-time ones are not (``dev=False``), shared ones included.

Cache: ``$HULLSCAN_FIXTURE_CACHE/pylocks/v1/<tool>`` (default ``/var/tmp/hullscan-fixtures``):
the project files, the lock file, ``TOOL`` (the tool's ``--version``), ``COMMANDS`` and
``oracle/``, a few hundred KB in all; the tools themselves are not kept. Built once (a few
minutes; concurrent builders each use their own staging directory and the first rename wins);
a tool's tests skip, saying why, only when its cache is absent and it cannot be installed or
cannot lock (PyPI unreachable).

The xfails below are parser bugs and limitations found this way (see ``XFAIL``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from hullscan.analyzers.lang.lockfiles import LockfileAnalyzer, LockRecord
from tests.unit import debfixtures

pytestmark = [pytest.mark.xdist_group("pylocks")]  # one worker builds the cache

FIXTURE_VERSION = "1"
CACHE = (
    Path(os.environ.get("HULLSCAN_FIXTURE_CACHE", "/var/tmp/hullscan-fixtures"))
    / "pylocks"
    / f"v{FIXTURE_VERSION}"
)
LOCKS = LockfileAnalyzer()

Key = tuple[str, str]  # canonical name, version

# --------------------------------------------------------------------------- the projects

MAIN = ("requests==2.25.1", "Django==3.2.0", "Jinja2==2.11.3")
DOCS = ("Markdown==3.3.4",)
DEV = ("pytest==7.0.0", "requests-mock==1.9.3")


def _toml_list(reqs: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{r}"' for r in reqs) + "]"


PEP621 = f"""\
[project]
name = "hullscan-fixture"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = {_toml_list(MAIN)}

[project.optional-dependencies]
docs = {_toml_list(DOCS)}
"""

PEP735_DEV = f"""
[dependency-groups]
dev = {_toml_list(DEV)}
"""

POETRY_DEV = """
[tool.poetry.group.dev.dependencies]
pytest = "7.0.0"
requests-mock = "1.9.3"
"""

POETRY1_MAIN = """\
[tool.poetry]
name = "hullscan-fixture"
version = "0.1.0"
description = ""
authors = ["hullscan tests <tests@example.invalid>"]
package-mode = false

[tool.poetry.dependencies]
python = ">=3.11"
requests = "2.25.1"
Django = "3.2.0"
Jinja2 = "2.11.3"
Markdown = { version = "3.3.4", optional = true }

[tool.poetry.extras]
docs = ["Markdown"]
"""

PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
requests = "==2.25.1"
django = "==3.2.0"
jinja2 = "==2.11.3"

[dev-packages]
pytest = "==7.0.0"
requests-mock = "==1.9.3"

[docs]
markdown = "==3.3.4"

[requires]
python_version = "3.11"
"""

UV_EXPORT = ("export", "--frozen", "--format", "requirements-txt", "--no-hashes")
POETRY_EXPORT = ("export", "--no-ansi", "-f", "requirements.txt", "--without-hashes")
PDM_EXPORT = ("export", "-f", "requirements", "--no-hashes")


@dataclass(frozen=True)
class Tool:
    name: str  # the cache folder and the test id
    pip: tuple[str, ...]  # what pip installs into the tool's throwaway venv
    exe: str  # its console script
    pinned: str  # the version its --version must print
    lockfile: str
    files: dict[str, str]
    lock: tuple[str, ...]
    exports: dict[str, tuple[str, ...]]  # oracle name -> arguments
    runtime: tuple[str, ...] = ("main",)  # the oracles listing the run-time packages


TOOLS = {
    t.name: t
    for t in (
        Tool(
            "uv", ("uv==0.13.9",), "uv", "0.13.9", "uv.lock",
            {"pyproject.toml": PEP621 + PEP735_DEV},
            ("lock",),
            {
                "all": (*UV_EXPORT, "--all-extras", "--all-groups"),
                "main": (*UV_EXPORT, "--all-extras", "--no-dev"),
                "dev": (*UV_EXPORT, "--only-dev"),
            },
        ),
        Tool(
            "poetry", ("poetry==2.5.1", "poetry-plugin-export==1.10.1"), "poetry", "2.5.1",
            "poetry.lock",
            {"pyproject.toml": PEP621 + "\n[tool.poetry]\npackage-mode = false\n" + POETRY_DEV},
            ("lock", "--no-ansi"),
            {
                "all": (*POETRY_EXPORT, "--all-extras", "--all-groups"),
                "main": (*POETRY_EXPORT, "--all-extras", "--only", "main"),
                "dev": (*POETRY_EXPORT, "--only", "dev"),
            },
        ),
        Tool(
            # Poetry 1.5-1.8 write lock-version 2.0, still the most common poetry.lock around
            "poetry1", ("poetry==1.8.5", "poetry-plugin-export==1.8.0"), "poetry", "1.8.5",
            "poetry.lock",
            {"pyproject.toml": POETRY1_MAIN + POETRY_DEV},
            ("lock", "--no-ansi"),
            {
                "all": (*POETRY_EXPORT, "--all-extras", "--with", "dev"),
                "main": (*POETRY_EXPORT, "--all-extras", "--only", "main"),
                "dev": (*POETRY_EXPORT, "--only", "dev"),
            },
        ),
        Tool(
            # hishel 2 dropped an API pdm 2.29.4 uses (pdm asks for hishel>=1.4.0)
            "pdm", ("pdm==2.29.4", "hishel[httpx2]==1.4.0"), "pdm", "2.29.4", "pdm.lock",
            {"pyproject.toml": PEP621 + PEP735_DEV + "\n[tool.pdm]\ndistribution = false\n"},
            ("lock", "-G", ":all"),
            {
                "all": (*PDM_EXPORT, "-G", ":all"),
                "main": (*PDM_EXPORT, "--prod", "-G", ":all"),
                "dev": (*PDM_EXPORT, "--no-default", "-G", "dev"),
            },
        ),
        Tool(
            "pipenv", ("pipenv==2026.10.3",), "pipenv", "2026.10.3", "Pipfile.lock",
            {"Pipfile": PIPFILE},
            ("lock",),
            {
                "all": ("requirements", "--categories", "packages dev-packages docs"),
                "main": ("requirements",),
                "docs": ("requirements", "--categories", "docs"),
                "dev": ("requirements", "--dev-only"),
            },
            runtime=("main", "docs"),
        ),
    )
}  # fmt: skip

# (tool, what) -> why hullscan disagrees with the tool; what: "packages", "dev", "runtime"
XFAIL: dict[tuple[str, str], str] = {
    ("poetry1", "dev"): (
        "a poetry 1.5-1.8 lock file (lock-version 2.0) has neither `category` nor `groups`: "
        "parse_poetry_lock reads every package dev=False though `poetry export --only dev` "
        "alone lists pytest, requests-mock and their dependencies; the lock file alone cannot "
        "tell (the groups are in pyproject.toml)"
    ),
    ("pdm", "runtime"): (
        "parse_pdm_lock reads markdown 3.3.4 dev=True: it is in the optional-dependencies extra "
        "'docs' (groups = ['docs']), which `pdm export --prod -G :all` includes; _pdm_dev takes "
        "every group but 'default' for a dev group, and pdm.lock does not say which groups are "
        "extras ([metadata] groups = ['default', 'dev', 'docs'])"
    ),
}


def _params(what: str) -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=XFAIL[(name, what)]))
        if (name, what) in XFAIL
        else name
        for name in TOOLS
    ]


# --------------------------------------------------------------------------- the builder


def _env(tmp: Path) -> dict[str, str]:
    """The caller's environment without any tool's settings, every tool's caches, config and
    virtualenvs under ``tmp``, the interpreter running the tests as the project's Python."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "POETRY_", "PDM_", "PIPENV_", "PYTHON", "CONDA"))
        and k not in ("VIRTUAL_ENV", "WORKON_HOME")
    }
    py = sys.executable
    env.update(
        HOME=str(tmp / "home"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_STATE_HOME=str(tmp / "state"),
        PIP_CACHE_DIR=str(tmp / "cache" / "pip"),
        NO_COLOR="1",
        UV_CACHE_DIR=str(tmp / "cache" / "uv"),
        UV_PYTHON=py,
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_CONFIG="1",
        POETRY_CACHE_DIR=str(tmp / "cache" / "poetry"),
        POETRY_CONFIG_DIR=str(tmp / "config" / "poetry"),
        POETRY_DATA_DIR=str(tmp / "data" / "poetry"),
        POETRY_VIRTUALENVS_CREATE="false",
        POETRY_NO_INTERACTION="1",
        POETRY_WARNINGS_EXPORT="false",
        PDM_CACHE_DIR=str(tmp / "cache" / "pdm"),
        PDM_CONFIG_FILE=str(tmp / "config" / "pdm.toml"),
        PDM_HOME=str(tmp / "data" / "pdm"),
        PDM_PYTHON=py,
        PDM_NON_INTERACTIVE="1",
        PDM_CHECK_UPDATE="false",
        PIPENV_CACHE_DIR=str(tmp / "cache" / "pipenv"),
        WORKON_HOME=str(tmp / "virtualenvs"),
        PIPENV_PYTHON=py,
        PIPENV_YES="1",
        PIPENV_NOSPIN="1",
        PIPENV_IGNORE_VIRTUALENVS="1",
        PIPENV_DONT_LOAD_ENV="1",
        PIPENV_VERBOSITY="-1",
    )
    return env


def _run(
    args: list[str | Path], cwd: Path, env: dict[str, str], what: str, timeout: float = 600
) -> str:
    r = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    if r.returncode != 0:
        text = r.stderr.strip() or r.stdout.strip()
        errors = [line for line in text.splitlines() if line.startswith("ERROR")]  # pip's
        tail = " | ".join(errors[-3:]) if errors else text[-600:]
        raise RuntimeError(f"{what} failed (exit {r.returncode}): {tail}")
    return r.stdout


def _build(tool: Tool, staging: Path) -> None:
    """Install ``tool`` into a throwaway venv, let it lock the project in ``staging`` and save
    its exports there; only the project files, the lock file and the oracle are kept."""
    with tempfile.TemporaryDirectory(prefix=f"hullscan-pylocks-{tool.name}-") as t:
        tmp = Path(t)
        env = _env(tmp)
        venv = tmp / "venv"
        _run([sys.executable, "-m", "venv", venv], tmp, env, "python -m venv")
        pins = " ".join(tool.pip)
        _run(
            [venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
             "--retries", "2", "--timeout", "30", *tool.pip],
            tmp, env, f"pip install {pins} (is PyPI reachable?)",
        )  # fmt: skip
        exe = venv / "bin" / tool.exe
        version = _run([exe, "--version"], tmp, env, f"{tool.exe} --version").strip()
        if tool.pinned not in version:
            raise RuntimeError(f"{pins} installed {version!r}")
        for name, text in tool.files.items():
            (staging / name).write_text(text)
        commands = [f"{tool.exe} {' '.join(tool.lock)}"]
        _run([exe, *tool.lock], staging, env, f"{tool.exe} lock (is PyPI reachable?)")
        if not (staging / tool.lockfile).is_file():
            raise RuntimeError(f"{tool.exe} {' '.join(tool.lock)} wrote no {tool.lockfile}")
        oracle = staging / "oracle"
        oracle.mkdir()
        for name, args in tool.exports.items():
            out = _run([exe, *args], staging, env, f"{tool.exe} {' '.join(args)}")
            (oracle / f"{name}.txt").write_text(out)
            shown = " ".join(repr(a) if " " in a else a for a in args)
            commands.append(f"oracle/{name}.txt: {tool.exe} {shown}")
    keep = {*tool.files, tool.lockfile, "oracle"}
    for p in staging.iterdir():  # whatever else a tool left in the project (.venv, .pdm-python)
        if p.name in keep:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    (staging / "TOOL").write_text(f"{pins}\n{version}\n")
    (staging / "COMMANDS").write_text("".join(f"{c}\n" for c in commands))


_BUILT: dict[str, Path | str] = {}  # tool -> its cache, or why it is not there


def built(name: str) -> Path:
    got = _BUILT.get(name)
    if isinstance(got, str):
        pytest.skip(got)
    if got is None:
        tool = TOOLS[name]
        try:
            got = debfixtures.cached_at(
                CACHE / name, lambda staging: _build(tool, staging), f"{name} lock fixture"
            )
        except pytest.skip.Exception as e:
            _BUILT[name] = str(e.msg)
            raise
        _BUILT[name] = got
    return got


# --------------------------------------------------------------------------- readers


def exported(root: Path, oracle: str) -> set[Key]:
    """The ``name==version`` lines of a tool's requirements export (options, comments and
    annotations skipped; markers ignored). Any other line fails: the oracle must be read
    whole."""
    out: set[Key] = set()
    for raw in (root / "oracle" / f"{oracle}.txt").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as e:
            raise AssertionError(f"{oracle}.txt: cannot read {line!r}: {e}") from None
        pins = [s for s in req.specifier if s.operator == "=="]
        assert len(pins) == 1 and len(req.specifier) == 1 and not req.url, (oracle, line)
        out.add((canonicalize_name(req.name), pins[0].version))
    return out


def oracles(name: str) -> tuple[set[Key], set[Key], set[Key]]:
    """(every package, the run-time ones, the tool's dev export) of ``name``'s lock file."""
    root = built(name)
    tool = TOOLS[name]
    runtime: set[Key] = set()
    for o in tool.runtime:
        runtime |= exported(root, o)
    return exported(root, "all"), runtime, exported(root, "dev")


def hullscan_reads(name: str) -> tuple[LockRecord, dict[Key, bool]]:
    tool = TOOLS[name]
    path = f"srv/app/{tool.lockfile}"
    rec = LOCKS.analyze_file(path, (built(name) / tool.lockfile).read_bytes())
    assert isinstance(rec, LockRecord) and rec.kind == "lock", rec
    read: dict[Key, bool] = {}
    for d in rec.packages:
        key = (canonicalize_name(d.name), d.version)
        assert d.type == "pypi", d
        assert key not in read, f"{key} read twice: {rec.packages}"
        read[key] = d.dev
    return rec, read


def _names(keys: set[Key]) -> set[str]:
    return {n for n, _ in keys}


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", list(TOOLS))
def test_fixture_is_what_the_tests_claim(name: str) -> None:
    """The tool is the pinned one, and its exports hold the pins, their dependencies, the
    dev-only packages and the packages both sides need: the comparisons below are not vacuous."""
    root = built(name)
    tool = TOOLS[name]
    assert tool.pinned in (root / "TOOL").read_text()
    every, runtime, dev = oracles(name)
    assert runtime <= every and dev <= every, "an export lists what the 'all' export does not"
    assert every == runtime | dev, "a package neither in the run-time nor in the dev export"
    pins = {
        ("requests", "2.25.1"), ("django", "3.2"), ("jinja2", "2.11.3"),
        ("markdown", "3.3.4"), ("pytest", "7.0.0"), ("requests-mock", "1.9.3"),
    }  # fmt: skip
    assert pins <= every, pins - every
    assert {"urllib3", "idna", "chardet", "certifi", "asgiref", "pytz", "sqlparse",
            "markupsafe", "markdown"} <= _names(runtime)  # fmt: skip
    assert {"pytest", "requests-mock", "pluggy", "iniconfig", "six"} <= _names(every - runtime)
    assert {"requests", "urllib3", "idna", "certifi"} <= _names(runtime & dev), "shared"


@pytest.mark.parametrize("name", _params("packages"))
def test_packages_match_tool_export(name: str) -> None:
    """hullscan reads exactly the (name, version) pairs the tool exports, all groups and
    extras."""
    every, _, _ = oracles(name)
    rec, read = hullscan_reads(name)
    assert rec.format == TOOLS[name].lockfile
    missing, extra = every - read.keys(), read.keys() - every
    assert not missing and not extra, f"missing: {sorted(missing)}; not exported: {sorted(extra)}"


@pytest.mark.parametrize("name", _params("dev"))
def test_dev_only_packages_are_dev(name: str) -> None:
    """What only the dev side needs (in the tool's full export, not in its run-time ones) is
    read ``dev=True``."""
    every, runtime, dev = oracles(name)
    dev_only = every - runtime
    assert dev_only <= dev
    _, read = hullscan_reads(name)
    wrong = sorted(k for k in dev_only if k in read and not read[k])
    assert dev_only & read.keys(), "hullscan read none of the dev-only packages"
    assert not wrong, f"dev-only packages read dev=False: {wrong}"


@pytest.mark.parametrize("name", _params("runtime"))
def test_runtime_packages_are_not_dev(name: str) -> None:
    """What the project needs at run time (main dependencies, extras, and what the dev side
    needs too) is read ``dev=False``."""
    _, runtime, dev = oracles(name)
    _, read = hullscan_reads(name)
    wrong = sorted(k for k in runtime if read.get(k) is True)
    assert runtime & dev & read.keys(), "hullscan read none of the shared packages"
    assert not wrong, f"run-time packages read dev=True: {wrong}"
