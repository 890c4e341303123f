"""The case library: resolved issues and complaints written up for reuse, and the
complaints whose resolution the visit service has seen (what a case from one copies)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.errors import Conflict, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import tenant_row

from . import issue_rules
from .models import Case, Issue, ResolvedComplaint
from .records import get_issue

SEARCHED = (Case.title, Case.summary, Case.lessons)


def note_resolved_complaint(session: Session, tenant_id: str, event, at: datetime) -> None:
    """Keep (or refresh) the complaint an IssueResolved of source ``complaint`` names."""
    row = session.get(ResolvedComplaint, (tenant_id, event.complaint_id))
    if row is None:
        row = ResolvedComplaint(tenant_id=tenant_id, complaint_id=event.complaint_id)
        session.add(row)
    elif row.resolved_at > at:
        return  # an older resolution arriving late
    row.category = event.category or row.category or ""
    row.department = event.department or row.department or ""
    row.customer_id = event.customer_id or row.customer_id or ""
    row.resolved_at = at
    session.flush()


def _source(session: Session, caller: Caller, source: str, source_id: str) -> dict:
    """What a case copies of its source; unknown → 404, not resolved → 409."""
    if source == "issue":
        try:
            issue: Issue = get_issue(session, caller, source_id)
        except NotFound:
            raise NotFound("issue") from None
        if not issue_rules.may_become_case(issue.status):
            raise Conflict(f"only a resolved issue becomes a case; this one is {issue.status}")
        return {
            "category": issue.category,
            "department": issue.department,
            "customer_id": issue.customer_id,
        }
    complaint = session.get(ResolvedComplaint, (caller.tenant_id, source_id))
    if complaint is None:
        # the complaint service owns complaints: one whose resolution has not reached this
        # service is not (yet) a resolved complaint here
        raise NotFound("resolved complaint")
    return {
        "category": complaint.category,
        "department": complaint.department,
        "customer_id": complaint.customer_id,
    }


def create_case(session: Session, outbox: Outbox, caller: Caller, data: dict) -> Case:
    """Write up a resolved issue or complaint as a case, copying its category and
    department."""
    copied = _source(session, caller, data["source"], data["source_id"])
    case = Case(
        id=new_id(),
        tenant_id=caller.tenant_id,
        source=data["source"],
        source_id=data["source_id"],
        title=data["title"],
        summary=data["summary"],
        lessons=data.get("lessons"),
        **copied,
        created_by=caller.actor,
        created_at=caller.now(),
    )
    session.add(case)
    session.flush()
    return case


def case_query(tenant_id: str, args: dict) -> sa.Select:
    """A tenant's cases matching ``q`` (in the title, summary or lessons, any case; Chinese
    text as it is), ``category`` and ``department``."""
    query = sa.select(Case).where(Case.tenant_id == tenant_id)
    for key in ("category", "department"):
        if key in args:
            query = query.where(getattr(Case, key) == args[key])
    if args.get("q"):
        query = query.where(sa.or_(*(c.icontains(args["q"], autoescape=True) for c in SEARCHED)))
    return query


def get_case(session: Session, tenant_id: str, case_id: str) -> Case:
    return tenant_row(session, Case, tenant_id, case_id, "case")
