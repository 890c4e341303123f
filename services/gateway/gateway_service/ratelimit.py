"""Rate limits on ``/api/v1``: per API key or token, and per client IP for everyone else.

The gateway counts every request in one window per counter, across all routes:

* a request with an active API key counts against that key (``REVISIT_RATE_LIMIT``,
  default 6000/minute), whatever the role table then says about it;
* tenant registration with the platform token counts against the platform token (the same
  limit), wherever it comes from;
* a request whose credential is refused (a missing, bad or revoked key, a wrong platform
  token: a 401) counts against the client's IP address in a counter of failures
  (``REVISIT_RATE_LIMIT_ANONYMOUS``, default 120/minute), so guessing keys or tokens is
  throttled;
* the other requests without a credential (survey answers through their link, the OpenAPI
  document) count against the client's IP address in a counter of their own (the same
  limit).

A request counts in one counter only. So failed authentication never consumes the budget of
a valid key or of the platform token, nor of the same address's anonymous calls (CONTRACT
§4.2): garbage keys from an address that also holds a valid key, or registers tenants with
the platform token, lock out only more garbage.

It runs after :func:`auth.identify_request` (which tells who the caller is) and before
:func:`auth.refuse_unidentified` (which answers 401/403), so refused calls count as well.
Over the limit the answer is 429 problem+json with ``Retry-After`` (seconds). Windows are
fixed: a caller's window opens with its first request and lasts the limit's period. Counters
are in memory (one set per process, a dict under a lock, ended windows swept as requests
come: the ``limits`` library's own memory storage starts a new timer thread every 10 ms
while requests keep coming, which a busy gateway pays for in every request's latency)
unless ``REVISIT_RATE_LIMIT_STORAGE_URL`` names a shared store such as Redis, which several
gateway replicas need (counted there with the ``limits`` library's fixed-window strategy);
if that store is down, each process falls back to its own memory and requests go on, and
the store is tried again after a back-off (2, 4, ... up to 60 seconds).
"""

from __future__ import annotations

import logging
import math
import threading
import time

from flask import Flask, g, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from revisit_common.problems import problem_response
from revisit_common.webapp import API_PREFIX

from .options import GatewayOptions

log = logging.getLogger(__name__)

OFF = frozenset({"off", "none", "0", "false", "disabled"})
KEY_PREFIX = "revisit"
SWEEP_SECONDS = 10.0  # how often ended windows are dropped from memory
MAX_BACKOFF = 60.0  # seconds before a failed shared store is tried again, at most


def counter() -> tuple[str, bool]:
    """The counter a request goes to (see above), and whether its caller authenticated
    (then the per-key limits apply, else the per-IP ones)."""
    caller = g.get("caller")
    if caller is not None:
        return f"key:{caller.actor}", True
    if g.get("platform_operator"):
        return "platform", True
    address = request.remote_addr or "unknown"
    refusal = g.get("refusal")
    if refusal is not None and refusal[0] == 401:
        return f"failed:{address}", False
    return f"ip:{address}", False


def is_off(limit: str) -> bool:
    return limit.strip().lower() in OFF


def check_limit(name: str, value: str) -> None:
    """Fail at start-up on a limit the ``limits`` library cannot read."""
    if is_off(value):
        return
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a rate limit such as 600/minute") from exc


def _limits(value: str) -> tuple[RateLimitItem, ...]:
    """The limits of a setting, shortest period first (the first one exceeded answers)."""
    return () if is_off(value) else tuple(sorted(parse_many(value)))


class MemoryWindows:
    """Fixed windows in this process's memory: counter -> [end of window, requests]."""

    def __init__(self) -> None:
        self._counts: dict[str, list] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def hit(self, item: RateLimitItem, key: str) -> tuple[bool, float]:
        """Count one request: (within the limit, when the window ends (``time.time()``))."""
        now = time.time()
        name = item.key_for(KEY_PREFIX, key)
        with self._lock:
            window = self._counts.get(name)
            if window is None or window[0] <= now:
                window = self._counts[name] = [now + item.get_expiry(), 0]
            window[1] += 1
            if now >= self._next_sweep:
                self._next_sweep = now + SWEEP_SECONDS
                for ended in [n for n, (end, _) in self._counts.items() if end <= now]:
                    del self._counts[ended]
            return window[1] <= item.amount, window[0]


