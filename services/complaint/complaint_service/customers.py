"""The service's copy of its customers' regions, size tiers and grades, fed by the customer
service's events (the size tier and grade make a complaint major: triage.py).

A complaint names a customer of the caller's tenant. The copy answers first; a customer it
has not heard of yet (its CustomerRegistered still on the way) is asked of the customer
service synchronously (read your writes: ``revisit_common.directory``) and kept in the copy
in the complaint's transaction. Unknown there too, or another tenant's: no such customer.
Complaints of older releases still marked ``unknown`` get the region when the customer's
event arrives.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from revisit_common import db
from revisit_common.directory import CustomerLookup

from .models import Complaint, CustomerCopy

UNKNOWN_REGION = "unknown"  # a customer this service has not heard of (yet)


def note_customer(
    session: Session,
    tenant_id: str,
    customer_id: str,
    region: str,
    at: datetime,
    *,
    size_tier: str | None = None,
    grade: str | None = None,
) -> None:
    """Keep the customer's region, and its size tier and grade when the event says them."""
    copy = session.get(CustomerCopy, (tenant_id, customer_id))
    if copy is None:
        copy = CustomerCopy(tenant_id=tenant_id, customer_id=customer_id)
        session.add(copy)
    copy.region, copy.updated_at = region, at
    if _short(size_tier, 32):
        copy.size_tier = size_tier
    if _short(grade, 8):
        copy.grade = grade
    session.execute(
        sa.update(Complaint)
        .where(
            Complaint.tenant_id == tenant_id,
            Complaint.customer_id == customer_id,
            Complaint.region == UNKNOWN_REGION,
        )
        .values(region=region)
    )


COPIES = CustomerCopy.__table__
# What a complaint reads of its customer: one statement, its values as parameters.
COPY_OF = sa.select(COPIES.c.region, COPIES.c.size_tier, COPIES.c.grade).where(
    COPIES.c.tenant_id == sa.bindparam("tenant_id"),
    COPIES.c.customer_id == sa.bindparam("customer_id"),
)


class Copy(NamedTuple):
    """What a complaint reads of its customer's copy."""

    region: str
    size_tier: str | None
    grade: str | None


def _copy(session: Session, tenant_id: str, customer_id: str) -> Copy | None:
    rows = db.run(session, COPY_OF, {"tenant_id": tenant_id, "customer_id": customer_id})
    return Copy(*rows[0]) if rows else None


def known_customer(
    session: Session,
    directory: CustomerLookup | None,
    tenant_id: str,
    customer_id: str,
    at: datetime,
) -> Copy | None:
    """The region, size tier and grade of the tenant's customer ``customer_id`` from the
    copy, else from the customer service (then added to the copy); None when the tenant has
    no such customer."""
    copy = _copy(session, tenant_id, customer_id)
    if copy is not None or directory is None:
        return copy
    found = directory.customer(tenant_id, customer_id)
    if found is None:
        return None
    values = {
        "tenant_id": tenant_id,
        "customer_id": customer_id,
        "region": str(found.get("region") or UNKNOWN_REGION),
        "size_tier": _short(found.get("size_tier"), 32),
        "grade": _short(found.get("grade"), 8),
        "updated_at": at,
    }
    # The customer's event may be applied at the same moment: the first row stays.
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(CustomerCopy).values(**values).on_conflict_do_nothing())
    return _copy(session, tenant_id, customer_id)


def _short(value: object, length: int) -> str | None:
    """A text the customer service sent, if it is one that fits the column."""
    return value if isinstance(value, str) and 0 < len(value) <= length else None
