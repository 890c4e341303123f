"""Competing KPI consumers creating the same fact (tenant_locks.lock_facts) on a real
PostgreSQL: the second transaction waits for the first to commit and then finds the fact,
instead of failing on its primary key (which made the consumer apply its whole batch again
one event at a time); the store ends as one transaction applying both events builds. A
rebuild's replay takes no fact locks."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from kpi_service import projection, tenant_locks
from kpi_service.models import AGGREGATES, facts
from revisit_common.db import Database
from tests.support.kpi.scenario import Visit
from tests.support.kpi.stores import on_postgres, stores
from tests.support.polling import wait_until

pytestmark = pytest.mark.services

TENANT = "tenant-fact-locks"


@pytest.fixture
def databases(postgres_url, postgres_schemas):
    """Fresh KPI stores on PostgreSQL, each in a schema of its own."""
    with stores(on_postgres(postgres_url, postgres_schemas)) as make:
        yield make


def _store(db: Database) -> dict:
    with db.read() as session:
        out = {t.name: sorted(tuple(r) for r in session.execute(sa.select(t))) for t in AGGREGATES}
        out["facts"] = sorted(
            (r.tenant_id, r.kind, r.entity_id, json.dumps(r.state), json.dumps(r.applied))
            for r in session.execute(sa.select(facts))
        )
    return out


def _advisory_waits(db: Database) -> int:
    query = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with db.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def test_a_second_transaction_creating_the_same_fact_waits_and_finds_it(databases):
    scheduled, completed = Visit(
        "v-locks", "periodic", "li.wei", "east", date(2026, 11, 2), status="completed"
    ).events(TENANT)
    db, alone = databases("competing"), databases("alone")
    with alone.transaction() as session:
        projection.record(session, [scheduled, completed])
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with db.transaction() as session:
                projection.record(session, [completed])
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    thread = threading.Thread(target=second)
    with db.transaction() as session:
        projection.record(session, [scheduled])  # creates the fact, not yet committed
        thread.start()
        wait_until(lambda: _advisory_waits(db) >= 1, timeout=10, message="the second waiting")
        assert thread.is_alive()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert errors == []
    assert _store(db) == _store(alone)


def test_fact_keys_are_stable_and_apart_from_the_tenants():
    fact = (TENANT, "visit", "v-1")
    a, b = tenant_locks.fact_key(fact)
    assert (a, b) == tenant_locks.fact_key(fact)
    assert all(-(2**31) <= n < 2**31 for n in (a, b))
    assert tenant_locks.fact_key((TENANT, "visit", "v-2")) != (a, b)
    assert tenant_locks.fact_key((TENANT, "visitv", "-1")) != (a, b)  # fields stay apart


def _thirty_visits() -> list:
    """The events of 30 visits of the tenant: 30 facts."""
    return [
        e
        for n in range(30)
        for e in Visit(f"v-{n}", "periodic", None, "east", date(2026, 11, 2)).events(TENANT)
    ]


def test_a_rebuild_takes_no_fact_locks(databases):
    db = databases("rebuilt")
    events = _thirty_visits()
    held = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    with db.transaction() as session:
        projection.project(session, events)
        tenant_only = session.execute(held).scalar_one()
    with db.transaction() as session:
        projection.record(session, events)
        with_facts = session.execute(held).scalar_one()
    assert tenant_only == 1
    assert with_facts == 1 + 30


def test_beyond_the_fact_lock_limit_the_tenants_are_locked_exclusively(databases, monkeypatch):
    monkeypatch.setattr(tenant_locks, "MAX_FACT_LOCKS", 10)
    db = databases("seeded")
    events = _thirty_visits()
    held = sa.text(
        "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    with db.transaction() as session:
        projection.record(session, events)
        modes = list(session.execute(held).scalars())
    assert modes == ["ExclusiveLock"]  # the tenant's, and no fact's
