"""Slow clients: sockets that send a request's headers, then trickle its body."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import requests

BODY_LENGTH = 10_000


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {BODY_LENGTH}\r\n\r\n".encode()
        + b'{"name": "'
    )
    return sock


@contextlib.contextmanager
def slow_clients(port: int, count: int, interval: float = 0.2) -> Iterator[list[socket.socket]]:
    """``count`` open requests whose bodies grow by one byte per socket every ``interval``
    seconds (never finished: ~10 kB would take far longer than any test), for as long as
    the block runs; closed afterwards."""
    socks = [_open(port) for _ in range(count)]
    stop = threading.Event()
    trickling = threading.Event()  # every socket has sent body bytes after its headers

    def trickle() -> None:
        while not stop.wait(interval):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")
            trickling.set()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        assert trickling.wait(10), "the slow clients never started their bodies"
        yield socks
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in socks:
            sock.close()


def timed(method: str, url: str, **kw) -> tuple[requests.Response, float]:
    """The response of one request on a new connection, and how long it took (s)."""
    started = time.monotonic()
    response = requests.request(method, url, timeout=10, **kw)
    return response, time.monotonic() - started


def finish(sock: socket.socket) -> bytes:
    """Send the rest of a slow request's body (at most ``BODY_LENGTH`` bytes more than it
    needs: what is over is read as the start of a next request) and return the status
    line of its answer."""
    sock.sendall(b"x" * BODY_LENGTH)
    sock.settimeout(10)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]
