"""Visits planned from other services' events (DOMAIN.md §2, the trigger column).

Every plan is idempotent on its own, besides the consumer's inbox: a visit is not planned
again for a trigger that already has an open visit, or a visit of any status planned for
the same or a later occurrence (a redelivered or late event). A complaint resolved again
after a reopening is a later occurrence, so it gets its own follow-up visit.

Each function takes its event as its handler decoded it (``event.customer_id``; fields the
handler declares optional are None when the event lacks them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import partial
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.outbox import Outbox

from . import domain
from .models import CustomerCopy, Visit
from .service import (
    CustomerInfo,
    TenantContext,
    VisitRecord,
    annotate,
    cancel,
    copy_info,
    info_of,
    note_customer,
    plan_visit,
    tenant_context,
)

PERIODIC = "periodic"  # the trigger of periodic visits: one open periodic visit per customer


def instant(value: object, default: datetime | None = None) -> datetime:
    """An aware datetime from an event's ISO 8601 string (naive ones are read as UTC)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            if default is None:
                raise ValueError(f"not an ISO 8601 time: {value!r}") from None
            return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def planned_before(
    session: Session, caller: Caller, customer_id: str, reason: str, trigger: str, at: datetime
) -> bool:
    """Whether this trigger's occurrence at ``at`` already has its visit (see module doc)."""
    rows = session.scalars(
        sa.select(Visit).where(
            Visit.tenant_id == caller.tenant_id,
            Visit.customer_id == customer_id,
            Visit.reason == reason,
            Visit.trigger == trigger,
        )
    )
    return any(v.status == "planned" or (v.trigger_at and v.trigger_at >= at) for v in rows)


def plan_for_event(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    ctx: TenantContext,
    customer: CustomerInfo,
    *,
    reason: str,
    trigger: str,
    at: datetime,
    offset: str | None = None,
    **details: str | None,
) -> VisitRecord | None:
    """The visit an event at ``at`` calls for, due by the policy (``offset``: a key
    account's step); ``details``: what else :func:`plan_visit` takes (complaint_id, focus).
    None when this trigger planned one before."""
    if planned_before(session, caller, customer.customer_id, reason, trigger, at):
        return None
    due = domain.due_date(reason, ctx.local_date(at), ctx.policy, ctx.calendar, offset=offset)
    return plan_visit(
        session,
        outbox,
        caller,
        ctx,
        customer,
        reason=reason,
        due=due,
        trigger=trigger,
        trigger_at=at,
        **details,
    )


def load_copies(session: Session, envelopes: Iterable[Envelope]) -> list[CustomerCopy]:
    """The copies of the customers ``envelopes`` are about, read in one query per tenant:
    a batch of events then finds each in the session (``session.get``) instead of reading
    it once per event. Hold the list while they are used: the session keeps them weakly."""
    wanted: dict[str, set[str]] = {}
    for envelope in envelopes:
        customer_id = envelope.data.get("customer_id")
        if isinstance(customer_id, str):
            wanted.setdefault(envelope.tenantid, set()).add(customer_id)
    copies: list[CustomerCopy] = []
    for tenant_id, customer_ids in wanted.items():
        copies += session.scalars(
            sa.select(CustomerCopy).where(
                CustomerCopy.tenant_id == tenant_id,
                CustomerCopy.customer_id.in_(sorted(customer_ids)),
            )
        )
    return copies


def note_sender(session: Session, caller: Caller, event, sent_at: datetime) -> CustomerCopy:
    """The copy of the event's customer, updated with what the event says of it (region,
    owner, and the grade and size tier where the event has them)."""
    copy, _ = note_customer(
        session,
        caller.tenant_id,
        event.customer_id,
        sent_at,
        region=event.region,
        owner=event.owner,
        grade=getattr(event, "grade", None),
        size_tier=getattr(event, "size_tier", None),
    )
    return copy


