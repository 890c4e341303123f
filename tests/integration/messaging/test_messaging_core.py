"""The messaging core against the real RabbitMQ, with SQLite and with real PostgreSQL.

Producers are fake-service runtimes named "writer" (no handlers); the consumer is the
runtime named "test". What reaches the broker is checked with a plain pika client, so the
tests see the wire format, not kombu's view of it. Note events travel in the test's own
lane (``note.<verb>.<queue prefix>``), so test runs sharing the broker stay apart.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import datetime

import pytest

from revisit_common.messaging.bus import Bus
from revisit_common.messaging.envelope import CONTENT_TYPE
from revisit_common.messaging.outbox import pending_count
from revisit_common.messaging.relay import PublishFailed, Relay
from tests.support.fake_service import (
    HANDLERS,
    TENANT,
    NoteFlagged,
    inbox_ids,
    note_counts,
    note_envelope,
    outbox_rows,
    record_note,
    running,
)
from tests.support.outbox import relay_all
from tests.support.polling import wait_until
from tests.support.settled import watch_settled

DOWN_URL = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
ENVELOPE_ATTRIBUTES = {
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "tenantid",
    "region",
    "dataversion",
    "correlationid",
    "data",
}


def _ids(messages) -> Counter:
    return Counter(json.loads(m.body)["id"] for m in messages)


def test_relayed_event_is_a_persistent_cloudevent_seen_by_a_pika_queue(
    settings, runtimes, pika_client
):
    writer = runtimes(settings, name="writer", handlers={})
    queue = pika_client.tap("note.*")
    correlation_id = f"req-{uuid.uuid4()}"

    # lane "": routed as plain "note.written", which a "note.*" binding matches
    envelope = record_note(writer, "hello", correlation_id=correlation_id, lane="")
    assert pending_count(writer.db) == 1
    assert pika_client.collect(queue, {envelope.id}, timeout=0) == []  # not before the relay

    assert writer.relay.run_once() == 1
    # published on a channel in confirm mode, its confirm counted: the window moved on
    assert writer.relay.publisher.window.next_tag == 2, "relay channel not in confirm mode"

    [message] = pika_client.collect(queue, {envelope.id})
    assert message.routing_key == "note.written"
    assert message.properties.content_type == "application/cloudevents+json"
    assert message.properties.delivery_mode == 2
    doc = json.loads(message.body)
    assert set(doc) >= ENVELOPE_ATTRIBUTES
    assert doc["specversion"] == "1.0"
    assert doc["id"] == envelope.id and str(uuid.UUID(doc["id"])) == doc["id"]
    assert doc["source"] == f"revisit/{writer.name}"  # the publishing service
    assert doc["type"] == "NoteWritten"
    assert datetime.fromisoformat(doc["time"]).utcoffset() is not None
    assert doc["subject"] == doc["data"]["note_id"]
    assert doc["datacontenttype"] == "application/json"
    assert doc["tenantid"] == TENANT
    assert doc["region"] == "eu-test"
    assert type(doc["dataversion"]) is int and doc["dataversion"] == 1
    assert doc["correlationid"] == correlation_id
    assert doc["data"] == {"note_id": doc["subject"], "text": "hello", "lane": ""}

    [row] = outbox_rows(writer.db)
    assert row.sent_at is not None and row.attempts == 0
    assert writer.relay.run_once() == 0  # a sent row is never published again
    assert pika_client.collect(queue, {envelope.id}, timeout=0) == []


def test_broker_outage_delays_events_and_loses_none(settings, runtimes, pika_client, amqp_url):
    down = Bus(DOWN_URL, publish_timeout=3.0)
    writer = runtimes(settings, name="writer", handlers={}, bus=down)
    queue = pika_client.tap(f"note.*.{settings.queue_prefix}")

    written = []
    durations = []
    with running(writer):  # the relay keeps trying the dead broker all along
        for i in range(20):
            started = time.monotonic()
            written.append(record_note(writer, f"outage-{i}").id)
            durations.append(time.monotonic() - started)
            time.sleep(0.02)  # spread the writes over the relay's attempts
    # A write that waited on the broker would take its publish timeout (3 s); a busy machine
    # alone makes a write slow by a fraction of that.
    slowest = max(durations)
    assert slowest < down.publish_timeout, f"a write waited on the broker: {slowest:.2f} s"
    assert pending_count(writer.db) == 20

    started = time.monotonic()
    with pytest.raises(PublishFailed):
        writer.relay.run_once()
    assert time.monotonic() - started < down.publish_timeout
    rows = outbox_rows(writer.db)
    assert all(row.sent_at is None for row in rows)
    assert rows[0].attempts >= 1 and rows[0].last_error
    assert pika_client.collect(queue, set(written), timeout=0) == []

    # The broker is back: a relay on the real broker sends every row exactly once.
    relay = Relay("writer", writer.db, Bus(amqp_url, publish_timeout=2.0), writer.outbox, batch=7)
    try:
        assert relay_all(writer, relay=relay) == 20
    finally:
        relay.close()
    delivered = _ids(pika_client.collect(queue, set(written)))
    assert set(delivered) == set(written), "events lost"
    assert max(delivered.values()) == 1, "events published twice"


def test_event_delivered_twice_is_applied_once(settings, runtimes, pika_client):
    consumer = runtimes(settings)
    consumer.declare()
    key, twice = note_envelope(settings, "twice")
    _, after = note_envelope(settings, "after")

    settled = watch_settled(consumer)
    with running(consumer):
        for body in (twice.to_json(), twice.to_json(), after.to_json()):
            pika_client.publish(key, body, content_type=CONTENT_TYPE)
        assert sorted(settled.wait(3)) == sorted(
            [(twice.id, "applied"), (twice.id, "duplicate"), (after.id, "applied")]
        )

    assert note_counts(consumer.db) == {"twice": 1, "after": 1}
    assert sorted(inbox_ids(consumer.db)) == sorted([twice.id, after.id])
    assert pika_client.queue_depth(f"{settings.queue_prefix}.test") == 0  # the copy was acked


def test_failing_handler_is_retried_then_dead_lettered_and_the_rest_applied(
    settings, runtimes, pika_client
):
    calls: list[float] = []

    def failing(session, envelope, context):
        calls.append(time.monotonic())
        HANDLERS["NoteFlagged"](session, envelope, context)

    consumer = runtimes(settings, handlers={**HANDLERS, "NoteFlagged": failing})
    writer = runtimes(settings, name="writer", handlers={})
    consumer.declare()
    flagged = record_note(writer, "poison", event_cls=NoteFlagged)
    later = [record_note(writer, f"later-{i}").id for i in range(5)]
    dead_queue = f"{settings.queue_prefix}.test.dead"

    settled = watch_settled(consumer)
    with running(consumer), running(writer):
        outcomes = settled.wait_for(flagged.id, *later)
        dead = wait_until(lambda: pika_client.get(dead_queue), message="dead letter")
    assert outcomes == {flagged.id: "dead", **{event_id: "applied" for event_id in later}}

    assert json.loads(dead.body)["id"] == flagged.id
    headers = dead.properties.headers
    assert "NoteRejected" in headers["x-revisit-reason"]
    assert headers["x-revisit-service"] == "test"
    assert headers["x-revisit-attempts"] == settings.consumer_retries + 1
    assert headers["x-revisit-routing-key"] == f"note.flagged.{settings.queue_prefix}"
    assert dead.properties.delivery_mode == 2
    # Bounded retries, each after a growing back-off.
    assert len(calls) == settings.consumer_retries + 1
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    for attempt, gap in enumerate(gaps):
        assert gap >= settings.consumer_backoff * 2**attempt * 0.9
    assert note_counts(consumer.db) == {f"later-{i}": 1 for i in range(5)}
    assert flagged.id not in inbox_ids(consumer.db)
    assert pika_client.get(dead_queue) is None  # exactly one dead letter
    assert pika_client.queue_depth(f"{settings.queue_prefix}.test") == 0


def test_invalid_bodies_are_dead_lettered_and_the_consumer_goes_on(settings, runtimes, pika_client):
    consumer = runtimes(settings)
    consumer.declare()
    key, valid = note_envelope(settings, "valid")
    not_json = b"\xff this is not json"
    not_cloudevent = json.dumps({"hello": "world"}).encode()
    too_deep = b"[" * 100_000 + b"]" * 100_000  # deeper than json reads (RecursionError)
    dead_queue = f"{settings.queue_prefix}.test.dead"

    settled = watch_settled(consumer)
    with running(consumer):
        pika_client.publish(key, not_json, content_type="text/plain")
        pika_client.publish(key, not_cloudevent, content_type=CONTENT_TYPE)
        pika_client.publish(key, too_deep, content_type=CONTENT_TYPE)
        pika_client.publish(key, valid.to_json(), content_type=CONTENT_TYPE)
        assert settled.wait(4) == [(None, "dead")] * 3 + [(valid.id, "applied")]
        first = wait_until(lambda: pika_client.get(dead_queue), message="first dead letter")
        second = wait_until(lambda: pika_client.get(dead_queue), message="second dead letter")
        third = wait_until(lambda: pika_client.get(dead_queue), message="third dead letter")

    assert first.body == not_json
    assert "not JSON" in first.properties.headers["x-revisit-reason"]
    assert first.properties.headers["x-revisit-attempts"] == 0
    assert second.body == not_cloudevent
    assert "not a revisit CloudEvent" in second.properties.headers["x-revisit-reason"]
    assert third.body == too_deep
    assert "not JSON: maximum recursion depth" in third.properties.headers["x-revisit-reason"]
    assert note_counts(consumer.db) == {"valid": 1}
    assert pika_client.queue_depth(f"{settings.queue_prefix}.test") == 0


def test_two_relays_on_postgres_publish_every_row(
    postgres_settings, runtimes, pika_client, amqp_url
):
    settings = postgres_settings
    writer = runtimes(settings, name="writer", handlers={})
    consumer = runtimes(settings)
    consumer.declare()
    queue = pika_client.tap(f"note.*.{settings.queue_prefix}")
    total = 400
    written = [record_note(writer, f"pg-{i}").id for i in range(total)]

    # Two relays as two processes would be: their own engine and broker connection each.
    other = runtimes(settings, name="writer", handlers={})
    relays = [
        Relay("writer", rt.db, Bus(amqp_url, publish_timeout=2.0), rt.outbox, batch=20)
        for rt in (writer, other)
    ]
    sent = [0, 0]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def drain(index: int) -> None:
        try:
            barrier.wait(5)
            deadline = time.monotonic() + 10
            while pending_count(writer.db) and time.monotonic() < deadline:
                sent[index] += relays[index].run_once()
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
        finally:
            relays[index].close()

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert not errors, errors
    assert pending_count(writer.db) == 0
    assert all(sent), f"both relays should have taken rows: {sent}"

    delivered = _ids(pika_client.collect(queue, set(written)))
    assert set(delivered) == set(written), "rows lost"
    duplicates = sum(delivered.values()) - total
    assert sum(sent) == total + duplicates
    print(f"two relays: {sent} rows each, {duplicates} duplicates")

    settled = watch_settled(consumer)
    with running(consumer):
        settled.wait(total + duplicates)
    assert note_counts(consumer.db) == {f"pg-{i}": 1 for i in range(total)}


def test_consumer_stopped_mid_stream_then_restarted_loses_nothing(settings, runtimes):
    total = 150
    applied = Counter()

    def counted(session, envelope, context):
        time.sleep(0.005)  # slow enough to be stopped half-way
        HANDLERS["NoteWritten"](session, envelope, context)
        applied[envelope.id] += 1

    handlers = {"NoteWritten": counted}
    writer = runtimes(settings, name="writer", handlers={})
    first = runtimes(settings, handlers=handlers)
    first.declare()
    written = [record_note(writer, f"m-{i}").id for i in range(total)]
    assert relay_all(writer) == total

    settled_first = watch_settled(first)
    with running(first):
        settled_first.wait(20)  # the first consumer under way
    stopped_at = len(inbox_ids(first.db))
    assert stopped_at < total, "the consumer finished before it was stopped: test proves nothing"

    # A new process: a new runtime on the same database and queue.
    second = runtimes(settings, handlers=handlers)
    with running(second):
        watch_settled(second).wait_for(*set(written) - set(settled_first.ids()), timeout=20)
    assert sorted(inbox_ids(second.db)) == sorted(written)
    assert note_counts(second.db) == {f"m-{i}": 1 for i in range(total)}
    assert max(applied.values()) == 1


def test_the_same_runtime_can_stop_and_start_its_workers_again(sqlite_settings, runtimes):
    settings = sqlite_settings
    runtime = runtimes(settings)
    writer = runtimes(settings, name="writer", handlers={})
    settled = watch_settled(runtime)
    with running(runtime), running(writer):
        first = record_note(writer, "before restart")
        settled.wait_for(first.id)
    with running(runtime), running(writer):
        second = record_note(writer, "after restart")
        settled.wait_for(second.id)
    assert note_counts(runtime.db) == {"before restart": 1, "after restart": 1}
