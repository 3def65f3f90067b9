"""CVSS wrapper (``hullscan.vulndb.cvss``): known vectors, invalid input, and the scores
published next to vectors in the real data (NVD 2.0 samples, CVE 5 vulnrichment records).

NVD: every metric agrees (score and rating). Vulnrichment: 375 of 39,440 CNA/ADP metrics
publish a ``baseScore`` that contradicts their own vector; each is classified here as the
publisher's error (temporal or environmental score published as base, or a slip), never ours.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import cvss as cvsslib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.model.advisory import ParseIssue
from hullscan.vulndb.build.containers import iter_tar
from hullscan.vulndb.cvss import (
    CvssScore,
    base_score,
    cvss_type,
    parse_or_error,
    parse_vector,
    rating_for,
    vector_error,
)

V31_LOG4J = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        (V31_LOG4J, ("CVSS_V3", 10.0, "Critical")),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", ("CVSS_V3", 6.5, "Medium")),
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", ("CVSS_V3", 6.2, "Medium")),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:H/A:H", ("CVSS_V3", 8.3, "High")),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", ("CVSS_V3", 0.0, "None")),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", ("CVSS_V2", 7.5, "High")),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", ("CVSS_V2", 4.3, "Medium")),
        ("(AV:N/AC:M/Au:N/C:N/I:P/A:N)", ("CVSS_V2", 4.3, "Medium")),
        ("CVSS:2.0/AV:N/AC:M/Au:N/C:N/I:P/A:N", ("CVSS_V2", 4.3, "Medium")),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            ("CVSS_V4", 9.3, "Critical"),
        ),
        # temporal metrics do not change the base score (Fortinet-style vector)
        (
            "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H/E:P/RL:U/RC:C",
            ("CVSS_V3", 6.7, "Medium"),
        ),
        (f"  {V31_LOG4J}  ", ("CVSS_V3", 10.0, "Critical")),
    ],
)
def test_known_vectors(vector: str, expected: tuple[str, float, str]) -> None:
    assert parse_vector(vector) == expected
    assert vector_error(vector) is None
    assert base_score(vector) == expected[1]
    assert base_score(vector, expected[0]) == expected[1]


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "CVSS:3.1/AV:N",  # base metrics missing
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:X",  # bad value
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",  # duplicate
        "CVSS:3.1/av:n/ac:l/pr:n/ui:n/s:c/c:h/i:h/a:h",  # case matters
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H/",  # trailing slash
        "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",  # no such version
        "CVSS:5.0/AV:N",
        "AV:N/AC:L/Au:N/C:P/I:P",  # v2, A missing
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",  # v4, SA missing
        "HIGH",
        "10.0",
        "CVSS:3.1/" + "AV:N/" * 200,  # too long
    ],
)
def test_invalid_vectors_give_none_and_a_reason(vector: str) -> None:
    assert parse_vector(vector) is None
    reason = vector_error(vector)
    assert reason
    assert "\n" not in reason
    assert len(reason) < 400
    assert base_score(vector) is None


def test_non_strings_and_kind_mismatch() -> None:
    assert parse_vector(None) is None
    assert parse_vector(10.0) is None
    assert "not a string" in (vector_error(["AV:N"]) or "")
    assert base_score(V31_LOG4J, "CVSS_V2") is None
    assert cvss_type("AV:N/AC:L") == "CVSS_V2"
    assert cvss_type("CVSS:4.0/AV:N") == "CVSS_V4"
    assert cvss_type("x") is None


def test_rating_bands() -> None:
    assert [rating_for(s, "CVSS_V3") for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        "None",
        "Low",
        "Low",
        "Medium",
        "Medium",
        "High",
        "High",
        "Critical",
        "Critical",
    ]
    assert [rating_for(s, "CVSS_V2") for s in (0.0, 3.9, 4.0, 6.9, 7.0, 10.0)] == [
        "Low",
        "Low",
        "Medium",
        "Medium",
        "High",
        "High",
    ]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    r = parse_or_error(text)
    assert isinstance(r, CvssScore | str)
    if isinstance(r, CvssScore):
        assert 0.0 <= r.score <= 10.0


_PIECES = [
    "CVSS:3.1/",
    "CVSS:4.0/",
    "CVSS:3.0/",
    "AV:N",
    "AV:X",
    "AC:L",
    "AT:N",
    "PR:N",
    "UI:N",
    "UI:P",
    "S:U",
    "S:C",
    "C:H",
    "I:L",
    "A:N",
    "VC:H",
    "VI:H",
    "VA:H",
    "SC:N",
    "SI:N",
    "SA:N",
    "Au:N",
    "E:P",
    "MAV:N",
    "CR:H",
    "/",
    ":",
    "",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=20))
def test_mutated_vectors_never_raise(pieces: list[str]) -> None:
    vector = "/".join(pieces)
    r = parse_or_error(vector)
    assert isinstance(r, CvssScore | str)


# --- real data ----------------------------------------------------------------------------------


def _vulndata(shared_dir: Path, *parts: str) -> Path:
    p = shared_dir.joinpath("vulndata", *parts)
    if not p.exists():
        pytest.skip(f"{p} absent")
    return p


@pytest.mark.needs_shared
def test_nvd_samples_agree_exactly(shared_dir: Path) -> None:
    root = _vulndata(shared_dir, "samples", "nvd-api-2.0")
    checked = 0
    for f in sorted(root.glob("*/*.json")):
        doc = json.loads(f.read_bytes())
        for v in doc["vulnerabilities"]:
            for key, metrics in v["cve"].get("metrics", {}).items():
                for m in metrics:
                    if "cvssData" not in m:  # ssvcV203
                        continue
                    data = m["cvssData"]
                    r = parse_vector(data["vectorString"])
                    assert r is not None, (f.name, data["vectorString"])
                    assert r.score == data["baseScore"], (f.name, key, data)
                    published = data.get("baseSeverity") or m.get("baseSeverity")
                    assert r.rating.upper() == published, (f.name, key, data)
                    checked += 1
    assert checked == 99


# Vulnrichment metrics whose published baseScore is neither the base, temporal nor
# environmental score of their vector: publisher slips (checked by hand against the FIRST
# formulas for the v3 ones, e.g. CVE-2024-28568: AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H is 6.2,
# CISA-ADP published 8.4; CVE-2024-0095: .../S:C/C:H/I:L/A:H is 9.0, NVIDIA published 4.3).
# The v4 ones: two differ by 0.1 (an earlier v4 calculator), Checkmk's 2.0 vs 5.1 is a slip.
SLIPS = {
    "CVE-2022-46647": "intel",
    "CVE-2023-36860": "intel",
    "CVE-2023-3932": "GitLab",
    "CVE-2023-44154": "Acronis",
    "CVE-2024-0095": "nvidia",
    "CVE-2024-20275": "cisco",
    "CVE-2024-20848": "SamsungMobile",
    "CVE-2024-24552": "NCSC.ch",
    "CVE-2024-28568": "CISA-ADP",
    "CVE-2024-28575": "CISA-ADP",
    "CVE-2024-33509": "fortinet",
    "CVE-2024-36989": "Splunk",
    "CVE-2024-36995": "Splunk",
    "CVE-2024-36997": "Splunk",
    "CVE-2024-38863": "Checkmk",
    "CVE-2024-45323": "fortinet",
    "CVE-2024-46902": "trendmicro",
    "CVE-2024-8642": "eclipse",
    "CVE-2024-9798": "Zowe",
}


def _classify(key: str, m: dict[str, Any], ours: float) -> str:
    published = float(m["baseScore"])
    if published == ours:
        return "agree"
    if key.startswith("cvssV3"):
        _, temporal, environmental = cvsslib.CVSS3(m["vectorString"]).scores()
        if published == float(temporal):
            return "temporal-as-base"
        if published == float(environmental):
            return "environmental-as-base"
    return "slip"


@pytest.mark.needs_shared
@pytest.mark.slow
def test_vulnrichment_scores_every_disagreement_explained(shared_dir: Path) -> None:
    tar = _vulndata(shared_dir, "cve-vulnrichment", "vulnrichment.tar.zst")
    kinds: collections.Counter[tuple[str, str]] = collections.Counter()
    slips: dict[str, str] = {}
    total = 0
    for item in iter_tar(tar, suffixes=(".json",)):
        assert not isinstance(item, ParseIssue)
        doc = json.loads(item[1])
        containers = doc.get("containers", {})
        for c in [containers.get("cna", {}), *containers.get("adp", [])]:
            who = c.get("providerMetadata", {}).get("shortName", "?")
            for metric in c.get("metrics", []):
                for key, m in metric.items():
                    if not key.startswith("cvssV"):
                        continue
                    total += 1
                    r = parse_vector(m["vectorString"])
                    assert r is not None, (doc["cveMetadata"]["cveId"], m["vectorString"])
                    assert r.type == {"2": "CVSS_V2", "3": "CVSS_V3", "4": "CVSS_V4"}[key[5]]
                    kind = _classify(key, m, r.score)
                    kinds[(kind, who)] += 1
                    if kind == "slip":
                        slips[doc["cveMetadata"]["cveId"]] = who
    assert total == 39440
    disagreements = {k: n for k, n in kinds.items() if k[0] != "agree"}
    assert disagreements == {
        ("temporal-as-base", "fortinet"): 243,
        ("temporal-as-base", "GitHub_M"): 3,
        # GitHub's calculator (2023) applied the 3.1 environmental formula for changed scope:
        # 0.1 above the base score for vectors like AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:H/A:H.
        ("environmental-as-base", "GitHub_M"): 110,
        **{("slip", w): n for w, n in collections.Counter(SLIPS.values()).items()},
    }
    assert slips == SLIPS
    assert sum(disagreements.values()) == 375
