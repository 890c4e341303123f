"""Complaint migration 0005: complaints gain assisting departments and the report upward;
rows of before it have none and were not reported, and the downgrade drops the columns."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.unit.complaint import test_webhook_migration as earlier

# SQLite, and PostgreSQL when the services run; migrating up and down as the earlier test does
database = earlier.database
migrate, migrate_down = earlier.migrate, earlier.migrate_down

NEW = {"assisting_departments", "reported_upward_reason", "reported_upward_at"}


def columns(db) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns("complaints", schema=db.schema)}


def indexes(db) -> set[str]:
    return {i["name"] for i in sa.inspect(db.engine).get_indexes("complaints", schema=db.schema)}


def insert_old_complaint(db, now: datetime | None = None) -> None:
    """A major complaint as every revision since 0001 can store it."""
    now = now or datetime.now(UTC)
    old = {
        "id": "c1", "tenant_id": "t", "number": "CMP-202611-00001", "status": "received",
        "severity": "major", "channel": "phone", "category": "x", "department": "product",
        "customer_id": "cust", "region": "east", "description": "d", "received_at": now,
        "resolve_by": now, "created_by": "me", "created_at": now, "updated_at": now,
    }  # fmt: skip
    table = sa.table("complaints", *map(sa.column, old), schema=db.schema)
    with db.engine.begin() as conn:
        conn.execute(sa.insert(table).values(old))


def test_complaints_of_before_are_not_reported(database):
    migrate(database, "0004")
    insert_old_complaint(database)
    migrate(database, "0005")
    assert columns(database) >= NEW
    assert "ix_complaints_reported" in indexes(database)
    with database.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT assisting_departments, reported_upward_reason, reported_upward_at"
                " FROM complaints"
            )
        ).one()
    assert tuple(row)[1:] == (None, None)
    assert row[0] in ("[]", [])
    migrate_down(database, "0004")
    assert NEW & columns(database) == set()
    assert "ix_complaints_reported" not in indexes(database)
