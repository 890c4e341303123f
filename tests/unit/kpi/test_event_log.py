"""The event log keeps each consumed event as it was received: what the rebuild reads back
is the envelope the consumer parsed (attributes left out take their defaults), whether it
came with its received body (the common case) or is written out again (a copy, or an
envelope the schema judged), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kpi_service import projection, store
from revisit_common.messaging.envelope import parse
from tests.support.kpi.stores import BACKENDS, one_store

BODY = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "revisit/visit",
    "type": "StaffChanged",
    "time": "2026-02-03T04:05:06.000007+00:00",
    "tenantid": "t-1",
    "data": {"staff": ["Zoë", 'a"b'], "n": 1.50, "nested": {"z": 1, "a": None}},
}


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    with one_store(request, tmp_path, "event_log") as made:
        yield made


def test_logged_events_read_back_as_the_envelopes_consumed(db):
    received = parse(json.dumps(BODY, ensure_ascii=False, indent=1).encode())
    assert received.body is not None
    full = {**BODY, "id": "e-2", "subject": "s", "region": "eu", "correlationid": "c"}
    complete = parse(json.dumps(full))
    copied = dataclasses.replace(received, id="e-3", data={"staff": []})
    assert copied.body is None
    with db.transaction() as session:
        projection.record(session, [received, complete, copied])
    with db.read() as session:
        [logged] = store.logged_batches(session, 10)
    assert logged == [received, complete, copied]
    assert (logged[0].subject, logged[0].region, logged[0].dataversion) == ("", "", 1)
    assert logged[0].correlationid is None
