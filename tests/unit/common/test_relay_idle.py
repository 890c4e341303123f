"""On the in-memory bus an idle relay looks for rows once a second (every commit of the
process wakes it), yet a stop still takes effect within its ``interval``."""

from __future__ import annotations

import secrets
import time

from revisit_common.messaging import relay
from revisit_common.messaging.outbox import pending_count
from tests.support import fake_service as fake
from tests.support.polling import wait_until
from tests.support.settings import bus_settings
from tests.support.statements import selects_from


def test_an_idle_relay_waits_for_commits_and_stops_at_once(tmp_path):
    assert relay.MEMORY_IDLE_SECONDS >= 1.0
    settings = bus_settings(tmp_path, None, f"i{secrets.token_hex(4)}", relay_interval=0.02)
    with fake.built_runtimes() as build:
        writer = build(settings, name="writer", handlers={})
        reads = selects_from(writer.db.engine, "outbox")
        with fake.running(writer) as stop:
            wait_until(lambda: reads, message="the relay's first look")
            fake.record_note(writer, "n-1")  # a commit wakes it: published at once
            wait_until(lambda: pending_count(writer.db) == 0, message="the row marked sent")
            stop.set()
            stopped_at = time.monotonic()
        assert time.monotonic() - stopped_at < relay.MEMORY_IDLE_SECONDS / 2
