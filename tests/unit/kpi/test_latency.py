"""Through the bus (kombu memory://, as standalone mode runs): a write shows within 2 s."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import date

import pytest
from kombu import Connection, Producer

from kpi_service.bootstrap import SPEC
from kpi_service.handlers import HANDLERS
from revisit_common.events import CATALOGUE
from revisit_common.messaging.envelope import CONTENT_TYPE
from revisit_common.messaging.settlement import topic_matches
from revisit_common.messaging.topology import EVENTS
from revisit_common.runtime import ServiceRuntime
from tests.support.client import TOKEN
from tests.support.kpi.client import KpiClient
from tests.support.kpi.scenario import Visit
from tests.support.settings import make_settings


@pytest.fixture
def running(tmp_path):
    prefix = f"k{secrets.token_hex(4)}"
    settings = make_settings(data_dir=tmp_path, internal_token=TOKEN, queue_prefix=prefix)
    runtime = ServiceRuntime(SPEC, settings)
    stop = threading.Event()
    threads = runtime.start_workers(stop)
    yield runtime
    stop.set()
    for thread in threads:
        thread.join(10)
    runtime.close()
    with Connection("memory://") as conn:
        channel = conn.channel()
        for name in (f"{prefix}.kpi", f"{prefix}.kpi.dead"):
            channel.queue_delete(name)


def test_every_catalogue_event_is_consumed():
    assert set(CATALOGUE) <= set(HANDLERS)
    # the queue binds every event's routing key (derived from the registry)
    for cls in CATALOGUE.values():
        key = cls.routing + (".quality" if cls.by_department else "")
        assert any(topic_matches(binding, key) for binding in SPEC.routing_keys), key


def test_an_accepted_write_shows_within_two_seconds(running):
    client = KpiClient(running.create_app(), "tenant-a")
    envelopes = Visit(
        "v1", "care", "li", "east", date(2026, 5, 5), "completed", satisfaction="satisfied"
    ).events("tenant-a")
    started = time.monotonic()
    with Connection("memory://") as conn:
        producer = Producer(conn.channel(), exchange=EVENTS)
        for envelope in envelopes:
            producer.publish(
                envelope.to_json(),
                routing_key=CATALOGUE[envelope.type].routing,
                content_type=CONTENT_TYPE,
            )
    period = {"from": "2026-05-01", "to": "2026-05-31"}
    while client.kpis(**period)["counts"]["visits_completed"] != 1:
        assert time.monotonic() - started < 2.0, "not reflected within 2 s"
        time.sleep(0.02)
    assert client.kpis(**period)["visit_completion_rate"] == 1.0
