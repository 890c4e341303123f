"""Events the complaint service consumes: one explicit registry, read top to bottom.

Every event of the catalogue (its own included) also passes through the webhook fan-out,
which writes a pending delivery for each matching webhook in the same transaction as the
event's inbox claim: any event type may be subscribed, so the queue binds them all
(``webhooks.ROUTING_KEYS``), and the events the service acts on itself get their own
handler first.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.consumer import Handler, HandlerContext
from revisit_common.envelope import Envelope
from revisit_common.events import CATALOGUE

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


def and_webhooks(handler: Handler | None) -> Handler:
    """``handler`` (if any), then the deliveries for the webhooks that want the event."""

    def handle(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
        if handler is not None:
            handler(session, envelope, ctx)
        webhooks.enqueue(session, envelope)

    handle.__name__ = f"{getattr(handler, '__name__', 'deliveries')}_and_webhooks"
    return handle


OWN = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "CustomerRegistered": customer_known,
    "CustomerGraded": customer_known,
    "VisitCompleted": visit_completed,
}

HANDLERS = {name: and_webhooks(OWN.get(name)) for name in CATALOGUE}

ROUTING_KEYS = list(webhooks.ROUTING_KEYS)
