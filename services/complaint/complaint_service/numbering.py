"""Complaint serials: per tenant per month, gap-free, never duplicated.

One atomic statement in the creating transaction::

    INSERT INTO complaint_counters (tenant_id, period, value) VALUES (:t, :p, 1)
    ON CONFLICT (tenant_id, period) DO UPDATE SET value = complaint_counters.value + 1
    RETURNING value

On PostgreSQL concurrent creators of the same tenant and month queue on the counter row's
lock until the holder commits (or rolls back, which frees nothing: its increment vanishes
with it, so the next creator gets the same serial and no gap appears). On SQLite every write
transaction is serialised anyway (``BEGIN IMMEDIATE``). Call it as late as possible in the
transaction, so the row lock is held only for the few statements after it. Registering a
complaint of a customer its copy knows takes it in the transaction's first statement, with
the copy's read (copy_and_serial.py): a round trip fewer for a lock held a little longer.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from revisit_common import db

from .models import counters_table

_STATEMENTS: dict[str, sa.Insert] = {}  # per dialect: built once, its values as parameters


def _statement(dialect: str) -> sa.Insert:
    statement = _STATEMENTS.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(counters_table).values(
            tenant_id=sa.bindparam("tenant_id"), period=sa.bindparam("period"), value=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=[counters_table.c.tenant_id, counters_table.c.period],
            set_={"value": counters_table.c.value + 1},
        ).returning(counters_table.c.value)
        _STATEMENTS[dialect] = statement
    return statement


def allocate_serial(session: Session, tenant_id: str, period: str) -> int:
    # db.run: on PostgreSQL compiled once and run on the driver's cursor
    statement = _statement(session.get_bind().dialect.name)
    [(value,)] = db.run(session, statement, {"tenant_id": tenant_id, "period": period})
    return int(value)
