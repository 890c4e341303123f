"""Replay a service's dead letters, once the cause is fixed.

    python -m revisit_runner.replay_dead kpi [--limit 100]

Moves the messages of ``<prefix>.<service>.dead`` back onto the ``revisit.events`` exchange
with the routing key they first had (the ``x-revisit-routing-key`` header the consumer wrote
when it gave up), persistent, each confirmed by the broker before its dead letter is
acknowledged: a crash in between replays it twice, which consumers (inbox) absorb. Every
service bound to that key sees the event again; those that applied it skip it.

Only the messages present at the start are taken (one that fails again while the command
runs is dead-lettered anew, not replayed twice). Messages without a routing key (bodies that
were not events at all) stay in the dead-letter queue. Settings: ``REVISIT_AMQP_URL``,
``REVISIT_QUEUE_PREFIX``, ``REVISIT_PUBLISH_TIMEOUT``.
"""

from __future__ import annotations

import argparse
import re
import sys

from kombu import Connection, Producer, Queue

from revisit_common.config import Settings
from revisit_common.messaging.envelope import CONTENT_TYPE
from revisit_common.messaging.topology import EVENTS

FAILURE_HEADERS = (
    "x-revisit-reason",
    "x-revisit-service",
    "x-revisit-attempts",
    "x-revisit-failed-at",
)
REPLAYS_HEADER = "x-revisit-replays"


def replay(
    amqp_url: str, queue: str, *, limit: int | None = None, timeout: float = 5.0
) -> tuple[int, int]:
    """Replay up to ``limit`` messages of ``queue``; returns (replayed, left for lack of a
    routing key)."""
    replayed = skipped = 0
    with Connection(
        amqp_url, connect_timeout=timeout, transport_options={"confirm_publish": True}
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        reader = conn.channel()
        _, present, _ = reader.queue_declare(queue, passive=True)
        dead = Queue(queue, no_declare=True)(reader)
        todo = present if limit is None else min(present, limit)
        producer = Producer(conn.channel(), exchange=EVENTS)
        for _ in range(todo):
            message = dead.get(no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            key = headers.get("x-revisit-routing-key") or ""
            if not key:
                skipped += 1  # left unacknowledged: back in the queue when we close
                continue
            for name in FAILURE_HEADERS:
                headers.pop(name, None)
            headers[REPLAYS_HEADER] = int(headers.get(REPLAYS_HEADER) or 0) + 1
            producer.publish(
                message.body,
                routing_key=key,
                content_type=message.content_type or CONTENT_TYPE,
                content_encoding=message.content_encoding or "utf-8",
                delivery_mode=2,
                headers=headers,
                retry=False,
                timeout=timeout,
                confirm_timeout=timeout,
            )
            message.ack()
            replayed += 1
    return replayed, skipped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m revisit_runner.replay_dead")
    parser.add_argument("service", help="whose dead letters: customer, kpi, ...")
    parser.add_argument("--limit", type=int, default=None, help="at most this many messages")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", args.service):
        parser.error(f"not a service name: {args.service!r}")
    if args.limit is not None and args.limit < 0:
        parser.error("--limit must not be negative")
    settings = Settings.from_env()
    if not settings.amqp_url:
        print("replay_dead needs REVISIT_AMQP_URL", file=sys.stderr)
        return 2
    queue = f"{settings.queue_prefix}.{args.service}.dead"
    replayed, skipped = replay(
        settings.amqp_url, queue, limit=args.limit, timeout=settings.publish_timeout
    )
    print(f"replayed {replayed} message(s) from {queue}; {skipped} without a routing key left")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
