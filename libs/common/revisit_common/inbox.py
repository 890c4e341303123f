"""Idempotent consumers: the ids of applied events, written in the handler's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_meta = sa.MetaData()
inbox_table = sa.Table(
    "inbox",
    _meta,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("event_type", sa.String(100)),
    sa.Column("applied_at", sa.DateTime(timezone=True)),
)


def claim(session: Session, consumer: str, event_id: str, event_type: str) -> bool:
    """Record ``event_id`` as applied by ``consumer``; False if it already was.

    Runs inside the handler's transaction: if the handler fails, the claim rolls back with
    it; if it commits, a redelivery finds the row and is skipped. On PostgreSQL a concurrent
    duplicate waits for the first transaction and then finds the row.
    """
    values = {
        "consumer": consumer,
        "event_id": event_id,
        "event_type": event_type,
        "applied_at": datetime.now(UTC),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # SQLAlchemy 2.1 reports rowcount for INSERT only when asked to keep it: without
    # preserve_rowcount it is -1 on psycopg, and every event would look like a duplicate.
    result = session.execute(
        insert(inbox_table).values(**values).on_conflict_do_nothing(),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount == 1
