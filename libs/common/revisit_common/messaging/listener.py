"""Wakes a relay when another process commits outbox rows (PostgreSQL ``LISTEN``)."""

from __future__ import annotations

import contextlib
import logging
import threading

from ..db import Database
from .outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


def listen(db: Database, wake: threading.Event, stop: threading.Event) -> None:
    """Set ``wake`` whenever a transaction adds rows to this schema's outbox, until ``stop``.

    Best effort: while it cannot listen, the relay still polls every interval."""
    while not stop.is_set():
        raw = None
        try:
            raw = db.engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # ours for as long as we listen, never back to the pool
            conn.rollback()
            conn.autocommit = True
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            wake.set()  # rows added while nobody listened
            while not stop.is_set():
                for note in conn.notifies(timeout=1.0):
                    if note.payload == schema:
                        wake.set()
                    if stop.is_set():
                        break
        except Exception:  # noqa: BLE001 - database unreachable: poll, and try again later
            log.debug("outbox listener lost its connection", exc_info=True)
            stop.wait(1.0)
        finally:
            if raw is not None:
                with contextlib.suppress(Exception):  # already broken
                    raw.close()
