"""The visit service layer: planning, reading and cancelling visits (one use case each).

Routes and event handlers call these inside one transaction; each loads rows, applies the
domain rules and adds the events the change causes to the outbox in that transaction.
Completion, audits and issues are in :mod:`records`; plans made from events in
:mod:`planning`; the overdue sweep in :mod:`sweep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revisit_common import events, tenant_settings
from revisit_common.calendar import WorkCalendar
from revisit_common.caller import Caller
from revisit_common.clock import Clock, now
from revisit_common.directory import CustomerLookup
from revisit_common.errors import Conflict, Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import tenant_row

from . import domain, issue_rules
from .models import CustomerCopy, Issue, RoundRobin, Visit


@dataclass(frozen=True)
class TenantContext:
    """The tenant's visit policy and working calendar (from its settings copy)."""

    policy: domain.VisitPolicy
    calendar: WorkCalendar
    clock: Clock = now  # the runtime's clock (a fake in tests): what "today" is

    @property
    def today(self) -> date:
        return self.calendar.local_date(self.clock())

    def local_date(self, instant: datetime) -> date:
        return self.calendar.local_date(instant)


@dataclass(frozen=True)
class CustomerInfo:
    customer_id: str
    region: str
    owner: str | None = None
    grade: str | None = None
    size_tier: str | None = None


def tenant_context(session: Session, tenant_id: str, clock: Clock = now) -> TenantContext:
    """The tenant's policy and calendar; ``today`` by ``clock`` (pass the caller's)."""
    settings = tenant_settings.load(session, tenant_id)
    policy, calendar = settings.derived("visit_rules", _rules)
    return TenantContext(policy, calendar, clock)


def _rules(settings: tenant_settings.TenantSettings) -> tuple[domain.VisitPolicy, WorkCalendar]:
    calendar = {"timezone": settings.timezone, **settings.section("calendar")}
    policy = domain.VisitPolicy.from_dict(settings.section("visits"))
    return policy, WorkCalendar.from_dict(calendar)


def publish(session: Session, outbox: Outbox, caller: Caller, event: events.Event) -> None:
    outbox.add(session, event, tenant_id=caller.tenant_id, correlation_id=caller.correlation_id)


def visit_fields(visit: Visit) -> dict[str, Any]:
    """What each event about one visit says of it (scheduled, completed, cancelled, overdue)."""
    return {
        "visit_id": visit.id,
        "customer_id": visit.customer_id,
        "reason": visit.reason,
        "assignee": visit.assignee,
        "region": visit.region,
        "due_date": visit.due_date.isoformat(),
    }


# --------------------------------------------------------------------------- customers


def get_customer(session: Session, tenant_id: str, customer_id: str) -> CustomerCopy:
    customer = session.get(CustomerCopy, (tenant_id, customer_id))
    if customer is None:
        raise NotFound("customer")  # another tenant's customer is as unknown as a missing one
    return customer


def known_customer(
    session: Session, directory: CustomerLookup | None, tenant_id: str, customer_id: str
) -> CustomerCopy:
    """The tenant's customer from the copy; one the copy has not heard of yet (its event
    still on the way) is asked of the customer service (read your writes) and kept in the
    copy in this transaction. Unknown there too, or another tenant's: NotFound."""
    copy = session.get(CustomerCopy, (tenant_id, customer_id))
    if copy is not None or directory is None:
        return get_customer(session, tenant_id, customer_id)
    found = directory.customer(tenant_id, customer_id)
    if found is None:
        raise NotFound("customer")
    at = _moment(found.get("updated_at"))
    grade = found.get("grade") if found.get("grade") in domain.GRADES else None
    values = {
        "tenant_id": tenant_id,
        "customer_id": customer_id,
        "name": found.get("name"),
        "region": str(found.get("region") or ""),
        "owner": found.get("owner"),
        "grade": grade,
        "info_at": at,
        "grade_at": at if grade else None,
    }
    # The customer's event may be applied at the same moment: the first row stays.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(CustomerCopy).values(**values).on_conflict_do_nothing())
    return get_customer(session, tenant_id, customer_id)


