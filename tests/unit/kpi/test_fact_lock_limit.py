"""A consumer batch as large as the default prefetch allows keeps its per-fact locks
(``tenant_locks.MAX_FACT_LOCKS``): its tenants stay locked shared, so competing consumers of
the same tenants apply at once instead of taking turns. PostgreSQL only (SQLite has a
single writer and takes no locks)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from kpi_service import projection
from tests.support.kpi.scenario import Visit
from tests.support.kpi.stores import on_postgres, stores

pytestmark = pytest.mark.services

TENANT = "tenant-fact-lock-limit"
# Facts a consumer batch of 800 events can feed (a batch is at most half the prefetch).
FACTS = 800

HELD = sa.text(
    "SELECT mode, count(*) FROM pg_locks WHERE locktype = 'advisory' "
    "AND pid = pg_backend_pid() GROUP BY mode ORDER BY mode"
)


@pytest.fixture
def db(postgres_url, postgres_schemas):
    with stores(on_postgres(postgres_url, postgres_schemas)) as make:
        yield make("limit")


def test_a_batch_of_800_facts_locks_each_fact_and_its_tenant_shared(db):
    events = [
        e
        for n in range(FACTS)
        for e in Visit(f"v-{n}", "periodic", None, "east", date(2026, 11, 2)).events(TENANT)
    ]
    assert len(events) == FACTS  # one event (scheduled) per visit: one fact each
    with db.transaction() as session:
        projection.record(session, events)
        held = dict(session.execute(HELD).all())
    assert held == {"ExclusiveLock": FACTS, "ShareLock": 1}
