"""Events the survey service consumes: one explicit registry, read top to bottom."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.events import CustomerGraded, CustomerRegistered
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import HandlerContext, reads

from . import service


def _stamp(event, at: str | None) -> datetime:
    """When the fact happened: ``at`` from the payload, else the envelope's time."""
    moment = datetime.fromisoformat(str(at or event.envelope.time))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def settings_changed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the tenant's settings copy (time zone, policy numbers)."""
    tenant_settings.apply_settings_event(session, envelope)


@reads(
    CustomerRegistered,
    fields=["customer_id"],
    optional=["type", "region", "grade", "registered_at"],
)
def customer_registered(session: Session, event, ctx: HandlerContext) -> None:
    """A new customer joins the segments by its type, region and grade."""
    service.note_customer(
        session,
        event.envelope.tenantid,
        event.customer_id,
        _stamp(event, event.registered_at),
        type=event.type,
        region=event.region,
        grade=event.grade,
    )


@reads(CustomerGraded, fields=["customer_id"], optional=["region", "grade", "graded_at"])
def customer_graded(session: Session, event, ctx: HandlerContext) -> None:
    """A customer's grade (and current region) moves it between segments."""
    service.note_customer(
        session,
        event.envelope.tenantid,
        event.customer_id,
        _stamp(event, event.graded_at),
        region=event.region,
        grade=event.grade,
    )


HANDLERS = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "CustomerRegistered": customer_registered,
    "CustomerGraded": customer_graded,
}
