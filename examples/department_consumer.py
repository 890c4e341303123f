#!/usr/bin/env python3
"""A department's consumer of revisit events, written with plain pika (any AMQP client works).

It declares its own durable queue, binds it on the ``revisit.events`` topic exchange to
``complaint.*.<department>`` (and, with ``--issues``, ``issue.*.<department>``), prints one
line per event and acknowledges it. Events are CloudEvents 1.0 JSON documents; the payload
is in ``data``.

    python examples/department_consumer.py --url amqp://guest:guest@127.0.0.1:5672/%2F \\
        --department product --issues

Needs only ``pip install pika``. Stop it with Ctrl-C; the queue stays (durable), so events
published while it is stopped wait for it. When the connection is lost (the broker
restarts, a network cut, an operator closes it) it connects again, waiting 0.5 s, 1 s,
2 s, ... up to 30 s between attempts, and goes on with the events waiting in its queue;
events not yet acknowledged come again (deduplicate on the CloudEvent ``id``). The
connection carries the name ``--name`` (default ``department-consumer-<department>``),
shown by the RabbitMQ management UI and ``rabbitmqctl list_connections client_properties``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import pika
import pika.exceptions

EXCHANGE = "revisit.events"
FIRST_DELAY = 0.5  # seconds before the first reconnection attempt; doubled up to MAX_DELAY
MAX_DELAY = 30.0


def amqp_url(url: str) -> str:
    """kombu writes the default vhost as a trailing ``//``; pika wants ``/%2F``."""
    return url[:-2] + "/%2F" if url.endswith("//") else url


def summary(routing_key: str, body: bytes) -> str:
    """One line: the event type, the complaint number (or issue id), and what matters."""
    try:
        event = json.loads(body)
        data = event["data"]
    except (ValueError, KeyError, TypeError):
        return f"?? not a CloudEvent on {routing_key}: {body[:200]!r}"
    name = data.get("number") or data.get("issue_id") or event.get("subject", "")
    details = {
        "ComplaintRaised": ("severity", "category", "channel", "received_at", "deadlines"),
        "ComplaintEscalated": ("severity", "limit", "deadline", "escalated_at"),
        "ComplaintClosed": ("closed_at", "satisfied"),
        "ComplaintReopened": ("reopened_at", "why"),
        "IssueRaised": ("source", "category", "raised_at"),
        "IssueResolved": ("source", "complaint_id", "resolved_at", "within_deadline"),
    }.get(event.get("type"), ())
    fields = " ".join(f"{key}={data[key]}" for key in details if data.get(key) is not None)
    return (
        f"{event.get('type')} {name} [{routing_key}] tenant={event.get('tenantid')} "
        f"customer={data.get('customer_id')} {fields}"
    ).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("REVISIT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
        help="the broker (default: $REVISIT_AMQP_URL or the local guest account)",
    )
    parser.add_argument("--department", required=True, help="e.g. product, sales, logistics")
    parser.add_argument("--queue", help="queue name (default: department.<department>)")
    parser.add_argument("--issues", action="store_true", help="also issue.*.<department>")
    parser.add_argument("--count", type=int, default=0, help="stop after N events (0: never)")
    parser.add_argument("--name", help="connection name (default: department-consumer-<dept>)")
    args = parser.parse_args(argv)

    queue = args.queue or f"department.{args.department}"
    keys = [f"complaint.*.{args.department}"]
    if args.issues:
        keys.append(f"issue.*.{args.department}")
    params = pika.URLParameters(amqp_url(args.url))
    name = args.name or f"department-consumer-{args.department}"
    params.client_properties = {"connection_name": name}
    consumer = Consumer(params, queue, keys, args.count)

    delay = FIRST_DELAY
    while True:
        try:
            consumer.run()
            return 0
        except KeyboardInterrupt:
            return 0
        except pika.exceptions.AMQPChannelError as exc:  # a refusal (access, arguments)
            print(f"giving up: {exc!r}", file=sys.stderr, flush=True)
            return 1
        except pika.exceptions.AMQPConnectionError as exc:  # lost, refused, closed by broker
            if consumer.listened:  # it worked until now: start the back-off over
                delay = FIRST_DELAY
            print(f"connection lost ({exc!r}); again in {delay:g} s", file=sys.stderr, flush=True)
        try:
            time.sleep(delay)
        except KeyboardInterrupt:
            return 0
        delay = min(delay * 2, MAX_DELAY)


class Consumer:
    """Consumes ``queue`` over one connection per :meth:`run`, counting events across them."""

    def __init__(self, params: pika.URLParameters, queue: str, keys: list[str], count: int):
        self.params = params
        self.queue = queue
        self.keys = keys
        self.count = count
        self.seen = 0
        self.listened = False  # whether the last run got as far as consuming

    def run(self) -> None:
        """Declare, bind, print and acknowledge events until ``count`` were seen (0:
        forever). Raises when the connection ends."""
        self.listened = False
        connection = pika.BlockingConnection(self.params)
        try:
            channel = connection.channel()
            channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
            channel.queue_declare(self.queue, durable=True)
            for key in self.keys:
                channel.queue_bind(self.queue, EXCHANGE, routing_key=key)
            channel.basic_qos(prefetch_count=20)
            self.listened = True
            print(f"listening on {self.queue} bound to {', '.join(self.keys)}", flush=True)
            for method, _properties, body in channel.consume(self.queue):
                print(summary(method.routing_key, body), flush=True)
                channel.basic_ack(method.delivery_tag)
                self.seen += 1
                if self.count and self.seen >= self.count:
                    channel.cancel()
                    return
        finally:
            if connection.is_open:
                connection.close()


if __name__ == "__main__":
    sys.exit(main())
