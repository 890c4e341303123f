"""The purchases' sums per day and month (``kpi_purchase_amounts``, written in the statement
that writes the facts, from their derived columns) are the purchase facts' units, plain
amounts and decimals summed: through batches, purchases changed after they were stored
(their old row taken off), a time zone change moving their days, and a rebuild; and
``GET /kpis``' sales read through them equal the rule (policy_kpis.policy_counts) for whole
months, years and any other period. SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from kpi_service.models import PLAIN_PLACES, facts, purchase_amounts
from kpi_service.rebuild import rebuild
from revisit_common.db import Database
from tests.support.kpi import policy_figures
from tests.support.kpi.policy_figures import purchase
from tests.support.kpi.scenario import event
from tests.support.kpi.stores import BACKENDS, one_store

from .test_customer_spans import check_figures, feed

TENANT = policy_figures.TENANT
SUMS = ("units", "cents", *(f"plain_{n}" for n in PLAIN_PLACES))


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with one_store(request, tmp_path, "amounts") as db:
        yield db


def amounts_of_facts(db: Database) -> dict[tuple, dict[str, int]]:
    """The purchase facts' derived columns summed per tenant and day, and month (rows not
    all zero)."""
    sums: dict[tuple, Counter] = {}
    with db.read() as session:
        rows = session.execute(
            sa.select(
                facts.c.tenant_id, facts.c.day, facts.c.units, facts.c.cents, facts.c.places
            ).where(facts.c.kind == "purchase", facts.c.day.is_not(None))
        ).all()
    for tenant, day, units, cents, places in rows:
        for key in ((tenant, "day", day), (tenant, "month", day.replace(day=1))):
            into = sums.setdefault(key, Counter())
            into["units"] += units or 0
            if cents is not None:
                into["cents"] += cents
                into[f"plain_{places}"] += 1
    out = {key: {name: counts[name] for name in SUMS} for key, counts in sums.items()}
    return {key: counts for key, counts in out.items() if any(counts.values())}


def amounts_stored(db: Database) -> dict[tuple, dict[str, int]]:
    """The rows of kpi_purchase_amounts not all zero."""
    table = purchase_amounts
    with db.read() as session:
        rows = session.execute(
            sa.select(
                table.c.tenant_id, table.c.span, table.c.first_day, *(table.c[n] for n in SUMS)
            )
        ).all()
    out = {tuple(r[:3]): dict(zip(SUMS, (int(v) for v in r[3:]), strict=True)) for r in rows}
    return {key: counts for key, counts in out.items() if any(counts.values())}


@pytest.mark.parametrize("seed", [21, 22])
def test_the_sums_are_the_purchases_derived_columns(database, seed):
    feed(database, policy_figures.stream(random.Random(seed)), batch=5 + seed)
    assert amounts_stored(database) == amounts_of_facts(database) != {}
    check_figures(database, random.Random(seed))


def test_a_purchase_changed_moves_its_sums_off_its_old_day(database):
    feed(database, policy_figures.stream(random.Random(23)), batch=40)
    # stored, then restated by a newer event: another day, amount and quantity
    feed(database, [purchase("p-moved", "10.5", "2026-01-31T10:00:00+00:00")])
    first, second = date(2026, 1, 31), date(2026, 2, 1)  # days in Asia/Shanghai
    stored = amounts_stored(database)
    assert stored[TENANT, "day", first]["cents"] >= 1050
    feed(database, [purchase("p-moved", "abc", "2026-02-01T10:00:00+00:00", quantity=None)])
    feed(database, [purchase("p-plain", "7.25", "2026-02-01T11:00:00+00:00")], batch=1)
    after = amounts_stored(database)
    assert after == amounts_of_facts(database)
    left = after.get((TENANT, "day", first), {}).get("cents", 0)
    assert left == stored[TENANT, "day", first]["cents"] - 1050
    assert after[TENANT, "day", second]["plain_2"] >= 1
    check_figures(database, random.Random(23))


def test_a_time_zone_change_and_a_rebuild(database):
    feed(database, policy_figures.stream(random.Random(24), timezone="UTC"), batch=30)
    changed = {
        "tenant_id": TENANT,
        "timezone": "Pacific/Kiritimati",  # UTC+14: most purchases move a day on
        "settings": {},
        "settings_version": 2,
    }
    before = amounts_stored(database)
    feed(database, [event("TenantSettingsChanged", changed, TENANT)])
    moved = amounts_stored(database)
    assert moved == amounts_of_facts(database)
    assert moved != before
    check_figures(database, random.Random(24))
    rebuild(database)
    assert amounts_stored(database) == moved
    check_figures(database, random.Random(25))
