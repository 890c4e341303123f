"""Events the notify service consumes: every event type of the catalogue, since any may be
subscribed to by a webhook.

Each event passes through the webhook fan-out, which writes a pending delivery for each
matching webhook in the same transaction as the event's inbox claim; the worker sends them
later (``jobs.webhook_delivery``). The queue binds every routing key of the catalogue
(derived from this registry).

Some events also feed the emails (``emails.py``), in the same transaction: the tenant's
settings copy, the people, customers' names and visits copies, and the emails of major
complaints, escalations and risk warnings. Their entry in :data:`HANDLERS` runs the fan-out
first, then the email handler (:func:`both`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.events import (
    CATALOGUE,
    ComplaintEscalated,
    ComplaintReportedUpward,
    CustomerRegistered,
    CustomerRiskChanged,
    StaffChanged,
    VisitCancelled,
    VisitCompleted,
    VisitScheduled,
)
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import Handler, HandlerContext, reads

from . import emails, webhooks


@reads(*CATALOGUE.values())
def deliveries(session: Session, event, ctx: HandlerContext) -> None:
    """A pending delivery of the event for every webhook of its tenant that wants it.

    It reads no field: the webhook gets the envelope as it came (fields this version does
    not know included)."""
    webhooks.enqueue(session, event.envelope)


@reads(StaffChanged, fields=("staff_id", "name", "email", "active", "changed_at"))
def person_changed(session: Session, event, ctx: HandlerContext) -> None:
    emails.keep_person(
        session,
        event.envelope.tenantid,
        event.staff_id,
        name=event.name,
        email=event.email,
        active=event.active,
        changed_at=event.changed_at,
    )


@reads(CustomerRegistered, fields=("customer_id", "name"))
def customer_registered(session: Session, event, ctx: HandlerContext) -> None:
    emails.keep_customer_name(session, event.envelope.tenantid, event.customer_id, event.name)


@reads(
    VisitScheduled,
    fields=("visit_id", "customer_id", "reason", "method", "assignee", "due_date", "scheduled_at"),
)
def visit_scheduled(session: Session, event, ctx: HandlerContext) -> None:
    emails.keep_visit(
        session,
        event.envelope.tenantid,
        event.visit_id,
        customer_id=event.customer_id,
        reason=event.reason,
        method=event.method,
        assignee=event.assignee,
        due_date=event.due_date,
        open=True,
        at=event.scheduled_at,
    )


@reads(
    VisitCompleted,
    VisitCancelled,
    fields=("visit_id", "customer_id", "reason", "assignee", "due_date"),
)
def visit_closed(session: Session, event, ctx: HandlerContext) -> None:
    emails.keep_visit(
        session,
        event.envelope.tenantid,
        event.visit_id,
        customer_id=event.customer_id,
        reason=event.reason,
        method=None,
        assignee=event.assignee,
        due_date=event.due_date,
        open=False,
        at=event.envelope.time,
    )


@reads(
    ComplaintReportedUpward,
    fields=(
        "number",
        "customer_id",
        "severity",
        "category",
        "departments",
        "supervisors",
        "reason",
        "reported_at",
    ),
)
def complaint_reported(session: Session, event, ctx: HandlerContext) -> None:
    """The supervisors get a major complaint (or one touching several departments)."""
    tenant = event.envelope.tenantid
    emails.email_people(
        session,
        tenant,
        "complaint_reported",
        emails.supervisors(session, tenant, list(event.supervisors or [])),
        event.envelope.id,
        datetime.now(UTC),
        number=event.number,
        customer=emails.customer_name(session, tenant, event.customer_id),
        severity=event.severity,
        category=event.category,
        departments=list(event.departments or []),
        reason=event.reason,
        reported_at=event.reported_at,
    )


@reads(
    ComplaintEscalated,
    fields=("number", "customer_id", "severity", "department", "limit", "deadline", "escalated_at"),
)
def complaint_escalated(session: Session, event, ctx: HandlerContext) -> None:
    """The supervisors get every escalation (a complaint deadline missed)."""
    tenant = event.envelope.tenantid
    emails.email_people(
        session,
        tenant,
        "complaint_escalated",
        emails.supervisors(session, tenant),
        event.envelope.id,
        datetime.now(UTC),
        number=event.number,
        customer=emails.customer_name(session, tenant, event.customer_id),
        severity=event.severity,
        department=event.department,
        limit=event.limit,
        deadline=event.deadline,
        escalated_at=event.escalated_at,
    )


@reads(
    CustomerRiskChanged,
    fields=("customer_id", "risk_level", "previous_level", "warning", "reasons", "measures"),
    optional=("owner",),
)
def risk_changed(session: Session, event, ctx: HandlerContext) -> None:
    """A risk warning goes to the customer's owner."""
    if not event.warning or not event.owner:
        return
    tenant = event.envelope.tenantid
    emails.email_people(
        session,
        tenant,
        "risk_warning",
        [event.owner],
        event.envelope.id,
        datetime.now(UTC),
        customer=emails.customer_name(session, tenant, event.customer_id),
        risk_level=event.risk_level,
        previous_level=event.previous_level,
        reasons=[str(reason) for reason in event.reasons or []],
        measures=[str(measure) for measure in event.measures or []],
    )


def both(first: Handler, then: Handler) -> Handler:
    """One handler that runs ``first`` and then ``then`` in the same transaction."""

    def handle(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
        first(session, envelope, ctx)
        then(session, envelope, ctx)

    handle.__name__ = f"{first.__name__}+{then.__name__}"
    return handle


EMAIL_HANDLERS: dict[str, Handler] = {
    "TenantRegistered": tenant_settings.keep_copy,
    "TenantSettingsChanged": tenant_settings.keep_copy,
    "StaffChanged": person_changed,
    "CustomerRegistered": customer_registered,
    "VisitScheduled": visit_scheduled,
    "VisitCompleted": visit_closed,
    "VisitCancelled": visit_closed,
    "ComplaintReportedUpward": complaint_reported,
    "ComplaintEscalated": complaint_escalated,
    "CustomerRiskChanged": risk_changed,
}

HANDLERS: dict[str, Handler] = {
    name: both(deliveries, EMAIL_HANDLERS[name]) if name in EMAIL_HANDLERS else deliveries
    for name in CATALOGUE
}
