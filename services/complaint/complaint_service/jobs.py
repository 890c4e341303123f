"""The worker's periodic jobs: the escalation sweep and webhook delivery."""

from __future__ import annotations

from revisit_common.runtime import ServiceRuntime

from . import delivery, escalation

ESCALATION_INTERVAL = 30.0  # seconds; limits are hours and days long
DELIVERY_INTERVAL = 0.5


def escalation_sweep(runtime: ServiceRuntime) -> None:
    """Escalate every running complaint with a limit missed since the last sweep."""
    with runtime.db.transaction() as session:
        escalation.escalate_overdue(session, runtime.outbox)


def webhook_delivery(runtime: ServiceRuntime) -> None:
    """Send the webhook deliveries that are due (claimed, sent, recorded)."""
    config = delivery.DeliveryConfig.from_env(allow_private=runtime.settings.webhook_allow_private)
    delivery.deliver_due(runtime.db, config)
