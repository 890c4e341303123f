"""The complaint service layer: each function is one use case, run inside a transaction.

Routes, event handlers and the escalation sweep call these; they load rows, apply the
domain rules, append to the ledger, and add the events the change causes to the outbox in
the same transaction (lifecycle steps: lifecycle.py). Nothing here does network I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import db, events, tenant_settings
from revisit_common.calendar import WorkCalendar
from revisit_common.caller import Caller
from revisit_common.clock import now  # noqa: F401 - the handlers read service.now
from revisit_common.directory import CustomerLookup
from revisit_common.errors import Conflict, Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied

from . import assignment, customers, domain, reporting, supervision, triage
from .copy_and_serial import copy_and_serial
from .models import Complaint, LedgerEntry
from .numbering import allocate_serial

INTAKE_FIELDS = (
    "customer_id", "channel", "category", "description", "complainant", "contact", "product",
)  # fmt: skip


def rules_for(session: Session, tenant_id: str) -> tuple[domain.ComplaintPolicy, WorkCalendar]:
    """The tenant's time-limit policy and working calendar (defaults until its settings
    arrive)."""
    return tenant_settings.load(session, tenant_id).derived("complaint_rules", _rules)


def _rules(settings: tenant_settings.TenantSettings) -> tuple[domain.ComplaintPolicy, WorkCalendar]:
    policy = domain.ComplaintPolicy.from_dict(settings.section("complaints"))
    calendar = settings.section("calendar")
    calendar.setdefault("timezone", settings.timezone)
    return policy, WorkCalendar.from_dict(calendar)


# --------------------------------------------------------------------------- reading


def get_complaint(
    session: Session, caller: Caller, complaint_id: str, *, for_update: bool = False
) -> Complaint:
    """A complaint of the caller's tenant; a department key sees only its department's."""
    complaint = session.get(Complaint, complaint_id, with_for_update=for_update or None)
    if (
        complaint is None
        or complaint.tenant_id != caller.tenant_id
        or (
            caller.role == "department"
            and not triage.department_sees(
                caller.department, complaint.department, complaint.coordinator, handling=for_update
            )
        )
    ):
        raise NotFound("complaint")
    return complaint


def deadlines_of(complaint: Complaint) -> domain.Deadlines:
    return domain.Deadlines(
        first_response_by=complaint.first_response_by,
        plan_by=complaint.plan_by,
        resolve_by=complaint.resolve_by,
    )


def clock_of(complaint: Complaint) -> domain.Clock:
    escalated = {
        limit
        for limit, done in (
            ("first_response", complaint.escalated_first_response),
            ("plan", complaint.escalated_plan),
            ("resolve", complaint.escalated_resolve_round >= complaint.round),
        )
        if done
    }
    return domain.Clock(
        deadlines=deadlines_of(complaint),
        met={
            "first_response": complaint.first_responded_at,
            "plan": complaint.planned_at,
            "resolve": complaint.resolved_at,
        },
        escalated=frozenset(escalated),
        paused=complaint.status == domain.WAITING,
    )


def overdue_clause(at: datetime):
    """SQL for :meth:`domain.Clock.overdue`: running, and an unmet limit past due at ``at``."""
    c = Complaint
    return sa.and_(
        c.status.in_(domain.RUNNING),
        sa.or_(
            c.resolve_by < at,
            # IS NOT NULL first: NOT (NULL < at) would be NULL and drop rows from overdue=false
            sa.and_(
                c.first_response_by.is_not(None),
                c.first_response_by < at,
                c.first_responded_at.is_(None),
            ),
            sa.and_(c.plan_by.is_not(None), c.plan_by < at, c.planned_at.is_(None)),
        ),
    )


def due_soon_clause(at: datetime, window: timedelta):
    """Running, not overdue yet, but an unmet limit falls due within ``window``."""
    return sa.and_(overdue_clause(at + window), sa.not_(overdue_clause(at)))


def person_of(caller: Caller, assignee: str | None) -> str | None:
    """The staff id ``assignee`` names: ``me`` is the calling person (Invalid for a key that
    acts as nobody)."""
    return caller.person() if assignee == assignment.ME else assignee


def list_query(caller: Caller, args: dict, at: datetime) -> sa.Select:
    query = sa.select(Complaint).where(Complaint.tenant_id == caller.tenant_id)
    if caller.role == "department":  # its own, and those it coordinates (triage.department_sees)
        query = query.where(
            sa.or_(
                Complaint.department == caller.department,
                Complaint.coordinator == caller.department,
            )
        )
    for key in ("status", "severity", "department", "customer_id", "channel", "category"):
        if args.get(key) is not None:
            query = query.where(getattr(Complaint, key) == args[key])
    if args.get("assignee") is not None:
        query = query.where(Complaint.assignee == person_of(caller, args["assignee"]))
    if args.get("overdue") is not None:
        clause = overdue_clause(at)
        query = query.where(clause if args["overdue"] else sa.not_(clause))
    if args.get("due_within_hours") is not None:
        query = query.where(overdue_clause(at + timedelta(hours=args["due_within_hours"])))
    return query


# --------------------------------------------------------------------------- writing


def ledger_entry(
    complaint: Complaint | NewComplaint,
    at: datetime,
    action: str,
    from_status: str | None,
    by: str,
    department: str | None,
    note: str | None,
) -> None:
    """Append a step to the complaint's ledger (a new complaint's: plain entries, which
    :func:`insert_new` writes)."""
    entry = SimpleNamespace if isinstance(complaint, NewComplaint) else LedgerEntry
    complaint.ledger.append(
        entry(
            id=new_id(),
            status=complaint.status,
            at=at,
            action=action,
            from_status=from_status,
            by=by,
            department=department,
            note=note,
        )
    )


COMPLAINTS, LEDGER = Complaint.__table__, LedgerEntry.__table__
INSERT_COMPLAINT, INSERT_LEDGER = sa.insert(COMPLAINTS), sa.insert(LEDGER)
_COLUMNS = frozenset(COMPLAINTS.columns.keys())


class NewComplaint(SimpleNamespace):
    """A complaint being registered: the columns set on it and its ``ledger`` (entries with
    the columns of :class:`LedgerEntry`) as attributes, a column not set reading None, as on
    a new :class:`Complaint`; without the ORM's instrumentation, which cost more than a
    statement to set up (nothing in the transaction reads the complaint back)."""

    def __getattr__(self, name: str):
        if name in _COLUMNS:
            return None
        raise AttributeError(name)


_BOTH: dict[tuple, sa.Insert] = {}  # PostgreSQL: per shape, built once, values as parameters


def insert_both(columns: tuple[str, ...], entries: int) -> sa.Insert:
    """One statement inserting a complaint (``columns``) and its ``entries`` ledger rows:
    the ledger's first row's INSERT with the complaint's and the other rows' INSERTs as
    data-modifying WITHs (PostgreSQL only; a single-row INSERT each: a multi-row VALUES of
    parameters is a statement SQLAlchemy compiles anew for each execution)."""
    statement = _BOTH.get((columns, entries))
    if statement is None:
        complaint = sa.insert(COMPLAINTS).values(
            {key: sa.bindparam(f"c_{key}", type_=COMPLAINTS.c[key].type) for key in columns}
        )
        rows = [
            sa.insert(LEDGER).values(
                {
                    column.key: sa.bindparam(f"l{n}_{column.key}", type_=column.type)
                    for column in LEDGER.columns
                }
            )
            for n in range(entries)
        ]
        ctes = [complaint.cte("new_complaint")]
        ctes += [row.cte(f"new_entry_{n}") for n, row in enumerate(rows[1:], 1)]
        statement = rows[0].add_cte(*ctes)
        _BOTH[(columns, entries)] = statement
    return statement


def insert_new(session: Session, complaint: NewComplaint) -> None:
    """Insert a complaint being registered and its ledger with Core statements instead of
    the unit of work's flush: the columns set on it (one never set is left to its default,
    as the flush leaves it). On PostgreSQL one statement, on SQLite (no INSERT in a WITH)
    two."""
    values = {key: value for key, value in vars(complaint).items() if key in _COLUMNS}
    rows = [{**vars(entry), "complaint_id": complaint.id} for entry in complaint.ledger]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(INSERT_COMPLAINT, values)
        connection.execute(INSERT_LEDGER, rows)
        return
    params = {f"c_{key}": value for key, value in values.items()}
    for n, row in enumerate(rows):
        params.update({f"l{n}_{key}": value for key, value in row.items()})
    db.run(connection, insert_both(tuple(values), len(rows)), params)


def publish(
    session: Session, outbox: Outbox, complaint: Complaint | NewComplaint, event, correlation_id
):
    outbox.add(session, event, tenant_id=complaint.tenant_id, correlation_id=correlation_id)


def complaint_fields(complaint: Complaint) -> dict[str, Any]:
    """What each event about one complaint says of it (raised, escalated, closed, reopened)."""
    return {
        "complaint_id": complaint.id,
        **copied(complaint, "number", "customer_id", "severity", "department", "region"),
    }


def create_complaint(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    data: dict,
    directory: CustomerLookup | None = None,
) -> NewComplaint:
    """Register a complaint of a customer of the caller's tenant (from the copy, else asked
    of ``directory``, the customer service: customers.py); no such customer → NotFound.
    Core statements only, no ORM object: the route runs it without a Session
    (``use_case.write_core``)."""
    stamp = caller.now()
    received_at = (data.get("received_at") or stamp).astimezone(UTC)
    policy, calendar = rules_for(session, caller.tenant_id)
    period = domain.period_of(calendar.local_date(received_at))
    # The copy and the serial in one statement; a customer the copy does not know yet is
    # asked of the customer service first, its serial taken last (copy_and_serial.py).
    found = copy_and_serial(session, caller.tenant_id, data["customer_id"], period)
    customer, serial = found if found is not None else (None, None)
    if customer is None:
        customer = customers.known_customer(
            session, directory, caller.tenant_id, data["customer_id"], stamp
        )
    if customer is None:
        raise NotFound("customer")  # another tenant's customer is as unknown as a missing one
    assignee = person_of(caller, data.get("assignee"))
    try:
        department = triage.handling_department(data["category"], data.get("department"), policy)
    except triage.DepartmentRequired as exc:
        raise Invalid({"department": [str(exc)]}, "department required") from exc
    touched = supervision.departments_touched(department, data.get("assisting_departments") or ())
    severity = triage.derive_severity(
        data["severity"],
        data["category"],
        policy,
        size_tier=customer.size_tier,
        grade=customer.grade,
        departments=touched,
    )
    deadlines = domain.initial_deadlines(severity.value, received_at, policy, calendar)
    complaint = NewComplaint(
        id=new_id(),
        tenant_id=caller.tenant_id,
        status="received",
        region=customer.region,
        department=department,
        severity=severity.value,
        severity_given=severity.given,
        severity_reason=severity.reason,
        coordinator=triage.coordinator_of(department, policy),
        received_at=received_at,
        first_response_by=deadlines.first_response_by,
        plan_by=deadlines.plan_by,
        resolve_by=deadlines.resolve_by,
        round=1,
        paused_seconds=0.0,
        escalated_first_response=False,
        escalated_plan=False,
        escalated_resolve_round=0,
        created_by=caller.actor,
        created_at=stamp,
        updated_at=stamp,
        assisting_departments=list(touched[1:]),
        assignee=assignee,
        ledger=[],
        **{key: data.get(key) for key in INTAKE_FIELDS},
    )
    if serial is None:  # (last: the counter row stays locked for as few statements as can be)
        serial = allocate_serial(session, caller.tenant_id, period)
    complaint.number = domain.format_number(period, serial)
    note = data.get("note") or f"received by {complaint.channel}"
    ledger_entry(complaint, stamp, "receive", None, caller.actor, caller.department, note)
    if assignee is not None:
        note = assignment.assignment_note(assignee, None)
        ledger_entry(complaint, stamp, "assign", complaint.status, caller.actor, None, note)
    upward = reporting.report_upward(complaint, policy, stamp)
    insert_new(session, complaint)
    publish(
        session,
        outbox,
        complaint,
        events.ComplaintRaised(
            **complaint_fields(complaint),
            **copied(complaint, "channel", "category"),
            received_at=received_at.isoformat(),
            deadlines=deadlines.to_dict(),
            assignee=assignee,
        ),
        caller.correlation_id,
    )
    if upward is not None:  # reported upward at once, with the complaint it reports
        publish(session, outbox, complaint, upward, caller.correlation_id)
    return complaint


def assign(
    session: Session, outbox: Outbox, caller: Caller, complaint_id: str, data: dict
) -> Complaint:
    """Give the complaint to the person ``data["assignee"]`` (``me``: the caller; None: to
    nobody): a ledger step ``assign`` and ComplaintAssigned. The same person again changes
    nothing; a closed complaint → Conflict (assignment.py)."""
    complaint = get_complaint(session, caller, complaint_id, for_update=True)
    assignee = person_of(caller, data["assignee"])
    try:
        assignment.check_assignable(complaint.status)
    except assignment.NotAssignable as exc:
        raise Conflict(str(exc)) from exc
    previous = complaint.assignee
    if assignee == previous:
        return complaint
    at = caller.now().astimezone(UTC)
    complaint.assignee = assignee
    complaint.updated_at = at
    note = assignment.assignment_note(assignee, previous)
    ledger_entry(complaint, at, "assign", complaint.status, caller.actor, caller.department, note)
    publish(
        session,
        outbox,
        complaint,
        events.ComplaintAssigned(
            **complaint_fields(complaint),
            assignee=assignee,
            previous_assignee=previous,
            assigned_at=at.isoformat(),
        ),
        caller.correlation_id,
    )
    return complaint
