"""Unit tests of the rules on recorded times (DOMAIN.md §6 "Validation")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from customer_service.validity import (
    CLOCK_SKEW,
    closes_before_opening,
    in_future,
    local_date,
    start_of_day,
)

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def test_the_skew_is_five_minutes():
    assert timedelta(minutes=5) == CLOCK_SKEW


@pytest.mark.parametrize(
    ("moment", "future"),
    [
        (NOW - timedelta(days=365), False),
        (NOW, False),
        (NOW + timedelta(minutes=5), False),
        (NOW + timedelta(minutes=5, microseconds=1), True),
        (NOW + timedelta(days=200), True),
    ],
)
def test_in_future_allows_a_few_minutes_of_skew(moment, future):
    assert in_future(moment, NOW) is future


def test_in_future_compares_instants_across_offsets():
    shanghai = timezone(timedelta(hours=8))
    assert not in_future(datetime(2026, 6, 1, 12, 4, tzinfo=shanghai), NOW)
    assert in_future(datetime(2026, 6, 1, 12, 6, tzinfo=shanghai), NOW)


def test_in_future_with_another_skew():
    assert in_future(NOW + timedelta(seconds=1), NOW, timedelta(0))
    assert not in_future(NOW + timedelta(hours=1), NOW, timedelta(hours=1))


@pytest.mark.parametrize(
    ("closed", "before"),
    [
        (NOW - timedelta(seconds=1), True),
        (NOW, False),
        (NOW + timedelta(days=3), False),
    ],
)
def test_a_record_cannot_close_before_it_opened(closed, before):
    assert closes_before_opening(NOW, closed) is before


def test_naive_instants_are_refused():
    naive = NOW.replace(tzinfo=None)
    for call in (
        lambda: in_future(naive, NOW),
        lambda: in_future(NOW, naive),
        lambda: closes_before_opening(naive, NOW),
        lambda: closes_before_opening(NOW, "2026-06-01"),
        lambda: local_date(naive, "Asia/Shanghai"),
    ):
        with pytest.raises(ValueError, match="aware"):
            call()


def test_start_of_day_is_midnight_in_the_time_zone():
    midnight = start_of_day(date(2026, 6, 1), "Asia/Shanghai")
    assert midnight.astimezone(UTC) == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
    assert start_of_day(date(2026, 6, 1), "UTC") == datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="date"):
        start_of_day(NOW, "UTC")


def test_local_date_is_the_calendar_date_there():
    assert local_date(NOW, "Asia/Shanghai") == date(2026, 6, 1)
    assert local_date(datetime(2026, 5, 31, 16, 0, tzinfo=UTC), "Asia/Shanghai") == date(2026, 6, 1)
    assert local_date(datetime(2026, 5, 31, 15, 59, tzinfo=UTC), "Asia/Shanghai") == date(
        2026, 5, 31
    )
    assert local_date(NOW, "America/New_York") == date(2026, 6, 1)
