"""HTTP webhooks for departments and integrations without AMQP: which events go where.

A webhook names the events it wants in ``events``: event type names of the catalogue
(``ComplaintRaised``, ``CustomerRegistered``) or routing-key patterns in AMQP topic syntax
(``*`` one word, ``#`` any number of words). A pattern matches an event when it matches its
full routing key (``complaint.raised.product``) or the key's ``<aggregate>.<verb>`` part
(``complaint.raised``), so ``complaint.*`` means every complaint event, ``customer.*`` every
customer event and ``complaint.*.product`` the product department's. Every event type of the
catalogue may be subscribed; an entry that names no type, or a pattern that can match no
routing key of the catalogue (``costumer.*``), is refused. A webhook with a ``department``
gets only that department's events (complaint and issue events).

Deliveries are rows written by the notify service's event consumer, in its transaction
(:func:`enqueue`), for every event on the bus that matches an active webhook of the event's
tenant; they are sent later, outside any request, by the worker's ``delivery.deliver_due``.

Secrets: a webhook's ``secret`` is given or generated (``whsec_`` + base64 of 32 random
bytes, the Standard Webhooks format), and shown only in the response that created it. A
given secret in that format must hold 24 to 64 bytes; any other given secret (16 to 256
characters) is used as its UTF-8 bytes. A tenant has at most ``webhooks_per_tenant`` active
webhooks (a setting, 20 by default); one more is a conflict (409).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook as StandardWebhook

from revisit_common import db, errors, transaction_memo
from revisit_common.events import CATALOGUE
from revisit_common.ids import new_id
from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.settlement import topic_matches

from .models import Delivery, Webhook

EVENT_TYPES = tuple(CATALOGUE)
# A webhook's department, as departments travel in routing keys: no dots.
DEPARTMENT_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
SIGNATURE_HEADER = "X-Revisit-Signature"
EVENT_ID_HEADER = "X-Revisit-Event-Id"
SECRET_PREFIX = "whsec_"
_WORD = r"(\*|#|[a-z0-9_-]{1,64})"
PATTERN_RE = re.compile(rf"^{_WORD}(\.{_WORD}){{0,5}}$")
_ACTIVE = "active_webhooks"  # transaction_memo: tenant -> its active webhooks


def is_type_name(entry: str) -> bool:
    return "." not in entry and entry not in ("*", "#")


def invalid_entries(entries: Iterable[str]) -> list[str]:
    """Entries that are neither an event type of the catalogue nor a routing-key pattern
    that can match one of its events."""
    return [
        entry
        for entry in entries
        if not (entry in EVENT_TYPES if is_type_name(entry) else _known_pattern(entry))
    ]


def _known_pattern(pattern: str) -> bool:
    """Whether ``pattern`` matches some routing key of the catalogue (or its
    ``<aggregate>.<verb>``). A department word that the pattern matches with a wildcard
    matches any department, so trying the pattern's own words and one more suffices."""
    if not PATTERN_RE.fullmatch(pattern):
        return False
    departments = {word for word in pattern.split(".") if word not in ("*", "#")} | {"x"}
    for cls in CATALOGUE.values():
        if topic_matches(pattern, cls.routing):
            return True
        if cls.by_department and any(
            topic_matches(pattern, f"{cls.routing}.{department}") for department in departments
        ):
            return True
    return False


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


def standard_signer(secret: str) -> StandardWebhook:
    """The Standard Webhooks signer of a secret: a ``whsec_`` secret is its base64 bytes,
    any other secret its UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        return StandardWebhook(secret)
    return StandardWebhook(secret.encode("utf-8"))


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_problem(secret: str) -> str | None:
    """Why a given ``whsec_`` secret is unusable, or None when it is usable."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return "a whsec_ secret must be base64 after the prefix"
    if not 24 <= len(key) <= 64:
        return "a whsec_ secret must hold 24 to 64 bytes"
    return None


def masked_url(url: str) -> str:
    """The URL with any user name and password inside it replaced by ``***``."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    return urlunsplit(parts._replace(netloc=f"***@{hostport}"))


def enqueue(session: Session, envelope: Envelope) -> int:
    """Write a pending delivery of ``envelope`` for every matching webhook of its tenant."""
    if envelope.type not in CATALOGUE:
        return 0
    key = routing_key_of(envelope)
    department = envelope.data.get("department")
    hooks = active_webhooks(session, envelope.tenantid)
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


class Route(NamedTuple):
    """What the fan-out needs of an active webhook: which events go to it."""

    id: str
    events: list
    department: str | None


ACTIVE = sa.select(Webhook.id, Webhook.events, Webhook.department).where(
    Webhook.tenant_id == sa.bindparam("tenant_id"), Webhook.active
)


def active_webhooks(session: Session, tenant_id: str) -> list[Route]:
    """The tenant's active webhooks, read once per transaction: the consumer's batch of
    events looks them up once per tenant (:mod:`revisit_common.transaction_memo`); creating
    or deleting one below drops the tenant's entry."""
    held = transaction_memo.memo(session, _ACTIVE)
    hooks = held.get(tenant_id)
    if hooks is None:
        hooks = held[tenant_id] = read_active(session, tenant_id)
    return hooks


def read_active(session: Session, tenant_id: str) -> list[Route]:
    """The tenant's active webhooks as stored, read as one statement (:func:`db.run`: no
    ORM objects, a tenth of the ORM query's cost); the session's pending changes are
    written first, as the ORM's query would (autoflush)."""
    session.flush()
    return [Route(*row) for row in db.run(session, ACTIVE, {"tenant_id": tenant_id})]


# --------------------------------------------------------------------------- management


class WebhookNotFound(errors.NotFound):
    """No such webhook for this tenant (404)."""


class TooManyWebhooks(errors.Conflict):
    """The tenant has as many active webhooks as allowed (409)."""


def create_webhook(
    session: Session, tenant_id: str, actor: str, data: dict, *, limit: int
) -> tuple[Webhook, str | None]:
    """Register a webhook (its URL already checked); returns it and the secret generated
    for it (None when the caller gave one). Raises :class:`TooManyWebhooks` when the tenant
    already has ``limit`` active webhooks."""
    if session.get_bind().dialect.name == "postgresql":
        # Two registrations at once must not both pass the count: one waits for the other.
        lock = int.from_bytes(hashlib.sha256(f"webhooks:{tenant_id}".encode()).digest()[:8])
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock - (1 << 63))))
    active = session.scalar(
        sa.select(sa.func.count())
        .select_from(Webhook)
        .where(Webhook.tenant_id == tenant_id, Webhook.active)
    )
    if active >= limit:
        raise TooManyWebhooks(
            f"the tenant already has {active} webhooks, the most allowed ({limit}); "
            "delete one first"
        )
    generated = None if data.get("secret") else new_secret()
    webhook = Webhook(
        id=new_id(),
        tenant_id=tenant_id,
        url=data["url"],
        events=list(dict.fromkeys(data["events"])),
        secret=data.get("secret") or generated,
        department=data.get("department"),
        description=data.get("description"),
        active=True,
        created_by=actor,
        created_at=datetime.now(UTC),
    )
    session.add(webhook)
    session.flush()
    transaction_memo.forget(session, _ACTIVE, tenant_id)
    return webhook, generated


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
    transaction_memo.forget(session, _ACTIVE, tenant_id)
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
