"""The messaging core on kombu's memory:// transport and SQLite: fast, no servers.

memory:// state lives for the whole process, so every test uses its own queue prefix and
deletes its queues afterwards.
"""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
from kombu import Producer

from revisit_common.messaging import memory_publisher
from revisit_common.messaging.bus import Bus
from revisit_common.messaging.envelope import parse
from revisit_common.messaging.outbox import pending_count
from revisit_common.messaging.relay import PublishFailed, Relay
from tests.support import fake_service as fake
from tests.support import memory_bus
from tests.support.fake_service import HANDLERS, TENANT, NoteFlagged
from tests.support.settled import watch_settled


@pytest.fixture
def settings(tmp_path):
    yield from memory_bus.own_queues(
        tmp_path, relay_interval=0.02, consumer_retries=2, consumer_backoff=0.01
    )


@pytest.fixture
def runtimes():
    with fake.built_runtimes() as build:
        yield build


def _queue_messages(runtime, dead: bool = False) -> list:
    """Take every message waiting in the service's queue (or dead-letter queue)."""
    return memory_bus.drain(runtime.consumer.dead_queue if dead else runtime.consumer.queue)


def test_event_is_relayed_consumed_and_applied_once(settings, runtimes):
    seen = []
    lock = threading.Lock()

    def spy(session, envelope, context):
        with lock:
            seen.append(envelope)
        HANDLERS["NoteWritten"](session, envelope, context)

    consumer = runtimes(settings, handlers={"NoteWritten": spy})
    writer = runtimes(settings, name="writer", handlers={})
    settled = watch_settled(consumer)
    with fake.running(consumer), fake.running(writer):
        written = [
            fake.record_note(writer, f"note-{i}", correlation_id=f"req-{i}") for i in range(5)
        ]
        assert settled.wait(5) == [(e.id, "applied") for e in written]
    assert fake.note_counts(consumer.db) == {f"note-{i}": 1 for i in range(5)}
    assert sorted(fake.inbox_ids(consumer.db)) == sorted(e.id for e in written)
    assert {e.id: e.correlationid for e in seen} == {e.id: e.correlationid for e in written}
    assert all(e.tenantid == TENANT and e.region == "eu-test" for e in seen)
    assert pending_count(writer.db) == 0


def test_duplicate_delivery_is_acked_and_skipped(settings, runtimes):
    consumer = runtimes(settings)
    consumer.declare()
    key, twice = fake.note_envelope(settings, "twice")
    _, after = fake.note_envelope(settings, "after")
    memory_bus.publish(key, twice.to_json(), twice.to_json(), after.to_json())

    settled = watch_settled(consumer)
    with fake.running(consumer):
        assert settled.wait(3) == [
            (twice.id, "applied"),
            (twice.id, "duplicate"),
            (after.id, "applied"),
        ]
    assert fake.note_counts(consumer.db) == {"twice": 1, "after": 1}
    assert sorted(fake.inbox_ids(consumer.db)) == sorted([twice.id, after.id])
    assert _queue_messages(consumer) == []  # the copy was acked, not left behind


def test_failing_handler_is_dead_lettered_and_the_rest_applied(settings, runtimes):
    consumer = runtimes(settings)
    writer = runtimes(settings, name="writer", handlers={})
    consumer.declare()
    flagged = fake.record_note(writer, "poison", event_cls=NoteFlagged)
    for i in range(3):
        fake.record_note(writer, f"later-{i}")
    memory_bus.publish(f"note.written.{settings.queue_prefix}", b"{not json")

    settled = watch_settled(consumer)
    with fake.running(consumer), fake.running(writer):
        settled.wait(5)
    assert sorted(settled.outcomes()) == ["applied"] * 3 + ["dead"] * 2
    assert fake.note_counts(consumer.db) == {f"later-{i}": 1 for i in range(3)}
    invalid, poison = _queue_messages(consumer, dead=True)
    assert invalid.body == b"{not json"
    assert "not JSON" in invalid.headers["x-revisit-reason"]
    assert parse(poison.body).id == flagged.id
    assert "NoteRejected" in poison.headers["x-revisit-reason"]
    assert poison.headers["x-revisit-attempts"] == settings.consumer_retries + 1
    assert flagged.id not in fake.inbox_ids(consumer.db)
    assert _queue_messages(consumer) == []


