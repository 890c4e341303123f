"""Connections to the bus: RabbitMQ when ``REVISIT_AMQP_URL`` is set, else kombu memory://.

kombu connections are not thread-safe: every thread that publishes or consumes opens its
own with :meth:`Bus.connect`.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from amqp.transport import TCPTransport
from kombu import Connection
from kombu.transport import pyamqp

from .settlement import Settlements

MEMORY_URL = "memory://"

# Bytes asked of the socket per read: a few dozen of our messages.
READ_AHEAD = 16 * 1024
# Bytes of frames a corked connection gathers before it writes them out.
WRITE_CHUNK = 64 * 1024


class _TcpTransport(TCPTransport):
    """py-amqp's TCP transport with fewer system calls, the same frames.

    py-amqp reads exactly the bytes it needs next (a frame's header, its payload, its end
    octet: nine ``recv`` calls for one message) and writes each frame with its own
    ``sendall``. Profiled, those calls were a fifth of the consumer's time and a quarter of
    the relay's. Here a read takes what the socket already has (up to ``READ_AHEAD``; the
    rest stays in py-amqp's own read buffer), and inside :meth:`corked` writes are gathered
    and sent in chunks (the relay publishes a batch at once, then waits for its confirms)."""

    def _setup_transport(self) -> None:
        super()._setup_transport()
        self._corked: list[bytes] | None = None
        self._corked_bytes = 0

    def _read(self, n, initial=False, _errnos=(errno.EAGAIN, errno.EINTR)):
        recv = self._quick_recv
        rbuf = self._read_buffer
        try:
            while len(rbuf) < n:
                try:
                    s = recv(max(n - len(rbuf), READ_AHEAD))
                except OSError as exc:
                    if exc.errno in _errnos:
                        if initial and self.raise_on_initial_eintr:
                            raise TimeoutError() from exc
                        continue
                    raise
                if not s:
                    raise OSError("Server unexpectedly closed connection")
                rbuf += s
        except BaseException:
            self._read_buffer = rbuf  # what was read stays for the next read (py-amqp's way)
            raise
        result, self._read_buffer = rbuf[:n], rbuf[n:]
        return result

    def write(self, s) -> None:
        if self._corked is None:
            super().write(s)
            return
        self._corked.append(bytes(s))  # a copy: py-amqp reuses the buffer ``s`` views
        self._corked_bytes += len(s)
        if self._corked_bytes >= WRITE_CHUNK:
            self._uncork()

    def _uncork(self) -> None:
        data, self._corked, self._corked_bytes = b"".join(self._corked), [], 0
        super().write(data)

    @contextlib.contextmanager
    def corked(self) -> Iterator[None]:
        """Gather writes; send what is left at the end (not after an error: the caller
        drops a connection that failed mid-batch, and the unsent frames with it)."""
        self._corked, self._corked_bytes = [], 0
        try:
            yield
            self._uncork()
        finally:
            self._corked = None


class _AmqpConnection(pyamqp.Connection):
    def Transport(  # noqa: N802 - py-amqp's name
        self, host, connect_timeout, ssl=False, read_timeout=None, write_timeout=None, **kw
    ):
        if ssl:
            return super().Transport(host, connect_timeout, ssl, read_timeout, write_timeout, **kw)
        return _TcpTransport(
            host,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            **kw,
        )


class AmqpTransport(pyamqp.Transport):
    """kombu's py-amqp transport on :class:`_TcpTransport`."""

    Connection = _AmqpConnection


@contextlib.contextmanager
def corked(connection: Connection) -> Iterator[None]:
    """Writes on ``connection`` gathered into few ``sendall`` calls (a no-op where the
    transport cannot: memory://, TLS)."""
    transport = getattr(connection.connection, "transport", None)
    if isinstance(transport, _TcpTransport):
        with transport.corked():
            yield
    else:
        yield


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
        # memory:// only: which consumers still owe a settlement for each relayed event.
        self.settlements = Settlements()

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
            transport=AmqpTransport if self.url.startswith("amqp://") else None,
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
