"""Revision 0008 on a store of revision 0007: the derived columns of the facts already
stored, and the days of those stored before revision 0007, are what a store fed at the
newest revision holds (then the database's figures equal the rule's)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from kpi_service.bootstrap import MIGRATIONS
from kpi_service.models import DERIVED, facts
from revisit_common import migrations, tenant_settings
from revisit_common.db import Database
from tests.support.kpi import policy_figures

STORED = ("tenant_id", "kind", "entity_id", "state", "applied", "updated_at", "day", "limit_day")


def rows(db: Database) -> list[tuple]:
    with db.read() as session:
        columns = [facts.c[n] for n in (*STORED, *DERIVED)]
        return sorted(tuple(r) for r in session.execute(sa.select(*columns)).all())


def upgrade_to(db: Database, revision: str) -> None:
    """Bring the KPI store ``db`` (its schema made when missing) to ``revision`` only."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        if db.schema:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def migrate_copy(
    old: Database,
    fed: Database,
    revision: str,
    columns: Sequence[str],
    change: Callable[[list[dict]], None] | None = None,
) -> None:
    """Bring ``old`` (empty) to ``revision``, give it ``fed``'s facts (``columns`` of them,
    ``change`` applied to the rows first: as that revision stored them) and tenant
    settings, then migrate it to the newest revision."""
    upgrade_to(old, revision)
    settings = tenant_settings.settings_table
    with fed.read() as session:
        stored = [
            dict(r) for r in session.execute(sa.select(*(facts.c[n] for n in columns))).mappings()
        ]
        copies = [dict(r) for r in session.execute(sa.select(settings)).mappings()]
    if change is not None:
        change(stored)
    table = sa.table(facts.name, *(sa.column(n, facts.c[n].type) for n in columns))
    with old.engine.begin() as conn:
        conn.execute(sa.insert(table), stored)
        conn.execute(sa.insert(settings), copies)
    migrations.upgrade(old, MIGRATIONS)


def check_upgrade(old: Database, fed: Database) -> None:
    """``old``: an empty database brought to 0007 and given ``fed``'s facts (a third of them
    without days, as stored before 0007), then migrated to the newest revision."""

    def as_before_0007(stored: list[dict]) -> None:
        for n, row in enumerate(stored):
            if n % 3 == 0:
                row.update(day=None, limit_day=None)

    migrate_copy(old, fed, "0007", STORED, as_before_0007)
    assert rows(old) == rows(fed)
    policy_figures.check(old, random.Random(5))
