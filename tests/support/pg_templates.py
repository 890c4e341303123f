"""Service schemas of tests on PostgreSQL start as replays of one migration.

Migrating a service's schema from nothing takes 50 to 130 ms of this process's CPU (alembic
and SQLAlchemy building each statement), and a suite run makes hundreds of systems on
PostgreSQL. Each process migrates each service once, into a schema of its own (through the
same ``migrations.upgrade`` as every start), recording every statement that changes the
database as the driver received it (SQL text and parameters); that schema is dropped at
once. A new system's schema is then made by replaying those statements in one transaction
with its ``search_path``: the same tables, indexes, rows and ``alembic_version``, and the
runtime's own upgrade finds it at the newest revision. A schema already there (a test
preparing an older revision) and SQLite are left alone (SQLite: ``sqlite_templates``).

Reads (``SELECT``, ``SHOW``: alembic's and the dialect's look-ups, the advisory lock) are
not replayed; a recording that names the template's own schema is not used (the service
then migrates as usual).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable

import psycopg
import sqlalchemy as sa
from psycopg import sql

from revisit_common import migrations
from revisit_common.config import Settings
from revisit_common.db import Database

from .servers import drop_schemas

_READS = ("SELECT", "SHOW")
_scripts: dict[str, list[tuple[str, object, bool]] | None] = {}
_lock = threading.Lock()


def seed(settings: Settings, specs: Iterable) -> None:
    """Create each of ``specs``' PostgreSQL schemas of ``settings`` that does not exist yet
    from its service's recorded migration."""
    if not settings.database_url:
        return
    wanted = {}
    for spec in specs:
        url, schema = settings.database_for(spec.name)
        if schema and url.startswith("postgresql"):
            wanted[schema] = (url, spec)
    if not wanted:
        return
    url = next(iter(wanted.values()))[0]
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        existing = {
            row[0]
            for row in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [list(wanted)]
            )
        }
        for schema, (schema_url, spec) in wanted.items():
            if schema in existing or schema_url != url:
                continue
            script = _script(url, spec)
            if script is not None:
                _replay(conn, schema, script)


def _plain(url: str) -> str:
    """``url`` as libpq spells it (no SQLAlchemy driver name)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def _replay(conn: psycopg.Connection, schema: str, script) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute("SELECT set_config('search_path', %s, true)", [schema])
        with conn.cursor() as cursor:
            for statement, parameters, many in script:
                if many:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters)


def _script(url: str, spec) -> list[tuple[str, object, bool]] | None:
    with _lock:
        if spec.name not in _scripts:
            _scripts[spec.name] = _record(url, spec)
        return _scripts[spec.name]


def _record(url: str, spec) -> list[tuple[str, object, bool]] | None:
    """The writes of ``spec``'s migrations from nothing, as the driver received them; None
    when they name the schema they were recorded in."""
    prefix = f"template{secrets.token_hex(4)}_"
    schema = f"{prefix}{spec.name}"
    db = Database(url, schema=schema, pool_size=1, max_overflow=0)
    script: list[tuple[str, object, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        words = statement.lstrip().split(None, 1)
        if words and words[0].upper() not in _READS:
            script.append((statement, parameters, executemany))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        migrations.upgrade(db, spec.migrations)
    finally:
        db.dispose()
        drop_schemas(_plain(url), prefix)
    kept = [step for step in script if not step[0].lstrip().upper().startswith("CREATE SCHEMA")]
    if any(schema in statement or schema in repr(parameters) for statement, parameters, _ in kept):
        return None
    return kept
