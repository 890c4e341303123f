"""Events the survey service consumes: one explicit registry, read top to bottom."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.events import CustomerGraded, CustomerRegistered
from revisit_common.messaging.registry import HandlerContext, reads

from . import service


def _note(session: Session, event, at: str | None, **segment) -> None:
    """Keep the customer's segment fields, as of ``at`` from the payload, else the
    envelope's time."""
    moment = datetime.fromisoformat(str(at or event.envelope.time))
    as_of = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    service.note_customer(session, event.envelope.tenantid, event.customer_id, as_of, **segment)


@reads(
    CustomerRegistered,
    fields=["customer_id"],
    optional=["type", "region", "grade", "registered_at"],
)
def customer_registered(session: Session, event, ctx: HandlerContext) -> None:
    """A new customer joins the segments by its type, region and grade."""
    _note(
        session, event, event.registered_at, type=event.type, region=event.region, grade=event.grade
    )


@reads(CustomerGraded, fields=["customer_id"], optional=["region", "grade", "graded_at"])
def customer_graded(session: Session, event, ctx: HandlerContext) -> None:
    """A customer's grade (and current region) moves it between segments."""
    _note(session, event, event.graded_at, region=event.region, grade=event.grade)


HANDLERS = {
    "TenantRegistered": tenant_settings.keep_copy,
    "TenantSettingsChanged": tenant_settings.keep_copy,
    "CustomerRegistered": customer_registered,
    "CustomerGraded": customer_graded,
}
