"""Every exchange, queue and binding revisit declares, in one place.

- ``revisit.events``: durable topic exchange all events are published to.
- ``<prefix>.<service>``: a service's durable queue (quorum on RabbitMQ), bound with the
  routing keys of the events it consumes.
- ``revisit.dead``: durable direct exchange; ``<prefix>.<service>.dead`` holds the messages a
  service gave up on, with the failure reason in their headers.
"""

from __future__ import annotations

from kombu import Exchange, Queue, binding

EVENTS = Exchange("revisit.events", type="topic", durable=True)
DEAD = Exchange("revisit.dead", type="direct", durable=True)


def _arguments(durable_broker: bool) -> dict:
    return {"x-queue-type": "quorum"} if durable_broker else {}


def service_queue(
    service: str, routing_keys: list[str], *, prefix: str = "revisit", durable_broker: bool = True
) -> Queue:
    return Queue(
        f"{prefix}.{service}",
        bindings=[binding(EVENTS, routing_key=key) for key in routing_keys],
        durable=True,
        auto_delete=False,
        queue_arguments=_arguments(durable_broker),
    )


def dead_letter_queue(
    service: str, *, prefix: str = "revisit", durable_broker: bool = True
) -> Queue:
    name = f"{prefix}.{service}.dead"
    return Queue(
        name,
        exchange=DEAD,
        routing_key=name,
        durable=True,
        auto_delete=False,
        queue_arguments=_arguments(durable_broker),
    )
