"""The relay's window of publisher confirms, and its wake-up by NOTIFY, on the real broker.

A batch is published in full, then its confirms are awaited together; rows are marked sent
only for the run of acks from the start of the batch: a nack (here a real one, from a queue
that is full and rejects publishes) or a confirm that does not come in time leaves that row
and the rest of the batch unsent, to be published again on a later pass.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue

from revisit_common.messaging.amqp_publisher import AmqpPublisher
from revisit_common.messaging.bus import Bus
from revisit_common.messaging.confirm_window import ConfirmWindow
from revisit_common.messaging.memory_publisher import MemoryPublisher
from revisit_common.messaging.outbox import Outbox, pending_count
from revisit_common.messaging.relay import PublishFailed, Relay
from revisit_common.messaging.topology import EVENTS
from tests.support.fake_service import outbox_rows, record_note
from tests.support.polling import wait_until
from tests.support.settings import make_settings


def _ids(messages) -> list[str]:
    return [json.loads(m.body)["id"] for m in messages]


def test_confirm_window_bookkeeping():
    window = ConfirmWindow()
    for _ in range(6):
        window.sent()
    assert window.next_tag == 7
    assert not window.all_settled(1, 6)
    window.settle(3, multiple=True, ok=True)  # 1, 2, 3
    window.settle(5, multiple=False, ok=True)  # 5 alone
    assert [window.acked(t) for t in range(1, 7)] == [True, True, True, False, True, False]
    window.settle(4, multiple=False, ok=False)
    assert not window.all_settled(1, 6)
    window.settle(6, multiple=True, ok=True)  # settles 6 only: 4 was nacked, 5 acked already
    assert window.all_settled(1, 6)
    assert [window.acked(t) for t in range(1, 7)] == [True, True, True, False, True, True]
    window.forget(1, 6)
    assert window.pending() == 0


def test_a_batch_is_published_then_confirmed_at_once(postgres_settings, runtimes, pika_client):
    settings = postgres_settings
    writer = runtimes(settings, name="writer", handlers={})
    queue = pika_client.tap(f"note.*.{settings.queue_prefix}")
    written = [record_note(writer, f"w-{i}").id for i in range(120)]

    waits = []
    real_wait = AmqpPublisher.await_confirms

    def spy(self, first, count):
        waits.append((first, count))
        return real_wait(self, first, count)

    relay = Relay("writer", writer.db, writer.bus, writer.outbox, batch=50)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(AmqpPublisher, "await_confirms", spy)
            assert [relay.run_once() for _ in range(3)] == [50, 50, 20]
        # one channel in confirm mode: its messages numbered 1..120, none left unsettled
        assert isinstance(relay.publisher, AmqpPublisher)
        assert relay.publisher.window.next_tag == 121 and relay.publisher.window.pending() == 0
    finally:
        relay.close()
    assert waits == [(1, 50), (51, 50), (101, 20)]
    assert pending_count(writer.db) == 0
    delivered = _ids(pika_client.collect(queue, set(written)))
    assert delivered == written  # each once, in outbox order


def test_a_batch_reaches_the_socket_as_one_write(postgres_settings, runtimes, pika_client):
    """A batch's 150 frames (method, header and body of each of 50 messages) are handed to
    the socket's transport together, not one write (and send) each."""
    writer = runtimes(postgres_settings, name="writer", handlers={})
    queue = pika_client.tap(f"note.*.{postgres_settings.queue_prefix}")
    written = [record_note(writer, f"j-{i}").id for i in range(100)]
    relay = Relay("writer", writer.db, writer.bus, writer.outbox, batch=50)
    try:
        assert relay.run_once() == 50  # connects, then publishes the first batch
        before = relay.publisher.io.writes
        assert relay.run_once() == 50
        assert relay.publisher.io.writes - before == 1
    finally:
        relay.close()
    assert _ids(pika_client.collect(queue, set(written))) == written  # in order, each once


