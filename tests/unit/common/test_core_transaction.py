"""``Database.core_transaction``: a write transaction without a Session for use cases made of
Core statements. Its statements and outbox rows are committed together (the relay woken
after the COMMIT), or rolled back together when the use case raises or its rows cannot be
written; it takes a connection (SQLite: the writer lock) only at its first statement and
gives it back at its end. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revisit_common import db as db_module
from revisit_common import transaction_memo
from revisit_common.messaging.outbox import Outbox
from tests.unit.common.test_outbox_rows import event, note_ids, notes, versions

INSERT_NOTE = sa.insert(notes)


class Failed(Exception):
    pass


def test_statements_and_events_are_committed_together_and_the_relay_woken_after(db):
    outbox = Outbox("cn", "gateway")
    with db.core_transaction() as work:
        db_module.run(work, INSERT_NOTE, {"id": "n1"})
        outbox.add(work, event(3), tenant_id="t1")
        outbox.write_with(work, INSERT_NOTE, {"id": "n2"})
        outbox.add(work, event(1), tenant_id="t1")
        assert not outbox.wake_event.is_set()
    assert note_ids(db) == ["n1", "n2"]
    assert versions(db) == [3, 1]
    assert outbox.wake_event.is_set()


def test_an_error_rolls_back_statements_and_events_and_wakes_no_relay(db):
    outbox = Outbox("cn", "gateway")
    with pytest.raises(Failed), db.core_transaction() as work:
        outbox.add(work, event(1), tenant_id="t1")
        outbox.write_with(work, INSERT_NOTE, {"id": "n1"})
        outbox.add(work, event(2), tenant_id="t1")
        raise Failed
    assert note_ids(db) == []
    assert versions(db) == []
    assert not outbox.wake_event.is_set()
    with db.core_transaction() as work:  # (SQLite: the writer lock was let go)
        db_module.run(work, INSERT_NOTE, {"id": "n2"})
    assert note_ids(db) == ["n2"]


def test_events_that_cannot_be_written_fail_the_commit_and_undo_the_statements(db):
    outbox = Outbox("cn", "gateway")
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE outbox"))
    with pytest.raises(sa.exc.DBAPIError), db.core_transaction() as work:
        db_module.run(work, INSERT_NOTE, {"id": "n1"})
        outbox.add(work, event(1), tenant_id="t1")
    assert note_ids(db) == []
    assert not outbox.wake_event.is_set()


def test_a_unique_key_taken_is_an_integrity_error_and_nothing_is_kept(db):
    with db.core_transaction() as work:
        db_module.run(work, INSERT_NOTE, {"id": "n1"})
    with pytest.raises(sa.exc.IntegrityError), db.core_transaction() as work:
        db_module.run(work, INSERT_NOTE, {"id": "n2"})
        db_module.run(work, INSERT_NOTE, {"id": "n1"})
    assert note_ids(db) == ["n1"]


def test_no_connection_is_taken_before_the_first_statement_and_none_kept_after(db):
    pool = db.engine.pool
    with db.core_transaction() as work:
        assert pool.checkedout() == 0
        work.connection()
        assert pool.checkedout() == 1
    assert pool.checkedout() == 0
    with pytest.raises(Failed), db.core_transaction() as work:
        work.connection()
        raise Failed
    assert pool.checkedout() == 0


def test_values_memoised_last_for_one_transaction(db):
    with db.core_transaction() as work:
        transaction_memo.memo(work, "names")["a"] = 1
        assert transaction_memo.memo(work, "names") == {"a": 1}
    with db.core_transaction() as work:
        assert transaction_memo.memo(work, "names") == {}


def test_a_savepoint_undoes_its_own_statements_only(db):
    """A unique key taken inside ``begin_nested`` undoes that block alone: the transaction
    goes on and commits what came before and after it, with its events."""
    outbox = Outbox("cn", "gateway")
    with db.core_transaction() as work:
        db_module.run(work, INSERT_NOTE, {"id": "n1"})
        with pytest.raises(sa.exc.IntegrityError), work.begin_nested():
            db_module.run(work, INSERT_NOTE, {"id": "n2"})
            db_module.run(work, INSERT_NOTE, {"id": "n1"})
        with work.begin_nested():
            db_module.run(work, INSERT_NOTE, {"id": "n3"})
        outbox.add(work, event(1), tenant_id="t1")
    assert note_ids(db) == ["n1", "n3"]
    assert versions(db) == [1]
    assert outbox.wake_event.is_set()
