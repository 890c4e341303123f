"""A customer as ``GET /customers/{id}`` renders it, read without the ORM: two prepared
queries (the customer, its contacts in order) on the session's connection, their rows as
dicts. Nothing is kept in the session: the read changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.errors import NotFound

from .models import Contact, Customer

CUSTOMERS, CONTACTS = Customer.__table__, Contact.__table__
CUSTOMER = sa.select(CUSTOMERS).where(
    CUSTOMERS.c.id == sa.bindparam("id"), CUSTOMERS.c.tenant_id == sa.bindparam("tenant_id")
)
ITS_CONTACTS = (
    sa.select(CONTACTS)
    .where(CONTACTS.c.customer_id == sa.bindparam("id"))
    .order_by(CONTACTS.c.position)
)


def customer_view(session: Session, tenant_id: str, customer_id: str) -> dict:
    """The tenant's customer with its contacts; another tenant's is as unknown as a missing
    one (NotFound)."""
    connection = session.connection()
    found = connection.execute(CUSTOMER, {"id": customer_id, "tenant_id": tenant_id})
    row = found.mappings().first()
    if row is None:
        raise NotFound("customer")
    contacts = connection.execute(ITS_CONTACTS, {"id": customer_id}).mappings()
    return {**row, "contacts": [dict(contact) for contact in contacts]}
