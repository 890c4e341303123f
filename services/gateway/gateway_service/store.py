"""The two queries every gateway request makes, kept cheap: the API-key lookup and the
audit entry.

Both run on every request (the lookup) or every write (the entry), so they skip what the
use cases of ``service.py`` need and these do not: no ORM session, no transaction of
several statements, no ping before each use.

On PostgreSQL each thread keeps a psycopg connection of its own in autocommit mode (one
round trip per statement, prepared by psycopg after a few uses), with
``synchronous_commit = off`` (settable, ``REVISIT_AUDIT_SYNCHRONOUS_COMMIT``): an audit
entry is committed and visible at once, but its request does not wait for the WAL flush,
which the server does within a fraction of a second (a crash of the PostgreSQL server
itself, not of the gateway, can lose the last few hundred milliseconds of entries; the
database is never corrupted). A connection found broken is dropped and the statement tried
once more on a fresh one, so a database restart costs no request; errors are raised as
SQLAlchemy's (an unreachable database is a 503, as everywhere). On SQLite (standalone mode)
the service's own engine's connections are used, the statements compiled once and run on
the driver: the lookup as one statement outside any transaction (``Database.fetch``: no
write lock), the entry in a write transaction of its own (``db.run``).

The key is looked up on every request, with no cache, so a revoked key fails at once on
every gateway process and replica. On PostgreSQL, ``key_cache`` (REVISIT_KEY_CACHE) keeps
the identities of active keys instead (``key_cache.py``) while a ``LISTEN`` connection hears
of every change to keys, people and settings: at once in this process, as soon as the
notification arrives in the others.
"""

from __future__ import annotations

import hmac
import threading

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from revisit_common.db import Database, run
from revisit_common.identity import Identity
from revisit_common.ids import new_id

from . import domain
from .key_cache import KeyCache
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
ENTRY_COLUMNS = ("id", "tenant_id", "at", "actor", "role", "method", "path", "status", "request_id")
ADD_ENTRY = sa.insert(_AUDIT).values({name: sa.bindparam(name) for name in ENTRY_COLUMNS})
SYNCHRONOUS_COMMIT = frozenset({"on", "off", "local", "remote_write", "remote_apply"})


class Store:
    """The key lookup and the audit insert, on ``db``'s database."""

    def __init__(
        self, db: Database, *, synchronous_commit: str = "off", key_cache: bool = False
    ) -> None:
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
        # The identities of active keys, while PostgreSQL tells of every change (opt-in).
        self.keys = KeyCache(self._pg.conninfo, db.schema) if self._pg and key_cache else None

    def find_key(self, key: str | None) -> Identity | None:
        """The identity of the active key ``key`` (unknown, revoked or malformed, or acting
        as a person who left: None). ``actor`` is the key's id (the rate limiter counts per
        key); ``staff`` the person it acts as."""
        if not key or len(key) > domain.MAX_KEY_LENGTH:
            return None
        digest = domain.hash_key(key)
        keys = self.keys
        if keys is not None:
            kept = keys.get(digest)
            if kept is not None:
                return kept
            generation = keys.generation()
        params = {"key_hash": digest}
        if self._pg is not None:
            row = self._pg.run(self._find_sql, params, fetch=True)
        else:  # one statement, no transaction: takes no write lock (Database.fetch)
            row = next(iter(self.db.fetch(FIND_KEY, params)), None)
        if row is None:
            return None
        key_id, tenant_id, role, department, stored, settings_version, staff, active = row
        if not hmac.compare_digest(digest, stored):
            return None
        if staff is not None and not active:
            return None  # the person left (or is unknown): the key acts for nobody any more
        identity = Identity(
            tenant_id=tenant_id,
            role=role,
            actor=key_id,
            department=department,
            settings_version=settings_version,
            staff=staff,
        )
        if keys is not None:
            keys.put(digest, identity, generation)
        return identity

    def keys_changed(self) -> None:
        """Keys, people or settings were changed by this process: every identity it keeps
        for this database is looked up again (other processes hear it from PostgreSQL)."""
        if self.keys is not None:
            self.keys.changed()

    def add_entry(self, values: dict) -> None:
        """Insert one audit entry (AuditEntry's columns), committed. Its id is made here
        when missing, before any retry, so a retry can never record it twice."""
        params = {name: values.get(name) for name in ENTRY_COLUMNS}
        params["id"] = params["id"] or new_id()
        if self._pg is not None:
            self._pg.run(self._add_sql, params, fetch=False)
        else:
            with self.db.engine.begin() as conn:  # the writer queue, BEGIN IMMEDIATE
                run(conn, ADD_ENTRY, params)

    def close(self) -> None:
        if self.keys is not None:
            self.keys.close()
        if self._pg is not None:
            self._pg.close()


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
        # One cursor per connection for every statement: psycopg's Connection.execute
        # makes a new one each time (its adapters and loaders set up again), about a
        # third of such a small statement's CPU (as db.cursor_of).
        self._local.cursor = conn.cursor()
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
                cursor = self._local.cursor.execute(sql, params)
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

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()