def purchase_recorded(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime
) -> list[VisitRecord]:
    """A first purchase plans the new-customer visit; an A customer's purchase the
    key-account cadence (one visit per offset, trigger ``<purchase_id>:<offset>``: days as
    a bare number, months as ``3m``)."""
    copy = note_sender(session, caller, event, sent_at)
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    at = instant(event.purchased_at)
    plan = partial(plan_for_event, session, outbox, caller, ctx, info_of(copy), at=at)
    planned = []
    if event.first_purchase:
        planned.append(plan(reason="new_customer", trigger=event.purchase_id))
    if event.grade == "A":
        for offset in ctx.policy.key_account_cadence:
            trigger = f"{event.purchase_id}:{domain.offset_trigger(offset)}"
            planned.append(plan(reason="key_account", trigger=trigger, offset=offset))
    return [v for v in planned if v is not None]


def plan_for_sender(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime, **plan
) -> VisitRecord | None:
    """One visit for the customer the event is about (its copy updated first)."""
    copy = note_sender(session, caller, event, sent_at)
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    return plan_for_event(session, outbox, caller, ctx, info_of(copy), **plan)


def repair_closed(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime
) -> VisitRecord | None:
    return plan_for_sender(
        session, outbox, caller, event, sent_at,
        reason="repair", trigger=event.repair_id, at=instant(event.closed_at),
    )  # fmt: skip


def project_completed(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime
) -> VisitRecord | None:
    """A completed project: a post_project visit (trigger ``project:<project_id>``)."""
    return plan_for_sender(
        session, outbox, caller, event, sent_at,
        reason="post_project",
        trigger=f"project:{event.project_id}",
        at=instant(event.completed_at),
        focus=f"project: {event.name}"[:2000] if event.name else None,
    )  # fmt: skip


def day_start(day: date, ctx: TenantContext) -> datetime:
    """00:00 of ``day`` in the tenant's time zone, as a UTC instant."""
    zone = ZoneInfo(ctx.calendar.timezone)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def attendee_ids(attendees: object) -> list[str]:
    """The distinct customer ids of an event's attendee list, in order."""
    if not isinstance(attendees, list) or not all(
        isinstance(a, str) and a.strip() for a in attendees
    ):
        raise ValueError(f"attendees must be a list of customer ids, got {attendees!r}")
    return list(dict.fromkeys(a.strip() for a in attendees))


def marketing_event_held(
    session: Session, outbox: Outbox, caller: Caller, event
) -> list[VisitRecord]:
    """A marketing event: a post_event visit for each attendee (trigger ``event:<id>``),
    due the tenant's working days after the day it was held."""
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    at = day_start(date.fromisoformat(str(event.held_on)[:10]), ctx)
    planned = []
    for customer_id in attendee_ids(event.attendees):
        copy = session.get(CustomerCopy, (caller.tenant_id, customer_id))
        customer = info_of(copy) if copy is not None else CustomerInfo(customer_id, "")
        visit = plan_for_event(
            session,
            outbox,
            caller,
            ctx,
            customer,
            reason="post_event",
            trigger=f"event:{event.marketing_event_id}",
            at=at,
            focus=f"event: {event.name}"[:2000] if event.name else None,
        )
        if visit is not None:
            planned.append(visit)
    return planned


def issue_due(session: Session, ctx: TenantContext, visit: Visit, requested, raised_at: datetime):
    """The due date of an issue found on ``visit`` (``requested``: the one asked for, or
    None): a key account's problem is due by the next working day (DOMAIN.md §6)."""
    return due_for_grade(issue_grade(session, visit), ctx, requested, raised_at)


def issue_grade(session: Session, visit: Visit) -> str | None:
    """The grade the issues found on ``visit`` are due by: the customer copy's, else the one
    the visit was planned with."""
    copy = copy_info(session, visit.tenant_id, visit.customer_id)
    return copy.grade if copy is not None and copy.grade else visit.customer_grade


