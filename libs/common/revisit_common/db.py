"""Each service's own database: a SQLite file by default, PostgreSQL when configured.

Engines are made by ``Database(...)`` inside app factories and worker start-up, never at
import time (gunicorn forks).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .core_transaction import CoreTransaction
from .pool_ping import RECYCLE_SECONDS, ping_when_idle

if TYPE_CHECKING:
    import psycopg


def make_engine(
    url: str,
    schema: str | None = None,
    *,
    pool_size: int = 5,
    max_overflow: int = 5,
    pool_timeout: float = 5.0,
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
        pool_recycle=RECYCLE_SECONDS,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # All in use: wait this long, then sqlalchemy.exc.TimeoutError (a 503, webapp.py).
        pool_timeout=pool_timeout,
        hide_parameters=True,
    )
    ping_when_idle(engine)  # instead of pool_pre_ping's ping at every checkout
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


# Seconds a SQLite writer waits for the write lock (in this process, then from another
# process) before "database is locked".
SQLITE_LOCK_SECONDS = 30


class SqliteWriterLock:
    """One writer at a time per SQLite file in this process, queued on a lock.

    SQLite has one write lock per database file. Left to SQLite, writers that find it taken
    poll for it (its busy handler sleeps 1, 2, 5 ... 100 ms between tries), so under load a
    writer can miss many releases in a row: that was the long tail of standalone mode's
    writes. Here a write transaction first takes this lock (threads wake as soon as it is
    free), then ``BEGIN IMMEDIATE``, and lets go right after its COMMIT or ROLLBACK: held
    for one transaction, never across requests. Readers take nothing (WAL). Another process
    on the same file (a migration, a second server) still meets SQLite's busy timeout.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._lock.acquire(timeout=self.seconds):
            # As SQLite's own busy timeout says it (a 503 to a request, a retry to a consumer).
            locked = sqlite3.OperationalError("database is locked (writer queue)")
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, locked)

    def release(self) -> None:
        self._lock.release()


_HOLDS = "revisit_sqlite_writer"  # in a pooled connection's info: it holds the lock

# WAL checkpoints: once the WAL holds about this many bytes (SQLite's own default is 1,000
# pages), it is copied back into the database file off the writers' path.
CHECKPOINT_BYTES = 1000 * 4096
CHECKPOINT_CHECK_EVERY = 32  # commits between looks at the WAL's size
# At most one checkpoint a second per file: after a checkpoint SQLite writes the WAL from its
# start again but keeps the file's size, so the size alone says "large" from then on.
CHECKPOINT_SECONDS = 1.0


# The part of a checkpoint that holds the file's writers back waits at most this long for
# readers still on older frames of the log, then gives up until the next checkpoint.
CHECKPOINT_WAIT_MS = 50
# Once the log starts over, its file is cut back to this size (SQLite keeps a log file's
# size otherwise, so a burst of writes would leave it large for good).
WAL_KEEP_BYTES = 4 * CHECKPOINT_BYTES


