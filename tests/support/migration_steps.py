"""A service's migrations run step by step in tests: an empty database of either kind, and
its migrations run up (or down) to one revision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from revisit_common.db import Database


def empty_database(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Database:
    """An empty database for ``request.param`` ("sqlite": a file in ``tmp_path``;
    "postgresql": a new schema ending in ``name``, dropped with the session's schemas).
    The caller disposes of it."""
    if request.param == "sqlite":
        return Database(f"sqlite:///{tmp_path / f'{name}.sqlite3'}", None)
    schema = request.getfixturevalue("postgres_schemas") + name
    db = Database(request.getfixturevalue("postgres_url"), schema)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    return db


def migrate(db: Database, migrations: Path, revision: str, step=command.upgrade) -> None:
    """Run the migrations in ``migrations`` up (or, with ``step=command.downgrade``, down)
    to ``revision``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        step(cfg, revision)
        conn.commit()


def database_fixture(name: str):
    """A fixture ``database``: :func:`empty_database` on SQLite and on PostgreSQL (a schema
    ending in ``name``), disposed of after the test. In a test module:
    ``database = database_fixture("customer")``."""

    @pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
    def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
        db = empty_database(request, tmp_path, name)
        yield db
        db.dispose()

    return database
