"""Events the customer service consumes: one explicit registry, read top to bottom."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.caller import Caller
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import HandlerContext

from . import service


def settings_changed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """The tenant's policy changed: keep the copy and regrade every customer with it."""
    if tenant_settings.apply_settings_event(session, envelope):
        service.regrade_tenant(session, ctx.outbox, Caller.of_event(envelope))


def visit_completed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A visit's overall satisfaction feeds the customer's grade score."""
    level = envelope.data.get("satisfaction")
    if level:
        service.note_visit_satisfaction(
            session, ctx.outbox, Caller.of_event(envelope), envelope.data["customer_id"], level
        )


def complaint_raised(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A complaint counts towards the customer's risk level for twelve months."""
    received = str(envelope.data.get("received_at") or envelope.time)[:10]
    service.note_complaint(
        session,
        ctx.outbox,
        Caller.of_event(envelope),
        envelope.data["customer_id"],
        date.fromisoformat(received),
    )


HANDLERS = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "VisitCompleted": visit_completed,
    "ComplaintRaised": complaint_raised,
}
