"""``hullscan db update`` against a real HTTP server on 127.0.0.1 serving ../shared/vulndata.

The server (``feed_server.py``) lays the shared files out like the live URLs, with ETag,
Last-Modified, conditional GET and byte ranges, and serves faults on demand. Library-level tests
call ``update_db`` in-process with simple sources; CLI tests run ``python -m hullscan db update``
as a subprocess with ``--mirror`` pointing at the server.
"""

from __future__ import annotations

import fcntl
import gzip
import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.cli_support import REPO, Run, Sandbox, assert_one_line_error
from tests.integration.feed_server import FeedServer, basic_auth, simple_sources

from hullscan.errors import UsageError
from hullscan.vulndb import update
from hullscan.vulndb.update import (
    LOCK_FILE,
    STATE_FILE,
    HttpSettings,
    LiveFeed,
    Mirrors,
    UpdateError,
    redact_url,
    select_feeds,
    update_db,
)

pytestmark = [pytest.mark.integration, pytest.mark.needs_shared]

VULNDATA = REPO.parent / "shared" / "vulndata"
SECRET = "s3cr3t-t0ken"

# server path -> file under shared/vulndata (the feeds the tests download)
SERVED = {
    "/osv/NuGet/all.zip": "osv-dev/NuGet/all.zip",
    "/osv/crates.io/all.zip": "osv-dev/crates.io/all.zip",
    "/cisa/sites/default/files/feeds/known_exploited_vulnerabilities.json": (
        "cisa-kev/known_exploited_vulnerabilities.json"
    ),
    "/alpine/v3.21/main.json": "alpine-secdb/3.21/main.json",
    "/alpine/v3.21/community.json": "alpine-secdb/3.21/community.json",
}
FEEDS = ["osv/NuGet", "osv/crates.io", "kev", "alpine-secdb/3.21"]
NUGET = "/osv/NuGet/all.zip"
KEV = "/cisa/sites/default/files/feeds/known_exploited_vulnerabilities.json"


def _mirror_specs(base: str, auth: str = "") -> list[str]:
    if auth:
        scheme, rest = base.split("://", 1)
        base = f"{scheme}://{auth}@{rest}"
    return [
        f"https://osv-vulnerabilities.storage.googleapis.com={base}/osv",
        f"https://www.cisa.gov={base}/cisa",
        f"https://secdb.alpinelinux.org={base}/alpine",
        f"https://epss.cyentia.com={base}/epss",
    ]


@pytest.fixture(scope="module")
def shared_vulndata() -> Path:
    missing = [rel for rel in SERVED.values() if not (VULNDATA / rel).is_file()]
    if missing:
        pytest.skip(f"shared vulndata absent: {VULNDATA} ({missing[0]})")
    return VULNDATA


