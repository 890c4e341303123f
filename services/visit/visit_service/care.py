"""Care visits: planned from contacts' dates (ContactDatesChanged) and, by a periodic job,
from those dates and the tenant's care dates as they come within the lead days.

The rules (who gets care, when, the triggers) are in :mod:`care_rules`. A contact's date
that changes moves its open care visit (a new due date and trigger, announced again with
VisitScheduled so every copy of the visit follows) or cancels it when cleared; a contact
that stops being a decision maker (a key contact) has its open care visits cancelled; the job
plans each (contact or customer, date, year) once, whatever became of that visit since.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.caller import Caller
from revisit_common.clock import Clock
from revisit_common.messaging.outbox import Outbox

from . import care_rules
from .care_rules import CONTACT_KINDS, HOLIDAY, care_trigger, key_contact, trigger_prefix
from .models import CareContact, CustomerCopy, Visit
from .planning import instant, note_sender
from .service import (
    CustomerInfo,
    TenantContext,
    VisitRecord,
    announce_scheduled,
    cancel,
    info_of,
    plan_visit,
    tenant_context,
)

REASON = "care"


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _focus(kind: str, name: str | None) -> str:
    return f"{kind}: {name}"[:2000] if name else kind


def _open_care(session: Session, tenant_id: str, customer_id: str, prefix: str) -> Visit | None:
    return session.scalar(
        sa.select(Visit).where(
            Visit.tenant_id == tenant_id,
            Visit.customer_id == customer_id,
            Visit.reason == REASON,
            Visit.status == "planned",
            Visit.trigger.startswith(prefix, autoescape=True),
        )
    )


def _triggers_used(session: Session, tenant_id: str, triggers: set[str]) -> set[tuple[str, str]]:
    """(customer, trigger) pairs among ``triggers`` that already have a care visit."""
    if not triggers:
        return set()
    rows = session.execute(
        sa.select(Visit.customer_id, Visit.trigger).where(
            Visit.tenant_id == tenant_id,
            Visit.reason == REASON,
            Visit.trigger.in_(triggers),
        )
    )
    return {(row.customer_id, row.trigger) for row in rows}


def _move(session: Session, outbox: Outbox, caller: Caller, visit: Visit, due, trigger) -> None:
    visit.due_date, visit.trigger, visit.updated_at = due, trigger, caller.now()
    visit.overdue_notified_at = None
    session.flush()
    announce_scheduled(session, outbox, caller, visit, visit.updated_at)


# --------------------------------------------------------------------------- contact dates


def contact_dates_changed(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime
) -> None:
    """Keep the contact's dates; each date that changed moves, cancels or plans its care
    visit, as of the day of the change (the job plans the rest as their dates come near).
    So does a change of the contact's decision-maker flag (only key contacts get care).
    An event older than the copy held changes nothing."""
    copy = note_sender(session, caller, event, sent_at)
    changed_at = instant(event.changed_at, sent_at)
    row = session.get(CareContact, (caller.tenant_id, event.contact_id))
    if row is not None and changed_at < row.changed_at:
        return
    new = {kind: _day(getattr(event, kind)) for kind in CONTACT_KINDS}
    old = {kind: getattr(row, kind) if row else None for kind in CONTACT_KINDS}
    flag = event.decision_maker if isinstance(event.decision_maker, bool) else None
    was_key = key_contact(row.decision_maker) if row else True
    if row is None:
        row = CareContact(tenant_id=caller.tenant_id, contact_id=event.contact_id)
        session.add(row)
    row.customer_id, row.name, row.changed_at = event.customer_id, event.name, changed_at
    row.birthday, row.anniversary = new["birthday"], new["anniversary"]
    row.decision_maker = flag
    session.flush()
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    today = ctx.local_date(changed_at)  # as of the change: a replay decides the same
    for kind in CONTACT_KINDS:
        if new[kind] != old[kind] or key_contact(flag) != was_key:
            _follow_date(session, outbox, caller, ctx, info_of(copy), row, kind, today)


def _follow_date(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    ctx: TenantContext,
    customer: CustomerInfo,
    contact: CareContact,
    kind: str,
    today: date,
) -> None:
    prefix = trigger_prefix(kind, contact.contact_id)
    current = _open_care(session, caller.tenant_id, contact.customer_id, prefix)
    change = care_rules.contact_change(
        care_rules.occurrence_of(current.trigger) if current else None,
        getattr(contact, kind),
        today,
        ctx.policy.care_lead_days,
        customer.grade in ctx.policy.birthday_care_grades and key_contact(contact.decision_maker),
    )
    if change.action == "cancel" and current is not None:
        why = f"{kind} cleared" if getattr(contact, kind) is None else f"{kind} changed"
        if getattr(contact, kind) is not None and not key_contact(contact.decision_maker):
            why = "no longer a decision maker"
        cancel(session, outbox, caller, current, why)
    elif change.action == "move" and current is not None:
        _move(
            session,
            outbox,
            caller,
            current,
            change.due,
            care_trigger(kind, contact.contact_id, change.due),
        )
    elif change.action == "plan":
        trigger = care_trigger(kind, contact.contact_id, change.due)
        if not _triggers_used(session, caller.tenant_id, {trigger}):
            _plan(session, outbox, caller, ctx, customer, change.due, trigger, kind, contact.name)


def _plan(session, outbox, caller, ctx, customer, due, trigger, kind, name) -> VisitRecord | None:
    return plan_visit(
        session, outbox, caller, ctx, customer, reason=REASON, due=due, trigger=trigger,
        trigger_at=caller.now(), focus=_focus(kind, name),
    )  # fmt: skip


# --------------------------------------------------------------------------- the job


def run(runtime) -> int:
    """The periodic job: plan the care visits now within the lead days, every tenant."""
    return plan_care(runtime.db, runtime.outbox, runtime.clock)


def plan_care(db, outbox: Outbox, clock: Clock) -> int:
    """Plan every care visit due within its tenant's lead days (as of ``clock()``) that was
    not planned before; one transaction per tenant. Returns how many were planned."""
    with db.read() as session:
        tenants = set(session.scalars(sa.select(tenant_settings.settings_table.c.tenant_id)))
        tenants |= set(session.scalars(sa.select(CareContact.tenant_id).distinct()))
    planned = 0
    for tenant_id in sorted(tenants):
        with db.transaction() as session:
            caller = Caller(tenant_id=tenant_id, clock=clock)
            planned += plan_tenant_care(session, outbox, caller)
    return planned


def plan_tenant_care(session: Session, outbox: Outbox, caller: Caller) -> int:
    """One tenant's care visits due within the lead days: contacts' dates, then holidays."""
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    today = ctx.local_date(caller.now())
    wanted = _contact_plans(session, caller.tenant_id, ctx, today)
    wanted += _holiday_plans(session, caller.tenant_id, ctx, today)
    used = _triggers_used(session, caller.tenant_id, {plan[2] for plan in wanted})
    count = 0
    for customer, due, trigger, kind, name in wanted:
        if (customer.customer_id, trigger) in used:
            continue
        if _plan(session, outbox, caller, ctx, customer, due, trigger, kind, name) is not None:
            count += 1
    return count


def _customers(session: Session, tenant_id: str) -> dict[str, CustomerCopy]:
    rows = session.scalars(sa.select(CustomerCopy).where(CustomerCopy.tenant_id == tenant_id))
    return {row.customer_id: row for row in rows}


def _contact_plans(session: Session, tenant_id: str, ctx: TenantContext, today: date) -> list:
    grades = ctx.policy.birthday_care_grades
    if not grades:
        return []
    customers = _customers(session, tenant_id)
    contacts = session.scalars(sa.select(CareContact).where(CareContact.tenant_id == tenant_id))
    wanted = []
    for contact in contacts:
        customer = customers.get(contact.customer_id)
        if customer is None or customer.grade not in grades:
            continue
        if not key_contact(contact.decision_maker):
            continue
        for kind in CONTACT_KINDS:
            day = getattr(contact, kind)
            if day is None:
                continue
            when = care_rules.next_occurrence(day.month, day.day, today)
            if care_rules.in_lead(when, today, ctx.policy.care_lead_days):
                trigger = care_trigger(kind, contact.contact_id, when)
                wanted.append((info_of(customer), when, trigger, kind, contact.name))
    return wanted


def _holiday_plans(session: Session, tenant_id: str, ctx: TenantContext, today: date) -> list:
    due = []
    for care_date in ctx.policy.care_dates:
        when = care_rules.next_occurrence(care_date.month, care_date.day, today)
        if care_rules.in_lead(when, today, ctx.policy.care_lead_days):
            due.append((care_date, when))
    if not due:
        return []
    customers = _customers(session, tenant_id).values()
    wanted = []
    for care_date, when in due:
        grades = ctx.policy.holiday_grades(care_date)
        trigger = care_trigger(HOLIDAY, care_date.name, when)
        for customer in customers:
            if customer.grade in grades:
                wanted.append((info_of(customer), when, trigger, HOLIDAY, care_date.name))
    return wanted
