"""Where a consumer puts the messages it gives up on: its dead-letter queue, with the reason.

The message goes unchanged, with ``x-revisit-*`` headers saying why, by whom, after how many
attempts, when, and under which routing key it came. Published with a confirm before the
original is acked, on a connection of its own.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from kombu import Producer, Queue

from .bus import Bus
from .envelope import CONTENT_TYPE
from .topology import DEAD

log = logging.getLogger(__name__)


class DeadLetters:
    def __init__(self, service: str, bus: Bus, queue: Queue):
        self.service = service
        self.bus = bus
        self.queue = queue
        self._connection = None

    def put(self, body: bytes, routing_key: str, reason: str, attempts: int) -> None:
        headers = {
            "x-revisit-reason": reason[:1000],
            "x-revisit-service": self.service,
            "x-revisit-attempts": attempts,
            "x-revisit-failed-at": datetime.now(UTC).isoformat(),
            "x-revisit-routing-key": routing_key,
        }
        try:
            self._publish(body, headers)
        except Exception:  # noqa: BLE001 - retried once below; a second failure propagates
            # The connection sits idle between poison messages and may have died unseen
            # (broker restarted, link dropped): drop it without a close handshake (which a
            # dead peer never answers) and try once more on a new one.
            log.warning("dead-letter publish failed; retrying on a new connection", exc_info=True)
            self.close()
            self._publish(body, headers)

    def _publish(self, body: bytes, headers: dict) -> None:
        if self._connection is None:
            self._connection = self.bus.connect()
        producer = Producer(self._connection.default_channel, exchange=DEAD)
        producer.publish(
            body,
            routing_key=self.queue.routing_key,
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=2,
            headers=headers,
            retry=False,
            timeout=self.bus.publish_timeout,
            confirm_timeout=self.bus.publish_timeout,
        )

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.collect()
