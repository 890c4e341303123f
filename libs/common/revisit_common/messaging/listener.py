"""Wakes relays when another process commits outbox rows (PostgreSQL ``LISTEN``).

One listening connection per database and process, shared by the relays of that process
(standalone mode and the tests run every service's relay in one process, each service in
its own schema of the same database): a notification's payload is the schema whose outbox
got rows, and only the relays of that schema are woken. The connection is opened when the
first relay joins and closed soon after the last one leaves.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from ..db import Database
from .outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

# How long one wait for notifications lasts before the members are looked at again.
POLL_SECONDS = 1.0

_lock = threading.Lock()
_listeners: dict[str, _Listener] = {}


def join(db: Database, wake: threading.Event) -> Callable[[], None]:
    """Set ``wake`` whenever a transaction adds rows to ``db``'s outbox (its schema), from
    now until the returned function is called. Best effort: while nobody can listen, the
    relay still polls every interval."""
    member = (_schema_of(db), wake)
    key = db.engine.url.render_as_string(hide_password=False)
    with _lock:
        listener = _listeners.get(key)
        if listener is None:
            listener = _listeners[key] = _Listener(key, db)
        listener.members.add(member)
    wake.set()  # rows added while nobody listened

    def leave() -> None:
        with _lock:
            listener.members.discard(member)

    return leave


def _schema_of(db: Database) -> str | None:
    """The schema the relay's outbox is in (None, if the database cannot tell now: then any
    notification wakes it)."""
    try:
        with db.engine.connect() as conn:
            return conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    except Exception:  # noqa: BLE001 - database unreachable: wake on every notification
        return None


class _Listener:
    def __init__(self, key: str, db: Database):
        self.key = key
        self.db = db
        self.members: set[tuple[str | None, threading.Event]] = set()
        threading.Thread(target=self._run, name="outbox-listener", daemon=True).start()

    def _done(self) -> bool:
        """No relay is left: this listener is forgotten (under the lock, so a relay joining
        now starts a new one) and stops."""
        with _lock:
            if self.members:
                return False
            del _listeners[self.key]
            return True

    def _wake(self, schema: str | None = None) -> None:
        with _lock:
            woken = [
                wake for where, wake in self.members if None in (where, schema) or where == schema
            ]
        for wake in woken:
            wake.set()

    def _run(self) -> None:
        while not self._done():
            raw = None
            try:
                raw = self.db.engine.raw_connection()
                conn = raw.driver_connection
                raw.detach()  # ours for as long as we listen, never back to the pool
                conn.rollback()
                conn.autocommit = True
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                self._wake()  # rows added while nobody listened
                while not self._done():
                    for note in conn.notifies(timeout=POLL_SECONDS):
                        self._wake(note.payload)
                        if not self.members:
                            break
                return
            except Exception:  # noqa: BLE001 - database unreachable: poll, and try again later
                log.debug("outbox listener lost its connection", exc_info=True)
                threading.Event().wait(POLL_SECONDS)
            finally:
                if raw is not None:
                    with contextlib.suppress(Exception):  # already broken
                        raw.close()
