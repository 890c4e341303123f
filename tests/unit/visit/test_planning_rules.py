"""Unit tests of the planning rules of DOMAIN.md §6: the key-account cadence in calendar
months (and the older setting in days), the new-customer unit, and a key account's issue
due by the next working day."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revisit_common.calendar import WorkCalendar
from tests.support.visits import CAL, DEFAULT, FRIDAY
from visit_service.cadence import add_months, offset_key, offset_trigger, parse_offsets, shift
from visit_service.domain import (
    PolicyError,
    VisitPolicy,
    due_date,
    key_account_issue_due,
    key_account_schedule,
)

STAY = VisitPolicy.from_dict({"due_on_working_day": False})


# --------------------------------------------------------------------------- cadence


def test_offsets_parse_to_canonical_sorted_text():
    assert parse_offsets(["6m", "2d", 7, "1M", " 3m "]) == ("2d", "7d", "1m", "3m", "6m")
    assert parse_offsets(["31d", "1m"]) == ("1m", "31d")  # a month is about 30.44 days
    assert parse_offsets(["30d", "1m"]) == ("30d", "1m")
    assert parse_offsets([0]) == ("0d",)


@pytest.mark.parametrize(
    "value",
    ["2d", [], ["2d", 2], ["1w"], ["-1d"], ["1.5m"], [True], ["121m"], ["3651d"], [None],
     [f"{i}d" for i in range(21)]],
)  # fmt: skip
def test_bad_offsets(value):
    with pytest.raises(ValueError):
        parse_offsets(value)


def test_shift_by_days_and_calendar_months():
    assert shift(date(2026, 1, 31), "1m") == date(2026, 2, 28)
    assert shift(date(2028, 1, 31), "1m") == date(2028, 2, 29)
    assert shift(date(2026, 1, 31), "3m") == date(2026, 4, 30)
    assert shift(date(2026, 1, 31), "6m") == date(2026, 7, 31)
    assert shift(date(2026, 1, 31), "7d") == date(2026, 2, 7)
    assert shift(date(2026, 1, 31), 2) == date(2026, 2, 2)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


@given(st.dates(date(1950, 1, 1), date(2200, 12, 31)), st.integers(0, 120))
def test_month_offsets_match_add_months(day, months):
    assert shift(day, f"{months}m") == add_months(day, months)


def test_offset_triggers_keep_days_bare():
    assert [offset_trigger(o) for o in ("2d", "7d", "1m", "6m")] == ["2", "7", "1m", "6m"]
    assert offset_trigger(30) == "30"
    assert offset_key("1m") > offset_key("30d")


def test_key_account_cadence_counts_calendar_months():
    # DOMAIN.md §6: a purchase on 31 January: 28/29 February, then 30 April
    assert key_account_schedule(date(2026, 1, 31), STAY, CAL) == [
        ("2d", date(2026, 2, 2)),
        ("7d", date(2026, 2, 7)),
        ("1m", date(2026, 2, 28)),
        ("3m", date(2026, 4, 30)),
        ("6m", date(2026, 7, 31)),
    ]
    leap = key_account_schedule(date(2028, 1, 31), STAY, CAL)
    assert leap[2] == ("1m", date(2028, 2, 29))
    # with the default, a day off moves to the next working day
    assert key_account_schedule(date(2026, 1, 31), DEFAULT, CAL)[2] == ("1m", date(2026, 3, 2))


def test_due_date_takes_an_offset():
    assert due_date("key_account", FRIDAY, STAY, CAL, offset="1m") == date(2026, 12, 20)
    assert due_date("key_account", FRIDAY, STAY, CAL, offset_days=30) == date(2026, 12, 20)
    assert due_date("key_account", FRIDAY, STAY, CAL) == date(2026, 11, 22)  # the first: 2d


def test_the_older_setting_in_days_still_reads_and_wins():
    older = VisitPolicy.from_dict({"key_account_offsets_days": [30, 2]})
    assert older.key_account_cadence == ("2d", "30d")
    assert [d for _, d in key_account_schedule(FRIDAY, older, CAL)] == [
        date(2026, 11, 23),
        date(2026, 12, 21),
    ]
    doc = json.loads(json.dumps(older.to_dict()))
    assert doc["key_account_offsets_days"] == [2, 30]
    assert VisitPolicy.from_dict(doc) == older
    # back to the new setting: null the old one
    newer = VisitPolicy.from_dict(
        {"key_account_offsets_days": None, "key_account_offsets": ["1m"]}, base=older
    )
    assert newer.key_account_cadence == ("1m",)


def test_both_offset_settings_at_once_are_refused():
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({"key_account_offsets_days": [2], "key_account_offsets": ["1m"]})
    assert list(exc.value.errors) == ["key_account_offsets_days"]


@pytest.mark.parametrize("value", [[], ["2d", "2d"], ["2d", 2], "2d", ["1y"]])
def test_bad_key_account_offsets_setting(value):
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({"key_account_offsets": value})
    assert list(exc.value.errors) == ["key_account_offsets"]


@given(
    st.lists(
        st.one_of(
            st.builds("{}d".format, st.integers(0, 3650)),
            st.builds("{}m".format, st.integers(0, 120)),
        ),
        min_size=1,
        max_size=20,
        unique=True,
    )
)
def test_any_cadence_round_trips_through_json(offsets):
    policy = VisitPolicy.from_dict({"key_account_offsets": offsets})
    assert VisitPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert sorted(policy.key_account_cadence) == sorted(offsets)


# --------------------------------------------------------------------------- new customers


def test_new_customer_unit():
    assert DEFAULT.new_customer_unit == "calendar_days"
    working = VisitPolicy.from_dict({"new_customer_unit": "working_days"})
    # 30 working days after Friday 20 November: six weeks
    assert due_date("new_customer", FRIDAY, working, CAL) == date(2027, 1, 1)
    short = VisitPolicy.from_dict({"new_customer_unit": "working_days", "new_customer_days": 5})
    assert due_date("new_customer", FRIDAY, short, CAL) == date(2026, 11, 27)
    cal = WorkCalendar.from_dict({"holidays": ["2026-11-23"]})
    assert due_date("new_customer", FRIDAY, short, cal) == date(2026, 11, 30)
    # calendar days, as before
    assert due_date("new_customer", FRIDAY, DEFAULT, CAL) == date(2026, 12, 21)
    with pytest.raises(PolicyError) as exc:
        VisitPolicy.from_dict({"new_customer_unit": "weeks"})
    assert list(exc.value.errors) == ["new_customer_unit"]


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(0, 60))
def test_working_day_unit_is_never_sooner(day, days):
    calendar_policy = VisitPolicy.from_dict(
        {"new_customer_days": days, "due_on_working_day": False}
    )
    working = VisitPolicy.from_dict(
        {"new_customer_days": days, "new_customer_unit": "working_days"}
    )
    assert due_date("new_customer", day, working, CAL) >= due_date(
        "new_customer", day, calendar_policy, CAL
    )
    assert CAL.is_working_day(due_date("new_customer", day, working, CAL))


# --------------------------------------------------------------------------- key-account issues


def test_key_account_issue_is_due_the_next_working_day():
    assert key_account_issue_due("A", FRIDAY, CAL) == date(2026, 11, 23)  # Monday
    assert key_account_issue_due("A", date(2026, 11, 18), CAL) == date(2026, 11, 19)
    assert key_account_issue_due("A", date(2026, 11, 21), CAL) == date(2026, 11, 23)  # Saturday
    # a sooner date asked for stays; a later one is brought forward
    assert key_account_issue_due("A", FRIDAY, CAL, FRIDAY) == FRIDAY
    assert key_account_issue_due("A", FRIDAY, CAL, FRIDAY + timedelta(days=10)) == date(
        2026, 11, 23
    )
    # other grades keep what was asked
    assert key_account_issue_due("B", FRIDAY, CAL) is None
    assert key_account_issue_due(None, FRIDAY, CAL, date(2026, 12, 1)) == date(2026, 12, 1)
    cal = WorkCalendar.from_dict({"holidays": ["2026-11-23"]})
    assert key_account_issue_due("A", FRIDAY, cal) == date(2026, 11, 24)
