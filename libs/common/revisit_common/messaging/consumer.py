"""The event consumer every service runs: decode, apply once, ack after commit.

One path for every message: the messages already waiting (up to ``batch``; a single
message is a batch of one) are decoded (a message that is not a CloudEvent is
dead-lettered at once; an event no handler wants is acked and ignored), then claimed in the
inbox and applied in one transaction, in arrival order (a :class:`.registry.BatchHandler`
takes a run of them in one call), committed, then acked. The effect is exactly once, acked
only after the commit. If anything in a batch of several fails, the transaction is rolled
back and its messages are applied again each as a batch of one. A batch of one whose
handler raises is retried with back-off, a bounded number of times, then goes to the
service's dead-letter queue with the reason (:mod:`.dead_letters`) and the consumer goes on
with the next. A database that cannot be reached is not the message's fault: the messages
are requeued, not dead-lettered.

Batches of several wherever a transaction per message is the bottleneck: PostgreSQL behind
RabbitMQ takes up to half the prefetch by default. SQLite (one writer per file, which the
service's web requests share) and the in-memory bus take at most ``EMBEDDED_BATCH``: a
transaction per event was half the CPU of a standalone write, and a batch of that size holds
the writer for a few milliseconds, well within a request's latency budget. On the in-memory
bus a batch is what is already waiting (gathering never sleeps: kombu polls the queues).
Messages come from a receiver (:mod:`.receiver`: pika on RabbitMQ, kombu in memory); after
a connection error it is dropped and a new one made.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .. import metrics
from ..db import Database
from ..faults import fault_point
from . import inbox
from .bus import Bus
from .dead_letters import DeadLetters
from .envelope import Envelope, InvalidEnvelope, parse
from .outbox import Outbox
from .receiver import KombuReceiver, PikaReceiver, receiver
from .registry import BatchHandler, Handler, HandlerContext
from .topology import dead_letter_queue, service_queue

log = logging.getLogger(__name__)

# The most events in one transaction on SQLite or the in-memory bus (see the module's doc).
EMBEDDED_BATCH = 16


# Told of every message the consumer settled: the event's id (None for a message that is not
# a CloudEvent) and how: 'applied', 'duplicate', 'ignored' or 'dead'.
SettledListener = Callable[[str | None, str], None]


class DatabaseUnavailable(RuntimeError):
    pass


class BatchFailed(Exception):
    """A transaction failed and was rolled back; ``index``: the event whose handler raised,
    when known."""

    def __init__(self, index: int | None, error: BaseException):
        super().__init__(str(error))
        self.index = index
        self.error = error


@dataclass
class _Delivery:
    message: object  # a received message (receiver.py; None when applied directly)
    envelope: Envelope
    handler: Handler


class EventConsumer:
    def __init__(
        self,
        service: str,
        db: Database,
        bus: Bus,
        outbox: Outbox,
        handlers: Mapping[str, Handler],
        routing_keys: Sequence[str],
        *,
        prefix: str = "revisit",
        retries: int = 3,
        backoff: float = 0.05,
        batch: int | None = None,
    ):
        self.service = service
        self.db = db
        self.bus = bus
        self.handlers = dict(handlers)
        self.context = HandlerContext(service, outbox)
        self.retries = retries
        self.backoff = backoff
        durable = not bus.is_memory
        self.routing_keys = tuple(routing_keys)
        self.queue = service_queue(
            service, list(self.routing_keys), prefix=prefix, durable_broker=durable
        )
        self.dead_queue = dead_letter_queue(service, prefix=prefix, durable_broker=durable)
        self.dead_letters = DeadLetters(service, bus, self.dead_queue)
        self.stopped = threading.Event()
        self._last_error = ""
        size = batch if batch is not None else max(1, bus.prefetch // 2)
        if not db.is_postgres or bus.is_memory:
            size = min(size, EMBEDDED_BATCH)
        self.batch = max(1, min(size, bus.prefetch))
        self._listeners: list[SettledListener] = []

    def on_settled(self, listener: SettledListener) -> None:
        """Call ``listener(event_id, outcome)`` on the consumer's thread after each message
        is acked or dead-lettered (tests wait on it instead of polling the database)."""
        self._listeners.append(listener)

    @property
    def batching(self) -> bool:
        return self.batch > 1

    # -- set-up and the loop ---------------------------------------------------------------

    def declare(self) -> None:
        """Declare the queue, its bindings and the dead-letter queue (idempotent)."""
        with self.bus.connect() as conn:
            channel = conn.channel()
            self.queue(channel).declare()
            self.dead_queue(channel).declare()
        if self.bus.is_memory:
            self.bus.settlements.bind(self.service, self.routing_keys)

    def run_forever(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, reconnecting after connection errors."""
        self.stopped.clear()
        try:
            while not stop.is_set():
                source = receiver(self.bus, self.queue)
                try:
                    self._consume(source, stop)
                except source.errors as exc:
                    source.drop()
                    log.warning("consumer connection lost (%r); reconnecting", exc)
                    stop.wait(1.0)
                    self._declare_again()
                except BaseException:
                    source.drop()
                    raise
                else:
                    source.close()
        finally:
            self.dead_letters.close()
            self.stopped.set()

    def _declare_again(self) -> None:
        """Before a reconnect: declare the queue and its bindings again, so a queue deleted
        meanwhile (an operator, a broker that lost it) comes back before the consumer asks
        for it. Best effort: with the broker still away, the receiver's connect fails next
        and says so."""
        if self.bus.is_memory:
            return
        try:
            self.declare()
        except Exception as exc:  # noqa: BLE001 - any failure here is the connect's to report
            log.info("queue %s not declared again yet (%r)", self.queue.name, exc)

    def _consume(self, source: PikaReceiver | KombuReceiver, stop: threading.Event) -> None:
        """Take batches from ``source`` and settle each, until ``stop`` is set. A batch not
        settled when the connection goes is delivered again by the broker."""
        source.start()
        while not stop.is_set():
            messages = source.take(self.batch, source.wait)
            if messages:
                self.settle(messages)

    # -- a batch of messages ---------------------------------------------------------------

    def settle(self, messages: list) -> None:
        """Apply ``messages`` (one batch) and ack, dead-letter or requeue each."""
        work = []
        for message in messages:
            try:
                envelope = parse(message.body)
            except InvalidEnvelope as exc:
                self._dead_letter(message, None, str(exc), attempts=0)
                continue
            handler = self.handlers.get(envelope.type)
            if handler is None:
                metrics.EVENTS_CONSUMED.labels(self.service, envelope.type, "ignored").inc()
                self._ack(message, envelope, "ignored")
                continue
            work.append(_Delivery(message, envelope, handler))
        if len(work) == 1:
            self._settle_alone(work[0])
        elif work:
            self._settle_together(work)

    def _settle_together(self, work: list[_Delivery]) -> None:
        try:
            outcomes = self._transaction(work)
        except DatabaseUnavailable:
            self._requeue(work)
            return
        except BatchFailed as failed:
            log.warning(
                "a batch of %d events was rolled back (%s); applying them one by one",
                len(work),
                failed.error,
            )
            for index, delivery in enumerate(work):
                self._settle_alone(delivery, failed if index == failed.index else None)
            return
        self._count(work, outcomes)
        if self.bus.is_memory:  # kombu's virtual channels ignore ``multiple``
            for delivery in work:
                delivery.message.ack()
        else:
            # Every message of the channel not yet settled, up to the last one of the batch,
            # is one of the batch (those before were settled, those after came later): one ack.
            work[-1].message.ack(multiple=True)
        for delivery, outcome in zip(work, outcomes, strict=True):
            self._settled(delivery.envelope.id, outcome)

    def _settle_alone(self, delivery: _Delivery, failed: BatchFailed | None = None) -> None:
        try:
            outcome = self._apply_alone(delivery, failed)
        except DatabaseUnavailable:
            self._requeue([delivery])
            return
        if outcome == "failed":
            self._dead_letter(
                delivery.message, delivery.envelope, self._last_error, attempts=self.retries + 1
            )
        else:
            self._ack(delivery.message, delivery.envelope, outcome)

    def _apply_alone(self, delivery: _Delivery, failed: BatchFailed | None = None) -> str:
        """One event in its own transaction, retried with back-off: 'applied', 'duplicate'
        or 'failed'. ``failed``: its first attempt, made in a batch that was rolled back."""
        done = 0
        if failed is not None:
            done = 1
            self._note_failure(delivery.envelope, failed.error, 0)
            time.sleep(self.backoff)
        for attempt in range(done, self.retries + 1):
            try:
                [outcome] = self._transaction([delivery])
                self._count([delivery], [outcome])
                return outcome
            except BatchFailed as exc:
                self._note_failure(delivery.envelope, exc.error, attempt)
                if attempt < self.retries:
                    time.sleep(self.backoff * (2**attempt))
        metrics.EVENTS_CONSUMED.labels(self.service, delivery.envelope.type, "dead").inc()
        return "failed"

    def _transaction(self, work: list[_Delivery]) -> list[str]:
        """Claim and apply ``work`` in one transaction: the outcome of each event."""
        current: int | None = None
        try:
            with self.db.transaction() as session:
                claimed = inbox.claim(session, self.service, [d.envelope for d in work])
                index = 0
                while index < len(work):
                    if index not in claimed:
                        index += 1
                        continue
                    handler = work[index].handler
                    if isinstance(handler, BatchHandler) and len(work) > 1:
                        run = []
                        while index < len(work) and work[index].handler is handler:
                            if index in claimed:
                                run.append(work[index].envelope)
                            index += 1
                        current = None  # which one of the run failed is not known
                        handler.many(session, run, self.context)
                    else:
                        current = index
                        handler(session, work[index].envelope, self.context)
                        index += 1
                current = None
                fault_point("consumer_before_commit")
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise BatchFailed(current, exc) from exc
        except PoolTimeout as exc:  # every pooled connection busy: wait, never dead-letter
            raise DatabaseUnavailable(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - rolled back; the caller decides what next
            raise BatchFailed(current if len(work) > 1 else 0, exc) from exc
        outcomes = ["applied" if i in claimed else "duplicate" for i in range(len(work))]
        for outcome in outcomes:
            if outcome == "applied":
                fault_point("consumer_after_commit")  # counted per event, as the fault tests do
        return outcomes

    # -- applying without a broker (tests, replays) ------------------------------------------

    def apply(self, envelope: Envelope) -> str:
        """Apply one event as a batch of one: 'applied', 'duplicate', 'ignored' or 'failed'."""
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return "ignored"
        return self._apply_alone(_Delivery(None, envelope, handler))

    def apply_batch(self, envelopes: Sequence[Envelope]) -> list[str]:
        """Apply events of known types in one transaction (raises :class:`BatchFailed`)."""
        return self._transaction(
            [_Delivery(None, envelope, self.handlers[envelope.type]) for envelope in envelopes]
        )

    # -- settling messages -------------------------------------------------------------------

    def _ack(self, message, envelope: Envelope, outcome: str) -> None:
        message.ack()
        self._settled(envelope.id, outcome)

    def _settled(self, event_id: str | None, outcome: str) -> None:
        if event_id is not None:
            self.bus.settlements.settled(event_id, self.service)
        for listener in self._listeners:
            listener(event_id, outcome)

    def _requeue(self, work: list[_Delivery]) -> None:
        log.warning("database unreachable; requeueing %d events", len(work))
        time.sleep(min(self.backoff * 20, 2.0))
        for delivery in work:
            delivery.message.requeue()

    def _count(self, work: list[_Delivery], outcomes: list[str]) -> None:
        counted: dict[tuple[str, str], int] = {}
        for delivery, outcome in zip(work, outcomes, strict=True):
            key = (delivery.envelope.type, outcome)
            counted[key] = counted.get(key, 0) + 1
        for (type_name, outcome), count in counted.items():
            metrics.EVENTS_CONSUMED.labels(self.service, type_name, outcome).inc(count)

    def _note_failure(self, envelope: Envelope, error: BaseException, attempt: int) -> None:
        self._last_error = "".join(traceback.format_exception_only(error)).strip()[:1000]
        log.warning(
            "handler failed (attempt %d of %d) for %s %s: %s",
            attempt + 1,
            self.retries + 1,
            envelope.type,
            envelope.id,
            self._last_error,
        )

    def _dead_letter(self, message, envelope: Envelope | None, reason: str, attempts: int) -> None:
        routing_key = message.delivery_info.get("routing_key", "")
        self.dead_letters.put(message.body, routing_key, reason, attempts)
        message.ack()
        metrics.DEAD_LETTERS.labels(self.service).inc()
        self._settled(envelope.id if envelope else None, "dead")
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
