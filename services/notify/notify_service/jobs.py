"""The worker's periodic jobs: sending the webhook deliveries that are due, writing the
daily digests that are due, and sending the pending emails."""

from __future__ import annotations

from revisit_common.runtime import ServiceRuntime

from . import delivery, emails, mailer

DELIVERY_INTERVAL = 0.5  # seconds
EMAIL_INTERVAL = 5.0
DIGEST_INTERVAL = 60.0


def webhook_delivery(runtime: ServiceRuntime) -> None:
    """Send the webhook deliveries that are due (claimed, sent, recorded)."""
    delivery.deliver_due(runtime.db, delivery.DeliveryConfig.from_options(runtime.options))


def daily_digest(runtime: ServiceRuntime) -> None:
    """Write the digests of tomorrow's visits of the tenants whose digest hour has come."""
    emails.write_digests(runtime.db, runtime.clock())


def email_sending(runtime: ServiceRuntime) -> None:
    """Send the pending emails that are due (claimed, sent, recorded)."""
    mailer.send_due(runtime.db, mailer.MailConfig.from_options(runtime.options), runtime.clock())
