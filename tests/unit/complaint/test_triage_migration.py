"""Complaint migration 0006: complaints gain the given severity, the reason of the derived
one and the coordinator; the customer copy gains size tier and grade. Rows of before keep
their severity as given, and the downgrade drops the columns."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.unit.complaint import test_webhook_migration as earlier
from tests.unit.complaint.test_supervision_migration import insert_old_complaint

database = earlier.database
migrate, migrate_down = earlier.migrate, earlier.migrate_down

NEW = {"severity_given", "severity_reason", "coordinator"}
NEW_COPY = {"size_tier", "grade"}


def columns(db, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table, schema=db.schema)}


def test_complaints_of_before_keep_their_severity_as_given(database):
    migrate(database, "0005")
    now = datetime.now(UTC)
    insert_old_complaint(database, now)
    copy = {"tenant_id": "t", "customer_id": "cust", "region": "east", "updated_at": now}
    copies = sa.table("complaint_customers", *map(sa.column, copy), schema=database.schema)
    with database.engine.begin() as conn:
        conn.execute(sa.insert(copies).values(copy))
    migrate(database, "0006")
    assert columns(database, "complaints") >= NEW
    assert columns(database, "complaint_customers") >= NEW_COPY
    with database.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT severity, severity_given, severity_reason, coordinator FROM complaints")
        ).one()
        tier = conn.execute(sa.text("SELECT size_tier, grade FROM complaint_customers")).one()
    assert tuple(row) == ("major", "major", "given", None)
    assert tuple(tier) == (None, None)
    migrate_down(database, "0005")
    assert NEW & columns(database, "complaints") == set()
    assert NEW_COPY & columns(database, "complaint_customers") == set()
