"""Lifecycle steps of a complaint: the state machine applied, the clock kept, the events.

Each step appends to the ledger, catches up on escalations (limits missed before the step,
and a limit the step itself meets late), and adds the event it causes to the outbox, all in
the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from revisit_common import events
from revisit_common.caller import SYSTEM, Caller
from revisit_common.errors import Conflict, Invalid
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied

from . import domain, reporting, service, triage
from .models import Complaint


def escalate_due(
    session: Session, outbox: Outbox, complaint: Complaint, at: datetime, correlation_id=None
) -> list[str]:
    """ComplaintEscalated for each missed limit not escalated yet (once per limit)."""
    at = at.astimezone(UTC)
    due = list(service.clock_of(complaint).to_escalate(at))
    for limit in due:
        deadline = service.deadlines_of(complaint).of(limit)
        if limit == "first_response":
            complaint.escalated_first_response = True
        elif limit == "plan":
            complaint.escalated_plan = True
        else:
            complaint.escalated_resolve_round = complaint.round
        note = f"{limit} limit missed (deadline {deadline.isoformat()}); reported to supervision"
        service.ledger_entry(
            complaint, at, "escalate", complaint.status, SYSTEM, complaint.department, note
        )
        service.publish(
            session,
            outbox,
            complaint,
            events.ComplaintEscalated(
                **service.complaint_fields(complaint),
                limit=limit,
                deadline=deadline.isoformat(),
                escalated_at=at.isoformat(),
            ),
            correlation_id,
        )
    if due:
        _raise_when_escalated(session, outbox, complaint, at, correlation_id)
    return due


def _raise_when_escalated(session, outbox, complaint: Complaint, at: datetime, correlation_id):
    """An escalated general complaint becomes major (reason ``escalated``) and is reported
    upward, unless it was already; its deadlines stay as they are."""
    reason = triage.escalated_severity(complaint.severity)
    if reason is None:
        return
    complaint.severity, complaint.severity_reason = "major", reason
    policy, _ = service.rules_for(session, complaint.tenant_id)
    upward = reporting.report_escalated(complaint, policy, at)
    if upward is not None:
        service.publish(session, outbox, complaint, upward, correlation_id)


def transition(
    session: Session, outbox: Outbox, caller: Caller, complaint_id: str, data: dict
) -> Complaint:
    """One lifecycle step asked for over HTTP (``action``, ``note``, ``resolution``)."""
    complaint = service.get_complaint(session, caller, complaint_id, for_update=True)
    department = data.get("department")
    if caller.role == "department":
        if department not in (None, caller.department):
            raise Invalid({"department": ["a department key books steps to its own department"]})
        department = caller.department
    return apply_action(
        session,
        outbox,
        complaint,
        data["action"],
        at=caller.now(),
        by=caller.actor,
        department=department or complaint.department,
        note=data.get("note"),
        resolution=data.get("resolution"),
        correlation_id=caller.correlation_id,
    )


def apply_action(
    session: Session,
    outbox: Outbox,
    complaint: Complaint,
    action: str,
    *,
    at: datetime,
    by: str,
    department: str | None,
    note: str | None = None,
    resolution: str | None = None,
    correlation_id: str | None = None,
    visit_id: str | None = None,
    satisfied: bool | None = None,
) -> Complaint:
    at = at.astimezone(UTC)
    try:
        target = domain.next_status(complaint.status, action, complaint.paused_from)
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from exc
    if action == "resolve" and not resolution:
        raise Invalid({"resolution": ["required to resolve a complaint"]})
    escalate_due(session, outbox, complaint, at, correlation_id)  # missed before this step
    from_status = complaint.status
    _effects(session, complaint, action, at, resolution=resolution, satisfied=satisfied)
    complaint.status = target
    complaint.updated_at = at
    if action == "resolve":
        note = f"resolution: {resolution}" + (f"\n{note}" if note else "")
    service.ledger_entry(complaint, at, action, from_status, by, department, note)
    escalate_due(session, outbox, complaint, at, correlation_id)  # a limit met late
    event = _event_for(complaint, action, at, note=note, visit_id=visit_id)
    if event is not None:
        service.publish(session, outbox, complaint, event, correlation_id)
    return complaint


def _effects(session, complaint: Complaint, action: str, at: datetime, **extra) -> None:
    """What an action changes besides the status: limits met, the clock, the round."""
    if action == "acknowledge":
        complaint.first_responded_at = complaint.first_responded_at or at
    elif action == "propose":
        complaint.planned_at = complaint.planned_at or at
    elif action == "resolve":
        complaint.resolved_at = at
        complaint.resolution = extra["resolution"]
    elif action == "close":
        complaint.closed_at = at
        complaint.satisfied = extra["satisfied"]
    elif action == "reopen":
        policy, calendar = service.rules_for(session, complaint.tenant_id)
        deadlines = domain.reopened_deadlines(
            service.deadlines_of(complaint), complaint.severity, at, policy, calendar
        )
        complaint.round += 1
        complaint.resolve_by = deadlines.resolve_by
        complaint.resolved_at = complaint.closed_at = complaint.resolution = None
        complaint.satisfied = extra["satisfied"]
    elif action == "wait_customer":
        complaint.paused_from, complaint.paused_at = complaint.status, at
    elif action == "resume":
        _, calendar = service.rules_for(session, complaint.tenant_id)
        paused = max(calendar.working_time_between(complaint.paused_at, at), timedelta(0))
        unmet = service.clock_of(complaint).unmet()
        shifted = domain.shift_deadlines(service.deadlines_of(complaint), unmet, paused, calendar)
        complaint.first_response_by = shifted.first_response_by
        complaint.plan_by = shifted.plan_by
        complaint.resolve_by = shifted.resolve_by
        complaint.paused_seconds += paused.total_seconds()
        complaint.paused_from = complaint.paused_at = None


def _event_for(complaint: Complaint, action: str, at: datetime, *, note, visit_id):
    common = service.complaint_fields(complaint)
    if action == "resolve":
        return events.IssueResolved(
            issue_id=complaint.id,
            source="complaint",
            visit_id=None,
            complaint_id=complaint.id,
            **copied(complaint, "customer_id", "department", "category", "region"),
            assignee=complaint.assignee,
            raised_at=complaint.received_at.isoformat(),
            resolved_at=at.isoformat(),
            within_deadline=domain.within_deadline(complaint.resolve_by, at),
        )
    if action == "close":
        return events.ComplaintClosed(
            **common, closed_at=at.isoformat(), satisfied=complaint.satisfied, visit_id=visit_id
        )
    if action == "reopen":
        return events.ComplaintReopened(
            **common, reopened_at=at.isoformat(), why=note, visit_id=visit_id
        )
    return None
