"""Connections to the bus: RabbitMQ when ``REVISIT_AMQP_URL`` is set, else kombu memory://.

kombu connections are not thread-safe: every thread that publishes or consumes opens its
own with :meth:`Bus.connect`.
"""

from __future__ import annotations

from kombu import Connection

MEMORY_URL = "memory://"


class Bus:
    def __init__(
        self,
        url: str | None,
        *,
        publish_timeout: float = 5.0,
        prefetch: int = 100,
        heartbeat: float = 0.0,
    ):
        self.url = url or MEMORY_URL
        self.publish_timeout = publish_timeout
        self.prefetch = prefetch
        # AMQP heartbeat interval in seconds (0: off). When on, whoever holds a connection
        # must call ``heartbeat_check`` about once a second: the consumer loop does, and the
        # relay between its passes; a peer silent for two intervals means a dead connection.
        self.heartbeat = heartbeat

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def connect(self, *, confirm_each: bool = True) -> Connection:
        """A new connection. On RabbitMQ, every publish on its channels waits for the
        broker's confirm, unless ``confirm_each`` is False: then the caller puts the channel
        in confirm mode itself and waits for a window of confirms at once (the relay)."""
        if self.is_memory:
            return Connection(self.url, transport_options={"polling_interval": 0.01})
        return Connection(
            self.url,
            connect_timeout=self.publish_timeout,
            transport_options={"confirm_publish": confirm_each},
            heartbeat=self.heartbeat,
        )

    def ping(self) -> None:
        """Raise if the broker cannot be reached (readiness)."""
        if self.is_memory:
            return
        with Connection(self.url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
