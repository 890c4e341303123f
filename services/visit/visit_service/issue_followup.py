"""An issue's follow-through after it is raised: its stages completed one by one, and the
customer told the result of a resolved issue (satisfied confirms it, not satisfied reopens
it). The rules are in :mod:`issue_rules`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common import events
from revisit_common.caller import Caller
from revisit_common.errors import Conflict, Forbidden, NotFound
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied

from . import issue_rules
from .domain import IllegalTransition
from .models import Issue
from .records import get_issue, shown
from .service import publish


def complete_stage(
    session: Session, outbox: Outbox, caller: Caller, issue_id: str, n: int
) -> Issue:
    """Mark stage ``n`` (from 1) of the issue's timetable done now. Unknown ``n`` → 404;
    a stage done already, or a stage of a confirmed issue → 409."""
    issue = get_issue(session, caller, issue_id, lock=True)
    try:
        issue.stages = issue_rules.complete_stage(
            issue.stages, n, caller.now(), caller.actor, issue.status
        )
    except issue_rules.NoSuchStage:
        raise NotFound("stage") from None
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    session.flush()
    return shown(session, caller, issue)


def confirm_issue(
    session: Session, outbox: Outbox, caller: Caller, issue_id: str, data: dict
) -> Issue:
    """The visitor told the customer the result of a resolved issue: satisfied → status
    ``confirmed`` (IssueConfirmed); not satisfied → IssueConfirmed(satisfied=false), then
    the issue is open again (IssueReopened). Not resolved → 409. Department keys resolve
    issues; telling the customer is the visitor's (403)."""
    if caller.role == "department":
        raise Forbidden("the visitor confirms an issue with the customer, not a department")
    issue = get_issue(session, caller, issue_id, lock=True)
    satisfied = data["satisfied"]
    try:
        issue.status = issue_rules.confirmation(issue.status, satisfied)
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    stamp = caller.now()
    issue.satisfied = satisfied
    issue.confirmation_note = data.get("note")
    issue.confirmed_at = stamp
    issue.confirmed_by = caller.actor
    about = {"issue_id": issue.id, **_fields(issue)}
    publish(
        session,
        outbox,
        caller,
        events.IssueConfirmed(**about, satisfied=satisfied, confirmed_at=stamp.isoformat()),
    )
    if not satisfied:
        issue.reopen_count = (issue.reopen_count or 0) + 1
        issue.resolution = issue.resolved_by = issue.resolved_at = None
        publish(
            session,
            outbox,
            caller,
            events.IssueReopened(**about, reopened_at=stamp.isoformat(), why=data.get("note")),
        )
    session.flush()
    return shown(session, caller, issue)


def _fields(issue: Issue) -> dict:
    return copied(issue, "customer_id", "department", "category", "region", "assignee")