def _moment(value: object) -> datetime:
    """When the customer service's answer was true (its ``updated_at``), so that older
    events arriving later do not overwrite it; now when it says nothing usable."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return now()
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def info_of(customer: CustomerCopy) -> CustomerInfo:
    return CustomerInfo(
        customer.customer_id,
        customer.region,
        customer.owner,
        customer.grade,
        customer.size_tier,
    )


_KEEP = object()


def note_customer(
    session: Session,
    tenant_id: str,
    customer_id: str,
    at: datetime,
    *,
    region: str | None = None,
    owner: object = _KEEP,
    name: str | None = None,
    grade: str | None = None,
    size_tier: str | None = None,
) -> tuple[CustomerCopy, bool]:
    """Keep the customer copy up to date from an event of time ``at``; facts from an event
    older than those held are ignored. Returns the copy and whether ``grade`` was taken.
    The change is written at the session's next flush (a query, or the commit): a batch of
    events writes the copies it changed in one flush."""
    row = session.get(CustomerCopy, (tenant_id, customer_id))
    if row is None:
        row = CustomerCopy(
            tenant_id=tenant_id, customer_id=customer_id, region=region or "", info_at=at
        )
        session.add(row)
    if at >= row.info_at:
        row.region = region or row.region
        row.name = name or row.name
        row.size_tier = size_tier if size_tier in domain.SIZE_TIERS else row.size_tier
        if owner is not _KEEP:
            row.owner = owner  # type: ignore[assignment]
        row.info_at = at
    took_grade = False
    if grade in domain.GRADES and (row.grade_at is None or at >= row.grade_at):
        row.grade, row.grade_at, took_grade = grade, at, True
    return row, took_grade


# --------------------------------------------------------------------------- visits

VISITS = Visit.__table__
VISIT_COLUMNS = tuple(VISITS.columns.keys())  # (a select of VISITS gives them in this order)
INSERT_VISIT = sa.insert(VISITS)


class VisitRecord(SimpleNamespace):
    """A visit as its columns, its issues and audit as attributes, as on a :class:`Visit`
    (the rules, the events and the rendering read the same names), without the ORM's
    instrumentation, which cost as much to set up as the statement reading or writing it:
    a visit being completed (:mod:`records`) or just planned (:func:`plan_visit`)."""


def get_visit(session: Session, tenant_id: str, visit_id: str) -> Visit:
    return tenant_row(session, Visit, tenant_id, visit_id, "visit")


def locked_visit(session: Session, tenant_id: str, visit_id: str) -> Visit:
    """The tenant's visit, held for update until the transaction ends (one change at a time:
    of a cancel and a completion at once, the second sees what the first made of it)."""
    visit = get_visit(session, tenant_id, visit_id)
    session.refresh(visit, with_for_update=True)
    return visit


def annotate(visits, today: date):
    """Set each visit's derived ``overdue`` flag (and its issues' stage statuses) for
    rendering; returns the visits."""
    for visit in visits:
        visit.overdue = domain.is_overdue(visit.status, visit.due_date, today)
        annotate_issues(visit.issues, today)
    return visits


def annotate_issues(issues: list[Issue], today: date) -> list[Issue]:
    """Set each issue's ``stage_view`` for rendering: its stages, numbered, each with its
    status as of ``today`` (tenant-local); returns the issues."""
    for issue in issues:
        issue.stage_view = issue_rules.stage_view(issue.stages, today)
    return issues


def open_visit(
    session: Session, tenant_id: str, customer_id: str, reason: str, trigger: str
) -> Visit | None:
    return session.scalar(
        sa.select(Visit).where(*_open_for(tenant_id, customer_id, reason, trigger))
    )


def _open_for(tenant_id: str, customer_id: str, reason: str, trigger: str) -> tuple:
    """The conditions of the customer's open visit for ``reason`` and ``trigger``."""
    return (
        Visit.tenant_id == tenant_id,
        Visit.customer_id == customer_id,
        Visit.reason == reason,
        Visit.trigger == trigger,
        Visit.status == "planned",
    )


