"""Helpers for the kpi_monthly checks (SQLite in tests/unit/kpi/test_monthly.py, PostgreSQL in
tests/integration/kpi): a store fed with scenarios, and the period sums of the days alone,
as GET /kpis made them before the monthly rollup, to compare with."""

from __future__ import annotations

import calendar
import dataclasses
import random
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import strategies as st

from kpi_service import projection, store
from kpi_service.bootstrap import MIGRATIONS
from kpi_service.domain import COUNTS, GROUPS, METRIC_COUNTS
from kpi_service.models import daily, monthly
from kpi_service.rebuild import rebuild
from revisit_common import migrations
from revisit_common.db import Database

from .recompute import START, generate

TENANTS = {"tenant-ny": "America/New_York", "tenant-sh": "Asia/Shanghai"}
FIRST, LAST = START - timedelta(days=40), START + timedelta(days=760)  # past both ends
BY = (None, *GROUPS)


def scenario(seed: int = 11, visits: int = 150) -> list:
    """Every tenant's events (its settings event first, the rest shuffled)."""
    rng = random.Random(seed)
    stream = []
    for tenant, zone in TENANTS.items():
        events = generate(rng, visits=visits, timezone=zone).events(tenant)
        head, rest = events[:1], events[1:]
        rng.shuffle(rest)
        stream += head + rest
    return stream


def feed(db: Database, seed: int = 11, visits: int = 150) -> list:
    """The scenario applied in consumer-sized batches; returns its events."""
    stream = scenario(seed, visits)
    for start in range(0, len(stream), 50):
        with db.transaction() as session:
            projection.record(session, stream[start : start + 50])
    return stream


def daily_counts(session, tenant: str, start: date, end: date, by: str | None) -> dict:
    """What period_counts gave before kpi_monthly: the days summed."""
    group = [daily.c[by]] if by else []
    sums = [sa.func.coalesce(sa.func.sum(daily.c[n]), 0).label(n) for n in COUNTS]
    query = sa.select(*group, *sums).where(
        daily.c.tenant_id == tenant, daily.c.day >= start, daily.c.day <= end
    )
    if by:
        query = query.group_by(daily.c[by])
    return {
        (row[by] if by else None): {n: int(row[n]) for n in COUNTS}
        for row in session.execute(query).mappings()
    }


def daily_customers(session, tenant: str, end: date, by_region: bool) -> dict:
    """Per region, the regions with customers only (store.customers_up_to)."""
    return {
        key: counts["customers"]
        for key, counts in daily_counts(
            session, tenant, date.min, end, "region" if by_region else None
        ).items()
        if counts["customers"] or not by_region
    }


def check_period(db: Database, tenant: str, start: date, end: date) -> None:
    with db.read() as session:
        for by in BY:
            got = store.period_counts(session, tenant, start, end, by)
            assert got == daily_counts(session, tenant, start, end, by), (start, end, by)
        for by_region in (False, True):
            got = store.customers_up_to(session, tenant, end, by_region)
            assert got == daily_customers(session, tenant, end, by_region), (end, by_region)


def rolled_up(db: Database) -> dict:
    """kpi_daily summed per month: what kpi_monthly must hold, row for row."""
    out: dict[tuple, dict] = {}
    with db.read() as session:
        for row in session.execute(sa.select(daily)).mappings():
            key = (row["tenant_id"], row["day"].replace(day=1), *(row[g] for g in GROUPS))
            into = out.setdefault(key, dict.fromkeys(COUNTS, 0))
            for name in COUNTS:
                into[name] += row[name]
    return {key: counts for key, counts in out.items() if any(counts.values())}


def monthly_rows(db: Database) -> dict:
    with db.read() as session:
        rows = session.execute(sa.select(monthly)).mappings()
        return {
            (r["tenant_id"], r["month"], *(r[g] for g in GROUPS)): {n: r[n] for n in COUNTS}
            for r in rows
        }


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _day(year: int, month: int, day: int) -> tuple[date, date]:
    return date(year, month, day), date(year, month, day)


