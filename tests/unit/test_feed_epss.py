"""EPSS parser (``hullscan.vulndb.build.epss``): the live CSV layout (samples) and the derived
per-year layout (epss-emba-derived, 28 files, 360,142 rows)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import EpssScore, ParseIssue
from hullscan.vulndb.build import epss
from hullscan.vulndb.build.containers import iter_tar


def _path(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.is_file():
        pytest.skip(f"{p} absent")
    return p


@pytest.mark.needs_shared
def test_live_layout_samples(shared_dir: Path) -> None:
    data = _path(shared_dir, "samples", "epss-csv", "example-1.csv").read_bytes()
    meta, records = epss.parse(data, "example-1.csv")
    assert meta == {"model_version": "v2023.03.01", "score_date": "2025-02-20T00:00:00+0000"}
    rows = list(records)
    assert rows == [
        EpssScore("CVE-1999-0001", 0.00383, 0.73075),
        EpssScore("CVE-1999-0002", 0.01328, 0.85996),
        EpssScore("CVE-1999-0003", 0.04409, 0.92440),
        EpssScore("CVE-1999-0004", 0.00917, 0.82963),
        EpssScore("CVE-1999-0005", 0.91963, 0.99214),
    ]
    claircore = _path(shared_dir, "samples", "epss-csv", "claircore-data.csv")
    rows2 = list(epss.read(claircore))
    assert len(rows2) == 29
    assert all(isinstance(r, EpssScore) for r in rows2)
    assert epss.parse(claircore.read_bytes())[0]["score_date"] == "2024-10-25T00:00:00+0000"


@pytest.mark.needs_shared
def test_derived_layout_counts_and_log4shell(shared_dir: Path) -> None:
    tar = _path(shared_dir, "epss-emba-derived", "EPSS_CVE_data.tar.zst")
    files = [i for i in iter_tar(tar, suffixes=(".csv",)) if not isinstance(i, ParseIssue)]
    assert len(files) == 28
    assert epss.parse(files[0][1])[0] == {}  # no comment line in this layout
    t0 = time.perf_counter()
    rows = list(epss.read(tar))
    seconds = time.perf_counter() - t0
    assert not [r for r in rows if isinstance(r, ParseIssue)]
    assert len(rows) == 360142
    by_cve = {r.cve: r for r in rows if isinstance(r, EpssScore)}
    assert len(by_cve) == 360142
    assert by_cve["CVE-2021-44228"] == EpssScore("CVE-2021-44228", 0.99999, 1.0)
    assert by_cve["CVE-2021-47987"] == EpssScore("CVE-2021-47987", 0.0012, 0.02168)
    print(f"epss: {len(rows) / seconds:,.0f} rows/s")


def test_bad_rows_are_issues() -> None:
    data = (
        b"#model_version:v1,score_date:2025-01-01T00:00:00+0000\n"
        b"cve,epss,percentile\n"
        b"CVE-2024-0001,0.5,0.9\n"
        b"CVE-2024-0002,1.5,0.9\n"
        b"CVE-2024-0003,nan,0.9\n"
        b"CVE-24-1,0.1,0.1\n"
        b"CVE-2024-0004,0.1\n"
        b"\n"
        b"CVE-2024-0005;0.25;0.5\n"
    )
    meta, records = epss.parse(data, "x.csv")
    out = list(records)
    assert meta == {"model_version": "v1", "score_date": "2025-01-01T00:00:00+0000"}
    assert out[0] == EpssScore("CVE-2024-0001", 0.5, 0.9)
    assert [type(r).__name__ for r in out] == ["EpssScore"] + ["ParseIssue"] * 4 + ["EpssScore"]
    assert [r.item for r in out if isinstance(r, ParseIssue)] == [
        f"x.csv:{n}" for n in (4, 5, 6, 7)
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="CVE-0123456789.,;#:e \tnaif", max_size=40)
        | st.sampled_from(["cve,epss,percentile", "#model_version:v", "CVE-2024-0001,0.1,0.2"]),
        max_size=8,
    )
)
def test_arbitrary_lines(lines: list[str]) -> None:
    _, records = epss.parse("\n".join(lines).encode())
    for r in records:
        assert isinstance(r, EpssScore | ParseIssue)
        if isinstance(r, EpssScore):
            assert 0.0 <= r.epss <= 1.0
            assert 0.0 <= r.percentile <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    for r in epss.parse(data)[1]:
        assert isinstance(r, EpssScore | ParseIssue)


def test_live_gzip_file(tmp_path: Path) -> None:
    import gzip

    f = tmp_path / "epss_scores-2025-02-20.csv.gz"
    f.write_bytes(
        gzip.compress(
            b"#model_version:v2025.03.14,score_date:2025-03-20T12:55:00Z\n"
            b"cve,epss,percentile\nCVE-2025-0001,0.00043,0.11\n"
        )
    )
    assert list(epss.read(f)) == [EpssScore("CVE-2025-0001", 0.00043, 0.11)]
