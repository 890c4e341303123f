"""Fixtures shared by the tests of revisit_common."""

from __future__ import annotations

import pytest

from tests.support.outbox import outbox_database_of
from tests.support.webhooks import DATABASES


@pytest.fixture(params=DATABASES)
def db(request, tmp_path):
    """A database holding the outbox (and the tables of its metadata: ``notes`` of
    test_outbox_rows), on SQLite and on PostgreSQL (a test module's own ``db`` comes
    first)."""
    with outbox_database_of(request, tmp_path, "outbox") as db:
        yield db
