"""The gateway's own settings: rate limits, forwarding proxies, the audit log's commit mode.

Read once, when its runtime is built, from the ``REVISIT_*`` environment ``Settings`` took
(``runtime.options``); a bad value stops the start with a ValueError naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from revisit_common.env import flag, integer, text

from . import passwords


@dataclass(frozen=True)
class GatewayOptions:
    # Rate limits, in the syntax of the ``limits`` library ("600/minute",
    # "20/second;600/minute"); "off" turns limiting off. Per API key (a ceiling against
    # runaway clients: 100 requests a second on average), and per client IP for calls
    # without a valid key (tenant registration, survey answers, bad or missing keys).
    rate_limit: str = "6000/minute"
    rate_limit_anonymous: str = "120/minute"
    # Where the counters live: memory:// (per process) or e.g. redis://host:6379/0, shared
    # by every gateway replica and worker.
    rate_limit_storage_url: str = "memory://"
    # How many proxies in front of the gateway append to X-Forwarded-For (the client IP of
    # the per-IP limit is taken that many hops back); 0 trusts no forwarding header.
    trusted_proxies: int = 0
    # PostgreSQL's synchronous_commit for the gateway's audit entries (and key lookups):
    # "off" commits them without waiting for the WAL flush (a server crash can lose the
    # last fraction of a second of entries), "on" waits for it.
    audit_synchronous_commit: str = "off"
    # Keep the identities of active API keys in each process (PostgreSQL only,
    # key_cache.py), dropped when PostgreSQL notifies a change to keys, people or settings:
    # a change made through another gateway process is seen once the notification arrives
    # (a few milliseconds at most), not on the very next request as without it.
    key_cache: bool = False
    # How long a console sign-in lasts (hours; a working day by default), and whether its
    # cookie is sent over HTTPS only even when the gateway itself is reached over HTTP
    # (behind a proxy that ends TLS); a request that came over HTTPS always gets Secure.
    console_session_hours: int = 12
    console_secure_cookies: bool = False
    # scrypt's cost for new console passwords: N = 2**password_cost (15: 32 MiB and ~0.1 s
    # a hash; each stored hash keeps its own, so raising it later keeps old ones working).
    password_cost: int = 15

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GatewayOptions:
        return cls(
            rate_limit=text(env, "REVISIT_RATE_LIMIT", "6000/minute"),
            rate_limit_anonymous=text(env, "REVISIT_RATE_LIMIT_ANONYMOUS", "120/minute"),
            rate_limit_storage_url=text(env, "REVISIT_RATE_LIMIT_STORAGE_URL", "memory://"),
            trusted_proxies=integer(env, "REVISIT_TRUSTED_PROXIES", 0),
            audit_synchronous_commit=text(env, "REVISIT_AUDIT_SYNCHRONOUS_COMMIT", "off"),
            key_cache=flag(env, "REVISIT_KEY_CACHE"),
            console_session_hours=integer(env, "REVISIT_CONSOLE_SESSION_HOURS", 12),
            console_secure_cookies=flag(env, "REVISIT_CONSOLE_SECURE_COOKIES"),
            password_cost=_cost(integer(env, "REVISIT_PASSWORD_COST", 15)),
        )


def _cost(value: int) -> int:
    if not passwords.MIN_COST <= value <= passwords.MAX_COST:
        raise ValueError(
            f"REVISIT_PASSWORD_COST={value}: from {passwords.MIN_COST} to {passwords.MAX_COST}"
        )
    return value
