"""Sending webhook deliveries: signed POSTs, retried with back-off, every attempt logged.

Runs as a periodic job of the notify worker (never in an HTTP request, never inside a database
transaction): claim a batch of due deliveries (a short transaction that leases them, with
SKIP LOCKED on PostgreSQL so workers share the work), POST them in parallel with short
timeouts, then record each attempt (another short transaction). A failed attempt is retried
after ``backoff * 2**(attempts-1)`` seconds (capped), up to ``max_attempts``; then the
delivery is ``failed``. A worker that dies mid-send leaves its lease to expire, and the
delivery is tried again.

Each attempt checks the URL again (``address_policy``): the host is resolved once, every
address it answers must be public (unless ``allow_private``), and the connection goes to
that checked address, with the URL's host in the ``Host`` header and in TLS (SNI and the
certificate check) — a name that answers a public address at registration and an internal
one later (DNS rebinding) is refused, not followed. Redirects are not followed: a 3xx is a
failure. Nothing of the answer but its status code is read or kept; the attempt log holds
the status code, the duration and the class of error (``HTTP 500``, ``refused address``,
``NewConnectionError``, ...), never a response body, the URL or its credentials. User info
in the URL is sent as HTTP Basic authentication.

Each POST carries the CloudEvent JSON (``Content-Type: application/cloudevents+json``), the
Standard Webhooks headers ``webhook-id`` (the event id, the same on every retry),
``webhook-timestamp`` (the attempt's time, seconds) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, with the webhook's secret), and
besides them ``X-Revisit-Signature: sha256=<hex HMAC-SHA256 of the body>``,
``X-Revisit-Event-Id``, ``X-Revisit-Event-Type`` and ``X-Revisit-Delivery-Id``. A 2xx
answer is a success; anything else, or no answer, is a failure.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
import urllib3

from revisit_common.db import Database
from revisit_common.ids import new_id
from revisit_common.messaging.envelope import CONTENT_TYPE

from . import address_policy
from .models import Delivery, DeliveryAttempt, Webhook
from .options import NotifyOptions
from .webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, sign, standard_signer

log = logging.getLogger(__name__)
USER_AGENT = "revisit-webhooks/1"


def resolve_host(host: str, port: int) -> list[str]:
    """The system resolver: every address ``host`` answers (raises OSError if none)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class DeliveryConfig:
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    backoff: float = 10.0  # seconds before the first retry; doubled each time
    max_backoff: float = 3600.0
    max_attempts: int = 10
    batch: int = 50
    workers: int = 8
    lease: float = 60.0  # a claimed delivery is not claimed again before this
    allow_private: bool = False  # REVISIT_WEBHOOK_ALLOW_PRIVATE (NotifyOptions)
    resolve: Callable[[str, int], Iterable[str]] = resolve_host

    @classmethod
    def from_options(cls, options: NotifyOptions) -> DeliveryConfig:
        """The operator's choices (``REVISIT_WEBHOOK_*``, read once into NotifyOptions)."""
        return cls(
            read_timeout=options.webhook_timeout,
            backoff=options.webhook_backoff,
            max_attempts=options.webhook_max_attempts,
            allow_private=options.webhook_allow_private,
        )

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_backoff, self.backoff * 2 ** max(attempts - 1, 0)))


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    url: str
    secret: str
    body: str
    event_id: str
    event_type: str


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    at: datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


def deliver_due(db: Database, config: DeliveryConfig, at: datetime | None = None) -> int:
    """One round: claim, send, record. Returns how many deliveries were attempted."""
    at = at or datetime.now(UTC)
    claimed = claim(db, config, at)
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(config.workers, len(claimed))) as pool:
        outcomes = list(pool.map(lambda item: send(item, config), claimed))
    record(db, config, outcomes, at)
    return len(outcomes)


def claim(db: Database, config: DeliveryConfig, at: datetime) -> list[Claimed]:
    query = (
        sa.select(Delivery, Webhook)
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= at, Webhook.active)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(config.batch)
    )
    if db.is_postgres:
        query = query.with_for_update(of=Delivery, skip_locked=True)
    with db.transaction() as session:
        rows = session.execute(query).all()
        lease_until = at + timedelta(seconds=config.lease)
        for delivery, _ in rows:
            delivery.next_attempt_at = lease_until
        return [Claimed(d.id, w.url, w.secret, d.body, d.event_id, d.event_type) for d, w in rows]


def send(item: Claimed, config: DeliveryConfig) -> Outcome:
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    status_code = error = None
    try:
        destination = address_policy.check(
            item.url, config.resolve, allow_private=config.allow_private
        )
    except address_policy.Unresolved:
        error = "unresolved host"
    except address_policy.Refused:
        error = "refused address"
    else:
        try:
            status_code = post(destination, item, config, started_at)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = type(exc).__name__
        else:
            if 300 <= status_code < 400:
                error = f"HTTP {status_code} (redirect not followed)"
            elif not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
    duration_ms = int((time.perf_counter() - started) * 1000)
    if error:
        log.info(
            "webhook delivery %s to %s failed: %s", item.delivery_id, origin_of(item.url), error
        )
    return Outcome(item.delivery_id, started_at, error is None, status_code, error, duration_ms)


def post(
    destination: address_policy.Destination, item: Claimed, config: DeliveryConfig, at: datetime
) -> int:
    """POST the delivery to the first checked address; the status code of the answer
    (whose body is never read)."""
    body = item.body.encode("utf-8")
    signature = standard_signer(item.secret).sign(item.event_id, at, body)
    headers = {
        "Host": destination.host_header,
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "webhook-id": item.event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        SIGNATURE_HEADER: sign(item.secret, body),
        EVENT_ID_HEADER: item.event_id,
        "X-Revisit-Event-Type": item.event_type,
        "X-Revisit-Delivery-Id": item.delivery_id,
    }
    parts = urlsplit(item.url)
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers.update(urllib3.util.make_headers(basic_auth=credentials))
    options = {
        "host": str(destination.addresses[0]),
        "port": destination.port,
        "timeout": urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
        "retries": False,
    }
    if destination.scheme == "https":
        name = destination.tls_name
        pool = urllib3.HTTPSConnectionPool(
            **options, server_hostname=name, assert_hostname=name, cert_reqs="CERT_REQUIRED"
        )
    else:
        pool = urllib3.HTTPConnectionPool(**options)
    with pool:
        response = pool.urlopen(
            "POST",
            destination.target,
            body=body,
            headers=headers,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
        )
        status = response.status
        response.close()
    return status


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what may be logged of a webhook's address."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


def record(db: Database, config: DeliveryConfig, outcomes: list[Outcome], at: datetime) -> None:
    with db.transaction() as session:
        for outcome in outcomes:
            delivery = session.get(Delivery, outcome.delivery_id)
            if delivery is None or delivery.status != "pending":
                continue  # cancelled (webhook deleted) while it was being sent
            delivery.attempts += 1
            delivery.last_status = outcome.status_code
            delivery.last_error = outcome.error[:1000] if outcome.error else None
            delivery.attempt_log.append(
                DeliveryAttempt(
                    id=new_id(),
                    at=outcome.at,
                    status_code=outcome.status_code,
                    error=delivery.last_error,
                    duration_ms=outcome.duration_ms,
                )
            )
            if outcome.ok:
                delivery.status, delivery.delivered_at = "delivered", outcome.at
                delivery.next_attempt_at = None
            elif delivery.attempts >= config.max_attempts:
                delivery.status, delivery.next_attempt_at = "failed", None
            else:
                delivery.next_attempt_at = at + config.delay(delivery.attempts)
