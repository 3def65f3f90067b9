"""Language-ecosystem package analyzers (installed Python and npm packages)."""
