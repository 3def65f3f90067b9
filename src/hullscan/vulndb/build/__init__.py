"""Turning upstream feeds into the DB. Never imported by matchers or analyzers."""
