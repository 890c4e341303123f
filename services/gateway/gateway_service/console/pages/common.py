"""What every page module uses: render a template, call the API as the signed-in person,
and ask the role table what the person may do (to show only the forms they may send)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, g, render_template, request

from ... import domain
from ..api_client import Answer, ApiClient, Stream
from ..guard import CSRF_FIELD
from ..words import N_

ONCE_FIELD = "idempotency_key"  # forms.once(): a key per form shown
_VISIBLE = re.compile(r"[!-~]{1,255}")


def session_csrf() -> str:
    """The signed-in person's CSRF token, for every form (a template global: macros imported
    without the page's context have it too)."""
    person = g.get("console")
    return person.csrf_token if person is not None else ""


def form_key() -> str:
    """A new key for one form shown (``forms.once()``)."""
    return secrets.token_urlsafe(24)


# The console's main pages: (endpoint, label, the API read they show), in the menu's order;
# a page whose read the person's role may not make is left out of their menu.
MENU = (
    ("console.agenda", N_("My agenda"), "/me/agenda"),
    ("console.visits", N_("Visits"), "/visits"),
    ("console.complaints", N_("Complaints"), "/complaints"),
    ("console.customers", N_("Customers"), "/customers"),
    ("console.transfer", N_("Import and export"), "/complaints/export"),
    ("console.kpis", N_("KPIs"), "/kpis"),
    ("console.audit", N_("Audit sample"), "/visits/audit-sample"),
)


def can(method: str, path: str) -> bool:
    """Whether the signed-in person's role may ``method`` the API ``path`` (the role table)."""
    person = g.get("console")
    return person is not None and domain.allowed(person.role, method, path)


def menu() -> list[tuple[str, str]]:
    """(endpoint, label) of the pages in the person's menu that exist."""
    endpoints = current_app.view_functions
    return [
        (endpoint, label)
        for endpoint, label, read in MENU
        if endpoint in endpoints and can("GET", read)
    ]


def page(template: str, status: int = 200, **values: Any):
    """``template`` rendered for the signed-in person (or the sign-in page's visitor)."""
    person = g.get("console")
    context = {
        "me": person,
        "csrf_field": CSRF_FIELD,
        "csrf_token": person.csrf_token if person else "",
        "menu": menu() if person else [],
        "can": can,
        "locale": g.get("console_locale"),
        **values,
    }
    return render_template(template, **context), status


def client() -> ApiClient:
    return current_app.extensions["console_api"]


def call(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    body: Any = None,
    files: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """``method /api/v1<path>`` as the signed-in person (``headers``: more request headers).
    A write sent from a form that carries ``forms.once()`` goes with that form's key as its
    ``Idempotency-Key``: a form sent twice (a double click, a retry) writes once."""
    key = request.form.get(ONCE_FIELD) if method != "GET" else None
    if key and _VISIBLE.fullmatch(key):
        headers = {"Idempotency-Key": key, **(headers or {})}
    return client().call(
        g.console.identity(),
        method,
        path,
        query=query,
        body=body,
        files=files,
        request_id=g.get("request_id"),
        remote_addr=request.remote_addr or "127.0.0.1",
        headers=headers,
    )


def stream(path: str, query: Mapping[str, str] | None = None) -> Stream:
    """``GET /api/v1<path>`` as the signed-in person, streamed (exports)."""
    return client().stream(
        g.console.identity(),
        path,
        query=query,
        request_id=g.get("request_id"),
        remote_addr=request.remote_addr or "127.0.0.1",
    )


def read(path: str, query: Mapping[str, str] | None = None) -> Any:
    """The JSON of ``GET /api/v1<path>``; a refusal or failure is the page's own answer
    (404 for a thing not found or not the tenant's, 403 for a role that may not read it)."""
    answer = call("GET", path, query=query)
    if answer.status != 200:
        abort(answer.status if answer.status in (400, 403, 404, 422) else 502)
    return answer.body


def customer_names(ids) -> dict[str, str]:
    """Customer id → name for the ids given (those the person may not read are left out)."""
    names: dict[str, str] = {}
    for customer_id in dict.fromkeys(i for i in ids if i):
        answer = call("GET", f"/customers/{customer_id}")
        if answer.status == 200 and isinstance(answer.body, dict):
            names[customer_id] = str(answer.body.get("name") or customer_id)
    return names


MANY = "500"  # the most a list returns: the customers and staff offered in selects


def staff_options() -> list[tuple[str, str]] | None:
    """(id, name) of the tenant's active people, None when the person may not list them."""
    if not can("GET", "/staff"):
        return None
    answer = call("GET", "/staff", query={"limit": MANY, "active": "true"})
    if answer.status != 200:
        return None
    return [(p["id"], f"{p['name']} ({p['id']})") for p in answer.body.get("items", [])]


def customer_options() -> list[tuple[str, str]] | None:
    """(id, name) of the tenant's customers for a select; None when there are more than a
    select can offer (the form asks for the id instead)."""
    answer = call("GET", "/customers", query={"limit": MANY})
    if answer.status != 200 or answer.body.get("next_cursor"):
        return None
    items = sorted(answer.body.get("items", []), key=lambda c: str(c.get("name")))
    return [(c["id"], c["name"]) for c in items]
