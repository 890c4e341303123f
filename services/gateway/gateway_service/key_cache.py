"""The identities of active API keys, kept in each gateway process while PostgreSQL tells it
of every change (``LISTEN``), so that most requests skip the key lookup's query.

Migration 0006 makes every statement changing ``api_keys``, ``staff`` or
``settings`` (what :meth:`Store.find_key` reads) send a notification on
:data:`CHANNEL` with its schema, at commit. One listening connection per database and
process (as the outbox listener, ``revisit_common.messaging.listener``) hears them and
drops every identity kept for that schema, in every :class:`KeyCache` of the process. So a
revoked key, a person who left or a settings change is seen in this process at once (the
change's request also calls :meth:`KeyCache.changed` before it answers), and in other
processes as soon as the notification is delivered and heard: not on the very next
request as without the cache, but after a short window (measured on a loaded 2-core
machine: median 0.2 ms after the change's commit returned, 90 % within 2.3 ms, at most
6 ms). Hence opt-in (REVISIT_KEY_CACHE).

Nothing is kept, and every lookup queries, while the listener is not connected, or has not
shown it is alive within :data:`ALIVE_SECONDS` (it runs ``SELECT 1`` every
:data:`POLL_SECONDS`): a notification missed while it was away cannot leave a stale entry.
A lookup keeps its answer only if no change was heard since it began (the generation), so
an answer read just before a change, and kept just after it was heard, is never kept.
Only active keys are kept (unknown keys always query: random keys cannot fill the memory),
at most :data:`MAX_ENTRIES`. SQLite (standalone mode, one process) has no cache.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from revisit_common.identity import Identity

log = logging.getLogger(__name__)

CHANNEL = "revisit_gateway_keys"  # the same name in migration 0006
POLL_SECONDS = 1.0
ALIVE_SECONDS = 3.0
MAX_ENTRIES = 10_000

_lock = threading.Lock()
_listeners: dict[str, _Listener] = {}


class KeyCache:
    """The kept identities of one schema's keys (one :class:`Store`)."""

    def __init__(self, conninfo: str, schema: str | None) -> None:
        self.schema = schema
        self._entries: dict[str, Identity] = {}
        self._generation = 0
        self._lock = threading.Lock()
        with _lock:
            listener = _listeners.get(conninfo)
            if listener is None:
                listener = _listeners[conninfo] = _Listener(conninfo)
            listener.members.add(self)
        self._listener = listener

    def get(self, digest: str) -> Identity | None:
        """The identity kept for the key whose hash is ``digest``, or None (look it up)."""
        if not self._listener.alive():
            return None
        return self._entries.get(digest)

    def generation(self) -> int | None:
        """Taken before a lookup, for :meth:`put` (None: nothing may be kept now)."""
        return self._generation if self._listener.alive() else None

    def put(self, digest: str, identity: Identity, generation: int | None) -> None:
        """Keep a lookup's answer, unless a change was heard since it began."""
        with self._lock:
            if generation is None or generation != self._generation:
                return
            if not self._listener.alive():
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = identity

    def forget(self) -> None:
        """Drop every kept identity; lookups under way keep nothing."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def changed(self) -> None:
        """This process changed keys, people or settings of this schema: every cache of the
        schema in the process forgets, now (other processes by the notification)."""
        self._listener.notify(self.schema)

    def close(self) -> None:
        self.forget()
        with _lock:
            self._listener.members.discard(self)


class _Listener:
    """One ``LISTEN`` connection of the process to one database, for its caches."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.members: weakref.WeakSet[KeyCache] = weakref.WeakSet()
        self._alive_at: float | None = None  # the last sign of life, while connected
        threading.Thread(target=self._run, name="key-cache-listener", daemon=True).start()

    def alive(self) -> bool:
        at = self._alive_at
        return at is not None and time.monotonic() - at < ALIVE_SECONDS

    def notify(self, schema: str | None) -> None:
        with _lock:
            members = list(self.members)
        for cache in members:
            if schema is None or cache.schema in (None, schema):
                cache.forget()

    def _down(self) -> None:
        self._alive_at = None
        self.notify(None)

    def _done(self) -> bool:
        """No cache is left: this listener is forgotten (under the lock, so a cache opened
        now starts a new one) and stops."""
        with _lock:
            if self.members:
                return False
            if _listeners.get(self.conninfo) is self:
                del _listeners[self.conninfo]
            return True

    def _run(self) -> None:
        import psycopg

        while not self._done():
            conn = None
            try:
                conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                conn.execute(f"LISTEN {CHANNEL}")
                self.notify(None)  # changes made while nobody listened
                self._alive_at = time.monotonic()
                while not self._done():
                    for note in conn.notifies(timeout=POLL_SECONDS):
                        self.notify(note.payload or None)
                    conn.execute("SELECT 1")
                    if not self.alive():  # it hung a while: notes may be pending still
                        self.notify(None)
                    self._alive_at = time.monotonic()
                return
            except Exception:  # noqa: BLE001 - database unreachable: no cache until back
                log.debug("key cache listener lost its connection", exc_info=True)
                self._down()
                time.sleep(POLL_SECONDS)
            finally:
                self._down()
                if conn is not None:
                    conn.close()
