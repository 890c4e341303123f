"""The relay's publisher on the in-memory bus (standalone mode).

kombu's ``memory://`` transport keeps its queues in the process, so taking a message is no
promise: a row is confirmed only once every consumer bound to its routing key has settled
the event (:mod:`.settlement`), from that consumer's thread, after ``publish`` returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from kombu import Producer

from .bus import Bus
from .envelope import CONTENT_TYPE
from .publisher import NotPublished
from .topology import EVENTS


class MemoryPublisher:
    def __init__(self, bus: Bus):
        self.bus = bus
        self._connection = bus.connect()
        channel = self._connection.channel()
        EVENTS(channel).declare()
        self._producer = Producer(channel, exchange=EVENTS)

    def publish(self, rows: Sequence, on_confirmed: Callable[[int], None]) -> None:
        settlements = self.bus.settlements
        for index, row in enumerate(rows):
            # Expected before it is published: a consumer may settle it at once.
            settlements.expect(row.event_id, row.routing_key, partial(on_confirmed, row.id))
            try:
                self._producer.publish(
                    row.body.encode("utf-8"),
                    routing_key=row.routing_key,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    retry=False,
                )
            except Exception as exc:  # noqa: BLE001 - this row and the rest stay unsent
                settlements.forget(row.event_id)
                raise NotPublished(index, exc) from exc

    def keep_alive(self) -> None:
        """Nothing to answer in memory."""

    def close(self) -> None:
        self._connection.release()
