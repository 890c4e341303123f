"""Unit tests for the working-time calendar (revisit_common.calendar)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revisit_common.calendar import DEFAULT_WORK_PERIODS, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# The official 2026 schedule (State Council General Office notice of 2025-11-04).
CN_2026_HOLIDAYS = [
    *_span(date(2026, 1, 1), date(2026, 1, 3)),  # New Year
    *_span(date(2026, 2, 15), date(2026, 2, 23)),  # Spring Festival, 9 days
    *_span(date(2026, 4, 4), date(2026, 4, 6)),  # Qingming
    *_span(date(2026, 5, 1), date(2026, 5, 5)),  # Labour Day
    *_span(date(2026, 6, 19), date(2026, 6, 21)),  # Dragon Boat
    *_span(date(2026, 9, 25), date(2026, 9, 27)),  # Mid-Autumn
    *_span(date(2026, 10, 1), date(2026, 10, 7)),  # National Day, 7 days
]
CN_2026_MAKEUP = [
    date(2026, 1, 4),  # Sunday
    date(2026, 2, 14),  # Saturday
    date(2026, 2, 28),  # Saturday
    date(2026, 5, 9),  # Saturday
    date(2026, 9, 20),  # Sunday
    date(2026, 10, 10),  # Saturday
]
# 2025 National Day + Mid-Autumn: Oct 1-8 off, Sun Sep 28 and Sat Oct 11 worked.
CN_2025_HOLIDAYS = _span(date(2025, 10, 1), date(2025, 10, 8))
CN_2025_MAKEUP = [date(2025, 9, 28), date(2025, 10, 11)]

CN = WorkCalendar(
    holidays=CN_2026_HOLIDAYS + CN_2025_HOLIDAYS,
    makeup_workdays=CN_2026_MAKEUP + CN_2025_MAKEUP,
)
PLAIN = WorkCalendar()
BERLIN_CAL = WorkCalendar(timezone="Europe/Berlin")


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)


def be(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is UTC


# --------------------------------------------------------------------------------------
# construction and validation


def test_defaults():
    cal = WorkCalendar()
    assert cal.timezone == "Asia/Shanghai"
    assert cal.weekend == frozenset({5, 6})
    assert cal.holidays == frozenset()
    assert cal.makeup_workdays == frozenset()
    assert cal.work_periods == ((time(9), time(12)), (time(13), time(18)))
    assert cal.work_periods == DEFAULT_WORK_PERIODS


def test_default_day_has_eight_working_hours():
    day = date(2026, 11, 23)  # Monday
    total = sum((e - s for s, e in PLAIN.working_intervals(day)), timedelta())
    assert total == 8 * H


def test_collections_are_normalised_so_calendars_compare_and_hash():
    a = WorkCalendar(
        weekend=[6, 5],
        holidays=[date(2026, 10, 2), date(2026, 10, 1)],
        makeup_workdays={date(2026, 10, 10)},
        work_periods=[[time(9), time(12)], (time(13), time(18))],
    )
    b = WorkCalendar(
        holidays=(date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 1)),
        makeup_workdays=[date(2026, 10, 10)],
    )
    assert a == b
    assert hash(a) == hash(b)
    assert isinstance(a.holidays, frozenset)
    assert isinstance(a.work_periods, tuple)
    assert all(isinstance(p, tuple) for p in a.work_periods)


def test_calendar_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLAIN.timezone = "UTC"  # type: ignore[misc]


def test_replace_keeps_validation():
    berlin = dataclasses.replace(PLAIN, timezone="Europe/Berlin")
    assert berlin.local_date(datetime(2026, 1, 1, 23, 30, tzinfo=UTC)) == date(2026, 1, 2)
    with pytest.raises(ValueError):
        dataclasses.replace(PLAIN, timezone="Mars/Olympus")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "Asia/shanghai_nope", "../etc/passwd", 8])
def test_unknown_time_zone_is_rejected(zone):
    with pytest.raises(ValueError):
        WorkCalendar(timezone=zone)


@pytest.mark.parametrize(
    "periods",
    [
        [],
        [(time(9), time(9))],  # empty
        [(time(12), time(9))],  # end before start
        [(time(13), time(18)), (time(9), time(12))],  # unsorted
        [(time(9), time(13)), (time(12), time(18))],  # overlapping
        [(time(9), time(18)), (time(10), time(11))],  # nested
        [(time(9),)],  # not a pair
        [(time(9), time(12), time(13))],
        [("09:00", "12:00")],  # strings belong to from_dict
        [(time(9, tzinfo=UTC), time(12, tzinfo=UTC))],  # aware times
        "09:00-18:00",
    ],
)
def test_nonsense_work_periods_are_rejected(periods):
    with pytest.raises(ValueError):
        WorkCalendar(work_periods=periods)


def test_touching_work_periods_are_allowed():
    cal = WorkCalendar(work_periods=[(time(9), time(12)), (time(12), time(13))])
    assert cal.add_working_hours(sh(2026, 11, 23, 11), 2) == sh(2026, 11, 23, 13)


@pytest.mark.parametrize("weekend", [[7], [-1], [True], ["sat"], range(7), "56"])
def test_nonsense_weekend_is_rejected(weekend):
    with pytest.raises(ValueError):
        WorkCalendar(weekend=weekend)


def test_no_weekend_is_allowed():
    cal = WorkCalendar(weekend=[])
    assert cal.is_working_day(date(2026, 11, 22))  # Sunday


def test_date_both_holiday_and_makeup_day_is_rejected():
    with pytest.raises(ValueError, match="2026-10-10"):
        WorkCalendar(holidays=[date(2026, 10, 10)], makeup_workdays=[date(2026, 10, 10)])


def test_makeup_day_on_a_regular_workday_is_rejected():
    with pytest.raises(ValueError, match="weekend"):
        WorkCalendar(makeup_workdays=[date(2026, 10, 9)])  # a Friday


@pytest.mark.parametrize(
    "value", [[datetime(2026, 10, 1)], ["2026-10-01"], [None], [[1]], date(2026, 1, 1)]
)
def test_holidays_must_be_dates(value):
    with pytest.raises(ValueError):
        WorkCalendar(holidays=value)
    with pytest.raises(ValueError):
        WorkCalendar(weekend=[], makeup_workdays=value)


def test_holiday_on_a_weekend_is_allowed_and_changes_nothing():
    assert CN.is_working_day(date(2026, 10, 3)) is False  # Saturday listed as holiday


# --------------------------------------------------------------------------------------
# dict format for tenant settings


def test_to_dict_format():
    cal = WorkCalendar(
        holidays=[date(2026, 10, 2), date(2026, 10, 1)],
        makeup_workdays=[date(2026, 10, 10)],
    )
    assert cal.to_dict() == {
        "timezone": "Asia/Shanghai",
        "weekend": [5, 6],
        "holidays": ["2026-10-01", "2026-10-02"],
        "makeup_workdays": ["2026-10-10"],
        "work_periods": [["09:00", "12:00"], ["13:00", "18:00"]],
    }


def test_to_dict_is_json_and_round_trips():
    for cal in (CN, PLAIN, BERLIN_CAL):
        text = json.dumps(cal.to_dict())
        assert WorkCalendar.from_dict(json.loads(text)) == cal


@pytest.mark.parametrize("data", [None, {}])
def test_from_empty_dict_gives_defaults(data):
    assert WorkCalendar.from_dict(data) == WorkCalendar()


def test_from_dict_partial_override_keeps_other_defaults():
    cal = WorkCalendar.from_dict({"holidays": ["2026-10-01"], "work_periods": [["08:30", "17:30"]]})
    assert cal.timezone == "Asia/Shanghai"
    assert cal.weekend == frozenset({5, 6})
    assert cal.holidays == frozenset({date(2026, 10, 1)})
    assert cal.makeup_workdays == frozenset()
    assert cal.work_periods == ((time(8, 30), time(17, 30)),)


def test_from_dict_full():
    cal = WorkCalendar.from_dict(
        {
            "timezone": "Asia/Dubai",
            "weekend": [4, 5],
            "holidays": ["2026-12-02"],
            "makeup_workdays": ["2026-12-05"],
            "work_periods": [("08:00", "13:00"), ("14:00:00", "17:00:30")],
        }
    )
    assert cal.timezone == "Asia/Dubai"
    assert cal.weekend == frozenset({4, 5})
    assert cal.work_periods == ((time(8), time(13)), (time(14), time(17, 0, 30)))
    assert cal.to_dict()["work_periods"] == [["08:00", "13:00"], ["14:00", "17:00:30"]]
    assert WorkCalendar.from_dict(cal.to_dict()) == cal


def test_sub_second_period_bounds_round_trip():
    cal = WorkCalendar(work_periods=[(time(9, 0, 0, 500), time(17))])
    assert WorkCalendar.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal


@pytest.mark.parametrize(
    "data",
    [
        {"holiday": ["2026-10-01"]},  # typo: unknown key
        {"holidays": ["2026/10/01"]},
        {"holidays": ["20261001"]},
        {"holidays": ["2026-W40-4"]},
        {"holidays": ["2026-02-30"]},
        {"holidays": "2026-10-01"},
        {"holidays": [20261001]},
        {"makeup_workdays": ["2026-10-09"]},  # a Friday
        {"holidays": ["2026-10-10"], "makeup_workdays": ["2026-10-10"]},
        {"weekend": 5},
        {"weekend": [5, 9]},
        {"weekend": [[5]]},  # unhashable: still a ValueError, not a TypeError
        {"weekend": [5.0]},
        {"holidays": [["2026-10-01"]]},
        {"work_periods": [[["09:00"], "12:00"]]},
        {"timezone": {"name": "UTC"}},
        {"timezone": "Nowhere/Special"},
        {"timezone": None},
        {"work_periods": [["9:00", "12:00"]]},
        {"work_periods": [["24:00", "24:30"]]},
        {"work_periods": [["09:00+08:00", "12:00"]]},
        {"work_periods": [["09:00"]]},
        {"work_periods": ["09:00-12:00"]},
        {"work_periods": [["13:00", "18:00"], ["09:00", "12:00"]]},
        {"work_periods": [["09:00", "09:00"]]},
        {"work_periods": []},
        {"work_periods": "09:00-18:00"},
    ],
)
def test_from_dict_rejects_nonsense(data):
    with pytest.raises(ValueError):
        WorkCalendar.from_dict(data)


def test_from_dict_rejects_non_mapping():
    with pytest.raises(ValueError):
        WorkCalendar.from_dict([("timezone", "UTC")])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# working days


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 23), True),  # Monday
        (date(2026, 11, 27), True),  # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 1, 1), False),  # New Year, Thursday
        (date(2026, 1, 4), True),  # make-up Sunday
        (date(2026, 2, 14), True),  # make-up Saturday before Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival Monday
        (date(2026, 2, 23), False),  # last day of Spring Festival, Monday
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # make-up Saturday after Spring Festival
        (date(2026, 9, 20), True),  # make-up Sunday before National Day
        (date(2026, 9, 30), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),  # Monday inside National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 10, 11), False),  # ordinary Sunday
        (date(2025, 10, 8), False),  # 2025: Oct 1-8 off
        (date(2025, 10, 11), True),  # 2025: make-up Saturday
    ],
)
def test_is_working_day(day, expected):
    assert CN.is_working_day(day) is expected


def test_plain_calendar_knows_only_weekends():
    assert PLAIN.is_working_day(date(2026, 10, 1))
    assert not PLAIN.is_working_day(date(2026, 10, 10))


def test_2026_has_248_working_days_in_china():
    days = _span(date(2026, 1, 1), date(2026, 12, 31))
    assert sum(CN.is_working_day(d) for d in days) == 248


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 20), date(2026, 11, 23)),  # Friday -> Monday
        (date(2026, 11, 21), date(2026, 11, 23)),  # Saturday -> Monday
        (date(2026, 11, 23), date(2026, 11, 24)),
        (date(2026, 9, 30), date(2026, 10, 8)),  # over National Day
        (date(2026, 10, 9), date(2026, 10, 10)),  # Friday -> make-up Saturday
        (date(2026, 10, 10), date(2026, 10, 12)),
        (date(2026, 2, 13), date(2026, 2, 14)),  # Friday -> make-up Saturday
        (date(2026, 2, 14), date(2026, 2, 24)),  # over Spring Festival and two weekends
        (date(2025, 9, 30), date(2025, 10, 9)),
    ],
)
def test_next_working_day(day, expected):
    assert CN.next_working_day(day) == expected


def test_previous_working_day():
    assert CN.previous_working_day(date(2026, 10, 8)) == date(2026, 9, 30)
    assert CN.previous_working_day(date(2026, 11, 23)) == date(2026, 11, 20)
    assert CN.previous_working_day(date(2026, 9, 21)) == date(2026, 9, 20)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 23), 0, date(2026, 11, 23)),  # working day: itself
        (date(2026, 11, 21), 0, date(2026, 11, 23)),  # Saturday: next working day
        (date(2026, 10, 1), 0, date(2026, 10, 8)),  # holiday: next working day
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 -> Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # event on Saturday + 1 -> Monday
        (date(2026, 11, 23), 5, date(2026, 11, 30)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # Oct 8, 9, make-up Saturday 10
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
        (date(2026, 10, 3), 1, date(2026, 10, 8)),  # event during the holiday
        (date(2026, 9, 18), 5, date(2026, 9, 24)),  # make-up Sunday 20, then 21-24
        (date(2026, 9, 18), 6, date(2026, 9, 28)),  # Mid-Autumn Sep 25-27 off
        (date(2026, 2, 13), 2, date(2026, 2, 24)),  # Feb 14 then Feb 24
        (date(2025, 9, 30), 5, date(2025, 10, 14)),  # 9, 10, make-up 11, 13, 14
        (date(2026, 10, 8), -1, date(2026, 9, 30)),
        (date(2026, 10, 12), -4, date(2026, 9, 30)),
    ],
)
def test_add_working_days(start, n, expected):
    assert CN.add_working_days(start, n) == expected


def test_add_working_days_counts_n_working_days_after_the_event():
    start = date(2026, 9, 15)
    for n in range(1, 40):
        result = CN.add_working_days(start, n)
        assert CN.is_working_day(result)
        assert sum(CN.is_working_day(d) for d in _span(start + timedelta(1), result)) == n


def test_add_250_working_days_matches_the_year():
    # 2026 has 248 working days; Dec 31, 2025 + 248 working days = last working day of 2026.
    # (CN holds no 2027 holidays, so Jan 1, 2027, a Friday, is a working day here.)
    assert CN.add_working_days(date(2025, 12, 31), 248) == date(2026, 12, 31)
    assert CN.add_working_days(date(2025, 12, 31), 250) == date(2027, 1, 4)


def calls_of(monkeypatch, method: str) -> list:
    """The days ``WorkCalendar.<method>`` is called with from now on."""
    calls = []
    original = getattr(WorkCalendar, method)

    def counting(self, day):
        calls.append(day)
        return original(self, day)

    monkeypatch.setattr(WorkCalendar, method, counting)
    return calls


def test_add_working_days_loops_by_day_not_finer(monkeypatch):
    calls = calls_of(monkeypatch, "is_working_day")
    CN.add_working_days(date(2026, 1, 1), 250)
    assert len(calls) < 400  # about one check per calendar day of the ~ 370-day span


@pytest.mark.parametrize("bad", [datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01", None])
def test_working_day_functions_want_dates(bad):
    for call in (
        lambda: CN.is_working_day(bad),
        lambda: CN.next_working_day(bad),
        lambda: CN.previous_working_day(bad),
        lambda: CN.add_working_days(bad, 1),
    ):
        with pytest.raises(TypeError):
            call()


@pytest.mark.parametrize("n", [1.0, "1", True, None])
def test_add_working_days_wants_an_int(n):
    with pytest.raises(TypeError):
        CN.add_working_days(date(2026, 1, 5), n)


# --------------------------------------------------------------------------------------
# due instants in working days


def test_add_working_days_at_is_end_of_working_hours_in_utc():
    result = CN.add_working_days_at(sh(2026, 11, 20, 15), 3)  # Friday afternoon
    assert result == sh(2026, 11, 25, 18)  # Wednesday 18:00
    assert result == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert_utc(result)


def test_add_working_days_at_ignores_the_time_of_day():
    early = CN.add_working_days_at(sh(2026, 11, 23, 0, 5), 3)
    late = CN.add_working_days_at(sh(2026, 11, 23, 23, 55), 3)
    assert early == late == sh(2026, 11, 26, 18)


def test_add_working_days_at_uses_the_tenant_local_date():
    # 17:30 UTC on Thursday is already Friday 01:30 in Shanghai.
    result = CN.add_working_days_at(datetime(2026, 11, 19, 17, 30, tzinfo=UTC), 1)
    assert result == sh(2026, 11, 23, 18)


def test_post_complaint_visit_over_national_day():
    # Complaint result fed back on Sep 30: visit within 3 working days.
    assert CN.add_working_days_at(sh(2026, 9, 30, 16), 3) == sh(2026, 10, 10, 18)


def test_add_working_days_at_zero_on_a_holiday():
    assert CN.add_working_days_at(sh(2026, 10, 2, 11), 0) == sh(2026, 10, 8, 18)


def test_add_working_days_at_uses_the_last_period_end():
    cal = WorkCalendar(work_periods=[(time(8), time(11, 30)), (time(14), time(20, 15))])
    assert cal.add_working_days_at(sh(2026, 11, 23, 9), 1) == sh(2026, 11, 24, 20, 15)


# --------------------------------------------------------------------------------------
# working hours


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (sh(2026, 11, 23, 8, 59, 59), False),
        (sh(2026, 11, 23, 9), True),
        (sh(2026, 11, 23, 11, 59, 59), True),
        (sh(2026, 11, 23, 12), False),  # lunch
        (sh(2026, 11, 23, 12, 30), False),
        (sh(2026, 11, 23, 13), True),
        (sh(2026, 11, 23, 17, 59), True),
        (sh(2026, 11, 23, 18), False),
        (sh(2026, 11, 23, 23), False),
        (sh(2026, 11, 28, 10), False),  # Saturday
        (sh(2026, 10, 10, 10), True),  # make-up Saturday
        (sh(2026, 10, 5, 10), False),  # holiday Monday
        (datetime(2026, 11, 23, 2, tzinfo=UTC), True),  # 10:00 in Shanghai
    ],
)
def test_is_working_time(instant, expected):
    assert CN.is_working_time(instant) is expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (sh(2026, 11, 23, 10), 1, sh(2026, 11, 23, 11)),  # inside the morning
        (sh(2026, 11, 23, 11), 2, sh(2026, 11, 23, 14)),  # across the lunch break
        (sh(2026, 11, 23, 7), 1, sh(2026, 11, 23, 10)),  # before work starts
        (sh(2026, 11, 23, 12, 30), 1, sh(2026, 11, 23, 14)),  # during lunch
        (sh(2026, 11, 23, 19), 1, sh(2026, 11, 24, 10)),  # after work
        (sh(2026, 11, 23, 18), 1, sh(2026, 11, 24, 10)),  # exactly at close
        (sh(2026, 11, 23, 9), 8, sh(2026, 11, 23, 18)),  # a full day ends at close
        (sh(2026, 11, 23, 9), 3, sh(2026, 11, 23, 12)),  # ends at the period end
        (sh(2026, 11, 23, 13), 5, sh(2026, 11, 23, 18)),
        (sh(2026, 11, 23, 9), 8.5, sh(2026, 11, 24, 9, 30)),
        (sh(2026, 11, 23, 10), 0.25, sh(2026, 11, 23, 10, 15)),
        (sh(2026, 11, 20, 19), 4, sh(2026, 11, 23, 14)),  # Friday evening: 3h + 1h after lunch
        (sh(2026, 11, 20, 17), 4, sh(2026, 11, 23, 12)),  # Friday 1h + Monday morning 3h
        (sh(2026, 11, 20, 17), 5, sh(2026, 11, 23, 14)),
        (sh(2026, 11, 21, 10), 4, sh(2026, 11, 23, 14)),  # Saturday counts from Monday
        (sh(2026, 11, 23, 10), 40, sh(2026, 11, 30, 10)),  # a working week
        (sh(2026, 9, 30, 16), 4, sh(2026, 10, 8, 11)),  # major complaint before National Day
        (sh(2026, 10, 9, 17), 2, sh(2026, 10, 10, 10)),  # into the make-up Saturday
        (sh(2026, 2, 13, 17), 9, sh(2026, 2, 14, 18)),  # 1h + the whole make-up Saturday
        (sh(2026, 2, 13, 17), 9.5, sh(2026, 2, 24, 9, 30)),  # then over Spring Festival
    ],
)
def test_add_working_hours(start, hours, expected):
    result = CN.add_working_hours(start, hours)
    assert result == expected
    assert_utc(result)


def test_add_working_hours_accepts_a_timedelta():
    start = sh(2026, 11, 23, 11)
    assert CN.add_working_hours(start, timedelta(hours=2)) == sh(2026, 11, 23, 14)
    assert CN.add_working_time(start, timedelta(minutes=90)) == sh(2026, 11, 23, 13, 30)


def test_adding_zero_returns_the_instant_in_utc():
    lunch = sh(2026, 11, 23, 12, 30)
    result = CN.add_working_hours(lunch, 0)
    assert result == lunch
    assert_utc(result)


def test_instant_in_another_zone_is_converted():
    # 03:00 UTC = 11:00 Shanghai
    result = CN.add_working_hours(datetime(2026, 11, 23, 3, tzinfo=UTC), 2)
    assert result == datetime(2026, 11, 23, 6, tzinfo=UTC)  # 14:00 Shanghai


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (sh(2026, 11, 23, 10), -2, sh(2026, 11, 20, 17)),  # Monday back to Friday
        (sh(2026, 11, 23, 13), -3, sh(2026, 11, 23, 9)),  # lands on the period start
        (sh(2026, 11, 23, 14), -2, sh(2026, 11, 23, 11)),
        (sh(2026, 10, 8, 10), -2, sh(2026, 9, 30, 17)),
    ],
)
def test_negative_hours_count_backwards(start, hours, expected):
    assert CN.add_working_hours(start, hours) == expected


@pytest.mark.parametrize("hours", [float("nan"), float("inf"), "4", True, None])
def test_add_working_hours_rejects_non_numbers(hours):
    with pytest.raises(ValueError):
        CN.add_working_hours(sh(2026, 11, 23, 10), hours)


def test_add_working_time_wants_a_timedelta():
    with pytest.raises(ValueError):
        CN.add_working_time(sh(2026, 11, 23, 10), 4)  # type: ignore[arg-type]


def test_naive_datetimes_are_rejected():
    naive = datetime(2026, 11, 23, 10)
    aware = sh(2026, 11, 23, 10)
    for call in (
        lambda: CN.add_working_hours(naive, 1),
        lambda: CN.add_working_time(naive, H),
        lambda: CN.add_working_days_at(naive, 1),
        lambda: CN.working_time_between(naive, aware),
        lambda: CN.working_time_between(aware, naive),
        lambda: CN.is_working_time(naive),
        lambda: CN.local_date(naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_dates_are_not_instants():
    with pytest.raises(TypeError):
        CN.add_working_hours(date(2026, 11, 23), 1)  # type: ignore[arg-type]


def test_long_span_loops_by_day(monkeypatch):
    calls = calls_of(monkeypatch, "working_intervals")
    start = sh(2026, 1, 5, 9)
    end = CN.add_working_hours(start, 250 * 8)  # 250 working days
    assert len(calls) < 400
    calls.clear()
    assert CN.working_time_between(start, end) == 250 * 8 * H
    assert len(calls) < 400


# --------------------------------------------------------------------------------------
# working time between instants


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (sh(2026, 11, 23, 10), sh(2026, 11, 23, 15), 4 * H),  # across lunch
        (sh(2026, 11, 23, 12, 10), sh(2026, 11, 23, 12, 50), timedelta()),  # inside lunch
        (sh(2026, 11, 23, 10), sh(2026, 11, 23, 10), timedelta()),
        (sh(2026, 11, 20, 17), sh(2026, 11, 23, 10), 2 * H),  # over a weekend
        (sh(2026, 11, 20, 19), sh(2026, 11, 23, 8), timedelta()),  # all outside
        (sh(2026, 9, 30, 17), sh(2026, 10, 8, 10), 2 * H),  # over National Day
        (sh(2026, 10, 9, 17), sh(2026, 10, 12, 10), 10 * H),  # with the make-up Saturday
        (sh(2026, 11, 23, 0), sh(2026, 11, 30, 0), 40 * H),
        (sh(2026, 11, 23, 10, 0, 1), sh(2026, 11, 23, 10, 0, 2), timedelta(seconds=1)),
    ],
)
def test_working_time_between(a, b, expected):
    assert CN.working_time_between(a, b) == expected
    assert CN.working_time_between(b, a) == -expected


def test_a_whole_year_of_working_time():
    total = CN.working_time_between(sh(2026, 1, 1), sh(2027, 1, 1))
    assert total == 248 * 8 * H


def test_pausing_a_deadline_clock():
    # A general complaint received Monday 10:00 is due within 5 working days (40 h).
    received = sh(2026, 11, 23, 10)
    deadline = CN.add_working_hours(received, 40)
    assert deadline == sh(2026, 11, 30, 10)
    # It waits on the customer from Tuesday 16:00 to Thursday 10:00: 2 h + 8 h + 1 h.
    paused = CN.working_time_between(sh(2026, 11, 24, 16), sh(2026, 11, 26, 10))
    assert paused == 11 * H
    assert CN.add_working_time(deadline, paused) == sh(2026, 12, 1, 14)


# --------------------------------------------------------------------------------------
# other time zones and daylight saving time


def test_other_zone_and_weekend():
    # A tenant in Dubai with a Saturday-Sunday weekend and 08:00-16:00 without lunch.
    cal = WorkCalendar.from_dict({"timezone": "Asia/Dubai", "work_periods": [["08:00", "16:00"]]})
    dubai = ZoneInfo("Asia/Dubai")
    friday = datetime(2026, 11, 27, 15, tzinfo=dubai)
    assert cal.add_working_hours(friday, 2) == datetime(2026, 11, 30, 9, tzinfo=dubai)
    # Shanghai midnight is still the previous day in Dubai.
    assert cal.local_date(sh(2026, 11, 28, 1)) == date(2026, 11, 27)
    assert cal.is_working_time(sh(2026, 11, 27, 19))  # 19:00 Shanghai = 15:00 Dubai
    assert not cal.is_working_time(sh(2026, 11, 27, 20))  # 16:00 Dubai


def test_friday_saturday_weekend():
    cal = WorkCalendar(timezone="Asia/Riyadh", weekend=[4, 5])
    riyadh = ZoneInfo("Asia/Riyadh")
    thursday = datetime(2026, 11, 26, 17, tzinfo=riyadh)
    assert cal.add_working_hours(thursday, 2) == datetime(2026, 11, 29, 10, tzinfo=riyadh)


def test_berlin_spring_forward_over_the_weekend():
    # Clocks go forward on Sunday 2026-03-29 at 02:00 CET.
    friday = be(2026, 3, 27, 17)  # CET, UTC+1
    result = BERLIN_CAL.add_working_hours(friday, 2)
    assert result == be(2026, 3, 30, 10)  # CEST, UTC+2
    assert result == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert BERLIN_CAL.working_time_between(friday, result) == 2 * H
    assert result - friday == 64 * H  # 65 wall-clock hours, one of them skipped


def test_berlin_fall_back_over_the_weekend():
    # Clocks go back on Sunday 2026-10-25 at 03:00 CEST.
    friday = be(2026, 10, 23, 17)
    result = BERLIN_CAL.add_working_hours(friday, 2)
    assert result == be(2026, 10, 26, 10)
    assert result == datetime(2026, 10, 26, 9, tzinfo=UTC)
    assert BERLIN_CAL.add_working_days_at(friday, 1) == datetime(2026, 10, 26, 17, tzinfo=UTC)


def test_berlin_local_date_around_midnight_in_summer_and_winter():
    assert BERLIN_CAL.local_date(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == date(2026, 7, 2)
    assert BERLIN_CAL.local_date(datetime(2026, 1, 1, 22, 30, tzinfo=UTC)) == date(2026, 1, 1)


# Night shift working on Sundays, periods spanning the switch hour.
NIGHT = WorkCalendar(timezone="Europe/Berlin", weekend=[5], work_periods=[(time(0), time(6))])


def test_period_spanning_spring_forward_is_an_hour_shorter():
    (interval,) = NIGHT.working_intervals(date(2026, 3, 29))
    assert interval[1] - interval[0] == 5 * H
    start = be(2026, 3, 29, 0)
    assert NIGHT.add_working_hours(start, 5) == be(2026, 3, 29, 6)
    assert NIGHT.add_working_hours(start, 2) == be(2026, 3, 29, 3)  # 02:00 never happened
    assert NIGHT.working_time_between(start, be(2026, 3, 29, 6)) == 5 * H


def test_period_spanning_fall_back_is_an_hour_longer():
    (interval,) = NIGHT.working_intervals(date(2026, 10, 25))
    assert interval[1] - interval[0] == 7 * H
    start = be(2026, 10, 25, 0)
    assert NIGHT.add_working_hours(start, 7) == be(2026, 10, 25, 6)
    # After 3 hours the clock shows 02:00 for the second time (CET).
    result = NIGHT.add_working_hours(start, 3)
    assert result == datetime(2026, 10, 25, 1, tzinfo=UTC)
    assert result.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 10, 25, 2)


def test_period_bound_in_the_skipped_hour_is_the_jump():
    cal = WorkCalendar(
        timezone="Europe/Berlin",
        weekend=[],
        work_periods=[(time(1), time(2, 30)), (time(2, 45), time(4))],
    )
    intervals = cal.working_intervals(date(2026, 3, 29))
    # 01:00-02:00 CET, then the clock jumps to 03:00 CEST; 02:45 never shows.
    jump = datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert intervals == [(datetime(2026, 3, 29, 0, tzinfo=UTC), jump), (jump, be(2026, 3, 29, 4))]
    assert cal.working_time_between(be(2026, 3, 29, 0), be(2026, 3, 29, 5)) == 2 * H


def test_period_entirely_in_the_skipped_hour_is_empty():
    cal = WorkCalendar(
        timezone="Europe/Berlin",
        weekend=[],
        work_periods=[(time(2, 10), time(2, 50)), (time(9), time(10))],
    )
    assert cal.working_intervals(date(2026, 3, 29)) == [(be(2026, 3, 29, 9), be(2026, 3, 29, 10))]
    assert len(cal.working_intervals(date(2026, 3, 30))) == 2
    assert cal.add_working_hours(be(2026, 3, 29, 0), 1) == be(2026, 3, 29, 10)


def test_new_york_dst():
    cal = WorkCalendar(timezone="America/New_York")
    ny = ZoneInfo("America/New_York")
    # Clocks go forward on Sunday 2026-03-08.
    friday = datetime(2026, 3, 6, 17, 30, tzinfo=ny)
    assert cal.add_working_hours(friday, 1) == datetime(2026, 3, 9, 9, 30, tzinfo=ny)
    assert cal.working_time_between(friday, datetime(2026, 3, 9, 9, 30, tzinfo=ny)) == H


# --------------------------------------------------------------------------------------
# properties

ZONES = [
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "America/Havana",  # switches at midnight
    "Australia/Lord_Howe",  # 30-minute switch
    "America/Santiago",  # switches at 24:00
    "UTC",
]
ANY_DAY = st.dates(date(2025, 12, 1), date(2027, 3, 1))


@st.composite
def calendars(draw) -> WorkCalendar:
    zone = draw(st.sampled_from(ZONES))
    weekend = draw(st.frozensets(st.integers(0, 6), max_size=5))
    bounds = sorted(
        draw(st.lists(st.integers(0, 24 * 60 - 1), min_size=2, max_size=8, unique=True))
    )
    if len(bounds) % 2:
        bounds = bounds[:-1]
    periods = [
        (time(a // 60, a % 60), time(b // 60, b % 60))
        for a, b in zip(bounds[::2], bounds[1::2], strict=True)
    ]
    holidays = draw(st.frozensets(ANY_DAY, max_size=30))
    makeups = draw(st.frozensets(ANY_DAY, max_size=10))
    makeups = frozenset(d for d in makeups if d.weekday() in weekend and d not in holidays)
    return WorkCalendar(
        timezone=zone,
        weekend=weekend,
        holidays=holidays,
        makeup_workdays=makeups,
        work_periods=periods,
    )


CALENDARS = st.one_of(st.just(CN), st.just(BERLIN_CAL), st.just(NIGHT), calendars())
INSTANTS = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 3, 1), timezones=st.just(UTC)
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200))
POSITIVE = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(hours=200))
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


def _period_ends_near(cal: WorkCalendar, t: datetime) -> set[datetime]:
    day = cal.local_date(t)
    days = (day - timedelta(1), day, day + timedelta(1))
    return {e for d in days for _, e in cal.working_intervals(d)}


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, POSITIVE)
def test_result_is_inside_working_time_or_at_a_period_end(cal, t, h):
    result = cal.add_working_time(t, h)
    assert result.tzinfo is UTC
    assert result > t
    assert cal.is_working_time(result) or result in _period_ends_near(cal, result)


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, DURATIONS, DURATIONS)
def test_add_is_monotonic(cal, t, h1, h2):
    low, high = sorted((h1, h2))
    assert cal.add_working_time(t, low) <= cal.add_working_time(t, high)


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, DURATIONS)
def test_working_time_between_inverts_add(cal, t, h):
    assert cal.working_time_between(t, cal.add_working_time(t, h)) == h
    assert cal.working_time_between(t, cal.add_working_time(t, -h)) == -h


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, st.floats(min_value=0, max_value=200, allow_nan=False))
def test_working_time_between_inverts_add_hours(cal, t, hours):
    result = cal.add_working_hours(t, hours)
    assert cal.working_time_between(t, result) == timedelta(hours=hours)


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, DURATIONS, DURATIONS)
def test_add_in_two_steps_equals_add_in_one(cal, t, a, b):
    assert cal.add_working_time(cal.add_working_time(t, a), b) == cal.add_working_time(t, a + b)
    assert cal.add_working_time(cal.add_working_time(t, -a), -b) == cal.add_working_time(
        t, -(a + b)
    )


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, POSITIVE)
def test_going_back_returns_to_the_same_working_instant(cal, t, h):
    # Outside working hours t and back may differ (back is then the next period start), but
    # no working time lies between them.
    back = cal.add_working_time(cal.add_working_time(t, h), -h)
    assert cal.working_time_between(back, t) == timedelta(0)


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, INSTANTS, INSTANTS)
def test_working_time_between_is_additive(cal, a, b, c):
    whole = cal.working_time_between(a, c)
    assert whole == cal.working_time_between(a, b) + cal.working_time_between(b, c)
    assert abs(whole) <= abs(c - a)


@PROPERTY_SETTINGS
@given(CALENDARS, ANY_DAY, st.integers(-60, 60))
def test_add_working_days_lands_on_a_working_day(cal, start, n):
    result = cal.add_working_days(start, n)
    assert cal.is_working_day(result)
    if n > 0:
        between = _span(start + timedelta(1), result)
        assert sum(cal.is_working_day(d) for d in between) == n
    elif n < 0:
        between = _span(result, start - timedelta(1))
        assert sum(cal.is_working_day(d) for d in between) == -n
    else:
        assert result == start or (not cal.is_working_day(start) and result > start)


@PROPERTY_SETTINGS
@given(CALENDARS, INSTANTS, st.integers(0, 30))
def test_add_working_days_at_is_a_day_end(cal, t, n):
    deadline = cal.add_working_days_at(t, n)
    day = cal.add_working_days(cal.local_date(t), n)
    assert deadline.tzinfo is UTC
    assert cal.is_working_day(day)
    assert all(e <= deadline for _, e in cal.working_intervals(day))
    assert cal.local_date(deadline) in (day, day + timedelta(1))


@PROPERTY_SETTINGS
@given(calendars())
def test_dict_round_trip(cal):
    assert WorkCalendar.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
