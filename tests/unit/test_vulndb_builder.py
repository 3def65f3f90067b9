"""DB builder and store: dedupe, withdrawn carry-over, atomic replace, refusal of foreign files."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullscan.model.advisory import (
    Advisory,
    Affected,
    AffectedRange,
    EpssScore,
    KevEntry,
    ParseIssue,
    RangeEvent,
    SupportStatus,
)
from hullscan.vulndb.build.builder import SourceSpec, build_db
from hullscan.vulndb.build.feed import Record
from hullscan.vulndb.schema import SCHEMA_VERSION
from hullscan.vulndb.store import DbError, VulnStore


def _adv(
    adv_id: str, modified: str, *, withdrawn: str | None = None, pkg: str = "demo"
) -> Advisory:
    return Advisory(
        id=adv_id,
        source="test",
        aliases=("CVE-2024-0001",),
        modified=modified,
        withdrawn=withdrawn,
        affected=(
            Affected(
                namespace="pypi",
                package=pkg,
                scheme="pypi",
                fix_state="fixed",
                fixed_version="1.2",
                ranges=(
                    AffectedRange(
                        events=(RangeEvent("introduced", "0"), RangeEvent("fixed", "1.2"))
                    ),
                ),
            ),
        ),
    )


def _reader(path: Path, source: str) -> Iterator[Record]:
    """Test feed format: one JSON list per file, each item a tagged record."""
    for item in json.loads(path.read_text()):
        kind = item.pop("kind")
        if kind == "adv":
            yield _adv(**item)
        elif kind == "issue":
            yield ParseIssue(source=source, item=item["item"], error="bad record")
        elif kind == "kev":
            yield KevEntry(cve=item["cve"], date_added="2021-12-10")
        elif kind == "epss":
            yield EpssScore(item["cve"], 0.97, 0.999)
        elif kind == "support":
            yield SupportStatus(namespace="debian:10", state="ended", eol="2022-09-10")
        elif kind == "boom":
            raise KeyboardInterrupt  # a build killed half-way


def _feeds(tmp: Path, files: dict[str, list[dict[str, object]]]) -> Path:
    root = tmp / "feeds"
    for name, items in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(items))
    return root


SPECS = [
    SourceSpec("bundle", "bundle/*.json", _reader, group="osv"),
    SourceSpec("native", "native/*.json", _reader, group="osv"),
    SourceSpec("tracker", "tracker/*.json", _reader),
]


def test_build_and_lookup(tmp_path: Path) -> None:
    feeds = _feeds(
        tmp_path,
        {
            "bundle/a.json": [
                {"kind": "adv", "adv_id": "GHSA-1", "modified": "2024-01-01T00:00:00Z"},
                {"kind": "issue", "item": "GHSA-bad.json"},
                {"kind": "kev", "cve": "CVE-2024-0001"},
                {"kind": "epss", "cve": "CVE-2024-0001"},
                {"kind": "support"},
            ]
        },
    )
    report = build_db(feeds, tmp_path / "db.sqlite", SPECS)
    assert report.advisories == 1
    assert report.affected == 1
    stats = {s.name: s for s in report.sources}
    assert (stats["bundle"].records, stats["bundle"].issues) == (4, 1)
    assert stats["native"].records == 0
    with VulnStore(tmp_path / "db.sqlite") as store:
        (m,) = store.affected("pypi", "demo")
        assert m.advisory.id == "GHSA-1"
        assert m.affected.fixed_version == "1.2"
        assert m.affected.ranges[0].events[1] == RangeEvent("fixed", "1.2")
        assert store.ids_for_alias("CVE-2024-0001") == ["GHSA-1"]
        assert store.kev("CVE-2024-0001") is not None
        assert store.epss("CVE-2024-0001") == EpssScore("CVE-2024-0001", 0.97, 0.999)
        assert store.support("debian:10")[0].eol == "2022-09-10"
        assert list(store.issues("bundle")) == [("bundle", "GHSA-bad.json", "bad record")]
        assert store.meta["schema_version"] == str(SCHEMA_VERSION)
        full = store.advisory("GHSA-1")
        assert full is not None and len(full.affected) == 1


def test_newest_copy_wins_and_withdrawn_is_kept_from_any_copy(tmp_path: Path) -> None:
    feeds = _feeds(
        tmp_path,
        {
            # the mirrored bundle: newer, but lost 'withdrawn'; names another package
            "bundle/a.json": [
                {"kind": "adv", "adv_id": "GO-1", "modified": "2024-02-01T00:00:00Z", "pkg": "new"},
                {"kind": "adv", "adv_id": "GO-2", "modified": "2024-01-01T00:00:00Z"},
            ],
            # the native export: older copy of GO-1 with withdrawn; newer GO-2 with withdrawn
            "native/b.json": [
                {
                    "kind": "adv",
                    "adv_id": "GO-1",
                    "modified": "2024-01-01T00:00:00Z",
                    "withdrawn": "2024-01-05T00:00:00Z",
                    "pkg": "old",
                },
                {
                    "kind": "adv",
                    "adv_id": "GO-2",
                    "modified": "2024-03-01T00:00:00Z",
                    "withdrawn": "2024-03-01T00:00:00Z",
                },
            ],
        },
    )
    build_db(feeds, tmp_path / "db.sqlite", SPECS)
    with VulnStore(tmp_path / "db.sqlite") as store:
        go1 = store.advisory("GO-1")
        assert go1 is not None
        assert [a.package for a in go1.affected] == ["new"]  # newest content
        assert go1.withdrawn == "2024-01-05T00:00:00Z"  # withdrawal from the other copy
        assert store.affected("pypi", "old") == []
        go2 = store.advisory("GO-2")
        assert go2 is not None and go2.withdrawn == "2024-03-01T00:00:00Z"
        assert len(store.affected("pypi", "demo")) == 1  # the replaced copy's rows are gone


def test_same_id_in_another_group_is_another_statement_and_repeats_merge(
    tmp_path: Path,
) -> None:
    feeds = _feeds(
        tmp_path,
        {
            "bundle/a.json": [{"kind": "adv", "adv_id": "CVE-1", "modified": "2024", "pkg": "a"}],
            # one source repeating an id (a secdb per branch): entries merge, duplicates once
            "tracker/3.18.json": [{"kind": "adv", "adv_id": "CVE-1", "modified": "", "pkg": "b"}],
            "tracker/3.19.json": [
                {"kind": "adv", "adv_id": "CVE-1", "modified": "", "pkg": "c"},
                {"kind": "adv", "adv_id": "CVE-1", "modified": "", "pkg": "b"},
            ],
        },
    )
    report = build_db(feeds, tmp_path / "db.sqlite", SPECS)
    assert report.advisories == 2 and report.affected == 3
    with VulnStore(tmp_path / "db.sqlite") as store:
        both = store.advisories("CVE-1")
        assert [sorted(x.package for x in a.affected) for a in both] == [["a"], ["b", "c"]]
        assert len(store.affected("pypi", "b")) == 1


def test_killed_build_keeps_the_previous_db(tmp_path: Path) -> None:
    good = _feeds(
        tmp_path, {"bundle/a.json": [{"kind": "adv", "adv_id": "A-1", "modified": "2024"}]}
    )
    out = tmp_path / "db.sqlite"
    build_db(good, out, SPECS)
    reader = VulnStore(out)  # a scan that opened the old DB
    bad = _feeds(tmp_path / "x", {"bundle/a.json": [{"kind": "boom"}]})
    with pytest.raises(KeyboardInterrupt):
        build_db(bad, out, SPECS)
    assert [p.name for p in tmp_path.iterdir() if "building" in p.name] == []
    with VulnStore(out) as store:
        assert store.advisory("A-1") is not None
    # A rebuild replaces the file; the store opened before keeps its (old) view.
    newer = _feeds(
        tmp_path / "y", {"bundle/a.json": [{"kind": "adv", "adv_id": "B-1", "modified": "2025"}]}
    )
    build_db(newer, out, SPECS)
    assert reader.advisory("A-1") is not None and reader.advisory("B-1") is None
    reader.close()
    with VulnStore(out) as store:
        assert store.advisory("B-1") is not None and store.advisory("A-1") is None


def test_store_refuses_missing_foreign_and_future_files(tmp_path: Path) -> None:
    with pytest.raises(DbError, match="no vulnerability DB"):
        VulnStore(tmp_path / "absent.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(DbError, match="not a hullscan vulnerability DB"):
        VulnStore(junk)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(DbError, match="not a hullscan vulnerability DB"):
        VulnStore(other)
    feeds = _feeds(tmp_path, {"bundle/a.json": []})
    future = tmp_path / "future.sqlite"
    build_db(feeds, future, SPECS)
    con = sqlite3.connect(future)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(DbError, match="schema version 999 is not supported"):
        VulnStore(future)


# --- export / import ---------------------------------------------------------------------


def test_export_import_round_trip_and_refusals(tmp_path: Path) -> None:
    from hullscan.vulndb.manage import db_info, export_db, import_db

    feeds = _feeds(
        tmp_path, {"bundle/a.json": [{"kind": "adv", "adv_id": "A-1", "modified": "2024"}]}
    )
    src = tmp_path / "src.sqlite"
    build_db(feeds, src, SPECS)
    archive = tmp_path / "db.zst"
    assert export_db(src, archive) < src.stat().st_size
    dest = tmp_path / "host" / "db.sqlite"
    info = import_db(archive, dest)
    assert info.counts["advisories"] == 1
    assert db_info(dest).schema_version == str(SCHEMA_VERSION)
    before = dest.read_bytes()
    # Garbage, a truncated export, and a foreign SQLite file are refused; the DB is unchanged.
    junk = tmp_path / "junk.zst"
    junk.write_bytes(b"\x28\xb5\x2f\xfd" + b"garbage" * 50)
    truncated = tmp_path / "trunc.zst"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    foreign_db = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign_db).execute("CREATE TABLE x (y)").connection.close()
    foreign = tmp_path / "foreign.zst"
    export_src = foreign_db.read_bytes()
    import zstandard

    foreign.write_bytes(zstandard.ZstdCompressor().compress(export_src))
    for bad in (junk, truncated, foreign, tmp_path / "absent.zst"):
        with pytest.raises(DbError):
            import_db(bad, dest)
        assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["db.sqlite"]


def test_import_is_bounded(tmp_path: Path) -> None:
    from hullscan.vulndb.manage import export_db, import_db

    feeds = _feeds(tmp_path, {"bundle/a.json": []})
    src = tmp_path / "src.sqlite"
    build_db(feeds, src, SPECS)
    archive = tmp_path / "db.zst"
    export_db(src, archive)
    with pytest.raises(DbError, match="decompresses to more than"):
        import_db(archive, tmp_path / "dest.sqlite", max_bytes=10)
    assert not (tmp_path / "dest.sqlite").exists()


def test_unparsable_versions_are_kept_with_the_problem_recorded(tmp_path: Path) -> None:
    bad = Advisory(
        id="PYSEC-X",
        source="t",
        affected=(
            Affected(
                namespace="pypi",
                package="demo",
                scheme="pypi",
                fix_state="fixed",
                fixed_version="0.9-stable",
                ranges=(
                    AffectedRange(
                        events=(RangeEvent("introduced", "0"), RangeEvent("fixed", "0.9-stable"))
                    ),
                ),
            ),
        ),
    )

    def reader(path: Path, source: str) -> Iterator[Record]:
        yield bad
        yield _adv("GHSA-OK", "2024")

    feeds = _feeds(tmp_path, {"x/a.json": []})
    build_db(feeds, tmp_path / "db.sqlite", [SourceSpec("x", "x/*.json", reader)])
    with VulnStore(tmp_path / "db.sqlite") as store:
        problems = {m.advisory.id: m.affected.problem for m in store.affected("pypi", "demo")}
    assert problems["GHSA-OK"] is None
    assert problems["PYSEC-X"] == "version(s) not valid for scheme pypi: '0.9-stable'"
