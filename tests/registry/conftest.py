"""Registry fixtures for the tests in this directory (defined in ``fixtures.py``)."""

from tests.registry.fixtures import *  # noqa: F403
