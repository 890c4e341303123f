"""Each service's own database: a SQLite file by default, PostgreSQL when configured.

Engines are made by ``Database(...)`` inside app factories and worker start-up, never at
import time (gunicorn forks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(
    url: str, schema: str | None = None, *, pool_size: int = 5, max_overflow: int = 5
) -> Engine:
    # Stored data (webhook secrets, personal data) must not reach the logs: SQL parameters
    # stay out of log lines and exception messages, and result rows out of DEBUG logs.
    _no_rows_in_logs()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        _tune_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    connect_args = {"connect_timeout": 5}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        hide_parameters=True,
    )
    _end_abandoned_transactions(engine)
    return engine


# A session idle inside its transaction this long has lost its client (a network cut the
# server never heard of): PostgreSQL ends it, so its locks stop blocking the consumer that
# comes back for the same events. Longest legitimate wait: the relay's confirms, seconds.
IDLE_IN_TRANSACTION_TIMEOUT = "5min"


def _end_abandoned_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
                (IDLE_IN_TRANSACTION_TIMEOUT,),
            )
        dbapi_conn.commit()


class _NoResultRows(logging.Filter):
    """Drops the result rows SQLAlchemy logs when its engine logger is at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


def _no_rows_in_logs() -> None:
    engine_logger = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoResultRows) for f in engine_logger.filters):
        engine_logger.addFilter(_NoResultRows())


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: two transactions can never deadlock
        # upgrading a read lock, they queue on busy_timeout instead. Reads (WAL) need none.
        if conn.get_execution_options().get("revisit_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """A service's engine and session factory."""

    def __init__(
        self,
        url: str,
        schema: str | None = None,
        *,
        pool_size: int = 5,
        max_overflow: int = 5,
    ):
        """At most ``pool_size`` + ``max_overflow`` connections (PostgreSQL), plus the outbox
        listener's own one in a process that relays; services pass REVISIT_DB_POOL_SIZE and
        REVISIT_DB_MAX_OVERFLOW (:meth:`Settings.pool`)."""
        self.url = url
        self.schema = schema
        self.engine = make_engine(url, schema, pool_size=pool_size, max_overflow=max_overflow)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(revisit_read_only=True), expire_on_commit=False
        )

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only (on SQLite it takes no write lock)."""
        with self.read_sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


class UtcDateTime(sa.TypeDecorator):
    """An aware UTC datetime on every database (SQLite gives naive values back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime not allowed")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
