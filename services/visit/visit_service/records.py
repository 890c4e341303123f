"""Visit records: completion with its issues, audits and audit samples, issue resolution."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revisit_common import db, events
from revisit_common.caller import Caller
from revisit_common.clock import now
from revisit_common.errors import Conflict, Forbidden, Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.paging import listing
from revisit_common.rows import copied, insert_values

from . import contact_rules, domain, issue_rules, planning, watch
from .models import Audit, CustomerCopy, Issue, IssueDepartment, Visit
from .service import (
    VISIT_COLUMNS,
    VISITS,
    VisitRecord,
    annotate,
    annotate_issues,
    get_visit,
    publish,
    tenant_context,
    visit_fields,
)

RECORD_FIELDS = (
    "satisfaction",
    "repurchase_intent",
    "recommend_score",
    "ratings",
    "product_feedback",
    "service_feedback",
    "needs",
    "competitor_info",
)


# --------------------------------------------------------------------------- completion


def complete_visit(
    session: Session, outbox: Outbox, caller: Caller, visit_id: str, data: dict
) -> VisitRecord:
    """Record a visit; each issue found is raised to its lead department (IssueRaised),
    then VisitCompleted; a periodic visit plans the next one of its cadence."""
    visit, stored = _visit_to_complete(session, caller.tenant_id, visit_id)
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    try:
        visit.status = domain.visit_transition(visit.status, "complete")
        contact_rules.check_completion(
            visit.method, visit.appointment_at, ctx.policy.on_site_booking_required
        )
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    stamp = caller.now()
    completed_at = data.get("completed_at") or stamp
    if completed_at > stamp + timedelta(minutes=5):
        raise Invalid({"completed_at": ["must not be in the future"]})
    for key in RECORD_FIELDS:
        setattr(visit, key, data.get(key))
    if data.get("notes"):
        visit.notes = data["notes"]
    visit.completed_at = completed_at.astimezone(UTC)
    visit.completed_by = caller.actor
    visit.on_time = domain.on_time(visit.completed_at, visit.due_date, ctx.calendar)
    visit.updated_at = stamp
    items = data.get("issues") or ()
    grade = planning.issue_grade(session, visit) if items else None
    raised = [
        raise_issue(
            visit, item, stamp, planning.due_for_grade(grade, ctx, item.get("due_date"), stamp)
        )
        for item in items
    ]
    visit.issues = raised
    if raised:
        write_issues(session, raised)
    for issue in raised:
        publish(session, outbox, caller, issue_raised(issue))
    publish(
        session,
        outbox,
        caller,
        events.VisitCompleted(
            **visit_fields(visit),
            completed_at=visit.completed_at.isoformat(),
            issue_ids=[issue.id for issue in raised],
            **copied(visit, "method", "on_time", "satisfaction", "complaint_id"),
            **copied(visit, "recommend_score", "repurchase_intent"),
            **copied(visit, "needs", "competitor_info", "service_feedback"),
        ),
    )
    # The columns it changed, written with the events published so far (Outbox.write_with:
    # one statement on PostgreSQL, not the UPDATE and then the outbox rows at commit).
    changed = {key: value for key, value in _columns(visit).items() if value != stored[key]}
    outbox.write_with(session, UPDATE_VISIT, {"visit_id": visit.id, **changed})
    if visit.reason == "periodic":
        planning.next_periodic(session, outbox, caller, ctx, visit)
    if visit.reason == watch.REASON:
        watch.next_watch(session, outbox, caller, ctx, visit)
    annotate([visit], ctx.today)
    annotate_issues(visit.issues, ctx.local_date(caller.now()))  # stages as of the caller's day
    return visit


# Locked until the transaction ends (PostgreSQL; SQLite has one writer at a time): of two
# completions at once, the second reads the visit the first completed, and is a 409.
VISIT_BY_ID = sa.select(VISITS).where(VISITS.c.id == sa.bindparam("visit_id")).with_for_update()
UPDATE_VISIT = sa.update(VISITS).where(VISITS.c.id == sa.bindparam("visit_id"))


def _columns(visit: VisitRecord) -> dict[str, Any]:
    return {key: getattr(visit, key) for key in VISIT_COLUMNS}


def _visit_to_complete(
    session: Session, tenant_id: str, visit_id: str
) -> tuple[VisitRecord, dict[str, Any]]:
    """The visit of the tenant to complete, and its columns as stored: read with one
    statement, not loaded into the session (:func:`complete_visit` writes the columns it
    changed with one UPDATE, not the unit of work's flush, written with the visit's events
    by :meth:`Outbox.write_with`; both through :func:`.db.run`). Its
    issues and audit are not read: only a planned visit can be completed, and a planned
    visit has neither (both are made when a visit is completed); of a visit in any other
    status it is a 409 first."""
    rows = db.run(session, VISIT_BY_ID, {"visit_id": visit_id})
    stored = dict(zip(VISIT_COLUMNS, rows[0], strict=True)) if rows else None
    if stored is None or stored["tenant_id"] != tenant_id:
        raise NotFound("visit")
    return VisitRecord(**stored, issues=[], audit=None), stored


def complete_by_survey(session: Session, outbox: Outbox, caller: Caller, event) -> bool:
    """An online survey answer completes its visit: the one the invitation named, else the
    customer's earliest planned ``online_survey`` visit. False when there is none."""
    query = sa.select(Visit.id).where(  # its id only: complete_visit reads the row itself
        Visit.tenant_id == caller.tenant_id,
        Visit.customer_id == event.customer_id,
        Visit.method == "online_survey",
        Visit.status == "planned",
    )
    if event.visit_id:
        query = query.where(Visit.id == event.visit_id)
    visit_id = session.scalars(query.order_by(Visit.due_date, Visit.id).limit(1)).first()
    if visit_id is None:
        return False
    answered = planning.instant(event.responded_at, now())
    record = {"completed_at": min(answered, now())}
    if event.satisfaction:
        record["satisfaction"] = event.satisfaction
    if event.recommend_score is not None:
        record["recommend_score"] = event.recommend_score
    complete_visit(session, outbox, caller, visit_id, record)
    return True


