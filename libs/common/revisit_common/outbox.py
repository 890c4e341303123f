"""Transactional outbox: events are rows written in the state change's own transaction.

:class:`Outbox` adds rows; :class:`Relay` publishes them with publisher confirms and marks
them sent only after the broker confirmed. Rows left unsent (broker down, process killed)
are simply found again on the next pass, so a broker outage delays events, never loses them.

On RabbitMQ the relay publishes a whole batch and then waits for the broker's confirms of
all of it (a window of confirms in flight, instead of one round trip per message); the rows
marked sent are the longest run, in id order, whose confirms were acks: a nack or a timeout
leaves that row and every later one of the batch unsent (published again on a later pass;
consumers are idempotent). On the in-memory bus (standalone) a row is marked sent only once
every consumer bound to it has settled it (:mod:`.settlement`): the memory transport loses
what it holds when the process dies, so whatever was not settled is published again at the
next start. On PostgreSQL a commit that added outbox rows also sends a
``NOTIFY``, so a relay in another process (the worker, while the rows are written by the web
process) starts publishing at once instead of at its next poll.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa
from amqp import Message, spec
from kombu import Producer
from sqlalchemy.orm import Session

from . import metrics
from .bus import Bus, corked
from .db import Database
from .envelope import CONTENT_TYPE, Envelope, wrap
from .events import Event
from .faults import fault_point
from .topology import EVENTS

log = logging.getLogger(__name__)

_meta = sa.MetaData()
outbox_table = sa.Table(
    "outbox",
    _meta,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("event_id", sa.String(36)),
    sa.Column("routing_key", sa.String(200)),
    sa.Column("body", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer),
    sa.Column("last_error", sa.Text),
)


# One statement, its values as parameters: built and compiled once, not for every event.
_INSERT = outbox_table.insert()


class PublishFailed(RuntimeError):
    """The broker did not confirm a publish; unconfirmed rows stay in the outbox."""


class NotConfirmed(RuntimeError):
    """The broker nacked a message, or its confirm did not come in time."""


# One channel for every outbox of a database; the payload is the schema whose outbox got
# rows, so a relay wakes only for its own.
NOTIFY_CHANNEL = "revisit_outbox"
_NOTIFY = sa.text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', current_schema())")
_ADDED = "revisit_outbox_transaction"


class Outbox:
    """Writes events into the current transaction and wakes the relay after commit."""

    def __init__(self, region: str, service: str | None = None):
        self.region = region
        self.service = service
        self._wake = threading.Event()

    @property
    def wake_event(self) -> threading.Event:
        return self._wake

    def add(
        self,
        session: Session,
        event: Event,
        *,
        tenant_id: str,
        correlation_id: str | None = None,
    ) -> Envelope:
        envelope = wrap(
            event,
            tenant_id=tenant_id,
            region=self.region,
            correlation_id=correlation_id,
            service=self.service,
        )
        session.execute(
            _INSERT,
            {
                "event_id": envelope.id,
                "routing_key": event.routing_key(),
                "body": envelope.to_json(),
                "created_at": datetime.now(UTC),
                "attempts": 0,
            },
        )
        self._announce(session)
        return envelope

    def _announce(self, session: Session) -> None:
        """Once per transaction: wake the relays when it commits (this process's through the
        event, another process's through NOTIFY, which PostgreSQL sends only on commit)."""
        transaction = session.get_transaction()
        if session.info.get(_ADDED) is transaction:
            return
        session.info[_ADDED] = transaction
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_NOTIFY)
        sa.event.listen(session, "after_commit", lambda _s: self._wake.set(), once=True)


def pending_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox_table)
            .where(outbox_table.c.sent_at.is_(None))
        ).scalar_one()


