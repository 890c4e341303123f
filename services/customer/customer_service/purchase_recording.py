"""Recording a purchase (``POST /customers/{id}/purchases``), the customer service's most
frequent write, with prepared statements on the session's connection instead of the ORM:

1. the customer's row, locked until the transaction ends (PostgreSQL: a second writer of the
   same customer waits, then reads what the first wrote; SQLite's writers queue anyway);
2. the purchase row, and the purchase added to the customer's running day and month sums;
3. the customer graded again from those sums (the same ``service.reclassify`` every change
   uses: CustomerGraded / CustomerRiskChanged on a change) and its derived fields written;
4. PurchaseRecorded, ``first_purchase`` when the customer had none before.

The work is the same for a customer with ten purchases as for one with ten thousand.
"""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import events
from revisit_common.caller import Caller
from revisit_common.errors import Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied

from . import purchase_sums, service, validity
from .models import Customer, Purchase

CUSTOMERS, PURCHASES = Customer.__table__, Purchase.__table__
LOCKED_CUSTOMER = (
    sa.select(CUSTOMERS)
    .where(CUSTOMERS.c.id == sa.bindparam("id"), CUSTOMERS.c.tenant_id == sa.bindparam("tenant"))
    .with_for_update()
)
INSERT_PURCHASE = sa.insert(PURCHASES)
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
    found = connection.execute(LOCKED_CUSTOMER, {"id": customer_id, "tenant": caller.tenant_id})
    row = found.mappings().first()
    if row is None:
        raise NotFound("customer")
    if validity.in_future(data["purchased_at"], caller.now()):
        raise Invalid({"purchased_at": ["must not be in the future"]})
    customer = SimpleNamespace(**row)
    first = not customer.purchase_count
    purchase = {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "customer_id": customer.id,
        "amount": data["amount"],
        "product": data["product"],
        "quantity": data.get("quantity", 1),
        "purchased_at": data["purchased_at"],
        "created_at": caller.now(),
    }
    connection.execute(INSERT_PURCHASE, purchase)
    purchase_sums.add(session, customer.id, purchase["amount"], purchase["purchased_at"])
    customer.purchase_count += 1
    service.reclassify(session, outbox, customer, caller)
    written = {name: getattr(customer, name) for name in WRITTEN}
    connection.execute(UPDATE_CUSTOMER, {"customer_id": customer.id, **written})
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
    return purchase
