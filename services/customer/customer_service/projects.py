"""Use cases of the inputs that plan visits afterwards (CONTRACT.md §4.4): a project completed
for a customer (ProjectCompleted, for a post_project visit) and a marketing event with the
customers who attended it (MarketingEventHeld, for a post_event visit each)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import events
from revisit_common.caller import Caller
from revisit_common.errors import Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied, tenant_row

from . import validity
from .models import Customer, MarketingEvent, Project
from .service import get_customer, policy_for, publish

Row = TypeVar("Row", Project, MarketingEvent)


def record_project(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, data: dict
) -> Project:
    """A project completed for a customer; ``completed_at`` may be a date (the start of that
    day in the tenant's time zone) but not in the future."""
    customer = get_customer(session, caller.tenant_id, customer_id)
    completed_at = data["completed_at"]
    if not isinstance(completed_at, datetime):
        _, timezone = policy_for(session, customer.tenant_id)
        completed_at = validity.start_of_day(completed_at, timezone)
    if validity.in_future(completed_at, caller.now()):
        raise Invalid({"completed_at": ["must not be in the future"]})
    project = _insert(
        session,
        caller,
        Project,
        customer_id=customer.id,
        name=data["name"],
        completed_at=completed_at.astimezone(UTC),
    )
    completed = events.ProjectCompleted(
        project_id=project.id,
        customer_id=customer.id,
        **copied(customer, "region", "owner", "grade"),
        name=project.name,
        completed_at=project.completed_at.isoformat(),
    )
    publish(session, outbox, caller, completed)
    return project


def record_marketing_event(
    session: Session, outbox: Outbox, caller: Caller, data: dict
) -> MarketingEvent:
    """A marketing event held on a day up to the tenant's today; every attendee must be a
    customer of the caller's tenant (the first one that is not: 404 naming it)."""
    _, timezone = policy_for(session, caller.tenant_id)
    held_on: date = data["held_on"]
    if held_on > validity.local_date(caller.now(), timezone):
        raise Invalid({"held_on": ["must not be in the future"]})
    attendees = list(data["attendees"])
    known = set(
        session.scalars(
            sa.select(Customer.id).where(
                Customer.tenant_id == caller.tenant_id, Customer.id.in_(attendees)
            )
        )
    )
    for customer_id in attendees:
        if customer_id not in known:
            raise NotFound(f"customer {customer_id}")
    held = _insert(
        session, caller, MarketingEvent, name=data["name"], held_on=held_on, attendees=attendees
    )
    event = events.MarketingEventHeld(
        marketing_event_id=held.id,
        name=held.name,
        held_on=held.held_on.isoformat(),
        attendees=attendees,
    )
    publish(session, outbox, caller, event)
    return held


def get_marketing_event(session: Session, tenant_id: str, event_id: str) -> MarketingEvent:
    return tenant_row(session, MarketingEvent, tenant_id, event_id, "marketing event")


def _insert(session: Session, caller: Caller, model: type[Row], **fields) -> Row:
    """A new row of ``model`` for the caller's tenant, created now, written to the session."""
    row = model(id=new_id(), tenant_id=caller.tenant_id, created_at=caller.now(), **fields)
    session.add(row)
    session.flush()
    return row
