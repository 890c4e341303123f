"""The complaint service as its tests drive it: a complaint to raise, a client that raises
and acts on complaints, and the actions that lead to each status."""

from __future__ import annotations

from .client import Client

COMPLAINT = {
    "customer_id": "cust-1",
    "channel": "phone",
    "severity": "general",
    "category": "product_quality",
    "department": "product",
    "description": "The pump stopped after two days.",
    "complainant": "Zhang San",
}

# How to reach each status from received (each step allowed from the one before).
PATHS = {
    "received": [],
    "acknowledged": ["acknowledge"],
    "investigating": ["acknowledge", "investigate"],
    "solution_proposed": ["acknowledge", "investigate", "propose"],
    "implementing": ["acknowledge", "investigate", "propose", "implement"],
    "resolved": ["acknowledge", "investigate", "propose", "implement", "resolve"],
    "closed": ["acknowledge", "investigate", "propose", "implement", "resolve", "close"],
    "reopened": ["acknowledge", "investigate", "propose", "implement", "resolve", "reopen"],
    "waiting_customer": ["acknowledge", "wait_customer"],
}


class ComplaintClient(Client):
    """The complaint service's API as the gateway calls it, with the two calls most tests
    make: raise a complaint, act on one."""

    def create(self, **fields):
        r = self.post("/api/v1/complaints", {**COMPLAINT, **fields})
        assert r.status_code == 201, r.json
        return r.json

    def act(self, complaint_id, action, **fields):
        return self.post(
            f"/api/v1/complaints/{complaint_id}/transitions", {"action": action, **fields}
        )


def drive(client: ComplaintClient, complaint_id: str, actions: list[str]) -> dict:
    body = None
    for action in actions:
        extra = {"resolution": "replaced the pump"} if action == "resolve" else {}
        r = client.act(complaint_id, action, **extra)
        assert r.status_code == 200, (action, r.json)
        body = r.json
    return body
