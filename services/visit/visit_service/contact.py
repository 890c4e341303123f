"""Contact use cases of a visit before it is done: record an email visit's reply, book an
on-site visit's appointment (rules in :mod:`.contact_rules`)."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.errors import Conflict, Invalid
from revisit_common.messaging.outbox import Outbox

from . import contact_rules, domain
from .models import Visit
from .service import annotate, locked_visit, tenant_context


def reply_visit(
    session: Session, outbox: Outbox, caller: Caller, visit_id: str, data: dict
) -> Visit:
    """The customer replied to an email visit (at ``replied_at``, default now); once."""
    visit = locked_visit(session, caller.tenant_id, visit_id)
    try:
        contact_rules.check_reply(visit.method, visit.status, visit.replied_at)
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    stamp = caller.now()
    replied_at = data.get("replied_at") or stamp
    if contact_rules.in_future(replied_at, stamp):
        raise Invalid({"replied_at": ["must not be in the future"]})
    visit.replied_at = replied_at.astimezone(UTC)
    visit.updated_at = stamp
    return annotate([visit], tenant_context(session, caller.tenant_id, caller.clock).today)[0]


def book_visit(
    session: Session, outbox: Outbox, caller: Caller, visit_id: str, data: dict
) -> Visit:
    """Book a planned on-site visit for ``appointment_at``; booking again moves it."""
    visit = locked_visit(session, caller.tenant_id, visit_id)
    try:
        contact_rules.check_booking(visit.method, visit.status)
    except domain.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    visit.appointment_at = data["appointment_at"].astimezone(UTC)
    visit.updated_at = caller.now()
    return annotate([visit], tenant_context(session, caller.tenant_id, caller.clock).today)[0]
