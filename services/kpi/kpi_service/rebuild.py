"""Rebuild the KPI store from its event log: ``python -m kpi_service.rebuild``.

Facts, daily and monthly aggregates and totals are cleared and the event log is replayed in
order into fresh ones through the projection the live consumer uses (projection.py), read
and applied in bounded batches, in one transaction: readers keep seeing the old figures
until the new ones are complete. Because facts merge order-independently, events the live
consumer applies meanwhile are merged again harmlessly. The tenant settings copy is kept
(it holds the newest version already, so replayed settings events change nothing). The
facts' derived columns (models.DERIVED) are the database's: written facts get them at once.
"""

from __future__ import annotations

import logging
import sys

from revisit_common import migrations
from revisit_common.config import Settings
from revisit_common.db import Database

from . import projection, store
from .bootstrap import MIGRATIONS
from .models import AGGREGATES, facts

log = logging.getLogger(__name__)
SERVICE = "kpi"


def rebuild(db: Database, batch: int = 1000) -> int:
    """Replay the event log into fresh facts and aggregates; returns the events replayed."""
    replayed = 0
    with db.transaction() as session:
        for table in (facts, *AGGREGATES):
            session.execute(table.delete())
        for envelopes in store.logged_batches(session, batch):
            projection.project(session, envelopes)
            replayed += len(envelopes)
        store.raise_every_version(session)  # /metrics renders the rebuilt totals
    return replayed


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    db = Database(*settings.database_for(SERVICE), **settings.pool())
    try:
        migrations.upgrade(db, MIGRATIONS)
        replayed = rebuild(db)
    finally:
        db.dispose()
    log.info("kpi store rebuilt from %d logged events", replayed)
    print(f"rebuilt the kpi store from {replayed} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
