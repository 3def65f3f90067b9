"""What every feed parser looks like.

A parser module (one per upstream *format*: ``osv.py``, ``debian_tracker.py``...) exposes pure
functions that take bytes or an already-opened container and yield records. Records are
``Advisory`` (affected-package data), ``KevEntry``/``EpssScore``/``CveSeverity`` (enrichment)
or ``SupportStatus`` (end-of-life data); a record that cannot be used is yielded as a
``ParseIssue`` instead (counted per source by the builder, shown by ``hullscan db info``), so one
bad record never aborts a build and never disappears silently.

Parsers never touch the network and never write files. Containers (``all.zip``, ``*.zip.zst``,
``*.tar.zst``) are opened by :mod:`hullscan.vulndb.build.containers`, which bounds member sizes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from hullscan.model.advisory import (
    Advisory,
    CveSeverity,
    EpssScore,
    KevEntry,
    ParseIssue,
    SupportStatus,
)

Record: TypeAlias = Advisory | KevEntry | EpssScore | CveSeverity | SupportStatus | ParseIssue
Records: TypeAlias = Iterator[Record]

# Largest single upstream record we accept (an OSV JSON, a Red Hat CVE page, a YAML file).
MAX_RECORD_BYTES = 16 * 1024 * 1024
