"""The policies' figures of ``GET /kpis`` counted by the database over kpi_facts' derived
columns equal the rule over the facts (policy_kpis.policy_counts), on SQLite: random
streams, batches or one event at a time, a time zone change, a rebuild, and revision 0008
on a store of 0007 (tests/integration/kpi/test_policy_figures_postgres.py: on PostgreSQL)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from kpi_service import policy_kpis
from revisit_common.db import Database
from tests.support.kpi import policy_figures, policy_migration
from tests.support.kpi.stores import stores


@pytest.fixture
def database(tmp_path):
    with stores(lambda name: Database(f"sqlite:///{tmp_path}/{name}.sqlite3")) as make:
        yield make


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_databases_counts_are_the_rules(database, seed):
    db = database("fed")
    policy_figures.feed(db, policy_figures.stream(random.Random(seed)), batch=1 + seed * 20)
    policy_figures.check(db, random.Random(seed))


def test_after_a_time_zone_change_and_a_rebuild(database):
    policy_figures.check_time_zone_change_and_rebuild(database("moved"))


def test_the_migration_derives_the_stored_facts(database):
    fed = database("fed")
    policy_figures.feed(fed, policy_figures.stream(random.Random(6)))
    policy_migration.check_upgrade(database("old", migrate=False), fed)


@pytest.mark.parametrize(
    ("cents", "places", "written"),
    [
        (None, None, "0"),
        (0, 0, "0"),
        (0, 2, "0.00"),
        (150, 1, "1.5"),
        (150, 2, "1.50"),
        (1200, 0, "12"),
        (99999999999999999, 2, "999999999999999.99"),
    ],
)
def test_plain_sum(cents, places, written):
    assert str(policy_kpis.plain_sum(cents, places)) == written


def test_counts_from_the_stores_numbers():
    counts = policy_kpis.counts_from(
        {None: (5, 3), "repair": (2, 1), "new_customer": (1, 0)},
        (4, 2),
        {
            "period": {"units": 7, "cents": 1250, "places": 2, "others": ["1e2", "abc", None]},
            "previous": {"units": 0, "cents": None, "places": None, "others": []},
        },
    )
    assert counts == {
        **dict.fromkeys(policy_kpis.INT_COUNTS, 0),
        "customers_due": 5,
        "customers_visited": 3,
        "repair_customers_due": 2,
        "repair_customers_visited": 1,
        "new_customers_due": 1,
        "new_customers_visited": 0,
        "complaints_resolve_due": 4,
        "complaints_resolved_within_limit": 2,
        "units_sold": 7,
        "sales_amount": Decimal("112.50"),
        "previous_sales_amount": Decimal(0),
    }
