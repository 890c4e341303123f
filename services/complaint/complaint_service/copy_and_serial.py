"""A complaint's customer (from the copy) and its serial, read and taken together.

Registering a complaint reads its customer's copy (customers.py) and takes the next serial
of its tenant and month (numbering.py). On PostgreSQL both are one statement, a round trip
fewer::

    WITH customer_copy AS (SELECT region, size_tier, grade FROM complaint_customers
                           WHERE tenant_id = :tenant_id AND customer_id = :customer_id),
    new_serial AS (INSERT INTO complaint_counters (tenant_id, period, value)
                   SELECT :tenant_id, :period, 1 FROM customer_copy
                   ON CONFLICT (tenant_id, period)
                   DO UPDATE SET value = complaint_counters.value + 1 RETURNING value)
    SELECT region, size_tier, grade, new_serial.value FROM customer_copy JOIN new_serial ON true

A customer the copy does not know takes no serial (the INSERT selects no row): the caller
asks the customer service, then takes the serial on its own (:func:`.numbering.allocate_serial`),
so no lock is held while it waits. Taken here, the serial's counter row stays locked from the
first statement of the transaction to its commit: serials stay gap-free and unique as
numbering.py says, and creators of one tenant and month queue a little longer. On SQLite (no
INSERT in a WITH; every write transaction serialised anyway) two statements.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from revisit_common import db

from .customers import COPIES, COPY_OF, Copy
from .models import counters_table
from .numbering import allocate_serial

_copy = COPY_OF.cte("customer_copy")
_serial = (
    postgresql.insert(counters_table)
    .from_select(
        ["tenant_id", "period", "value"],
        sa.select(
            sa.bindparam("tenant_id", type_=COPIES.c.tenant_id.type),
            sa.bindparam("period", type_=counters_table.c.period.type),
            sa.literal(1, type_=counters_table.c.value.type),
        ).select_from(_copy),
    )
    .on_conflict_do_update(
        index_elements=[counters_table.c.tenant_id, counters_table.c.period],
        set_={"value": counters_table.c.value + 1},
    )
    .returning(counters_table.c.value)
    .cte("new_serial")
)
COPY_AND_SERIAL = sa.select(
    _copy.c.region, _copy.c.size_tier, _copy.c.grade, _serial.c.value
).select_from(_copy.join(_serial, sa.true()))


def copy_and_serial(
    session: Session, tenant_id: str, customer_id: str, period: str
) -> tuple[Copy, int] | None:
    """The copy of the tenant's customer ``customer_id`` and the next serial of the tenant's
    ``period``; None, with no serial taken, when the copy does not know the customer."""
    params = {"tenant_id": tenant_id, "customer_id": customer_id}
    if session.get_bind().dialect.name != "postgresql":
        rows = db.run(session, COPY_OF, params)
        if not rows:
            return None
        return Copy(*rows[0]), allocate_serial(session, tenant_id, period)
    rows = db.run(session, COPY_AND_SERIAL, {**params, "period": period})
    if not rows:
        return None
    region, size_tier, grade, value = rows[0]
    return Copy(region, size_tier, grade), int(value)
