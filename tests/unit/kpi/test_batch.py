"""projection.record of a consumer batch leaves the store exactly as projection.record of one
event at a time would: here on SQLite (the portable statements of bulk.py); the PostgreSQL
statements are checked the same way in tests/integration/messaging/test_consumer_batch.py."""

from __future__ import annotations

import random

from kpi_service import projection
from kpi_service.bootstrap import SPEC
from revisit_common.runtime import ServiceRuntime
from tests.support.kpi.client import snapshot
from tests.support.kpi.recompute import generate
from tests.support.kpi.scenario import republished
from tests.support.settings import make_settings


def test_a_batch_matches_one_event_at_a_time(tmp_path):
    rng = random.Random(5)
    truth = generate(rng, visits=300)
    events = truth.events("tenant-a")
    stream = events + [republished(e) for e in rng.sample(events, 40)]
    rng.shuffle(stream)

    one = ServiceRuntime(SPEC, make_settings(data_dir=tmp_path / "one"))
    many = ServiceRuntime(SPEC, make_settings(data_dir=tmp_path / "many"))
    try:
        with one.db.transaction() as session:
            for envelope in stream:
                projection.record(session, [envelope])
        position = 0
        while position < len(stream):
            size = rng.choice((1, 3, 40, 200))
            with many.db.transaction() as session:
                projection.record(session, stream[position : position + size])
            position += size
        assert snapshot(many) == snapshot(one)
    finally:
        one.close()
        many.close()
