"""The notify service, declared: its routes (webhooks, notifications, its settings section
``notifications``), migrations, the events it delivers (all of them) and its worker's jobs:
webhook deliveries, the daily digest and sending emails."""

from __future__ import annotations

from revisit_common.service_spec import service_spec

from . import api, handlers, jobs, notifications_api, settings_api
from .options import NotifyOptions

SPEC = service_spec(
    __package__,
    (api.blp, notifications_api.blp, settings_api.blp),
    handlers.HANDLERS,
    periodic=(
        (jobs.DELIVERY_INTERVAL, jobs.webhook_delivery),
        (jobs.DIGEST_INTERVAL, jobs.daily_digest),
        (jobs.EMAIL_INTERVAL, jobs.email_sending),
    ),
    options=NotifyOptions,
)
