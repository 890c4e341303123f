"""The relay's publisher on RabbitMQ: a window of publisher confirms, with pika.

A batch is written whole on one channel in confirm mode, then the broker's confirms of all
of it are awaited together (a window of confirms in flight, instead of one round trip per
message). The rows confirmed are the longest run, in id order, whose confirms were acks: a
nack or a confirm that does not come within the publish timeout leaves that row and every
later one of the batch unconfirmed, and the connection is dropped (its confirm count is no
longer trusted). pika's ``SelectConnection`` is driven from the relay's own thread: its
I/O loop runs only while the publisher waits for something (the connection, confirms, a
heartbeat). A broker that blocks publishing (a resource alarm) shows as a confirm timeout.
The connection's frames written between two turns of that loop (a whole batch) reach the
socket as one write (:mod:`.joined_writes`), not three sends a message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pika
import pika.spec

from .bus import Bus
from .confirm_window import ConfirmWindow
from .envelope import CONTENT_TYPE
from .joined_writes import JoinedWrites
from .publisher import NotConfirmed, NotPublished
from .topology import EVENTS

# Properties of every event message (as kombu's Producer.publish would set them).
_PROPERTIES = pika.BasicProperties(
    content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2, priority=0, headers={}
)


def parameters(bus: Bus) -> pika.URLParameters:
    """pika's connection parameters for ``bus.url`` (a kombu-style AMQP URL)."""
    url = bus.url
    if url.startswith("pyamqp://"):
        url = "amqp://" + url.removeprefix("pyamqp://")
    if url.endswith("//"):  # kombu's spelling of the default vhost "/"; pika's is "%2F"
        url = url[:-1] + "%2F"
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = bus.publish_timeout
    params.stack_timeout = bus.publish_timeout
    params.blocked_connection_timeout = bus.publish_timeout
    params.heartbeat = int(bus.heartbeat) if bus.heartbeat else 0
    return params


class AmqpPublisher:
    def __init__(self, bus: Bus):
        self.timeout = bus.publish_timeout
        self.window = ConfirmWindow()
        self._channel = None
        self._confirming = False
        self._closed: BaseException | None = None
        self._done: Callable[[], bool] = lambda: True
        self.io = JoinedWrites()
        self._connection = pika.SelectConnection(
            parameters(bus),
            on_open_callback=self._opened,
            on_open_error_callback=self._failed,
            on_close_callback=self._failed,
            custom_ioloop=self.io,
        )
        self._run_until(lambda: self._confirming)

    # -- connection callbacks (run inside the I/O loop) -------------------------------

    def _opened(self, connection) -> None:
        connection.channel(on_open_callback=self._channel_opened)

    def _channel_opened(self, channel) -> None:
        channel.add_on_close_callback(self._failed)
        self._channel = channel
        channel.exchange_declare(
            EVENTS.name,
            exchange_type=EVENTS.type,
            durable=EVENTS.durable,
            callback=self._exchange_declared,
        )

    def _exchange_declared(self, _frame) -> None:
        self._channel.confirm_delivery(self._on_confirm, callback=self._confirm_selected)

    def _confirm_selected(self, _frame) -> None:
        self._confirming = True
        self._check()

    def _failed(self, _source, error=None) -> None:
        self._closed = error if isinstance(error, BaseException) else ConnectionError(error)
        self._connection.ioloop.stop()

    def _on_confirm(self, frame) -> None:
        method = frame.method
        ok = not isinstance(method, pika.spec.Basic.Nack)
        self.window.settle(method.delivery_tag, method.multiple, ok)
        self._check()

    def _check(self) -> None:
        if self._done():
            self._connection.ioloop.stop()

    def _run_until(self, done: Callable[[], bool], timeout: float | None = None) -> None:
        """Run the I/O loop until ``done()``; raises :class:`NotConfirmed` at the timeout
        and ``ConnectionError`` when the connection closed."""
        loop = self._connection.ioloop
        timeout = self.timeout if timeout is None else timeout
        self._done = done
        timer = loop.call_later(timeout, loop.stop)
        try:
            if not done() and self._closed is None:
                loop.start()
        finally:
            loop.remove_timeout(timer)
            self._done = lambda: True
        if self._closed is not None and not done():
            raise ConnectionError(f"connection to the broker lost: {self._closed!r}")
        if not done():
            raise NotConfirmed(f"no confirm within {timeout} s")

    # -- the interface -------------------------------------------------------------------

    def publish(self, rows: Sequence, on_confirmed: Callable[[int], None]) -> None:
        first = self.window.next_tag
        failure: BaseException | None = None
        try:
            for row in rows:
                self._channel.basic_publish(
                    EVENTS.name, row.routing_key, row.body.encode("utf-8"), _PROPERTIES
                )
                self.window.sent()
            self.await_confirms(first, len(rows))
        except Exception as exc:  # noqa: BLE001 - the acks received before it still count
            failure = exc
        confirmed = 0
        for index, row in enumerate(rows):
            if not self.window.acked(first + index):
                break
            on_confirmed(row.id)
            confirmed += 1
        self.window.forget(first, len(rows))
        if failure is None and confirmed < len(rows):
            failure = NotConfirmed(f"the broker nacked message {first + confirmed}")
        if failure is not None:
            raise NotPublished(confirmed, failure)

    def await_confirms(self, first: int, count: int) -> None:
        """Run the I/O loop (writing the batch, reading the broker's answers) until tags
        ``first`` .. ``first + count - 1`` are all settled."""
        self._run_until(lambda: self.window.all_settled(first, count))

    def keep_alive(self) -> None:
        """Let the I/O loop answer and send heartbeats (pika's heartbeat checker drops a
        connection whose peer went silent: the next call raises)."""
        loop = self._connection.ioloop
        loop.call_later(0.0, loop.stop)
        loop.start()
        if self._closed is not None:
            raise ConnectionError(f"connection to the broker lost: {self._closed!r}")

    def close(self) -> None:
        """Close the connection, waiting briefly for the broker's answer: a broker that
        stopped reading from us never gives one, and the socket is simply dropped."""
        connection = self._connection
        if connection.is_open:
            connection.close()
            loop = connection.ioloop
            timer = loop.call_later(min(self.timeout, 1.0), loop.stop)
            if not connection.is_closed:
                loop.start()
            loop.remove_timeout(timer)
        connection.ioloop.close()
