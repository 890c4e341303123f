"""Reporting a complaint upward at intake (DOMAIN.md §6 "Major complaints").

:func:`report_upward` marks a new complaint that the rules of supervision.py report upward
and returns its ComplaintReportedUpward event, which the intake adds to the outbox beside
ComplaintRaised, in the same transaction; :func:`report_escalated` does the same for a
complaint that escalation raised to major later, once. The notify service delivers it to
the supervisors.
"""

from __future__ import annotations

from datetime import UTC, datetime

from revisit_common import events
from revisit_common.rows import copied

from . import domain, supervision
from .models import Complaint


def departments_of(complaint: Complaint) -> tuple[str, ...]:
    """Every department the complaint touches: the handling one, then the assisting ones."""
    return supervision.departments_touched(
        complaint.department, complaint.assisting_departments or ()
    )


def report_upward(
    complaint: Complaint, policy: domain.ComplaintPolicy, at: datetime
) -> events.ComplaintReportedUpward | None:
    """Mark ``complaint`` reported upward at ``at`` when the rules say so; its event."""
    departments = departments_of(complaint)
    reason = supervision.upward_reason(complaint.severity, departments, complaint.severity_reason)
    if reason is None:
        return None
    return _reported(complaint, policy, at, reason, departments)


def report_escalated(
    complaint: Complaint, policy: domain.ComplaintPolicy, at: datetime
) -> events.ComplaintReportedUpward | None:
    """Mark a complaint that escalation made major reported upward at ``at`` (reason
    ``major``) unless it was reported upward already; its event, or None."""
    if complaint.reported_upward_reason is not None or complaint.severity != "major":
        return None
    return _reported(complaint, policy, at, supervision.MAJOR, departments_of(complaint))


def _reported(
    complaint: Complaint,
    policy: domain.ComplaintPolicy,
    at: datetime,
    reason: str,
    departments: tuple[str, ...],
) -> events.ComplaintReportedUpward:
    at = at.astimezone(UTC)
    complaint.reported_upward_reason, complaint.reported_upward_at = reason, at
    return events.ComplaintReportedUpward(
        complaint_id=complaint.id,
        **copied(complaint, "number", "customer_id", "severity", "category", "department"),
        departments=list(departments),
        region=complaint.region,
        supervisors=list(policy.supervisors),
        reason=reason,
        reported_at=at.isoformat(),
    )
