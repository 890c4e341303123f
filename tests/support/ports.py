"""Ports for servers the tests start in other processes."""

from __future__ import annotations

import random
import socket

# Listening ports are taken below the kernel's ephemeral range (32768-60999 by default):
# a port handed out there can be taken a moment later by any outgoing connection (a client
# of PostgreSQL or RabbitMQ), and a server binding it then fails with "Address in use".
LISTEN_PORTS = range(20000, 32000)


def free_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports, at random below the ephemeral
    range (so two stacks starting side by side hardly ever pick the same block)."""
    rng = random.SystemRandom()
    for _ in range(100):
        base = rng.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop - size)
        held = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError("no block of free ports")


def free_port() -> int:
    """One free port (see :func:`free_block`)."""
    return free_block(1)
