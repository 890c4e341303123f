"""SQLite writers queue on one lock per database in the process (db.py): it is taken for a
write transaction only, and let go however the transaction ends."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from revisit_common import db as dbmod
from revisit_common.db import Database

COUNTER = sa.text("UPDATE counter SET n = n + 1")


@pytest.fixture
def database(tmp_path, monkeypatch):
    # A lock left held would make the next writer fail after 1 s instead of 30.
    monkeypatch.setattr(dbmod, "SQLITE_LOCK_SECONDS", 1)
    database = Database(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with database.transaction() as session:
        session.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(sa.text("INSERT INTO counter VALUES (0)"))
    yield database
    database.dispose()


def count(database: Database) -> int:
    with database.read() as session:
        return session.execute(sa.text("SELECT n FROM counter")).scalar_one()


def test_the_lock_is_let_go_after_a_commit_a_rollback_and_a_dropped_connection(database):
    with database.transaction() as session:
        session.execute(COUNTER)
    with pytest.raises(ZeroDivisionError), database.transaction() as session:
        session.execute(COUNTER)
        1 / 0  # noqa: B018 - the transaction ends on an error
    conn = database.engine.connect()  # a write transaction begun, then given back unended
    conn.execute(COUNTER)
    conn.close()
    with database.transaction() as session:  # would wait 1 s and fail if any kept it
        session.execute(COUNTER)
    assert count(database) == 2


def test_a_failed_commit_lets_go_too(database):
    with database.transaction() as session:
        session.execute(sa.text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        session.execute(sa.text("CREATE TABLE child (id INTEGER REFERENCES parent(id))"))
    with pytest.raises(sa.exc.IntegrityError), database.transaction() as session:
        session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
        session.execute(sa.text("INSERT INTO child VALUES (42)"))  # checked at COMMIT
    with database.transaction() as session:
        session.execute(COUNTER)
    assert count(database) == 1


def test_a_reader_does_not_wait_for_a_writer(database):
    inside, done = threading.Event(), threading.Event()

    def writer() -> None:
        with database.transaction() as session:
            session.execute(COUNTER)
            inside.set()
            assert done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(10)
        assert count(database) == 0  # the last committed value, read while the writer holds
    finally:
        done.set()
        thread.join(10)
    assert count(database) == 1


def test_a_second_writer_waits_its_turn_and_sees_the_first(database):
    inside, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def first() -> None:
        with database.transaction() as session:
            session.execute(COUNTER)
            inside.set()
            assert release.wait(10)

    def second() -> None:
        with database.transaction() as session:
            seen.append(session.execute(sa.text("SELECT n FROM counter")).scalar_one())
            session.execute(COUNTER)

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(10)
    two = threading.Thread(target=second)
    two.start()
    release.set()
    one.join(10)
    two.join(10)
    assert seen == [1]
    assert count(database) == 2


def test_many_writers_lose_no_update(database):
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(50):
                with database.transaction() as session:
                    n = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
                    session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert count(database) == 200


def test_a_writer_kept_waiting_too_long_gets_database_is_locked(database):
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with database.transaction() as session:
            session.execute(COUNTER)
            inside.set()
            assert release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert inside.wait(10)
        # It waits SQLITE_LOCK_SECONDS (1 s here), then gives up as SQLite would.
        with (
            pytest.raises(sa.exc.OperationalError, match="database is locked"),
            database.transaction() as session,
        ):
            session.execute(COUNTER)
    finally:
        release.set()
        thread.join(10)
    assert count(database) == 1