class Checkpointer:
    """Runs SQLite's WAL checkpoints on a thread of its own, not in a writer's COMMIT.

    Left to SQLite, the COMMIT that fills the WAL past 1,000 pages also checkpoints it, and
    a checkpoint syncs the database file to disk (under ``synchronous=NORMAL`` the only
    sync there is): tens of milliseconds on a busy disk, while that writer holds the file's
    writer queue, so every write request behind it waited too (the p99 of standalone
    writes). Connections here turn that off (``wal_autocheckpoint=0``); every
    ``CHECKPOINT_CHECK_EVERY`` commits a writer looks at the WAL's size (one ``stat``) and,
    past ``CHECKPOINT_BYTES`` (and ``CHECKPOINT_SECONDS`` after the file's last one), asks
    this thread for a checkpoint (:func:`checkpoint`), run on a connection of its own,
    opened for it. Durability is unchanged: a commit is in the WAL either way; the last
    connection to close a file checkpoints it as before. One thread per process, started
    when first needed, idle otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted: dict[str, SqliteWriterLock | None] = {}
        self._ready = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def request(self, path: str, writers: SqliteWriterLock | None = None) -> None:
        """Checkpoint the file at ``path`` soon; ``writers``: its writer queue."""
        with self._lock:
            if path in self._wanted:
                return
            self._wanted[path] = writers
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-checkpointer", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._wanted:
                    self._ready.wait()
                path, writers = self._wanted.popitem()
            checkpoint(path, writers)


def checkpoint(path: str, writers: SqliteWriterLock | None = None) -> None:
    """A checkpoint of the SQLite file at ``path``, in two parts (best effort: a failure
    leaves the WAL for the next one).

    First ``PASSIVE``, beside the writers and readers: it copies what no reader still needs
    and blocks nobody. Under continuous writes that never reaches the log's end (commits go
    on while it copies), and SQLite starts a log over only once a checkpoint has reached
    it, so the log grew without end (a standalone server: 280 MB after 40 s of writes, and
    its reads slowed as it grew). So then, holding ``writers`` (the file's writer queue: no
    commit meanwhile), ``RESTART`` copies the little committed since, waits at most
    ``CHECKPOINT_WAIT_MS`` for readers still on older frames, and starts the log over.
    Writers wait those milliseconds, once per checkpoint.
    """
    try:
        conn = sqlite3.connect(path, timeout=SQLITE_LOCK_SECONDS, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        if writers is not None:
            conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            writers.acquire()
            try:
                conn.execute("PRAGMA wal_checkpoint(RESTART)")
            finally:
                writers.release()
    except (sqlite3.Error, sa.exc.OperationalError) as exc:
        logging.getLogger(__name__).debug("checkpoint of %s failed: %s", path, exc)
    finally:
        conn.close()


CHECKPOINTER = Checkpointer()


def _tune_sqlite(engine: Engine) -> None:
    writers = SqliteWriterLock(SQLITE_LOCK_SECONDS)
    path = engine.url.database
    wal = f"{path}-wal" if path and path != ":memory:" and not path.startswith("file:") else None
    commits = [0]
    last = [time.monotonic()]

    def after_commit() -> None:
        commits[0] += 1  # (approximate across threads: it only paces the looks)
        if wal is None or commits[0] % CHECKPOINT_CHECK_EVERY:
            return
        if time.monotonic() - last[0] < CHECKPOINT_SECONDS:
            return
        try:
            size = Path(wal).stat().st_size
        except OSError:
            return
        if size >= CHECKPOINT_BYTES:
            last[0] = time.monotonic()
            CHECKPOINTER.request(path, writers)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL under WAL: a commit is durable across a crash of this process (kill -9:
        # its WAL frames are in the OS's page cache when COMMIT returns); a power loss or
        # OS crash can lose the transactions committed since the last checkpoint (never
        # corrupt the file). FULL would fsync the WAL at every commit.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_SECONDS * 1000}")
        if wal is not None:
            cur.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer's, off this path
            cur.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: two transactions can never deadlock
        # upgrading a read lock, they queue instead. Reads (WAL) need none.
        # On the driver's connection: SQLAlchemy's statement machinery (events, a cursor
        # result) cost more than the BEGIN itself, on every transaction.
        driver = conn.connection.driver_connection
        if conn.get_execution_options().get("revisit_read_only"):
            _begin(driver, "BEGIN")
            return
        writers.acquire()
        conn.info[_HOLDS] = True
        try:
            _begin(driver, "BEGIN IMMEDIATE")
        except BaseException:
            _let_go(conn.info, writers)
            raise

    @event.listens_for(engine, "commit")
    def _on_commit(conn):
        # SQLAlchemy calls this before its own COMMIT: commit here, so the next writer
        # starts only once this one is on disk (the DBAPI's commit after it is a no-op).
        if conn.info.get(_HOLDS):
            _end(conn, writers, "COMMIT")
            after_commit()

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        if conn.info.get(_HOLDS):
            _end(conn, writers, "ROLLBACK")

    # A connection given back without COMMIT or ROLLBACK (a session dropped on an error):
    # the pool rolls it back; the lock goes with it.
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):
        _let_go(record.info, writers)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_conn, record):
        _let_go(record.info, writers)


def _begin(driver: sqlite3.Connection, statement: str) -> None:
    """``statement`` on the driver's connection; an error is raised as SQLAlchemy raises the
    DBAPI's errors (a locked database: OperationalError)."""
    try:
        driver.execute(statement)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def _end(conn, writers: SqliteWriterLock, statement: str) -> None:
    """COMMIT or ROLLBACK the write transaction, then let the next writer in; an error is
    raised as SQLAlchemy raises the DBAPI's errors."""
    driver = conn.connection.driver_connection
    try:
        if statement == "COMMIT":
            driver.commit()
        else:
            driver.rollback()
    except sqlite3.Error as exc:
        if driver.in_transaction:  # a COMMIT refused (a deferred constraint): undo it all
            driver.rollback()
        raise sa.exc.DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
    finally:
        _let_go(conn.info, writers)


