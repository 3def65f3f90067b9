"""Vulnerability matching: an SBOM and a DB in, findings out (``docs/matching.md``)."""

from hullscan.match.engine import (
    RATING_SCORES,
    choose_severity,
    lookup_for,
    match_sbom,
    primary_id,
    risk_key,
)
from hullscan.match.ranges import Evaluation, evaluate, evaluate_range

__all__ = [
    "RATING_SCORES",
    "Evaluation",
    "choose_severity",
    "evaluate",
    "evaluate_range",
    "lookup_for",
    "match_sbom",
    "primary_id",
    "risk_key",
]
