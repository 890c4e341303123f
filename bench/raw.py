"""Section "raw": what the broker itself does on this machine, with plain kombu and pika.

The ceiling the pipeline is measured against: persistent publishes with confirms (one
awaited per message, and a window of them in flight) and consumes with prefetch and an ack
each, on a durable quorum queue bound to a topic exchange like our service queues, with our
events' JSON as bodies. The exchange and queue are the section's own (deleted at the end),
so nothing published here reaches the pipeline's queues.
"""

from __future__ import annotations

import os
import time

import pika
from kombu import Connection, Consumer, Exchange, Producer, Queue

from revisit_common.config import Settings
from revisit_common.messaging.envelope import CONTENT_TYPE, wrap

from . import procs
from .context import Bench
from .events import Stream
from .stats import rate

SECTION = "raw"
EXCHANGE = Exchange("bench.raw", type="topic", durable=True)
QUEUE = Queue(
    "bench.raw",
    exchange=EXCHANGE,
    routing_key="#",
    durable=True,
    auto_delete=False,
    queue_arguments={"x-queue-type": "quorum"},
)
WINDOW = 1000  # confirms in flight for the windowed publisher
PREFETCH = Settings.from_env().prefetch  # the same as our services' consumers


def messages(count: int) -> list[tuple[str, bytes]]:
    """(routing key, body) of ``count`` events, as the outbox would publish them."""
    return [
        (
            event.routing_key(),
            wrap(event, tenant_id=tenant, region="bench", service=None).to_json().encode(),
        )
        for tenant, event in Stream(tenants=10).events(count)
    ]


def publish_kombu(url: str, batch: list[tuple[str, bytes]]) -> float:
    """kombu with ``confirm_publish``: every publish waits for its own confirm."""
    with Connection(url, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel(), exchange=EXCHANGE)
        started = time.perf_counter()
        for key, body in batch:
            producer.publish(
                body,
                routing_key=key,
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                retry=False,
            )
        return rate(len(batch), time.perf_counter() - started)


def _properties() -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2
    )


def publish_pika_blocking(url: str, batch: list[tuple[str, bytes]]) -> float:
    """pika BlockingConnection with confirm_delivery: one confirm awaited per message."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        props = _properties()
        started = time.perf_counter()
        for key, body in batch:
            channel.basic_publish(EXCHANGE.name, key, body, props, mandatory=False)
        return rate(len(batch), time.perf_counter() - started)
    finally:
        conn.close()


class _WindowedPublisher:
    """pika SelectConnection: keeps up to ``window`` unconfirmed messages in flight."""

    def __init__(self, url: str, batch: list[tuple[str, bytes]], window: int):
        self.batch = batch
        self.window = window
        self.next = 0  # index of the next message to publish
        self.confirmed = 0
        self.nacked = 0
        self.props = _properties()
        self.started = self.finished = 0.0
        self.error: str | None = None
        self.channel = None
        self.conn = pika.SelectConnection(
            pika.URLParameters(url),
            on_open_callback=self._opened,
            on_open_error_callback=self._failed,
            on_close_callback=lambda _c, reason: self._stop(reason),
        )

    def run(self) -> float:
        self.conn.ioloop.start()
        if self.error is not None and self.confirmed < len(self.batch):
            raise RuntimeError(f"windowed publish failed: {self.error}")
        if self.nacked:
            raise RuntimeError(f"the broker nacked {self.nacked} messages")
        return rate(len(self.batch), self.finished - self.started)

    def _failed(self, _conn, error) -> None:
        self.error = repr(error)
        self.conn.ioloop.stop()

    def _stop(self, reason) -> None:
        if self.confirmed < len(self.batch):
            self.error = repr(reason)
        self.conn.ioloop.stop()

    def _opened(self, conn) -> None:
        conn.channel(on_open_callback=self._channel)

    def _channel(self, channel) -> None:
        self.channel = channel
        channel.confirm_delivery(self._on_confirm, callback=self._confirming)

    def _confirming(self, _frame) -> None:
        self.started = time.perf_counter()
        self._fill()

    def _fill(self) -> None:
        limit = min(len(self.batch), self.confirmed + self.window)
        while self.next < limit:
            key, body = self.batch[self.next]
            self.channel.basic_publish(EXCHANGE.name, key, body, self.props)
            self.next += 1

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tag = method.delivery_tag
        done = tag - self.confirmed if method.multiple else 1
        if isinstance(method, pika.spec.Basic.Nack):
            self.nacked += done
        self.confirmed += done
        if self.confirmed >= len(self.batch):
            self.finished = time.perf_counter()
            self.conn.close()
            return
        self._fill()


def publish_pika_window(url: str, batch: list[tuple[str, bytes]], window: int = WINDOW) -> float:
    return _WindowedPublisher(url, batch, window).run()


def consume_kombu(url: str, count: int, prefetch: int = PREFETCH, cpu: dict | None = None) -> float:
    """kombu: basic.consume with prefetch, an ack for each message (as ConsumerMixin does);
    into ``cpu``, the CPU microseconds per message of this process and of the broker."""
    with Connection(url) as conn:
        channel = conn.channel()
        channel.basic_qos(0, prefetch, False)
        seen = 0

        def on_message(message) -> None:
            nonlocal seen
            if seen >= count:
                return  # delivered while cancelling: not acked, so the broker requeues it
            message.ack()
            seen += 1

        with Consumer(channel, queues=[QUEUE], on_message=on_message, accept=[]):
            started, before = time.perf_counter(), _cpu()
            while seen < count:
                conn.drain_events(timeout=10)
            took, after = time.perf_counter() - started, _cpu()
        if cpu is not None:
            cpu.update({k: round((after[k] - before[k]) / seen * 1e6, 1) for k in after})
        return rate(seen, took)


def _cpu() -> dict[str, float]:
    return {"client": sum(os.times()[:2]), "rabbitmq": procs.server_cpu_seconds("beam.smp")}


def consume_pika(url: str, count: int, prefetch: int = PREFETCH) -> float:
    """pika BlockingConnection: basic_consume with prefetch, an ack for each message."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = conn.channel()
        channel.basic_qos(prefetch_count=prefetch)
        seen = 0

        def on_message(ch, method, _props, _body) -> None:
            nonlocal seen
            if seen >= count:
                return  # as in consume_kombu
            ch.basic_ack(method.delivery_tag)
            seen += 1
            if seen >= count:
                ch.stop_consuming()

        channel.basic_consume(QUEUE.name, on_message)
        started = time.perf_counter()
        channel.start_consuming()
        return rate(seen, time.perf_counter() - started)
    finally:
        conn.close()


