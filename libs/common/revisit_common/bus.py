"""Connections to the bus: RabbitMQ when ``REVISIT_AMQP_URL`` is set, else kombu memory://.

kombu connections are not thread-safe: every thread that publishes or consumes opens its
own with :meth:`Bus.connect`.
"""

from __future__ import annotations

from kombu import Connection

MEMORY_URL = "memory://"


class Bus:
    def __init__(self, url: str | None, *, publish_timeout: float = 5.0, prefetch: int = 100):
        self.url = url or MEMORY_URL
        self.publish_timeout = publish_timeout
        self.prefetch = prefetch

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def connect(self) -> Connection:
        if self.is_memory:
            return Connection(self.url, transport_options={"polling_interval": 0.01})
        return Connection(
            self.url,
            connect_timeout=self.publish_timeout,
            transport_options={"confirm_publish": True},
            heartbeat=0,
        )

    def ping(self) -> None:
        """Raise if the broker cannot be reached (readiness)."""
        if self.is_memory:
            return
        with Connection(self.url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