def due_for_grade(grade: str | None, ctx: TenantContext, requested, raised_at: datetime):
    """:func:`issue_due` for a customer of ``grade``."""
    return domain.key_account_issue_due(grade, ctx.local_date(raised_at), ctx.calendar, requested)


def complaint_resolved(session: Session, outbox: Outbox, caller: Caller, event):
    """A resolved complaint: confirm the customer is satisfied (post_complaint visit)."""
    copy = session.get(CustomerCopy, (caller.tenant_id, event.customer_id))
    customer = (
        info_of(copy) if copy is not None else CustomerInfo(event.customer_id, event.region or "")
    )
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    return plan_for_event(
        session,
        outbox,
        caller,
        ctx,
        customer,
        reason="post_complaint",
        trigger=event.complaint_id,
        at=instant(event.resolved_at),
        complaint_id=event.complaint_id,
    )


def customer_graded(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime
) -> VisitRecord | None:
    """A new grade: the periodic visit follows its cadence. A planned periodic visit of
    another grade's cadence is cancelled and replaced; a stale grading (the customer has been
    graded otherwise since) changes nothing. The grade may already be known from a newer
    event (a purchase overtaking its grading): the cadence is still planned."""
    copy = note_sender(session, caller, event, sent_at)
    if copy.grade != event.grade:
        return None
    graded_at = instant(event.graded_at, sent_at)
    return replan_periodic(session, outbox, caller, info_of(copy), graded_at)


def replan_periodic(
    session: Session, outbox: Outbox, caller: Caller, customer: CustomerInfo, at: datetime
) -> VisitRecord | None:
    current = session.scalar(
        sa.select(Visit).where(
            Visit.tenant_id == caller.tenant_id,
            Visit.customer_id == customer.customer_id,
            Visit.reason == "periodic",
            Visit.status == "planned",
        )
    )
    if current is not None and current.customer_grade == customer.grade:
        return None  # already on this grade's cadence
    if current is not None:
        cancel(session, outbox, caller, current, f"customer regraded to {customer.grade}")
        session.flush()
    last = session.scalar(
        sa.select(sa.func.max(Visit.completed_at)).where(
            Visit.tenant_id == caller.tenant_id,
            Visit.customer_id == customer.customer_id,
            Visit.reason == "periodic",
            Visit.status == "completed",
        )
    )
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    anchor = ctx.local_date(instant(last) if last else at)
    return schedule_periodic(session, outbox, caller, ctx, customer, anchor, at)


def schedule_periodic(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    ctx: TenantContext,
    customer: CustomerInfo,
    anchor,
    at: datetime,
) -> VisitRecord | None:
    grade = customer.grade or "C"
    due = domain.periodic_due(anchor, grade, ctx.policy, ctx.calendar, ctx.today)
    visit = plan_visit(
        session, outbox, caller, ctx, customer, reason="periodic", due=due, trigger=PERIODIC,
        trigger_at=at,
    )  # fmt: skip
    return annotate([visit], ctx.today)[0] if visit else None


def next_periodic(
    session: Session, outbox: Outbox, caller: Caller, ctx: TenantContext, visit: Visit
) -> VisitRecord | None:
    """A periodic visit done: the next one falls due a cadence after it."""
    customer = customer_of(session, caller, visit)
    anchor = ctx.local_date(visit.completed_at)
    return schedule_periodic(session, outbox, caller, ctx, customer, anchor, visit.completed_at)


def customer_of(session: Session, caller: Caller, visit: VisitRecord) -> CustomerInfo:
    """The visit's customer as the copy knows it now (owner, grade), the visit's own record
    filling what the copy lacks."""
    customer = copy_info(session, caller.tenant_id, visit.customer_id) or CustomerInfo(
        visit.customer_id, visit.region, None, visit.customer_grade
    )
    if customer.grade is None:
        customer = CustomerInfo(
            customer.customer_id,
            customer.region,
            customer.owner,
            visit.customer_grade,
            customer.size_tier,
        )
    return customer
