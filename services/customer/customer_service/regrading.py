"""The periodic re-grading (DOMAIN.md §6 "Re-grading"): every customer whose last grading is
``regrade_every_days`` (a setting of the tenant's classification policy) old is classified
again; CustomerGraded / CustomerRiskChanged follow only when the result changed.

The worker runs :func:`regrade_sweep` every :data:`REGRADE_INTERVAL` seconds with the
runtime's clock, in transactions of at most :data:`BATCH` customers.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.messaging.outbox import Outbox
from revisit_common.runtime import ServiceRuntime

from . import domain
from .models import Customer
from .service import NO_CONTACTS, policy_for, reclassify

REGRADE_INTERVAL = 3600.0  # seconds; the period is counted in days
BATCH = 200


def regrade_due(session: Session, outbox: Outbox, at: datetime, limit: int = BATCH) -> int:
    """Re-grade at most ``limit`` customers due at ``at`` (:func:`.domain.regrade_due`), tenant
    by tenant; the number re-graded. Rows another worker is re-grading are skipped."""
    done = 0
    tenants = session.scalars(sa.select(Customer.tenant_id).distinct().order_by(Customer.tenant_id))
    for tenant in list(tenants):
        policy, timezone = policy_for(session, tenant)
        due = (
            sa.select(Customer)
            .where(
                Customer.tenant_id == tenant,
                sa.or_(
                    Customer.graded_at.is_(None),
                    Customer.graded_at <= domain.regrade_cutoff(at, policy),
                ),
            )
            .order_by(Customer.id)
            .limit(limit - done)
            .with_for_update(skip_locked=True)
            .options(*NO_CONTACTS)
        )
        caller = Caller(tenant_id=tenant, clock=lambda: at)
        for customer in session.scalars(due).all():
            reclassify(session, outbox, customer, caller, policy=policy, timezone=timezone)
            done += 1
        if done >= limit:
            break
    return done


def regrade_sweep(runtime: ServiceRuntime) -> None:
    """Re-grade every customer due now (by the runtime's clock), a batch per transaction."""
    at = runtime.clock()
    while True:
        with runtime.db.transaction() as session:
            done = regrade_due(session, runtime.outbox, at)
        if done < BATCH:
            return
