"""PostgreSQL's lock waits, seen from a connection of its own."""

from __future__ import annotations

import sqlalchemy as sa


def lock_waiters(engine: sa.Engine) -> int:
    """Sessions of ``engine``'s database waiting for a lock (a row's, a transaction's)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