def raise_issue(visit: VisitRecord, item: dict, stamp: datetime, due: date | None) -> Issue:
    """The issue ``item`` found on ``visit``, due ``due`` (the one asked for, or a key
    account's next working day: :func:`.planning.issue_due`); its rows are written by
    :func:`write_issues`, not the unit of work (the Issue is not added to a session)."""
    lead = item["department"]
    assisting = list(dict.fromkeys(d for d in item.get("assisting_departments") or () if d != lead))
    return Issue(
        id=new_id(),
        visit_id=visit.id,
        **copied(visit, "tenant_id", "complaint_id", "customer_id", "region", "assignee"),
        category=item["category"],
        description=item["description"],
        department=lead,
        assisting_departments=assisting,
        status="open",
        due_date=due,
        stages=[_stage(s) for s in item.get("stages") or ()],
        raised_at=stamp,
        reopen_count=0,
        departments=[
            IssueDepartment(department=d, tenant_id=visit.tenant_id, lead=d == lead)
            for d in (lead, *assisting)
        ],
    )


ISSUES = Issue.__table__
INSERT_ISSUES = sa.insert(ISSUES)
INSERT_ISSUE_DEPARTMENTS = sa.insert(IssueDepartment.__table__)


def write_issues(session, issues: list[Issue]) -> None:
    """The rows of ``issues`` and of their departments, with two Core statements (in a
    Session or a :class:`.CoreTransaction` alike)."""
    session.execute(INSERT_ISSUES, [insert_values(issue, ISSUES) for issue in issues])
    session.execute(
        INSERT_ISSUE_DEPARTMENTS,
        [
            {"issue_id": issue.id, **copied(d, "department", "tenant_id", "lead")}
            for issue in issues
            for d in issue.departments
        ],
    )


def _stage(stage: dict) -> dict:
    return {
        "name": stage["name"],
        "owner": stage.get("owner"),
        "due_date": stage["due_date"].isoformat() if stage.get("due_date") else None,
    }


def issue_fields(issue: Issue) -> dict[str, Any]:
    """What both events about an issue (raised, resolved) say of it."""
    return {
        **copied(issue, "visit_id", "complaint_id", "customer_id", "department", "category"),
        **copied(issue, "region", "assignee"),
        "raised_at": issue.raised_at.isoformat(),
    }


def issue_raised(issue: Issue) -> events.IssueRaised:
    return events.IssueRaised(
        issue_id=issue.id,
        source="visit",
        **issue_fields(issue),
        assisting_departments=list(issue.assisting_departments),
        description=issue.description,
        due_date=issue.due_date.isoformat() if issue.due_date else None,
    )


# --------------------------------------------------------------------------- audits


def audit_visit(
    session: Session, outbox: Outbox, caller: Caller, visit_id: str, data: dict
) -> Audit:
    """A supervisor marks a completed record accurate or not (once per visit)."""
    visit = get_visit(session, caller.tenant_id, visit_id)
    try:
        domain.check_auditable(visit.status, visit.audit is not None)
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    audit = Audit(
        id=new_id(),
        tenant_id=caller.tenant_id,
        visit_id=visit.id,
        accurate=data["accurate"],
        note=data.get("note"),
        auditor=caller.actor or caller.role,
        audited_at=now(),
    )
    try:
        with session.begin_nested():
            session.add(audit)
            session.flush()
    except IntegrityError:
        raise Conflict("this visit has been audited already") from None
    publish(
        session,
        outbox,
        caller,
        events.VisitAudited(
            visit_id=visit.id,
            audit_id=audit.id,
            **copied(audit, "accurate", "auditor"),
            **copied(visit, "assignee", "region"),
            due_date=visit.due_date.isoformat(),
            audited_at=audit.audited_at.isoformat(),
        ),
    )
    return audit


