"""The worker's periodic job: sending the webhook deliveries that are due."""

from __future__ import annotations

from revisit_common.runtime import ServiceRuntime

from . import delivery

DELIVERY_INTERVAL = 0.5  # seconds


def webhook_delivery(runtime: ServiceRuntime) -> None:
    """Send the webhook deliveries that are due (claimed, sent, recorded)."""
    delivery.deliver_due(runtime.db, delivery.DeliveryConfig.from_options(runtime.options))
