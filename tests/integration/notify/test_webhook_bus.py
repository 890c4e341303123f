"""Webhooks fed by the real RabbitMQ: the notify service's queue binds every routing key of
the catalogue, so customer, visit and survey events reach the webhooks subscribed to them,
and so do the complaints another service (the complaint service, in this process) raises."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest

from complaint_service.bootstrap import SPEC as COMPLAINT
from notify_service.bootstrap import SPEC as NOTIFY
from revisit_common.events import CATALOGUE
from tests.support.client import Client
from tests.support.complaints import ComplaintClient
from tests.support.customers import FakeCustomerService
from tests.support.polling import wait_until
from tests.support.service import service_runtime
from tests.support.webhooks import Receiver, deliveries, register, sample_envelope

pytestmark = pytest.mark.services

PUBLISHED = ["CustomerRegistered", "PurchaseRecorded", "VisitScheduled", "SurveyResponded"]


@contextlib.contextmanager
def running(spec, data_dir, amqp_url, queue_prefix, peers=None, **extra):
    """A runtime of ``spec`` on the real broker with its workers running."""
    settings = {
        "amqp_url": amqp_url,
        "queue_prefix": queue_prefix,
        "publish_timeout": 2.0,
        "relay_interval": 0.05,
        "consumer_backoff": 0.02,
        **extra,
    }
    with service_runtime(spec, data_dir, peers=peers, **settings) as rt:
        stop = threading.Event()
        rt.start_workers(stop)
        try:
            yield rt
        finally:
            stop.set()
            for thread in rt.threads:
                thread.join(timeout=5)


@pytest.fixture
def notify(tmp_path, amqp_url, broker_queues):
    # the receiver is on 127.0.0.1
    with running(
        NOTIFY,
        tmp_path / "notify",
        amqp_url,
        broker_queues,
        environment={"REVISIT_WEBHOOK_ALLOW_PRIVATE": "true"},
    ) as rt:
        yield rt


def test_customer_visit_and_survey_events_are_delivered(notify, unique_prefix):
    receiver = Receiver()
    try:
        client = Client(notify.create_app(), tenant=unique_prefix)
        wanted = register(client, receiver.url, ["customer.*", "visit.scheduled", "survey.*"])
        with notify.db.transaction() as session:
            for type_name in PUBLISHED:
                data = sample_envelope(type_name, unique_prefix).data
                notify.outbox.add(session, CATALOGUE[type_name](**data), tenant_id=unique_prefix)
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


def test_complaints_raised_by_the_complaint_service_are_delivered(
    notify, tmp_path, amqp_url, broker_queues, unique_prefix
):
    """Written by the complaint service, carried by RabbitMQ, delivered by notify: only the
    product department's, as the webhook asks."""
    customers = FakeCustomerService()
    customers.add("cust-1", "east")  # the customer the complaints name
    receiver = Receiver()
    try:
        client = Client(notify.create_app(), tenant=unique_prefix)
        hook = register(client, receiver.url, ["complaint.*.product"])
        with running(
            COMPLAINT,
            tmp_path / "complaint",
            amqp_url,
            broker_queues,
            peers={"customer": customers},
        ) as complaint_rt:
            complaints = ComplaintClient(complaint_rt.create_app(), tenant=unique_prefix)
            raised = complaints.create()
            complaints.create(department="sales")
            wait_until(
                lambda: [d["status"] for d in deliveries(client, hook["id"])] == ["delivered"],
                timeout=20,
                message="delivery over the real bus",
            )
        [(_, headers, body)] = receiver.requests
        assert json.loads(body)["data"]["number"] == raised["number"]
        assert headers["X-Revisit-Signature"].startswith("sha256=")
    finally:
        receiver.close()