def _open_id(session, tenant_id: str, customer_id: str, reason: str, trigger: str) -> str | None:
    """The id of the customer's open visit for ``reason`` and ``trigger`` (a Session
    flushes its pending changes first, as for :func:`open_visit`)."""
    return session.scalar(
        sa.select(Visit.id).where(*_open_for(tenant_id, customer_id, reason, trigger))
    )


def copy_info(session, tenant_id: str, customer_id: str) -> CustomerInfo | None:
    """What the customer copy says now; None without a copy. A Session's own copy when it
    holds one (its pending changes included; a consumer's batch loads them up front), else
    one statement (a :class:`.CoreTransaction`)."""
    if isinstance(session, Session):
        copy = session.get(CustomerCopy, (tenant_id, customer_id))
        return None if copy is None else info_of(copy)
    row = session.execute(
        sa.select(
            CustomerCopy.region, CustomerCopy.owner, CustomerCopy.grade, CustomerCopy.size_tier
        ).where(CustomerCopy.tenant_id == tenant_id, CustomerCopy.customer_id == customer_id)
    ).first()
    return None if row is None else CustomerInfo(customer_id, *row)


def next_assignee(
    session: Session, tenant_id: str, customer: CustomerInfo, policy: domain.VisitPolicy
) -> str | None:
    """The owner, else the region's next agent in turn (the counter moves on)."""
    agents = policy.agents_for(customer.region)
    if customer.owner or not agents:
        return domain.choose_assignee(customer.owner, agents, 0)[0]
    key = {"tenant_id": tenant_id, "region": customer.region}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(RoundRobin).values(**key, counter=0).on_conflict_do_nothing())
    counter = session.scalar(
        sa.select(RoundRobin.counter).filter_by(**key).with_for_update()  # one turn at a time
    )
    assignee, counter = domain.choose_assignee(None, agents, counter)
    session.execute(sa.update(RoundRobin.__table__).filter_by(**key).values(counter=counter))
    return assignee


def plan_visit(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    ctx: TenantContext,
    customer: CustomerInfo,
    *,
    reason: str,
    due: date,
    trigger: str,
    trigger_at: datetime | None = None,
    method: str | None = None,
    assignee: str | None = None,
    complaint_id: str | None = None,
    focus: str | None = None,
    notes: str | None = None,
) -> VisitRecord | None:
    """Plan one visit and publish VisitScheduled; ``None`` when the customer already has an
    open visit for this reason and trigger (checked first, and by the unique index). Its row
    is written with Core statements, in a Session or a :class:`.CoreTransaction` alike;
    the visit returned is a :class:`VisitRecord`."""
    if _open_id(session, caller.tenant_id, customer.customer_id, reason, trigger):
        return None
    stamp = now()
    values = {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "customer_id": customer.customer_id,
        "region": customer.region,
        "reason": reason,
        "method": method or ctx.policy.method_for(reason, customer.size_tier),
        "due_date": due,
        "status": "planned",
        "trigger": trigger,
        "trigger_at": trigger_at,
        "customer_grade": customer.grade,
        "complaint_id": complaint_id,
        "focus": focus,
        "notes": notes,
        "created_by": caller.actor,
        "created_at": stamp,
        "updated_at": stamp,
    }
    try:
        with session.begin_nested():
            values["assignee"] = assignee or next_assignee(
                session, caller.tenant_id, customer, ctx.policy
            )
            session.execute(INSERT_VISIT, values)
    except IntegrityError:
        if _open_id(session, caller.tenant_id, customer.customer_id, reason, trigger) is None:
            raise
        return None  # planned concurrently by someone else: already planned
    visit = VisitRecord(**{**dict.fromkeys(VISIT_COLUMNS), **values}, issues=[], audit=None)
    announce_scheduled(session, outbox, caller, visit, stamp)
    return visit