def test_a_nacked_message_and_the_rest_of_its_batch_stay_unsent(
    settings, runtimes, pika_client, amqp_url
):
    """A full queue with overflow=reject-publish nacks what is routed to it."""
    writer = runtimes(settings, name="writer", handlers={})
    lane = settings.queue_prefix
    full = Queue(
        f"{lane}.test.full",
        exchange=Exchange(EVENTS.name, type="topic", durable=True),
        routing_key=f"note.*.{lane}",
        durable=False,
        auto_delete=True,
        queue_arguments={"x-max-length": 3, "x-overflow": "reject-publish"},
    )
    written = [record_note(writer, f"n-{i}").id for i in range(5)]
    with Connection(amqp_url) as conn:
        bound = full(conn.channel())
        bound.declare()
        relay = Relay("writer", writer.db, Bus(amqp_url, publish_timeout=3.0), writer.outbox)
        try:
            with pytest.raises(PublishFailed, match="3 of 5"):
                relay.run_once()
            rows = outbox_rows(writer.db)
            assert [row.sent_at is not None for row in rows] == [True] * 3 + [False] * 2
            assert rows[3].attempts == 1 and "nacked" in rows[3].last_error
            assert rows[4].attempts == 0
            assert relay.publisher is None  # dropped: its confirm count is no longer trusted

            got = []
            while (message := bound.get(no_ack=True)) is not None:
                got.append(json.loads(message.body)["id"])
            assert got == written[:3]

            assert relay.run_once() == 2  # room again: the rest goes
            assert pending_count(writer.db) == 0
            got = []
            while (message := bound.get(no_ack=True)) is not None:
                got.append(json.loads(message.body)["id"])
            assert got == written[3:]
        finally:
            relay.close()
            bound.delete()


def test_confirms_that_do_not_come_in_time_leave_the_rows_unsent(
    settings, runtimes, pika_client, monkeypatch
):
    writer = runtimes(settings, name="writer", handlers={})
    queue = pika_client.tap(f"note.*.{settings.queue_prefix}")
    written = [record_note(writer, f"t-{i}").id for i in range(4)]

    # The broker's acks for tags 3 and later are lost on the way.
    real_settle = ConfirmWindow.settle

    def lossy(self, tag, multiple, ok):
        if tag <= 2:
            real_settle(self, tag, multiple, ok)
        elif multiple:
            real_settle(self, 2, True, ok)  # only the part up to tag 2 gets through

    monkeypatch.setattr(ConfirmWindow, "settle", lossy)
    relay = Relay("writer", writer.db, Bus(writer.bus.url, publish_timeout=0.5), writer.outbox)
    try:
        started = time.monotonic()
        with pytest.raises(PublishFailed, match="2 of 4"):
            relay.run_once()
        assert time.monotonic() - started < 3
        rows = outbox_rows(writer.db)
        assert [row.sent_at is not None for row in rows] == [True, True, False, False]
        assert "no confirm" in rows[2].last_error
        monkeypatch.undo()
        assert relay.run_once() == 2
    finally:
        relay.close()
    delivered = _ids(pika_client.collect(queue, set(written)))
    # the two unconfirmed were published twice (at least once: consumers dedupe by id)
    assert sorted(set(delivered)) == sorted(written)
    assert delivered.count(written[0]) == 1 and delivered.count(written[2]) == 2


def test_memory_transport_keeps_publishing_one_by_one(tmp_path, runtimes):

    settings = make_settings(data_dir=tmp_path, queue_prefix="mwin", region="eu-test")
    writer = runtimes(settings, name="writer", handlers={})
    record_note(writer, "m")
    assert writer.relay.run_once() == 1
    assert isinstance(writer.relay.publisher, MemoryPublisher)  # no window of confirms


def test_notify_wakes_a_relay_in_another_process(postgres_settings, runtimes, pika_client):
    """A relay whose outbox object is not the writer's (as in another process) still starts
    at once on commit: PostgreSQL NOTIFY, not its (here 30 s) poll."""
    settings = postgres_settings
    writer = runtimes(settings, name="writer", handlers={})
    queue = pika_client.tap(f"note.*.{settings.queue_prefix}")
    elsewhere = Outbox(settings.region, "writer")  # another process's: its own wake event
    relay = Relay("writer", writer.db, writer.bus, elsewhere, interval=30.0)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    since = _server_time(writer.db)
    thread.start()
    try:
        wait_until(lambda: pending_count(writer.db) == 0, message="first pass done")
        wait_until(lambda: _listening_since(writer.db, since), message="the relay listens")
        started = time.monotonic()
        note = record_note(writer, "wake up")
        wait_until(lambda: pending_count(writer.db) == 0, timeout=5, message="relayed")
        assert time.monotonic() - started < 2.0
        [message] = pika_client.collect(queue, {note.id})
    finally:
        stop.set()
        elsewhere.wake_event.set()
        thread.join(10)
    assert not thread.is_alive()
    assert json.loads(message.body)["id"] == note.id


def _server_time(db):
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()


def _listening_since(db, since) -> bool:
    """A session of this database ran ``LISTEN`` after ``since`` and now waits, idle."""
    with db.engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'idle' AND query LIKE 'LISTEN %' AND state_change > :since"
            ),
            {"since": since},
        ).scalar_one()
    return found > 0
