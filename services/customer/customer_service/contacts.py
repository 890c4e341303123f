"""Writing a customer's contacts, and the ContactDatesChanged events that causes.

The list given replaces the stored one; a contact of the same name keeps its id (the pairing
rule is :func:`.contact_dates.pair_by_name`), so the care visits planned from its birthday,
its anniversary and its decision-maker flag can follow it (:func:`.contact_dates.event_due`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from revisit_common import events
from revisit_common.ids import new_id
from revisit_common.rows import copied

from . import contact_dates
from .contact_dates import Dates
from .models import Contact, Customer

CONTACT_FIELDS = ("name", "title", "phone", "email", "decision_maker", "birthday", "anniversary")
DEFAULTS = {"decision_maker": False}


@dataclass(frozen=True)
class DatesChange:
    """One contact's dates before and after a write (``None``: created, or removed), its
    decision-maker flag (as written, or as it was for a removed contact) and the flag it had
    before (``None``: created)."""

    contact_id: str
    name: str
    before: Dates | None
    after: Dates | None
    decision_maker: bool | None = None
    was_decision_maker: bool | None = None


def _dates(contact: Contact) -> Dates:
    return (contact.birthday, contact.anniversary)


def write_contacts(customer: Customer, items: list[dict]) -> list[DatesChange]:
    """Replace the customer's contacts by ``items``; the changes of dates or of a flag that
    are due an event (:func:`.contact_dates.event_due`)."""
    stored = list(customer.contacts or [])
    pairs = contact_dates.pair_by_name([c.name for c in stored], [i["name"] for i in items])
    kept: list[Contact] = []
    changes: list[DatesChange] = []
    for position, (item, index) in enumerate(zip(items, pairs, strict=True)):
        contact = Contact(id=new_id()) if index is None else stored[index]
        before = None if index is None else _dates(contact)
        was_key = None if index is None else bool(contact.decision_maker)
        contact.position = position
        for key in CONTACT_FIELDS:
            setattr(contact, key, item.get(key, DEFAULTS.get(key)))
        kept.append(contact)
        changes.append(
            DatesChange(
                contact.id, contact.name, before, _dates(contact), contact.decision_maker, was_key
            )
        )
    continued = {index for index in pairs if index is not None}
    changes += [
        DatesChange(contact.id, contact.name, _dates(contact), None, contact.decision_maker)
        for index, contact in enumerate(stored)
        if index not in continued
    ]
    customer.contacts = kept
    return [
        c
        for c in changes
        if contact_dates.event_due(c.before, c.after, c.was_decision_maker, c.decision_maker)
    ]


def dates_events(
    customer: Customer, changes: list[DatesChange], at: datetime
) -> list[events.ContactDatesChanged]:
    """The ContactDatesChanged event of each change, with the customer's current grade and
    the contact's decision-maker flag (birthday care of key contacts, DOMAIN.md §6 "Care")."""
    return [
        events.ContactDatesChanged(
            contact_id=change.contact_id,
            customer_id=customer.id,
            **copied(customer, "region", "owner", "grade"),
            name=change.name,
            birthday=_iso((change.after or (None, None))[0]),
            anniversary=_iso((change.after or (None, None))[1]),
            changed_at=at.isoformat(),
            decision_maker=change.decision_maker,
        )
        for change in changes
    ]


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
