"""NVD CVE API 2.0 JSON -> ``CveSeverity`` (CVSS ratings and CWEs of each CVE).

One envelope for all three shapes NVD serves: an API response for one CVE
(``/rest/json/cves/2.0?cveId=``), an API result page, and a yearly/modified feed file
(``nvdcve-2.0-2025.json[.gz]``): ``{"vulnerabilities": [{"cve": {...}}, ...]}``.

Per CVE: ``metrics.cvssMetricV2``/``V30``/``V31``/``V40`` entries become ``Severity`` records
with ``source`` the metric's ``source``: ``nvd@nist.gov`` -> ``nvd``, CISA's ADP UUID
(``134c704f-...``) -> ``cisa-adp`` (the name ``cve5.py`` gives the same rater), any other CNA
as NVD writes it (an address such as ``secalert@redhat.com``); ``type`` CVSS_V2/V3/V4 from the
vector; ``score`` and ``rating`` **computed** from the vector (``hullscan.vulndb.cvss``: all
99 metrics of the samples agree with NVD's ``baseScore``/``baseSeverity``). A metric whose
vector does not parse is reported as a ``ParseIssue`` and left out (the rest of the CVE is
kept). ``ssvcV203`` metrics are dropped. ``weaknesses`` give ``cwes`` (``CWE-n`` only:
``NVD-CWE-Other``/``NVD-CWE-noinfo`` are not weaknesses). ``published``/``lastModified``
(UTC without an offset in NVD) become RFC 3339. CVEs with ``vulnStatus`` ``Rejected`` are
skipped (they carry no ratings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import msgspec

from hullscan.model.advisory import CveSeverity, ParseIssue, Severity
from hullscan.vulndb.build._native import rfc3339
from hullscan.vulndb.build.containers import read_bounded
from hullscan.vulndb.cvss import parse_or_error

SOURCE = "nvd"
CISA_ADP_UUID = "134c704f-9b21-4f2e-91b3-4a467353bcc0"
_METRIC_KEYS = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2")
CVE_ID = re.compile(r"CVE-\d{4}-\d{4,19}\Z")
CWE_ID = re.compile(r"CWE-\d{1,9}\Z")

_decoder = msgspec.json.Decoder()


def rater(source: object) -> str:
    """The ``Severity.source`` for an NVD metric ``source``."""
    s = source.strip() if isinstance(source, str) else ""
    if s == "nvd@nist.gov":
        return "nvd"
    if s == CISA_ADP_UUID:
        return "cisa-adp"
    return s or "unknown"


def metric_severity(source: str, vector: object) -> Severity | str:
    """A ``Severity`` with the score and rating computed from ``vector``, or why not."""
    r = parse_or_error(vector)
    if isinstance(r, str):
        return r
    assert isinstance(vector, str)
    return Severity(
        source=source, type=r.type, vector=vector.strip(), score=r.score, rating=r.rating
    )


def _cve(obj: dict[str, object], where: str, source: str) -> Iterator[CveSeverity | ParseIssue]:
    cve_id = obj.get("id")
    if not isinstance(cve_id, str) or not CVE_ID.match(cve_id):
        yield ParseIssue(source=source, item=where, error=f"invalid CVE id {str(cve_id)[:60]!r}")
        return
    if obj.get("vulnStatus") == "Rejected":
        return
    severities: list[Severity] = []
    metrics = obj.get("metrics")
    if isinstance(metrics, dict):
        for key in _METRIC_KEYS:
            entries = metrics.get(key)
            if not isinstance(entries, list):
                continue
            for m in entries:
                data = m.get("cvssData") if isinstance(m, dict) else None
                if not isinstance(data, dict):
                    yield ParseIssue(source=source, item=f"{cve_id} {key}", error="no cvssData")
                    continue
                sev = metric_severity(rater(m.get("source")), data.get("vectorString"))
                if isinstance(sev, str):
                    yield ParseIssue(source=source, item=f"{cve_id} {key}", error=sev)
                    continue
                if sev not in severities:
                    severities.append(sev)
    cwes: dict[str, None] = {}
    weaknesses = obj.get("weaknesses")
    if isinstance(weaknesses, list):
        for w in weaknesses:
            descs = w.get("description") if isinstance(w, dict) else None
            for d in descs if isinstance(descs, list) else ():
                value = d.get("value") if isinstance(d, dict) else None
                if isinstance(value, str) and CWE_ID.match(value.strip()):
                    cwes[value.strip()] = None
    yield CveSeverity(
        cve=cve_id,
        severities=tuple(severities),
        cwes=tuple(cwes),
        published=rfc3339(obj.get("published")),
        modified=rfc3339(obj.get("lastModified")),
    )


def parse(data: bytes, name: str, source: str = SOURCE) -> Iterator[CveSeverity | ParseIssue]:
    """Every CVE of one NVD 2.0 document (API response, result page or feed file)."""
    try:
        doc = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        yield ParseIssue(source=source, item=name, error=f"invalid JSON: {exc}")
        return
    vulns = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(vulns, list):
        yield ParseIssue(source=source, item=name, error="not an NVD 2.0 document")
        return
    for i, v in enumerate(vulns):
        obj = v.get("cve") if isinstance(v, dict) else None
        if not isinstance(obj, dict):
            yield ParseIssue(source=source, item=f"{name}[{i}]", error="entry without 'cve'")
            continue
        yield from _cve(obj, f"{name}[{i}]", source)


def read(path: Path, source: str = SOURCE) -> Iterator[CveSeverity | ParseIssue]:
    """Builder entry point (``SourceSpec.read``): a ``.json`` or ``.json.gz`` file."""
    return parse(read_bounded(path), path.name, source)
