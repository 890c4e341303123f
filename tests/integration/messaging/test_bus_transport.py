"""Events of every size, from empty to several AMQP frames long, go through the relay's
windowed publish (pika) and the batching consumer (kombu) intact."""

from __future__ import annotations

from tests.support.fake_service import note_counts, record_note, running
from tests.support.settled import watch_settled

# frame_max is 131,072: the larger ones span several frames.
SIZES = [0, 10, 700, 5_000, 16 * 1024 + 1, 140_000, 300_000]


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
    settled = watch_settled(reader)
    with running(reader):
        settled.wait(len(texts), timeout=20)
    assert note_counts(reader.db) == {text: 1 for text in texts}
