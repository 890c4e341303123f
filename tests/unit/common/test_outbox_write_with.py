"""``Outbox.write_with``: a state change written together with the events added so far in its
transaction (PostgreSQL: one statement, its NOTIFY included), the later ones at commit as
usual; undone with the transaction, or with the savepoint they were written in. On SQLite
and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from revisit_common.messaging.outbox import NOTIFY_CHANNEL, Outbox, outbox_table
from tests.unit.common.test_outbox_rows import event, note_ids, notes, versions

INSERT_NOTE = sa.insert(notes)


def test_the_events_so_far_are_written_with_the_change_and_the_rest_at_commit(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.add(session, event(3), tenant_id="t1")
        outbox.add(session, event(1), tenant_id="t1")
        outbox.write_with(session, INSERT_NOTE, {"id": "n1"})
        in_transaction = session.execute(sa.select(sa.func.count()).select_from(outbox_table))
        assert in_transaction.scalar_one() == 2  # written already, before the commit
        outbox.add(session, event(2), tenant_id="t1")
        assert not outbox.wake_event.is_set()
    assert versions(db) == [3, 1, 2]
    assert note_ids(db) == ["n1"]
    assert outbox.wake_event.is_set()


def test_without_events_the_change_is_written_alone(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.write_with(session, INSERT_NOTE, {"id": "n1"})
    assert note_ids(db) == ["n1"]
    assert versions(db) == []
    assert not outbox.wake_event.is_set()


def test_a_rollback_undoes_the_change_and_its_events(db):
    outbox = Outbox("cn", "gateway")
    with pytest.raises(RuntimeError), db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
        outbox.write_with(session, INSERT_NOTE, {"id": "n1"})
        raise RuntimeError("after the write")
    assert note_ids(db) == []
    assert versions(db) == []
    assert not outbox.wake_event.is_set()


def test_a_change_that_fails_is_sqlalchemys_error_and_writes_nothing(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.write_with(session, INSERT_NOTE, {"id": "n1"})
    with pytest.raises(sa.exc.IntegrityError), db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
        outbox.write_with(session, INSERT_NOTE, {"id": "n1"})  # the key is taken
    assert note_ids(db) == ["n1"]
    assert versions(db) == []


def test_events_written_in_a_savepoint_rolled_back_are_written_again_at_commit(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
        with pytest.raises(RuntimeError), session.begin_nested():
            outbox.add(session, event(2), tenant_id="t1")
            outbox.write_with(session, INSERT_NOTE, {"id": "n1"})
            raise RuntimeError("undone")
        outbox.write_with(session, INSERT_NOTE, {"id": "n2"})
    assert note_ids(db) == ["n2"]
    assert versions(db) == [1]


@pytest.mark.services
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_postgresql_notifies_once_at_commit(db, postgres_url):
    outbox = Outbox("cn", "gateway")
    with psycopg.connect(postgres_url, autocommit=True) as listening:
        listening.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with db.transaction() as session:
            outbox.add(session, event(1), tenant_id="t1")
            outbox.write_with(session, INSERT_NOTE, {"id": "n1"})
            before = [n.payload for n in listening.notifies(timeout=0.3, stop_after=1)]
            assert before == []  # PostgreSQL delivers it with the commit
        after = [n.payload for n in listening.notifies(timeout=10, stop_after=1)]
        assert after == [db.schema]
        assert [n.payload for n in listening.notifies(timeout=0.3, stop_after=1)] == []
    assert versions(db) == [1]
