"""Asking the service that owns a settings section to check a change to it.

Each owning service serves ``POST /internal/settings-sections/<section>``
(``revisit_common.settings_section_api``); the gateway reaches it through the same
transport it forwards requests with (in process in standalone mode, HTTP at
``REVISIT_<SERVICE>_URL`` in distributed mode), with the internal token. The working
calendar is checked here, with ``revisit_common.calendar``. An owner that cannot be
reached, or gives no usable answer, raises :class:`OwnerUnavailable`: a 503 problem for the
client, and the transaction it ran in is rolled back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g, has_request_context

from revisit_common.calendar import WorkCalendar
from revisit_common.directory import Unavailable
from revisit_common.identity import TOKEN_HEADER
from revisit_common.settings_section import SectionError, SectionResult, check_section
from revisit_common.settings_section_api import section_path

from .proxy import ForwardRequest, ServiceTimeout, ServiceUnavailable, Transport
from .settings_document import SECTION_OWNERS

log = logging.getLogger(__name__)


class OwnerUnavailable(Unavailable):
    """The service owning a settings section could not check it (a 503 for the client)."""


class SettingsOwners:
    """A ``SectionCheck`` (``settings_document.py``) that asks each section's owner."""

    def __init__(self, transports: Mapping[str, Transport], internal_token: str):
        self.transports = dict(transports)
        self.internal_token = internal_token

    def __call__(
        self, section: str, base: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> SectionResult:
        owner = SECTION_OWNERS[section]
        if owner is None:
            return check_section(WorkCalendar, base, changes)
        transport = self.transports.get(owner)
        if transport is None:
            raise OwnerUnavailable(
                f"no way to reach the {owner} service (REVISIT_{owner.upper()}_URL)"
            )
        request_id = g.get("request_id") if has_request_context() else None
        headers = {
            TOKEN_HEADER: self.internal_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Request-ID": request_id or "",
        }
        body = json.dumps({"overrides": dict(base), "changes": dict(changes)}).encode("utf-8")
        try:
            resp = transport.send(ForwardRequest("POST", section_path(section), b"", headers, body))
        except (ServiceUnavailable, ServiceTimeout) as exc:
            log.warning("settings owner %s unavailable: %s", owner, exc)
            raise OwnerUnavailable(f"the {owner} service is unavailable") from exc
        answer = _json(resp.body)
        if resp.status == 200 and _is_result(answer):
            return SectionResult(dict(answer["overrides"]), dict(answer["effective"]))
        if resp.status == 422 and isinstance(answer.get("errors"), Mapping):
            raise SectionError(answer["errors"])
        log.warning("settings owner %s answered %s for %s", owner, resp.status, section)
        raise OwnerUnavailable(f"the {owner} service answered {resp.status}")


def install(app: Flask, transports: Mapping[str, Transport], internal_token: str) -> None:
    """The settings owners of ``app``, reached through ``transports`` (service → transport)."""
    app.extensions["settings_owners"] = SettingsOwners(transports, internal_token)


def current() -> SettingsOwners:
    """The settings owners of the app handling the current request."""
    return current_app.extensions["settings_owners"]


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _is_result(answer: Mapping[str, Any]) -> bool:
    return isinstance(answer.get("overrides"), Mapping) and isinstance(
        answer.get("effective"), Mapping
    )
