"""Transactional outbox: events are rows written in the state change's own transaction.

:class:`Outbox` adds rows; :class:`Relay` publishes them with publisher confirms and marks
them sent only after the broker confirmed. Rows left unsent (broker down, process killed)
are simply found again on the next pass, so a broker outage delays events, never loses them.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from kombu import Producer
from sqlalchemy.orm import Session

from . import metrics
from .bus import Bus
from .db import Database
from .envelope import CONTENT_TYPE, Envelope, wrap
from .events import Event
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


class PublishFailed(RuntimeError):
    """The broker did not confirm a publish; unconfirmed rows stay in the outbox."""


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
            outbox_table.insert().values(
                event_id=envelope.id,
                routing_key=event.routing_key(),
                body=envelope.to_json(),
                created_at=datetime.now(UTC),
                attempts=0,
            )
        )
        sa.event.listen(session, "after_commit", lambda _s: self._wake.set(), once=True)
        return envelope


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

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            self._conn = self.bus.connect()
            self._conn.ensure_connection(max_retries=1, timeout=self.bus.publish_timeout)
            channel = self._conn.channel()
            self._producer = Producer(channel, exchange=EVENTS)
            EVENTS(channel).declare()
        return self._producer

    def _drop_connection(self) -> None:
        try:
            if self._conn is not None:
                self._conn.release()
        except Exception:  # noqa: BLE001 - the connection is already broken; we only tidy up
            log.debug("closing a broken relay connection failed", exc_info=True)
        self._conn = None
        self._producer = None

    def run_once(self) -> int:
        """Publish one batch; returns how many rows were confirmed and marked sent.

        Raises :class:`PublishFailed` after recording the rows that did get confirmed.
        """
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
                self._record(session, rows, confirmed, failure)
        else:
            # SQLite: a transaction locks the whole database (BEGIN IMMEDIATE), and writes
            # must never wait on the broker. Read, publish outside any transaction, record.
            with self.db.transaction() as session:
                rows = session.execute(query).all()
            confirmed, failure = self._publish_rows(rows)
            if confirmed or failure is not None:
                with self.db.transaction() as session:
                    self._record(session, rows, confirmed, failure)
        if failure is not None:
            raise PublishFailed(
                f"{len(confirmed)} of {len(rows)} rows confirmed; the rest stay unsent"
            ) from failure
        return len(confirmed)

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
        for row in rows:
            producer.publish(
                row.body.encode("utf-8"),
                routing_key=row.routing_key,
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                retry=False,
                timeout=self.bus.publish_timeout,
                confirm_timeout=self.bus.publish_timeout,
            )
            confirmed.append(row.id)

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set: publish whenever woken, and every ``interval``."""
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
            self.outbox.wake_event.wait(backoff)
            self.outbox.wake_event.clear()
        self._drop_connection()
