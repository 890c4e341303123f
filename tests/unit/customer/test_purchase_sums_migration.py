"""Customer migration 0005: the running purchase sums and purchase counts are filled from the
purchases recorded before it (SQLite and PostgreSQL), so the windows read from them give what
the purchases give; the downgrade drops them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from customer_service import purchase_sums
from customer_service.bootstrap import SPEC
from revisit_common.db import Database, UtcDateTime
from tests.support import migration_steps as steps
from tests.support.migration_steps import database_fixture
from tests.unit.customer.test_purchase_sums import scanned

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


database = database_fixture("customer")


def migrate(db: Database, revision: str, step=command.upgrade) -> None:
    steps.migrate(db, SPEC.migrations, revision, step)


def table(db: Database, table_name: str, **columns) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(k, t) for k, t in columns.items()), schema=db.schema)


def insert_old_customer(db: Database, cid: str) -> None:
    row = {
        "id": cid, "tenant_id": "t", "name": "Acme", "type": "dealer", "region": "east",
        "annual_purchase_amount": Decimal(1000), "cooperation_start": date(2019, 1, 1),
        "complaint_dates": [], "satisfaction_levels": [], "size_tier": "small",
        "cooperation_tier": "long", "score": 50.0, "grade": "C", "risk_level": "low",
        "risk_reasons": [], "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    types = {k: sa.JSON if isinstance(v, list) else None for k, v in row.items()}
    types.update(created_at=UtcDateTime, updated_at=UtcDateTime, cooperation_start=sa.Date)
    types.update(annual_purchase_amount=sa.Numeric(18, 2))
    customers = table(db, "customers", **types)
    with db.engine.begin() as conn:
        conn.execute(sa.insert(customers).values(row))


def insert_old_purchases(db: Database, cid: str, count: int, rng: random.Random) -> None:
    purchases = table(
        db, "purchases", id=None, tenant_id=None, customer_id=None, amount=sa.Numeric(18, 2),
        product=None, quantity=None, purchased_at=UtcDateTime, created_at=UtcDateTime,
    )  # fmt: skip
    rows = [
        {
            "id": f"{cid}-{n}",
            "tenant_id": "t",
            "customer_id": cid,
            "amount": Decimal(rng.randrange(1, 10**8)) / 100,
            "product": "Pump",
            "quantity": 1,
            "purchased_at": NOW - timedelta(minutes=rng.randrange(0, 900 * 24 * 60)),
            "created_at": NOW,
        }
        for n in range(count)
    ]
    with db.engine.begin() as conn:
        conn.execute(sa.insert(purchases), rows)


def test_sums_and_counts_are_filled_from_the_purchases_of_before(database):
    migrate(database, "0004")
    rng = random.Random(5)
    insert_old_customer(database, "c1")
    insert_old_customer(database, "c2")
    insert_old_customer(database, "none")
    insert_old_purchases(database, "c1", 400, rng)
    insert_old_purchases(database, "c2", 3, rng)
    migrate(database, "0005")
    customers = table(database, "customers", id=None, purchase_count=None)
    with Session(database.engine) as session:
        counts = dict(session.execute(sa.select(customers.c.id, customers.c.purchase_count)).all())
        assert counts == {"c1": 400, "c2": 3, "none": 0}
        for cid in ("c1", "c2", "none"):
            for offset in range(0, 400, 13):
                today = date(2026, 6, 1) + timedelta(days=offset)
                assert purchase_sums.totals(session, cid, today) == scanned(session, cid, today)
    migrate(database, "0004", step=command.downgrade)
    names = sa.inspect(database.engine).get_table_names(schema=database.schema)
    assert "purchase_sums" not in names
    columns = sa.inspect(database.engine).get_columns("customers", schema=database.schema)
    assert "purchase_count" not in {c["name"] for c in columns}
