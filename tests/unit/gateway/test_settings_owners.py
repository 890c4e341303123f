"""The owners of the settings sections: asked by the gateway, and what happens when one is
down (503 problem+json, nothing written) or answers for its own section only."""

from __future__ import annotations

import json

import sqlalchemy as sa

from gateway_service.proxy import ForwardRequest, ServiceUnavailable
from revisit_common.identity import TOKEN_HEADER
from tests.support.gateway import INTERNAL_TOKEN, auth
from tests.support.settings_owners import owner_transports

PROBLEM = "application/problem+json"


class Down:
    def send(self, req):
        raise ServiceUnavailable("connection refused")


class Switchable:
    def __init__(self, inner):
        self.inner = inner
        self.down = False

    def send(self, req):
        if self.down:
            raise ServiceUnavailable("connection refused")
        return self.inner.send(req)


class Counting:
    def __init__(self, inner):
        self.inner = inner
        self.paths: list[str] = []

    def send(self, req):
        self.paths.append(req.path)
        return self.inner.send(req)


def owners_with(**replaced):
    return {**owner_transports(INTERNAL_TOKEN), **replaced}


def test_an_owner_down_at_patch_is_503_and_nothing_is_written(make_gateway):
    visit = Switchable(owner_transports(INTERNAL_TOKEN)["visit"])
    gw = make_gateway(owners=owners_with(visit=visit))
    admin = gw.create_tenant()["admin_key"]
    before = gw.client.get("/api/v1/settings", headers=auth(admin)).get_json()
    events_before = len(gw.outbox())
    visit.down = True
    resp = gw.client.patch(
        "/api/v1/settings",
        json={"calendar": {"timezone": "UTC"}, "visits": {"repair_days": 7}},
        headers=auth(admin),
    )
    assert resp.status_code == 503
    assert resp.content_type == PROBLEM
    assert resp.headers["Retry-After"] == "2"
    after = gw.client.get("/api/v1/settings", headers=auth(admin)).get_json()
    assert after == before
    assert len(gw.outbox()) == events_before


def register_acme(gw):
    """The platform operator registers the tenant Acme."""
    platform = {"Authorization": "Bearer platform-token-for-tests"}
    return gw.client.post("/api/v1/tenants", json={"name": "Acme"}, headers=platform)


def test_an_owner_down_at_registration_is_503_and_no_tenant_is_made(make_gateway):
    gw = make_gateway(owners=owners_with(complaint=Down()))
    resp = register_acme(gw)
    assert resp.status_code == 503
    assert resp.content_type == PROBLEM
    assert gw.outbox() == []


def test_an_owner_not_configured_is_503(make_gateway):
    owners = owner_transports(INTERNAL_TOKEN)
    del owners["customer"]
    gw = make_gateway(owners=owners)
    resp = register_acme(gw)
    assert resp.status_code == 503
    assert resp.content_type == PROBLEM


def test_reads_use_the_stored_document_and_patch_asks_only_the_named_owners(make_gateway):
    owners = owners_with()
    counting = {name: Counting(t) for name, t in owners.items()}
    gw = make_gateway(owners=counting)
    admin = gw.create_tenant()["admin_key"]
    for each in counting.values():
        each.paths.clear()
    assert gw.client.get("/api/v1/settings", headers=auth(admin)).status_code == 200
    assert all(each.paths == [] for each in counting.values())
    resp = gw.client.patch(
        "/api/v1/settings", json={"visits": {"repair_days": 7}}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert counting["visit"].paths == ["/internal/settings-sections/visits"]
    assert counting["customer"].paths == counting["complaint"].paths == []


def _ask(transport, body: dict, token: str | None = INTERNAL_TOKEN, section="visits"):
    headers = {"Content-Type": "application/json"}
    if token:
        headers[TOKEN_HEADER] = token
    req = ForwardRequest(
        "POST", f"/internal/settings-sections/{section}", b"", headers, json.dumps(body).encode()
    )
    return transport.send(req)


def test_the_owner_endpoint_needs_the_internal_token():
    visit = owner_transports(INTERNAL_TOKEN)["visit"]
    assert _ask(visit, {"overrides": {}, "changes": {}}, token=None).status == 401
    assert _ask(visit, {"overrides": {}, "changes": {}}, token="wrong").status == 401


def test_the_owner_endpoint_answers_overrides_and_effective_or_422():
    visit = owner_transports(INTERNAL_TOKEN)["visit"]
    resp = _ask(visit, {"overrides": {"repair_days": 7}, "changes": {"audit_share": 0.2}})
    assert resp.status == 200
    body = json.loads(resp.body)
    assert body["overrides"] == {"repair_days": 7, "audit_share": 0.2}
    assert body["effective"]["repair_days"] == 7
    assert body["effective"]["new_customer_days"] == 30
    resp = _ask(visit, {"overrides": {}, "changes": {"repair_days": -1, "nope": 1}})
    assert resp.status == 422
    assert set(json.loads(resp.body)["errors"]) == {"repair_days", "nope"}
    assert _ask(visit, {"overrides": [], "changes": {}}).status == 400
    assert _ask(visit, {"overrides": {}, "changes": {}}, section="complaints").status == 404


def test_a_row_older_than_the_stored_document_is_composed_by_the_owners(gateway, admin):
    before = gateway.client.get("/api/v1/settings", headers=auth(admin)).get_json()
    with gateway.runtime.db.engine.begin() as conn:  # as rows written before migration 0004
        conn.execute(sa.text("UPDATE settings SET effective = NULL"))
    again = gateway.client.get("/api/v1/settings", headers=auth(admin)).get_json()
    assert again == before
    resp = gateway.client.patch(
        "/api/v1/settings", json={"visits": {"repair_days": 7}}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert resp.get_json()["version"] == before["version"] + 1
    assert resp.get_json()["settings"]["classification"] == before["settings"]["classification"]
