"""The 12-month windows read from running day and month sums give exactly what a scan of
the purchases gives: last 12 months from ``today - 365 days`` (UTC midnight) on, previous 12
months from ``today - 730 days`` up to it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from customer_service import purchase_windows as w


def scanned(purchases: list[tuple[datetime, int]], today: date) -> tuple[int, int, int]:
    """The rule itself, purchase by purchase."""
    year_ago = datetime.combine(today - timedelta(days=365), datetime.min.time(), UTC)
    two_years_ago = datetime.combine(today - timedelta(days=730), datetime.min.time(), UTC)
    last = [c for at, c in purchases if at >= year_ago]
    prev = [c for at, c in purchases if two_years_ago <= at < year_ago]
    return sum(last), len(last), sum(prev)


def summed(purchases: list[tuple[datetime, int]]) -> dict:
    sums: dict = {}
    for at, amount_cents in purchases:
        for key in w.sums_for(at):
            total, count = sums.get(key, (0, 0))
            sums[key] = (total + amount_cents, count + 1)
    return sums


def test_a_purchase_adds_to_its_utc_day_and_month():
    at = datetime(2026, 3, 1, 7, 30, tzinfo=UTC).astimezone()  # any offset: the UTC day counts
    shanghai_evening = datetime.fromisoformat("2026-03-01T01:30:00+08:00")
    assert w.sums_for(at) == (("day", date(2026, 3, 1)), ("month", date(2026, 3, 1)))
    assert w.sums_for(shanghai_evening) == (("day", date(2026, 2, 28)), ("month", date(2026, 2, 1)))
    with pytest.raises(ValueError):
        w.sums_for(datetime(2026, 3, 1))


def test_amounts_are_whole_cents_both_ways():
    assert w.cents(Decimal("1200.50")) == 120050
    assert w.cents(Decimal(7)) == 700
    assert w.amount_of(120050) == Decimal("1200.50")
    assert str(w.amount_of(0)) == "0.00"
    with pytest.raises(ValueError):
        w.cents(Decimal("0.001"))


@pytest.mark.parametrize(
    "today",
    [
        date(2026, 6, 1),  # year_ago 2025-06-01: a window edge on a 1st
        date(2026, 6, 30),
        date(2026, 3, 1),  # two_years_ago 2024-03-01, across a 29 February
        date(2024, 2, 29),
        date(2026, 12, 31),
        date(2027, 1, 1),
    ],
)
def test_the_selected_sums_reproduce_the_scan(today):
    rng = random.Random(today.toordinal())
    start = datetime.combine(today - timedelta(days=800), datetime.min.time(), UTC)
    purchases = []
    for _ in range(3000):
        at = start + timedelta(minutes=rng.randrange(0, 802 * 24 * 60))
        purchases.append((at, rng.randrange(1, 10**8)))
    # right on both edges, a minute either side, and a few minutes in the future
    for edge in (365, 730):
        midnight = datetime.combine(today - timedelta(days=edge), datetime.min.time(), UTC)
        purchases += [(midnight, 11), (midnight - timedelta(minutes=1), 13)]
        purchases.append((midnight + timedelta(minutes=1), 17))
    purchases.append((datetime.combine(today, datetime.max.time(), UTC), 19))
    assert w.window_totals(summed(purchases), today) == scanned(purchases, today)


def test_every_day_of_four_years_reads_the_same_as_the_scan():
    """One purchase a day at noon UTC for four years; every ``today`` over two years."""
    first = date(2023, 1, 1)
    purchases = [
        (datetime.combine(first + timedelta(days=n), datetime.min.time(), UTC).replace(hour=12), n)
        for n in range(4 * 366)
    ]
    sums = summed(purchases)
    for n in range(730, 4 * 366):
        today = first + timedelta(days=n)
        assert w.window_totals(sums, today) == scanned(purchases, today), today


@pytest.mark.parametrize("today", [date(2026, 1, 15), date(2026, 7, 1), date(2028, 2, 29)])
def test_at_most_about_ninety_sums_are_read(today):
    chosen = w.selection(today)
    days = sum((high - low).days for low, high in chosen.day_ranges)
    assert days <= 62
    lower, _ = chosen.month_ranges[0]
    months = (today.year - lower.year) * 12 + today.month - lower.month + 1
    assert months <= 26
