"""The real servers tests and benchmarks run against: are they there, and a RabbitMQ
virtual host of one's own (so nothing another run publishes on ``revisit.events`` is seen,
and nothing is left behind)."""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
from collections.abc import Iterator
from urllib.parse import urlparse


def reachable(url: str, timeout: float = 1.0) -> bool:
    """Whether something listens at ``url``'s host and port."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            return True
    except OSError:
        return False


def rabbitmqctl(*args: str) -> bool:
    """Run ``rabbitmqctl`` with ``args``; whether it succeeded (False when it is missing)."""
    try:
        done = subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def own_vhost(url: str, prefix: str) -> Iterator[str]:
    """``url`` in a new virtual host named ``<prefix>-<random>`` (deleted afterwards), or
    ``url`` itself when rabbitmqctl cannot make one."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    if not rabbitmqctl("add_vhost", name):
        yield url
        return
    parsed = urlparse(url)
    rabbitmqctl("set_permissions", "-p", name, parsed.username or "guest", ".*", ".*", ".*")
    try:
        yield parsed._replace(path=f"/{name}").geturl()
    finally:
        rabbitmqctl("delete_vhost", name)
