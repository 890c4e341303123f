"""The customer service layer: each function is one use case, run inside a transaction.

Routes and event handlers call these; they load rows, apply the domain rules, and add the
events the change causes to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, lazyload

from revisit_common import db, events, tenant_settings
from revisit_common.caller import Caller
from revisit_common.errors import Conflict, Invalid, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied, insert_values, set_columns

from . import contacts, domain, purchase_sums, validity
from .models import Contact, Customer, Repair

SATISFACTION_HISTORY = 20  # the most recent visit ratings kept for the satisfaction score
EDITABLE = (
    "name", "type", "region", "owner", "address", "legal_representative", "business_scope",
    "annual_purchase_amount", "purchase_frequency", "cooperation_start", "overdue_days",
    "legal_dispute", "credit_rating", "external_id",
)  # fmt: skip


# tenant -> (its classification settings last read, the policy made of them): a policy is
# made again only when they changed, not per request
_policies: dict[str, tuple[dict, domain.ClassificationPolicy]] = {}
DEFAULT_POLICY = domain.ClassificationPolicy.from_dict({})


def policy_for(session: Session, tenant_id: str) -> tuple[domain.ClassificationPolicy, str]:
    settings = tenant_settings.load(session, tenant_id)
    section = settings.section("classification")
    if not section:  # DOMAIN.md's numbers
        return DEFAULT_POLICY, settings.timezone
    held = _policies.get(tenant_id)
    if held is not None and held[0] == section:
        return held[1], settings.timezone
    policy = domain.ClassificationPolicy.from_dict(section)
    _policies[tenant_id] = (section, policy)
    return policy, settings.timezone


def local_today(timezone: str, at: datetime) -> date:
    """The tenant's calendar date at the instant ``at``."""
    return validity.local_date(at, timezone)


NO_CONTACTS = (lazyload(Customer.contacts),)  # loaded only if read
WITH_CONTACTS = (joinedload(Customer.contacts),)  # in the customer's query


def get_customer(session: Session, tenant_id: str, customer_id: str) -> Customer:
    """The tenant's customer, its contacts loaded only if read (in the session)."""
    customer = session.get(Customer, customer_id, options=NO_CONTACTS)
    if customer is None or customer.tenant_id != tenant_id:
        raise NotFound("customer")
    return customer


def customer_with_contacts(session: Session, tenant_id: str, customer_id: str) -> Customer:
    """The tenant's customer with its contacts, as the API renders it (one query)."""
    customer = session.get(Customer, customer_id, options=WITH_CONTACTS)
    if customer is None or customer.tenant_id != tenant_id:
        raise NotFound("customer")
    return customer


def customer_query(tenant_id: str, args: dict) -> sa.Select:
    """The tenant's customers matching the list filters (``GET /customers`` and its export)."""
    query = sa.select(Customer).where(Customer.tenant_id == tenant_id)
    for key in ("type", "grade", "region", "risk_level", "owner"):
        if key in args:
            query = query.where(getattr(Customer, key) == args[key])
    if "q" in args:
        pattern = "%" + args["q"].replace("\\", "\\\\").replace("%", "\\%") + "%"
        query = query.where(Customer.name.ilike(pattern, escape="\\"))
    return query


def flush_unique(session: Session, data: dict) -> None:
    """Flush; the unique external_id taken meanwhile by a concurrent write (the check above
    passed in both) is a 409 too, not a database error."""
    try:
        session.flush()
    except IntegrityError:
        if data.get("external_id") is None:
            raise
        raise Conflict(f"another customer has external_id {data['external_id']!r}") from None


CUSTOMERS, CONTACTS = Customer.__table__, Contact.__table__
INSERT_CUSTOMER, INSERT_CONTACTS = sa.insert(CUSTOMERS), sa.insert(CONTACTS)
# The columns of a customer being registered that are NULL unless given (those with a
# default are set by create_customer and derive; insert_values refuses one left unset).
UNSET = {
    column.key: None
    for column in CUSTOMERS.columns
    if column.default is None and column.server_default is None
}


def insert_new(session: Session, outbox: Outbox, customer: SimpleNamespace, data: dict) -> None:
    """Insert a customer being registered and its contacts: two statements on the session's
    connection instead of the unit of work's flush (the object is not added to the session;
    nothing in the transaction reads it back), the customer's compiled once and written
    with the events published so far (:meth:`Outbox.write_with`: one statement on
    PostgreSQL). The unique external_id taken meanwhile by a concurrent write is a 409, as
    in :func:`flush_unique`."""
    connection = session.connection()
    try:
        outbox.write_with(session, INSERT_CUSTOMER, insert_values(customer, CUSTOMERS))
    except IntegrityError:
        if data.get("external_id") is None:
            raise
        raise Conflict(f"another customer has external_id {data['external_id']!r}") from None
    if customer.contacts:
        rows = [
            {**set_columns(contact, CONTACTS), "customer_id": customer.id}
            for contact in customer.contacts
        ]
        connection.execute(INSERT_CONTACTS, rows)


