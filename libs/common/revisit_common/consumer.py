"""The event consumer every service runs: decode, apply once, ack after commit.

For each message: parse the CloudEvent (a message that is not one is dead-lettered at once);
find the handler for its type (none: ack and ignore); in one transaction claim the event id
in the inbox and run the handler; commit; ack. A handler that raises is retried with
back-off, a bounded number of times, then the message goes to the service's dead-letter
queue with the reason in its headers and the consumer goes on with the next one. A database
that cannot be reached is not the message's fault: the message is requeued, not dead-lettered.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from kombu import Producer
from kombu.mixins import ConsumerMixin
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import inbox, metrics
from .bus import Bus
from .db import Database
from .envelope import CONTENT_TYPE, Envelope, InvalidEnvelope, parse
from .outbox import Outbox
from .topology import DEAD, dead_letter_queue, service_queue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may use besides its session: the outbox, to publish follow-up events."""

    service: str
    outbox: Outbox

    def publish(self, session: Session, event, envelope: Envelope) -> None:
        """Add a follow-up event for the same tenant, keeping the correlation id."""
        self.outbox.add(
            session, event, tenant_id=envelope.tenantid, correlation_id=envelope.correlationid
        )


Handler = Callable[[Session, Envelope, HandlerContext], None]


class DatabaseUnavailable(RuntimeError):
    pass


class EventConsumer(ConsumerMixin):
    def __init__(
        self,
        service: str,
        db: Database,
        bus: Bus,
        outbox: Outbox,
        handlers: Mapping[str, Handler],
        routing_keys: list[str],
        *,
        prefix: str = "revisit",
        retries: int = 3,
        backoff: float = 0.05,
    ):
        self.service = service
        self.db = db
        self.bus = bus
        self.handlers = dict(handlers)
        self.context = HandlerContext(service, outbox)
        self.retries = retries
        self.backoff = backoff
        durable = not bus.is_memory
        self.queue = service_queue(service, routing_keys, prefix=prefix, durable_broker=durable)
        self.dead_queue = dead_letter_queue(service, prefix=prefix, durable_broker=durable)
        self.connection = None
        self.stopped = threading.Event()
        self._last_error = ""

    # -- set-up ------------------------------------------------------------------------

    def declare(self) -> None:
        """Declare the queue, its bindings and the dead-letter queue (idempotent)."""
        with self.bus.connect() as conn:
            channel = conn.channel()
            self.queue(channel).declare()
            self.dead_queue(channel).declare()

    def get_consumers(self, consumer_cls, channel):
        channel.basic_qos(0, self.bus.prefetch, False)  # re-applied after every reconnect
        return [consumer_cls(queues=[self.queue], on_message=self.on_message, accept=[])]

    def run_forever(self, stop: threading.Event) -> None:
        self.should_stop = False  # a consumer stopped before can be started again
        self.stopped.clear()
        self.connection = self.bus.connect()
        watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True)
        watcher.start()
        try:
            self.run()
        finally:
            self.connection.release()
            self.stopped.set()

    def _watch(self, stop: threading.Event) -> None:
        stop.wait()
        self.should_stop = True

    # -- per message -------------------------------------------------------------------

    def on_message(self, message) -> None:
        try:
            envelope = parse(message.body)
        except InvalidEnvelope as exc:
            self._dead_letter(message, None, str(exc), attempts=0)
            return
        outcome = self.apply(envelope, requeue=message.requeue)
        if outcome == "failed":
            self._dead_letter(message, envelope, self._last_error, attempts=self.retries + 1)
        elif outcome != "requeued":
            message.ack()

    def apply(self, envelope: Envelope, requeue: Callable[[], None] | None = None) -> str:
        """Apply one event: 'applied', 'duplicate', 'ignored', 'failed' or 'requeued'."""
        handler = self.handlers.get(envelope.type)
        if handler is None:
            metrics.EVENTS_CONSUMED.labels(self.service, envelope.type, "ignored").inc()
            return "ignored"
        for attempt in range(self.retries + 1):
            try:
                outcome = self._apply_once(handler, envelope)
                metrics.EVENTS_CONSUMED.labels(self.service, envelope.type, outcome).inc()
                return outcome
            except DatabaseUnavailable:
                log.warning("database unreachable; requeueing %s", envelope.id)
                time.sleep(min(self.backoff * 20, 2.0))
                if requeue is not None:
                    requeue()
                    return "requeued"
                raise
            except Exception as exc:  # noqa: BLE001 - reported below, then retried or dead-lettered
                self._last_error = "".join(traceback.format_exception_only(exc)).strip()[:1000]
                log.warning(
                    "handler failed (attempt %d of %d) for %s %s: %s",
                    attempt + 1,
                    self.retries + 1,
                    envelope.type,
                    envelope.id,
                    self._last_error,
                )
                if attempt < self.retries:
                    time.sleep(self.backoff * (2**attempt))
        metrics.EVENTS_CONSUMED.labels(self.service, envelope.type, "dead").inc()
        return "failed"

    def _apply_once(self, handler: Handler, envelope: Envelope) -> str:
        try:
            with self.db.transaction() as session:
                if not inbox.claim(session, self.service, envelope.id, envelope.type):
                    return "duplicate"
                handler(session, envelope, self.context)
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise
        return "applied"

    def _dead_letter(self, message, envelope: Envelope | None, reason: str, attempts: int) -> None:
        headers = {
            "x-revisit-reason": reason[:1000],
            "x-revisit-service": self.service,
            "x-revisit-attempts": attempts,
            "x-revisit-failed-at": datetime.now(UTC).isoformat(),
            "x-revisit-routing-key": message.delivery_info.get("routing_key", ""),
        }
        channel = self.connection.default_channel
        producer = Producer(channel, exchange=DEAD)
        producer.publish(
            message.body,
            routing_key=self.dead_queue.routing_key,
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=2,
            headers=headers,
            retry=False,
            timeout=self.bus.publish_timeout,
            confirm_timeout=self.bus.publish_timeout,
        )
        message.ack()
        metrics.DEAD_LETTERS.labels(self.service).inc()
        log.error("dead-lettered %s: %s", envelope.id if envelope else "an invalid message", reason)


# sqlite3 raises OperationalError for SQL mistakes too ("no such table"): only these mean
# the database itself is unavailable; anything else is the message's (handler's) fault.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def _is_connection_error(exc: DBAPIError) -> bool:
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    if name not in {"OperationalError", "InterfaceError"}:
        return False
    if type(exc.orig).__module__ == "sqlite3":
        return any(text in str(exc.orig).lower() for text in _SQLITE_UNAVAILABLE)
    return True
