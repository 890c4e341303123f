"""Issue #2 acceptance on the real RabbitMQ and PostgreSQL: the same system, real servers."""

from __future__ import annotations

import json

import pika
import pytest

from tests.support.client import ADMIN, Api
from tests.support.polling import wait_until
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER, start_system

from .loops import complaint_loop, follow_up_loop


@pytest.fixture
def system(tmp_path, amqp_url, broker_queues, postgres_url, postgres_schemas):
    system = start_system(
        make_settings(
            data_dir=tmp_path,
            admin_token=ADMIN,
            amqp_url=amqp_url,
            queue_prefix=broker_queues,
            database_url=postgres_url,
            db_schema_prefix=postgres_schemas,
            region="cn-east-test",
        )
    )
    yield system
    system.close()


@pytest.fixture
def listener(pika_parameters):
    """A plain pika client with its own queue bound to customer.registered."""
    conn = pika.BlockingConnection(pika_parameters)
    channel = conn.channel()
    channel.exchange_declare("revisit.events", exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, "revisit.events", routing_key="customer.registered")
    yield channel, queue
    conn.close()


def test_event_reaches_a_bound_queue_in_the_envelope(system, listener):
    channel, queue = listener
    api = Api(system).new_tenant()
    r = api.post("/customers", CUSTOMER, headers={"X-Request-ID": "real-broker-req-1"})
    assert r.status_code == 201, r.json
    customer_id = r.json["id"]

    def received():
        method, props, body = channel.basic_get(queue, auto_ack=True)
        return (method, props, body) if method else None

    while True:
        method, props, body = wait_until(received, timeout=10)
        event = json.loads(body)
        if event["subject"] == customer_id:
            break
    assert props.content_type == "application/cloudevents+json"
    assert props.delivery_mode == 2
    assert method.routing_key == "customer.registered"
    assert event["specversion"] == "1.0"
    assert event["type"] == "CustomerRegistered"
    assert event["source"] == "revisit/customer"
    assert event["datacontenttype"] == "application/json"
    assert event["correlationid"] == "real-broker-req-1"
    assert event["region"] == "cn-east-test"
    assert event["dataversion"] == 1
    assert event["data"]["customer_id"] == customer_id
    assert event["data"]["size_tier"] == "medium"
    assert event["tenantid"] and event["id"] and event["time"]


def test_settings_change_travels_over_rabbitmq_to_the_customer_service(system):
    api = Api(system).new_tenant()
    cid = api.post("/customers", CUSTOMER).json["id"]
    assert (
        api.patch("/settings", {"classification": {"large_amount_threshold": 400000}}).status_code
        == 200
    )
    wait_until(lambda: api.get(f"/customers/{cid}").json["size_tier"] == "large", timeout=10)
    other = api.new_tenant("Other")
    assert other.get(f"/customers/{cid}").status_code == 404


def test_follow_up_loop_over_rabbitmq(system):
    follow_up_loop(Api(system).new_tenant(), kpi_timeout=10)


def test_complaint_loop_over_rabbitmq(system):
    complaint_loop(Api(system).new_tenant(), timeout=10)
