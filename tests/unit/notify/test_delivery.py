"""Webhook deliveries to a real local HTTP server (with REVISIT_WEBHOOK_ALLOW_PRIVATE on):
Standard Webhooks signatures verified by the ``standardwebhooks`` package, no redirects
followed, no response bodies kept, the address checked again at delivery (DNS rebinding),
and every event type of the catalogue delivered."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook as StandardWebhook

from notify_service import delivery, jobs
from notify_service.bootstrap import SPEC
from notify_service.delivery import DeliveryConfig
from notify_service.models import Delivery, DeliveryAttempt
from notify_service.options import NotifyOptions
from revisit_common.config import Settings
from revisit_common.events import CATALOGUE
from revisit_common.messaging.envelope import Envelope
from tests.support.client import Client
from tests.support.polling import wait_until
from tests.support.service import service_runtime
from tests.support.webhooks import (
    SECRET,
    Answer,
    Receiver,
    deliveries,
    register,
    sample_envelope,
)

LOCAL = DeliveryConfig(
    connect_timeout=0.5, read_timeout=2.0, backoff=1.0, max_attempts=3, allow_private=True
)


@pytest.fixture
def runtime(tmp_path):
    with service_runtime(
        SPEC, tmp_path, environment={"REVISIT_WEBHOOK_ALLOW_PRIVATE": "true"}
    ) as rt:
        yield rt


@pytest.fixture
def client(runtime):
    return Client(runtime.create_app())


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


def complaint_raised(runtime, tenant: str = "tenant-a") -> Envelope:
    """What the bus would do when the complaint service raises a complaint: hand the
    ComplaintRaised event (product department) to the notify consumer."""
    envelope = sample_envelope("ComplaintRaised", tenant)
    assert runtime.consumer.apply(envelope) == "applied"
    return envelope


# --------------------------------------------------------------------------- signatures


def test_signed_delivery_fails_once_then_the_retry_succeeds(client, runtime):
    receiver = Receiver(Answer(500, body=b"internal stack trace"))
    try:
        hook = register(client, receiver.url, ["ComplaintRaised"])
        raised = complaint_raised(runtime)
        now = datetime.now(UTC)
        assert delivery.deliver_due(runtime.db, LOCAL, now) == 1
        [first] = deliveries(client, hook["id"])
        assert (first["status"], first["attempts"], first["last_status"]) == ("pending", 1, 500)
        assert first["last_error"] == "HTTP 500"
        assert delivery.deliver_due(runtime.db, LOCAL, now) == 0  # not due before the back-off
        assert delivery.deliver_due(runtime.db, LOCAL, now + timedelta(seconds=1.5)) == 1
        [done] = deliveries(client, hook["id"])
        assert done["status"] == "delivered" and done["attempts"] == 2
        assert [a["status_code"] for a in done["attempt_log"]] == [500, 200]
        assert [a["error"] for a in done["attempt_log"]] == ["HTTP 500", None]
        assert done["delivered_at"]
        assert delivery.deliver_due(runtime.db, LOCAL, now + timedelta(hours=1)) == 0
    finally:
        receiver.close()
    assert len(receiver.requests) == 2
    (path, h1, b1), (_, h2, b2) = receiver.requests
    assert path == "/hooks/in" and b1 == b2
    expected = "sha256=" + hmac.new(SECRET.encode(), b1, hashlib.sha256).hexdigest()
    assert h1["X-Revisit-Signature"] == expected == h2["X-Revisit-Signature"]
    event = json.loads(b1)
    assert h1["X-Revisit-Event-Id"] == event["id"] == done["event_id"]
    assert h1["webhook-id"] == h2["webhook-id"] == event["id"]  # the same on a retry
    assert h1["Content-Type"] == "application/cloudevents+json"
    assert event["specversion"] == "1.0" and event["type"] == "ComplaintRaised"
    assert event["data"] == raised.data
    assert event["tenantid"] == "tenant-a"
    verifier = StandardWebhook(SECRET.encode())  # a secret not in whsec_ form: its bytes
    for headers, body in ((h1, b1), (h2, b2)):
        assert verifier.verify(body, headers)["id"] == event["id"]
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60


def test_a_generated_secret_verifies_with_the_standard_webhooks_package(client, runtime):
    receiver = Receiver()
    try:
        hook = register(client, receiver.url, ["complaint.raised.*"], secret=None)
        complaint_raised(runtime)
        assert delivery.deliver_due(runtime.db, LOCAL) == 1
    finally:
        receiver.close()
    [(_, headers, body)] = receiver.requests
    assert StandardWebhook(hook["secret"]).verify(body, headers)["type"] == "ComplaintRaised"
    tampered = body.replace(b"ComplaintRaised", b"ComplaintClosed")
    with pytest.raises(Exception, match="No matching signature"):
        StandardWebhook(hook["secret"]).verify(tampered, headers)
    replayed = {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    with pytest.raises(Exception, match="too old"):
        StandardWebhook(hook["secret"]).verify(body, replayed)


# --------------------------------------------------------------------------- what is kept


def test_redirects_are_not_followed(client, runtime):
    target = Receiver()
    redirecting = Receiver(Answer(302, {"Location": target.url}, b"moved"))
    try:
        hook = register(client, redirecting.url, ["ComplaintRaised"])
        complaint_raised(runtime)
        assert delivery.deliver_due(runtime.db, LOCAL) == 1
    finally:
        redirecting.close()
        target.close()
    [attempted] = deliveries(client, hook["id"])
    assert attempted["status"] == "pending" and attempted["last_status"] == 302
    assert attempted["last_error"] == "HTTP 302 (redirect not followed)"
    assert len(redirecting.requests) == 1
    assert target.requests == []


def test_no_response_body_is_stored(client, runtime):
    marker = "INTERNAL-ANSWER-a81f"
    receiver = Receiver(Answer(500, body=marker.encode() * 50), Answer(404, body=marker.encode()))
    try:
        hook = register(client, receiver.url, ["ComplaintRaised"])
        complaint_raised(runtime)
        at = datetime.now(UTC)
        assert delivery.deliver_due(runtime.db, LOCAL, at) == 1
        assert delivery.deliver_due(runtime.db, LOCAL, at + timedelta(hours=1)) == 1
    finally:
        receiver.close()
    shown = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").get_data(as_text=True)
    assert marker not in shown
    with runtime.db.read() as session:
        stored = repr(session.execute(sa.select(Delivery.last_error)).all())
        stored += repr(session.execute(sa.select(DeliveryAttempt.error)).all())
    assert marker not in stored
    [attempted] = deliveries(client, hook["id"])
    assert [a["error"] for a in attempted["attempt_log"]] == ["HTTP 500", "HTTP 404"]
    assert all(a["duration_ms"] >= 0 for a in attempted["attempt_log"])


def test_a_dead_receiver_is_retried_then_failed(client, runtime):
    hook = register(client, closed_port_url(), ["ComplaintRaised"])
    complaint_raised(runtime)
    at = datetime.now(UTC)
    for _ in range(LOCAL.max_attempts):
        assert delivery.deliver_due(runtime.db, LOCAL, at) == 1
        at += timedelta(hours=2)
    assert delivery.deliver_due(runtime.db, LOCAL, at) == 0
    [failed] = deliveries(client, hook["id"])
    assert failed["status"] == "failed" and failed["attempts"] == 3
    assert failed["last_status"] is None
    assert failed["last_error"] == "NewConnectionError"  # the class, no address or text
    assert len(failed["attempt_log"]) == 3
    assert deliveries(client, hook["id"], status="failed") == [failed]
    assert deliveries(client, hook["id"], status="delivered") == []


def test_url_credentials_become_basic_auth_and_never_reach_the_log(client, runtime, caplog):
    receiver = Receiver(Answer(503))
    url = receiver.url.replace("http://", "http://ops:pa55w0rd@")
    try:
        register(client, url, ["ComplaintRaised"])
        complaint_raised(runtime)
        with caplog.at_level(logging.INFO, logger="notify_service.delivery"):
            assert delivery.deliver_due(runtime.db, LOCAL) == 1
    finally:
        receiver.close()
    [(_, headers, _)] = receiver.requests
    sent = {name.lower(): value for name, value in headers.items()}
    assert sent["authorization"] == "Basic b3BzOnBhNTV3MHJk"  # ops:pa55w0rd
    assert caplog.messages and all("pa55w0rd" not in m and "ops" not in m for m in caplog.messages)
    assert any(m.endswith(f"127.0.0.1:{receiver.port} failed: HTTP 503") for m in caplog.messages)


# --------------------------------------------------------------------------- addresses


def test_delivery_connects_to_the_checked_address_with_the_name_as_host(client, runtime):
    receiver = Receiver()
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        return ["127.0.0.1"]

    try:
        url = f"http://hooks.dept.example:{receiver.port}/in?x=1"
        register(client, url, ["ComplaintRaised"])
        complaint_raised(runtime)
        config = DeliveryConfig(**{**LOCAL.__dict__, "resolve": resolve})
        assert delivery.deliver_due(runtime.db, config) == 1
    finally:
        receiver.close()
    assert asked == [("hooks.dept.example", receiver.port)]  # resolved once
    [(path, headers, _)] = receiver.requests
    assert path == "/in?x=1"
    assert headers["Host"] == f"hooks.dept.example:{receiver.port}"


def test_dns_rebinding_is_refused_at_delivery(tmp_path, receiver, caplog):
    """Public when registered, 127.0.0.1 when delivered: refused, logged, never sent."""
    with service_runtime(SPEC, tmp_path) as rt:
        app = rt.create_app()
        answers = iter([["93.184.216.34"], ["127.0.0.1"]])
        asked = []

        def rebinding(host, port):
            asked.append(host)
            return next(answers)

        app.config["WEBHOOK_RESOLVER"] = rebinding
        client = Client(app)
        url = f"http://rebind.attacker.example:{receiver.port}/in"
        hook = register(client, url, ["ComplaintRaised"])
        complaint_raised(rt)
        config = DeliveryConfig(**{**LOCAL.__dict__, "allow_private": False, "resolve": rebinding})
        with caplog.at_level(logging.INFO, logger="notify_service.delivery"):
            assert delivery.deliver_due(rt.db, config) == 1
        [refused] = deliveries(client, hook["id"])
        assert asked == ["rebind.attacker.example", "rebind.attacker.example"]
        assert (refused["status"], refused["attempts"]) == ("pending", 1)
        assert refused["last_status"] is None
        assert refused["last_error"] == "refused address"
        assert any(m.endswith("failed: refused address") for m in caplog.messages)
        assert receiver.requests == []


def test_a_private_literal_is_refused_at_delivery_once_the_switch_is_off(client, runtime):
    receiver = Receiver()
    try:
        hook = register(client, receiver.url, ["ComplaintRaised"])  # allowed when registered
        complaint_raised(runtime)
        strict = DeliveryConfig(**{**LOCAL.__dict__, "allow_private": False})
        assert delivery.deliver_due(runtime.db, strict) == 1
    finally:
        receiver.close()
    [refused] = deliveries(client, hook["id"])
    assert refused["last_error"] == "refused address"
    assert receiver.requests == []


def test_the_worker_job_takes_its_config_from_the_options(runtime, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(delivery, "deliver_due", lambda db, config: calls.append(config))
    jobs.webhook_delivery(runtime)
    env = {
        "REVISIT_WEBHOOK_TIMEOUT": "1.5",
        "REVISIT_WEBHOOK_BACKOFF": "3",
        "REVISIT_WEBHOOK_MAX_ATTEMPTS": "4",
    }
    chosen = NotifyOptions.from_env(Settings.from_env(env).environment)
    assert (chosen.webhook_timeout, chosen.webhook_backoff, chosen.webhook_max_attempts) == (
        1.5,
        3.0,
        4,
    )
    with service_runtime(SPEC, tmp_path / "b", environment=env) as strict:
        jobs.webhook_delivery(strict)
    assert [(c.allow_private, c.read_timeout, c.backoff, c.max_attempts) for c in calls] == [
        (True, 5.0, 10.0, 10),
        (False, 1.5, 3.0, 4),
    ]


# --------------------------------------------------------------------------- every type


def test_every_event_type_of_the_catalogue_is_delivered(client, runtime):
    everything = register(client, "https://all.example/h", ["#"])
    customers = register(client, "https://c.example/h", ["customer.*"])
    visits = register(client, "https://v.example/h", ["visit.*", "SurveyResponded"])
    product = register(client, "https://p.example/h", ["#"], department="product")
    for type_name in CATALOGUE:
        runtime.consumer.apply(sample_envelope(type_name, "tenant-a"))
        runtime.consumer.apply(sample_envelope(type_name, "tenant-b"))  # not for tenant-a
    assert sorted(d["event_type"] for d in deliveries(client, everything["id"])) == sorted(
        CATALOGUE
    )
    assert sorted(d["routing_key"] for d in deliveries(client, customers["id"])) == [
        "customer.contact_dates_changed",
        "customer.graded",
        "customer.marketing_event_held",
        "customer.project_completed",
        "customer.purchase_recorded",
        "customer.registered",
        "customer.repair_closed",
        "customer.risk_changed",
    ]
    assert sorted(d["routing_key"] for d in deliveries(client, visits["id"])) == [
        "survey.responded",
        "visit.audited",
        "visit.cancelled",
        "visit.completed",
        "visit.overdue",
        "visit.scheduled",
    ]
    assert sorted(d["routing_key"] for d in deliveries(client, product["id"])) == [
        "complaint.assigned.product",
        "complaint.closed.product",
        "complaint.escalated.product",
        "complaint.raised.product",
        "complaint.reopened.product",
        "complaint.reported_upward.product",
        "issue.confirmed.product",
        "issue.raised.product",
        "issue.reopened.product",
        "issue.resolved.product",
        "staff.changed",  # a person of the product department
    ]


def test_running_workers_deliver_the_events_published_on_the_bus(tmp_path, receiver):
    """The queue binds every routing key: ComplaintRaised and CustomerRegistered put on the
    (in-memory) bus reach the webhook through the consumer, and the worker's job sends them,
    while a dead receiver of every event holds nothing up."""
    stop = threading.Event()
    with service_runtime(
        SPEC, tmp_path, relay_interval=0.02, environment={"REVISIT_WEBHOOK_ALLOW_PRIVATE": "true"}
    ) as rt:
        try:
            client = Client(rt.create_app())
            live = register(client, receiver.url, ["customer.*", "complaint.raised.product"])
            register(client, closed_port_url(), ["#"])
            rt.start_workers(stop)
            with rt.db.transaction() as session:
                for type_name in ["ComplaintRaised"] * 5 + ["CustomerRegistered"]:
                    event = CATALOGUE[type_name](**sample_envelope(type_name, "tenant-a").data)
                    rt.outbox.add(session, event, tenant_id="tenant-a")
            wait_until(
                lambda: [d["status"] for d in deliveries(client, live["id"])] == ["delivered"] * 6,
                timeout=15,
                message="6 deliveries recorded",
            )
            types = sorted(json.loads(body)["type"] for _, _, body in receiver.requests)
            assert types == ["ComplaintRaised"] * 5 + ["CustomerRegistered"]
        finally:
            stop.set()
            for thread in rt.threads:
                thread.join(timeout=5)
