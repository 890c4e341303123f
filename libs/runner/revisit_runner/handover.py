"""Webhooks handed over from the complaint service's database to the notify service's, once.

Before v1.1 webhooks lived in the complaint service; its migration 0004 drops its webhook
tables. :func:`move_webhooks` runs before the services migrate (``migrate.py``, standalone
start): while the complaint database still holds the tables, the notify database is brought
to its newest revision and every webhook, delivery and attempt not there yet is copied (by
id, so a second run copies nothing); complaint's 0004 then drops them. On a fresh install,
or once the tables are gone, it does nothing.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from notify_service.bootstrap import SPEC as NOTIFY
from notify_service.models import Delivery, DeliveryAttempt, Webhook
from revisit_common import migrations
from revisit_common.config import Settings
from revisit_common.db import Database

log = logging.getLogger(__name__)

TABLES = (Webhook.__table__, Delivery.__table__, DeliveryAttempt.__table__)  # parents first
CHUNK = 1000


def move_webhooks(settings: Settings) -> int:
    """Copy the complaint service's webhook rows to notify; how many rows were copied."""
    source = Database(*settings.database_for("complaint"), pool_size=1, max_overflow=0)
    try:
        present = sa.inspect(source.engine).get_table_names(schema=source.schema)
        if Webhook.__tablename__ not in present:
            return 0
        target = Database(*settings.database_for("notify"), pool_size=1, max_overflow=0)
        try:
            migrations.upgrade(target, NOTIFY.migrations)
            copied = sum(_copy(table, source, target) for table in TABLES)
        finally:
            target.dispose()
    finally:
        source.dispose()
    if copied:
        log.info("moved %d webhook rows from the complaint database to notify's", copied)
    return copied


def _copy(table: sa.Table, source: Database, target: Database) -> int:
    with target.engine.connect() as conn:
        known = set(conn.execute(sa.select(table.c.id)).scalars())
    copied = 0
    with source.engine.connect() as reading, target.engine.begin() as writing:
        rows = reading.execute(sa.select(table).order_by(table.c.id)).mappings()
        while batch := [dict(row) for row in rows.fetchmany(CHUNK)]:
            fresh = [row for row in batch if row["id"] not in known]
            if fresh:
                writing.execute(sa.insert(table), fresh)
                copied += len(fresh)
    return copied
