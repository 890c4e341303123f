"""The settings tests run services with: small connection pools, so the suite spread over
several processes (and a `make stack` beside it) stays well under PostgreSQL's connection
limit. Child processes get the same bounds from the environment (tests/conftest.py)."""

from __future__ import annotations

from revisit_common.config import Settings

SMALL_POOL = {"db_pool_size": 2, "db_max_overflow": 3}


def make_settings(**values) -> Settings:
    """``Settings(**values)`` with the tests' small pools unless ``values`` names others."""
    return Settings(**{**SMALL_POOL, **values})
