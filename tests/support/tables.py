"""A database holding some tables for a test parametrised over
``tests.support.webhooks.DATABASES``: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from revisit_common.db import Database


@contextmanager
def tables_database(
    request: pytest.FixtureRequest, folder: Path, name: str, metadata: sa.MetaData
) -> Iterator[Database]:
    """The tables of ``metadata`` created in a database of ``request.param``: SQLite in
    ``folder`` (a file named after ``name``), or PostgreSQL in a new schema ending in
    ``name``; disposed of afterwards."""
    if request.param == "postgres":
        schema = f"{request.getfixturevalue('postgres_schemas')}{name}"
        database = Database(request.getfixturevalue("postgres_url"), schema, pool_size=1)
        with database.engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    else:
        database = Database(f"sqlite:///{folder / f'{name}.sqlite3'}")
    try:
        metadata.create_all(database.engine)
        yield database
    finally:
        database.dispose()
