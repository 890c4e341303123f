"""The two queries every gateway request makes, kept cheap: the API-key lookup and the
audit entry.

Both run on every request (the lookup) or every write (the entry), so they skip what the
use cases of ``service.py`` need and these do not: no ORM session, no transaction of
several statements, no ping before each use.

On PostgreSQL each thread keeps a psycopg connection of its own in autocommit mode (one
round trip per statement, prepared by psycopg after a few uses; the key lookup prepared at
once and run through the connection's libpq object, ``Connection.pgconn``), with
``synchronous_commit = off`` (settable, ``REVISIT_AUDIT_SYNCHRONOUS_COMMIT``): an audit
entry is committed and visible at once, but its request does not wait for the WAL flush,
which the server does within a fraction of a second (a crash of the PostgreSQL server
itself, not of the gateway, can lose the last few hundred milliseconds of entries; the
database is never corrupted). A connection found broken is dropped and the statement tried
once more on a fresh one, so a database restart costs no request; errors are raised as
SQLAlchemy's (an unreachable database is a 503, as everywhere). On SQLite (standalone mode)
the service's own engine is used.

The key is looked up on every request, with no cache, so a revoked key fails at once on
every gateway process and replica.
"""

from __future__ import annotations

import hmac
import threading

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from revisit_common.db import Database
from revisit_common.identity import Identity
from revisit_common.ids import new_id

from . import domain
from .models import ApiKey, AuditEntry, Staff, TenantSettings

_KEYS = ApiKey.__table__
_STAFF = Staff.__table__
_AUDIT = AuditEntry.__table__
_SETTINGS = TenantSettings.__table__
# With the tenant's settings version, forwarded to the services (settings_catch_up.py),
# and whether the person the key acts as is still with the tenant.
FIND_KEY = (
    sa.select(
        _KEYS.c.id,
        _KEYS.c.tenant_id,
        _KEYS.c.role,
        _KEYS.c.department,
        _KEYS.c.key_hash,
        _SETTINGS.c.version,
        _KEYS.c.staff,
        _STAFF.c.active,
    )
    .select_from(
        _KEYS.outerjoin(_SETTINGS, _SETTINGS.c.tenant_id == _KEYS.c.tenant_id).outerjoin(
            _STAFF, sa.and_(_STAFF.c.tenant_id == _KEYS.c.tenant_id, _STAFF.c.id == _KEYS.c.staff)
        )
    )
    .where(_KEYS.c.key_hash == sa.bindparam("key_hash"), _KEYS.c.revoked_at.is_(None))
)
FIND_KEY_NAME = b"revisit_find_key"  # the lookup's prepared statement, on each connection
ENTRY_COLUMNS = ("id", "tenant_id", "at", "actor", "role", "method", "path", "status", "request_id")
ADD_ENTRY = sa.insert(_AUDIT).values({name: sa.bindparam(name) for name in ENTRY_COLUMNS})
SYNCHRONOUS_COMMIT = frozenset({"on", "off", "local", "remote_write", "remote_apply"})


class Store:
    """The key lookup and the audit insert, on ``db``'s database."""

    def __init__(self, db: Database, *, synchronous_commit: str = "off") -> None:
        if synchronous_commit not in SYNCHRONOUS_COMMIT:
            raise ValueError(
                f"REVISIT_AUDIT_SYNCHRONOUS_COMMIT={synchronous_commit!r}: one of "
                + ", ".join(sorted(SYNCHRONOUS_COMMIT))
            )
        self.db = db
        self._pg = _PgConnections(db, synchronous_commit) if db.is_postgres else None
        if self._pg is not None:
            dialect = db.engine.dialect
            self._find_sql = str(FIND_KEY.compile(dialect=dialect))
            self._add_sql = str(ADD_ENTRY.compile(dialect=dialect))
            # libpq's own placeholder, for the statement prepared on each connection
            self._find_sql_numbered = self._find_sql.replace("%(key_hash)s", "$1")
            if "%(" in self._find_sql_numbered:  # a parameter libpq would not see
                raise RuntimeError(f"unexpected key lookup SQL: {self._find_sql_numbered}")
        # SQLite (standalone): the service's own engine; reads take no write lock.
        self._reads = db.engine.execution_options(revisit_read_only=True)

    def find_key(self, key: str | None) -> Identity | None:
        """The identity of the active key ``key`` (unknown, revoked or malformed, or acting
        as a person who left: None). ``actor`` is the key's id (the rate limiter counts per
        key); ``staff`` the person it acts as."""
        if not key or len(key) > domain.MAX_KEY_LENGTH:
            return None
        digest = domain.hash_key(key)
        params = {"key_hash": digest}
        if self._pg is not None:
            row = self._pg.fetch_prepared(FIND_KEY_NAME, self._find_sql_numbered, digest)
            if row is not None:
                row = _typed_key_row(row)
        else:
            with self._reads.connect() as conn:
                row = conn.execute(FIND_KEY, params).first()
        if row is None:
            return None
        key_id, tenant_id, role, department, stored, settings_version, staff, active = row
        if not hmac.compare_digest(digest, stored):
            return None
        if staff is not None and not active:
            return None  # the person left (or is unknown): the key acts for nobody any more
        return Identity(
            tenant_id=tenant_id,
            role=role,
            actor=key_id,
            department=department,
            settings_version=settings_version,
            staff=staff,
        )

    def add_entry(self, values: dict) -> None:
        """Insert one audit entry (AuditEntry's columns), committed. Its id is made here
        when missing, before any retry, so a retry can never record it twice."""
        params = {name: values.get(name) for name in ENTRY_COLUMNS}
        params["id"] = params["id"] or new_id()
        if self._pg is not None:
            self._pg.run(self._add_sql, params, fetch=False)
        else:
            with self.db.engine.begin() as conn:
                conn.execute(ADD_ENTRY, params)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()


