"""The outbox on the real PostgreSQL: the tests of tests/unit/common/test_outbox_rows.py,
and the NOTIFY that wakes another process's relay, sent with the rows' one statement and
delivered only once the transaction commits."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from revisit_common.db import Database
from revisit_common.messaging.outbox import NOTIFY_CHANNEL, Outbox, outbox_table
from tests.unit.common.test_outbox_rows import (  # noqa: F401 - collected here on PostgreSQL
    event,
    inserts,
    notes,
    refuse_rows,
    test_a_failure_writing_the_rows_fails_the_commit,
    test_a_rolled_back_savepoint_drops_the_events_added_inside_it,
    test_a_rolled_back_transaction_leaves_nothing_for_the_next_one,
    test_a_row_holds_the_envelope_as_sqlalchemy_would_store_it,
    test_a_savepoint_still_open_at_commit_is_committed_with_its_events,
    test_a_transaction_without_events_writes_none,
    test_events_written_in_a_savepoint_rolled_back_are_written_again,
    test_three_events_are_one_statement_at_commit_in_the_order_added,
    versions,
)


@pytest.fixture
def db(postgres_url, postgres_schemas):
    schema = f"{postgres_schemas}outbox"
    database = Database(postgres_url, schema, pool_size=1, max_overflow=1)
    with database.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    outbox_table.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def listening(postgres_url):
    """A connection of its own listening on the outbox channel, as the relay's listener."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        yield conn


def payloads(conn, timeout: float) -> list[str]:
    """The notifications arriving within ``timeout`` seconds (returns at the first)."""
    return [note.payload for note in conn.notifies(timeout=timeout, stop_after=1)]


def test_the_notify_comes_once_with_the_commit(db, listening, inserts):  # noqa: F811
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        for version in (1, 2, 3):
            outbox.add(session, event(version), tenant_id="t1")
        session.execute(notes.insert().values(id="n1"))
        assert payloads(listening, 0.3) == []  # nothing before the commit
    assert payloads(listening, 10) == [db.schema]
    assert payloads(listening, 0.3) == []  # once for the transaction
    assert len(inserts) == 1  # the rows and the NOTIFY: one statement
    assert versions(db) == [1, 2, 3]


def test_no_notify_for_a_commit_that_failed(db, listening):
    outbox = Outbox("cn", "gateway")
    refuse_rows(db)
    with pytest.raises(sa.exc.IntegrityError), db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
    assert payloads(listening, 0.3) == []
    assert versions(db) == []
