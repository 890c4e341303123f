"""The internal endpoint where a service checks a change to the settings section it owns.

``POST /internal/settings-sections/<section>`` with ``{"overrides": {...}, "changes":
{...}}`` (the tenant's stored overrides of the section and the change asked for) answers
200 ``{"overrides": {...}, "effective": {...}}`` (see :func:`.settings_section.check_section`)
or 422 problem+json whose ``errors`` map setting names (``_schema`` for the whole section) to
messages. Only the gateway calls it: ``/internal/`` paths need the internal token
(``webapp``). Each owning service serves its section with its own policy class, e.g.
``blueprint("visits", VisitPolicy)`` in its ``settings_api.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, g, request
from flask_smorest import Blueprint

from .problems import problem_response
from .settings_section import SectionError, SectionValidator, check_section

SECTIONS_PATH = "/internal/settings-sections"


def section_path(section: str) -> str:
    return f"{SECTIONS_PATH}/{section}"


def blueprint(section: str, validator: type[SectionValidator]) -> Blueprint:
    """The endpoint checking changes to ``section`` with ``validator``."""
    blp = Blueprint(
        "settings_section",
        __name__,
        url_prefix=section_path(section),
        description=f"Internal: the gateway checks changes to the {section!r} settings here",
    )

    @blp.route("", methods=["POST"])
    def check():
        """Check a change to this service's settings section (internal token only)."""
        rid = g.get("request_id")
        body = request.get_json(silent=True)
        if not isinstance(body, Mapping):
            return problem_response(400, "a JSON object is required", request_id=rid)
        overrides, changes = body.get("overrides", {}), body.get("changes", {})
        if not isinstance(overrides, Mapping) or not isinstance(changes, Mapping):
            return problem_response(
                400, "overrides and changes must be JSON objects", request_id=rid
            )
        try:
            result = check_section(validator, overrides, changes)
        except SectionError as exc:
            return problem_response(422, "invalid settings", errors=exc.errors, request_id=rid)
        answer = {"overrides": result.overrides, "effective": result.effective}
        # (json.dumps keeps the policy's order of keys, as the gateway stores them)
        return Response(json.dumps(answer), content_type="application/json")

    return blp