def test_handler_sql_error_on_sqlite_is_dead_lettered_not_requeued(settings, runtimes):
    """sqlite3 reports a SQL mistake as OperationalError: not a database outage."""

    def bad_sql(session, envelope, context):
        session.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))

    consumer = runtimes(settings, handlers={**HANDLERS, "NoteFlagged": bad_sql})
    writer = runtimes(settings, name="writer", handlers={})
    consumer.declare()
    flagged = fake.record_note(writer, "bad sql", event_cls=NoteFlagged)
    later = fake.record_note(writer, "later")

    settled = watch_settled(consumer)
    with fake.running(consumer), fake.running(writer):
        assert settled.wait(2) == [(flagged.id, "dead"), (later.id, "applied")]
    [poison] = _queue_messages(consumer, dead=True)
    assert parse(poison.body).id == flagged.id
    assert "no such table" in poison.headers["x-revisit-reason"]
    assert poison.headers["x-revisit-attempts"] == settings.consumer_retries + 1


def test_relay_marks_rows_sent_only_after_they_were_published(settings, runtimes, monkeypatch):
    class FailingThirdPublish(Producer):
        published = 0

        def publish(self, *args, **kwargs):
            if FailingThirdPublish.published == 2:
                raise ConnectionError("broker went away")
            result = super().publish(*args, **kwargs)
            FailingThirdPublish.published += 1
            return result

    consumer = runtimes(settings)
    writer = runtimes(settings, name="writer", handlers={})
    consumer.declare()
    written = [fake.record_note(writer, f"n-{i}").id for i in range(5)]
    assert _queue_messages(consumer) == []  # a commit alone publishes nothing

    monkeypatch.setattr(memory_publisher, "Producer", FailingThirdPublish)
    with pytest.raises(PublishFailed, match="2 of 5"):
        writer.relay.run_once()
    rows = fake.outbox_rows(writer.db)
    assert [row.sent_at is not None for row in rows] == [True, True, False, False, False]
    assert rows[2].attempts == 1 and "broker went away" in rows[2].last_error
    assert [parse(m.body).id for m in _queue_messages(consumer)] == written[:2]

    monkeypatch.undo()
    assert writer.relay.run_once() == 3
    assert pending_count(writer.db) == 0
    assert [parse(m.body).id for m in _queue_messages(consumer)] == written[2:]
    assert json.loads(rows[0].body)["id"] == written[0]


def test_a_row_is_sent_once_every_consumer_on_the_bus_settled_it(settings, runtimes):
    """memory:// loses what it holds when the process dies: a row counts as delivered only
    once the consumers bound to it have applied it; until then it is not published twice
    by the same relay, and a relay of the next process publishes it again."""
    bus = Bus(None)
    consumer = runtimes(settings, bus=bus)
    writer = runtimes(settings, name="writer", handlers={}, bus=bus)
    consumer.declare()
    written = [fake.record_note(writer, f"n-{i}").id for i in range(3)]

    assert writer.relay.run_once() == 0  # handed to the bus, none applied: none sent
    assert writer.relay.run_once() == 0  # in flight: not handed to the bus again
    assert pending_count(writer.db) == 3
    assert [parse(m.body).id for m in _queue_messages(consumer)] == written  # taken: "lost"

    # The next process: a new relay publishes every unsettled row; the consumer applies each.
    restarted = Relay("writer", writer.db, bus, writer.outbox, batch=10)
    assert restarted.run_once() == 0
    settled = watch_settled(consumer)
    with fake.running(consumer):
        settled.wait(3)
        assert restarted.run_once() == 3  # the settled rows marked sent
    assert pending_count(writer.db) == 0
    assert fake.note_counts(consumer.db) == {"n-0": 1, "n-1": 1, "n-2": 1}
