"""The real servers tests and benchmarks run against: are they there, and a RabbitMQ
virtual host of one's own (so nothing another run publishes on ``revisit.events`` is seen,
and nothing is left behind)."""

from __future__ import annotations

import contextlib
import os
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


@contextlib.contextmanager
def own_database(url: str, prefix: str) -> Iterator[str]:
    """``url`` on a new database named ``<prefix>_<random>``, dropped afterwards (with any
    connection a killed process left behind), so test sessions running side by side share
    nothing and leave nothing."""
    import sqlalchemy as sa

    name = f"{prefix}_{secrets.token_hex(4)}"

    def run(statement: str) -> None:
        engine = sa.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(statement))
        finally:
            engine.dispose()  # holds no connection while the session runs

    run(f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(url)._replace(path=f"/{name}").geturl()
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Sessions that still hold a lock in the schemas being dropped (PostgreSQL, pg_locks).
_HOLDERS = """
SELECT DISTINCT l.pid FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname LIKE :p AND l.pid <> pg_backend_pid()
"""


def drop_schemas(postgres_url: str, prefix: str, lock_timeout: str = "15s") -> None:
    """Drop every schema whose name starts with ``prefix`` (a test's own).

    A session still holding a lock there (its client gone without PostgreSQL noticing) is
    ended once ``lock_timeout`` has passed, instead of the drop waiting for it forever."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    pattern = prefix.replace("_", r"\_") + "%"
    try:
        for attempt in range(3):
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
                    names = conn.execute(
                        sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                        {"p": pattern},
                    ).scalars()
                    for name in list(names):
                        conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
                return
            except sa.exc.OperationalError:
                if attempt == 2:
                    raise
                with engine.begin() as conn:
                    pids = conn.execute(sa.text(_HOLDERS), {"p": pattern}).scalars().all()
                    for pid in pids:
                        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()


def unavailable(message: str) -> None:
    """A tool or server a test needs is missing: a skip on a laptop, a failure where the
    real servers are required (CI sets REVISIT_REQUIRE_SERVICES=1)."""
    import pytest

    if os.environ.get("REVISIT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and REVISIT_REQUIRE_SERVICES=1")
    pytest.skip(message)
