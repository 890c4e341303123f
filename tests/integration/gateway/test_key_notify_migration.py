"""Gateway migration 0006: on PostgreSQL, triggers on api_keys, staff and settings notify
the key caches (key_cache.py); its downgrade drops them; on SQLite it does nothing."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from gateway_service.bootstrap import SPEC
from revisit_common.db import Database
from tests.support import migration_steps as steps
from tests.support.migration_steps import database_fixture

database = database_fixture("gateway")


def migrate(db: Database, revision: str, step=command.upgrade) -> None:
    steps.migrate(db, SPEC.migrations, revision, step)


def triggers(db: Database) -> set[str]:
    """The tables with a trigger of 0006 (on SQLite: with any trigger)."""
    if db.is_postgres:
        query = (
            "SELECT event_object_table FROM information_schema.triggers "
            "WHERE trigger_schema = :s AND trigger_name LIKE '%keys_changed'"
        )
    else:
        query = "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND :s IS NULL"
    with db.engine.connect() as conn:
        return set(conn.execute(sa.text(query), {"s": db.schema}).scalars())


def test_the_triggers_come_and_go(database):
    expected = {"api_keys", "staff", "settings"} if database.is_postgres else set()
    migrate(database, "0005")
    assert triggers(database) == set()
    migrate(database, "0006")
    assert triggers(database) == expected
    migrate(database, "0005", step=command.downgrade)
    assert triggers(database) == set()
    migrate(database, "0006")
    assert triggers(database) == expected
