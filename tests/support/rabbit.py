"""A plain pika client for tests: sees the broker the way a non-kombu consumer would."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pika

EVENTS_EXCHANGE = "revisit.events"


@dataclass(frozen=True)
class Received:
    routing_key: str
    properties: pika.BasicProperties
    body: bytes
    redelivered: bool


def _pika_url(amqp_url: str) -> str:
    """kombu writes the default vhost as a trailing ``//``; pika wants it as ``/%2F``."""
    parts = urlsplit(amqp_url)
    if parts.path in ("", "/", "//"):
        parts = parts._replace(path="/%2F")
    return urlunsplit(parts)


def _event_id(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("id") if isinstance(doc, dict) else None


class PikaClient:
    """One blocking pika connection, used from the test's own thread only."""

    def __init__(self, amqp_url: str):
        params = pika.URLParameters(_pika_url(amqp_url))
        params.socket_timeout = 5
        params.blocked_connection_timeout = 5
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.channel.exchange_declare(EVENTS_EXCHANGE, exchange_type="topic", durable=True)

    def tap(self, *binding_keys: str) -> str:
        """A server-named exclusive queue bound to the events exchange (gone on close)."""
        queue = self.channel.queue_declare("", exclusive=True).method.queue
        for key in binding_keys:
            self.channel.queue_bind(queue, EVENTS_EXCHANGE, routing_key=key)
        return queue

    def publish(self, routing_key: str, body: bytes | str, **properties: Any) -> None:
        """Publish to the events exchange, persistent, waiting for the broker's confirm."""
        props = pika.BasicProperties(delivery_mode=2, **properties)
        self.channel.basic_publish(EVENTS_EXCHANGE, routing_key, body, props, mandatory=True)

    def get(self, queue: str) -> Received | None:
        method, properties, body = self.channel.basic_get(queue, auto_ack=True)
        if method is None:
            return None
        return Received(method.routing_key, properties, body, method.redelivered)

    def collect(self, queue: str, ids: set[str], *, timeout: float = 10.0) -> list[Received]:
        """The messages carrying one of ``ids`` (a CloudEvent ``id``), others dropped.

        Takes messages until every id was seen or ``timeout`` passed, then for a short while
        longer (0.3 s), so that a duplicate published in the same burst shows up too. Other
        messages (from test runs sharing the broker) are ignored.
        """
        got: list[Received] = []
        missing = set(ids)
        deadline = time.monotonic() + timeout
        settle_until = None
        while True:
            now = time.monotonic()
            if settle_until is None and (not missing or now >= deadline):
                settle_until = now + 0.3
            if settle_until is not None and now >= settle_until:
                return got
            message = self.get(queue)
            if message is None:
                self.connection.sleep(0.01)
                continue
            event_id = _event_id(message.body)
            if event_id in ids:
                got.append(message)
                missing.discard(event_id)

    def queue_depth(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()
