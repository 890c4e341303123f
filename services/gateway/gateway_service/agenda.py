"""``GET /me/agenda``: the calling person's work list, composed by the gateway from the
services' own lists (what it holds: people.py).

Each part is one list read of the owning service, through the transport the proxy forwards
with (in process in standalone mode, HTTP otherwise) and with the caller's identity
headers, so a service applies its own rules to the caller (a department key sees its
department's complaints only). "Today" is the tenant's date (its time zone) by the gateway's
clock. A list longer than a page is followed page by page, up to :data:`MAX_ITEMS` items
(the agenda is a person's, so a few hundred at most in practice). A service that cannot be
reached, or answers anything but 200, makes the whole agenda a 503: a partial agenda would
look like free time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
from flask_smorest import Blueprint

from revisit_common import use_case
from revisit_common.directory import Unavailable
from revisit_common.identity import Identity, current
from revisit_common.runtime import runtime
from revisit_common.webapp import API_PREFIX

from . import domain, people, service
from .proxy import (
    RESOURCE_SERVICES,
    ForwardRequest,
    ServiceTimeout,
    ServiceUnavailable,
    Transport,
    identity_headers,
)
from .schemas import AgendaSchema

log = logging.getLogger(__name__)

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The calling person")

PAGE = 500  # the services' largest page
MAX_ITEMS = 2000


class PartUnavailable(Unavailable):
    """A service the agenda reads from could not answer (a 503 for the client)."""


class AgendaSources:
    """Reads one list of a service for the caller: ``items(identity, resource, params)``."""

    def __init__(self, transports: Mapping[str, Transport], internal_token: str):
        self.transports = dict(transports)
        self.internal_token = internal_token

    def items(
        self, identity: Identity, resource: str, params: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Every item of ``GET /api/v1/<resource>?<params>`` (up to MAX_ITEMS) as the caller."""
        owner = RESOURCE_SERVICES[resource]
        transport = self.transports.get(owner)
        if transport is None:
            raise PartUnavailable(f"no way to reach the {owner} service")
        headers = {
            **identity_headers(identity, self.internal_token),
            "Accept": "application/json",
            "X-Request-ID": g.get("request_id") or "",
        }
        found: list[dict[str, Any]] = []
        cursor = None
        while len(found) < MAX_ITEMS:
            query = {**params, "limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
            page = self._page(transport, owner, f"{API_PREFIX}/{resource}", query, headers)
            found.extend(item for item in page["items"] if isinstance(item, dict))
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return found[:MAX_ITEMS]

    def _page(self, transport, owner, path, query, headers) -> dict[str, Any]:
        request = ForwardRequest("GET", path, urlencode(query).encode("ascii"), headers)
        try:
            resp = transport.send(request)
        except (ServiceUnavailable, ServiceTimeout) as exc:
            log.warning("agenda: the %s service is unavailable: %s", owner, exc)
            raise PartUnavailable(f"the {owner} service is unavailable") from exc
        try:
            body = json.loads(resp.body) if resp.status == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            log.warning("agenda: the %s service answered %s for %s", owner, resp.status, path)
            raise PartUnavailable(f"the {owner} service answered {resp.status}")
        return body


def install(app: Flask, transports: Mapping[str, Transport], internal_token: str) -> None:
    app.extensions["agenda_sources"] = AgendaSources(transports, internal_token)


def tenant_today(timezone: str) -> date:
    """Today in ``timezone`` by the runtime's clock."""
    return runtime().clock().astimezone(ZoneInfo(timezone)).date()


def agenda_of(sources: AgendaSources, identity: Identity, person: str, today: date) -> dict:
    """The four parts of the person's agenda (people.py); a part the caller's role may not
    read is empty."""

    def read(resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        if not domain.allowed(identity.role, "GET", f"/{resource}"):
            return []
        return sources.items(identity, resource, params)

    day, yesterday = today.isoformat(), (today - timedelta(days=1)).isoformat()
    planned = {"assignee": person, "status": "planned"}
    due_soon = {"assignee": person, "due_within_hours": str(people.DUE_SOON_HOURS)}
    issues = read("issues", {"status": "open"})
    return {
        "staff": person,
        "date": today,
        "visits_due_today": read("visits", {**planned, "due_from": day, "due_to": day}),
        # overdue: planned and due before today, the same "today" as the visits due today
        "visits_overdue": read("visits", {**planned, "due_to": yesterday}),
        "complaints_due_soon": people.by_deadline(read("complaints", due_soon)),
        "issues_open": [issue for issue in issues if people.open_issue_of(issue, person)],
    }


@blp.route("/agenda")
@blp.response(200, AgendaSchema)
def my_agenda():
    """My agenda for today (tenant's time zone): visits due today and overdue, complaints due
    within 24 hours (or past a limit), open issues; 422 for a key that acts as nobody."""
    identity = current()
    person = use_case.caller().person()
    tenant = use_case.run(lambda s: service.get_tenant(s, identity.tenant_id), read=True)
    sources: AgendaSources = current_app.extensions["agenda_sources"]
    return agenda_of(sources, identity, person, tenant_today(tenant.timezone))
