"""KPI stores made for a test, each migrated to head unless asked not to, disposed of after."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from kpi_service.bootstrap import MIGRATIONS
from revisit_common import migrations
from revisit_common.db import Database

Make = Callable[..., Database]
# The backends of a test parametrised by ``params=BACKENDS`` (request.param), for one_store.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]


@contextlib.contextmanager
def stores(open_database: Callable[[str], Database]) -> Iterator[Make]:
    """``make(name, migrate=True)``: the store ``open_database(name)`` opens (a file or a
    schema of its own per name)."""
    made: list[Database] = []

    def make(name: str, migrate: bool = True) -> Database:
        db = open_database(name)
        if migrate:
            migrations.upgrade(db, MIGRATIONS)
        made.append(db)
        return db

    try:
        yield make
    finally:
        for db in made:
            db.dispose()


def on_postgres(url: str, schemas: str) -> Callable[[str], Database]:
    return lambda name: Database(url, f"{schemas}{name}")


@contextlib.contextmanager
def backend_stores(request, tmp_path) -> Iterator[Make]:
    """``make(name, migrate=True)``: stores on the backend ``request.param`` names
    (BACKENDS), files in ``tmp_path`` or schemas of the test's own on the real PostgreSQL;
    all disposed of afterwards."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        opening = on_postgres(url, request.getfixturevalue("postgres_schemas"))
    else:
        opening = lambda each: Database(f"sqlite:///{tmp_path / each}.sqlite3")  # noqa: E731
    with stores(opening) as make:
        yield make


@contextlib.contextmanager
def one_store(request, tmp_path, name: str) -> Iterator[Database]:
    """The store ``name``, migrated, on the backend ``request.param`` names (BACKENDS)."""
    with backend_stores(request, tmp_path) as make:
        yield make(name)
