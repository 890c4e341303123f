"""Where events travel: RabbitMQ when ``REVISIT_AMQP_URL`` is set, else kombu memory://.

:class:`Bus` holds the broker URL and the knobs every connection to it shares. kombu
connections are not thread-safe: every thread that consumes opens its own with
:meth:`Bus.connect`; the relay publishes through :mod:`.publisher`.
"""

from __future__ import annotations

from kombu import Connection

from .settlement import Settlements

MEMORY_URL = "memory://"
# In memory: how long a consumer that found its queue empty waits before it looks again.
# Under load what came meanwhile is one batch: at 0.1 s instead of 0.05 the standalone
# process took ~10 % less CPU per write (fewer, larger consumer transactions), events reach
# their consumers at most 0.05 s later (the contract allows KPIs 2 s in standalone mode).
MEMORY_POLL_SECONDS = 0.1


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
        # must let it answer heartbeats about once a second: the consumer loop does, and
        # the relay between its passes; a peer silent for two intervals means a dead link.
        self.heartbeat = heartbeat
        # memory:// only: which consumers still owe a settlement for each relayed event.
        self.settlements = Settlements()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def connect(self) -> Connection:
        """A new kombu connection; on RabbitMQ every publish on it waits for its confirm.

        In memory, a consumer finding its queue empty looks again ``MEMORY_POLL_SECONDS``
        later: what came meanwhile is applied as one batch (consumer.py), so under load an
        event costs a share of a transaction, for at most that much more latency."""
        if self.is_memory:
            return Connection(self.url, transport_options={"polling_interval": MEMORY_POLL_SECONDS})
        return Connection(
            self.url,
            connect_timeout=self.publish_timeout,
            transport_options={"confirm_publish": True},
            heartbeat=self.heartbeat,
        )

    def ping(self) -> None:
        """Raise if the broker cannot be reached (readiness)."""
        if self.is_memory:
            return
        with Connection(self.url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