EXTERNAL_ID_HOLDERS = sa.select(CUSTOMERS.c.id).where(
    CUSTOMERS.c.tenant_id == sa.bindparam("tenant_id"),
    CUSTOMERS.c.external_id == sa.bindparam("external_id"),
)


def check_external_id(session: Session, tenant_id: str, data: dict, own_id: str | None) -> None:
    """409 when ``data`` gives an external id another customer of the tenant has (a Core
    statement: ``session`` may be a :class:`~revisit_common.core_transaction.CoreTransaction`)."""
    external_id = data.get("external_id")
    if external_id is None:
        return
    holders = db.run(
        session, EXTERNAL_ID_HOLDERS, {"tenant_id": tenant_id, "external_id": external_id}
    )
    if any(holder_id != own_id for (holder_id,) in holders):
        raise Conflict(f"another customer has external_id {external_id!r}")


def has_purchases(session: Session, customer: Customer) -> bool:
    """Whether any purchase is recorded for the customer (its annual amount then follows them)."""
    return bool(customer.purchase_count)


Totals = tuple[Decimal, int, Decimal]  # last 12 months, their count, previous 12 months


def facts_of(
    session: Session,
    customer: Customer,
    today: date,
    *,
    new: bool = False,
    sums: Totals | None = None,
) -> domain.CustomerFacts:
    """What the classification reads of a customer: its running purchase sums, never its
    purchases one by one; one being registered (``new``) has none, so none are looked up;
    ``sums``: its windows on ``today`` (:func:`purchase_sums.totals`), read by the caller."""
    recorded = not new and has_purchases(session, customer)
    if not recorded:
        last, count, prev = Decimal(0), 0, Decimal(0)
    elif sums is not None:
        last, count, prev = sums
    else:
        last, count, prev = purchase_sums.totals(session, customer.id, today)
    cutoff = (today - timedelta(days=365)).isoformat()
    complaints = sum(1 for day in customer.complaint_dates or () if day > cutoff)
    return domain.CustomerFacts(
        type=customer.type,
        annual_purchase_amount=domain.annual_amount(
            Decimal(customer.annual_purchase_amount), last, recorded
        ),
        cooperation_start=customer.cooperation_start,
        purchases_last_12m=last,
        purchases_prev_12m=prev,
        purchase_count_12m=count,
        satisfaction_scores=tuple(customer.satisfaction_levels or ()),
        risk=domain.RiskIndicators(
            overdue_payment_days=customer.overdue_days,
            legal_dispute=customer.legal_dispute,
            credit_rating=customer.credit_rating,
            complaints_12m=complaints,
            purchase_trend=domain.purchase_trend(last, prev),
        ),
    )


def reclassify(
    session: Session,
    outbox: Outbox,
    customer: Customer,
    caller: Caller,
    *,
    policy: domain.ClassificationPolicy | None = None,
    timezone: str | None = None,
    at: datetime | None = None,
    sums: Totals | None = None,
) -> domain.Classification:
    """Recompute the derived fields; publish CustomerGraded / CustomerRiskChanged on change.
    ``at``: the instant graded (the caller's now by default); ``sums``: the customer's
    windows on the tenant's day of ``at``, when the caller has read them."""
    old_grade, old_risk = customer.grade, customer.risk_level
    at = caller.now() if at is None else at
    result = derive(session, customer, at, policy=policy, timezone=timezone, sums=sums)
    announce(session, outbox, customer, caller, old_grade, old_risk)
    return result


def derive(
    session: Session,
    customer: Customer,
    at: datetime,
    *,
    policy: domain.ClassificationPolicy | None = None,
    timezone: str | None = None,
    new: bool = False,
    sums: Totals | None = None,
) -> domain.Classification:
    """Set the customer's derived fields from its facts and the tenant's policy, as graded at
    ``at``; the annual purchase amount follows its recorded purchases once it has some
    (``new``: a customer being registered, which has none; ``sums``: as for
    :func:`facts_of`)."""
    if policy is None or timezone is None:
        policy, timezone = policy_for(session, customer.tenant_id)
    today = local_today(timezone, at)
    with session.no_autoflush:
        facts = facts_of(session, customer, today, new=new, sums=sums)
        result = domain.classify(facts, policy, today)
    customer.annual_purchase_amount = facts.annual_purchase_amount
    customer.size_tier = result.size_tier
    customer.cooperation_tier = result.cooperation_tier
    customer.score = result.score
    customer.grade = result.grade
    customer.risk_level = result.risk_level
    customer.risk_reasons = list(result.risk_reasons)
    customer.updated_at = at
    customer.graded_at = at
    return result


