"""Webhooks: matching, the management API, signed deliveries to a real localhost receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from complaint_service import delivery, webhooks
from complaint_service.delivery import DeliveryConfig
from complaint_service.webhooks import matches, topic_matches

from .support import Client, Receiver, envelopes

SECRET = "s3cret-for-the-product-dept"
FAST = DeliveryConfig(connect_timeout=0.5, read_timeout=2.0, backoff=1.0, max_attempts=3)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead"


def register(client, url, events=("complaint.*",), **extra):
    r = client.post(
        "/api/v1/webhooks", {"url": url, "events": list(events), "secret": SECRET, **extra}
    )
    assert r.status_code == 201, r.json
    return r.json


def bus_round(runtime):
    """What the bus would do: hand every event in the outbox to the service's consumer."""
    for envelope in envelopes(runtime):
        runtime.consumer.apply(envelope)


def log(client, hook_id, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = client.get(f"/api/v1/webhooks/{hook_id}/deliveries?{qs}")
    assert r.status_code == 200, r.json
    return r.json["items"]


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("complaint.*.product", "complaint.raised.product", True),
        ("complaint.*.product", "complaint.raised.sales", False),
        ("complaint.#", "complaint.raised.product", True),
        ("#", "issue.resolved.sales", True),
        ("*.*.product", "issue.raised.product", True),
        ("complaint.*", "complaint.raised.product", False),
        ("complaint.raised.#", "complaint.raised", True),
        ("complaint.#.product", "complaint.product", True),
        ("issue.*", "complaint.raised", False),
    ],
)
def test_topic_matching_is_amqp(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def test_webhook_entries_match_types_keys_and_aggregate_verb():
    key = "complaint.raised.product"
    assert matches(["ComplaintRaised"], "ComplaintRaised", key)
    assert not matches(["ComplaintClosed"], "ComplaintRaised", key)
    assert matches(["complaint.*"], "ComplaintRaised", key)  # via "complaint.raised"
    assert matches(["complaint.*.product"], "ComplaintRaised", key)
    assert not matches(["complaint.*.sales", "issue.*"], "ComplaintRaised", key)
    assert matches(["complaint.raised"], "ComplaintRaised", key)


def test_invalid_entries():
    assert webhooks.invalid_entries(["ComplaintRaised", "complaint.*", "#", "*.*.product"]) == []
    assert webhooks.invalid_entries(["CustomerRegistered", "Complaint Raised", "a..b"]) == [
        "CustomerRegistered",
        "Complaint Raised",
        "a..b",
    ]


def test_signature_is_hmac_sha256_hex():
    body = b"The quick brown fox jumps over the lazy dog"
    assert webhooks.sign("key", body) == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_back_off_doubles_and_is_capped():
    config = DeliveryConfig(backoff=10, max_backoff=60)
    assert [config.delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    env = {"REVISIT_WEBHOOK_BACKOFF": "0.5", "REVISIT_WEBHOOK_MAX_ATTEMPTS": "4"}
    assert DeliveryConfig.from_env(env).max_attempts == 4
    assert DeliveryConfig.from_env(env).backoff == 0.5
    assert DeliveryConfig.from_env({}) == DeliveryConfig()


# --------------------------------------------------------------------------- the API


def test_register_list_get_delete(client, app):
    hook = register(client, "https://dept.example/hook", department="product")
    assert "secret" not in hook
    assert hook["events"] == ["complaint.*"] and hook["active"] is True
    assert hook["department"] == "product"
    assert [h["id"] for h in client.get("/api/v1/webhooks").json["items"]] == [hook["id"]]
    assert client.get(f"/api/v1/webhooks/{hook['id']}").json["url"] == "https://dept.example/hook"
    other = Client(app, "tenant-b")
    assert other.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert client.get("/api/v1/webhooks").json["items"] == []
    gone = client.get(f"/api/v1/webhooks/{hook['id']}").json
    assert gone["active"] is False and gone["deleted_at"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://x.example/h"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["CustomerRegistered"]}, "events"),
        ({"events": ["complaint..raised"]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"department": "Sales Dept"}, "department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_register_validation(client, change, field):
    body = {"url": "https://dept.example/hook", "events": ["ComplaintRaised"], "secret": SECRET}
    r = client.post("/api/v1/webhooks", {**body, **change})
    assert r.status_code == 422
    assert field in r.json["errors"]


@pytest.mark.parametrize("role", ["agent", "viewer", "auditor", "department"])
def test_only_admins_and_managers_manage_webhooks(app, role):
    caller = Client(app, role=role, department="product" if role == "department" else None)
    body = {"url": "https://dept.example/hook", "events": ["ComplaintRaised"], "secret": SECRET}
    assert caller.post("/api/v1/webhooks", body).status_code == 403
    assert caller.get("/api/v1/webhooks").status_code == 403
    assert Client(app, role="manager").post("/api/v1/webhooks", body).status_code == 201


# --------------------------------------------------------------------------- deliveries


def test_deliveries_are_written_for_matching_events_only(client, app, runtime):
    product = register(client, "https://p.example/h", ["complaint.*"], department="product")
    raised = register(client, "https://all.example/h", ["ComplaintRaised"])
    issues = register(client, "https://i.example/h", ["issue.resolved.*"])
    Client(app, "tenant-b").create()  # another tenant's complaint reaches no webhook here
    client.create()
    client.create(department="sales")
    bus_round(runtime)
    assert [d["routing_key"] for d in log(client, product["id"])] == ["complaint.raised.product"]
    assert [d["routing_key"] for d in log(client, raised["id"])] == [
        "complaint.raised.product",
        "complaint.raised.sales",
    ]
    assert log(client, issues["id"]) == []
    bus_round(runtime)  # redelivered events: the inbox skips them, no second delivery
    assert len(log(client, raised["id"])) == 2


def test_signed_delivery_fails_once_then_the_retry_succeeds(client, runtime):
    receiver = Receiver(statuses=[500])
    try:
        hook = register(client, receiver.url, ["ComplaintRaised"])
        complaint = client.create()
        bus_round(runtime)
        now = datetime.now(UTC)
        assert delivery.deliver_due(runtime.db, FAST, now) == 1
        [first] = log(client, hook["id"])
        assert (first["status"], first["attempts"], first["last_status"]) == ("pending", 1, 500)
        assert first["last_error"] == "HTTP 500: nope"
        assert delivery.deliver_due(runtime.db, FAST, now) == 0  # not due before the back-off
        assert delivery.deliver_due(runtime.db, FAST, now + timedelta(seconds=1.5)) == 1
        [done] = log(client, hook["id"])
        assert done["status"] == "delivered" and done["attempts"] == 2
        assert [a["status_code"] for a in done["attempt_log"]] == [500, 200]
        assert done["delivered_at"]
        assert delivery.deliver_due(runtime.db, FAST, now + timedelta(hours=1)) == 0
    finally:
        receiver.close()
    assert len(receiver.requests) == 2
    (h1, b1), (h2, b2) = receiver.requests
    assert b1 == b2
    expected = "sha256=" + hmac.new(SECRET.encode(), b1, hashlib.sha256).hexdigest()
    assert h1["X-Revisit-Signature"] == expected == h2["X-Revisit-Signature"]
    event = json.loads(b1)
    assert h1["X-Revisit-Event-Id"] == event["id"] == done["event_id"]
    assert h1["Content-Type"] == "application/cloudevents+json"
    assert event["specversion"] == "1.0" and event["type"] == "ComplaintRaised"
    assert event["data"]["number"] == complaint["number"]
    assert event["tenantid"] == "tenant-a"


def test_dead_receiver_is_retried_then_failed(client, runtime):
    hook = register(client, closed_port_url(), ["ComplaintRaised"])
    client.create()
    bus_round(runtime)
    at = datetime.now(UTC)
    for _ in range(FAST.max_attempts):
        assert delivery.deliver_due(runtime.db, FAST, at) == 1
        at += timedelta(hours=2)
    assert delivery.deliver_due(runtime.db, FAST, at) == 0
    [failed] = log(client, hook["id"])
    assert failed["status"] == "failed" and failed["attempts"] == 3
    assert failed["last_status"] is None and "ConnectionError" in failed["last_error"]
    assert len(failed["attempt_log"]) == 3
    assert log(client, hook["id"], status="failed") == [failed]
    assert log(client, hook["id"], status="delivered") == []


def test_deleting_a_webhook_cancels_its_pending_deliveries(client, runtime, receiver):
    hook = register(client, receiver.url, ["ComplaintRaised"])
    client.create()
    bus_round(runtime)
    client.delete(f"/api/v1/webhooks/{hook['id']}")
    assert delivery.deliver_due(runtime.db, FAST) == 0
    assert [d["status"] for d in log(client, hook["id"])] == ["cancelled"]
    assert receiver.requests == []


def test_creating_complaints_does_no_network_io(client, runtime, monkeypatch):
    register(client, closed_port_url(), ["complaint.#"])

    def no_network(*args, **kwargs):
        raise AssertionError("network I/O in a write path")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(requests.Session, "send", no_network)
    cid = client.create()["id"]
    client.act(cid, "acknowledge")
    bus_round(runtime)  # the consumer writes deliveries: still no network
    assert len(log(client, client.get("/api/v1/webhooks").json["items"][0]["id"])) == 1


def test_running_workers_deliver_while_a_dead_receiver_never_slows_creation(
    tmp_path, receiver, unique_prefix
):
    from complaint_service.bootstrap import SPEC
    from revisit_common.config import Settings
    from revisit_common.runtime import ServiceRuntime
    from tests.support.polling import wait_until

    from .support import TOKEN

    settings = Settings(
        data_dir=tmp_path, internal_token=TOKEN, queue_prefix=unique_prefix, relay_interval=0.02
    )
    rt = ServiceRuntime(SPEC, settings)
    stop = threading.Event()
    try:
        client = Client(rt.create_app())
        live = register(client, receiver.url, ["complaint.raised.product"])
        register(client, closed_port_url(), ["#"])
        rt.start_workers(stop)
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            client.create()
            timings.append(time.perf_counter() - started)
        assert max(timings) < 0.5, timings
        wait_until(
            lambda: [d["status"] for d in log(client, live["id"])] == ["delivered"] * 10,
            timeout=15,
            message="10 deliveries recorded",
        )
        assert len(receiver.requests) == 10
    finally:
        stop.set()
        for thread in rt.threads:
            thread.join(timeout=5)
        rt.close()
