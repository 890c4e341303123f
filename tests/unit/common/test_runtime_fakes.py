"""The bootstrap takes its collaborators from a test: the database of the unit of work, the
bus and the clock. A service function then runs fast against what the test gave, and the
test sees exactly what it did there."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from revisit_common.db import Database
from revisit_common.messaging.bus import Bus
from revisit_common.runtime import ServiceRuntime
from survey_service.bootstrap import SPEC
from tests.support.client import TOKEN, Client
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.support.surveys import SURVEY


def test_the_runtime_uses_the_database_bus_and_clock_it_is_given(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'given.db'}")
    bus = Bus(None, prefetch=7)  # the in-memory bus
    clock = FakeClock(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    settings = make_settings(data_dir=tmp_path / "unused", internal_token=TOKEN)
    runtime = ServiceRuntime(SPEC, settings, bus=bus, clock=clock, db=db)
    try:
        assert (runtime.db, runtime.bus, runtime.clock) == (db, bus, clock)
        assert runtime.relay.db is db and runtime.relay.bus is bus
        created = Client(runtime.create_app(), "tenant-f").post("/api/v1/surveys", SURVEY)
        assert created.status_code == 201, created.json
        assert created.json["created_at"] == "2026-01-05T10:00:00+00:00"
        with db.engine.connect() as conn:  # written where the test said, migrated there
            rows = conn.execute(sa.text("SELECT id, tenant_id FROM surveys")).all()
        assert rows == [(created.json["id"], "tenant-f")]
        assert not (tmp_path / "unused").exists()
    finally:
        runtime.close()
