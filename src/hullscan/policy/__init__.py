"""Policy: which findings are shown or suppressed, and whether a scan passes (``docs/scanning.md``).

Pure functions over a :class:`~hullscan.model.finding.ScanResult`; the CLI maps the outcome's
``exit_code`` to the process exit code.
"""

from hullscan.policy.gate import (
    SEVERITY_ORDER,
    SORT_KEYS,
    NothingScannedError,
    Policy,
    PolicyOutcome,
    apply_policy,
    check_scannable,
    fails_gate,
    parse_severity,
    parse_severity_list,
    sort_findings,
)
from hullscan.policy.ignore import IgnoreEntry, load_ignorefile, parse_ignorefile
from hullscan.policy.vex import VexStatement, load_vex, parse_vex

__all__ = [
    "SEVERITY_ORDER",
    "SORT_KEYS",
    "IgnoreEntry",
    "NothingScannedError",
    "Policy",
    "VexStatement",
    "PolicyOutcome",
    "apply_policy",
    "check_scannable",
    "fails_gate",
    "load_ignorefile",
    "load_vex",
    "parse_ignorefile",
    "parse_severity",
    "parse_severity_list",
    "parse_vex",
    "sort_findings",
]
