"""SQLite's WAL is checkpointed on a thread of its own (db.py ``Checkpointer``), never in a
writer's COMMIT; a failed BEGIN is still SQLAlchemy's OperationalError."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from revisit_common import db as dbmod
from revisit_common.db import Database
from tests.support.polling import wait_until

ROW = sa.text("INSERT INTO t (v) VALUES (:v)")


@pytest.fixture
def database(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with database.transaction() as session:
        session.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    yield database
    database.dispose()


def test_commits_never_checkpoint_and_the_wal_is_checkpointed_in_the_background(
    database, monkeypatch
):
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    path = Path(database.engine.url.database)
    before = path.stat().st_size
    monkeypatch.setattr(dbmod, "CHECKPOINT_BYTES", 64 * 1024)
    monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", 0.0)
    monkeypatch.setattr(dbmod, "CHECKPOINT_CHECK_EVERY", 1)
    for _ in range(100):
        with database.transaction() as session:
            session.execute(ROW, {"v": "x" * 4000})
    # The rows reach the database file itself: a checkpoint ran (the COMMITs do not).
    wait_until(
        lambda: path.stat().st_size > before + 200 * 1024,
        message="the log checkpointed into the file",
    )
    with database.read() as session:
        assert session.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 100


def test_small_wals_are_left_to_grow(database, monkeypatch):
    requested = []
    monkeypatch.setattr(dbmod.CHECKPOINTER, "request", requested.append)
    monkeypatch.setattr(dbmod, "CHECKPOINT_CHECK_EVERY", 1)
    monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", 0.0)
    for _ in range(10):
        with database.transaction() as session:
            session.execute(ROW, {"v": "x"})
    assert requested == []


def test_a_begin_refused_by_sqlite_is_an_operational_error(database):
    other = sqlite3.connect(database.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's writer, as SQLite sees it
        with database.engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout=50")  # not 30 s
            with pytest.raises(sa.exc.OperationalError, match="locked"), conn.begin():
                pass
    finally:
        other.close()


def test_the_wal_starts_over_under_continuous_writes_and_reads(database, monkeypatch):
    # Without a pause in the writes, a checkpoint beside them never catches up with the
    # log's end, and SQLite starts the log over only once one has: it grew without end
    # (a standalone server: 280 MB in 40 s of writes).
    monkeypatch.setattr(dbmod, "CHECKPOINT_BYTES", 64 * 1024)
    monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", 0.0)
    monkeypatch.setattr(dbmod, "CHECKPOINT_CHECK_EVERY", 4)
    wal = Path(f"{database.engine.url.database}-wal")
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with database.read() as session:
                session.execute(sa.text("SELECT count(*) FROM t")).scalar_one()

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    largest = 0
    try:
        for _ in range(1500):
            with database.transaction() as session:
                session.execute(ROW, {"v": "x" * 2000})
            largest = max(largest, wal.stat().st_size)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    # 1,500 rows of 2 kB wrote about 6 MB of log; it stays within a few checkpoints' worth.
    assert largest < 2 * 1024 * 1024
    with database.read() as session:
        assert session.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1500