class Relay:
    """Publishes unsent outbox rows in id order, with confirms, then marks them sent."""

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
        self._conn = None
        self._producer: Producer | None = None
        self._confirms: _ConfirmWindow | None = None
        # memory:// only: rows handed to the bus and not yet settled by every consumer, and
        # the ids of those settled since the last pass (appended by consumer threads).
        self._in_flight: set[int] = set()
        self._settled: deque[int] = deque()
        self.max_in_flight = 4 * batch

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            windowed = not self.bus.is_memory
            self._conn = self.bus.connect(confirm_each=not windowed)
            self._conn.ensure_connection(max_retries=1, timeout=self.bus.publish_timeout)
            channel = self._conn.channel()
            if windowed:
                self._confirms = _ConfirmWindow(channel)
            self._producer = Producer(channel, exchange=EVENTS)
            EVENTS(channel).declare()
        return self._producer

    def _drop_connection(self, graceful: bool = False) -> None:
        """Forget the connection. After a failure the socket is simply closed: the AMQP
        close handshake would wait forever on a broker that stopped reading from us (a
        resource alarm blocks a publishing connection until the alarm clears)."""
        try:
            if self._conn is not None:
                if graceful:
                    self._conn.release()
                else:
                    self._conn.collect()
        except Exception:  # noqa: BLE001 - the connection is already broken; we only tidy up
            log.debug("closing a broken relay connection failed", exc_info=True)
        self._conn = None
        self._producer = None
        self._confirms = None

    def run_once(self) -> int:
        """Publish one batch; returns how many rows were confirmed and marked sent.

        Raises :class:`PublishFailed` after recording the rows that did get confirmed.
        """
        if self.bus.is_memory:
            return self._run_memory()
        query = (
            sa.select(outbox_table.c.id, outbox_table.c.routing_key, outbox_table.c.body)
            .where(outbox_table.c.sent_at.is_(None))
            .order_by(outbox_table.c.id)
            .limit(self.batch)
        )
        if self.db.is_postgres:
            # The rows stay locked while they are published: a concurrent relay skips them.
            with self.db.transaction() as session:
                rows = session.execute(query.with_for_update(skip_locked=True)).all()
                confirmed, failure = self._publish_rows(rows)
                if confirmed:
                    fault_point("relay_after_confirm")
                self._record(session, rows, confirmed, failure)
        else:
            # SQLite: a transaction locks the whole database (BEGIN IMMEDIATE), and writes
            # must never wait on the broker. Read, publish outside any transaction, record.
            with self.db.transaction() as session:
                rows = session.execute(query).all()
            confirmed, failure = self._publish_rows(rows)
            if confirmed:
                fault_point("relay_after_confirm")
            if confirmed or failure is not None:
                with self.db.transaction() as session:
                    self._record(session, rows, confirmed, failure)
        if failure is not None:
            raise PublishFailed(
                f"{len(confirmed)} of {len(rows)} rows confirmed; the rest stay unsent"
            ) from failure
        return len(confirmed)

    def _run_memory(self) -> int:
        """One pass on the in-memory bus: hand the next unsent rows (not already in flight)
        to the bus, then mark sent the rows every consumer has settled. Returns how many
        rows were marked sent."""
        try:
            self._hand_over()
        finally:
            marked = self._mark_settled()
        return marked

    def _hand_over(self) -> None:
        room = min(self.batch, self.max_in_flight - len(self._in_flight))
        if room <= 0:
            return
        query = (
            sa.select(outbox_table.c.id, outbox_table.c.event_id, outbox_table.c.routing_key)
            .add_columns(outbox_table.c.body)
            .where(outbox_table.c.sent_at.is_(None))
            .order_by(outbox_table.c.id)
            .limit(room + len(self._in_flight))
        )
        with self.db.transaction() as session:
            rows = [row for row in session.execute(query) if row.id not in self._in_flight]
        rows = rows[:room]
        published = 0
        try:
            producer = self._ensure_producer()
            for row in rows:
                self._in_flight.add(row.id)
                self.bus.settlements.expect(
                    row.event_id, row.routing_key, partial(self._on_settled, row.id)
                )
                producer.publish(
                    row.body.encode("utf-8"),
                    routing_key=row.routing_key,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    retry=False,
                )
                published += 1
        except Exception as exc:  # noqa: BLE001 - the row and the rest stay unsent
            self._drop_connection()
            metrics.PUBLISH_FAILURES.labels(self.service).inc()
            stuck = rows[published]
            self.bus.settlements.forget(stuck.event_id)
            self._in_flight.discard(stuck.id)
            with contextlib.suppress(ValueError):  # settled at once: nobody is bound to it
                self._settled.remove(stuck.id)
            with self.db.transaction() as session:
                session.execute(
                    outbox_table.update()
                    .where(outbox_table.c.id == stuck.id)
                    .values(attempts=outbox_table.c.attempts + 1, last_error=repr(exc)[:2000])
                )
            raise PublishFailed(
                f"{published} of {len(rows)} rows published; the rest stay unsent"
            ) from exc
        finally:
            if published:
                metrics.EVENTS_PUBLISHED.labels(self.service).inc(published)

    def _mark_settled(self) -> int:
        settled = []
        while self._settled:
            settled.append(self._settled.popleft())
        if settled:
            with self.db.transaction() as session:
                session.execute(
                    outbox_table.update()
                    .where(outbox_table.c.id.in_(settled))
                    .values(sent_at=datetime.now(UTC))
                )
            self._in_flight.difference_update(settled)
        return len(settled)

    def _on_settled(self, row_id: int) -> None:
        """Called by a consumer's thread once the row's event is settled everywhere."""
        self._settled.append(row_id)
        self.outbox.wake_event.set()

    def _publish_rows(self, rows) -> tuple[list[int], Exception | None]:
        confirmed: list[int] = []
        try:
            if rows:
                self._publish(rows, confirmed)
        except Exception as exc:  # noqa: BLE001 - any broker failure: the rest stay unsent
            self._drop_connection()
            metrics.PUBLISH_FAILURES.labels(self.service).inc()
            return confirmed, exc
        return confirmed, None

    def _record(self, session: Session, rows, confirmed: list[int], failure) -> None:
        if failure is not None:
            stuck = rows[len(confirmed)].id
            session.execute(
                outbox_table.update()
                .where(outbox_table.c.id == stuck)
                .values(attempts=outbox_table.c.attempts + 1, last_error=repr(failure)[:2000])
            )
        if confirmed:
            session.execute(
                outbox_table.update()
                .where(outbox_table.c.id.in_(confirmed))
                .values(sent_at=datetime.now(UTC))
            )
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(confirmed))

    def _publish(self, rows, confirmed: list[int]) -> None:
        producer = self._ensure_producer()
        window = self._confirms
        first = window.next_tag
        self._send(producer.channel, rows, window)
        failure = None
        try:
            window.wait(self._conn, first, len(rows), self.bus.publish_timeout)
        except NotConfirmed as exc:
            failure = exc  # the rows acked before it still count
        for index, row in enumerate(rows):
            if not window.acked(first + index):
                break
            confirmed.append(row.id)
        window.forget(first, len(rows))
        if failure is not None:
            raise failure
        if len(confirmed) < len(rows):
            raise NotConfirmed(f"the broker nacked message {first + len(confirmed)}")

    def _send(self, channel, rows, window: _ConfirmWindow) -> None:
        """Write a batch of messages with few system calls, within the publish timeout.

        What kombu's ``Producer.publish`` and py-amqp's ``basic_publish`` add per message
        is not needed here, and was most of the relay's time in a profile: a
        non-blocking read of the socket before each publish (py-amqp checks for a
        connection.blocked notice: a blocked broker shows here as a write or confirm
        timeout instead) and a socket timeout set and reset around each."""
        transport = self._conn.connection.transport
        with transport.having_timeout(self.bus.publish_timeout), corked(self._conn):
            for row in rows:
                channel.send_method(
                    spec.Basic.Publish,
                    "Bssbb",
                    (0, EVENTS.name, row.routing_key, False, False),
                    _EventMessage(row.body.encode("utf-8")),
                )
                window.sent()

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set: publish whenever woken, and every ``interval``."""
        if self.db.is_postgres:
            listener = threading.Thread(
                target=_listen,
                args=(self.db, self.outbox.wake_event, stop),
                name=f"{self.service}-outbox-listener",
                daemon=True,
            )
            listener.start()
        backoff = self.interval
        while not stop.is_set():
            try:
                sent = self.run_once()
                backoff = self.interval
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
            self.outbox.wake_event.wait(backoff)
            self.outbox.wake_event.clear()
        self._drop_connection(graceful=True)

    def _keep_alive(self) -> None:
        """Heartbeats on an idle connection: read the broker's, send ours when due. A broker
        silent for two intervals (a dead link) drops the connection; the next pass reconnects."""
        if self._conn is None or not self.bus.heartbeat or self.bus.is_memory:
            return
        try:
            with contextlib.suppress(TimeoutError):
                self._conn.drain_events(timeout=0.001)  # frames waiting: heartbeats
            self._conn.heartbeat_check()
        except Exception as exc:  # noqa: BLE001 - any failure: a new connection next time
            log.warning("relay: idle connection lost (%r); reconnecting", exc)
            self._drop_connection()


class _EventMessage(Message):
    """An event as the relay publishes it. Every one has the same properties, which py-amqp
    would serialize again for each message: here once."""

    _properties: bytes | None = None

    def __init__(self, body: bytes):
        super().__init__(
            body,
            priority=0,  # the same properties as kombu's Producer.publish sets
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            application_headers={},
            delivery_mode=2,
        )

    def _serialize_properties(self) -> bytes:
        if _EventMessage._properties is None:
            _EventMessage._properties = super()._serialize_properties()
        return _EventMessage._properties


class _ConfirmWindow:
    """Publisher confirms on one py-amqp channel, for many messages in flight at once.

    The channel is put in confirm mode; the broker then numbers the messages published on it
    1, 2, 3, ... and acks or nacks them, one tag at a time or "every tag up to this one".
    """

    def __init__(self, channel):
        channel.confirm_select()
        channel._confirm_selected = True  # py-amqp's own flag: confirm mode is on
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self.next_tag = 1
        self._settled: dict[int, bool] = {}
        self._floor = 0  # every tag up to here is settled

    def sent(self) -> None:
        self.next_tag += 1

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, True)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, False)

    def _settle(self, tag: int, multiple: bool, ok: bool) -> None:
        if multiple:
            for each in range(self._floor + 1, tag + 1):
                self._settled.setdefault(each, ok)
            self._floor = max(self._floor, tag)
        else:
            self._settled.setdefault(tag, ok)
        while self._floor + 1 in self._settled:
            self._floor += 1

    def _all_settled(self, first: int, count: int) -> bool:
        last = first + count - 1
        return self._floor >= last or all(
            tag in self._settled for tag in range(max(first, self._floor + 1), last + 1)
        )

    def wait(self, connection, first: int, count: int, timeout: float) -> None:
        """Read the broker's answers until tags first..first+count-1 are all settled.

        Raises :class:`NotConfirmed` when ``timeout`` passes first (the tags settled by
        then still count: :meth:`acked` tells which)."""
        deadline = time.monotonic() + timeout
        while not self._all_settled(first, count):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotConfirmed(f"no confirm within {timeout} s")
            try:
                connection.drain_events(timeout=remaining)
            except TimeoutError as exc:
                if self._all_settled(first, count):
                    return
                raise NotConfirmed(f"no confirm within {timeout} s") from exc

    def acked(self, tag: int) -> bool:
        return self._settled.get(tag) is True

    def forget(self, first: int, count: int) -> None:
        for tag in range(first, first + count):
            self._settled.pop(tag, None)


def _listen(db: Database, wake: threading.Event, stop: threading.Event) -> None:
    """Set ``wake`` whenever a transaction adds rows to this schema's outbox (LISTEN).

    Best effort: while it cannot listen, the relay still polls every ``interval``."""
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
