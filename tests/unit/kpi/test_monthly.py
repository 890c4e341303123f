"""kpi_monthly, the monthly rollup of kpi_daily: kept in step in every write path (one event,
a batch, a time zone change, a rebuild, the migration that creates it), and the period sums
GET /kpis makes from whole months plus the days of the edge months equal the sums of the
days alone. Here on SQLite; tests/integration/kpi runs the same checks on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_service import domain
from kpi_service.bootstrap import MIGRATIONS
from revisit_common import migrations
from revisit_common.db import Database
from tests.support.kpi.periods import (
    TENANTS,
    check_backfill,
    check_period,
    check_special_periods,
    check_time_zone_change,
    feed,
    monthly_rows,
    rolled_up,
    tenant_periods,
)


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Database:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('monthly')}/kpi.sqlite3")
    migrations.upgrade(db, MIGRATIONS)
    feed(db)
    yield db
    db.dispose()


# --------------------------------------------------------------------------- pure


@given(
    start=st.dates(date(1990, 1, 1), date(2090, 1, 1)),
    length=st.one_of(st.integers(0, 40), st.integers(0, 3 * 366)),
)
def test_split_period_covers_the_period_with_whole_months_and_edge_days(start, length):
    end = start + timedelta(days=length)
    months, days = domain.split_period(start, end)
    covered: list[date] = []
    if months:
        first, last = months
        assert first.day == 1 and last.day == 1 and first <= last
        month = first
        while month <= last:
            end_of = domain.month_end(month)
            covered += [month + timedelta(days=n) for n in range((end_of - month).days + 1)]
            month = end_of + timedelta(days=1)
    else:  # no whole month in it: two partial months at most, summed by day
        assert days == [(start, end)] and length < 61
    assert len(days) <= 2
    for lo, hi in days:
        assert lo <= hi
        if months:  # the edges: part of one month each
            assert (lo.year, lo.month) == (hi.year, hi.month)
            assert lo.day != 1 or hi != domain.month_end(hi)
        covered += [lo + timedelta(days=n) for n in range((hi - lo).days + 1)]
    assert sorted(covered) == [start + timedelta(days=n) for n in range(length + 1)]


@pytest.mark.parametrize(
    ("start", "end", "months", "days"),
    [
        (date(9999, 12, 31), date(9999, 12, 31), None, [(date(9999, 12, 31), date(9999, 12, 31))]),
        (date(9999, 11, 2), date(9999, 12, 31), ((9999, 12, 1), (9999, 12, 1)), 1),
        (date(1, 1, 1), date(1, 1, 5), None, [(date(1, 1, 1), date(1, 1, 5))]),
        (date(1, 1, 1), date(1, 2, 3), ((1, 1, 1), (1, 1, 1)), 1),
        (date(1, 1, 2), date(1, 1, 30), None, [(date(1, 1, 2), date(1, 1, 30))]),
    ],
)
def test_split_period_at_the_ends_of_the_calendar(start, end, months, days):
    """No month before the first or after the last one the calendar has (no overflow)."""
    got_months, got_days = domain.split_period(start, end)
    if months is None:
        assert got_months is None and got_days == days
    else:
        assert got_months == tuple(date(*m) for m in months)
        assert len(got_days) == days


# --------------------------------------------------------------------------- the store


def test_monthly_is_the_rollup_of_daily(fed):
    assert monthly_rows(fed)
    assert monthly_rows(fed) == rolled_up(fed)


@pytest.mark.parametrize("tenant", TENANTS)
def test_special_periods_sum_as_the_days_do(fed, tenant):
    check_special_periods(fed, tenant)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(period=tenant_periods())
def test_random_periods_sum_as_the_days_do(fed, period):
    check_period(fed, *period)


def test_time_zone_change_one_event_at_a_time_and_rebuild_keep_months_in_step(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/kpi.sqlite3")
    try:
        migrations.upgrade(db, MIGRATIONS)
        check_time_zone_change(db)
    finally:
        db.dispose()


def test_the_migration_backfills_months_from_the_days(fed, tmp_path):
    db = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    try:
        check_backfill(db, fed)
    finally:
        db.dispose()
