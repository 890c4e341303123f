"""A rebuild leaves PostgreSQL's planner statistics of the rebuilt tables (rebuild.py): the
consumer's fact lookups are planned for the store as it is, even on a server without
autovacuum; SQLite gets none (they would never be refreshed)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from kpi_service import projection, rebuild
from kpi_service.models import AGGREGATES, facts
from revisit_common.db import Database
from tests.support.kpi.scenario import Visit
from tests.support.kpi.stores import BACKENDS, one_store

REBUILT = sorted(table.name for table in (facts, *AGGREGATES))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    with one_store(request, tmp_path, "rebuilt") as db:
        yield db


def _analyzed(db: Database) -> list[str]:
    """The rebuilt tables the database holds planner statistics of."""
    with db.read() as session:
        if db.is_postgres:
            query = "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()"
        else:
            known = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            if not session.execute(sa.text(known)).scalar():
                return []
            query = "SELECT DISTINCT tbl FROM sqlite_stat1"
        return sorted(set(session.execute(sa.text(query)).scalars()) & set(REBUILT))


def test_a_rebuild_analyzes_the_tables_it_rebuilt_on_postgres_only(db):
    events = Visit("v-1", "periodic", "li.wei", "east", date(2026, 11, 2)).events("a")
    with db.transaction() as session:
        projection.record(session, events)
    assert _analyzed(db) == []

    assert rebuild.rebuild(db) == len(events)

    assert _analyzed(db) == (REBUILT if db.is_postgres else [])
