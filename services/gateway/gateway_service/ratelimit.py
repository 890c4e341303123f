"""Rate limits on ``/api/v1``: per API key, and per client IP for calls without a valid key.

flask-limiter counts every request in one window per caller, across all routes:

* a request with an active API key counts against that key (``REVISIT_RATE_LIMIT``,
  default 6000/minute), whatever the role table then says about it;
* every other request (tenant registration with the platform token, survey answers through
  their link, the OpenAPI document, a missing, bad or revoked key) counts against the
  client's IP address (``REVISIT_RATE_LIMIT_ANONYMOUS``, default 120/minute), so guessing
  keys or tokens is throttled too.

It runs after :func:`auth.identify_request` (which tells who the caller is) and before
:func:`auth.refuse_unidentified` (which answers 401/403), so refused calls count as well.
Over the limit the answer is 429 problem+json with ``Retry-After`` (seconds). Counters are in
memory (one set per process) unless ``REVISIT_RATE_LIMIT_STORAGE_URL`` names a shared store
such as Redis, which several gateway replicas need; if that store is down, each process falls
back to its own memory and requests go on.
"""

from __future__ import annotations

import math
import time

from flask import Flask, g, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from revisit_common.config import Settings
from revisit_common.problems import problem_response
from revisit_common.webapp import API_PREFIX

OFF = frozenset({"off", "none", "0", "false", "disabled"})


def client_key() -> str:
    """The counter a request goes to: its API key's id, else the client's address."""
    caller = g.get("caller")
    if caller is not None:
        return f"key:{caller.actor}"
    return f"ip:{request.remote_addr or 'unknown'}"


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


def install(app: Flask, settings: Settings) -> Limiter | None:
    """Count ``/api/v1`` requests; returns the limiter, or None when limits are off."""
    check_limit("REVISIT_RATE_LIMIT", settings.rate_limit)
    check_limit("REVISIT_RATE_LIMIT_ANONYMOUS", settings.rate_limit_anonymous)
    if settings.trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)
    per_key, per_ip = settings.rate_limit, settings.rate_limit_anonymous
    if is_off(per_key) and is_off(per_ip):
        return None

    def limit_for_caller() -> str:
        return per_key if g.get("caller") is not None else per_ip

    def exempt() -> bool:
        """Outside /api/v1 (health, metrics), or limits off for this kind of caller."""
        return not request.path.startswith(API_PREFIX + "/") or is_off(limit_for_caller())

    limiter = Limiter(
        client_key,
        application_limits=[limit_for_caller],
        storage_uri=settings.rate_limit_storage_url,
        strategy="fixed-window",
        key_prefix="revisit",
        headers_enabled=False,  # Retry-After only on a 429, see below
        in_memory_fallback_enabled=True,
        swallow_errors=True,  # a broken counter store must not break the API
    )
    limiter.init_app(app)
    limiter.request_filter(exempt)

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(exc: RateLimitExceeded):
        current = limiter.current_limit
        wait = current.window.reset_time - time.time() if current is not None else 1
        return problem_response(
            429,
            f"rate limit exceeded ({exc.limit.limit}); retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
            request_id=g.get("request_id"),
        )

    app.extensions["gateway_limiter"] = limiter
    return limiter
