"""The watch plan of a customer at risk (DOMAIN.md §6): medium risk asks for one, high risk
keeps it beside its stricter measures. The owner follows the customer up with a
``risk_watch`` visit every ``risk_watch_months``; completing one plans the next, and a
return to low risk cancels the open one, which ends the plan.

One open watch visit per customer (the trigger ``risk_watch``), so a replayed or repeated
warning plans nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.messaging.outbox import Outbox

from . import domain
from .models import Visit
from .planning import customer_of, instant, note_sender
from .service import (
    CustomerInfo,
    TenantContext,
    annotate,
    cancel,
    info_of,
    open_visit,
    plan_visit,
    tenant_context,
)

REASON = TRIGGER = "risk_watch"


def risk_changed(
    session: Session, outbox: Outbox, caller: Caller, event, sent_at: datetime
) -> Visit | None:
    """CustomerRiskChanged: a watched level starts the plan (when none is open); low risk
    cancels the open watch visit."""
    copy = note_sender(session, caller, event, sent_at)
    current = open_visit(session, caller.tenant_id, event.customer_id, REASON, TRIGGER)
    if not domain.watched(event.risk_level):
        if current is not None:
            cancel(session, outbox, caller, current, f"risk now {event.risk_level}: watch ended")
        return None
    if current is not None:
        return None
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    at = instant(event.changed_at, sent_at)
    return _plan(session, outbox, caller, ctx, info_of(copy), at)


def next_watch(
    session: Session, outbox: Outbox, caller: Caller, ctx: TenantContext, visit: Visit
) -> Visit | None:
    """A watch visit done: the next one falls due a watch period after it."""
    customer = customer_of(session, caller, visit)
    return _plan(session, outbox, caller, ctx, customer, visit.completed_at)


def _plan(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    ctx: TenantContext,
    customer: CustomerInfo,
    at: datetime,
) -> Visit | None:
    due = domain.due_date(REASON, ctx.local_date(at), ctx.policy, ctx.calendar)
    visit = plan_visit(
        session, outbox, caller, ctx, customer, reason=REASON, due=due, trigger=TRIGGER,
        trigger_at=at, assignee=customer.owner,
        notes="watch plan: follow the customer up and review its payments",
    )  # fmt: skip
    return annotate([visit], ctx.today)[0] if visit else None
