"""The raw section's clients, a few messages each, on the real broker: every message
published is confirmed and consumed once, with our events' bodies."""

from __future__ import annotations

import pika
from kombu import Connection

from bench import raw


def test_raw_publishers_and_consumers_move_every_message(amqp_url):
    pika_url = amqp_url[:-2] + "/%2F" if amqp_url.endswith("//") else amqp_url
    batch = raw.messages(300)
    assert all(b'"specversion":"1.0"' in body for _, body in batch)
    with Connection(amqp_url) as conn:
        raw.QUEUE(conn.channel()).declare()
    try:
        rates = [
            raw.publish_kombu(amqp_url, batch[:50]),
            raw.publish_pika_blocking(pika_url, batch[:50]),
            raw.publish_pika_window(pika_url, batch, window=100),
        ]
        assert all(r > 0 for r in rates)
        assert raw.consume_kombu(amqp_url, 200, prefetch=50) > 0
        assert raw.consume_pika(pika_url, 200, prefetch=50) > 0
        conn = pika.BlockingConnection(pika.URLParameters(pika_url))
        left = conn.channel().queue_declare(raw.QUEUE.name, passive=True).method.message_count
        conn.close()
        assert left == 0  # 400 published, 400 consumed and acked
    finally:
        with Connection(amqp_url) as conn:
            channel = conn.channel()
            channel.queue_delete(raw.QUEUE.name)
            channel.exchange_delete(raw.EXCHANGE.name)