@pytest.fixture
def server(shared_vulndata: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(update.MIRRORS_ENV, raising=False)
    srv = FeedServer()
    for path, rel in SERVED.items():
        f = shared_vulndata / rel
        srv.add(path, f.read_bytes(), f.stat().st_mtime)
    with srv:
        yield srv


def _feeds() -> list[LiveFeed]:
    return select_feeds(FEEDS)


def _settings(**kw: float) -> HttpSettings:
    base: dict[str, float] = {
        "connect_timeout": 2.0,
        "read_timeout": 1.0,
        "retries": 2,
        "backoff": 0.05,
    }
    base.update(kw)
    return HttpSettings(
        connect_timeout=base["connect_timeout"],
        read_timeout=base["read_timeout"],
        retries=int(base["retries"]),
        backoff=base["backoff"],
    )


def _update(
    server: FeedServer,
    tmp: Path,
    *,
    keep_going: bool = False,
    feeds: list[LiveFeed] | None = None,
    **kw: float,
) -> update.UpdateReport:
    return update_db(
        tmp / "feeds",
        tmp / "db.sqlite",
        feeds=_feeds() if feeds is None else feeds,
        mirrors=Mirrors.parse(_mirror_specs(server.url), env={}),
        settings=_settings(**kw),
        keep_going=keep_going,
        sources=simple_sources(),
    )


def _result(report: update.UpdateReport, name: str = "osv/NuGet") -> update.FeedResult:
    (res,) = [r for r in report.results if r.feed.name == name]
    return res


def _parts(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.part"))


def _assert_layout(feed_dir: Path) -> None:
    for rel in SERVED.values():
        assert (feed_dir / rel).read_bytes() == (VULNDATA / rel).read_bytes(), rel
    assert _parts(feed_dir) == []


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("advisories", "kev")
        }
    finally:
        con.close()


# --------------------------------------------------------------------------- the table, mirrors


def test_live_feed_table() -> None:
    names = [f.name for f in update.LIVE_FEEDS]
    dests = [f.dest for f in update.LIVE_FEEDS]
    assert len(set(names)) == len(names) and len(set(dests)) == len(dests)
    by_name = {f.name: f for f in update.LIVE_FEEDS}
    assert (
        by_name["osv/PyPI"].url == "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
    )
    assert by_name["osv/Rocky-Linux"].url.endswith("/Rocky%20Linux/all.zip")
    assert by_name["osv/Rocky-Linux"].dest == "osv-dev/Rocky-Linux/all.zip"
    assert by_name["debian-tracker"].url == "https://security-tracker.debian.org/tracker/data/json"
    assert by_name["debian-tracker"].dest == "samples/debian-tracker-json/debian.json"
    assert by_name["alpine-secdb/3.21/main"].url == "https://secdb.alpinelinux.org/v3.21/main.json"
    assert by_name["alpine-secdb/edge/community"].dest == "alpine-secdb/edge/community.json"
    assert by_name["kev"].dest == "cisa-kev/known_exploited_vulnerabilities.json"
    assert by_name["epss"].url == "https://epss.cyentia.com/epss_scores-current.csv.gz"
    assert by_name["nvd/2024"].dest == "samples/nvd-api-2.0/yearly-feed/nvdcve-2.0-2024.json.gz"
    assert all(f.url.startswith("https://") for f in update.LIVE_FEEDS)
    # NVD is off by default; named or --with-nvd turns it on
    assert not any(f.group == "nvd" for f in select_feeds())
    assert any(f.group == "nvd" for f in select_feeds(with_nvd=True))
    assert [f.name for f in select_feeds(["nvd/2024"])] == ["nvd/2024"]
    assert [f.name for f in select_feeds(["alpine-secdb/3.21"])] == [
        "alpine-secdb/3.21/main",
        "alpine-secdb/3.21/community",
    ]
    with pytest.raises(UsageError, match="unknown feed"):
        select_feeds(["osv/NoSuchEcosystem"])
    # the shared layout is the feed-dir layout: every shared feed path is a table destination
    for rel in SERVED.values():
        assert rel in dests


def test_mirrors_and_redaction() -> None:
    m = Mirrors.parse(
        ["https://secdb.alpinelinux.org=http://u:pw@127.0.0.1:9/alpine/"],
        env={
            update.MIRRORS_ENV: "https://osv-vulnerabilities.storage.googleapis.com=http://m/osv, "
            "https://secdb.alpinelinux.org=http://ignored"
        },
    )
    assert (
        m.apply("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip")
        == "http://m/osv/PyPI/all.zip"
    )
    assert (
        m.apply("https://secdb.alpinelinux.org/v3.21/main.json")
        == "http://u:pw@127.0.0.1:9/alpine/v3.21/main.json"
    )
    assert m.apply("https://www.cisa.gov/x") == "https://www.cisa.gov/x"
    assert m.apply("https://secdb.alpinelinux.org.evil/x") == "https://secdb.alpinelinux.org.evil/x"
    assert redact_url("http://u:pw@127.0.0.1:9/a/b?token=xyz") == "http://127.0.0.1:9/a/b?..."
    for bad in (
        "no-equals-sign",
        "ftp://x=http://y",
        "https://x=notaurl",
        "https://x?q=1=http://y",
    ):
        with pytest.raises(UsageError):
            Mirrors.parse([bad], env={})


# --------------------------------------------------------------------------- library level


def test_success_then_not_modified(server: FeedServer, tmp_path: Path) -> None:
    report = _update(server, tmp_path)
    assert [r.status for r in report.results] == ["downloaded"] * 5
    assert report.build is not None and report.build.advisories > 1000
    feed_dir = tmp_path / "feeds"
    _assert_layout(feed_dir)
    counts = _counts(tmp_path / "db.sqlite")
    assert counts["kev"] > 1000
    state = (feed_dir / STATE_FILE).read_text()
    assert server.resources[NUGET].etag.strip('"') in state
    mtimes = {rel: (feed_dir / rel).stat().st_mtime_ns for rel in SERVED.values()}

    server.reset_log()
    report = _update(server, tmp_path)
    assert [r.status for r in report.results] == ["not-modified"] * 5
    assert sum(r.transferred for r in report.results) == 0
    reqs = server.requests()
    assert len(reqs) == 5
    assert all(r.status == 304 and "if-none-match" in r.headers for r in reqs)
    assert all("if-modified-since" in r.headers for r in reqs)
    assert {rel: (feed_dir / rel).stat().st_mtime_ns for rel in SERVED.values()} == mtimes
    assert _counts(tmp_path / "db.sqlite") == counts


def test_changed_upstream_is_downloaded_again(server: FeedServer, tmp_path: Path) -> None:
    _update(server, tmp_path)
    old = server.resources[KEV]
    server.add(KEV, old.data + b"\n", old.mtime + 10)
    report = _update(server, tmp_path)
    status = {r.feed.name: r.status for r in report.results}
    assert status["kev"] == "downloaded"
    assert sum(s == "not-modified" for s in status.values()) == 4
    dest = tmp_path / "feeds/cisa-kev/known_exploited_vulnerabilities.json"
    assert dest.read_bytes() == old.data + b"\n"


@pytest.mark.parametrize(
    ("fault", "min_seconds"),
    [("500", 0.0), ("429", 1.0), ("hang", 1.0)],
)
def test_transient_fault_is_retried(
    server: FeedServer, tmp_path: Path, fault: str, min_seconds: float
) -> None:
    server.fault(NUGET, fault)
    t0 = time.monotonic()
    report = _update(server, tmp_path)
    nuget = _result(report)
    assert nuget.status == "downloaded" and nuget.attempts == 2, nuget
    assert nuget.seconds >= min_seconds
    assert time.monotonic() - t0 < 15
    assert len(server.requests(NUGET)) == 2
    _assert_layout(tmp_path / "feeds")


def test_reset_mid_body_resumes_with_range(server: FeedServer, tmp_path: Path) -> None:
    server.fault(NUGET, "reset")
    report = _update(server, tmp_path)
    nuget = _result(report)
    assert nuget.status == "downloaded" and nuget.resumed and nuget.attempts == 2, nuget
    first, second = server.requests(NUGET)
    assert first.status == 200 and "range" not in first.headers
    assert second.status == 206
    offset = int(second.headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < offset < len(server.resources[NUGET].data)
    assert second.headers["if-range"] == server.resources[NUGET].etag
    # only the missing tail went over the wire the second time
    assert nuget.transferred == len(server.resources[NUGET].data)
    _assert_layout(tmp_path / "feeds")


def test_reset_without_range_support_restarts(server: FeedServer, tmp_path: Path) -> None:
    server.no_ranges.add(NUGET)
    server.fault(NUGET, "reset")
    report = _update(server, tmp_path)
    nuget = _result(report)
    assert nuget.status == "downloaded" and not nuget.resumed and nuget.attempts == 2
    assert [r.status for r in server.requests(NUGET)] == [200, 200]
    _assert_layout(tmp_path / "feeds")


def test_interrupted_run_resumes_in_the_next_run(server: FeedServer, tmp_path: Path) -> None:
    server.fault(NUGET, "reset", always=True)
    with pytest.raises(UpdateError, match=r"osv/NuGet: .*connection") as info:
        _update(server, tmp_path, retries=0)
    assert "\n" not in str(info.value)
    dest = tmp_path / "feeds/osv-dev/NuGet/all.zip"
    assert not dest.exists() and not (tmp_path / "db.sqlite").exists()
    part = dest.with_name("all.zip.part")
    assert 0 < part.stat().st_size < len(server.resources[NUGET].data)
    have = part.stat().st_size
    server.clear_faults()
    server.reset_log()
    report = _update(server, tmp_path)
    assert _result(report).resumed
    (req,) = server.requests(NUGET)
    assert req.status == 206 and req.headers["range"] == f"bytes={have}-"
    assert _result(report).transferred == len(server.resources[NUGET].data) - have
    _assert_layout(tmp_path / "feeds")


def test_changed_upstream_during_resume_restarts(server: FeedServer, tmp_path: Path) -> None:
    server.fault(NUGET, "reset", always=True)
    with pytest.raises(UpdateError):
        _update(server, tmp_path, retries=0)
    server.clear_faults()
    # a new version appears: If-Range no longer matches, the server sends it whole
    new = (VULNDATA / SERVED["/osv/crates.io/all.zip"]).read_bytes()
    server.add(NUGET, new, time.time())
    server.reset_log()
    report = _update(server, tmp_path)
    assert _result(report).status == "downloaded" and not _result(report).resumed
    (req,) = server.requests(NUGET)
    assert "range" in req.headers and req.status == 200
    assert (tmp_path / "feeds/osv-dev/NuGet/all.zip").read_bytes() == new


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("404", "HTTP 404"),
        ("500", "HTTP 500 (gave up after 2 attempts)"),
        ("truncate", "connection failed"),
        ("garbage", "not a zip archive"),
        ("hang", "timed out"),
    ],
)
def test_persistent_fault_fails_and_keeps_old_db(
    server: FeedServer, tmp_path: Path, fault: str, message: str
) -> None:
    _update(server, tmp_path)
    db = tmp_path / "db.sqlite"
    before = db.read_bytes()
    dest = tmp_path / "feeds/osv-dev/NuGet/all.zip"
    old_file = dest.read_bytes()
    server.add(NUGET, old_file + b"x", time.time())  # upstream changed: a full download is due
    server.fault(NUGET, fault, always=True)
    server.reset_log()
    with pytest.raises(UpdateError) as info:
        _update(server, tmp_path, retries=1)
    line = str(info.value)
    assert "\n" not in line and line.startswith("feed osv/NuGet: "), line
    assert message in line and "the DB was not changed" in line, line
    assert db.read_bytes() == before
    assert dest.read_bytes() == old_file  # the final path holds the old complete file
    if fault == "garbage":
        assert _parts(tmp_path / "feeds") == []
    assert len(server.requests(NUGET)) == (1 if fault in ("404", "garbage") else 2)


