"""A pooled PostgreSQL connection is pinged at checkout only after sitting idle
(revisit_common.pool_ping): one the server ended meanwhile is replaced before a statement
sees it; one in use a moment ago is handed out without a round trip."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from revisit_common.db import make_engine
from revisit_common.pool_ping import ping_when_idle

pytestmark = pytest.mark.services

PID = sa.text("SELECT pg_backend_pid()")


def _engine(url: str, idle_seconds: float):
    """A pool of one connection, pinged after ``idle_seconds`` (make_engine's: 10 s)."""
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds)
    return engine


def _end_backend(engine, pid: int) -> None:
    with engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_connection_the_server_ended_is_replaced_before_use(postgres_url):
    engine = _engine(postgres_url, idle_seconds=0.0)
    admin = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            first = conn.execute(PID).scalar_one()
        _end_backend(admin, first)
        with engine.connect() as conn:
            second = conn.execute(PID).scalar_one()
        assert second != first
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_in_use_a_moment_ago_is_not_pinged(postgres_url):
    engine = _engine(postgres_url, idle_seconds=3600.0)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        with engine.connect() as conn:
            first = conn.execute(PID).scalar_one()
        with engine.connect() as conn:
            assert conn.execute(PID).scalar_one() == first
        assert statements == [str(PID), str(PID)]  # no SELECT 1 between them
    finally:
        engine.dispose()
