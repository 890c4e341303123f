"""Events the complaint service consumes: one explicit registry, read top to bottom.

Every department event (complaint.#, issue.#, its own included) also passes through the
webhook fan-out, which writes a pending delivery for each matching webhook in the same
transaction as the event's inbox claim.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.consumer import HandlerContext
from revisit_common.envelope import Envelope

from . import customers, follow_up, service, webhooks


def settings_changed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the tenant's settings copy: time limits and the working calendar."""
    tenant_settings.apply_settings_event(session, envelope)


def customer_known(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the customer's region for the complaints raised against it."""
    data = envelope.data
    if data.get("customer_id") and data.get("region"):
        customers.note_customer(
            session, envelope.tenantid, data["customer_id"], data["region"], service.now()
        )


def visit_completed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A post-complaint visit's answer closes (satisfied) or reopens the complaint."""
    follow_up.apply_visit_outcome(
        session, ctx.outbox, envelope.tenantid, envelope.data, envelope.correlationid
    )


def department_event(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Complaint and issue events: deliveries for the webhooks that want them."""
    webhooks.enqueue(session, envelope)


HANDLERS = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "CustomerRegistered": customer_known,
    "CustomerGraded": customer_known,
    "VisitCompleted": visit_completed,
    **{name: department_event for name in webhooks.EVENT_TYPES},
}

ROUTING_KEYS = [
    "tenant.registered",
    "tenant.settings_changed",
    "customer.registered",
    "customer.graded",
    "visit.completed",
    "complaint.#",
    "issue.#",
]