EPSS = "/epss/epss_scores-current.csv.gz"


@pytest.mark.parametrize(
    ("name", "path", "body", "needle"),
    [
        ("epss", EPSS, "good", None),
        ("epss", EPSS, "garbage", "not a complete gzip file"),
        ("epss", EPSS, "cut", "not a complete gzip file"),
        ("epss", EPSS, "empty-gzip", "the gzip file holds no data"),
        ("kev", KEV, "garbage", "not a JSON document"),
        ("kev", KEV, "cut", "not a JSON document"),
    ],
)
def test_sanity_check_by_type(
    server: FeedServer, tmp_path: Path, name: str, path: str, body: str, needle: str | None
) -> None:
    """A complete body (right length) that is not what the file type says never lands."""
    csv = (VULNDATA / "samples/epss-csv/example-1.csv").read_bytes()
    good = gzip.compress(csv) if path == EPSS else server.resources[KEV].data
    data = {"good": good, "cut": good[: len(good) - 40], "empty-gzip": gzip.compress(b"")}.get(
        body, good
    )
    server.add(path, data)
    if body == "garbage":
        server.fault(path, "garbage", always=True)
    feeds = select_feeds([name])
    dest = tmp_path / "feeds" / feeds[0].dest
    if needle is None:
        _update(server, tmp_path, feeds=feeds)
        assert dest.read_bytes() == data
        return
    with pytest.raises(UpdateError, match=f"feed {name}: {needle}"):
        _update(server, tmp_path, feeds=feeds)
    assert not dest.exists() and _parts(tmp_path / "feeds") == []


