"""The consumer's receiver on RabbitMQ (pika): batches of at most ``batch`` in delivery
order, the rest kept for the next take; one ``multiple`` ack settles exactly the batch; a
requeued message comes again; an empty queue gives nothing once the wait is over."""

from __future__ import annotations

import time

import pika.exceptions
import pytest

from revisit_common.messaging.bus import Bus
from revisit_common.messaging.envelope import CONTENT_TYPE
from revisit_common.messaging.receiver import ChannelLost, ConsumerCancelled, PikaReceiver
from revisit_common.messaging.topology import service_queue
from tests.support.fake_service import note_counts, note_envelope, running
from tests.support.polling import wait_until
from tests.support.settled import watch_settled


@pytest.fixture
def queue(broker_queues, pika_client):
    """The test's own queue ``<prefix>.test``, bound to a routing key only it uses."""
    key = f"receiver.{broker_queues}"
    declared = service_queue("test", [key], prefix=broker_queues)
    pika_client.channel.queue_declare(
        declared.name, durable=True, arguments=declared.queue_arguments
    )
    pika_client.channel.queue_bind(declared.name, "revisit.events", routing_key=key)
    return declared, key


def taken(receiver: PikaReceiver, batch: int, count: int) -> list:
    """Takes until ``count`` messages came (a take may end early: a gap in the deliveries)."""
    out: list = []
    deadline = time.monotonic() + 10
    while len(out) < count and time.monotonic() < deadline:
        got = receiver.take(batch, 1.0)
        assert len(got) <= batch
        out += got
    return out


def test_batches_are_bounded_and_one_ack_settles_exactly_one(amqp_url, pika_client, queue):
    declared, key = queue
    for n in range(30):
        pika_client.publish(key, f"m-{n}".encode())
    receiver = PikaReceiver(Bus(amqp_url, prefetch=50), declared)
    receiver.start()
    try:
        first = taken(receiver, 10, 10)
        assert [m.body for m in first] == [f"m-{n}".encode() for n in range(10)]
        assert {m.delivery_info["routing_key"] for m in first} == {key}
        first[-1].ack(multiple=True)
        rest = taken(receiver, 25, 20)
        assert [m.body for m in rest] == [f"m-{n}".encode() for n in range(10, 30)]
        rest[0].requeue()  # m-10 goes back to the queue and comes again
        again = taken(receiver, 5, 1)
        assert [m.body for m in again] == [b"m-10"]
        again[0].ack()
        rest[4].ack()  # m-14 alone
    finally:
        receiver.close()
    # m-0..m-9, m-10 and m-14 acked; the 18 others are requeued once the connection closed
    # (a quorum queue counts them back a moment after the close)
    wait_until(lambda: pika_client.queue_depth(declared.name) == 18, timeout=5, message="18 back")
    assert pika_client.queue_depth(declared.name) == 18


def test_an_empty_queue_gives_nothing_after_the_wait(amqp_url, queue):
    declared, _ = queue
    receiver = PikaReceiver(Bus(amqp_url, prefetch=5), declared)
    receiver.start()
    try:
        started = time.monotonic()
        assert receiver.take(10, 0.3) == []
        assert 0.25 <= time.monotonic() - started < 2.0
    finally:
        receiver.close()


def raised_by_a_take(receiver: PikaReceiver, error: type[Exception]) -> None:
    """``error`` comes within a take or two (what the broker sent is read by the next
    takes), and the consumer counts it among the errors it reconnects after."""
    with pytest.raises(error):
        for _ in range(20):
            receiver.take(5, 0.2)
    assert issubclass(error, PikaReceiver.errors)


def test_a_consumer_the_broker_cancels_is_a_lost_connection(amqp_url, pika_client, queue):
    declared, _ = queue
    receiver = PikaReceiver(Bus(amqp_url, prefetch=5), declared)
    receiver.start()
    try:
        pika_client.channel.queue_delete(declared.name)
        raised_by_a_take(receiver, ConsumerCancelled)  # the broker's Basic.Cancel
    finally:
        receiver.close()


def test_a_channel_the_broker_closes_is_a_lost_connection(amqp_url, pika_client, queue):
    """An ack the broker refuses (a delivery tag it no longer knows) closes the channel and
    keeps the connection, which pika's BlockingConnection does not raise for: the receiver
    says so, instead of waiting on a channel that delivers nothing more, and the message
    goes back to the queue."""
    declared, key = queue
    pika_client.publish(key, b"m-0")
    pika_client.publish(key, b"m-1")
    receiver = PikaReceiver(Bus(amqp_url, prefetch=1), declared)
    receiver.start()
    try:
        [first] = taken(receiver, 5, 1)
        first.ack()
        try:  # the same delivery tag twice: 406 PRECONDITION_FAILED closes the channel
            first.ack()
        except pika.exceptions.ChannelClosedByBroker as closed:  # (its Close came back at once)
            assert closed.reply_code == 406
        raised_by_a_take(receiver, ChannelLost)  # the broker's Channel.Close
    finally:
        receiver.close()
    # m-1 (delivered once m-0 was acked, never acked itself) is back on the queue
    wait_until(lambda: pika_client.queue_depth(declared.name) == 1, timeout=5, message="1 back")
    assert pika_client.queue_depth(declared.name) == 1


def test_a_queue_deleted_under_the_consumer_is_declared_again(
    sqlite_settings, runtimes, pika_client
):
    """The consumer declares its queue and bindings again before it reconnects, as kombu's
    consumer did on every connect: events published after the deletion are applied."""
    consumer = runtimes(sqlite_settings)
    consumer.declare()
    queue = f"{sqlite_settings.queue_prefix}.test"
    key, before = note_envelope(sqlite_settings, "before")
    _, after = note_envelope(sqlite_settings, "after")
    settled = watch_settled(consumer)
    with running(consumer):
        pika_client.publish(key, before.to_json(), content_type=CONTENT_TYPE)
        assert settled.wait(1) == [(before.id, "applied")]
        pika_client.channel.queue_delete(queue)

        def routed() -> bool:  # once the queue and its binding are back
            try:
                pika_client.publish(key, after.to_json(), content_type=CONTENT_TYPE)
            except pika.exceptions.UnroutableError:
                return False
            return True

        wait_until(routed, timeout=15, message="the queue declared again")
        assert settled.wait_for(after.id) == {before.id: "applied", after.id: "applied"}
    assert note_counts(consumer.db) == {"before": 1, "after": 1}
