"""Which contact changes move the care visits planned from birthdays and anniversaries.
Standard library only.

A customer's contacts are written as a whole list. A contact in the new list continues the
stored contact of the same name (the first one not continued yet, in list order), so it
keeps its id; the others are new, and stored contacts left unmatched are removed.
ContactDatesChanged is due when a new contact has a birthday or an anniversary, a continued
one changes either, or a removed one had either (DOMAIN.md §6 "Care"); and when a continued
contact with a birthday or an anniversary becomes, or stops being, a decision maker (the
birthday care of key contacts starts or stops). A flag change without dates is due nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

# A contact's (birthday, anniversary); ``None`` for a contact that does not exist (yet).
Dates = tuple[date | None, date | None]


def pair_by_name(stored: Sequence[str], given: Sequence[str]) -> list[int | None]:
    """For each name in ``given``, the index in ``stored`` of the contact it continues (the
    first unused one of the same name), or ``None`` for a new contact."""
    free: dict[str, list[int]] = {}
    for index, name in enumerate(stored):
        free.setdefault(name, []).append(index)
    return [free[name].pop(0) if free.get(name) else None for name in given]


def dates_changed(before: Dates | None, after: Dates | None) -> bool:
    """Whether ContactDatesChanged is due for a contact that had ``before`` and now has
    ``after`` (``None``: created, or removed)."""
    if before is None and after is None:
        raise ValueError("a contact must exist before or after the change")
    if before is None:
        return any(day is not None for day in after)
    if after is None:
        return any(day is not None for day in before)
    return tuple(before) != tuple(after)


def flag_changed(after: Dates | None, was_key: bool | None, is_key: bool | None) -> bool:
    """Whether a continued contact, with a birthday or an anniversary ``after`` the change,
    became or stopped being a decision maker (``was_key`` None: the contact is new)."""
    if after is None or was_key is None or is_key is None:
        return False
    return bool(was_key) != bool(is_key) and any(day is not None for day in after)


def event_due(
    before: Dates | None, after: Dates | None, was_key: bool | None, is_key: bool | None
) -> bool:
    """Whether ContactDatesChanged is due: the dates changed (:func:`dates_changed`) or the
    decision-maker flag of a contact with dates did (:func:`flag_changed`)."""
    return dates_changed(before, after) or flag_changed(after, was_key, is_key)