def test_size_limit(server: FeedServer, tmp_path: Path) -> None:
    small = [
        LiveFeed(name=f.name, url=f.url, dest=f.dest, max_bytes=100_000)
        if f.name == "osv/NuGet"
        else f
        for f in _feeds()
    ]
    with pytest.raises(UpdateError, match=r"feed osv/NuGet: .*over the 0.1 MB limit"):
        _update(server, tmp_path, feeds=small)
    assert not (tmp_path / "feeds/osv-dev/NuGet/all.zip").exists()
    assert _parts(tmp_path / "feeds") == []


def test_keep_going_builds_from_what_is_there(server: FeedServer, tmp_path: Path) -> None:
    _update(server, tmp_path)
    server.fault(KEV, "500", always=True)
    server.fault(NUGET, "404", always=True)
    report = _update(server, tmp_path, keep_going=True)
    assert sorted(r.feed.name for r in report.failed) == ["kev", "osv/NuGet"]
    assert report.build is not None
    # the copies from the first run were used
    assert _counts(tmp_path / "db.sqlite")["kev"] > 1000
    # nothing at all to build from: an error even with keep_going
    with pytest.raises(UpdateError, match="no feed data to build from"):
        _update(server, tmp_path / "fresh", keep_going=True, feeds=select_feeds(["kev"]))