def _typed_key_row(row: tuple[str | None, ...]) -> tuple:
    """FIND_KEY's row as libpq gives it (text) in the columns' types: the settings version
    an integer, ``active`` a boolean."""
    key_id, tenant_id, role, department, stored, version, staff, active = row
    return (
        key_id,
        tenant_id,
        role,
        department,
        stored,
        None if version is None else int(version),
        staff,
        None if active is None else active == "t",
    )


class _PgConnections:
    """One autocommit psycopg connection per thread, opened on first use."""

    def __init__(self, db: Database, synchronous_commit: str):
        url = db.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        options = [f"-csynchronous_commit={synchronous_commit}"]
        if db.schema:
            options.insert(0, f"-csearch_path={db.schema}")
        self.options = " ".join(options)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list = []

    def _connect(self, sql: str):
        import psycopg

        try:
            conn = psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=5, options=self.options
            )
        except psycopg.Error as exc:
            raise OperationalError(sql, None, exc) from None
        with self._lock:
            self._open = [c for c in self._open if not c.closed]
            self._open.append(conn)
        self._local.conn = conn
        return conn

    def run(self, sql: str, params: dict, *, fetch: bool):
        """``sql`` with ``params``: the first row when ``fetch``; once more on a fresh
        connection when this thread's kept one turns out broken."""
        import psycopg

        conn = getattr(self._local, "conn", None)
        fresh = conn is None or conn.closed
        for attempt in range(2):
            if fresh:
                conn = self._connect(sql)
            try:
                cursor = conn.execute(sql, params)
                return cursor.fetchone() if fetch else None
            except psycopg.Error as exc:
                broken = conn.broken or conn.closed
                if broken:
                    conn.close()
                    self._local.conn = None
                if broken and not fresh and attempt == 0:
                    fresh = True
                    continue
                # the message only: the parameters (a key's hash) stay out of errors and logs
                unreachable = broken or isinstance(exc, psycopg.OperationalError)
                error = OperationalError if unreachable else DBAPIError
                raise error(sql, None, exc) from None
        raise AssertionError("unreachable")

    def fetch_prepared(self, name: bytes, sql: str, param: str) -> tuple[str | None, ...] | None:
        """The first row of ``sql`` (one ``$1`` parameter, text) as text values, or None;
        prepared once per connection under ``name`` and run through the connection's libpq
        object (``Connection.pgconn``: one call, no cursor, no adaptation: a fifth of the
        client CPU of ``execute``; the GIL is released while it waits). Errors and broken
        connections as :meth:`run`."""
        import psycopg
        from psycopg import pq

        conn = getattr(self._local, "conn", None)
        fresh = conn is None or conn.closed
        for attempt in range(2):
            if fresh:
                conn = self._connect(sql)
            try:
                pgconn = conn.pgconn
                prepared = getattr(self._local, "prepared", None)
                if prepared is None or prepared[0] is not conn:
                    prepared = self._local.prepared = (conn, set())
                if name not in prepared[1]:
                    _check(pgconn, pgconn.prepare(name, sql.encode()), pq.ExecStatus.COMMAND_OK)
                    prepared[1].add(name)
                result = pgconn.exec_prepared(name, [param.encode()])
                _check(pgconn, result, pq.ExecStatus.TUPLES_OK)
                if result.ntuples == 0:
                    return None
                encoding = conn.info.encoding
                return tuple(
                    None if value is None else value.decode(encoding)
                    for value in (result.get_value(0, i) for i in range(result.nfields))
                )
            except psycopg.Error as exc:
                broken = conn.broken or conn.closed or pgconn.status == pq.ConnStatus.BAD
                if broken:
                    conn.close()
                    self._local.conn = None
                if broken and not fresh and attempt == 0:
                    fresh = True
                    continue
                unreachable = broken or isinstance(exc, psycopg.OperationalError)
                error = OperationalError if unreachable else DBAPIError
                raise error(sql, None, exc) from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()


def _check(pgconn, result, expected) -> None:
    """Raise the psycopg error of a libpq result that is not ``expected`` (its SQLSTATE's
    class, as ``execute`` would raise)."""
    import psycopg
    from psycopg import pq

    if result.status == expected:
        return
    if result.status != pq.ExecStatus.FATAL_ERROR:
        raise psycopg.OperationalError(f"unexpected result {result.status.name}")
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    message = (result.error_message or pgconn.error_message or b"").decode("utf-8", "replace")
    try:
        cls = psycopg.errors.lookup(sqlstate.decode()) if sqlstate else psycopg.DatabaseError
    except KeyError:
        cls = psycopg.DatabaseError
    raise cls(message.strip())
