"""The transactional outbox: events written as rows in the state change's own transaction.

:class:`Outbox` adds the rows (the relay, :mod:`.relay`, publishes them). ``add`` keeps the
transaction's envelopes on its session, and they are written when it commits, before the
COMMIT (SQLAlchemy's ``before_commit``), all of them in one statement whatever their number:
on PostgreSQL one ``INSERT ... SELECT FROM json_to_recordset`` whose statement also sends a
``NOTIFY`` (:data:`NOTIFY_CHANNEL`, the schema as payload), so a relay in another process
(the worker, while the rows are written by the web process) starts publishing at once
instead of at its next poll; on SQLite one ``INSERT ... SELECT FROM json_each``, run on the
driver's connection (:func:`revisit_common.db.run`). A failure writing them fails the
commit. A relay in this process is woken through :attr:`Outbox.wake_event` once
the commit is done (PostgreSQL delivers the NOTIFY only then too).

A use case whose last write is one statement (a row inserted or updated) can have the
events added so far written with it instead (:meth:`Outbox.write_with`): on PostgreSQL the
statement becomes a CTE of the rows' INSERT, one round trip for both.

In a :class:`.CoreTransaction` (no Session) the same two steps run from its commit hooks
(:meth:`.CoreTransaction.on_commit`), registered with the transaction's first row.

Savepoints: a row added inside a savepoint that is rolled back is dropped with it; rows
written inside one (the envelopes still waiting when a savepoint commits are written there,
as the outermost transaction's ``before_commit`` may run while one is still open) and rolled
back with it are written again at the next commit. Code reading the outbox inside the
transaction that adds to it would not see the rows before the commit (none does).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, SessionTransaction

from .. import db
from ..core_transaction import CoreTransaction
from ..db import Database
from ..events import Event
from .envelope import Envelope, wrap

_meta = sa.MetaData()
outbox_table = sa.Table(
    "outbox",
    _meta,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("event_id", sa.String(36)),
    sa.Column("routing_key", sa.String(200)),
    sa.Column("body", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer),
    sa.Column("last_error", sa.Text),
)

# One channel for every outbox of a database; the payload is the schema whose outbox got
# rows, so a relay wakes only for its own.
NOTIFY_CHANNEL = "revisit_outbox"

# PostgreSQL: the rows as one JSON array parameter (in the order added, which their ids
# follow), inserted and announced in one statement whose text does not depend on their
# number (parsed once; PostgreSQL sends the NOTIFY at COMMIT, and only then). An INSERT
# without RETURNING, its NOTIFY in a CTE joined once: no result row to set up.
_FIELDS = ("event_id", "routing_key", "body", "created_at")
_INSERT_AND_NOTIFY = sa.text(
    f"WITH notified AS MATERIALIZED (SELECT pg_notify('{NOTIFY_CHANNEL}', current_schema())) "
    f"INSERT INTO {outbox_table.name} ({', '.join(_FIELDS)}, attempts) "
    f"SELECT {', '.join(f'r.{name}' for name in _FIELDS)}, 0 "
    "FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) "
    "AS (event_id varchar, routing_key varchar, body text, created_at timestamptz)) "
    f"WITH ORDINALITY AS r({', '.join(_FIELDS)}, n) CROSS JOIN notified ORDER BY r.n"
)
# SQLite: the same, the rows as one JSON array of [event_id, routing_key, body, created_at]
# (created_at as SQLAlchemy's SQLite DateTime stores it). (``WHERE true``: SQLite's parser
# would otherwise read what follows the FROM as a join's.)
_INSERT_SQLITE = sa.text(
    f"INSERT INTO {outbox_table.name} ({', '.join(_FIELDS)}, attempts) "
    "SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), "
    "json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]'), 0 "
    "FROM json_each(:rows) AS r WHERE true ORDER BY r.key"
)
_sqlite_dialect = sqlite.dialect()
_sqlite_time = outbox_table.c.created_at.type.dialect_impl(_sqlite_dialect).bind_processor(
    _sqlite_dialect
)
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

_PENDING = "revisit_outbox"  # session.info: the transaction's _Pending


@dataclass(eq=False)
class _Row:
    owner: SessionTransaction  # the (nested) transaction it was added in
    values: dict
    wake: threading.Event
    written_in: SessionTransaction | None = None


@dataclass(eq=False)
class _Pending:
    root: SessionTransaction
    rows: list[_Row] = field(default_factory=list)
    wakes: set[threading.Event] = field(default_factory=set)  # of the rows written


class Outbox:
    """Adds events to the current transaction; they are written, and the relay woken, when
    it commits."""

    def __init__(self, region: str, service: str | None = None):
        self.region = region
        self.service = service
        self._wake = threading.Event()

    @property
    def wake_event(self) -> threading.Event:
        return self._wake

    def add(
        self,
        session: Session | CoreTransaction,
        event: Event,
        *,
        tenant_id: str,
        correlation_id: str | None = None,
    ) -> Envelope:
        envelope = wrap(
            event,
            tenant_id=tenant_id,
            region=self.region,
            correlation_id=correlation_id,
            service=self.service,
        )
        root = session.get_transaction()
        if root is None:
            session.connection()  # begins it, as a statement would have
            root = session.get_transaction()
        pending = session.info.get(_PENDING)
        if pending is None or pending.root is not root:  # the first of this transaction
            pending = session.info[_PENDING] = _Pending(root)
            if isinstance(session, CoreTransaction):  # (a Session: its events, below)
                session.on_commit(_write_rows, _wake_relays)
        values = {
            "event_id": envelope.id,
            "routing_key": event.routing_key(),
            "body": envelope.to_json(),
            "created_at": envelope.time,
        }
        owner = session.get_nested_transaction() or root
        pending.rows.append(_Row(owner, values, self._wake))
        return envelope

    def write_with(self, session: Session | CoreTransaction, statement, params: dict) -> None:
        """Run ``statement`` (an INSERT, UPDATE or DELETE without RETURNING, a module-level
        constant; :func:`revisit_common.db.run`) in the session's transaction and write the
        events added to it so far now, with it: on PostgreSQL in one statement (the
        statement a CTE of the rows' INSERT and NOTIFY), a round trip fewer than the
        statement and then the rows at commit; elsewhere the statement, then the rows.
        Events added afterwards are written at commit as usual; a rollback (of the
        transaction, or of a savepoint they were written in) undoes them as any write."""
        connection = session.connection()
        pending, rows = _unwritten(session)
        if not rows:
            db.run(connection, statement, params)
            return
        if connection.dialect.name != "postgresql":
            db.run(connection, statement, params)
            _write(session, rows)
        else:
            found = db.prepared(statement, params, connection.dialect)
            values = found.bind(params)
            if "rows" in values:
                raise ValueError("a parameter named 'rows' would be the outbox rows'")
            values["rows"] = _dumps([row.values for row in rows])
            head, tail = _pg_sql(connection.dialect).split(" INSERT INTO ", 1)
            sql = f"{head}, written AS ({found.sql}) INSERT INTO {tail}"
            db.run_sql(connection, sql, values, False)
        _mark_written(session, pending, rows)


_compiled_sql: dict[str, str] = {}  # dialect name -> _INSERT_AND_NOTIFY's SQL


def _pg_sql(dialect) -> str:
    sql = _compiled_sql.get(dialect.name)
    if sql is None:
        sql = _compiled_sql[dialect.name] = str(_INSERT_AND_NOTIFY.compile(dialect=dialect))
    return sql


def _write(session: Session, rows: list[_Row]) -> None:
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        # as SQL compiled once, through the driver-SQL path (its events still fire, but no
        # compiled-cache lookup and no parameter processing per commit)
        rows_json = _dumps([row.values for row in rows])
        connection.exec_driver_sql(_pg_sql(dialect), {"rows": rows_json})
        return
    values = [
        [
            row.values["event_id"],
            row.values["routing_key"],
            row.values["body"],
            _sqlite_time(datetime.fromisoformat(row.values["created_at"])),
        ]
        for row in rows
    ]
    db.run(connection, _INSERT_SQLITE, {"rows": _dumps(values)})


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


# One listener of each kind for every session (registered once, not once per transaction:
# that costs more than the insert itself).


@sa.event.listens_for(Session, "before_commit")
def _write_rows(session: Session) -> None:
    """Write the envelopes not yet written, in one statement, before the COMMIT (or the
    RELEASE of a savepoint: SQLAlchemy calls this for both, and for the outermost
    transaction possibly while a savepoint is still open, released after it)."""
    pending, rows = _unwritten(session)
    if rows:
        _write(session, rows)
        _mark_written(session, pending, rows)


def _unwritten(session: Session) -> tuple[_Pending | None, list[_Row]]:
    """The transaction's envelopes not written yet (forgetting those of an earlier one)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        return None, []
    if pending.root is not session.get_transaction():  # left by an earlier transaction
        del session.info[_PENDING]
        return None, []
    return pending, [row for row in pending.rows if row.written_in is None]


def _mark_written(session: Session, pending: _Pending, rows: list[_Row]) -> None:
    """``rows`` were written in the (nested) transaction now open: their relays are woken
    at commit; a rollback of that savepoint has them written again."""
    current = session.get_nested_transaction() or pending.root
    for row in rows:
        row.written_in = current
        pending.wakes.add(row.wake)


@sa.event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    """The outermost transaction committed: wake this process's relays that got rows."""
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is visible to the relays yet
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        for wake in pending.wakes:
            wake.set()


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rows(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rollback: of the whole transaction, everything goes; of a savepoint, the rows added
    inside it go, and the rows only written inside it wait to be written again."""
    pending = session.info.get(_PENDING)
    if pending is None:
        return
    if previous_transaction.parent is None:
        del session.info[_PENDING]
        return
    kept = []
    for row in pending.rows:
        if _within(row.owner, previous_transaction):
            continue
        if _within(row.written_in, previous_transaction):
            row.written_in = None
        kept.append(row)
    pending.rows = kept


def pending_count(db: Database) -> int:
    """How many outbox rows are not yet marked sent."""
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox_table)
            .where(outbox_table.c.sent_at.is_(None))
        ).scalar_one()
