"""The real owners of the settings sections, each alone in a small app, for gateway tests.

Each app serves only its service's ``/internal/settings-sections/<section>`` endpoint
(the service's own ``settings_api`` blueprint, behind the common internal-token check), so a
gateway under test checks settings exactly as the services would, without their databases.
"""

from __future__ import annotations

import functools

from flask import Flask

from complaint_service import settings_api as complaint_settings
from customer_service import settings_api as customer_settings
from gateway_service.proxy import InProcessTransport
from kpi_service import settings_api as kpi_settings
from notify_service import settings_api as notify_settings
from revisit_common import webapp
from visit_service import settings_api as visit_settings

OWNERS = {
    "customer": customer_settings,
    "visit": visit_settings,
    "complaint": complaint_settings,
    "kpi": kpi_settings,
    "notify": notify_settings,
}


def owner_transports(internal_token: str) -> dict[str, InProcessTransport]:
    """service name → an in-process transport to an app serving its settings section."""
    return {name: InProcessTransport(owner_app(name, internal_token)) for name in OWNERS}


@functools.cache
def owner_app(name: str, internal_token: str) -> Flask:
    """The app serving ``name``'s settings section, built once per process: it holds no
    state (it only checks a section), and building the five took 45-90 ms of every gateway
    test."""
    return webapp.create_app(
        service=name,
        title=f"{name} settings",
        blueprints=[OWNERS[name].blp],
        internal_token=internal_token,
        max_body_bytes=1024 * 1024,
    )
