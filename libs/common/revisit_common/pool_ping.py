"""A pooled PostgreSQL connection is checked before use only when it sat idle a while.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: a round trip and
some 0.1 ms of CPU per request, for connections that were in use a moment ago. Here a
connection is pinged at checkout only when it was idle in the pool for at least
:data:`IDLE_SECONDS` (the case where a server restart or a network cut may have killed it
unnoticed); a dead one is replaced by a fresh connection before the request sees it
(``DisconnectionError`` from a ``checkout`` listener: the pool retries).

A connection that dies while busy or within the idle window fails its statement as before:
SQLAlchemy marks the whole pool stale (every older connection is replaced at its next
checkout) and the request answers 503 (webapp.py). ``RECYCLE_SECONDS`` bounds a
connection's age either way.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

IDLE_SECONDS = 10.0
RECYCLE_SECONDS = 1800
_IDLE_SINCE = "revisit_idle_since"  # in a pooled connection's info: when it was checked in


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_SECONDS) -> None:
    """Ping ``engine``'s connections at checkout when idle ``idle_seconds`` or longer."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection lost while idle: {exc}") from exc
