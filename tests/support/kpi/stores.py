"""KPI stores made for a test, each migrated to head unless asked not to, disposed of after."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from kpi_service.bootstrap import MIGRATIONS
from revisit_common import migrations
from revisit_common.db import Database

Make = Callable[..., Database]


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
