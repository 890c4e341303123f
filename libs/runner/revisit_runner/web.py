"""Distributed mode: one service's web app, for gunicorn.

    gunicorn 'revisit_runner.web:app("customer")'
    gunicorn 'revisit_runner.web:app("gateway")'   # reaches services at REVISIT_<NAME>_URL

The app is built in each gunicorn worker after the fork (no engines or connections are made
at import time). Background work runs in the service's worker process, not here.
"""

from __future__ import annotations

from flask import Flask

from revisit_common import logs
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

from .services import NAMES, spec


def app(service: str) -> Flask:
    if service not in NAMES:
        raise SystemExit(f"unknown service {service!r}; one of {', '.join(NAMES)}")
    settings = Settings.from_env()
    if not settings.internal_token:
        raise SystemExit("REVISIT_INTERNAL_TOKEN must be set (shared by gateway and services)")
    logs.configure(settings.log_level)
    runtime = ServiceRuntime(spec(service), settings)
    if service == "gateway":
        from gateway_service.bootstrap import create_gateway_app, http_transports

        return create_gateway_app(runtime, http_transports(settings))
    return runtime.create_app()
