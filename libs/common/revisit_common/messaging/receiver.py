"""Where the consumer's messages come from: a queue on RabbitMQ (pika) or in memory (kombu).

Both give the consumer the same thing: :meth:`take` waits up to ``wait`` seconds for a
message, then takes those already waiting (up to ``batch``), each with ``body``,
``delivery_info["routing_key"]``, ``ack(multiple=...)`` and ``requeue()``.

On RabbitMQ the receiver is pika's ``BlockingConnection``: it reads the socket 4 KiB at a
time (several messages a read) where py-amqp reads each frame's header, payload and end
with a ``recv`` each (nine a message): 19 µs of CPU a message instead of 43 (this machine,
prefetch 800, batches of 400). Its I/O loop runs inside :meth:`take` only: heartbeats are
sent and checked there (the consumer takes at least once a second). In memory it is
kombu's ``memory://`` transport, whose queues live in the process (settlement.py).
"""

from __future__ import annotations

import contextlib

import pika
import pika.exceptions
from kombu import Consumer, Queue
from kombu.exceptions import OperationalError

from .amqp_publisher import parameters
from .bus import Bus

# After a message arrives, how long to wait for the next one before applying what came.
GATHER_SECONDS = 0.002
# How long one wait for messages lasts before the loop checks heartbeats and ``stop``.
IDLE_SECONDS = 1.0


def _first(pending: list, batch: int) -> list:
    """Take the first ``batch`` of ``pending`` out of it (the rest wait for the next take)."""
    taken = pending[:batch]
    del pending[:batch]
    return taken


class ConsumerCancelled(pika.exceptions.AMQPError):
    """The broker cancelled our consumer (pika only calls back; kombu raised)."""


class ChannelLost(pika.exceptions.AMQPChannelError):
    """The broker closed our channel (an ack it refused, say) and kept the connection: pika's
    ``BlockingConnection`` only marks the channel closed and delivers nothing more, without
    raising, so the receiver raises this itself (the consumer then reconnects)."""


class PikaMessage:
    """A message delivered by pika, settled on the channel it came on."""

    __slots__ = ("_channel", "_method", "body")

    def __init__(self, channel, method, body: bytes):
        self._channel = channel
        self._method = method
        self.body = body

    @property
    def delivery_info(self) -> dict:
        return {"routing_key": self._method.routing_key}

    def ack(self, multiple: bool = False) -> None:
        """Acknowledge this message (``multiple``: and every earlier one of the channel not
        yet settled)."""
        self._channel.basic_ack(self._method.delivery_tag, multiple)

    def requeue(self) -> None:
        self._channel.basic_reject(self._method.delivery_tag, requeue=True)


class PikaReceiver:
    """A queue on RabbitMQ, read through pika's ``BlockingConnection``."""

    # A connection or channel the broker (or the network) took away: reconnect.
    errors: tuple = (pika.exceptions.AMQPError, OSError)

    def __init__(self, bus: Bus, queue: Queue):
        self.bus = bus
        self.queue = queue.name
        self.wait = IDLE_SECONDS
        self._pending: list[PikaMessage] = []
        self._connection: pika.BlockingConnection | None = None
        self._channel = None

    def start(self) -> None:
        """Connect, apply the prefetch and start consuming."""
        params = parameters(self.bus)
        # A consumer only acks: a broker that blocks publishers (a resource alarm) is no
        # reason to drop it, and it is what drains the queues meanwhile.
        params.blocked_connection_timeout = None
        self._connection = pika.BlockingConnection(params)
        channel = self._channel = self._connection.channel()
        channel.basic_qos(prefetch_count=self.bus.prefetch)
        pending = self._pending

        def delivered(channel, method, _properties, body) -> None:
            pending.append(PikaMessage(channel, method, body))

        channel.add_on_cancel_callback(self._cancelled)
        channel.basic_consume(self.queue, delivered)

    def _cancelled(self, _frame) -> None:
        """The broker cancelled the consumer (its queue deleted, say): start again."""
        raise ConsumerCancelled(f"the broker cancelled the consumer of {self.queue}")

    def take(self, batch: int, wait: float) -> list[PikaMessage]:
        """Up to ``batch`` messages: the first within ``wait`` seconds, then those that keep
        coming until none comes within ``GATHER_SECONDS``; none at the timeout. Raises
        :class:`ChannelLost` once the broker has closed the channel (its messages are
        delivered again, to whichever consumer comes next)."""
        pending = self._pending
        if not pending:
            self._connection.process_data_events(time_limit=wait)
        while 0 < len(pending) < batch:
            before = len(pending)
            self._connection.process_data_events(time_limit=GATHER_SECONDS)
            if len(pending) == before:
                break
        if self._channel.is_closed:
            raise ChannelLost(f"the broker closed the channel consuming {self.queue}")
        return _first(pending, batch)

    def close(self) -> None:
        """Close the connection (the broker delivers what was not acked again)."""
        self._pending.clear()
        self._channel = None
        connection, self._connection = self._connection, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(*self.errors):  # already going: we only tidy up
                connection.close()

    drop = close  # a lost connection is already closed; a broken channel closes at once


class KombuReceiver:
    """A queue of kombu's in-memory transport (``memory://``): polled, never waited on."""

    def __init__(self, bus: Bus, queue: Queue):
        self.bus = bus
        self.queue = queue
        # The in-memory bus is polled anyway (bus.MEMORY_POLL_SECONDS): a short wait costs
        # nothing there and lets a stop take effect at once.
        self.wait = 0.1
        self._pending: list = []
        self._connection = bus.connect()
        self._consumer: Consumer | None = None
        self.errors = (
            *self._connection.connection_errors,
            *self._connection.channel_errors,
            OperationalError,
            OSError,
        )

    def start(self) -> None:
        self._connection.ensure_connection(max_retries=1, timeout=self.bus.publish_timeout)
        channel = self._connection.channel()
        channel.basic_qos(0, self.bus.prefetch, False)
        self._consumer = Consumer(
            channel, queues=[self.queue], on_message=self._pending.append, accept=[]
        )
        self._consumer.consume()

    def take(self, batch: int, wait: float) -> list:
        """Up to ``batch`` messages: the first within ``wait`` seconds, then only those
        already waiting (kombu's memory queues never wait)."""
        pending = self._pending
        if not pending:
            try:
                self._connection.drain_events(timeout=wait)
            except TimeoutError:
                return []
        while 0 < len(pending) < batch:
            try:
                self._connection.drain_events(timeout=0)
            except TimeoutError:
                break
        return _first(pending, batch)

    def close(self) -> None:
        self._pending.clear()
        if self._consumer is not None:
            with contextlib.suppress(*self.errors):
                self._consumer.cancel()
        self._connection.release()

    def drop(self) -> None:
        """After an error: let the connection go without the close handshake."""
        self._pending.clear()
        self._connection.collect()


def receiver(bus: Bus, queue: Queue) -> PikaReceiver | KombuReceiver:
    """The receiver of ``queue`` on ``bus`` (not connected yet: :meth:`start` does)."""
    return KombuReceiver(bus, queue) if bus.is_memory else PikaReceiver(bus, queue)