def publish(session: Session, outbox: Outbox, caller: Caller, event: events.Event) -> None:
    """Add ``event`` to the outbox, in the caller's tenant and correlation."""
    outbox.add(session, event, tenant_id=caller.tenant_id, correlation_id=caller.correlation_id)


def announce(
    session: Session,
    outbox: Outbox,
    customer: Customer,
    caller: Caller,
    old_grade: str | None,
    old_risk: str | None,
) -> None:
    """Events for a changed grade or risk level (a new customer: its first grade, and any
    risk above low)."""
    stamp = customer.updated_at.isoformat()
    if old_grade != customer.grade:
        publish(
            session,
            outbox,
            caller,
            events.CustomerGraded(
                customer_id=customer.id,
                previous_grade=old_grade,
                graded_at=stamp,
                **copied(
                    customer, "region", "owner", "grade", "score", "size_tier", "cooperation_tier"
                ),
            ),
        )
    new_customer_at_low = old_risk is None and customer.risk_level == "low"
    if domain.risk_changed(old_risk, customer.risk_level) and not new_customer_at_low:
        publish(
            session,
            outbox,
            caller,
            events.CustomerRiskChanged(
                customer_id=customer.id,
                region=customer.region,
                risk_level=customer.risk_level,
                previous_level=old_risk,
                warning=domain.raises_warning(old_risk, customer.risk_level),
                reasons=list(customer.risk_reasons),
                measures=domain.measures_for(customer.risk_level),
                changed_at=stamp,
                owner=customer.owner,
            ),
        )


def publish_contact_dates(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    customer: Customer,
    changes: list[contacts.DatesChange],
) -> None:
    """ContactDatesChanged for each contact whose birthday or anniversary was set, changed
    or removed, or whose decision-maker flag changed while it has either; stamped with the
    customer's change and carrying its grade as it is now."""
    for event in contacts.dates_events(customer, changes, customer.updated_at):
        publish(session, outbox, caller, event)


def create_customer(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    data: dict,
    *,
    policy: domain.ClassificationPolicy | None = None,
    timezone: str | None = None,
) -> SimpleNamespace:
    """Register a customer (``policy`` and ``timezone``: the tenant's, when the caller has
    them already, as an import of many has); the customer registered, as a plain object
    with the columns of a Customer and its contacts. (Not an ORM object: it is inserted by
    Core statements and never read back in the transaction, and the ORM's instrumented
    attributes cost a tenth of the whole request.) Core statements only: ``session`` may be
    a :class:`~revisit_common.core_transaction.CoreTransaction` (``use_case.write_core``)."""
    check_external_id(session, caller.tenant_id, data, None)
    stamp = caller.now()
    fields = {k: data[k] for k in EDITABLE if k in data}
    customer = SimpleNamespace(
        **{
            **UNSET,
            "id": new_id(),
            "tenant_id": caller.tenant_id,
            "satisfaction_levels": [],
            "complaint_dates": [],
            "purchase_count": 0,
            "created_at": stamp,
            "updated_at": stamp,
            **fields,
            "overdue_days": fields.get("overdue_days") or 0,
            "legal_dispute": bool(fields.get("legal_dispute")),
            "credit_rating": fields.get("credit_rating") or "good",
        },
        contacts=[],
    )
    changes = contacts.write_contacts(customer, data.get("contacts") or [])
    derive(session, customer, stamp, policy=policy, timezone=timezone, new=True)
    publish(
        session,
        outbox,
        caller,
        events.CustomerRegistered(
            customer_id=customer.id,
            registered_at=stamp.isoformat(),
            **copied(customer, "name", "type", "region", "owner", "grade", "risk_level"),
            **copied(customer, "size_tier", "cooperation_tier"),
        ),
    )
    announce(session, outbox, customer, caller, None, None)
    publish_contact_dates(session, outbox, caller, customer, changes)
    insert_new(session, outbox, customer, data)  # (with the events: see there)
    return customer


