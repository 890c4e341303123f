"""The complaint service on the real RabbitMQ: departments bound with plain pika get their
events (and only theirs) in the CloudEvents envelope; the example consumer runs. (Webhooks
fed from the bus: tests/integration/notify.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from complaint_service.bootstrap import SPEC
from revisit_common.runtime import ServiceRuntime
from tests.support.client import TOKEN
from tests.support.complaints import ComplaintClient
from tests.support.customers import FakeCustomerService
from tests.support.outbox import envelopes, relay_all
from tests.support.polling import wait_until
from tests.support.rabbit import PikaClient
from tests.support.settings import bus_settings

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "department_consumer.py"
ENVELOPE_ATTRIBUTES = {
    "specversion", "id", "source", "type", "time", "subject", "datacontenttype",
    "tenantid", "region", "dataversion", "correlationid", "data",
}  # fmt: skip


@pytest.fixture
def runtime(tmp_path, amqp_url, broker_queues):
    rt = ServiceRuntime(SPEC, bus_settings(tmp_path, amqp_url, broker_queues, internal_token=TOKEN))
    rt.peers["customer"] = customers = FakeCustomerService()
    customers.add("cust-1", "east")  # the customer the complaints name
    stop = threading.Event()
    rt.stop_event = stop
    yield rt
    stop.set()
    for thread in rt.threads:
        thread.join(timeout=5)
    rt.relay.close()
    rt.close()


@pytest.fixture
def pika_client(amqp_url):
    client = PikaClient(amqp_url)
    yield client
    client.close()


def test_product_binding_gets_complaint_raised_and_sales_binding_does_not(
    runtime, pika_client, unique_prefix
):
    product = pika_client.tap("complaint.*.product")
    sales = pika_client.tap("complaint.*.sales")
    client = ComplaintClient(runtime.create_app(), tenant=unique_prefix)
    complaint = client.create(severity="major")
    relay_all(runtime)
    [event] = envelopes(runtime, "ComplaintRaised")

    [message] = pika_client.collect(product, {event.id})
    assert message.routing_key == "complaint.raised.product"
    assert message.properties.content_type == "application/cloudevents+json"
    assert message.properties.delivery_mode == 2
    doc = json.loads(message.body)
    assert set(doc) == ENVELOPE_ATTRIBUTES
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "ComplaintRaised"
    assert doc["source"] == "revisit/complaint"
    assert doc["subject"] == complaint["id"]
    assert doc["tenantid"] == unique_prefix
    assert doc["region"] == "eu-test"
    assert doc["datacontenttype"] == "application/json"
    assert doc["data"]["number"] == complaint["number"]
    assert doc["data"]["deadlines"] == complaint["deadlines"]

    assert pika_client.collect(sales, {event.id}, timeout=1.0) == []


def test_example_consumer_prints_the_department_events(
    runtime, amqp_url, broker_queues, unique_prefix
):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLE),
            "--url",
            amqp_url,
            "--department",
            "product",
            "--queue",
            f"{broker_queues}.test",  # deleted by the broker_queues fixture
            "--issues",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True
    )
    reader.start()
    try:
        wait_until(lambda: any("listening" in line for line in lines), timeout=15)
        client = ComplaintClient(runtime.create_app(), tenant=unique_prefix)
        complaint = client.create()
        client.create(department="sales")
        for action in ("acknowledge", "investigate", "propose", "implement"):
            client.act(complaint["id"], action)
        client.act(complaint["id"], "resolve", resolution="replaced")
        relay_all(runtime)
        number = complaint["number"]

        def ours():
            return [line for line in lines if f"tenant={unique_prefix} " in line]

        # A last product complaint: the queue delivers in publish order, so once its event
        # is printed, the sales complaint's (published earlier) would have been too.
        last = client.create()
        relay_all(runtime)
        wait_until(lambda: len(ours()) >= 3, timeout=15, message="three events printed")
        raised, resolved, raised_last = ours()
        assert raised.startswith(f"ComplaintRaised {number} [complaint.raised.product]")
        assert "severity=general" in raised
        assert resolved.startswith("IssueResolved ") and "within_deadline=True" in resolved
        assert raised_last.startswith(f"ComplaintRaised {last['number']} ")
    finally:
        process.terminate()
        process.wait(timeout=10)
