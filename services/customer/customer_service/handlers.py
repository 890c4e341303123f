"""Events the customer service consumes: one explicit registry, read top to bottom."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.caller import Caller
from revisit_common.events import ComplaintRaised, VisitCompleted
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import HandlerContext, reads

from . import service


def settings_changed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """The tenant's policy changed: keep the copy and regrade every customer with it."""
    if tenant_settings.apply_settings_event(session, envelope):
        service.regrade_tenant(session, ctx.outbox, Caller.of_event(envelope))


@reads(VisitCompleted, fields=["customer_id"], optional=["satisfaction"])
def visit_completed(session: Session, event, ctx: HandlerContext) -> None:
    """A visit's overall satisfaction feeds the customer's grade score."""
    if event.satisfaction:
        service.note_visit_satisfaction(
            session,
            ctx.outbox,
            Caller.of_event(event.envelope),
            event.customer_id,
            event.satisfaction,
        )


@reads(ComplaintRaised, fields=["customer_id"], optional=["received_at"])
def complaint_raised(session: Session, event, ctx: HandlerContext) -> None:
    """A complaint counts towards the customer's risk level for twelve months."""
    received = str(event.received_at or event.envelope.time)[:10]
    service.note_complaint(
        session,
        ctx.outbox,
        Caller.of_event(event.envelope),
        event.customer_id,
        date.fromisoformat(received),
    )


HANDLERS = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "VisitCompleted": visit_completed,
    "ComplaintRaised": complaint_raised,
}
