"""What the gateway answers the services, never clients: the tenant's current settings.

A service whose copy of the settings is older than the version the gateway forwarded
(``X-Revisit-Settings-Version``) reads the document here before it serves the request
(``revisit_common.settings_catch_up``). The path is outside ``/api/v1``, so the API-key
checks do not apply; the internal token shared with the services and a tenant identity are
required instead.
"""

from __future__ import annotations

from flask import Flask, g

from revisit_common.directory import SETTINGS_PATH
from revisit_common.identity import load_identity
from revisit_common.problems import problem_response
from revisit_common.runtime import runtime

from . import service, settings_owners


def install(app: Flask, internal_token: str) -> None:
    def current_settings():
        identity = load_identity(internal_token)
        if identity is None:
            return problem_response(
                401, "missing or invalid credentials", request_id=g.get("request_id")
            )
        with runtime().db.read() as session:  # (NotFound: 404 "settings not found")
            view = service.read_settings(session, identity.tenant_id, settings_owners.current())
            return {"version": view.version, "timezone": view.timezone, "settings": view.settings}

    app.add_url_rule(
        SETTINGS_PATH, endpoint="internal_settings", view_func=current_settings, methods=["GET"]
    )
