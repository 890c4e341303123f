"""The notify service's own settings: where webhooks may point, how many a tenant keeps,
how deliveries are sent and retried, and the SMTP server emails go through.

Read once, when its runtime is built, from the ``REVISIT_*`` environment ``Settings`` took
(``runtime.options``); a bad value stops the start with a ValueError naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from revisit_common.env import flag, integer, number, positive

from .notification_rules import SmtpTarget


@dataclass(frozen=True)
class NotifyOptions:
    # Webhooks go only to public addresses unless the operator allows private ones
    # (loopback, private, link-local, ...: test rigs, closed networks). A tenant has at most
    # ``webhooks_per_tenant`` active webhooks (409 beyond).
    webhook_allow_private: bool = False
    webhooks_per_tenant: int = 20
    # Webhook deliveries (the worker): the read timeout of one POST, the wait before the
    # first retry (doubled each time), and the attempts before a delivery is failed.
    webhook_timeout: float = 5.0
    webhook_backoff: float = 10.0
    webhook_max_attempts: int = 10
    # Emails (CONTRACT §4.7): REVISIT_SMTP_URL (smtp:// or smtps://, user:password@ and port
    # optional, ?starttls=true, ?from=<address>); without it emails wait, pending. A failed
    # attempt is retried after smtp_backoff seconds, doubled each time, up to
    # smtp_max_attempts; smtp_timeout bounds one conversation with the server.
    smtp: SmtpTarget | None = None
    smtp_timeout: float = 10.0
    smtp_backoff: float = 60.0
    smtp_max_attempts: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NotifyOptions:
        return cls(
            webhook_allow_private=flag(env, "REVISIT_WEBHOOK_ALLOW_PRIVATE"),
            webhooks_per_tenant=integer(env, "REVISIT_WEBHOOKS_PER_TENANT", 20),
            webhook_timeout=number(env, "REVISIT_WEBHOOK_TIMEOUT", 5.0),
            webhook_backoff=number(env, "REVISIT_WEBHOOK_BACKOFF", 10.0),
            webhook_max_attempts=integer(env, "REVISIT_WEBHOOK_MAX_ATTEMPTS", 10),
            smtp=_smtp(env.get("REVISIT_SMTP_URL") or ""),
            smtp_timeout=positive(env, "REVISIT_SMTP_TIMEOUT", 10.0),
            smtp_backoff=positive(env, "REVISIT_SMTP_BACKOFF", 60.0),
            smtp_max_attempts=integer(env, "REVISIT_SMTP_MAX_ATTEMPTS", 8),
        )


def _smtp(url: str) -> SmtpTarget | None:
    return SmtpTarget.parse(url) if url.strip() else None
