"""The inbox: a batch of events claimed for a consumer in one statement; an id already
claimed (a redelivery, or a second copy in the same batch) is not claimed again; the claims
roll back with the handlers' transaction; the rows stored are those SQLAlchemy would store.
On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from revisit_common.db import Database
from revisit_common.events import TenantSettingsChanged
from revisit_common.messaging.envelope import wrap
from revisit_common.messaging.inbox import claim, inbox_table
from tests.support.tables import tables_database
from tests.support.webhooks import DATABASES


@pytest.fixture(params=DATABASES)
def database(request, tmp_path):
    with tables_database(request, tmp_path, "inbox", inbox_table.metadata) as database:
        yield database


def envelope(version: int = 1):
    event = TenantSettingsChanged(
        tenant_id="t1", timezone="Asia/Shanghai", settings={}, settings_version=version
    )
    return wrap(event, tenant_id="t1", region="cn")


def stored(database: Database) -> list[tuple]:
    with database.engine.connect() as conn:
        query = sa.select(inbox_table).order_by(inbox_table.c.consumer, inbox_table.c.event_id)
        return [tuple(row) for row in conn.execute(query)]


def test_a_batch_is_claimed_once_per_consumer_and_its_copies_are_not(database):
    a, b, c, d = envelope(1), envelope(2), envelope(3), envelope(4)
    before = datetime.now(UTC)
    with database.transaction() as session:
        assert claim(session, "visit", [a, b, a, c]) == {0, 1, 3}
    after = datetime.now(UTC)
    with database.transaction() as session:
        assert claim(session, "visit", [c, d, b]) == {1}  # c and b: redeliveries
        assert claim(session, "kpi", [b]) == {0}  # another consumer's claim of its own
    rows = stored(database)
    expected = [("kpi", b)] + sorted([("visit", e) for e in (a, b, c, d)], key=lambda x: x[1].id)
    assert [row[:3] for row in rows] == [(who, e.id, e.type) for who, e in expected]
    first = next(row[3] for row in rows if row[1] == a.id)
    first = first if first.tzinfo else first.replace(tzinfo=UTC)  # (SQLite: naive UTC)
    assert before - timedelta(seconds=1) <= first <= after + timedelta(seconds=1)


def test_claims_roll_back_with_the_handlers_transaction(database):
    a = envelope()
    with pytest.raises(RuntimeError), database.transaction() as session:
        assert claim(session, "visit", [a]) == {0}
        raise RuntimeError("handler failed")
    assert stored(database) == []
    with database.transaction() as session:
        assert claim(session, "visit", [a]) == {0}  # the redelivery is applied
    assert claim_count(database) == 1


def test_an_empty_batch_claims_nothing(database):
    with database.transaction() as session:
        assert claim(session, "visit", []) == set()
    assert stored(database) == []


def test_the_row_is_the_one_sqlalchemy_stores(database):
    """The applied time as SQLAlchemy's own INSERT stores it (SQLite: its text form)."""
    a = envelope()
    with database.transaction() as session:
        claim(session, "visit", [a])
    with database.engine.connect() as conn:
        at = conn.execute(sa.select(inbox_table.c.applied_at)).scalar_one()
    with database.transaction() as session:
        row = {"consumer": "visit", "event_id": "by-sqlalchemy", "event_type": a.type}
        session.execute(inbox_table.insert(), {**row, "applied_at": at})
    text = sa.cast(inbox_table.c.applied_at, sa.Text)
    with database.engine.connect() as conn:
        ours, theirs = (
            conn.execute(sa.select(text).where(inbox_table.c.event_id == event_id)).scalar_one()
            for event_id in (a.id, "by-sqlalchemy")
        )
    assert ours == theirs


def claim_count(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(inbox_table)).scalar_one()


def test_ids_are_claimed_in_sorted_order(database):
    """Competing consumers claiming the same ids wait on each other in one order."""
    ids = sorted(str(uuid.uuid4()) for _ in range(5))
    batch = [dataclasses.replace(envelope(), id=event_id) for event_id in reversed(ids)]
    with database.transaction() as session:
        assert claim(session, "visit", batch) == set(range(5))
    physical = "ctid" if database.is_postgres else "rowid"  # (the order rows were written in)
    with database.engine.connect() as conn:
        order = sa.select(inbox_table.c.event_id).order_by(sa.text(physical))
        assert list(conn.scalars(order)) == ids
