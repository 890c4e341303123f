"""Ports for servers the tests start in other processes."""

from __future__ import annotations

import os
import random
import socket
import threading

# Listening ports are taken below the kernel's ephemeral range (32768-60999 by default):
# a port handed out there can be taken a moment later by any outgoing connection (a client
# of PostgreSQL or RabbitMQ), and a server binding it then fails with "Address in use".
LISTEN_PORTS = range(20000, 32000)
# `make test` runs two pytest processes side by side, one of them with xdist workers: each
# worker picks in a slice of its own (gw0, gw1, ...; the rest, e.g. the fault tests, in the
# last), so a stack's block can never be handed out to another process's server between
# the check and the bind (notify-web of the fault stack once found its port taken).
SLICES = 4


def listen_ports() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = int(worker[2:]) if worker[:2] == "gw" and worker[2:].isdigit() else SLICES - 1
    size = len(LISTEN_PORTS) // SLICES
    start = LISTEN_PORTS.start + (number % SLICES) * size
    return range(start, start + size)


# Every port this process has handed out: a server is often started a while after its port
# was chosen (a stack picks its block, then its workers' metrics ports, then starts them
# all), and a port not yet bound looks free, so it is never handed out twice.
_HANDED: set[int] = set()
_HANDED_LOCK = threading.Lock()


def free_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports, at random below the ephemeral
    range (so two stacks starting side by side hardly ever pick the same block), none of
    them handed out before by this process."""
    with _HANDED_LOCK:
        base = _free_block(size)
        _HANDED.update(range(base, base + size))
        return base


def _free_block(size: int) -> int:
    rng = random.SystemRandom()
    ports = listen_ports()
    for _ in range(100):
        base = rng.randrange(ports.start, ports.stop - size)
        if _HANDED.intersection(range(base, base + size)):
            continue
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
