"""The transactional outbox: events written as rows in the state change's own transaction.

:class:`Outbox` adds the rows (the relay, :mod:`.relay`, publishes them). On PostgreSQL a
commit that added outbox rows also sends a ``NOTIFY`` (:data:`NOTIFY_CHANNEL`, the schema
as payload), so a relay in another process (the worker, while the rows are written by the
web process) starts publishing at once instead of at its next poll; a relay in this
process is woken through :attr:`Outbox.wake_event`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

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

# One statement, its values as parameters: built and compiled once, not for every event.
_INSERT = outbox_table.insert()

# One channel for every outbox of a database; the payload is the schema whose outbox got
# rows, so a relay wakes only for its own.
NOTIFY_CHANNEL = "revisit_outbox"
_NOTIFY = sa.text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', current_schema())")
_ADDED = "revisit_outbox_transaction"


class Outbox:
    """Writes events into the current transaction and wakes the relay after commit."""

    def __init__(self, region: str, service: str | None = None):
        self.region = region
        self.service = service
        self._wake = threading.Event()

    @property
    def wake_event(self) -> threading.Event:
        return self._wake

    def add(
        self,
        session: Session,
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
        session.execute(
            _INSERT,
            {
                "event_id": envelope.id,
                "routing_key": event.routing_key(),
                "body": envelope.to_json(),
                "created_at": datetime.now(UTC),
                "attempts": 0,
            },
        )
        self._announce(session)
        return envelope

    def _announce(self, session: Session) -> None:
        """Once per transaction: wake the relays when it commits (this process's through the
        event, another process's through NOTIFY, which PostgreSQL sends only on commit)."""
        transaction = session.get_transaction()
        if session.info.get(_ADDED) is transaction:
            return
        session.info[_ADDED] = transaction
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_NOTIFY)
        session.info.setdefault(_WAKE, set()).add(self._wake)


_WAKE = "revisit_outbox_wake"  # session.info: the relays' events to set when it commits


@sa.event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    """One listener for every session (registered once, not once per transaction: that
    costs more than the insert itself)."""
    for wake in session.info.pop(_WAKE, ()):
        wake.set()


@sa.event.listens_for(Session, "after_rollback")
def _forget_wakes(session: Session) -> None:
    session.info.pop(_WAKE, None)


def pending_count(db: Database) -> int:
    """How many outbox rows are not yet marked sent."""
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox_table)
            .where(outbox_table.c.sent_at.is_(None))
        ).scalar_one()
