"""The outbox writes a transaction's events when it commits, in one statement whatever their
number, in the order added; rolled back with it (or with the savepoint they were added in),
and failing the commit when they cannot be written. SQLite here; the same tests run on the
real PostgreSQL in tests/integration/messaging/test_outbox_postgres.py."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from revisit_common.events import TenantSettingsChanged
from revisit_common.messaging.outbox import Outbox, outbox_table
from tests.support.outbox import outbox_database

notes = sa.Table("notes", outbox_table.metadata, sa.Column("id", sa.String(20), primary_key=True))


def event(version: int) -> TenantSettingsChanged:
    return TenantSettingsChanged(
        tenant_id="t1", timezone="Asia/Shanghai", settings={}, settings_version=version
    )


@pytest.fixture
def db(tmp_path):
    with outbox_database(tmp_path) as database:
        yield database


@pytest.fixture
def inserts(db) -> list[str]:
    """The statements writing outbox rows, as they are sent: on SQLite as the driver's trace
    sees them (the outbox runs them on the driver's connection, which SQLAlchemy's events do
    not see), on PostgreSQL as SQLAlchemy sends them."""
    sent: list[str] = []

    def record(statement: str) -> None:
        if "INSERT INTO outbox" in statement:
            sent.append(statement)

    def trace(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.set_trace_callback(record)

    def sending(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        record(statement)

    hook, listener = (
        ("checkout", trace) if not db.is_postgres else ("before_cursor_execute", sending)
    )
    sa.event.listen(db.engine, hook, listener)
    yield sent
    sa.event.remove(db.engine, hook, listener)


def versions(db) -> list[int]:
    """The settings versions of the outbox's events, in id order."""
    with db.engine.connect() as conn:
        bodies = conn.scalars(sa.select(outbox_table.c.body).order_by(outbox_table.c.id))
        return [json.loads(body)["data"]["settings_version"] for body in bodies]


def note_ids(db) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.scalars(sa.select(notes.c.id).order_by(notes.c.id)))


def refuse_rows(db) -> None:
    """From now on every insert into the outbox fails."""
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(sa.text("ALTER TABLE outbox ADD CONSTRAINT no_rows CHECK (id < 0)"))
        else:
            conn.execute(
                sa.text(
                    "CREATE TRIGGER no_rows BEFORE INSERT ON outbox "
                    "BEGIN SELECT RAISE(ABORT, 'no rows'); END"
                )
            )


def test_three_events_are_one_statement_at_commit_in_the_order_added(db, inserts):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        envelopes = [outbox.add(session, event(v), tenant_id="t1") for v in (3, 1, 2)]
        session.execute(notes.insert().values(id="n1"))
        assert inserts == []  # nothing written before the commit
    assert len(inserts) == 1
    assert versions(db) == [3, 1, 2]
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    assert [row.event_id for row in rows] == [e.id for e in envelopes]
    assert [row.body for row in rows] == [e.to_json() for e in envelopes]
    assert {row.routing_key for row in rows} == {event(1).routing_key()}
    assert [row.attempts for row in rows] == [0, 0, 0]
    assert [row.sent_at for row in rows] == [None, None, None]
    assert all(row.created_at is not None for row in rows)


def test_a_row_holds_the_envelope_as_sqlalchemy_would_store_it(db):
    """The creation time is the envelope's, stored as SQLAlchemy's own INSERT stores it
    (SQLite: its text form); the body, routing key and id as given, JSON escapes and all."""
    outbox = Outbox("cn", "gateway")
    settings = {"note": 'quote " backslash \\ nul \x00 line\n 值 \u2028'}
    changed = TenantSettingsChanged(
        tenant_id="t1", timezone="Asia/Shanghai", settings=settings, settings_version=1
    )
    with db.transaction() as session:
        envelope = outbox.add(session, changed, tenant_id="t1")
    at = datetime.fromisoformat(envelope.time)
    with db.engine.begin() as conn:
        conn.execute(
            outbox_table.insert(),
            {"event_id": "by-sqlalchemy", "routing_key": "k", "body": "{}", "created_at": at},
        )
    text = sa.cast(outbox_table.c.created_at, sa.Text)
    with db.engine.connect() as conn:
        ours, theirs = (
            conn.execute(
                sa.select(outbox_table, text.label("text")).where(outbox_table.c.event_id == key)
            ).one()
            for key in (envelope.id, "by-sqlalchemy")
        )
    assert ours.text == theirs.text
    assert ours.body == envelope.to_json()
    assert json.loads(ours.body)["data"]["settings"] == settings
    assert (ours.routing_key, ours.attempts, ours.sent_at) == (changed.routing_key(), 0, None)


def test_a_transaction_without_events_writes_none(db, inserts):
    with db.transaction() as session:
        session.execute(notes.insert().values(id="n1"))
    assert inserts == []
    assert versions(db) == []


def test_a_failure_writing_the_rows_fails_the_commit(db):
    outbox = Outbox("cn", "gateway")
    refuse_rows(db)
    with pytest.raises(sa.exc.DBAPIError), db.transaction() as session:
        session.execute(notes.insert().values(id="n1"))
        outbox.add(session, event(1), tenant_id="t1")
    assert note_ids(db) == []  # the state change is rolled back with them
    assert not outbox.wake_event.is_set()


def test_a_rolled_back_savepoint_drops_the_events_added_inside_it(db, inserts):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
        with pytest.raises(RuntimeError), session.begin_nested():
            outbox.add(session, event(2), tenant_id="t1")
            raise RuntimeError("undone")
        with session.begin_nested():
            outbox.add(session, event(3), tenant_id="t1")
        outbox.add(session, event(4), tenant_id="t1")
    assert versions(db) == [1, 3, 4]
    assert outbox.wake_event.is_set()


def test_events_written_in_a_savepoint_rolled_back_are_written_again(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
        outer = session.begin_nested()
        with session.begin_nested():  # its commit writes 1 and 2, inside ``outer``
            outbox.add(session, event(2), tenant_id="t1")
        outer.rollback()  # 2 was added inside it: gone; 1 was not: written again
        outbox.add(session, event(3), tenant_id="t1")
    assert versions(db) == [1, 3]


def test_a_savepoint_still_open_at_commit_is_committed_with_its_events(db):
    outbox = Outbox("cn", "gateway")
    with db.transaction() as session:
        outbox.add(session, event(1), tenant_id="t1")
        session.begin_nested()  # never closed: the commit releases it
        outbox.add(session, event(2), tenant_id="t1")
    assert versions(db) == [1, 2]


def test_a_rolled_back_transaction_leaves_nothing_for_the_next_one(db):
    outbox = Outbox("cn", "gateway")
    session = db.sessions()
    try:
        with session.begin():
            outbox.add(session, event(1), tenant_id="t1")
            session.rollback()
        with session.begin():
            outbox.add(session, event(2), tenant_id="t1")
        with session.begin():
            session.execute(notes.insert().values(id="n1"))
    finally:
        session.close()
    assert versions(db) == [2]
