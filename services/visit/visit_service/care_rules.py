"""Care visits: which dates plan one, for whom, and when (DOMAIN.md §6, CONTRACT §4.4).

A care visit is due on the date itself: a contact's birthday or anniversary, or one of the
tenant's ``care_dates`` (holidays). It is planned ``care_lead_days`` ahead (the next
occurrence, counted from the tenant's today). Who gets care depends on the customer's grade
(``birthday_care_grades`` for birthdays and anniversaries, each care date's ``grades`` or
``holiday_care_grades`` for holidays). Birthday and anniversary care is for key contacts: a
contact known not to be a decision maker gets none (:func:`key_contact`). A 29 February
falls on 28 February in other years.

The trigger names what the visit is for and the occurrence (``care:birthday:<contact>:
2026-12-10``), so a visit is planned once per contact or customer, date and year.
Standard library only.
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = [
    "CONTACT_KINDS",
    "CareDate",
    "ContactChange",
    "care_trigger",
    "contact_change",
    "in_lead",
    "key_contact",
    "next_occurrence",
    "occurrence",
    "occurrence_of",
    "parse_care_dates",
    "parse_choices",
    "trigger_prefix",
]

CONTACT_KINDS = ("birthday", "anniversary")
HOLIDAY = "holiday"
MAX_CARE_DATES = 100
MAX_NAME = 100
_GRADES = ("A", "B", "C")
_LEAP_YEAR = 2000  # any leap year: checks that a month and day exist in some year
_KEYS = frozenset({"name", "month", "day", "grades"})


@dataclass(frozen=True)
class CareDate:
    """A tenant's care date (a holiday): every year on ``month``/``day``, for customers of
    ``grades`` (None: the tenant's ``holiday_care_grades``)."""

    name: str
    month: int
    day: int
    grades: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "month": self.month, "day": self.day}
        if self.grades is not None:
            doc["grades"] = list(self.grades)
        return doc


def parse_choices(value: Any, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """A list of distinct ``allowed`` values (``what`` they are, for messages), possibly
    empty, returned in the order of ``allowed``."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f"must be a list of {what} ({', '.join(allowed)}), got {value!r}")
    items = list(value)
    if any(item not in allowed for item in items):
        raise ValueError(f"{what} are {', '.join(allowed[:-1])} or {allowed[-1]}, got {items!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"{what} must not repeat")
    return tuple(choice for choice in allowed if choice in items)


def parse_grades(value: Any) -> tuple[str, ...]:
    """A list of distinct grades (A, B, C), possibly empty, returned sorted."""
    return parse_choices(value, _GRADES, "grades")


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number {low}..{high}, got {value!r}")
    return value


def _care_date(item: Any) -> CareDate:
    if isinstance(item, CareDate):
        return item
    if not isinstance(item, Mapping):
        raise ValueError(f'care dates are objects {{"name", "month", "day", "grades"?}}: {item!r}')
    unknown = sorted(str(key) for key in item if key not in _KEYS)
    if unknown:
        raise ValueError(f"unknown keys in a care date: {unknown}")
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        raise ValueError(f"a care date's name is 1..{MAX_NAME} characters, got {name!r}")
    month = _whole(item.get("month"), "month", 1, 12)
    day = _whole(item.get("day"), "day", 1, 31)
    try:
        date(_LEAP_YEAR, month, day)
    except ValueError:
        raise ValueError(f"no day {day} in month {month}") from None
    grades = item.get("grades")
    return CareDate(name.strip(), month, day, None if grades is None else parse_grades(grades))


def parse_care_dates(value: Any) -> tuple[CareDate, ...]:
    """The tenant's care dates from JSON (a list of objects), sorted by month and day."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValueError(f"must be a list of care dates, got {value!r}")
    items = [_care_date(item) for item in value]
    if len(items) > MAX_CARE_DATES:
        raise ValueError(f"at most {MAX_CARE_DATES} care dates")
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise ValueError("care date names must not repeat")
    return tuple(sorted(items, key=lambda c: (c.month, c.day, c.name)))


def occurrence(month: int, day: int, year: int) -> date:
    """The date in ``year``; 29 February is 28 February in a year that has none."""
    if month == 2 and day == 29 and not isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def next_occurrence(month: int, day: int, today: date) -> date:
    """The next time the date comes round: this year's, or next year's once it has passed."""
    this_year = occurrence(month, day, today.year)
    return this_year if this_year >= today else occurrence(month, day, today.year + 1)


def in_lead(when: date, today: date, lead_days: int) -> bool:
    """Whether a care date on ``when`` is planned by ``today`` (due within the lead days)."""
    return 0 <= (when - today).days <= lead_days


def trigger_prefix(kind: str, subject: str) -> str:
    """What every care trigger of one contact's date (or one holiday) starts with."""
    return f"care:{kind}:{subject}:"


def care_trigger(kind: str, subject: str, when: date) -> str:
    """The trigger of the care visit for ``subject``'s ``kind`` of date on ``when``
    (``subject``: the contact for birthdays and anniversaries, the care date's name for
    holidays; the customer is the visit's own)."""
    return f"{trigger_prefix(kind, subject)}{when.isoformat()}"


def occurrence_of(trigger: str) -> date | None:
    """The occurrence a care trigger names (None when it names none)."""
    try:
        return date.fromisoformat(trigger.rsplit(":", 1)[-1])
    except ValueError:
        return None


def key_contact(decision_maker: object) -> bool:
    """Whether a contact's birthday and anniversary get care: a decision maker, or a contact
    whose flag is not known (None: producers before the flag, cared for as before)."""
    return decision_maker is not False


@dataclass(frozen=True)
class ContactChange:
    """What a contact's changed date does to its care visit: ``cancel`` the open one,
    ``move`` it (or ``plan`` one when none is open) to ``due``, or nothing (``keep``)."""

    action: str  # keep | cancel | move | plan
    due: date | None = None


def contact_change(
    open_for: date | None,
    new: date | None,
    today: date,
    lead_days: int,
    eligible: bool,
) -> ContactChange:
    """A contact's birthday or anniversary became ``new`` (None: cleared); ``open_for`` is
    the occurrence of its open planned care visit, if any. A date that is cleared, no longer
    due within the lead days, or whose customer gets no care cancels the open visit; a date
    due within the lead days moves it there (or plans one)."""
    upcoming = next_occurrence(new.month, new.day, today) if new else None
    wanted = upcoming if upcoming and eligible and in_lead(upcoming, today, lead_days) else None
    if open_for is None:
        return ContactChange("plan", wanted) if wanted else ContactChange("keep")
    if wanted is None:
        return ContactChange("cancel")
    if wanted == open_for:
        return ContactChange("keep")
    return ContactChange("move", wanted)
