"""On the in-memory bus an idle relay looks for rows once a second (every commit of the
process wakes it), yet a stop still takes effect within its ``interval``."""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa

from revisit_common.messaging import relay
from revisit_common.messaging.outbox import pending_count
from tests.support import fake_service as fake
from tests.support.polling import wait_until
from tests.support.settings import bus_settings


def outbox_reads(engine: sa.Engine) -> list[str]:
    """A list that fills with every SELECT from the outbox SQLite runs on ``engine``'s
    connections from now on, as the driver's trace sees them (the relay reads on the
    driver's connection, unseen by SQLAlchemy's events)."""
    seen: list[str] = []

    def note(sql: str) -> None:
        if sql.lstrip().startswith("SELECT") and "FROM outbox" in sql:
            seen.append(sql)

    sa.event.listen(engine, "checkout", lambda dbapi, *_: dbapi.set_trace_callback(note))
    return seen


def test_an_idle_relay_waits_for_commits_and_stops_at_once(tmp_path):
    assert relay.MEMORY_IDLE_SECONDS >= 1.0
    settings = bus_settings(tmp_path, None, f"i{secrets.token_hex(4)}", relay_interval=0.02)
    with fake.built_runtimes() as build:
        writer = build(settings, name="writer", handlers={})
        reads = outbox_reads(writer.db.engine)
        with fake.running(writer) as stop:
            wait_until(lambda: reads, message="the relay's first look")
            fake.record_note(writer, "n-1")  # a commit wakes it: published at once
            wait_until(lambda: pending_count(writer.db) == 0, message="the row marked sent")
            stop.set()
            stopped_at = time.monotonic()
        assert time.monotonic() - stopped_at < relay.MEMORY_IDLE_SECONDS / 2
