"""A customer as ``GET /customers/{id}`` renders it, read in one statement without the ORM:
the customer joined to its contacts in order (one row per contact, a single row with no
contact), only the columns the response shows, run on its own (:meth:`Database.fetch`: one
statement needs no transaction). Nothing is kept: the read changes nothing.

:func:`customer_body` turns it into the body ``CustomerOutSchema`` would dump, value by
value, without marshmallow's machinery per field (which cost as much as the query); the
unit tests hold the two equal, field set included. :func:`customer_of` gives the same for
an ORM customer (the body of ``POST /customers``)."""

from __future__ import annotations

from decimal import Decimal

import orjson
import sqlalchemy as sa

from revisit_common.db import Database
from revisit_common.errors import NotFound

from .models import Contact, Customer

CUSTOMERS, CONTACTS = Customer.__table__, Contact.__table__
# The fields of CustomerOutSchema and of ContactOutSchema (schemas.py), as columns.
CUSTOMER_FIELDS = (
    "id",
    "name",
    "type",
    "region",
    "external_id",
    "owner",
    "address",
    "legal_representative",
    "business_scope",
    "annual_purchase_amount",
    "purchase_frequency",
    "cooperation_start",
    "overdue_days",
    "legal_dispute",
    "credit_rating",
    "size_tier",
    "cooperation_tier",
    "score",
    "grade",
    "risk_level",
    "risk_reasons",
    "created_at",
    "updated_at",
)
CONTACT_FIELDS = (
    "id",
    "name",
    "title",
    "phone",
    "email",
    "decision_maker",
    "birthday",
    "anniversary",
)
_SPLIT = len(CUSTOMER_FIELDS)
# The risk reasons (a JSON column) read as their text and parsed by orjson: the driver's
# own JSON loader (json.loads of bytes, its encoding detected first) cost a tenth of a read.
_REASONS = CUSTOMER_FIELDS.index("risk_reasons")
_AS_TEXT = {"risk_reasons": sa.cast(CUSTOMERS.c.risk_reasons, sa.Text).label("risk_reasons")}
CUSTOMER_WITH_CONTACTS = (
    sa.select(
        *(_AS_TEXT.get(name, CUSTOMERS.c[name]) for name in CUSTOMER_FIELDS),
        *(CONTACTS.c[name] for name in CONTACT_FIELDS),
    )
    .select_from(CUSTOMERS.outerjoin(CONTACTS, CONTACTS.c.customer_id == CUSTOMERS.c.id))
    .where(CUSTOMERS.c.id == sa.bindparam("id"), CUSTOMERS.c.tenant_id == sa.bindparam("tenant_id"))
    .order_by(CONTACTS.c.position)
)


def customer_view(db: Database, tenant_id: str, customer_id: str) -> dict:
    """The tenant's customer with its contacts; another tenant's is as unknown as a missing
    one (NotFound)."""
    rows = db.fetch(CUSTOMER_WITH_CONTACTS, {"id": customer_id, "tenant_id": tenant_id})
    if not rows:
        raise NotFound("customer")
    customer = dict(zip(CUSTOMER_FIELDS, rows[0][:_SPLIT], strict=True))
    reasons = rows[0][_REASONS]
    customer["risk_reasons"] = None if reasons is None else orjson.loads(reasons)
    customer["contacts"] = [
        dict(zip(CONTACT_FIELDS, row[_SPLIT:], strict=True))
        for row in rows
        if row[_SPLIT] is not None  # (the outer join's row of a customer with no contact)
    ]
    return customer


def customer_of(entity: Customer) -> dict:
    """An ORM customer (one just registered, say) as :func:`customer_view` gives a stored
    one, for :func:`customer_body`."""
    customer = {name: getattr(entity, name) for name in CUSTOMER_FIELDS}
    customer["contacts"] = [
        {name: getattr(contact, name) for name in CONTACT_FIELDS} for contact in entity.contacts
    ]
    return customer


CENTS = Decimal("0.01")


def customer_body(customer: dict) -> dict:
    """``CustomerOutSchema().dump(customer)`` for a :func:`customer_view`: amounts as strings
    with two decimals, dates and times in ISO 8601, the rest as stored."""
    body = {name: customer[name] for name in _AS_STORED}
    body["annual_purchase_amount"] = money(customer["annual_purchase_amount"])
    body["cooperation_start"] = iso(customer["cooperation_start"])
    body["overdue_days"] = _number(int, customer["overdue_days"])
    body["legal_dispute"] = _flag(customer["legal_dispute"])
    body["score"] = _number(float, customer["score"])
    reasons = customer["risk_reasons"]
    body["risk_reasons"] = None if reasons is None else [_text(each) for each in reasons]
    body["created_at"] = iso(customer["created_at"])
    body["updated_at"] = iso(customer["updated_at"])
    body["contacts"] = [
        {
            "id": contact["id"],
            "name": contact["name"],
            "title": contact["title"],
            "phone": contact["phone"],
            "email": contact["email"],
            "decision_maker": _flag(contact["decision_maker"]),
            "birthday": iso(contact["birthday"]),
            "anniversary": iso(contact["anniversary"]),
        }
        for contact in customer["contacts"]
    ]
    return body


# The text columns (String fields in the schema; stored as text, rendered as they are): all
# but these, which are rendered as the schema's fields render them.
_CONVERTED = (
    "annual_purchase_amount",
    "cooperation_start",
    "overdue_days",
    "legal_dispute",
    "score",
    "risk_reasons",
    "created_at",
    "updated_at",
)
_AS_STORED = tuple(name for name in CUSTOMER_FIELDS if name not in _CONVERTED)


def money(value):
    """As ``fields.Decimal(places=2, as_string=True)``."""
    if value is None:
        return None
    amount = value if type(value) is Decimal else Decimal(str(value))
    return format(amount.quantize(CENTS) if amount.is_finite() else amount, "f")


def iso(value):
    return None if value is None else value.isoformat()


def _number(kind, value):
    return None if value is None else kind(value)


def _flag(value):
    return None if value is None else bool(value)


def _text(value):
    return None if value is None else str(value)
