"""Complaint migration 0007: the reason of the severity takes up to 32 characters
(``several_departments`` is 19); rows keep theirs, and the downgrade sets the longer ones
back to ``given``."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.unit.complaint import test_webhook_migration as earlier
from tests.unit.complaint.test_supervision_migration import insert_old_complaint

database = earlier.database
migrate, migrate_down = earlier.migrate, earlier.migrate_down


def reason(db) -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT severity_reason FROM complaints")).scalar_one()


def test_long_reasons_are_kept_and_cut_back_on_downgrade(database):
    migrate(database, "0005")
    insert_old_complaint(database, datetime.now(UTC))
    migrate(database, "0007")
    assert reason(database) == "given"
    with database.engine.begin() as conn:
        conn.execute(sa.text("UPDATE complaints SET severity_reason = 'several_departments'"))
    assert reason(database) == "several_departments"
    migrate_down(database, "0006")
    assert reason(database) == "given"
