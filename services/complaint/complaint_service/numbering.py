"""Complaint serials: per tenant per month, gap-free, never duplicated.

One atomic statement in the creating transaction::

    INSERT INTO complaint_counters (tenant_id, period, value) VALUES (:t, :p, 1)
    ON CONFLICT (tenant_id, period) DO UPDATE SET value = complaint_counters.value + 1
    RETURNING value

On PostgreSQL concurrent creators of the same tenant and month queue on the counter row's
lock until the holder commits (or rolls back, which frees nothing: its increment vanishes
with it, so the next creator gets the same serial and no gap appears). On SQLite every write
transaction is serialised anyway (``BEGIN IMMEDIATE``). Call it as late as possible in the
transaction, so the row lock is held only for the few statements after it.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import counters_table


def allocate_serial(session: Session, tenant_id: str, period: str) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(counters_table).values(tenant_id=tenant_id, period=period, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=[counters_table.c.tenant_id, counters_table.c.period],
        set_={"value": counters_table.c.value + 1},
    ).returning(counters_table.c.value)
    return int(session.execute(statement).scalar_one())
