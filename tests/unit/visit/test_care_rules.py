"""Unit tests of the care rules (DOMAIN.md §6, CONTRACT §4.4): dates, lead days, triggers,
what a changed contact date does, and the care settings of the visit policy."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from visit_service.care_rules import (
    CareDate,
    ContactChange,
    care_trigger,
    contact_change,
    in_lead,
    key_contact,
    next_occurrence,
    occurrence,
    occurrence_of,
    parse_care_dates,
    parse_grades,
    trigger_prefix,
)
from visit_service.domain import PolicyError, VisitPolicy

TODAY = date(2026, 12, 5)


def test_occurrence_of_29_february():
    assert occurrence(2, 29, 2028) == date(2028, 2, 29)
    assert occurrence(2, 29, 2027) == date(2027, 2, 28)
    assert occurrence(12, 10, 2027) == date(2027, 12, 10)


def test_next_occurrence_is_this_year_or_next():
    assert next_occurrence(12, 10, TODAY) == date(2026, 12, 10)
    assert next_occurrence(12, 5, TODAY) == TODAY  # today itself still counts
    assert next_occurrence(12, 4, TODAY) == date(2027, 12, 4)
    assert next_occurrence(2, 29, TODAY) == date(2027, 2, 28)
    assert next_occurrence(2, 29, date(2027, 3, 1)) == date(2028, 2, 29)


@given(
    st.dates(date(1950, 1, 1), date(2200, 12, 31)), st.dates(date(2000, 1, 1), date(2000, 12, 31))
)
def test_next_occurrence_is_within_a_year(today, day):
    when = next_occurrence(day.month, day.day, today)
    assert 0 <= (when - today).days <= 366
    assert (when.month, when.day) == (day.month, day.day) or (day.month, day.day) == (2, 29)


def test_in_lead():
    assert in_lead(date(2026, 12, 12), TODAY, 7)
    assert in_lead(TODAY, TODAY, 0)
    assert not in_lead(date(2026, 12, 13), TODAY, 7)
    assert not in_lead(date(2026, 12, 4), TODAY, 7)  # past


def test_triggers_name_subject_date_and_year():
    trigger = care_trigger("birthday", "c-1", date(2026, 12, 10))
    assert trigger == "care:birthday:c-1:2026-12-10"
    assert trigger.startswith(trigger_prefix("birthday", "c-1"))
    assert occurrence_of(trigger) == date(2026, 12, 10)
    assert occurrence_of(care_trigger("holiday", "New: year", date(2027, 1, 1))) == date(2027, 1, 1)
    assert occurrence_of("2026-11-20") == date(2026, 11, 20)
    assert occurrence_of("manual") is None


@pytest.mark.parametrize(
    ("open_for", "new", "eligible", "expected"),
    [
        (None, date(1980, 12, 10), True, ContactChange("plan", date(2026, 12, 10))),
        (None, date(1980, 12, 20), True, ContactChange("keep")),  # not yet within the lead
        (None, date(1980, 12, 10), False, ContactChange("keep")),  # grade gets no care
        (None, None, True, ContactChange("keep")),
        (date(2026, 12, 10), date(1980, 12, 10), True, ContactChange("keep")),
        (date(2026, 12, 10), date(1980, 12, 8), True, ContactChange("move", date(2026, 12, 8))),
        (date(2026, 12, 10), None, True, ContactChange("cancel")),  # cleared
        (date(2026, 12, 10), date(1980, 12, 1), True, ContactChange("cancel")),  # passed
        (date(2026, 12, 10), date(1980, 12, 10), False, ContactChange("cancel")),
    ],
)
def test_contact_change(open_for, new, eligible, expected):
    assert contact_change(open_for, new, TODAY, 7, eligible) == expected


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(True, True), (None, True), (False, False)],  # None: producers before the flag
)
def test_only_key_contacts_get_care(flag, expected):
    assert key_contact(flag) is expected


# --------------------------------------------------------------------------- settings


def test_care_settings_defaults():
    policy = VisitPolicy()
    assert policy.care_lead_days == 7
    assert policy.care_dates == ()
    assert policy.birthday_care_grades == ("A", "B")
    assert policy.holiday_care_grades == ("A",)


def test_care_dates_parse_and_round_trip():
    doc = {
        "care_dates": [
            {"name": "Spring Festival", "month": 2, "day": 17, "grades": ["B", "A"]},
            {"name": "New Year", "month": 1, "day": 1},
            {"name": "Leap", "month": 2, "day": 29, "grades": []},
        ],
        "holiday_care_grades": ["A", "B", "C"],
    }
    policy = VisitPolicy.from_dict(doc)
    assert [c.name for c in policy.care_dates] == ["New Year", "Spring Festival", "Leap"]
    assert policy.care_dates[1] == CareDate("Spring Festival", 2, 17, ("A", "B"))
    assert policy.holiday_grades(policy.care_dates[0]) == ("A", "B", "C")  # the tenant's
    assert policy.holiday_grades(policy.care_dates[2]) == ()
    again = VisitPolicy.from_dict(json.loads(json.dumps(policy.to_dict())))
    assert again == policy
    assert policy.to_dict()["care_dates"][0] == {"name": "New Year", "month": 1, "day": 1}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("care_lead_days", -1),
        ("care_lead_days", 400),
        ("care_dates", {"name": "x"}),
        ("care_dates", "New Year"),
        ("care_dates", [{"name": "x", "month": 2, "day": 30}]),
        ("care_dates", [{"name": "x", "month": 13, "day": 1}]),
        ("care_dates", [{"name": "x", "month": 1, "day": True}]),
        ("care_dates", [{"name": "", "month": 1, "day": 1}]),
        ("care_dates", [{"name": "x", "month": 1, "day": 1, "when": "always"}]),
        ("care_dates", [{"name": "x", "month": 1, "day": 1, "grades": ["D"]}]),
        ("care_dates", [{"name": "x", "month": 1, "day": 1}] * 2),
        ("care_dates", [{"name": f"d{i}", "month": 1, "day": 1} for i in range(101)]),
        ("care_dates", ["New Year"]),
        ("birthday_care_grades", ["A", "A"]),
        ("birthday_care_grades", "AB"),
        ("holiday_care_grades", ["a"]),
    ],
)
def test_bad_care_settings_are_rejected_per_key(key, value):
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({key: value})
    assert list(exc.value.errors) == [key]


def test_grades_parse_sorted():
    assert parse_grades(["C", "A"]) == ("A", "C")
    assert parse_grades([]) == ()
    assert parse_care_dates([]) == ()
