"""Our py-amqp transport (bus.py): reads ahead and gathers corked writes, same frames.

Messages of every size, from empty to several AMQP frames long, go through the relay's
corked, windowed publish and the batching consumer's read-ahead intact; corked writes leave
in few system calls.
"""

from __future__ import annotations

from amqp import Message

from revisit_common.bus import READ_AHEAD, WRITE_CHUNK, Bus, corked
from tests.support.fake_service import note_counts, record_note, running
from tests.support.polling import wait_until

SIZES = [0, 10, 700, 5_000, READ_AHEAD + 1, 140_000, 300_000]  # frame_max is 131,072


def test_events_of_every_size_are_relayed_and_consumed_intact(postgres_settings, runtimes):
    settings = postgres_settings
    writer = runtimes(settings, name="writer", handlers={})
    reader = runtimes(settings, name="reader")
    reader.declare()
    texts = [f"{n}:" + "x" * size for n, size in enumerate(SIZES * 3)]
    for text in texts:
        record_note(writer, text)
    assert writer.relay.run_once() == len(texts)  # one batch, one window of confirms
    assert reader.consumer.batching
    with running(reader):
        wait_until(lambda: sum(note_counts(reader.db).values()) >= len(texts), timeout=20)
    assert note_counts(reader.db) == {text: 1 for text in texts}


def test_corked_writes_leave_in_few_system_calls(amqp_url):
    with Bus(amqp_url).connect(confirm_each=False) as conn:
        conn.ensure_connection(max_retries=1)
        transport = conn.connection.transport
        writes: list[int] = []
        real_write = transport._write

        def counted(data) -> None:
            writes.append(len(data))
            real_write(data)

        transport._write = counted
        channel = conn.channel()
        queue = channel.queue_declare("", exclusive=True).queue
        count, body = 400, b"x" * 300
        writes.clear()  # (opening the channel and declaring the queue wrote too)
        with corked(conn):
            for _ in range(count):
                channel.basic_publish(Message(body), exchange="", routing_key=queue)
        frames = sum(writes)
        assert frames > count * len(body)
        assert len(writes) <= frames // WRITE_CHUNK + 1  # not one write per message
        received = 0
        while received < count:
            message = channel.basic_get(queue, no_ack=True)
            assert message is not None and message.body == body
            received += 1
