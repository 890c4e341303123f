"""One real resource of every kind for a tenant, and a valid body for every write.

The isolation, role and fuzzing tests take the routes from the live OpenAPI document and
fill them in from here: a path parameter with the id of a real resource (:func:`create_all`
returns them by parameter name) and, for an operation with a request body, a body that
passes validation (:data:`BODIES`), so that what is tested is the lookup or the role check
behind the validation. A new route with an unknown parameter or without a body here makes
those tests fail until it is added.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

from tests.support.client import Api
from tests.support.polling import wait_until
from tests.support.system import CUSTOMER

DEPARTMENT = "quality"
WEBHOOK_SECRET = "whsec-for-the-security-tests-0123456789"
WEBHOOK_URL = "http://127.0.0.1:9/hook"  # the discard port: nothing listens, nothing leaks
METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"\{([^}]+)\}")

Ids = dict[str, str]
# (METHOD, path template) -> a valid body, given the ids of the caller's resources
BODIES: dict[tuple[str, str], Callable[[Ids], Any]] = {
    ("POST", "/api/v1/tenants"): lambda ids: {"name": "Fuzzed Ltd"},
    ("POST", "/api/v1/api-keys"): lambda ids: {"name": "another", "role": "viewer"},
    ("PATCH", "/api/v1/settings"): lambda ids: {},
    ("POST", "/api/v1/customers"): lambda ids: CUSTOMER,
    # multipart in real use (a CSV or XLSX file); sent as JSON here, it is a 422 (no file)
    # for the roles that may import, which is what the role and hostile-input tests judge
    ("POST", "/api/v1/customers/import"): lambda ids: {"file": "name,type\n"},
    ("PATCH", "/api/v1/customers/{customer_id}"): lambda ids: {"owner": "zhang.min"},
    ("POST", "/api/v1/customers/{customer_id}/purchases"): lambda ids: {
        "amount": 100,
        "product": "Valve",
        "purchased_at": "2026-11-20T09:30:00+08:00",
    },
    ("POST", "/api/v1/customers/{customer_id}/repairs"): lambda ids: {
        "product": "Pump X",
        "description": "rattles",
    },
    ("POST", "/api/v1/customers/{customer_id}/repairs/{repair_id}/close"): lambda ids: {
        "result": "bearing replaced"
    },
    ("POST", "/api/v1/customers/{customer_id}/projects"): lambda ids: {
        "name": "Line 3 retrofit",
        "completed_at": "2026-11-20T10:00:00+08:00",
    },
    ("POST", "/api/v1/marketing-events"): lambda ids: {
        "name": "Open day",
        "held_on": "2026-11-25",
        "attendees": [ids["customer_id"]],
    },
    ("POST", "/api/v1/issues/{issue_id}/confirm"): lambda ids: {"satisfied": True},
    ("POST", "/api/v1/cases"): lambda ids: {
        "source": "issue",
        "source_id": ids["resolved_issue_id"],
        "title": "Seal leaks",
        "summary": "Replaced the seal.",
    },
    ("POST", "/api/v1/visits"): lambda ids: {
        "customer_id": ids["customer_id"],
        "reason": "key_account",
        "method": "phone",
    },
    ("POST", "/api/v1/visits/{visit_id}/complete"): lambda ids: {"satisfaction": "satisfied"},
    ("POST", "/api/v1/visits/{visit_id}/cancel"): lambda ids: {"reason": "moved"},
    ("POST", "/api/v1/visits/{visit_id}/audit"): lambda ids: {"accurate": True},
    ("POST", "/api/v1/visits/{visit_id}/reply"): lambda ids: {
        "replied_at": "2026-03-06T10:00:00+08:00"
    },
    ("POST", "/api/v1/visits/{visit_id}/book"): lambda ids: {
        "appointment_at": "2026-03-10T14:00:00+08:00"
    },
    ("POST", "/api/v1/issues/{issue_id}/resolve"): lambda ids: {"resolution": "fixed"},
    ("POST", "/api/v1/complaints"): lambda ids: {
        "customer_id": ids["customer_id"],
        "channel": "phone",
        "severity": "general",
        "category": "product_quality",
        "department": DEPARTMENT,
        "description": "It broke.",
    },
    ("POST", "/api/v1/complaints/{complaint_id}/transitions"): lambda ids: {
        "action": "acknowledge"
    },
    ("POST", "/api/v1/complaints/{complaint_id}/assign"): lambda ids: {"assignee": "wang.fang"},
    ("POST", "/api/v1/staff"): lambda ids: {"id": "zhao.lei", "name": "Zhao Lei"},
    ("PATCH", "/api/v1/staff/{staff_id}"): lambda ids: {"phone": "+86 21 5555 0000"},
    ("POST", "/api/v1/staff/{staff_id}/password"): lambda ids: {"password": "a long password 1"},
    ("POST", "/api/v1/webhooks"): lambda ids: {
        "url": WEBHOOK_URL,
        "events": ["ComplaintRaised"],
        "secret": WEBHOOK_SECRET,
    },
    ("POST", "/api/v1/surveys"): lambda ids: SURVEY,
    ("POST", "/api/v1/surveys/{survey_id}/invitations"): lambda ids: {
        "customer_ids": [ids["customer_id"]]
    },
    ("POST", "/api/v1/survey-responses/{token}"): lambda ids: {"answers": {"overall": 4}},
}

SURVEY = {
    "title": "How did we do?",
    "questions": [{"id": "overall", "kind": "rating", "text": "Overall"}],
}


def operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    """(METHOD, path template, operation) for every operation of the document."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def has_body(operation: dict) -> bool:
    return "requestBody" in operation


