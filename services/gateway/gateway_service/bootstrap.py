"""Wiring of the gateway: its spec, and the app with auth, proxy and the merged OpenAPI.

Standalone mode builds one :class:`ServiceRuntime` per service and passes each service's
WSGI app to :func:`create_gateway_app` as an :class:`InProcessTransport`; distributed mode
(gunicorn) calls :func:`create_app_from_env`, which reaches the services over HTTP at
``REVISIT_<SERVICE>_URL``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from revisit_common import webapp
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime, ServiceSpec

from . import agenda, audit, auth, console, internal, openapi, proxy, ratelimit, settings_owners
from .api import BLUEPRINTS
from .fastpath import ForwardedReads
from .options import GatewayOptions
from .proxy import HttpTransport, InProcessTransport, Transport
from .store import Store

__all__ = [
    "SPEC",
    "HttpTransport",
    "InProcessTransport",
    "Transport",
    "create_app_from_env",
    "create_gateway_app",
    "http_transports",
]

SPEC = ServiceSpec(
    name="gateway",
    title="revisit gateway",
    migrations=Path(__file__).parent / "migrations",
    blueprints=BLUEPRINTS,
    public=True,
    options=GatewayOptions,
)


def create_gateway_app(
    runtime: ServiceRuntime,
    transports: Mapping[str, Transport],
    owners: Mapping[str, Transport] | None = None,
) -> Flask:
    """The gateway's Flask app: its own routes, API-key auth, rate limits and the role table
    on every ``/api/v1`` request, the audit log of writes, the catch-all proxy to
    ``transports`` (service name → transport; a service left out answers 404 for its
    resources), and the merged OpenAPI document.

    The services owning the settings sections are asked through ``owners`` (service name →
    transport), ``transports`` when not given.

    Forwarded requests carry ``runtime.internal_token``: every service must share it
    (``Settings.internal_token``).
    """
    options: GatewayOptions = runtime.options
    app = runtime.create_app()
    app.extensions["gateway_store"] = Store(
        runtime.db,
        synchronous_commit=options.audit_synchronous_commit,
        key_cache=options.key_cache,
    )
    limiter = ratelimit.build(app, options)
    # One hook: identify, count, refuse, then read a chunked body in full and refuse
    # hostile input in it (in this order, as separate hooks did).
    auth.install(
        app,
        count=None if limiter is None else limiter.check,
        then=(proxy.buffer_chunked_body, webapp.reject_hostile_input),
    )
    audit.install(app)
    if app.extensions["gateway_store"].keys is not None:  # REVISIT_KEY_CACHE (PostgreSQL)
        app.teardown_request(auth.forget_changed_keys)  # (writes only: not in fastpath.py)
    proxy.install(app, transports, runtime.internal_token, buffer_bodies=False)
    agenda.install(app, transports, runtime.internal_token)
    internal.install(app, runtime.internal_token)
    settings_owners.install(app, transports if owners is None else owners, runtime.internal_token)
    openapi.install(app, transports, runtime.internal_token)
    console.install(app, runtime)
    # Forwarded reads and JSON writes without Flask's request machinery (fastpath.py), the
    # rest as above.
    app.wsgi_app = ForwardedReads(
        app.wsgi_app,
        service=runtime.name,
        store=app.extensions["gateway_store"],
        transports=transports,
        internal_token=runtime.internal_token,
        limiter=limiter,
        max_body_bytes=app.config["MAX_CONTENT_LENGTH"],
    )
    return app


def http_transports(settings: Settings) -> dict[str, Transport]:
    """One :class:`HttpTransport` per service with a ``REVISIT_<SERVICE>_URL``."""
    return {
        name: HttpTransport(url)
        for name, url in settings.service_urls.items()
        if name in set(proxy.RESOURCE_SERVICES.values())
    }


def create_app_from_env() -> Flask:
    """Distributed mode's WSGI app, for gunicorn:
    ``gunicorn 'gateway_service.bootstrap:create_app_from_env()'``."""
    settings = Settings.from_env()
    if not settings.internal_token:
        raise RuntimeError("REVISIT_INTERNAL_TOKEN must be set: the services check it")
    return create_gateway_app(ServiceRuntime(SPEC, settings), http_transports(settings))
