"""PostgreSQL: the statements ``db.run`` and ``Database.fetch`` run on one pooled connection
share one driver cursor (psycopg's ``Connection.execute`` made a new one per statement),
and a connection the pool replaces (lost, invalidated) gets a cursor of its own."""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest
import sqlalchemy as sa

from revisit_common import db
from tests.support.tables import tables_database

meta = sa.MetaData()
notes = sa.Table(
    "cursor_notes",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("text", sa.String(50)),
)
INSERT = sa.insert(notes)
BY_ID = sa.select(notes.c.text).where(notes.c.id == sa.bindparam("id"))


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.services)])
def database(request, tmp_path):
    with tables_database(request, tmp_path, "cursor_notes", meta) as database:
        yield database


def counted_cursors(database) -> Counter:
    """Counts, per driver connection made from now on, the cursors made on it."""
    made: Counter = Counter()

    def cursor_factory(connection, *args, **kwargs):
        made[id(connection)] += 1
        return psycopg.Cursor(connection, *args, **kwargs)

    def on_connect(dbapi_connection, _record):
        dbapi_connection.cursor_factory = cursor_factory

    sa.event.listen(database.engine, "connect", on_connect)
    database.engine.dispose()  # (the connections made before: not counted)
    return made


def test_the_statements_on_one_connection_share_one_cursor(database):
    made = counted_cursors(database)
    with database.core_transaction() as work:
        for n in range(3):
            db.run(work, INSERT, {"id": f"n{n}", "text": f"note {n}"})
        assert db.run(work, BY_ID, {"id": "n1"}) == [("note 1",)]
    for n in range(3):
        assert database.fetch(BY_ID, {"id": f"n{n}"}) == [(f"note {n}",)]
    assert list(made.values()) == [1]  # one connection (pool_size=1), one cursor


def test_a_connection_lost_is_replaced_with_a_cursor_of_its_own(database):
    made = counted_cursors(database)
    with database.core_transaction() as work:
        db.run(work, INSERT, {"id": "kept", "text": "still here"})
    assert database.fetch(BY_ID, {"id": "kept"}) == [("still here",)]
    with database.engine.connect() as conn:
        pid = conn.connection.driver_connection.info.backend_pid
    with psycopg.connect(
        database.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(sa.exc.DBAPIError) as lost:
        database.fetch(BY_ID, {"id": "kept"})
    assert lost.value.connection_invalidated
    assert database.fetch(BY_ID, {"id": "kept"}) == [("still here",)]
    with database.core_transaction() as work:
        assert db.run(work, BY_ID, {"id": "kept"}) == [("still here",)]
    assert sorted(made.values()) == [1, 1]  # the lost connection's, its replacement's


def test_a_failed_statement_leaves_the_cursor_usable(database):
    with database.core_transaction() as work:
        db.run(work, INSERT, {"id": "once", "text": "first"})
    with pytest.raises(sa.exc.IntegrityError), database.core_transaction() as work:
        db.run(work, INSERT, {"id": "once", "text": "again"})
    assert database.fetch(BY_ID, {"id": "once"}) == [("first",)]
    with database.core_transaction() as work:
        db.run(work, INSERT, {"id": "twice", "text": "second"})
    assert database.fetch(BY_ID, {"id": "twice"}) == [("second",)]
