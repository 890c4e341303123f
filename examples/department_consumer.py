#!/usr/bin/env python3
"""A department's consumer of revisit events, written with plain pika (any AMQP client works).

It declares its own durable queue, binds it on the ``revisit.events`` topic exchange to
``complaint.*.<department>`` (and, with ``--issues``, ``issue.*.<department>``), prints one
line per event and acknowledges it. Events are CloudEvents 1.0 JSON documents; the payload
is in ``data``.

    python examples/department_consumer.py --url amqp://guest:guest@127.0.0.1:5672/%2F \\
        --department product --issues

Needs only ``pip install pika``. Stop it with Ctrl-C; the queue stays (durable), so events
published while it is stopped wait for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import pika

EXCHANGE = "revisit.events"


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
    args = parser.parse_args(argv)

    queue = args.queue or f"department.{args.department}"
    keys = [f"complaint.*.{args.department}"]
    if args.issues:
        keys.append(f"issue.*.{args.department}")

    connection = pika.BlockingConnection(pika.URLParameters(amqp_url(args.url)))
    channel = connection.channel()
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    for key in keys:
        channel.queue_bind(queue, EXCHANGE, routing_key=key)
    channel.basic_qos(prefetch_count=20)
    print(f"listening on {queue} bound to {', '.join(keys)}", flush=True)

    seen = 0
    try:
        for method, _properties, body in channel.consume(queue):
            print(summary(method.routing_key, body), flush=True)
            channel.basic_ack(method.delivery_tag)
            seen += 1
            if args.count and seen >= args.count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        if connection.is_open:
            channel.cancel()
            connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