def special_periods() -> list[tuple[date, date]]:
    """Inside one month, single days, month and year edges, whole months and years."""
    return [
        _month(2025, 3),
        (date(2025, 3, 2), date(2025, 3, 30)),
        _day(2025, 3, 15),
        (date(2025, 2, 28), date(2025, 3, 1)),
        (date(2025, 12, 31), date(2026, 1, 1)),
        (date(2025, 12, 15), date(2026, 1, 15)),
        (date(2025, 11, 30), date(2026, 2, 1)),
        _year(2025),
        (date(2024, 12, 31), date(2026, 12, 31)),
        _day(2025, 6, 1),
        _day(2025, 6, 30),
        _month(2026, 2),
        (FIRST, LAST),
    ]


def check_special_periods(db: Database, tenant: str) -> None:
    for start, end in special_periods():
        check_period(db, tenant, start, end)


def tenant_periods() -> st.SearchStrategy[tuple[str, date, date]]:
    """(tenant, start, end) for hypothesis: a short or a long period from a day in FIRST..LAST."""
    return st.builds(
        lambda tenant, start, length: (tenant, start, start + timedelta(days=length)),
        st.sampled_from(sorted(TENANTS)),
        st.dates(FIRST, LAST),
        st.one_of(st.integers(0, 35), st.integers(0, 800)),
    )


def random_periods(rng: random.Random, count: int) -> list[tuple[date, date]]:
    span = (LAST - FIRST).days
    out = []
    for _ in range(count):
        start = FIRST + timedelta(days=rng.randrange(span))
        length = rng.choice((0, 1, rng.randrange(31), rng.randrange(400)))
        out.append((start, start + timedelta(days=length)))
    return out


def check_time_zone_change(db: Database, tenant: str = "tenant-ny") -> None:
    """A store fed, then the tenant's zone changed (every fact of it may change day) and
    more events applied one at a time: months still the rollup of the days, periods summed
    alike, and a rebuild gives the same months."""
    feed(db, seed=3, visits=60)
    registered = generate(random.Random(3), visits=1).events(tenant)[0]
    moved = dataclasses.replace(
        registered,
        id="tz-moved",
        type="TenantSettingsChanged",
        data={**registered.data, "timezone": "Pacific/Kiritimati", "settings_version": 2},
    )
    more = generate(random.Random(4), visits=20, timezone="Pacific/Kiritimati").events(tenant)
    with db.transaction() as session:
        projection.record(session, [moved])
        for envelope in more[1:]:  # one at a time, as the unbatched consumer does
            projection.record(session, [envelope])
    assert monthly_rows(db) == rolled_up(db)
    for start, end in special_periods() + random_periods(random.Random(8), 40):
        check_period(db, tenant, start, end)
    before = monthly_rows(db)
    rebuild(db, batch=100)
    assert monthly_rows(db) == before == rolled_up(db)


def check_backfill(db: Database, fed: Database) -> None:
    """A store at revision 0001 (no kpi_monthly) holding ``fed``'s days, migrated: its months
    are the rollup of those days."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        if db.schema:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")  # the store as it was before kpi_monthly
    with fed.read() as session:
        rows = [dict(r) for r in session.execute(sa.select(daily)).mappings()]
    with db.engine.begin() as conn:  # (0001 had none of the LATER counts)
        columns = [sa.column(c.name) for c in daily.c if c.name not in LATER]
        conn.execute(sa.insert(sa.table(daily.name, *columns)), rows)
    migrations.upgrade(db, MIGRATIONS)
    old = without_cancelled
    assert old(monthly_rows(db)) == old(rolled_up(db)) == old(monthly_rows(fed))


LATER = ("visits_cancelled", *METRIC_COUNTS)  # the counts of revisions 0003 to 0005


def without_cancelled(rows: dict) -> dict:
    """Month rows as revision 0002 knew them: none of the LATER counts, none left all zero."""
    out = {key: {n: v for n, v in counts.items() if n not in LATER} for key, counts in rows.items()}
    return {key: counts for key, counts in out.items() if any(counts.values())}
