"""The in-memory bus (kombu ``memory://``, as standalone mode runs) as tests use it: settings
with queues of their own (deleted afterwards), raw publishes, and what a queue still holds."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator

from kombu import Connection, Producer

from revisit_common.config import Settings
from revisit_common.messaging.envelope import CONTENT_TYPE
from revisit_common.messaging.topology import EVENTS

from .settings import bus_settings


def own_queues(tmp_path, services: Iterable[str] = ("test",), **values) -> Iterator[Settings]:
    """Yield bus settings on ``memory://`` with a queue prefix of their own (``values``
    override the test defaults); then delete ``services``' queues and dead-letter queues.
    For a fixture: ``yield from own_queues(tmp_path, ...)``."""
    prefix = f"m{secrets.token_hex(4)}"
    yield bus_settings(tmp_path, None, prefix, **values)
    with Connection("memory://") as conn:
        channel = conn.channel()
        for service in services:
            for name in (f"{prefix}.{service}", f"{prefix}.{service}.dead"):
                channel.queue_delete(name)


def publish(routing_key: str, *bodies: str | bytes) -> None:
    """Publish ``bodies`` as they are (no envelope check) on the events exchange."""
    with Connection("memory://") as conn:
        producer = Producer(conn.channel(), exchange=EVENTS)
        for body in bodies:
            producer.publish(body, routing_key=routing_key, content_type=CONTENT_TYPE)


def drain(queue) -> list:
    """Take every message ``queue`` (an unbound kombu Queue) still holds."""
    got = []
    with Connection("memory://") as conn:
        bound = queue(conn.channel())
        while (message := bound.get(no_ack=True)) is not None:
            got.append(message)
    return got
