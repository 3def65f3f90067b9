"""CISA Known Exploited Vulnerabilities catalog -> ``KevEntry``.

Two layouts of the same catalog: the JSON feed (``known_exploited_vulnerabilities.json``:
``catalogVersion``, ``dateReleased``, ``count``, ``vulnerabilities[]``; official schema in
cisagov/kev-data) and the CSV feed (``known_exploited_vulnerabilities.csv``: one header line,
the same field names as columns). Fields used: ``cveID``, ``dateAdded``, ``dueDate``,
``vendorProject``, ``product``, ``vulnerabilityName``, ``knownRansomwareCampaignUse``
(``Known`` -> True; ``Unknown`` means "not confirmed", not "no": None). Not kept:
``shortDescription``, ``requiredAction``, ``notes``, ``cwes`` (CWEs come with the CVE ratings).

:func:`parse_json` / :func:`parse_csv` return ``(meta, records)``: ``meta`` has the
catalog's ``catalogVersion``/``dateReleased``/``count`` (JSON only; ``{}`` for CSV). An entry
that cannot be used is a ``ParseIssue``; so is a ``count`` that disagrees with the entries.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import msgspec

from hullscan.model.advisory import KevEntry, ParseIssue
from hullscan.vulndb.build.containers import read_bounded

SOURCE = "cisa-kev"
CVE_ID = re.compile(r"CVE-\d{4}-\d{4,19}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")

_decoder = msgspec.json.Decoder()

KevRecords = Iterator[KevEntry | ParseIssue]


def _text(v: object) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _date(v: object) -> str | None:
    t = _text(v)
    return t if t and _DATE.match(t) else None


def entry(v: Mapping[str, object], item: str, source: str = SOURCE) -> KevEntry | ParseIssue:
    """One catalog entry (a JSON object or a CSV row)."""
    cve = _text(v.get("cveID"))
    if cve is None or not CVE_ID.match(cve):
        return ParseIssue(source=source, item=item, error=f"invalid cveID {str(cve)[:60]!r}")
    added = _date(v.get("dateAdded"))
    if added is None:
        return ParseIssue(source=source, item=cve, error="no valid dateAdded")
    ransomware = _text(v.get("knownRansomwareCampaignUse"))
    return KevEntry(
        cve=cve,
        date_added=added,
        due_date=_date(v.get("dueDate")),
        vendor=_text(v.get("vendorProject")),
        product=_text(v.get("product")),
        name=_text(v.get("vulnerabilityName")),
        known_ransomware=True if ransomware and ransomware.lower() == "known" else None,
    )


def parse_json(
    data: bytes, name: str = "kev.json", source: str = SOURCE
) -> tuple[dict[str, str], KevRecords]:
    """``(meta, records)`` of the JSON feed."""
    try:
        doc = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        return {}, iter([ParseIssue(source=source, item=name, error=f"invalid JSON: {exc}")])
    vulns = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(vulns, list):
        return {}, iter([ParseIssue(source=source, item=name, error="not a KEV catalog")])
    meta = {
        k: str(doc[k])
        for k in ("catalogVersion", "dateReleased", "count", "title")
        if isinstance(doc.get(k), str | int)
    }

    def records() -> KevRecords:
        for i, v in enumerate(vulns):
            if isinstance(v, dict):
                yield entry(v, f"{name}[{i}]", source)
            else:
                yield ParseIssue(source=source, item=f"{name}[{i}]", error="not an object")
        count = doc.get("count")
        if isinstance(count, int) and count != len(vulns):
            yield ParseIssue(
                source=source, item=name, error=f"count says {count}, {len(vulns)} entries"
            )

    return meta, records()


def parse_csv(
    data: bytes, name: str = "kev.csv", source: str = SOURCE
) -> tuple[dict[str, str], KevRecords]:
    """``(meta, records)`` of the CSV feed (``meta`` is empty: the CSV has no header)."""

    def records() -> KevRecords:
        text = data.decode("utf-8-sig", "replace")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames or "cveID" not in reader.fieldnames:
            yield ParseIssue(source=source, item=name, error="no cveID column")
            return
        try:
            for row in reader:
                yield entry(row, f"{name}:{reader.line_num}", source)
        except csv.Error as exc:
            yield ParseIssue(source=source, item=f"{name}:{reader.line_num}", error=str(exc))

    return {}, records()


def read(path: Path, source: str = SOURCE) -> KevRecords:
    """Builder entry point (``SourceSpec.read``): ``.json[.gz]`` or ``.csv[.gz]``."""
    data = read_bounded(path)
    is_csv = path.name.removesuffix(".gz").endswith(".csv")
    _, records = (parse_csv if is_csv else parse_json)(data, path.name, source)
    return records
