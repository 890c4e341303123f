"""HTTP webhooks for departments without an AMQP client: which events go where.

A webhook names the events it wants in ``events``: event type names (``ComplaintRaised``)
or routing-key patterns in AMQP topic syntax (``*`` one word, ``#`` any number of words).
A pattern matches an event when it matches its full routing key
(``complaint.raised.product``) or the key's ``<aggregate>.<verb>`` part
(``complaint.raised``), so ``complaint.*`` means every complaint event and
``complaint.*.product`` the product department's. A webhook with a ``department`` gets only
that department's events. Webhooks receive the department events: complaint and issue
events, whichever service published them.

Deliveries are rows written by the event consumer, in its transaction (:func:`enqueue`), for
every event on the bus that matches an active webhook of the event's tenant; they are sent
later, outside any request, by ``delivery.deliver_due``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.envelope import Envelope
from revisit_common.events import CATALOGUE
from revisit_common.ids import new_id

from .models import Delivery, Webhook

EVENT_TYPES = (
    "ComplaintRaised",
    "ComplaintEscalated",
    "ComplaintClosed",
    "ComplaintReopened",
    "IssueRaised",
    "IssueResolved",
)
SIGNATURE_HEADER = "X-Revisit-Signature"
EVENT_ID_HEADER = "X-Revisit-Event-Id"
_WORD = r"(\*|#|[a-z0-9_-]{1,64})"
PATTERN_RE = re.compile(rf"^{_WORD}(\.{_WORD}){{0,5}}$")


def is_type_name(entry: str) -> bool:
    return "." not in entry and entry not in ("*", "#")


def invalid_entries(entries: Iterable[str]) -> list[str]:
    """Entries that are neither a webhook event type nor a routing-key pattern."""
    return [
        entry
        for entry in entries
        if not (entry in EVENT_TYPES if is_type_name(entry) else PATTERN_RE.fullmatch(entry))
    ]


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


def matches(entries: Iterable[str], event_type: str, routing_key: str) -> bool:
    base = ".".join(routing_key.split(".")[:2])
    for entry in entries:
        if is_type_name(entry):
            if entry == event_type:
                return True
        elif topic_matches(entry, routing_key) or topic_matches(entry, base):
            return True
    return False


def routing_key_of(envelope: Envelope) -> str:
    """The routing key the event was published with (rebuilt from the catalogue)."""
    cls = CATALOGUE[envelope.type]
    if cls.by_department:
        return f"{cls.routing}.{envelope.data.get('department')}"
    return cls.routing


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def enqueue(session: Session, envelope: Envelope) -> int:
    """Write a pending delivery of ``envelope`` for every matching webhook of its tenant."""
    if envelope.type not in EVENT_TYPES:
        return 0
    key = routing_key_of(envelope)
    department = envelope.data.get("department")
    hooks = session.scalars(
        sa.select(Webhook).where(Webhook.tenant_id == envelope.tenantid, Webhook.active)
    ).all()
    stamp = datetime.now(UTC)
    count = 0
    for hook in hooks:
        if hook.department and hook.department != department:
            continue
        if not matches(hook.events, envelope.type, key):
            continue
        exists = session.scalar(
            sa.select(Delivery.id).where(
                Delivery.webhook_id == hook.id, Delivery.event_id == envelope.id
            )
        )
        if exists:
            continue
        session.add(
            Delivery(
                id=new_id(),
                tenant_id=envelope.tenantid,
                webhook_id=hook.id,
                event_id=envelope.id,
                event_type=envelope.type,
                routing_key=key,
                body=envelope.to_json(),
                status="pending",
                attempts=0,
                next_attempt_at=stamp,
                created_at=stamp,
            )
        )
        count += 1
    return count


# --------------------------------------------------------------------------- management


class WebhookNotFound(LookupError):
    pass


def create_webhook(session: Session, tenant_id: str, actor: str, data: dict) -> Webhook:
    webhook = Webhook(
        id=new_id(),
        tenant_id=tenant_id,
        url=data["url"],
        events=list(dict.fromkeys(data["events"])),
        secret=data["secret"],
        department=data.get("department"),
        description=data.get("description"),
        active=True,
        created_by=actor,
        created_at=datetime.now(UTC),
    )
    session.add(webhook)
    session.flush()
    return webhook


def get_webhook(session: Session, tenant_id: str, webhook_id: str) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.tenant_id != tenant_id:
        raise WebhookNotFound("webhook")
    return webhook


def delete_webhook(session: Session, tenant_id: str, webhook_id: str) -> None:
    """Deactivate: no new deliveries, pending ones cancelled; its delivery log is kept."""
    webhook = get_webhook(session, tenant_id, webhook_id)
    if not webhook.active:
        return
    webhook.active = False
    webhook.deleted_at = datetime.now(UTC)
    session.execute(
        sa.update(Delivery)
        .where(Delivery.webhook_id == webhook.id, Delivery.status == "pending")
        .values(status="cancelled", next_attempt_at=None)
    )


def list_query(tenant_id: str) -> sa.Select:
    return sa.select(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.active)


def deliveries_query(webhook: Webhook, status: str | None) -> sa.Select:
    query = sa.select(Delivery).where(Delivery.webhook_id == webhook.id)
    if status:
        query = query.where(Delivery.status == status)
    return query
