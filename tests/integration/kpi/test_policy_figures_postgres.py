"""The policies' figures counted by PostgreSQL over kpi_facts' derived columns (stored
generated columns) equal the rule over the facts: random streams in batches (bulk.py's
statements), a time zone change and a rebuild, and revision 0008 on a store of 0007
(tests/unit/kpi/test_policy_figures.py: the same on SQLite)."""

from __future__ import annotations

import random

import pytest

from tests.support.kpi import policy_figures, policy_migration
from tests.support.kpi.stores import on_postgres, stores

pytestmark = pytest.mark.services


@pytest.fixture
def databases(postgres_url, postgres_schemas):
    """Fresh KPI stores on PostgreSQL, each in a schema of its own."""
    with stores(on_postgres(postgres_url, postgres_schemas)) as make:
        yield make


@pytest.mark.parametrize("seed", [1, 2])
def test_the_databases_counts_are_the_rules(databases, seed):
    db = databases(f"fed{seed}")
    policy_figures.feed(db, policy_figures.stream(random.Random(seed)), batch=1 + seed * 40)
    policy_figures.check(db, random.Random(seed))


def test_after_a_time_zone_change_and_a_rebuild(databases):
    policy_figures.check_time_zone_change_and_rebuild(databases("moved"))


def test_the_migration_derives_the_stored_facts(databases):
    fed = databases("fed")
    policy_figures.feed(fed, policy_figures.stream(random.Random(6)))
    policy_migration.check_upgrade(databases("old", migrate=False), fed)