def _let_go(info: dict, writers: SqliteWriterLock) -> None:
    if info.pop(_HOLDS, False):
        writers.release()


class Database:
    """A service's engine and session factory."""

    def __init__(
        self,
        url: str,
        schema: str | None = None,
        *,
        pool_size: int = 5,
        max_overflow: int = 5,
        pool_timeout: float = 5.0,
    ):
        """At most ``pool_size`` + ``max_overflow`` connections (PostgreSQL), plus the outbox
        listener's own one in a process that relays; a thread waits at most
        ``pool_timeout`` seconds for one. Services pass REVISIT_DB_POOL_SIZE,
        REVISIT_DB_MAX_OVERFLOW and REVISIT_DB_POOL_TIMEOUT (:meth:`Settings.pool`)."""
        self.url = url
        self.schema = schema
        self.engine = make_engine(
            url,
            schema,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine = self.engine.execution_options(revisit_read_only=True)
        self.read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)
        # fetch(): id(statement) -> (statement, its SQL, positions of its UtcDateTime columns)
        self._sql: dict[int, tuple[sa.Select, str, tuple[int, ...]]] = {}

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def core_transaction(self) -> Iterator[CoreTransaction]:
        """A :class:`.CoreTransaction` (no Session, for a use case made of Core statements):
        committed on success, rolled back on error."""
        work = CoreTransaction(self.engine)
        try:
            yield work
        except BaseException:
            work.rollback()
            raise
        work.commit()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only (on SQLite it takes no write lock)."""
        with self.read_sessions.begin() as session:
            yield session

    def fetch(self, statement: sa.Select, params: dict) -> list[tuple]:
        """The rows of one ``SELECT`` (a module-level constant), run on its own.

        A single statement reads one snapshot, so it needs no transaction around it. On
        PostgreSQL it runs on a pooled connection switched to autocommit for it (no BEGIN
        and COMMIT round trips), as SQL compiled once per statement and prepared by psycopg
        after a few uses, and its rows are psycopg's: SQLAlchemy's result machinery (column
        descriptions, row objects) cost several times the query itself. The values are the
        ones SQLAlchemy gives, since of our column types only :class:`UtcDateTime` processes
        results: the values of such columns are converted to UTC here. A connection found
        broken is dropped from the pool; errors are raised as SQLAlchemy's (an unreachable
        database: a 503). On SQLite it runs on a pooled connection's driver as one
        statement in SQLite's autocommit (one snapshot, no write lock), compiled once, its
        values converted as SQLAlchemy converts them (:func:`run`); a statement SQLAlchemy
        must expand (``IN`` lists) runs through SQLAlchemy in a read transaction.
        """
        if not self.is_postgres:
            found = prepared(statement, params, self.engine.dialect)
            if not found.direct:
                with self._read_engine.connect() as conn:
                    return [tuple(row) for row in conn.execute(statement, params)]
            values = found.bind_positional(params)
            try:
                raw = self.engine.raw_connection()
            except sqlite3.Error as exc:  # (the pool raises the driver's own when it connects)
                raise sa.exc.DBAPIError.instance(found.sql, None, exc, sqlite3.Error) from exc
            try:
                return _sqlite_rows(raw, found, values, self.engine.dialect)
            finally:
                raw.close()
        known = self._sql.get(id(statement))
        if known is None or known[0] is not statement:
            utc = tuple(
                index
                for index, column in enumerate(statement.selected_columns)
                if isinstance(column.type, UtcDateTime)
            )
            known = (statement, str(statement.compile(dialect=self.engine.dialect)), utc)
            self._sql[id(statement)] = known
        _, sql, utc = known
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            raw = self.engine.raw_connection()
        except dbapi_error as exc:  # (the pool raises the driver's own when it connects)
            raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi_error) from exc
        driver = raw.driver_connection
        try:
            driver.autocommit = True
            rows = cursor_of(raw).execute(sql, params).fetchall()
            driver.autocommit = False
        except BaseException as exc:
            broken = driver.broken or driver.closed
            raw.invalidate()  # broken, or perhaps left in autocommit: never handed out again
            if isinstance(exc, dbapi_error):
                raise sa.exc.DBAPIError.instance(
                    sql, None, exc, dbapi_error, connection_invalidated=broken
                ) from exc
            raise
        finally:
            raw.close()
        return [_in_utc(row, utc) for row in rows] if utc else rows

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


class Prepared:
    """A statement compiled once for one dialect (with the columns of one set of values): its
    SQL, the bind processors of its parameters, and what its result columns need: on
    PostgreSQL the positions of its UtcDateTime columns, on SQLite every column's result
    processor (:func:`prepared`).

    On SQLite :attr:`direct` says whether :func:`run` can run it on the driver's connection:
    not when it has parameters SQLAlchemy expands at execution (``IN`` lists), nor when a
    column default would be filled in by SQLAlchemy's execution context (then it runs
    through SQLAlchemy, defaults applied, as before); on PostgreSQL such a statement is
    refused (ValueError)."""

    __slots__ = (
        "statement",
        "sql",
        "compiled",
        "processors",
        "rows",
        "utc",
        "direct",
        "plan",
        "results",
        "checked",
        "named",
        "named_checked",
    )

    def __init__(self, statement, keys: tuple[str, ...], dialect) -> None:
        dml = isinstance(statement, sa.sql.expression.ValuesBase)  # INSERT, UPDATE
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if dml else None)
        processors = []
        defaulted = False
        for name, bind in compiled.binds.items():
            if name not in keys and bind.value is None and bind.callable is None:
                # (a column default the execution context would fill in: not done here)
                if dialect.name == "postgresql":
                    raise ValueError(f"no value for {name!r} in {str(compiled)[:60]!r}")
                defaulted = True
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((name, process))
        self.statement = statement
        self.sql = str(compiled)
        self.compiled = compiled
        self.processors = tuple(processors)
        # A SELECT's columns, an INSERT or UPDATE's RETURNING ones (None: a text() statement)
        columns = getattr(statement, "exported_columns", None)
        self.rows = None if columns is None else bool(columns)  # whether it returns rows
        self.utc = tuple(
            index
            for index, column in enumerate(columns or ())
            if isinstance(column.type, UtcDateTime)
        )
        expanded = compiled.literal_execute_params or compiled.post_compile_params
        self.direct = bool(compiled.positional) and not (
            defaulted or expanded or compiled.insert_prefetch or compiled.update_prefetch
        )
        # SQLite: the parameters in the order of the SQL's ``?`` (:meth:`bind_positional`);
        # the result processor of each column that has one, by position (None: a text()
        # statement, rows as given)
        self.plan = _plan(compiled, keys, dict(processors)) if self.direct else None
        self.results = (
            None
            if columns is None or dialect.name != "sqlite"
            else tuple(
                (index, process)
                for index, column in enumerate(columns)
                if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
                is not None
            )
        )
        self.checked = columns is None  # its result's width compared with its columns'
        # Named parameters (PostgreSQL): what construct_params picks for each, as for
        # :attr:`plan`; None: construct_params (also once its first result differs)
        self.named = None if compiled.positional else _named_plan(compiled, keys, processors)
        self.named_checked = False  # its first values compared with construct_params's

    def bind(self, params: dict) -> dict:
        """The parameters of :attr:`sql` for ``params``, bound as SQLAlchemy binds them."""
        named = self.named
        if named is not None and not self.named_checked:
            picked = {
                name: params[key] if key is not None else value for name, key, value, _ in named
            }
            if picked != self.compiled.construct_params(params):
                self.named = named = None  # (not that simple: construct_params from now on)
            self.named_checked = True
        if named is not None:
            return {
                name: (params[key] if key is not None else value)
                if process is None
                else process(params[key] if key is not None else value)
                for name, key, value, process in named
            }
        values = self.compiled.construct_params(params)
        for name, process in self.processors:
            values[name] = process(values[name])
        return values

    def bind_positional(self, params: dict) -> tuple:
        """:meth:`bind`'s values in the order of the SQL's positional parameters (``params``
        with the keys it was prepared for)."""
        if self.plan is None:
            values = self.bind(params)
            return tuple([values[name] for name in self.compiled.positiontup])
        return tuple(
            [
                (params[key] if key is not None else value)
                if process is None
                else process(params[key] if key is not None else value)
                for key, value, process in self.plan
            ]
        )


def _plan(compiled, keys: tuple[str, ...], processors: dict) -> tuple | None:
    """For each positional parameter of ``compiled``: the key of its value in the
    parameters (None: its bound constant), that constant, and its bind processor; what
    ``construct_params`` would pick for parameters with ``keys``. None when it is not that
    simple (a value computed at execution, escaped names): then ``construct_params``."""
    if compiled.escaped_bind_names:
        return None
    plan = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.key in keys:
            plan.append((bind.key, None, processors.get(name)))
        elif name in keys:
            plan.append((name, None, processors.get(name)))
        elif bind.callable is None and not bind.required:
            plan.append((None, bind.value, processors.get(name)))
        else:
            return None
    return tuple(plan)


def _named_plan(compiled, keys: tuple[str, ...], processors: list) -> tuple | None:
    """For each named parameter of ``compiled`` (``%(name)s``): its name, the key of its
    value in the parameters (None: its bound constant), that constant and its bind
    processor; what ``construct_params`` would pick for parameters with ``keys`` (its first
    values are checked against ``construct_params``'s, :meth:`Prepared.bind`). None when it
    is not that simple (escaped names, a value computed at execution)."""
    if compiled.escaped_bind_names:
        return None
    by_name = dict(processors)
    plan = []
    for bind, name in compiled.bind_names.items():
        if bind.key in keys:
            plan.append((name, bind.key, None, by_name.get(name)))
        elif name in keys:
            plan.append((name, name, None, by_name.get(name)))
        elif bind.callable is None and not bind.required:
            plan.append((name, None, bind.value, by_name.get(name)))
        else:
            return None
    return tuple(plan)


_prepared: dict[tuple[int, tuple[str, ...], str], Prepared] = {}


def prepared(statement, params: dict, dialect) -> Prepared:
    """``statement`` (a module-level constant) compiled for ``dialect`` with the value
    columns of ``params``, once."""
    keys = tuple(params)
    key = (id(statement), keys, dialect.name)
    found = _prepared.get(key)
    if found is None or found.statement is not statement:
        found = _prepared[key] = Prepared(statement, keys, dialect)
    return found


def run(session: Session | CoreTransaction | sa.Connection, statement, params: dict) -> list[tuple]:
    """``statement`` (a module-level constant) with ``params`` in the session's transaction
    (a :class:`.CoreTransaction`'s, or on a connection in a transaction); the rows it
    returns as tuples (none: ``[]``), the values SQLAlchemy would give.

    The write path's counterpart of :meth:`Database.fetch`: the statement runs on the
    driver's connection of the transaction, as SQL compiled once (per set of value columns),
    its parameters bound as SQLAlchemy binds them (the bind processors of their types: UTC
    times, JSON text, amounts) and its result values converted as SQLAlchemy converts them.
    SQLAlchemy's execution machinery (the execution context, its events, the cursor result)
    cost about as much as the statement itself on PostgreSQL, ten times it on SQLite.
    PostgreSQL: psycopg prepares it after a few uses; the values of UtcDateTime result
    columns are converted to UTC; every value an INSERT needs must be given (column defaults
    are not applied here: ValueError). SQLite: the driver's statement cache keeps it
    prepared; a statement whose column defaults SQLAlchemy would fill in, or with expanding
    parameters, runs through SQLAlchemy. Errors are raised as SQLAlchemy raises the
    driver's (a unique key taken: IntegrityError); a connection found broken is
    invalidated. Engine events (``before_cursor_execute``) do not see these statements."""
    if not isinstance(session, sa.Connection):  # a Session or a CoreTransaction
        connection = session.connection()
    else:  # begun as a statement through SQLAlchemy would begin it (SQLite: the writer lock)
        connection = session
        if not connection.in_transaction():
            connection.begin()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        found = prepared(statement, params, dialect)
        rows = run_sql(connection, found.sql, found.bind(params), found.rows)
        return [_in_utc(row, found.utc) for row in rows] if found.utc and rows else rows
    if dialect.name == "sqlite":
        found = prepared(statement, params, dialect)
        if found.direct:
            return _sqlite_rows(connection, found, found.bind_positional(params), dialect)
    result = connection.execute(statement, params)
    return [tuple(row) for row in result] if result.returns_rows else []


def _sqlite_rows(connection, found: Prepared, values: tuple, dialect) -> list[tuple]:
    """SQLite: ``found`` with ``values`` on the driver of ``connection`` (SQLAlchemy's
    Connection, or a pooled connection); its rows converted as SQLAlchemy's result
    processors convert them. Errors are raised as SQLAlchemy raises the driver's; a
    connection the dialect takes for lost (closed) is invalidated."""
    pooled = connection.connection if isinstance(connection, sa.Connection) else connection
    driver = pooled.driver_connection
    try:
        rows = driver.execute(found.sql, values).fetchall()
    except sqlite3.Error as exc:
        broken = dialect.is_disconnect(exc, driver, None)
        if broken:
            connection.invalidate()
        raise sa.exc.DBAPIError.instance(
            found.sql, None, exc, sqlite3.Error, connection_invalidated=broken
        ) from exc
    if not rows or not found.results:
        return rows
    if not found.checked:
        if len(rows[0]) != len(found.statement.exported_columns):
            raise RuntimeError(f"result columns not as compiled: {found.sql[:60]!r}")
        found.checked = True
    converted = []
    for row in rows:
        values = list(row)
        for index, process in found.results:
            values[index] = process(values[index])
        converted.append(tuple(values))
    return converted


def run_sql(connection: sa.Connection, sql: str, values: dict, rows: bool | None) -> list:
    """PostgreSQL: ``sql`` (pyformat) with ``values`` on the driver's cursor of
    ``connection`` (in a transaction); its rows when ``rows`` (None: when it has any), as
    psycopg gives them. Errors as in :func:`run`."""
    pooled = connection.connection
    driver = pooled.driver_connection
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        cursor = cursor_of(pooled).execute(sql, values)
        if rows is None:  # (asking the cursor builds a description of every column)
            rows = cursor.description is not None
        return cursor.fetchall() if rows else []
    except dbapi_error as exc:
        broken = driver.broken or driver.closed
        if broken:
            connection.invalidate()
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, dbapi_error, connection_invalidated=broken
        ) from exc


_CURSOR = "revisit_cursor"  # in a pooled connection's info: its driver cursor (cursor_of)


def cursor_of(pooled) -> psycopg.Cursor:
    """PostgreSQL: the driver's cursor of the pooled connection ``pooled`` (a connection of
    SQLAlchemy's pool), made once per DBAPI connection and reused by each statement
    :func:`run_sql` and :meth:`Database.fetch` run on it. psycopg's ``Connection.execute``
    makes a new cursor per statement (its adapters, its result loaders set up again): about
    a third of the CPU of a small prepared statement. A connection serves one thread at a
    time, its statements one after the other, so one cursor serves them all; the pool
    empties ``info`` when it replaces the DBAPI connection (invalidated, recycled), and a
    cursor not of this connection, or closed, is made again. It holds its last result until
    the next statement (the rows of one small statement)."""
    cursor = pooled.info.get(_CURSOR)
    driver = pooled.driver_connection
    if cursor is None or cursor.closed or cursor.connection is not driver:
        cursor = pooled.info[_CURSOR] = driver.cursor()
    return cursor


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


def _in_utc(row: tuple, positions: tuple[int, ...]) -> tuple:
    """The row with its values at ``positions`` (UtcDateTime columns) in UTC, as
    :meth:`UtcDateTime.process_result_value` gives them (psycopg: the session's time zone)."""
    values = list(row)
    for index in positions:
        value = values[index]
        if value is not None:
            values[index] = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return tuple(values)


def utcnow() -> datetime:
    return datetime.now(UTC)
