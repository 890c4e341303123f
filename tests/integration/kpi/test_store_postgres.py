"""The KPI store on a real PostgreSQL (bulk.py's statements): a consumer's batches give the
same facts and aggregates as one event at a time, kpi_monthly stays the rollup of kpi_daily
(batches, a time zone change, a rebuild, the migration's backfill), and period sums from
months plus edge days equal the sums of the days alone."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from kpi_service import projection
from kpi_service.domain import COUNTS
from kpi_service.models import AGGREGATES, facts
from revisit_common.db import Database
from tests.support.kpi import periods
from tests.support.kpi.stores import on_postgres, stores
from tests.support.servers import drop_schemas

pytestmark = pytest.mark.services


@pytest.fixture
def databases(postgres_url, postgres_schemas):
    """Fresh KPI stores on PostgreSQL, each in a schema of its own."""
    with stores(on_postgres(postgres_url, postgres_schemas)) as make:
        yield make


@pytest.fixture(scope="module")
def stream(postgres_url) -> Iterator[tuple[Database, list]]:
    """A store fed with the scenario, once for the module: its tests only read it."""
    prefix = f"m{secrets.token_hex(4)}_"
    try:
        with stores(on_postgres(postgres_url, prefix)) as make:
            db = make("fed")
            yield db, periods.feed(db)
    finally:
        drop_schemas(postgres_url, prefix)


@pytest.fixture
def fed(stream) -> Database:
    return stream[0]


def snapshot(db: Database) -> dict:
    with db.read() as session:
        out = {
            t.name: sorted(tuple(r) for r in session.execute(sa.select(t)).all())
            for t in AGGREGATES
        }
        out["facts"] = sorted(
            (r.tenant_id, r.kind, r.entity_id, json.dumps(r.state), json.dumps(r.applied))
            for r in session.execute(sa.select(facts)).all()
        )
    return out


def test_batches_give_the_same_store_as_one_event_at_a_time(databases, stream):
    fed, events = stream
    one = databases("one")
    with one.transaction() as session:
        for envelope in events:
            projection.record(session, [envelope])
    assert snapshot(fed) == snapshot(one)
    assert periods.monthly_rows(fed) == periods.rolled_up(fed)
    for table in AGGREGATES:  # buckets that came back to zero were deleted
        zero = sa.and_(*(table.c[n] == 0 for n in COUNTS))
        with fed.read() as session:
            assert session.execute(sa.select(sa.func.count()).where(zero)).scalar() == 0


@pytest.mark.parametrize("tenant", periods.TENANTS)
def test_special_periods_sum_as_the_days_do(fed, tenant):
    periods.check_special_periods(fed, tenant)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(period=periods.tenant_periods())
def test_random_periods_sum_as_the_days_do(fed, period):
    periods.check_period(fed, *period)


def test_time_zone_change_and_rebuild_keep_months_in_step(databases):
    periods.check_time_zone_change(databases("moved"))


def test_the_migration_backfills_months_from_the_days(databases, fed):
    periods.check_backfill(databases("old", migrate=False), fed)
