"""Events the visit service consumes: one explicit registry, read top to bottom.

Each handler declares the fields it reads of the event (so an event arriving before the
customer's CustomerRegistered still plans its visit) and is idempotent on its own as well
as through the consumer's inbox (see :mod:`planning`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common import clock, tenant_settings
from revisit_common.caller import Caller
from revisit_common.events import (
    ContactDatesChanged,
    CustomerGraded,
    CustomerRegistered,
    CustomerRiskChanged,
    IssueResolved,
    MarketingEventHeld,
    ProjectCompleted,
    PurchaseRecorded,
    RepairClosed,
    SurveyResponded,
)
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import BatchHandler, Handler, HandlerContext, reads

from . import care, cases, planning, purchase_copies, records, service, watch


def _copies_first(handler: Handler) -> BatchHandler:
    """``handler``; for a run of its events, the customer copies they update are read in one
    query first (:func:`planning.load_copies`), then each event is handled in order."""

    def many(session: Session, envelopes: list[Envelope], ctx: HandlerContext) -> None:
        copies = planning.load_copies(session, envelopes)
        for envelope in envelopes:
            handler(session, envelope, ctx)
        del copies  # held until here: the session keeps them weakly

    return BatchHandler(handler, many)


def _sent_at(event):
    return planning.instant(event.envelope.time, clock.now())


def _plan(rule, session: Session, event, ctx: HandlerContext) -> None:
    """Hand the event to a planning ``rule``, on behalf of its producer, as of when it was
    sent."""
    rule(session, ctx.outbox, Caller.of_event(event.envelope), event, _sent_at(event))


@reads(
    CustomerRegistered,
    fields=["customer_id"],
    optional=["region", "owner", "name", "grade", "size_tier"],
)
def customer_registered(session: Session, event, ctx: HandlerContext) -> None:
    """Keep the customer's region, owner, grade and size tier (assignment, cadence, method)."""
    service.note_customer(
        session,
        event.envelope.tenantid,
        event.customer_id,
        _sent_at(event),
        region=event.region,
        owner=event.owner,
        name=event.name,
        grade=event.grade,
        size_tier=event.size_tier,
    )


@reads(
    CustomerGraded,
    fields=["customer_id"],
    optional=["region", "owner", "grade", "graded_at", "size_tier"],
)
def customer_graded(session: Session, event, ctx: HandlerContext) -> None:
    """A new grade puts the customer on that grade's periodic cadence."""
    _plan(planning.customer_graded, session, event, ctx)


@reads(
    PurchaseRecorded,
    fields=["purchase_id", "customer_id", "purchased_at"],
    optional=["region", "owner", "grade", "first_purchase"],
)
def purchase_recorded(session: Session, event, ctx: HandlerContext) -> None:
    """First purchase → new_customer visit; an A customer's purchase → key_account cadence."""
    _plan(planning.purchase_recorded, session, event, ctx)


def _purchases() -> BatchHandler:
    """PurchaseRecorded: a run of purchases that plan no visit only updates its customers'
    copies, as plain rows (:mod:`purchase_copies`); any other run is handled as
    :func:`_copies_first` handles it."""
    planned = _copies_first(purchase_recorded)

    def one(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
        if not _copies_only(session, [envelope]):
            planned.one(session, envelope, ctx)

    def many(session: Session, envelopes: list[Envelope], ctx: HandlerContext) -> None:
        if not _copies_only(session, envelopes):
            planned.many(session, envelopes, ctx)

    return BatchHandler(one, many)


def _copies_only(session: Session, envelopes: list[Envelope]) -> bool:
    """The purchases applied as :func:`purchase_recorded` applies them, when none plans a
    visit (:func:`purchase_copies.apply`); False (nothing done) otherwise."""
    events = [purchase_recorded.view.decode(envelope) for envelope in envelopes]
    if not purchase_copies.apply(session, events, [_sent_at(e) for e in events], clock.now):
        return False
    for event in events:
        planning.instant(event.purchased_at)  # (an unreadable time fails the event, as before)
    return True


@reads(RepairClosed, fields=["repair_id", "customer_id", "closed_at"], optional=["region", "owner"])
def repair_closed(session: Session, event, ctx: HandlerContext) -> None:
    """A closed repair record → repair visit."""
    _plan(planning.repair_closed, session, event, ctx)


@reads(
    ProjectCompleted,
    fields=["project_id", "customer_id", "completed_at"],
    optional=["region", "owner", "grade", "name"],
)
def project_completed(session: Session, event, ctx: HandlerContext) -> None:
    """A completed project → post_project visit."""
    _plan(planning.project_completed, session, event, ctx)


@reads(MarketingEventHeld, fields=["marketing_event_id", "held_on", "attendees"], optional=["name"])
def marketing_event_held(session: Session, event, ctx: HandlerContext) -> None:
    """A marketing event → a post_event visit per attendee."""
    planning.marketing_event_held(session, ctx.outbox, Caller.of_event(event.envelope), event)


@reads(
    ContactDatesChanged,
    fields=["contact_id", "customer_id"],
    optional=[
        "region",
        "owner",
        "grade",
        "name",
        "birthday",
        "anniversary",
        "changed_at",
        "decision_maker",
    ],
)
def contact_dates_changed(session: Session, event, ctx: HandlerContext) -> None:
    """A contact's birthday or anniversary set, changed or cleared, or the contact no longer
    a decision maker → its care visit follows."""
    _plan(care.contact_dates_changed, session, event, ctx)


@reads(
    CustomerRiskChanged,
    fields=["customer_id", "risk_level"],
    optional=["region", "owner", "changed_at"],
)
def customer_risk_changed(session: Session, event, ctx: HandlerContext) -> None:
    """Medium or high risk starts the customer's watch plan; low risk ends it."""
    _plan(watch.risk_changed, session, event, ctx)


@reads(
    IssueResolved,
    optional=[
        "source",
        "complaint_id",
        "customer_id",
        "region",
        "resolved_at",
        "category",
        "department",
    ],
)
def issue_resolved(session: Session, event, ctx: HandlerContext) -> None:
    """A resolved complaint → post_complaint visit, and kept for the case library (our own
    issues' events are ignored)."""
    if event.source == "complaint" and event.complaint_id:
        planning.complaint_resolved(session, ctx.outbox, Caller.of_event(event.envelope), event)
        resolved = planning.instant(event.resolved_at, _sent_at(event))
        cases.note_resolved_complaint(session, event.envelope.tenantid, event, resolved)


@reads(
    SurveyResponded,
    fields=["customer_id"],
    optional=["visit_id", "satisfaction", "recommend_score", "responded_at"],
)
def survey_responded(session: Session, event, ctx: HandlerContext) -> None:
    """An online survey answer completes the customer's ``online_survey`` visit."""
    records.complete_by_survey(session, ctx.outbox, Caller.of_event(event.envelope), event)


HANDLERS = {
    "TenantRegistered": tenant_settings.keep_copy,
    "TenantSettingsChanged": tenant_settings.keep_copy,
    "CustomerRegistered": _copies_first(customer_registered),
    "CustomerGraded": _copies_first(customer_graded),
    "CustomerRiskChanged": customer_risk_changed,
    "PurchaseRecorded": _purchases(),
    "RepairClosed": repair_closed,
    "IssueResolved": issue_resolved,
    "SurveyResponded": survey_responded,
    "ProjectCompleted": project_completed,
    "MarketingEventHeld": marketing_event_held,
    "ContactDatesChanged": contact_dates_changed,
}