class StorageWindows:
    """Fixed windows in a shared store (``limits`` storage URL, e.g. redis://...)."""

    def __init__(self, url: str) -> None:
        self.strategy = FixedWindowRateLimiter(storage_from_string(url))

    def hit(self, item: RateLimitItem, key: str) -> tuple[bool, float]:
        if self.strategy.hit(item, KEY_PREFIX, key):
            return True, 0.0
        return False, self.strategy.get_window_stats(item, KEY_PREFIX, key).reset_time


class GatewayLimiter:
    """Counts each ``/api/v1`` request against its caller's limits (a ``before_request``
    hook); answers 429 over a limit."""

    def __init__(self, per_key: str, per_ip: str, storage_url: str) -> None:
        self.per_key = _limits(per_key)
        self.per_ip = _limits(per_ip)
        self.memory = MemoryWindows()
        in_memory = storage_url.split(":", 1)[0].lower() == "memory"
        self.shared = None if in_memory else StorageWindows(storage_url)
        self._failures = 0
        self._retry_at = 0.0

    def check(self):
        if not request.path.startswith(API_PREFIX + "/"):
            return None  # health, readiness, metrics
        key, authenticated = counter()
        return self.count(key, authenticated, g.get("request_id"))

    def count(self, key: str, authenticated: bool, request_id: str | None):
        """Count one request in counter ``key`` (:func:`counter`): None within the limits,
        else the 429 answer."""
        items = self.per_key if authenticated else self.per_ip
        for item in items:
            within, window_end = self._hit(item, key)
            if not within:
                log.info(
                    "rate limit exceeded",
                    extra={"limit": str(item), "counter": key, "request_id": request_id},
                )
                wait = window_end - time.time()
                return problem_response(
                    429,
                    f"rate limit exceeded ({item}); retry later",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                    request_id=request_id,
                )
        return None

    def _hit(self, item: RateLimitItem, key: str) -> tuple[bool, float]:
        if self.shared is not None and time.monotonic() >= self._retry_at:
            try:
                result = self.shared.hit(item, key)
            except Exception:  # noqa: BLE001 - a broken counter store must not break the API
                self._failures += 1
                backoff = min(MAX_BACKOFF, 2.0**self._failures)
                self._retry_at = time.monotonic() + backoff
                log.warning(
                    "rate-limit store unavailable; counting in memory for %.0f s",
                    backoff,
                    exc_info=True,
                )
            else:
                self._failures = 0
                return result
        return self.memory.hit(item, key)


def build(app: Flask, options: GatewayOptions) -> GatewayLimiter | None:
    """The limiter of ``options`` (checked at start-up), kept as the app's
    ``gateway_limiter``; None when limits are off. Its :meth:`GatewayLimiter.check` is for
    the caller to run on each request (the gateway runs it inside its auth hook)."""
    check_limit("REVISIT_RATE_LIMIT", options.rate_limit)
    check_limit("REVISIT_RATE_LIMIT_ANONYMOUS", options.rate_limit_anonymous)
    if options.trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=options.trusted_proxies)
    if is_off(options.rate_limit) and is_off(options.rate_limit_anonymous):
        return None
    limiter = GatewayLimiter(
        options.rate_limit, options.rate_limit_anonymous, options.rate_limit_storage_url
    )
    app.extensions["gateway_limiter"] = limiter
    return limiter


def install(app: Flask, options: GatewayOptions) -> GatewayLimiter | None:
    """Count ``/api/v1`` requests in a hook of their own; returns the limiter, or None when
    limits are off."""
    limiter = build(app, options)
    if limiter is not None:
        app.before_request(limiter.check)
    return limiter
