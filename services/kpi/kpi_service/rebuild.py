"""Rebuild the KPI store from its event log: ``python -m kpi_service.rebuild``.

Facts, daily and monthly aggregates, totals, the customers per month and year
(customer_periods.py) and the purchases' sums (models.purchase_amounts) are cleared and the
event log is replayed in order into fresh ones through the projection the live consumer uses
(projection.py), read and applied in bounded batches, in one transaction: readers keep
seeing the old figures until the new ones are complete. Because facts merge
order-independently, events the live consumer applies meanwhile are merged again
harmlessly. The tenant settings copy is kept (it holds the newest version already, so
replayed settings events change nothing). The facts' derived columns (models.DERIVED) are
the database's: written facts get them at once.
On PostgreSQL the rebuilt tables are analyzed afterwards: every row is new, and the planner's
statistics of the old ones (or none, on a server without autovacuum) would plan the
consumer's fact lookups and the period reads for a store of another shape.
"""

from __future__ import annotations

import logging
import sys

import sqlalchemy as sa

from revisit_common import migrations
from revisit_common.config import Settings
from revisit_common.db import Database

from . import projection, store
from .bootstrap import MIGRATIONS
from .models import AGGREGATES, SUMMARY_TABLES, facts

log = logging.getLogger(__name__)
SERVICE = "kpi"


def rebuild(db: Database, batch: int = 1000) -> int:
    """Replay the event log into fresh facts and aggregates; returns the events replayed."""
    replayed = 0
    with db.transaction() as session:
        for table in (facts, *AGGREGATES, *SUMMARY_TABLES):
            session.execute(table.delete())
        for envelopes in store.logged_batches(session, batch):
            projection.project(session, envelopes)
            replayed += len(envelopes)
        store.raise_every_version(session)  # /metrics renders the rebuilt totals
    _analyze(db)
    return replayed


def _analyze(db: Database) -> None:
    """Fresh planner statistics of the rebuilt tables (PostgreSQL; SQLite's, once written,
    are never refreshed by themselves, and without any it plans these reads well)."""
    if not db.is_postgres:
        return
    with db.engine.connect() as conn:
        for table in (facts, *AGGREGATES, *SUMMARY_TABLES):
            conn.execute(sa.text(f"ANALYZE {table.name}"))
        conn.commit()


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
