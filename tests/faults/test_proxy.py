"""The fault tests' TCP proxy does what they rely on: a cut ends the connection on both
sides at once, even while nothing is being sent (a PostgreSQL backend left connected would
sit in its transaction, holding its locks, for good)."""

from __future__ import annotations

import socket
import time

import pytest

from .harness import TcpProxy


def _closed(sock: socket.socket) -> bool:
    """Whether the peer has closed or reset ``sock`` (False: still open after 5 s)."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _refused(port: int) -> bool:
    """Whether a new connection to ``port`` is ended at once (the proxy's reset may come
    while ``connect`` is still returning, or just after)."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except ConnectionResetError:
        return True
    with sock:
        return _closed(sock)


@pytest.fixture
def server():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    yield listener
    listener.close()


def _connect(proxy: TcpProxy, server: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    upstream, _ = server.accept()
    client.sendall(b"ping")
    upstream.settimeout(5)
    assert upstream.recv(4) == b"ping"
    upstream.sendall(b"pong")
    assert client.recv(4) == b"pong"
    return client, upstream


def test_cut_closes_idle_connections_on_both_sides_then_restore_lets_new_ones_in(server):
    proxy = TcpProxy("127.0.0.1", server.getsockname()[1])
    try:
        client, upstream = _connect(proxy, server)
        time.sleep(0.2)  # both pumps are waiting in recv, no bytes on the way
        proxy.cut()
        assert _closed(upstream), "the server side stayed connected after the cut"
        assert _closed(client), "the client side stayed connected after the cut"

        assert _refused(proxy.port), "a new connection got through during the cut"

        proxy.restore()
        again, upstream_again = _connect(proxy, server)
        again.close()
        upstream_again.close()
    finally:
        proxy.close()


def test_close_ends_frozen_connections_and_drops_what_they_held_back(server):
    proxy = TcpProxy("127.0.0.1", server.getsockname()[1])
    client, upstream = _connect(proxy, server)
    proxy.freeze()
    client.sendall(b"held back")
    proxy.close()
    assert _closed(upstream)
    assert _closed(client)