def create_visit(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    data: dict,
    directory: CustomerLookup | None = None,
) -> VisitRecord:
    """A visit planned by hand (post_project, post_event, care, or any other reason), for a
    customer of the caller's tenant (``directory``: the customer service, when the copy has
    not heard of it yet)."""
    customer = known_customer(session, directory, caller.tenant_id, data["customer_id"])
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    reason = data["reason"]
    if reason == "periodic" and data.get("trigger"):
        raise Invalid({"trigger": ["periodic visits have no trigger of their own"]})
    base = data.get("event_date") or ctx.today
    due = data.get("due_date") or domain.due_date(
        reason, base, ctx.policy, ctx.calendar, grade=customer.grade
    )
    trigger = "periodic" if reason == "periodic" else data.get("trigger") or base.isoformat()
    visit = plan_visit(
        session,
        outbox,
        caller,
        ctx,
        info_of(customer),
        reason=reason,
        due=due,
        trigger=trigger,
        # by hand, the policy's method for the reason (a large customer's default of on_site
        # is for visits planned from events)
        method=data.get("method") or ctx.policy.method_for(reason),
        assignee=data.get("assignee"),
        complaint_id=data.get("complaint_id"),
        focus=data.get("focus"),
        notes=data.get("notes"),
    )
    if visit is None:
        raise Conflict(
            f"customer already has an open {reason} visit for trigger {trigger!r}; "
            "complete or cancel it first"
        )
    return annotate([visit], ctx.today)[0]


def cancel(
    session: Session, outbox: Outbox, caller: Caller, visit: Visit, why: str | None
) -> Visit:
    visit.status = domain.visit_transition(visit.status, "cancel")
    visit.cancelled_at = visit.updated_at = now()
    visit.cancel_reason = why
    publish(
        session,
        outbox,
        caller,
        events.VisitCancelled(
            **visit_fields(visit),
            cancelled_at=visit.cancelled_at.isoformat(),
            why=why,
        ),
    )
    return visit


def cancel_visit(
    session: Session, outbox: Outbox, caller: Caller, visit_id: str, data: dict
) -> Visit:
    visit = locked_visit(session, caller.tenant_id, visit_id)
    try:
        cancel(session, outbox, caller, visit, data.get("reason"))
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    return annotate([visit], tenant_context(session, caller.tenant_id, caller.clock).today)[0]


def visit_query(tenant_id: str, args: dict, today: date) -> sa.Select:
    """The visits of a tenant matching the list filters."""
    query = sa.select(Visit).where(Visit.tenant_id == tenant_id)
    for key in ("status", "assignee", "customer_id", "reason", "region"):
        if key in args:
            query = query.where(getattr(Visit, key) == args[key])
    if "due_from" in args:
        query = query.where(Visit.due_date >= args["due_from"])
    if "due_to" in args:
        query = query.where(Visit.due_date <= args["due_to"])
    if args.get("overdue") is True:
        query = query.where(Visit.status == "planned", Visit.due_date < today)
    elif args.get("overdue") is False:
        query = query.where(sa.or_(Visit.status != "planned", Visit.due_date >= today))
    if "replied" in args:
        replied = Visit.replied_at.is_not(None) if args["replied"] else Visit.replied_at.is_(None)
        query = query.where(Visit.method == "email", replied)
    return query


def announce_scheduled(
    session: Session, outbox: Outbox, caller: Caller, visit: Visit, at: datetime
) -> None:
    """Publish VisitScheduled for ``visit`` as it now stands (planned, or its due date moved)."""
    publish(
        session,
        outbox,
        caller,
        events.VisitScheduled(
            **visit_fields(visit),
            method=visit.method,
            trigger=visit.trigger,
            scheduled_at=at.isoformat(),
        ),
    )
