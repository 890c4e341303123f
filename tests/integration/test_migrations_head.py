"""``migrations.upgrade`` of a database already at the newest revision writes nothing (it
compares the stored revision with the newest, read once per folder); one at an older
revision is still brought to the newest; on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event

from gateway_service.bootstrap import SPEC
from revisit_common import migrations
from revisit_common.db import Database
from tests.support.migration_steps import database_fixture, migrate

OLDER = "0004"


database = database_fixture("heads")


def revision(db: Database) -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def newest() -> str:
    config = Config()
    config.set_main_option("script_location", str(SPEC.migrations))
    return ScriptDirectory.from_config(config).get_current_head()


def statements_of(db: Database, run) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def writes(statements: list[str]) -> list[str]:
    reads = ("SELECT", "PRAGMA", "SHOW")
    return [s for s in statements if not s.lstrip().upper().startswith(reads)]


def test_an_upgrade_at_the_newest_revision_writes_nothing(database):
    migrations.upgrade(database, SPEC.migrations)
    assert revision(database) == newest()

    again = statements_of(database, lambda: migrations.upgrade(database, SPEC.migrations))

    expected = [f'CREATE SCHEMA IF NOT EXISTS "{database.schema}"'] if database.schema else []
    assert writes(again) == expected
    assert revision(database) == newest()


def test_an_older_database_is_brought_to_the_newest(database):
    migrate(database, SPEC.migrations, OLDER)
    assert revision(database) == OLDER

    migrations.upgrade(database, SPEC.migrations)

    assert revision(database) == newest() != OLDER
    with database.engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
    assert "api_keys" in names
