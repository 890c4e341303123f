"""``db.run``: a statement compiled once, run on the transaction's connection (PostgreSQL: on
the driver's cursor), gives and stores what SQLAlchemy's own execution gives and stores —
UTC times, JSON text, amounts, dates — and raises the driver's errors as SQLAlchemy does.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from revisit_common import db
from revisit_common.db import Database, UtcDateTime
from revisit_common.rows import insert_values
from tests.support.tables import tables_database
from tests.support.webhooks import DATABASES

meta = sa.MetaData()
things = sa.Table(
    "things",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("at", UtcDateTime),
    sa.Column("doc", sa.JSON),
    sa.Column("amount", sa.Numeric(18, 2)),
    sa.Column("score", sa.Float),
    sa.Column("day", sa.Date),
    sa.Column("flag", sa.Boolean),
    sa.Column("note", sa.String(50)),
    sa.Column("count", sa.Integer, default=0),
)
INSERT = sa.insert(things)
BY_ID = sa.select(things).where(things.c.id == sa.bindparam("id"))
LOCKED = BY_ID.with_for_update()
RENAME = sa.update(things).where(things.c.id == sa.bindparam("key"))
RETURNED = sa.update(things).where(things.c.id == sa.bindparam("key")).returning(things.c.at)
EAST = timezone(timedelta(hours=8))


def values(thing_id: str, **more) -> dict:
    return {
        "id": thing_id,
        "at": datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=EAST),
        "doc": ["late payment", {"k": "值", "n": 1.5}],
        "amount": Decimal("1234.50"),
        "score": 73.3,
        "day": date(2019, 3, 1),
        "flag": True,
        "note": None,
        "count": 2,
        **more,
    }


@pytest.fixture(params=DATABASES)
def database(request, tmp_path):
    with tables_database(request, tmp_path, "things", meta) as database:
        yield database


def stored(database: Database, thing_id: str) -> tuple:
    """The row as SQLAlchemy reads it, its JSON as the text stored."""
    text = sa.cast(things.c.doc, sa.Text)
    with database.engine.connect() as conn:
        return tuple(conn.execute(sa.select(things, text).where(things.c.id == thing_id)).one())


def test_a_row_written_and_read_is_the_one_sqlalchemy_writes_and_reads(database):
    with database.transaction() as session:
        session.connection().execute(INSERT, values("by-sqlalchemy"))
        assert db.run(session, INSERT, values("by-run")) == []
    assert stored(database, "by-run")[1:] == stored(database, "by-sqlalchemy")[1:]
    with database.transaction() as session:
        expected = tuple(session.connection().execute(BY_ID, {"id": "by-sqlalchemy"}).one())
        got = db.run(session, LOCKED, {"id": "by-sqlalchemy"})
    assert got == [expected]
    assert [type(value) for value in got[0]] == [type(value) for value in expected]
    assert got[0][1] == datetime(2026, 11, 20, 1, 30, 0, 123456, tzinfo=UTC)
    assert got[0][1].utcoffset() == timedelta(0)


def test_an_update_binds_as_sqlalchemy_and_returning_gives_utc(database):
    with database.transaction() as session:
        db.run(session, INSERT, values("a"))
        db.run(session, INSERT, values("b"))
    later = datetime(2026, 12, 1, 8, 0, tzinfo=EAST)
    change = {"doc": ["x", "y"], "amount": Decimal("0.10"), "at": later, "key": "a"}
    with database.transaction() as session:
        if database.is_postgres:  # a session time zone that is not UTC
            session.execute(sa.text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        assert db.run(session, RENAME, change) == []
        session.connection().execute(RENAME, {**change, "key": "b"})
        if database.is_postgres:
            returned = db.run(session, RETURNED, {"note": "n", "key": "a"})
            assert returned == [(datetime(2026, 12, 1, 0, 0, tzinfo=UTC),)]
            assert returned[0][0].tzinfo is UTC
    a, b = stored(database, "a"), stored(database, "b")
    assert a[1:7] + a[-1:] == b[1:7] + b[-1:]  # at .. flag, and the JSON text (note aside)


def test_a_unique_key_taken_is_sqlalchemys_integrity_error_and_the_rest_rolls_back(database):
    with database.transaction() as session:
        db.run(session, INSERT, values("one"))
    with pytest.raises(sa.exc.IntegrityError), database.transaction() as session:
        db.run(session, INSERT, values("two"))
        db.run(session, INSERT, values("one"))
    with database.transaction() as session:  # the pooled connection serves again
        assert [row[0] for row in db.run(session, sa.select(things.c.id), {})] == ["one"]


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_value_missing_for_a_column_with_a_default_is_refused(database):
    """Column defaults are SQLAlchemy's execution context's: run() gives none, so it refuses
    an INSERT that would leave one out rather than write NULL."""
    partial = {key: value for key, value in values("x").items() if key != "count"}
    with pytest.raises(ValueError, match="count"), database.transaction() as session:
        db.run(session, INSERT, partial)


def test_insert_values_names_every_column_and_refuses_an_unset_default():
    class Thing:
        pass

    mapper_registry = sa.orm.registry()
    mapper_registry.map_imperatively(Thing, things)
    thing = Thing()
    thing.id, thing.count, thing.note = "t", 3, "n"
    assert insert_values(thing, things) == {
        "id": "t",
        "at": None,
        "doc": None,
        "amount": None,
        "score": None,
        "day": None,
        "flag": None,
        "note": "n",
        "count": 3,
    }
    unset = Thing()
    unset.id = "u"
    with pytest.raises(ValueError, match="things.count"):
        insert_values(unset, things)
    mapper_registry.dispose()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_on_sqlite_the_parameters_sent_are_those_sqlalchemy_sends(database):
    """What run() hands the driver, parameter for parameter, for statements with column
    values, constants bound by SQLAlchemy (LIMIT/OFFSET, literals) and typed text()."""
    sent: list[tuple] = []
    sa.event.listen(database.engine, "before_cursor_execute", lambda *a: sent.append(a[3]))
    recent = (
        sa.select(things.c.id, things.c.amount)
        .where(things.c.note == "n", things.c.at >= sa.bindparam("since"), things.c.count > 1)
        .order_by(things.c.id)
        .limit(5)
    )
    typed = sa.text("SELECT :at, :doc").bindparams(
        sa.bindparam("at", type_=UtcDateTime), sa.bindparam("doc", type_=sa.JSON)
    )
    cases = [
        (INSERT, values("p", note="n")),
        (RENAME, {"amount": Decimal("2.5"), "flag": False, "day": date(2020, 1, 2), "key": "p"}),
        (recent, {"since": datetime(2026, 1, 1, tzinfo=EAST)}),
        (typed, {"at": datetime(2026, 1, 1, tzinfo=EAST), "doc": {"a": [1, None]}}),
    ]
    with database.transaction() as session:
        for statement, params in cases:
            found = db.prepared(statement, params, database.engine.dialect)
            assert found.direct and found.plan is not None
            ours = found.bind_positional(params)
            result = session.connection().execute(statement, params)
            assert ours == sent.pop()
            if result.returns_rows:
                assert db.run(session, statement, params) == [tuple(row) for row in result]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_on_sqlite_what_sqlalchemy_must_complete_runs_through_sqlalchemy(database):
    """A column default left out is applied (PostgreSQL refuses it: the test above); an
    expanding IN list is expanded."""
    partial = {key: value for key, value in values("x").items() if key != "count"}
    among = sa.select(things.c.id, things.c.count).where(
        things.c.id.in_(sa.bindparam("ids", expanding=True))
    )
    with database.transaction() as session:
        assert db.run(session, INSERT, partial) == []
        db.run(session, INSERT, values("y"))
        assert sorted(db.run(session, among, {"ids": ["x", "y", "z"]})) == [("x", 0), ("y", 2)]


def test_fetch_gives_what_sqlalchemy_reads(database):
    with database.transaction() as session:
        db.run(session, INSERT, values("f"))
    with database.engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(BY_ID, {"id": "f"})]
    got = database.fetch(BY_ID, {"id": "f"})
    assert got == expected
    assert [type(value) for value in got[0]] == [type(value) for value in expected[0]]
    assert database.fetch(BY_ID, {"id": "missing"}) == []


def test_a_connection_without_a_transaction_gets_one_as_sqlalchemy_would_begin_it(database):
    with database.engine.connect() as conn:
        assert not conn.in_transaction()
        db.run(conn, INSERT, values("c"))
        assert conn.in_transaction()
        conn.rollback()
        db.run(conn, INSERT, values("d"))
        conn.commit()
    with database.engine.connect() as conn:
        assert [row[0] for row in db.run(conn, sa.select(things.c.id), {})] == ["d"]
        conn.rollback()
