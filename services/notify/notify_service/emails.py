"""Emails written from events and from the daily digest, and the copies they are written
from (CONTRACT §4.7). Nothing here sends: rows are written ``pending`` in the transaction of
the event (or of the digest round) and the worker's sender (``mailer.py``) sends them later.

Copies kept from the bus:

* people (StaffChanged): a staff id's name and email, and whether they are still active;
  the newest change wins (``changed_at``), so a late older event changes nothing;
* customers' names (CustomerRegistered), shown instead of ids;
* visits (VisitScheduled, VisitCompleted, VisitCancelled): open or closed, assignee and
  due date. A visit moved (care dates changed) is scheduled again under the same id, which
  replaces the copy; a closed visit stays closed.

Emails, each with a ``dedup_key`` (unique: a replayed event or a second digest round writes
none twice), in the tenant's ``notifications.locale``:

* ``complaint_reported`` (ComplaintReportedUpward) and ``complaint_escalated``
  (ComplaintEscalated) to each supervisor (``notification_rules.supervisors_of``);
* ``risk_warning`` (CustomerRiskChanged with ``warning``) to the customer's owner;
* ``digest``: at the tenant's local ``digest_hour``, to each active assignee with an email,
  the open visits due tomorrow (tenant-local), once per tenant and day (``digest_runs``).

A recipient without an email address (a staff id the people copy does not know, has no
email for, or who left) gets nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.db import Database
from revisit_common.ids import new_id

from .email_templates import Rendered, render
from .models import CustomerName, DigestRun, Email, OpenVisit, Person
from .notification_rules import (
    NotificationPolicy,
    addresses,
    digest_day,
    is_email,
    supervisors_of,
)

log = logging.getLogger(__name__)
STAFF_ID_LENGTH = 100  # as every service keeps a staff id (an assignee, an owner)
DEDUP_KEY_LENGTH = 300
EMAIL_LENGTH = 320


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _newer(incoming: str, held: str) -> bool:
    """Whether the time ``incoming`` is not older than ``held`` (unreadable: take it)."""
    new, old = _instant(incoming), _instant(held)
    if new is None or old is None or (new.tzinfo is None) != (old.tzinfo is None):
        return True
    return new >= old


# --------------------------------------------------------------------------- copies


def keep_person(
    session: Session,
    tenant_id: str,
    staff_id: str,
    *,
    name: str,
    email: str | None,
    active: bool,
    changed_at: str,
) -> None:
    if len(staff_id) > STAFF_ID_LENGTH:
        log.warning(
            "staff id of %d characters not kept (at most %d)", len(staff_id), STAFF_ID_LENGTH
        )
        return
    if email is not None and (len(email) > EMAIL_LENGTH or not is_email(email)):
        log.warning("staff %s: unusable email address, not kept", staff_id)
        email = None
    person = session.get(Person, (tenant_id, staff_id))
    if person is None:
        session.add(
            Person(
                tenant_id=tenant_id,
                staff_id=staff_id,
                name=name[:200],
                email=email or None,
                active=bool(active),
                changed_at=changed_at,
            )
        )
        return
    if not _newer(changed_at, person.changed_at):
        return
    person.name, person.active, person.changed_at = name[:200], bool(active), changed_at
    person.email = email or None


def keep_customer_name(session: Session, tenant_id: str, customer_id: str, name: str) -> None:
    held = session.get(CustomerName, (tenant_id, customer_id))
    if held is None:
        session.add(CustomerName(tenant_id=tenant_id, customer_id=customer_id, name=name[:300]))
    else:
        held.name = name[:300]


def keep_visit(
    session: Session,
    tenant_id: str,
    visit_id: str,
    *,
    customer_id: str,
    reason: str,
    method: str | None,
    assignee: str | None,
    due_date: str,
    open: bool,
    at: str,
) -> None:
    """A visit scheduled (``open``) or closed (completed or cancelled). An unreadable due
    date is not kept (logged): the event's webhooks are still delivered."""
    try:
        due = date.fromisoformat(str(due_date)[:10])
    except ValueError:
        log.warning("visit %s: unreadable due date %r, not kept", visit_id, due_date)
        return
    visit = session.get(OpenVisit, (tenant_id, visit_id))
    if visit is None:
        session.add(
            OpenVisit(
                tenant_id=tenant_id,
                visit_id=visit_id,
                customer_id=customer_id,
                reason=reason,
                method=method,
                assignee=assignee,
                due_date=due,
                open=open,
                scheduled_at=at,
            )
        )
        return
    if not visit.open:
        return  # completed or cancelled: a late schedule does not reopen it
    if open and not _newer(at, visit.scheduled_at):
        return
    visit.customer_id, visit.reason, visit.assignee, visit.due_date = (
        customer_id,
        reason,
        assignee,
        due,
    )
    visit.method = method or visit.method
    visit.open = open
    if open:
        visit.scheduled_at = at


# --------------------------------------------------------------------------- emails


def policy_of(settings: tenant_settings.TenantSettings) -> NotificationPolicy:
    return NotificationPolicy.from_dict(settings.section("notifications"))


def email_of(session: Session, tenant_id: str, staff_id: str) -> str | None:
    person = session.get(Person, (tenant_id, staff_id))
    return person.email if person is not None and person.active else None


