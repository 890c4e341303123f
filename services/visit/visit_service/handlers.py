"""Events the visit service consumes: one explicit registry, read top to bottom.

Each handler takes what it needs from the event's data (so an event arriving before the
customer's CustomerRegistered still plans its visit) and is idempotent on its own as well
as through the consumer's inbox (see :mod:`planning`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common import clock, tenant_settings
from revisit_common.caller import Caller
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import HandlerContext

from . import planning, records, service


def _sent_at(envelope: Envelope):
    return planning.instant(envelope.time, clock.now())


def settings_changed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the tenant's settings copy (visit policy, calendar); new plans use it."""
    tenant_settings.apply_settings_event(session, envelope)


def customer_registered(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the customer's region, owner and grade (assignment, cadence)."""
    data = envelope.data
    service.note_customer(
        session,
        envelope.tenantid,
        data["customer_id"],
        _sent_at(envelope),
        region=data.get("region"),
        owner=data.get("owner"),
        name=data.get("name"),
        grade=data.get("grade"),
    )


def customer_graded(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A new grade puts the customer on that grade's periodic cadence."""
    planning.customer_graded(
        session, ctx.outbox, Caller.of_event(envelope), envelope.data, _sent_at(envelope)
    )


def purchase_recorded(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """First purchase → new_customer visit; an A customer's purchase → key_account cadence."""
    planning.purchase_recorded(
        session, ctx.outbox, Caller.of_event(envelope), envelope.data, _sent_at(envelope)
    )


def repair_closed(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A closed repair record → repair visit."""
    planning.repair_closed(
        session, ctx.outbox, Caller.of_event(envelope), envelope.data, _sent_at(envelope)
    )


def issue_resolved(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """A resolved complaint → post_complaint visit (our own issues' events are ignored)."""
    if envelope.data.get("source") == "complaint" and envelope.data.get("complaint_id"):
        planning.complaint_resolved(session, ctx.outbox, Caller.of_event(envelope), envelope.data)


def survey_responded(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    """An online survey answer completes the customer's ``online_survey`` visit."""
    records.complete_by_survey(session, ctx.outbox, Caller.of_event(envelope), envelope.data)


HANDLERS = {
    "TenantRegistered": settings_changed,
    "TenantSettingsChanged": settings_changed,
    "CustomerRegistered": customer_registered,
    "CustomerGraded": customer_graded,
    "PurchaseRecorded": purchase_recorded,
    "RepairClosed": repair_closed,
    "IssueResolved": issue_resolved,
    "SurveyResponded": survey_responded,
}
