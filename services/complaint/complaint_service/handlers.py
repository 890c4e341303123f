"""Events the complaint service consumes: one explicit registry, read top to bottom.

(Webhook deliveries of events are the notify service's: it consumes the events it sends.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.events import CustomerGraded, CustomerRegistered, VisitCompleted
from revisit_common.messaging.registry import HandlerContext, reads

from . import customers, follow_up, service


@reads(
    CustomerRegistered,
    CustomerGraded,
    optional=["customer_id", "region", "size_tier", "grade"],
)
def customer_known(session: Session, event, ctx: HandlerContext) -> None:
    """Keep the customer's region, size tier and grade for the complaints raised against it."""
    if event.customer_id and event.region:
        customers.note_customer(
            session,
            event.envelope.tenantid,
            event.customer_id,
            event.region,
            service.now(),
            size_tier=event.size_tier,
            grade=event.grade,
        )


@reads(VisitCompleted, optional=["visit_id", "complaint_id", "satisfaction"])
def visit_completed(session: Session, event, ctx: HandlerContext) -> None:
    """A post-complaint visit's answer closes (satisfied) or reopens the complaint."""
    envelope = event.envelope
    follow_up.apply_visit_outcome(
        session, ctx.outbox, envelope.tenantid, event, envelope.correlationid
    )


HANDLERS = {
    "TenantRegistered": tenant_settings.keep_copy,
    "TenantSettingsChanged": tenant_settings.keep_copy,
    "CustomerRegistered": customer_known,
    "CustomerGraded": customer_known,
    "VisitCompleted": visit_completed,
}
