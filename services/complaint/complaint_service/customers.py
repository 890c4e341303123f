"""The service's copy of its customers' regions, fed by the customer service's events.

A complaint for a customer not in the copy (unknown, or its CustomerRegistered not here
yet) is accepted with region ``unknown``; when the customer's event arrives, its complaints
still marked ``unknown`` get the region.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import Complaint, CustomerCopy
from .service import UNKNOWN_REGION


def note_customer(
    session: Session, tenant_id: str, customer_id: str, region: str, at: datetime
) -> None:
    copy = session.get(CustomerCopy, (tenant_id, customer_id))
    if copy is None:
        session.add(
            CustomerCopy(tenant_id=tenant_id, customer_id=customer_id, region=region, updated_at=at)
        )
    else:
        copy.region, copy.updated_at = region, at
    session.execute(
        sa.update(Complaint)
        .where(
            Complaint.tenant_id == tenant_id,
            Complaint.customer_id == customer_id,
            Complaint.region == UNKNOWN_REGION,
        )
        .values(region=region)
    )
