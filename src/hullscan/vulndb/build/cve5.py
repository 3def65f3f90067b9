"""CVE JSON 5.x records (CVEProject/cvelistV5, cisagov/vulnrichment) -> ``CveSeverity``.

Per ``PUBLISHED`` record (``REJECTED`` ones are skipped: no ratings), one ``CveSeverity``:

* ``severities``: every ``cvssV4_0``/``cvssV3_1``/``cvssV3_0``/``cvssV2_0`` metric of the CNA
  container (``source`` = the CNA's ``providerMetadata.shortName`` as written: ``redhat``,
  ``GitHub_M``, ``mitre``...) and of each ADP container (CISA's vulnrichment ADP, shortName
  ``CISA-ADP`` -> ``cisa-adp``; another ADP keeps its shortName). Score and rating are
  **computed** from the vector (``hullscan.vulndb.cvss``), not copied: of 39,440 metrics in
  the vulnrichment snapshot, 375 published ``baseScore`` values contradict their own vector
  (Fortinet publishes the temporal score, GitHub's 2023 calculator used the 3.1 environmental
  formula for changed scope, plus 19 slips), and a matcher must not depend on which CNA made
  the mistake. A vector that does not parse is a ``ParseIssue`` and is left out.
* ``cwes``: ``problemTypes[].descriptions[]`` of the CNA and ADP containers: ``cweId``, or a
  description of ``type: CWE`` that starts with ``CWE-n``.
* ``published``/``modified``: ``cveMetadata.datePublished``/``dateUpdated``.

Dropped, on purpose: SSVC decisions (the ADP's ``other.type == "ssvc"``: ``Exploitation``,
``Automatable``, ``Technical Impact``) have no place in the model and are not used for
matching or ranking; the ADP's KEV flag (``other.type == "kev"``, 224 records) because
``KevEntry`` comes only from CISA's KEV feed (``kev.py``), which is authoritative and newer:
of the 224 flagged CVEs, 222 are in the 2026 catalog; CVE-2021-4043 and CVE-2024-43491 are in
neither the 2025 nor the 2026 copy, and CVE-2019-1069's flag carries the date of the ADP's
enrichment (2024-09-18), not the catalog's ``dateAdded`` (2022-03-15). CNA ``other`` ratings
(free text such as OpenSSL's ``Low``, Red Hat's severity) are not CVSS and not comparable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import msgspec

from hullscan.model.advisory import CveSeverity, ParseIssue, Severity
from hullscan.vulndb.build._native import rfc3339
from hullscan.vulndb.build.containers import iter_tar, iter_zip, read_bounded
from hullscan.vulndb.build.feed import MAX_RECORD_BYTES
from hullscan.vulndb.build.nvd import CVE_ID, metric_severity

SOURCE = "cve5"
_CVSS_KEYS = ("cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0")
_CWE = re.compile(r"CWE-\d{1,9}\b")
_NAME = re.compile(r"(?:.*/)?CVE-\d{4}-\d{4,19}\.json\Z")

_decoder = msgspec.json.Decoder()


def _rater(container: dict[str, object], default: str) -> str:
    meta = container.get("providerMetadata")
    name = meta.get("shortName") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name.strip():
        return default
    return "cisa-adp" if name.strip() == "CISA-ADP" else name.strip()


def _container(
    c: object,
    default: str,
    severities: list[Severity],
    cwes: dict[str, None],
    issues: list[str],
) -> None:
    if not isinstance(c, dict):
        return
    source = _rater(c, default)
    metrics = c.get("metrics")
    for m in metrics if isinstance(metrics, list) else ():
        if not isinstance(m, dict):
            continue
        for key in _CVSS_KEYS:
            data = m.get(key)
            if data is None:
                continue
            vector = data.get("vectorString") if isinstance(data, dict) else None
            sev = metric_severity(source, vector)
            if isinstance(sev, str):
                issues.append(f"{source} {key}: {sev}")
            elif sev not in severities:
                severities.append(sev)
    problem_types = c.get("problemTypes")
    for pt in problem_types if isinstance(problem_types, list) else ():
        descs = pt.get("descriptions") if isinstance(pt, dict) else None
        for d in descs if isinstance(descs, list) else ():
            if not isinstance(d, dict):
                continue
            cwe = d.get("cweId")
            if isinstance(cwe, str) and (m2 := _CWE.fullmatch(cwe.strip())):
                cwes[m2.group(0)] = None
                continue
            desc = d.get("description")
            is_cwe = str(d.get("type", "")).upper() == "CWE" and isinstance(desc, str)
            if is_cwe and isinstance(desc, str) and (m3 := _CWE.match(desc.strip())):
                cwes[m3.group(0)] = None


def parse_record(
    data: bytes, name: str, source: str = SOURCE
) -> Iterator[CveSeverity | ParseIssue]:
    """One CVE record: its ``CveSeverity`` (nothing for a rejected one), then one
    ``ParseIssue`` per metric that could not be used."""
    try:
        doc = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        yield ParseIssue(source=source, item=name, error=f"invalid JSON: {exc}")
        return
    meta = doc.get("cveMetadata") if isinstance(doc, dict) else None
    if not isinstance(meta, dict):
        yield ParseIssue(source=source, item=name, error="not a CVE 5 record (no cveMetadata)")
        return
    cve_id = meta.get("cveId")
    if not isinstance(cve_id, str) or not CVE_ID.match(cve_id):
        yield ParseIssue(source=source, item=name, error=f"invalid cveId {str(cve_id)[:60]!r}")
        return
    if meta.get("state") != "PUBLISHED":
        return
    containers = doc.get("containers")
    if not isinstance(containers, dict):
        yield ParseIssue(source=source, item=cve_id, error="published record without containers")
        return
    severities: list[Severity] = []
    cwes: dict[str, None] = {}
    issues: list[str] = []
    _container(containers.get("cna"), "cna", severities, cwes, issues)
    adps = containers.get("adp")
    for adp in adps if isinstance(adps, list) else ():
        _container(adp, "adp", severities, cwes, issues)
    yield CveSeverity(
        cve=cve_id,
        severities=tuple(severities),
        cwes=tuple(cwes),
        published=rfc3339(meta.get("datePublished")),
        modified=rfc3339(meta.get("dateUpdated")),
    )
    for issue in issues:
        yield ParseIssue(source=source, item=cve_id, error=issue)


def read(path: Path, source: str = SOURCE) -> Iterator[CveSeverity | ParseIssue]:
    """Builder entry point (``SourceSpec.read``): a ``.tar[.zst|.gz]`` or ``.zip[.zst]`` of
    records (the cvelistV5 / vulnrichment layout ``YYYY/Nxxx/CVE-*.json``), or one record."""
    n = path.name
    if n.endswith(".json"):
        yield from parse_record(read_bounded(path, MAX_RECORD_BYTES), n, source)
        return
    members = (
        iter_zip(path, suffixes=(".json",), source=source)
        if n.endswith((".zip", ".zip.zst"))
        else iter_tar(path, suffixes=(".json",), source=source)
    )
    for item in members:
        if isinstance(item, ParseIssue):
            yield item
        elif _NAME.match(item[0]):  # skips delta.json, deltaLog.json, schema files...
            yield from parse_record(item[1], item[0], source)
