"""Events the survey service consumes: one explicit registry, read top to bottom."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import HandlerContext

from . import service


def _stamp(envelope: Envelope, key: str) -> datetime:
    """When the fact happened: the payload's time, else the envelope's."""
    moment = datetime.fromisoformat(str(envelope.data.get(key) or envelope.time))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def settings_changed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the tenant's settings copy (time zone, policy numbers)."""
    tenant_settings.apply_settings_event(session, envelope)


def customer_registered(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A new customer joins the segments by its type, region and grade."""
    data = envelope.data
    service.note_customer(
        session,
        envelope.tenantid,
        data["customer_id"],
        _stamp(envelope, "registered_at"),
        type=data.get("type"),
        region=data.get("region"),
        grade=data.get("grade"),
    )


def customer_graded(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A customer's grade (and current region) moves it between segments."""
    data = envelope.data
    service.note_customer(
        session,
        envelope.tenantid,
        data["customer_id"],
        _stamp(envelope, "graded_at"),
        region=data.get("region"),
        grade=data.get("grade"),
    )


HANDLERS = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "CustomerRegistered": customer_registered,
    "CustomerGraded": customer_graded,
}
