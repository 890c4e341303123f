"""Recording a purchase (``POST /customers/{id}/purchases``), the customer service's most
frequent write, with statements compiled once and run on the transaction's connection
(:func:`revisit_common.db.run`) instead of the ORM:

1. the customer's row, locked until the transaction ends (PostgreSQL: a second writer of the
   same customer waits, then reads what the first wrote; SQLite's writers queue anyway);
2. the purchase row, the purchase added to the customer's running day and month sums, and
   the windows' totals read (one statement on PostgreSQL, :func:`purchase_sums.record`);
3. the customer graded again from those totals (the same ``service.reclassify`` every
   change uses: CustomerGraded / CustomerRiskChanged on a change);
4. PurchaseRecorded, ``first_purchase`` when the customer had none before, and the
   customer's derived fields written with the events (one statement on PostgreSQL,
   :meth:`Outbox.write_with`).

:func:`purchase_body` renders the purchase as ``PurchaseOutSchema`` dumps it.

The work is the same for a customer with ten purchases as for one with ten thousand. Core
statements only: the route runs it in a :class:`~revisit_common.core_transaction.CoreTransaction`
(``use_case.write_core``), no Session.
"""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import db, events
from revisit_common.caller import Caller
from revisit_common.errors import Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied

from . import purchase_sums, service, validity
from .customer_view import iso, money
from .models import Customer

CUSTOMERS = Customer.__table__
LOCKED_CUSTOMER = (
    sa.select(CUSTOMERS)
    .where(CUSTOMERS.c.id == sa.bindparam("id"), CUSTOMERS.c.tenant_id == sa.bindparam("tenant"))
    .with_for_update()
)
COLUMNS = tuple(column.key for column in LOCKED_CUSTOMER.selected_columns)
# the columns a purchase changes: what grading derives, and the count
UPDATE_CUSTOMER = sa.update(CUSTOMERS).where(CUSTOMERS.c.id == sa.bindparam("customer_id"))
WRITTEN = (
    "annual_purchase_amount", "size_tier", "cooperation_tier", "score", "grade", "risk_level",
    "risk_reasons", "updated_at", "graded_at", "purchase_count",
)  # fmt: skip


def record_purchase(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, data: dict
) -> dict:
    """Record a purchase of the caller's tenant's customer; the purchase as rendered."""
    connection = session.connection()
    rows = db.run(connection, LOCKED_CUSTOMER, {"id": customer_id, "tenant": caller.tenant_id})
    if not rows:
        raise NotFound("customer")
    now = caller.now()
    if validity.in_future(data["purchased_at"], now):
        raise Invalid({"purchased_at": ["must not be in the future"]})
    customer = SimpleNamespace(**dict(zip(COLUMNS, rows[0], strict=True)))
    first = not customer.purchase_count
    purchase = {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "customer_id": customer.id,
        "amount": data["amount"],
        "product": data["product"],
        "quantity": data.get("quantity", 1),
        "purchased_at": data["purchased_at"],
        "created_at": now,
    }
    policy, timezone = service.policy_for(session, caller.tenant_id)
    sums = purchase_sums.record(session, purchase, service.local_today(timezone, now))
    customer.purchase_count += 1
    service.reclassify(
        session, outbox, customer, caller, policy=policy, timezone=timezone, at=now, sums=sums
    )
    service.publish(
        session,
        outbox,
        caller,
        events.PurchaseRecorded(
            purchase_id=purchase["id"],
            customer_id=customer.id,
            **copied(customer, "region", "owner", "grade"),
            amount=str(purchase["amount"]),
            product=purchase["product"],
            purchased_at=purchase["purchased_at"].isoformat(),
            first_purchase=first,
            quantity=purchase["quantity"],
        ),
    )
    # the customer's derived fields written with the events: one statement on PostgreSQL
    written = {name: getattr(customer, name) for name in WRITTEN}
    outbox.write_with(session, UPDATE_CUSTOMER, {**written, "customer_id": customer.id})
    return purchase


def purchase_body(purchase: dict) -> dict:
    """``PurchaseOutSchema().dump(purchase)`` for a purchase :func:`record_purchase` returns
    (the unit tests hold the two equal)."""
    return {
        "id": purchase["id"],
        "customer_id": purchase["customer_id"],
        "amount": money(purchase["amount"]),
        "product": purchase["product"],
        "quantity": purchase["quantity"],
        "purchased_at": iso(purchase["purchased_at"]),
        "created_at": iso(purchase["created_at"]),
    }