def customer_name(session: Session, tenant_id: str, customer_id: str) -> str:
    held = session.get(CustomerName, (tenant_id, customer_id))
    return held.name if held is not None else customer_id


def add_email(
    session: Session,
    tenant_id: str,
    kind: str,
    recipient: str,
    text: Rendered,
    dedup_key: str,
    at: datetime,
    event_id: str | None = None,
) -> bool:
    """Write a pending email unless one with ``dedup_key`` exists; True when written. A key
    longer than the column is kept as its SHA-256 (a long address must not be cut short
    into another's key)."""
    if len(dedup_key) > DEDUP_KEY_LENGTH:
        dedup_key = "sha256:" + hashlib.sha256(dedup_key.encode("utf-8")).hexdigest()
    if session.scalar(sa.select(Email.id).where(Email.dedup_key == dedup_key)):
        return False
    session.add(
        Email(
            id=new_id(),
            tenant_id=tenant_id,
            kind=kind,
            recipient=recipient,
            subject=text.subject,
            body=text.body,
            locale=text.locale,
            status="pending",
            attempts=0,
            next_attempt_at=None,
            dedup_key=dedup_key,
            source_event_id=event_id,
            created_at=at,
        )
    )
    return True


def email_people(
    session: Session,
    tenant_id: str,
    kind: str,
    people: Iterable[str],
    event_id: str,
    at: datetime,
    **data,
) -> int:
    """An email of ``kind`` about an event to each of ``people`` (staff ids or emails) who
    has an address, in the tenant's locale; how many were written."""
    settings = tenant_settings.load(session, tenant_id)
    locale = policy_of(settings).locale
    recipients = addresses(people, lambda staff: email_of(session, tenant_id, staff))
    if not recipients:
        log.info("%s email of event %s: no recipient with an email address", kind, event_id)
        return 0
    text = render(kind, locale, **data)
    return sum(
        add_email(session, tenant_id, kind, to, text, f"{kind}:{event_id}:{to}", at, event_id)
        for to in recipients
    )


def supervisors(session: Session, tenant_id: str, fallback: list[str] | None = None) -> list:
    """The tenant's supervisors: the ``notifications`` section's, else ``fallback`` (the
    event's own list), else the ``complaints`` section's."""
    settings = tenant_settings.load(session, tenant_id)
    complaints = settings.section("complaints")
    if fallback:
        complaints = {**complaints, "supervisors": fallback}
    return supervisors_of(policy_of(settings), complaints)


# --------------------------------------------------------------------------- the digest


def write_digests(db: Database, at: datetime) -> int:
    """One round of the daily digest: for every tenant with open visits whose digest is due
    at ``at`` and not yet written for its day, the emails; how many were written."""
    with db.read() as session:
        tenants = session.scalars(
            sa.select(OpenVisit.tenant_id).where(OpenVisit.open).distinct()
        ).all()
    written = 0
    for tenant_id in tenants:
        try:
            with db.transaction() as session:
                written += write_tenant_digest(session, tenant_id, at)
        except Exception:  # noqa: BLE001 - reported; the other tenants still get theirs
            log.exception("digest of tenant %s failed; tried again next round", tenant_id)
    return written


def write_tenant_digest(session: Session, tenant_id: str, at: datetime) -> int:
    settings = tenant_settings.load(session, tenant_id)
    policy = policy_of(settings)
    day = digest_day(policy, settings.timezone, at)
    if day is None or session.get(DigestRun, (tenant_id, day)) is not None:
        return 0
    try:
        with session.begin_nested():
            session.add(DigestRun(tenant_id=tenant_id, day=day, ran_at=at))
            session.flush()
    except IntegrityError:
        return 0  # another worker wrote this day's digest at the same moment
    visits = session.scalars(
        sa.select(OpenVisit)
        .where(
            OpenVisit.tenant_id == tenant_id,
            OpenVisit.open,
            OpenVisit.due_date == day,
            OpenVisit.assignee.is_not(None),
        )
        .order_by(OpenVisit.assignee, OpenVisit.customer_id, OpenVisit.visit_id)
    ).all()
    by_assignee: dict[str, list[OpenVisit]] = defaultdict(list)
    for visit in visits:
        by_assignee[visit.assignee].append(visit)
    written = 0
    for staff_id, theirs in by_assignee.items():
        person = session.get(Person, (tenant_id, staff_id))
        if person is None or not person.active or not person.email:
            continue
        listed = [
            {
                "customer": customer_name(session, tenant_id, visit.customer_id),
                "reason": visit.reason,
                "method": visit.method,
            }
            for visit in theirs
        ]
        text = render("digest", policy.locale, name=person.name, day=day.isoformat(), visits=listed)
        key = f"digest:{tenant_id}:{day.isoformat()}:{staff_id}"
        written += add_email(session, tenant_id, "digest", person.email, text, key, at)
    return written


# --------------------------------------------------------------------------- listing


def list_query(tenant_id: str, status: str | None, kind: str | None) -> sa.Select:
    query = sa.select(Email).where(Email.tenant_id == tenant_id)
    if status:
        query = query.where(Email.status == status)
    if kind:
        query = query.where(Email.kind == kind)
    return query
