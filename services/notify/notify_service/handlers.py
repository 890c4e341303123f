"""Events the notify service consumes: every event type of the catalogue, since any may be
subscribed to by a webhook.

Each event passes through the webhook fan-out, which writes a pending delivery for each
matching webhook in the same transaction as the event's inbox claim; the worker sends them
later (``jobs.webhook_delivery``). The queue binds every routing key of the catalogue
(derived from this registry).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common.events import CATALOGUE
from revisit_common.messaging.registry import HandlerContext, reads

from . import webhooks


@reads(*CATALOGUE.values())
def deliveries(session: Session, event, ctx: HandlerContext) -> None:
    """A pending delivery of the event for every webhook of its tenant that wants it.

    It reads no field: the webhook gets the envelope as it came (fields this version does
    not know included)."""
    webhooks.enqueue(session, event.envelope)


HANDLERS = {name: deliveries for name in CATALOGUE}
