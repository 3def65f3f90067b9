"""The package version, importable without importing ``hullscan`` (whose ``__init__`` names
the facade): report writers below ``hullscan.api`` in the import layers use this."""

__version__ = "0.1.0"
