"""Writers for scan results (vulnerability reports); SBOM writers are in ``hullscan.report``."""