def audit_sample(session: Session, caller: Caller, args: dict) -> dict:
    """The completed, unaudited visits completed from ``from`` to ``to`` (tenant-local
    dates, inclusive) up for review: every one of a key account (the customer copy's grade
    A; ``review`` key_account), and a random ``share`` of each assignee's others
    (``review`` sample)."""
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    share = args.get("share") or ctx.policy.audit_share
    zone = ZoneInfo(ctx.calendar.timezone)
    customer = sa.and_(
        CustomerCopy.tenant_id == Visit.tenant_id, CustomerCopy.customer_id == Visit.customer_id
    )
    query = (
        sa.select(Visit.id, Visit.assignee, CustomerCopy.grade)
        .outerjoin(Audit, Audit.visit_id == Visit.id)
        .outerjoin(CustomerCopy, customer)
        .where(Visit.tenant_id == caller.tenant_id, Visit.status == "completed")
        .where(Audit.id.is_(None))
    )
    if "assignee" in args:
        query = query.where(Visit.assignee == args["assignee"])
    if args.get("from"):
        query = query.where(Visit.completed_at >= _local_midnight(args["from"], zone))
    if args.get("to"):
        query = query.where(Visit.completed_at < _local_midnight(args["to"] + timedelta(1), zone))
    candidates = [(row.id, row.assignee, row.grade) for row in session.execute(query)]
    review = domain.review_sample(candidates, share, random.Random(args.get("seed")))
    sampled = [visit_id for group in review.groups for visit_id in group.sampled]
    ids = [*review.key_accounts, *sampled]
    visits = session.scalars(sa.select(Visit).where(Visit.id.in_(ids)).order_by(Visit.id)).all()
    for visit in visits:
        visit.review = "key_account" if visit.id in review.key_accounts else "sample"
    return {
        "share": share,
        "from": args.get("from"),
        "to": args.get("to"),
        "population": len(candidates),
        "key_accounts": len(review.key_accounts),
        "groups": [
            {"assignee": g.assignee, "population": g.population, "sampled": len(g.sampled)}
            for g in review.groups
        ],
        "items": annotate(visits, ctx.today),
    }


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


# --------------------------------------------------------------------------- issues


def involving(department: str):
    """Issues whose lead or an assisting department is ``department``."""
    return Issue.id.in_(
        sa.select(IssueDepartment.issue_id).where(IssueDepartment.department == department)
    )


def issue_query(caller: Caller, args: dict) -> sa.Select:
    query = sa.select(Issue).where(Issue.tenant_id == caller.tenant_id)
    if caller.role == "department":
        query = query.where(involving(caller.department or ""))
    for key in ("status", "customer_id", "visit_id", "category"):
        if key in args:
            query = query.where(getattr(Issue, key) == args[key])
    if "department" in args:
        query = query.where(involving(args["department"]))
    return query


def get_issue(session: Session, caller: Caller, issue_id: str, *, lock: bool = False) -> Issue:
    """An issue of the caller's tenant; a department sees only issues it takes part in.
    ``lock``: held for update until the transaction ends (one change at a time)."""
    query = issue_query(caller, {}).where(Issue.id == issue_id)
    issue = session.scalar(query.with_for_update() if lock else query)
    if issue is None:
        raise NotFound("issue")
    return issue


def caller_today(session: Session, caller: Caller) -> date:
    """Today by the caller's clock, in the tenant's time zone (as of which stages are due)."""
    return tenant_context(session, caller.tenant_id, caller.clock).local_date(caller.now())


def shown(session: Session, caller: Caller, issue: Issue) -> Issue:
    """The issue ready to render: its stages' statuses as of the caller's today."""
    return annotate_issues([issue], caller_today(session, caller))[0]


def read_issue(session: Session, caller: Caller, issue_id: str) -> Issue:
    return shown(session, caller, get_issue(session, caller, issue_id))


def issue_page(session: Session, caller: Caller, args: dict) -> dict:
    """One page of the caller's issues matching the list filters, ready to render."""
    found = listing(session, issue_query(caller, args), Issue.id, args)
    annotate_issues(found["items"], caller_today(session, caller))
    return found


def resolve_issue(
    session: Session, outbox: Outbox, caller: Caller, issue_id: str, data: dict
) -> Issue:
    issue = get_issue(session, caller, issue_id, lock=True)
    if caller.role == "department" and caller.department != issue.department:
        raise Forbidden("only the lead department resolves an issue")
    try:
        issue.status = issue_rules.issue_transition(issue.status, "resolve")
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    ctx = tenant_context(session, caller.tenant_id, caller.clock)
    issue.resolution = data["resolution"]
    issue.resolved_by = caller.actor
    issue.resolved_at = now()
    publish(
        session,
        outbox,
        caller,
        events.IssueResolved(
            issue_id=issue.id,
            source="visit",
            **issue_fields(issue),
            resolved_at=issue.resolved_at.isoformat(),
            within_deadline=domain.within_deadline(issue.resolved_at, issue.due_date, ctx.calendar),
        ),
    )
    return shown(session, caller, issue)