def run(bench: Bench) -> None:
    # Sizes: each figure takes a few seconds at the rates NOTES.md gives for this machine.
    each, windowed, consumed = (500, 5_000, 2_000) if bench.quick else (6_000, 80_000, 35_000)
    batch = messages(max(each, windowed))
    with Connection(bench.amqp_url) as conn:
        channel = conn.channel()
        QUEUE(channel).declare()
    data: dict = {
        "body_bytes_mean": round(sum(len(b) for _, b in batch) / len(batch)),
        "prefetch": PREFETCH,
        "window": WINDOW,
    }
    consume_cpu: dict[str, float] = {}
    try:
        figures = [
            ("kombu publish, confirm each", publish_kombu(bench.amqp_url, batch[:each])),
            ("pika publish, confirm each", publish_pika_blocking(bench.pika_url, batch[:each])),
            (
                f"pika publish, {WINDOW} confirms in flight",
                publish_pika_window(bench.pika_url, batch[:windowed]),
            ),
            (
                f"kombu consume, prefetch {PREFETCH}, ack each",
                consume_kombu(bench.amqp_url, consumed, cpu=consume_cpu),
            ),
            (
                f"pika consume, prefetch {PREFETCH}, ack each",
                consume_pika(bench.pika_url, consumed),
            ),
        ]
        for name, value in figures:
            bench.add(SECTION, name, value, "msg/s")
            data[name] = round(value)
        data["kombu consume cpu_us_per_message"] = consume_cpu
        bench.add(
            SECTION,
            "kombu consume: CPU per message, client and broker",
            sum(consume_cpu.values()),
            "us",
            note=", ".join(f"{name} {value:.0f}" for name, value in consume_cpu.items()),
        )
    finally:
        with Connection(bench.amqp_url) as conn:
            channel = conn.channel()
            channel.queue_delete(QUEUE.name)
            channel.exchange_delete(EXCHANGE.name)
    bench.extra[SECTION] = data


def windowed_publish(bench: Bench) -> float | None:
    """The raw windowed-confirm publish rate of this run (None if "raw" did not run)."""
    figure = bench.figure(SECTION, f"pika publish, {WINDOW} confirms in flight")
    return figure.value if figure else None


def consume_with_ack(bench: Bench, client: str = "kombu") -> float | None:
    """The raw consume-with-ack rate of this run with ``client`` ("kombu" or "pika"). Issue
    #15's target is against kombu's (the client of its baseline, and of the in-memory
    bus); the KPI consumer reads RabbitMQ through pika since the fourth round
    (messaging/receiver.py), so the pipeline section reports the ratio to pika's beside."""
    figure = bench.figure(SECTION, f"{client} consume, prefetch {PREFETCH}, ack each")
    return figure.value if figure else None
