"""The post-complaint visit's answer: a satisfied customer closes the complaint, any other
answer reopens it ("handled again until satisfied", DOMAIN.md §3)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from revisit_common import clock
from revisit_common.messaging.outbox import Outbox

from . import domain, lifecycle
from .models import Complaint

log = logging.getLogger(__name__)


def apply_visit_outcome(
    session: Session, outbox: Outbox, tenant_id: str, visit, correlation_id: str | None
) -> str:
    """Close or reopen the resolved complaint a completed visit followed up on (``visit``:
    the VisitCompleted event's ``visit_id``, ``complaint_id`` and ``satisfaction``).

    Returns ``closed``, ``reopened`` or why nothing changed (``no_complaint``, ``unknown``,
    ``not_resolved``, ``no_answer``): a visit for a complaint that is not resolved (a late or
    repeated answer) changes nothing.
    """
    complaint_id = visit.complaint_id
    if not complaint_id:
        return "no_complaint"
    complaint = session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None or complaint.tenant_id != tenant_id:
        log.warning("visit %s followed up unknown complaint %s", visit.visit_id, complaint_id)
        return "unknown"
    satisfaction = visit.satisfaction
    action = domain.follow_up_action(satisfaction)
    if action is None:
        return "no_answer"
    if complaint.status != "resolved":
        log.info("complaint %s is %s: visit answer ignored", complaint.number, complaint.status)
        return "not_resolved"
    visit_id = visit.visit_id
    lifecycle.apply_action(
        session,
        outbox,
        complaint,
        action,
        at=clock.now(),
        by=f"visit:{visit_id}" if visit_id else "visit",
        department=None,
        note=f"post-complaint visit: customer {satisfaction}",
        correlation_id=correlation_id,
        visit_id=visit_id,
        satisfied=action == "close",
    )
    return "closed" if action == "close" else "reopened"