def update_customer(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, data: dict
) -> Customer:
    customer = customer_with_contacts(session, caller.tenant_id, customer_id)
    check_external_id(session, caller.tenant_id, data, customer.id)
    if "annual_purchase_amount" in data and has_purchases(session, customer):
        raise Conflict(
            "annual_purchase_amount follows the customer's recorded purchases (the sum of the"
            " last 12 months) and cannot be typed in; record a purchase instead"
        )
    for key in EDITABLE:
        if key in data:
            setattr(customer, key, data[key])
    changes = []
    if "contacts" in data:
        changes = contacts.write_contacts(customer, data["contacts"] or [])
    flush_unique(session, data)
    reclassify(session, outbox, customer, caller)
    publish_contact_dates(session, outbox, caller, customer, changes)
    return customer


def open_repair(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, data: dict
) -> Repair:
    """Open a repair record; one given ``closed_at`` is recorded closed at once."""
    customer = get_customer(session, caller.tenant_id, customer_id)
    repair = Repair(
        id=new_id(),
        tenant_id=caller.tenant_id,
        customer_id=customer.id,
        product=data["product"],
        description=data["description"],
        opened_at=data.get("opened_at") or caller.now(),
    )
    if data.get("closed_at") is not None:
        _close(repair, data)
    session.add(repair)
    session.flush()
    if repair.closed_at is not None:
        publish_repair_closed(session, outbox, caller, customer, repair)
    return repair


def close_repair(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, repair_id: str, data: dict
) -> Repair:
    customer = get_customer(session, caller.tenant_id, customer_id)
    repair = session.get(Repair, repair_id)
    if repair is None or repair.customer_id != customer.id:
        raise NotFound("repair")
    if repair.closed_at is not None:
        raise Conflict("repair is already closed")
    _close(repair, {**data, "closed_at": data.get("closed_at") or caller.now()})
    publish_repair_closed(session, outbox, caller, customer, repair)
    return repair


def _close(repair: Repair, data: dict) -> None:
    """Record the closing (``closed_at``, ``result``); 422 when it would precede the opening."""
    if validity.closes_before_opening(repair.opened_at, data["closed_at"]):
        opened = repair.opened_at.isoformat()
        raise Invalid({"closed_at": [f"must not be before opened_at ({opened})"]})
    repair.closed_at = data["closed_at"]
    repair.result = data.get("result")


def publish_repair_closed(
    session: Session, outbox: Outbox, caller: Caller, customer: Customer, repair: Repair
) -> None:
    publish(
        session,
        outbox,
        caller,
        events.RepairClosed(
            repair_id=repair.id,
            customer_id=customer.id,
            **copied(customer, "region", "owner"),
            product=repair.product,
            closed_at=repair.closed_at.isoformat(),
        ),
    )


def regrade_tenant(session: Session, outbox: Outbox, caller: Caller) -> int:
    """Reclassify every customer of a tenant (its policy changed, or the periodic sweep)."""
    policy, timezone = policy_for(session, caller.tenant_id)
    count = 0
    for customer in session.scalars(
        sa.select(Customer)
        .where(Customer.tenant_id == caller.tenant_id)
        .order_by(Customer.id)
        .options(*NO_CONTACTS)
    ):
        reclassify(session, outbox, customer, caller, policy=policy, timezone=timezone)
        count += 1
    return count


def note_fact(
    session: Session,
    outbox: Outbox,
    caller: Caller,
    customer_id: str,
    change: Callable[[Customer], None],
) -> bool:
    """Apply ``change`` to a customer of the caller's tenant and reclassify it; False for a
    customer this service never knew (nothing to update)."""
    customer = session.get(Customer, customer_id, options=NO_CONTACTS)
    if customer is None or customer.tenant_id != caller.tenant_id:
        return False
    change(customer)
    reclassify(session, outbox, customer, caller)
    return True


def note_visit_satisfaction(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, level: str
) -> bool:
    """A completed visit's overall satisfaction feeds the customer's score."""

    def add(customer: Customer) -> None:
        if level not in domain.SATISFACTION_LEVELS:
            raise ValueError(f"unknown satisfaction level {level!r}")
        levels = [*(customer.satisfaction_levels or []), level]
        customer.satisfaction_levels = levels[-SATISFACTION_HISTORY:]

    return note_fact(session, outbox, caller, customer_id, add)


def note_complaint(
    session: Session, outbox: Outbox, caller: Caller, customer_id: str, day: date
) -> bool:
    """A complaint raised against a customer counts towards its risk for 12 months."""

    def add(customer: Customer) -> None:
        dates = [*(customer.complaint_dates or []), day.isoformat()]
        customer.complaint_dates = dates[-200:]

    return note_fact(session, outbox, caller, customer_id, add)
