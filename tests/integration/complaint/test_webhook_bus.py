"""Webhooks fed by the real RabbitMQ: events the complaint service does not act on itself
(customer.*, visit.*, survey.*) reach the webhooks subscribed to them, because the service's
queue binds every routing key of the catalogue."""

from __future__ import annotations

import json
import threading

import pytest

from complaint_service.bootstrap import SPEC
from revisit_common.config import Settings
from revisit_common.events import CATALOGUE
from revisit_common.runtime import ServiceRuntime
from tests.support.polling import wait_until
from tests.unit.complaint.support import TOKEN, Client
from tests.unit.complaint.webhook_support import Receiver, deliveries, register, sample_envelope

pytestmark = pytest.mark.services

PUBLISHED = ["CustomerRegistered", "PurchaseRecorded", "VisitScheduled", "SurveyResponded"]


@pytest.fixture
def runtime(tmp_path, amqp_url, broker_queues):
    settings = Settings(
        data_dir=tmp_path,
        amqp_url=amqp_url,
        queue_prefix=broker_queues,
        internal_token=TOKEN,
        publish_timeout=2.0,
        relay_interval=0.05,
        consumer_backoff=0.02,
        webhook_allow_private=True,  # the receiver is on 127.0.0.1
    )
    rt = ServiceRuntime(SPEC, settings)
    stop = threading.Event()
    rt.start_workers(stop)
    yield rt
    stop.set()
    for thread in rt.threads:
        thread.join(timeout=5)
    rt.close()


def test_customer_visit_and_survey_events_are_delivered(runtime, unique_prefix):
    receiver = Receiver()
    try:
        client = Client(runtime.create_app(), tenant=unique_prefix)
        wanted = register(client, receiver.url, ["customer.*", "visit.scheduled", "survey.*"])
        with runtime.db.transaction() as session:
            for type_name in PUBLISHED:
                data = sample_envelope(type_name, unique_prefix).data
                runtime.outbox.add(session, CATALOGUE[type_name](**data), tenant_id=unique_prefix)
        wait_until(
            lambda: (
                sorted(d["status"] for d in deliveries(client, wanted["id"])) == ["delivered"] * 4
            ),
            timeout=20,
            message="4 deliveries over the real bus",
        )
        types = sorted(json.loads(body)["type"] for _, _, body in receiver.requests)
        assert types == sorted(PUBLISHED)
        keys = sorted(d["routing_key"] for d in deliveries(client, wanted["id"]))
        assert keys == [
            "customer.purchase_recorded",
            "customer.registered",
            "survey.responded",
            "visit.scheduled",
        ]
    finally:
        receiver.close()
