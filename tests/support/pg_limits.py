"""A PostgreSQL role with a connection limit the server enforces (``CONNECTION LIMIT``), and
a sampler of the most connections it held: how the stack tests prove a deployment stays
within its connection budget (issue #15) without a second cluster."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import psycopg


@contextmanager
def limited_role(admin_url: str, limit: int) -> Iterator[tuple[str, str]]:
    """A role that may hold at most ``limit`` connections and a database it owns: its URL
    and name; both dropped afterwards."""
    name = f"rvlimit_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN CONNECTION LIMIT {limit}")
        admin.execute(f"CREATE DATABASE {name} OWNER {name}")
    server = urlparse(admin_url)
    netloc = f"{name}@{server.hostname}:{server.port or 5432}"
    try:
        yield server._replace(netloc=netloc, path=f"/{name}").geturl(), name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {name}")


class PeakConnections:
    """The most connections ``role`` held at once, sampled every 20 ms while entered."""

    def __init__(self, admin_url: str, role: str):
        self.admin_url, self.role = admin_url, role
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.wait(0.02):
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (self.role,)
                ).fetchone()[0]
                self.peak = max(self.peak, count)
                self.samples += 1

    def __enter__(self) -> PeakConnections:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
