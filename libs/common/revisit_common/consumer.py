"""The event consumer every service runs: decode, apply once, ack after commit.

For each message: parse the CloudEvent (a message that is not one is dead-lettered at once);
find the handler for its type (none: ack and ignore); in one transaction claim the event id
in the inbox and run the handler; commit; ack. A handler that raises is retried with
back-off, a bounded number of times, then the message goes to the service's dead-letter
queue with the reason in its headers and the consumer goes on with the next one. A database
that cannot be reached is not the message's fault: the message is requeued, not dead-lettered.

On PostgreSQL and RabbitMQ the messages already waiting (up to ``batch``, half the prefetch
by default) are applied together, in one transaction: the inbox claims of all of them in one
statement, then their handlers in arrival order (a :class:`BatchHandler` takes a run of them
in one call), one commit, then the acks. The effect is the same as one transaction each:
exactly once, acked only after the commit. If anything in the batch fails, the transaction
is rolled back and its messages are applied one by one exactly as above (the attempt that
failed in the batch counts as the failing message's first attempt, when it is known which
one it was). SQLite (one writer at a time, which web requests share) keeps one transaction
per message.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from kombu import Producer
from kombu.mixins import ConsumerMixin
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import inbox, metrics
from .bus import Bus
from .db import Database
from .envelope import CONTENT_TYPE, Envelope, InvalidEnvelope, parse
from .faults import fault_point
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


class BatchHandler:
    """A handler that can also apply a run of events in one call.

    ``one(session, envelope, ctx)`` is what a plain handler does; ``many(session, envelopes,
    ctx)`` must have the same effect as calling ``one`` for each envelope in order, in the
    same transaction. The consumer calls ``many`` for consecutive events of one batch that
    share this handler."""

    def __init__(
        self,
        one: Handler,
        many: Callable[[Session, list[Envelope], HandlerContext], None],
    ):
        self.one = one
        self.many = many

    def __call__(self, session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
        self.one(session, envelope, ctx)


class DatabaseUnavailable(RuntimeError):
    pass


class _BatchFailed(Exception):
    """A batch transaction failed and was rolled back; ``index``: the message whose handler
    raised, when known."""

    def __init__(self, index: int | None, error: BaseException):
        super().__init__(str(error))
        self.index = index
        self.error = error


# After a message arrives, how long to wait for the next one before applying what came.
GATHER_SECONDS = 0.002

# inbox.claim for a batch (PostgreSQL): one statement, its text the same for any size.
_CLAIM_ALL = sa.text(
    f"INSERT INTO {inbox.inbox_table.name} (consumer, event_id, event_type, applied_at) "
    "SELECT :consumer, u.event_id, u.event_type, :applied_at "
    "FROM json_to_recordset(CAST(:events AS json)) AS u(event_id varchar, event_type varchar) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


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
        self.queue = service_queue(service, routing_keys, prefix=prefix, durable_broker=durable)
        self.dead_queue = dead_letter_queue(service, prefix=prefix, durable_broker=durable)
        self.connection = None
        self.stopped = threading.Event()
        self._last_error = ""
        # Batches only where a transaction per message is the bottleneck and several can be
        # committed at once: PostgreSQL behind RabbitMQ. Never more than the prefetch.
        size = batch if batch is not None else max(1, bus.prefetch // 2)
        self.batch = max(1, min(size, bus.prefetch))
        self.batching = self.batch > 1 and db.is_postgres and not bus.is_memory
        self._pending: list = []

    # -- set-up ------------------------------------------------------------------------

    def declare(self) -> None:
        """Declare the queue, its bindings and the dead-letter queue (idempotent)."""
        with self.bus.connect() as conn:
            channel = conn.channel()
            self.queue(channel).declare()
            self.dead_queue(channel).declare()
        if self.bus.is_memory:
            self.bus.settlements.bind(self.service, self.routing_keys)

    @contextmanager
    def establish_connection(self):
        """ConsumerMixin's, except that a connection given up after an error is dropped
        without the AMQP close handshake: on a dead link (heartbeats missed) the peer never
        answers it, and the consumer would wait forever instead of reconnecting."""
        conn = self.create_connection()
        try:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries)
            yield conn
        except BaseException:
            conn.collect()
            raise
        conn.release()

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

    def consume(self, limit=None, timeout=None, safety_interval=1, **kwargs):
        """ConsumerMixin's loop; when batching, after each message it takes what else is
        already waiting (up to ``batch``) and applies them together."""
        if not self.batching:
            yield from super().consume(limit, timeout, safety_interval, **kwargs)
            return
        elapsed = 0
        beat = time.monotonic()
        with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
            try:
                while not self.should_stop:
                    self.on_iteration()
                    try:
                        if not self._pending:  # (some may have come during the last flush)
                            conn.drain_events(timeout=safety_interval)
                    except TimeoutError:
                        conn.heartbeat_check()
                        beat = time.monotonic()
                        elapsed += safety_interval
                        if timeout and elapsed >= timeout:
                            raise
                        continue
                    except OSError:
                        if not self.should_stop:
                            raise
                        break
                    elapsed = 0
                    self._gather(conn)
                    self._flush()
                    if time.monotonic() - beat > 1.0:
                        conn.heartbeat_check()
                        beat = time.monotonic()
                    yield
            finally:
                # Not applied, not acked: the broker delivers them again.
                self._pending = []

    def _gather(self, conn) -> None:
        """Take the messages already waiting, up to ``batch``: read until none comes within
        ``GATHER_SECONDS``. The socket timeout is set once for the whole gathering (a
        ``drain_events(timeout=...)`` per message sets and resets it, two system calls
        each); most messages then come from what an earlier read already took in."""
        if not self._pending or len(self._pending) >= self.batch:
            return
        transport = conn.connection.transport
        with transport.having_timeout(GATHER_SECONDS):
            while len(self._pending) < self.batch:
                try:
                    conn.drain_events()  # no timeout of its own: the socket's, set above
                except TimeoutError:
                    break

    # -- per message -------------------------------------------------------------------

    def on_message(self, message) -> None:
        if self.batching:
            self._pending.append(message)
            return
        try:
            envelope = parse(message.body)
        except InvalidEnvelope as exc:
            self._dead_letter(message, None, str(exc), attempts=0)
            return
        outcome = self.apply(envelope, requeue=message.requeue)
        self._settle(message, envelope, outcome)

    def _settle(self, message, envelope: Envelope, outcome: str) -> None:
        """Dead-letter or acknowledge a message the way its outcome says (after commit)."""
        if outcome == "failed":
            self._dead_letter(message, envelope, self._last_error, attempts=self.retries + 1)
        elif outcome != "requeued":
            if outcome == "applied":
                fault_point("consumer_after_commit")
            message.ack()
            self.bus.settlements.settled(envelope.id, self.service)

    def apply(
        self,
        envelope: Envelope,
        requeue: Callable[[], None] | None = None,
        *,
        attempts_done: int = 0,
    ) -> str:
        """Apply one event: 'applied', 'duplicate', 'ignored', 'failed' or 'requeued'.

        ``attempts_done``: attempts already made elsewhere (in a batch that failed)."""
        handler = self.handlers.get(envelope.type)
        if handler is None:
            metrics.EVENTS_CONSUMED.labels(self.service, envelope.type, "ignored").inc()
            return "ignored"
        if 0 < attempts_done <= self.retries:
            time.sleep(self.backoff * (2 ** (attempts_done - 1)))
        for attempt in range(attempts_done, self.retries + 1):
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
                fault_point("consumer_before_commit")
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise
        return "applied"

    # -- batches ---------------------------------------------------------------------------

    def _flush(self) -> None:
        """Apply the messages gathered so far in one transaction, then ack them."""
        messages, self._pending = self._pending, []
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
                message.ack()
                continue
            work.append((message, envelope, handler))
        if not work:
            return
        try:
            outcomes = self._apply_batch(work)
        except DatabaseUnavailable:
            log.warning("database unreachable; requeueing %d events", len(work))
            time.sleep(min(self.backoff * 20, 2.0))
            for message, _, _ in work:
                message.requeue()
            return
        except _BatchFailed as failed:
            self._one_by_one(work, failed)
            return
        counted: dict[tuple[str, str], int] = {}
        for (_, envelope, _), outcome in zip(work, outcomes, strict=True):
            counted[envelope.type, outcome] = counted.get((envelope.type, outcome), 0) + 1
            if outcome == "applied":
                fault_point("consumer_after_commit")
        for (type_name, outcome), count in counted.items():
            metrics.EVENTS_CONSUMED.labels(self.service, type_name, outcome).inc(count)
        # Every message of the channel not yet settled, up to the last one of the batch, is
        # one of the batch (those before were settled, those after came later): one ack.
        work[-1][0].ack(multiple=True)

    def _apply_batch(self, work: list) -> list[str]:
        """Claim and apply ``work`` in one transaction; the outcome of each message."""
        current: int | None = None
        try:
            with self.db.transaction() as session:
                claimed = self._claim_all(session, [envelope for _, envelope, _ in work])
                index = 0
                while index < len(work):
                    if index not in claimed:
                        index += 1
                        continue
                    _, envelope, handler = work[index]
                    if isinstance(handler, BatchHandler):
                        run, index = [], index
                        while index < len(work) and work[index][2] is handler:
                            if index in claimed:
                                run.append(work[index][1])
                            index += 1
                        current = None  # which one of the run failed is not known
                        handler.many(session, run, self.context)
                    else:
                        current = index
                        handler(session, envelope, self.context)
                        index += 1
                current = None
                fault_point("consumer_before_commit")
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise _BatchFailed(current, exc) from exc
        except Exception as exc:  # noqa: BLE001 - rolled back; applied one by one instead
            raise _BatchFailed(current, exc) from exc
        return ["applied" if i in claimed else "duplicate" for i in range(len(work))]

    def _claim_all(self, session: Session, envelopes: list[Envelope]) -> set[int]:
        """inbox.claim for many events in one statement: the indexes newly claimed (a
        repeated id within the batch is claimed by its first copy only)."""
        first: dict[str, int] = {}
        for index, envelope in enumerate(envelopes):
            first.setdefault(envelope.id, index)
        events = [
            {"event_id": event_id, "event_type": envelopes[index].type}
            for event_id, index in first.items()
        ]
        params = {
            "consumer": self.service,
            "applied_at": datetime.now(UTC),
            "events": json.dumps(events),
        }
        new = set(session.execute(_CLAIM_ALL, params).scalars())
        return {index for event_id, index in first.items() if event_id in new}

    def _one_by_one(self, work: list, failed: _BatchFailed) -> None:
        """After a batch was rolled back: each message alone, as ``on_message`` does."""
        log.warning(
            "a batch of %d events was rolled back (%s); applying them one by one",
            len(work),
            failed.error,
        )
        for index, (message, envelope, _) in enumerate(work):
            done = 0
            if index == failed.index:
                done = 1
                error = failed.error
                self._last_error = "".join(traceback.format_exception_only(error)).strip()[:1000]
                log.warning(
                    "handler failed (attempt 1 of %d) for %s %s: %s",
                    self.retries + 1,
                    envelope.type,
                    envelope.id,
                    self._last_error,
                )
            outcome = self.apply(envelope, requeue=message.requeue, attempts_done=done)
            self._settle(message, envelope, outcome)

    def _dead_letter(self, message, envelope: Envelope | None, reason: str, attempts: int) -> None:
        headers = {
            "x-revisit-reason": reason[:1000],
            "x-revisit-service": self.service,
            "x-revisit-attempts": attempts,
            "x-revisit-failed-at": datetime.now(UTC).isoformat(),
            "x-revisit-routing-key": message.delivery_info.get("routing_key", ""),
        }
        try:
            self._publish_dead(message.body, headers)
        except Exception:  # noqa: BLE001 - retried once below; a second failure propagates
            # The dead-letter connection sits idle between poison messages and may have died
            # unseen (broker restarted, link dropped): drop it without a close handshake
            # (which a dead peer never answers) and try once more on a new one.
            log.warning("dead-letter publish failed; retrying on a new connection", exc_info=True)
            self.connection.collect()
            self._publish_dead(message.body, headers)
        message.ack()
        if envelope is not None:
            self.bus.settlements.settled(envelope.id, self.service)
        metrics.DEAD_LETTERS.labels(self.service).inc()
        log.error("dead-lettered %s: %s", envelope.id if envelope else "an invalid message", reason)

    def _publish_dead(self, body, headers: dict) -> None:
        producer = Producer(self.connection.default_channel, exchange=DEAD)
        producer.publish(
            body,
            routing_key=self.dead_queue.routing_key,
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=2,
            headers=headers,
            retry=False,
            timeout=self.bus.publish_timeout,
            confirm_timeout=self.bus.publish_timeout,
        )


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
