"""The one ``publish`` interface the relay uses, and the publisher each bus gets.

A publisher takes outbox rows (``id``, ``event_id``, ``routing_key``, ``body``) in id order
and calls ``on_confirmed(row_id)`` for each row the bus has taken for good. On RabbitMQ
(:class:`.amqp_publisher.AmqpPublisher`) that is the broker's publisher confirm, and
``publish`` returns only once the whole batch is confirmed; on the in-memory bus
(:class:`.memory_publisher.MemoryPublisher`) it is every bound consumer having settled
the event, which may come after ``publish`` returned. A row not taken raises
:class:`NotPublished`: that row and the rest of the batch are the relay's again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .bus import Bus


class NotPublished(RuntimeError):
    """``rows[index]`` and the rest of the batch were not taken (or not confirmed in time);
    the rows before it were, or are still in flight."""

    def __init__(self, index: int, error: BaseException):
        super().__init__(f"{index} rows published; then {error!r}")
        self.index = index
        self.error = error


class NotConfirmed(RuntimeError):
    """The broker nacked a message, or its confirm did not come in time."""


class Publisher(Protocol):
    def publish(self, rows: Sequence, on_confirmed: Callable[[int], None]) -> None:
        """Hand ``rows`` to the bus; raises :class:`NotPublished`."""

    def keep_alive(self) -> None:
        """Between batches: answer the bus's heartbeats (raises if the connection is lost)."""

    def close(self) -> None:
        """Let go of the connection (without a handshake a dead peer would never answer)."""


def connect(bus: Bus) -> Publisher:
    """A publisher on a new connection to ``bus``."""
    if bus.is_memory:
        from .memory_publisher import MemoryPublisher

        return MemoryPublisher(bus)
    from .amqp_publisher import AmqpPublisher

    return AmqpPublisher(bus)