def test_one_update_per_feed_dir(server: FeedServer, tmp_path: Path) -> None:
    feed_dir = tmp_path / "feeds"
    feed_dir.mkdir()
    with (feed_dir / LOCK_FILE).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(UpdateError, match="another 'hullscan db update'"):
            _update(server, tmp_path)
    assert server.requests() == []


# --------------------------------------------------------------------------- CLI (subprocess)

# Until hullscan.vulndb.build.sources exists, the CLI runs with the test's simple sources
# registered under that name; once it exists, the real table builds the DB.
_REAL_SOURCES = importlib.util.find_spec("hullscan.vulndb.build.sources") is not None
_WRAPPER = (
    "import runpy, sys, types\n"
    "from tests.integration.feed_server import simple_sources\n"
    "m = types.ModuleType('hullscan.vulndb.build.sources')\n"
    "m.default_sources = simple_sources\n"
    "sys.modules[m.__name__] = m\n"
    "sys.argv[0] = 'hullscan'\n"
    "runpy.run_module('hullscan', run_name='__main__', alter_sys=True)\n"
)


def _cli(sandbox: Sandbox, *args: str | Path, env: dict[str, str] | None = None) -> Run:
    cmd = [sys.executable, "-m", "hullscan"] if _REAL_SOURCES else [sys.executable, "-c", _WRAPPER]
    full_env = {
        k: v
        for k, v in sandbox.env(env).items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy") and k != update.MIRRORS_ENV
    }
    full_env["NO_PROXY"] = "127.0.0.1,localhost"
    full_env["PYTHONPATH"] = f"{REPO / 'src'}{os.pathsep}{REPO}"
    full_env.update(env or {})
    argv = tuple(str(a) for a in args)
    proc = subprocess.run(
        [*cmd, *argv],
        cwd=sandbox.make().cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(argv, proc.returncode, proc.stdout, proc.stderr)


def _cli_update(server: FeedServer, root: Path, *extra: str, auth: str = "") -> Run:
    args: list[str] = [
        "db",
        "update",
        "--db",
        str(root / "db.sqlite"),
        "--feed-dir",
        str(root / "feeds"),
    ]
    for spec in _mirror_specs(server.url, auth):
        args += ["--mirror", spec]
    for name in FEEDS:
        args += ["--feeds", name]
    return _cli(Sandbox(root / "sandbox"), *args, "--timeout", "1", "--retries", "1", *extra)


@pytest.fixture(scope="module")
def old_db(shared_vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DB built by a successful update (the DB a failed update must leave alone)."""
    root = tmp_path_factory.mktemp("old-db")
    mp = pytest.MonkeyPatch()
    mp.setenv("NO_PROXY", "127.0.0.1,localhost")
    srv = FeedServer()
    for path, rel in SERVED.items():
        srv.add(path, (shared_vulndata / rel).read_bytes())
    try:
        with srv:
            _update(srv, root)
    finally:
        mp.undo()
    return root / "db.sqlite"


def test_cli_success_then_not_modified(server: FeedServer, tmp_path: Path) -> None:
    run = _cli_update(server, tmp_path)
    assert run.returncode == 0, run.describe()
    lines = run.stderr.splitlines()
    for name in (
        "osv/NuGet",
        "osv/crates.io",
        "kev",
        "alpine-secdb/3.21/main",
        "alpine-secdb/3.21/community",
    ):
        assert any(
            line.startswith(f"{name}: downloaded, ") and " MB in " in line for line in lines
        ), run.describe()
    assert any(line.startswith(f"updated {tmp_path / 'db.sqlite'}: ") for line in lines), (
        run.describe()
    )
    assert run.stdout == ""
    _assert_layout(tmp_path / "feeds")
    # NuGet + crates.io alone hold ~3,000 OSV records, whichever source table builds the DB
    assert _counts(tmp_path / "db.sqlite")["advisories"] > 2000

    server.reset_log()
    run = _cli_update(server, tmp_path)
    assert run.returncode == 0, run.describe()
    assert sum(": not modified, " in line for line in run.stderr.splitlines()) == 5, run.describe()
    assert "0.0 MB downloaded" in run.stderr
    assert [r.status for r in server.requests()] == [304] * 5
    _assert_layout(tmp_path / "feeds")


@pytest.mark.parametrize("fault", ["429", "reset"])
def test_cli_transient_fault_recovers(server: FeedServer, tmp_path: Path, fault: str) -> None:
    server.fault(NUGET, fault)
    run = _cli_update(server, tmp_path)
    assert run.returncode == 0, run.describe()
    line = next(ln for ln in run.stderr.splitlines() if ln.startswith("osv/NuGet: "))
    assert line.startswith("osv/NuGet: downloaded") and "2 attempts" in line, line
    if fault == "reset":
        assert "resumed" in line and server.requests(NUGET)[1].status == 206
    _assert_layout(tmp_path / "feeds")


@pytest.mark.parametrize(
    ("fault", "needle"),
    [
        ("404", "HTTP 404"),
        ("truncate", "connection failed"),
        ("garbage", "not a zip archive"),
        ("hang", "timed out"),
    ],
)
def test_cli_fault_fails_with_one_line(
    server: FeedServer, tmp_path: Path, old_db: Path, fault: str, needle: str
) -> None:
    db = tmp_path / "db.sqlite"
    shutil.copyfile(old_db, db)
    before = db.read_bytes()
    server.fault(NUGET, fault, always=True)
    t0 = time.monotonic()
    run = _cli_update(server, tmp_path, "-q", auth=f"hullscan:{SECRET}")
    line = assert_one_line_error(run, 2, "osv/NuGet", needle, "the DB was not changed")
    assert time.monotonic() - t0 < 30
    assert f"{server.url}/osv/NuGet/all.zip" in line  # where it failed, without credentials
    assert SECRET not in run.stderr + run.stdout
    assert db.read_bytes() == before
    feed_dir = tmp_path / "feeds"
    assert not (feed_dir / "osv-dev/NuGet/all.zip").exists()
    parts = _parts(feed_dir)
    assert parts == (["osv-dev/NuGet/all.zip.part"] if fault == "truncate" else [])
    # the other feeds were stored (complete) for the next run, and nothing names the secret
    assert (feed_dir / "cisa-kev/known_exploited_vulnerabilities.json").is_file()
    assert SECRET not in (feed_dir / STATE_FILE).read_text()
    # the mirror's credentials were sent to the mirror
    assert basic_auth(server.requests(KEV)[0].headers.get("authorization")) == f"hullscan:{SECRET}"


def test_cli_keep_going(server: FeedServer, tmp_path: Path) -> None:
    assert _cli_update(server, tmp_path, "-q").returncode == 0
    server.fault(NUGET, "404", always=True)
    run = _cli_update(server, tmp_path, "--keep-going", auth=f"hullscan:{SECRET}")
    assert run.returncode == 0, run.describe()
    assert SECRET not in run.stderr + run.stdout
    lines = run.stderr.splitlines()
    assert any(ln.startswith("osv/NuGet: failed after ") and "HTTP 404" in ln for ln in lines), (
        run.describe()
    )
    assert (
        "warning: 1 feed(s) failed; built anyway (osv/NuGet: kept the copy from an earlier run)"
        in lines
    ), run.describe()
    assert any(ln.startswith("updated ") for ln in lines), run.describe()


def test_cli_mirrors_from_env_and_list(server: FeedServer, tmp_path: Path) -> None:
    env = {update.MIRRORS_ENV: " ".join(_mirror_specs(server.url, f"u:{SECRET}"))}
    run = _cli(
        Sandbox(tmp_path / "sb"), "db", "update", "--list", "--feeds", "osv/NuGet,kev", env=env
    )
    assert run.returncode == 0, run.describe()
    assert run.stdout.splitlines() == [
        f"osv/NuGet\t{server.url}/osv/NuGet/all.zip\tosv-dev/NuGet/all.zip",
        f"kev\t{server.url}/cisa/sites/default/files/feeds/known_exploited_vulnerabilities.json\t"
        "cisa-kev/known_exploited_vulnerabilities.json",
    ]
    assert SECRET not in run.stdout + run.stderr
    run = _cli(
        Sandbox(tmp_path / "sb"),
        "db",
        "update",
        "-q",
        "--db",
        tmp_path / "db.sqlite",
        "--feed-dir",
        tmp_path / "feeds",
        "--feeds",
        "kev",
        "--timeout",
        "1",
        env=env,
    )
    assert run.returncode == 0, run.describe()
    assert run.stderr == ""
    assert server.requests(KEV)[0].status == 200


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--mirror", "https://www.cisa.gov"], "expected FROM_URL=TO_URL"),
        (["--feeds", "osv/Nope"], "unknown feed(s) osv/Nope"),
        (["--jobs", "0"], "--jobs"),
    ],
)
def test_cli_usage_errors(tmp_path: Path, args: list[str], needle: str) -> None:
    run = _cli(Sandbox(tmp_path / "sb"), "db", "update", "--feed-dir", tmp_path / "feeds", *args)
    assert_one_line_error(run, 2, needle)
    assert not (tmp_path / "feeds").exists()
