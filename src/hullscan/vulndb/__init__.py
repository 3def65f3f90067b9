"""The vulnerability database: feed parsers and builder (``build``), the read-only store."""
