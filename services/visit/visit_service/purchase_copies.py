"""A run of PurchaseRecorded events that plan no visit: only the customer copies they update.

Most purchases are neither a customer's first nor an A customer's: their only effect on the
visit service is the copy of their customer (region, owner, grade, as of the event's time;
:func:`.service.note_customer`). For such a run the copies are read and written as plain
rows, one statement each (:func:`revisit_common.db.run`), instead of through ORM objects,
their query and their flush: the same rows end up stored. A run that may plan a visit, or
finds a copy missing or already loaded in the session, is handled as before (ORM).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import db

from . import domain
from .models import CustomerCopy
from .service import tenant_context

COPIES = CustomerCopy.__table__
FIELDS = ("region", "owner", "grade", "info_at", "grade_at")  # what a purchase may change
CHUNK = 16  # the most copies one statement reads (one compiled statement per count)
_READS: dict[int, sa.Select] = {}


def reading(count: int) -> sa.Select:
    """The SELECT of ``count`` copies of one tenant (customer ids ``c0``, ``c1`` ...), made
    once per count: a constant to :func:`db.run`, which runs it compiled once."""
    statement = _READS.get(count)
    if statement is None:
        made = sa.select(COPIES.c.customer_id, *(COPIES.c[name] for name in FIELDS)).where(
            COPIES.c.tenant_id == sa.bindparam("tenant_id"),
            COPIES.c.customer_id.in_([sa.bindparam(f"c{i}") for i in range(count)]),
        )
        statement = _READS.setdefault(count, made)
    return statement


WRITE = sa.update(COPIES).where(
    COPIES.c.tenant_id == sa.bindparam("copy_tenant"),
    COPIES.c.customer_id == sa.bindparam("copy_customer"),
)


def plans_nothing(event) -> bool:
    """Whether the purchase plans no visit (:func:`.planning.purchase_recorded`): not a
    first purchase, not an A customer's."""
    return not event.first_purchase and event.grade != "A"


def read(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict] | None:
    """The copies of ``keys`` (tenant, customer) as stored, the session's pending changes
    written first; None when one is missing or loaded in the session already (then its ORM
    object is the one to change)."""
    session.flush()
    if len(session.identity_map) and any(
        Session.identity_key(CustomerCopy, key) in session.identity_map for key in keys
    ):
        return None
    wanted: dict[str, list[str]] = {}
    for tenant_id, customer_id in keys:
        wanted.setdefault(tenant_id, []).append(customer_id)
    copies = {}
    for tenant_id, customer_ids in wanted.items():
        for start in range(0, len(customer_ids), CHUNK):
            chunk = customer_ids[start : start + CHUNK]
            params = {"tenant_id": tenant_id} | {f"c{i}": c for i, c in enumerate(chunk)}
            for customer_id, *values in db.run(session, reading(len(chunk)), params):
                copies[tenant_id, customer_id] = dict(zip(FIELDS, values, strict=True))
    return copies if len(copies) == len(keys) else None


def note(copy: dict, at: datetime, *, region, owner, grade) -> None:
    """What :func:`.service.note_customer` does to an existing copy for a purchase (no name,
    no size tier) of time ``at``."""
    if at >= copy["info_at"]:
        copy["region"] = region or copy["region"]
        copy["owner"] = owner
        copy["info_at"] = at
    if grade in domain.GRADES and (copy["grade_at"] is None or at >= copy["grade_at"]):
        copy["grade"], copy["grade_at"] = grade, at


def write(session: Session, key: tuple[str, str], copy: dict) -> None:
    db.run(session, WRITE, {**copy, "copy_tenant": key[0], "copy_customer": key[1]})


def apply(session: Session, events: list, sent: list[datetime], clock) -> bool:
    """The copies ``events`` (decoded, each sent at ``sent``) update, in order; False (and
    nothing done) when the run is not one of these (module doc)."""
    if not all(plans_nothing(event) for event in events):
        return False
    keys = list(dict.fromkeys((e.envelope.tenantid, e.customer_id) for e in events))
    copies = read(session, keys)
    if copies is None:
        return False
    before = {key: dict(copy) for key, copy in copies.items()}
    for event, at in zip(events, sent, strict=True):
        note(
            copies[event.envelope.tenantid, event.customer_id],
            at,
            region=event.region,
            owner=event.owner,
            grade=event.grade,
        )
    for tenant_id in dict.fromkeys(tenant for tenant, _ in keys):
        tenant_context(session, tenant_id, clock)  # (read as the planning reads it: errors)
    for key, copy in copies.items():
        if copy != before[key]:
            write(session, key, copy)
    return True
