"""A service schema made from the recorded migration (tests.support.pg_templates) is the
schema the migrations make: the same columns, constraints, indexes, sequences, rows and
revision; the service's own upgrade then changes nothing; a schema already there is left
alone."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from revisit_common import migrations
from revisit_common.db import Database
from revisit_runner.services import ALL
from tests.support import pg_templates
from tests.support.settings import make_settings

pytestmark = pytest.mark.services

CATALOG = {
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, is_nullable,
               replace(column_default, %(s)s || '.', ''), character_maximum_length,
               numeric_precision
        FROM information_schema.columns WHERE table_schema = %(s)s ORDER BY 1, 2""",
    "constraints": """
        SELECT t.relname, c.conname, c.contype,
               replace(pg_get_constraintdef(c.oid), %(s)s || '.', '')
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %(s)s ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, %(s)s || '.', '')
        FROM pg_indexes WHERE schemaname = %(s)s ORDER BY 1, 2""",
    "sequences": """
        SELECT sequence_name, data_type, start_value, increment
        FROM information_schema.sequences WHERE sequence_schema = %(s)s ORDER BY 1""",
    "relations": """
        SELECT c.relname, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s ORDER BY 1""",
}


def _describe(conn: psycopg.Connection, schema: str) -> dict:
    found = {name: conn.execute(query, {"s": schema}).fetchall() for name, query in CATALOG.items()}
    tables = [name for name, kind in found["relations"] if kind in ("r", "p")]
    found["rows"] = {
        table: conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        for table in tables
    }
    found["revision"] = conn.execute(
        f'SELECT version_num FROM "{schema}".alembic_version'
    ).fetchall()
    return found


def _writes_of_upgrade(url: str, schema: str, spec) -> list[str]:
    """The statements other than reads the service's own upgrade runs on ``schema``."""
    db = Database(url, schema=schema, pool_size=1, max_overflow=0)
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() not in ("SELECT", "SHOW"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        migrations.upgrade(db, spec.migrations)
    finally:
        db.dispose()
    return [s for s in seen if not s.lstrip().upper().startswith("CREATE SCHEMA IF NOT EXISTS")]


@pytest.mark.parametrize("service", sorted(ALL))
def test_a_replayed_schema_is_the_migrated_schema(postgres_url, postgres_schemas, service):
    spec = ALL[service]
    migrated = f"{postgres_schemas}migrated_{service}"
    db = Database(postgres_url, schema=migrated, pool_size=1, max_overflow=0)
    try:
        migrations.upgrade(db, spec.migrations)
    finally:
        db.dispose()
    settings = make_settings(database_url=postgres_url, db_schema_prefix=postgres_schemas)
    pg_templates.seed(settings, [spec])
    replayed = settings.database_for(service)[1]

    with psycopg.connect(postgres_url) as conn:
        assert _describe(conn, replayed) == _describe(conn, migrated)
        assert _describe(conn, replayed)["revision"]
    assert _writes_of_upgrade(postgres_url, replayed, spec) == []


def test_a_schema_already_there_is_left_alone(postgres_url, postgres_schemas):
    spec = ALL["survey"]
    settings = make_settings(database_url=postgres_url, db_schema_prefix=postgres_schemas)
    schema = settings.database_for("survey")[1]
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".marker (id int)')
        conn.commit()
    pg_templates.seed(settings, [spec])
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    assert tables == [("marker",)]


def test_sqlite_settings_are_left_alone(tmp_path):
    pg_templates.seed(make_settings(data_dir=tmp_path), [ALL["survey"]])
    assert list(tmp_path.iterdir()) == []
