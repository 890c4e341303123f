"""The relay: publishes unsent outbox rows in id order and marks them sent once confirmed.

One path for every bus. A pass takes the next unsent rows (on PostgreSQL locked, so a
concurrent relay skips them), hands them to the publisher (:mod:`.publisher`), and marks
sent the rows confirmed so far. On RabbitMQ a row is confirmed by the broker's publisher
confirm before ``publish`` returns; on the in-memory bus once every bound consumer has
settled it, possibly in a later pass (until then it stays in flight and is not handed over
again by this relay; a relay of the next process, after a crash, publishes it again).
Rows left unsent (broker down, process killed) are simply found again on the next pass, so
a broker outage delays events, never loses them; consumers are idempotent.

On PostgreSQL a pass's transaction commits without waiting for its WAL flush
(``synchronous_commit`` off for that transaction only): a database crash can forget that
rows were marked sent, and they are then published again, which consumers already absorb;
the relay no longer waits on the disk once per batch. The rows confirmed are marked in one
statement with their ids as one array parameter (not a thousand bind parameters).

On SQLite a pass reads the rows with one statement on its own (no transaction, no lock:
:meth:`.Database.fetch`), the rows in flight excluded by their ids as one JSON parameter,
and marks them sent likewise (:func:`revisit_common.db.run`), each compiled once.

On the in-memory bus with SQLite (standalone mode) the running relay marks rows sent at most
every ``RECORD_SECONDS`` (or once a batch of them is confirmed), not after every event each
consumer settles: each marking is a write transaction on the service's file, whose one
writer the web requests queue for. A row confirmed and not yet marked stays in flight (not
published again by this relay); if the process dies first, the next one publishes it again
and the consumers skip it (the inbox). A relay stopped cleanly marks what was confirmed.
Woken by a commit, a relay on the in-memory bus lets ``LINGER_SECONDS`` pass before it looks,
so that under load one pass publishes the rows of several requests; unwoken, it looks every
``MEMORY_IDLE_SECONDS`` (every commit of the process wakes it; elsewhere ``interval``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from .. import db, metrics
from ..db import Database
from ..faults import fault_point
from . import listener
from . import publisher as publishers
from .bus import Bus
from .outbox import Outbox, outbox_table
from .publisher import NotPublished, Publisher

log = logging.getLogger(__name__)

# In-memory bus, SQLite: how often the running relay marks confirmed rows sent (at most).
RECORD_SECONDS = 0.1
# In-memory bus: once woken by a commit, how long the relay lets more rows come before its
# pass (one pass then publishes the rows of several requests, not one pass per request;
# at 10 ms, passes of ~4 rows at 170 writes/s: the relay took half as much CPU per write
# again as at 25 ms).
LINGER_SECONDS = 0.025
# In-memory bus (one process: every commit that adds rows wakes its relay at once): how long
# an idle relay waits before it looks anyway (rows added by another process, rows confirmed
# and not yet marked), instead of ``interval``. Six idle relays looking five times a second
# cost more CPU than the one relay doing the work.
MEMORY_IDLE_SECONDS = 1.0

# For the relay's own transaction only: marking rows sent need not wait for the disk.
_NO_FLUSH_WAIT = sa.text("SET LOCAL synchronous_commit TO OFF")

# SQLite: the rows of a JSON array of ids (the rows in flight, the rows confirmed).
_IDS = sa.select(
    sa.func.json_each(sa.bindparam("ids")).table_valued("value").c.value
).scalar_subquery()
# SQLite: the next ``room`` unsent rows, those in flight aside.
_UNSENT_SQLITE = (
    sa.select(
        outbox_table.c.id,
        outbox_table.c.event_id,
        outbox_table.c.routing_key,
        outbox_table.c.body,
    )
    .where(outbox_table.c.sent_at.is_(None), outbox_table.c.id.not_in(_IDS))
    .order_by(outbox_table.c.id)
    .limit(sa.bindparam("room", type_=sa.Integer))
)
# SQLite: the rows confirmed marked sent.
_SENT_SQLITE = (
    outbox_table.update()
    .where(outbox_table.c.id.in_(_IDS))
    .values(sent_at=sa.bindparam("now", type_=outbox_table.c.sent_at.type))
)


class Unsent(NamedTuple):
    """An outbox row to publish (what a publisher reads of it)."""

    id: int
    event_id: str
    routing_key: str
    body: str


class PublishFailed(RuntimeError):
    """A row could not be published or was not confirmed; it and later rows stay unsent."""


class Relay:
    def __init__(
        self,
        service: str,
        db: Database,
        bus: Bus,
        outbox: Outbox,
        *,
        batch: int = 200,
        interval: float = 0.2,
    ):
        self.service = service
        self.db = db
        self.bus = bus
        self.outbox = outbox
        self.batch = batch
        self.interval = interval
        self.publisher: Publisher | None = None
        # Rows handed to the bus and not yet confirmed (the in-memory bus confirms later),
        # and the ids confirmed since the last pass (appended by whichever thread confirms).
        self._in_flight: set[int] = set()
        self._confirmed: deque[int] = deque()
        self.max_in_flight = 4 * batch
        self._recorded_at = time.monotonic()

    def run_once(self, *, defer: bool = False) -> int:
        """Publish one batch; returns how many rows were confirmed and marked sent.

        ``defer`` (the running relay, SQLite): rows confirmed by the in-memory bus are marked
        only when ``RECORD_SECONDS`` have passed since the last marking or a batch of them is
        waiting. Raises :class:`PublishFailed` after recording the rows that did get
        confirmed."""
        room = max(min(self.batch, self.max_in_flight - len(self._in_flight)), 0)
        confirmed: list[int] = []
        if self.db.is_postgres:
            query = (
                sa.select(
                    outbox_table.c.id,
                    outbox_table.c.event_id,
                    outbox_table.c.routing_key,
                    outbox_table.c.body,
                )
                .where(outbox_table.c.sent_at.is_(None))
                .order_by(outbox_table.c.id)
                .limit(room)
            )
            if self._in_flight:
                query = query.where(outbox_table.c.id.not_in(list(self._in_flight)))
            # The rows stay locked while they are published: a concurrent relay skips them.
            with self._given_back_on_error(confirmed), self.db.transaction() as session:
                session.execute(_NO_FLUSH_WAIT)
                rows = session.execute(query.with_for_update(skip_locked=True)).all()
                failure = self._publish(rows)
                self._record(session, rows, failure, confirmed)
        else:
            # SQLite: a write transaction locks the whole database (BEGIN IMMEDIATE), and
            # writes must never wait on the broker. Read (WAL: no lock, so a poll finding
            # nothing never queues behind the writers), publish outside any transaction,
            # then record in a short write transaction.
            params = {"ids": json.dumps(list(self._in_flight)), "room": room}
            rows = [Unsent(*row) for row in self.db.fetch(_UNSENT_SQLITE, params)]
            failure = self._publish(rows)
            if failure is not None or self._record_due(defer):
                with self._given_back_on_error(confirmed), self.db.transaction() as session:
                    self._record(session, rows, failure, confirmed)
        if failure is not None:
            raise PublishFailed(
                f"{failure.index} of {len(rows)} rows published; the rest stay unsent"
            ) from failure.error
        return len(confirmed)

    def _publish(self, rows) -> NotPublished | None:
        if not rows:
            return None
        self._in_flight.update(row.id for row in rows)
        try:
            if self.publisher is None:
                self.publisher = publishers.connect(self.bus)
            self.publisher.publish(rows, self._on_confirmed)
        except NotPublished as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - no connection: the whole batch stays unsent
            failure = NotPublished(0, exc)
        else:
            return None
        self.close()
        metrics.PUBLISH_FAILURES.labels(self.service).inc()
        given_up = {row.id for row in rows[failure.index :]}
        self._in_flight.difference_update(given_up)
        return failure

    def _record_due(self, defer: bool) -> bool:
        if not self._confirmed:
            return False
        waiting = len(self._confirmed) < self.batch and self.bus.is_memory and defer
        if waiting and time.monotonic() - self._recorded_at < RECORD_SECONDS:
            return False
        self._recorded_at = time.monotonic()
        return True

    def _on_confirmed(self, row_id: int) -> None:
        """A row the bus has taken for good (on the in-memory bus: a consumer's thread).
        The relay is woken to mark them once a batch is waiting; fewer are marked at its
        next pass (a new row, or ``interval``)."""
        self._confirmed.append(row_id)
        if self.bus.is_memory and len(self._confirmed) >= self.batch:
            self.outbox.wake_event.set()

    @contextlib.contextmanager
    def _given_back_on_error(self, confirmed: list[int]) -> Iterator[None]:
        """Rows taken to be marked sent are given back if that transaction fails (they are
        then marked at the next pass); once marked, they are no longer in flight."""
        try:
            yield
        except BaseException:
            self._confirmed.extendleft(reversed(confirmed))
            raise
        self._in_flight.difference_update(confirmed)

    def _record(self, session: Session, rows, failure: NotPublished | None, confirmed) -> None:
        """Mark sent what was confirmed (moved into ``confirmed``); count the attempt on the
        row that failed."""
        while self._confirmed:
            confirmed.append(self._confirmed.popleft())
        if failure is not None:
            stuck = rows[failure.index].id
            confirmed[:] = [row_id for row_id in confirmed if row_id != stuck]
            session.execute(
                outbox_table.update()
                .where(outbox_table.c.id == stuck)
                .values(attempts=outbox_table.c.attempts + 1, last_error=repr(failure.error)[:2000])
            )
        if confirmed:
            fault_point("relay_after_confirm")
            now = datetime.now(UTC)
            if self.db.is_postgres:  # ``= ANY`` of one array parameter
                among = outbox_table.c.id == sa.any_(sa.literal(confirmed, ARRAY(sa.BigInteger)))
                session.execute(outbox_table.update().where(among).values(sent_at=now))
            else:
                db.run(session, _SENT_SQLITE, {"ids": json.dumps(confirmed), "now": now})
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(confirmed))

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set: publish whenever woken, and every ``interval``."""
        leave = listener.join(self.db, self.outbox.wake_event) if self.db.is_postgres else None
        try:
            self._loop(stop)
            if self._confirmed:  # stopped cleanly: mark what was confirmed
                with contextlib.suppress(Exception):  # else the next process publishes it again
                    confirmed: list[int] = []
                    with self._given_back_on_error(confirmed), self.db.transaction() as session:
                        self._record(session, [], None, confirmed)
        finally:
            if leave is not None:
                leave()
            self.close()

    def _loop(self, stop: threading.Event) -> None:
        idle = max(self.interval, MEMORY_IDLE_SECONDS) if self.bus.is_memory else self.interval
        backoff = idle
        while not stop.is_set():
            try:
                sent = self.run_once(defer=True)
                backoff = idle
            except PublishFailed as exc:
                log.warning("relay: %s (%r)", exc, exc.__cause__, extra={"service": self.service})
                sent = 0
                backoff = min(backoff * 2, 5.0)
            except Exception:  # noqa: BLE001 - database down etc.: log, back off, try again
                log.exception("relay pass failed", extra={"service": self.service})
                sent = 0
                backoff = min(backoff * 2, 5.0)
            if sent >= self.batch:
                continue  # more waiting
            self._keep_alive()
            # rows confirmed and not yet marked: marked ``RECORD_SECONDS`` on, not when idle ends
            wait = min(backoff, RECORD_SECONDS) if self._confirmed else backoff
            if self._woken(stop, wait) and self.bus.is_memory:
                stop.wait(LINGER_SECONDS)
            self.outbox.wake_event.clear()

    def _woken(self, stop: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for a commit's wake-up (True), looking at ``stop`` every
        ``interval``: a stop takes effect as soon as it did before the idle wait grew."""
        end = time.monotonic() + seconds
        while not stop.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            if self.outbox.wake_event.wait(min(left, self.interval)):
                return True
        return False

    def _keep_alive(self) -> None:
        """Between passes: let the connection answer heartbeats. A lost one is dropped; the
        next pass reconnects."""
        if self.publisher is None:
            return
        try:
            self.publisher.keep_alive()
        except Exception as exc:  # noqa: BLE001 - any failure: a new connection next time
            log.warning("relay: idle connection lost (%r); reconnecting", exc)
            self.close()

    def close(self) -> None:
        """Let go of the publisher's connection (a new one is made when next needed)."""
        publisher, self.publisher = self.publisher, None
        if publisher is not None:
            with contextlib.suppress(Exception):  # already broken: we only tidy up
                publisher.close()