def body_for(method: str, path: str, operation: dict, ids: Ids) -> Any:
    """A valid body for the operation (None when it takes none)."""
    if not has_body(operation):
        return None
    make = BODIES.get((method, path))
    assert make is not None, f"no valid body for {method} {path}: add one to BODIES"
    return make(ids)


def fill(path: str, ids: Ids) -> str:
    """The path with each ``{name}`` replaced by the resource id of that name."""

    def one(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"no resource for path parameter {{{name}}}: add one to create_all"
        return ids[name]

    return PARAM.sub(one, path)


def _created(response, what: str) -> dict:
    assert response.status_code == 201, (what, response.status_code, response.json)
    return response.json


def _visit(api: Api, customer_id: str, reason: str) -> str:
    body = {"customer_id": customer_id, "reason": reason, "method": "phone"}

    def plan():  # the visit service learns of the customer from its event
        r = api.post("/visits", body)
        return r.status_code == 201 and r.json["id"]

    return wait_until(plan, timeout=5.0)


def create_all(api: Api, department: str = DEPARTMENT) -> Ids:
    """One resource of every kind, through the API; their ids by path parameter name."""
    customer = _created(api.post("/customers", {**CUSTOMER, "owner": "li.wei"}), "customer")
    cid = customer["id"]
    purchase = api.post(
        f"/customers/{cid}/purchases",
        {"amount": 2000, "product": "Pump X", "purchased_at": "2026-11-20T09:30:00+08:00"},
    )
    _created(purchase, "purchase")
    repair = _created(
        api.post(f"/customers/{cid}/repairs", {"product": "Pump X", "description": "noise"}),
        "repair",
    )
    planned = _visit(api, cid, "post_event")
    recorded = _visit(api, cid, "post_project")
    stages = [{"name": "analyse", "owner": "wu", "due_date": "2026-12-31"}]
    issue = {
        "category": "technical",
        "description": "seal leaks",
        "department": department,
        "stages": stages,
    }
    r = api.post(
        f"/visits/{recorded}/complete",
        {"satisfaction": "neutral", "issues": [issue, {**issue, "description": "worn"}]},
    )
    assert r.status_code == 200, r.json
    issue_id, resolved_id = (each["id"] for each in r.json["issues"])
    r = api.post(f"/issues/{resolved_id}/resolve", {"resolution": "seal replaced"})
    assert r.status_code == 200, r.json
    case = _created(
        api.post(
            "/cases",
            {"source": "issue", "source_id": resolved_id, "title": "Worn", "summary": "Fixed."},
        ),
        "case",
    )
    held = {"name": "Open day", "held_on": "2026-11-25", "attendees": [cid]}
    marketing_event = _created(api.post("/marketing-events", held), "marketing event")
    complaint = _created(
        api.post(
            "/complaints",
            {
                "customer_id": cid,
                "channel": "email",
                "severity": "major",
                "category": "delivery",
                "department": department,
                "description": "Late twice.",
            },
        ),
        "complaint",
    )
    survey = _created(api.post("/surveys", SURVEY), "survey")
    invited = _created(
        api.post(f"/surveys/{survey['id']}/invitations", {"customer_ids": [cid]}), "invitation"
    )
    webhook = _created(
        api.post(
            "/webhooks",
            {"url": WEBHOOK_URL, "events": ["ComplaintRaised"], "secret": WEBHOOK_SECRET},
        ),
        "webhook",
    )
    key = _created(api.post("/api-keys", {"name": "spare", "role": "viewer"}), "api key")
    # staff ids are the tenant's choice: a random one, so another tenant's is not its own too
    person = {"id": f"staff.{secrets.token_hex(4)}", "name": "Wang Fang", "manager": None}
    staff = _created(api.post("/staff", person), "staff")
    return {
        "customer_id": cid,
        "repair_id": repair["id"],
        "visit_id": planned,
        "issue_id": issue_id,
        "resolved_issue_id": resolved_id,
        "n": "1",
        "case_id": case["id"],
        "event_id": marketing_event["id"],
        "complaint_id": complaint["id"],
        "survey_id": survey["id"],
        "webhook_id": webhook["id"],
        "key_id": key["id"],
        "staff_id": staff["id"],
        "token": invited["items"][0]["token"],
    }


def call(api: Api, method: str, path: str, body: Any = None):
    """``method path`` (absolute, from the document) with the caller's key and a JSON body."""
    kwargs = {"json": body} if body is not None else {}
    return api.http.open(path, method=method, headers=api._headers(), **kwargs)
