"""Tenant registration, API keys, authentication and the error contract, over HTTP."""

from __future__ import annotations

import pytest

from tests.support.gateway import PLATFORM_TOKEN, auth

PROBLEM = "application/problem+json"


def assert_problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.content_type == PROBLEM
    body = resp.get_json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert resp.headers["X-Request-ID"]
    return body


# --------------------------------------------------------------------------- tenants


def test_register_tenant(gateway):
    resp = gateway.client.post(
        "/api/v1/tenants",
        json={"name": "Acme 华东", "timezone": "Europe/Berlin", "region": "eu"},
        headers=auth(PLATFORM_TOKEN, **{"X-Request-ID": "reg-1"}),
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["name"] == "Acme 华东"
    assert body["timezone"] == "Europe/Berlin"
    assert body["region"] == "eu"
    assert body["admin_key"].startswith("rvk_")
    assert body["id"]
    assert resp.headers["X-Request-ID"] == "reg-1"
    # the admin key works at once and belongs to the new tenant
    current = gateway.client.get("/api/v1/tenants/current", headers=auth(body["admin_key"]))
    assert current.status_code == 200
    assert current.get_json()["id"] == body["id"]
    assert "admin_key" not in current.get_json()


def test_register_tenant_defaults(gateway):
    body = gateway.create_tenant("Plain")
    assert body["timezone"] == "Asia/Shanghai"
    assert body["region"] is None


def test_register_tenant_publishes_tenant_registered(gateway):
    body = gateway.create_tenant("Acme", region="east")
    [event] = gateway.outbox()
    assert event["type"] == "TenantRegistered"
    assert event["routing_key"] == "tenant.registered"
    assert event["tenantid"] == body["id"]
    assert event["subject"] == body["id"]
    assert event["data"]["name"] == "Acme"
    assert event["data"]["region"] == "east"
    assert event["data"]["settings_version"] == 1
    assert event["data"]["timezone"] == "Asia/Shanghai"
    assert event["data"]["settings"]["classification"]["grade_a_min"] == 80
    assert event["data"]["settings"]["calendar"]["timezone"] == "Asia/Shanghai"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {PLATFORM_TOKEN}"},
        {"Authorization": f"Bearer {PLATFORM_TOKEN}x"},
    ],
)
def test_register_tenant_needs_the_platform_token(gateway, headers):
    resp = gateway.client.post("/api/v1/tenants", json={"name": "Acme"}, headers=headers)
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert gateway.outbox() == []


def test_platform_token_is_checked_before_the_body(gateway):
    resp = gateway.client.post("/api/v1/tenants", json={"bogus": 1})
    assert_problem(resp, 401)
    resp = gateway.client.post(
        "/api/v1/tenants", data="{", content_type="application/json", headers=auth("nope")
    )
    assert_problem(resp, 401)


def test_a_tenant_admin_key_is_not_the_platform_token(gateway, admin):
    resp = gateway.client.post("/api/v1/tenants", json={"name": "Other"}, headers=auth(admin))
    assert_problem(resp, 401)


def test_no_platform_token_configured_means_no_registration(make_gateway):
    gw = make_gateway(admin_token=None)
    resp = gw.client.post("/api/v1/tenants", json={"name": "Acme"}, headers=auth(""))
    assert_problem(resp, 401)
    resp = gw.client.post("/api/v1/tenants", json={"name": "Acme"}, headers=auth("None"))
    assert_problem(resp, 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "Acme", "region": "r" * 101}, "region"),
        ({"name": "Acme", "colour": "red"}, "colour"),
        ({"name": 42}, "name"),
    ],
)
def test_register_tenant_validation(gateway, body, field):
    resp = gateway.client.post(
        "/api/v1/tenants", json=body, headers=auth(PLATFORM_TOKEN, **{"X-Request-ID": "v-1"})
    )
    problem = assert_problem(resp, 422)
    assert field in problem["errors"]
    assert isinstance(problem["errors"][field], list)
    assert resp.headers["X-Request-ID"] == "v-1"


def test_malformed_json_is_400(gateway):
    resp = gateway.client.post(
        "/api/v1/tenants",
        data='{"name": ',
        content_type="application/json",
        headers=auth(PLATFORM_TOKEN, **{"X-Request-ID": "bad-json"}),
    )
    assert_problem(resp, 400)
    assert resp.headers["X-Request-ID"] == "bad-json"


def test_malformed_json_on_a_keyed_route_is_400(gateway, admin):
    resp = gateway.client.post(
        "/api/v1/api-keys", data="[1, 2", content_type="application/json", headers=auth(admin)
    )
    assert_problem(resp, 400)


# --------------------------------------------------------------------------- keys


def test_create_list_revoke_keys(gateway, admin):
    created = gateway.create_key(admin, "viewer")
    assert created["role"] == "viewer"
    assert created["department"] is None
    assert created["key"].startswith("rvk_")
    assert created["key"].startswith(created["key_prefix"])
    assert "key_hash" not in created
    viewer = created["key"]
    assert gateway.client.get("/api/v1/customers", headers=auth(viewer)).status_code == 200

    listing = gateway.client.get("/api/v1/api-keys", headers=auth(admin))
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert [i["role"] for i in items] == ["admin", "viewer"]
    assert listing.get_json()["next_cursor"] is None
    text = listing.get_data(as_text=True)
    assert viewer not in text and admin not in text  # never the keys
    assert all("key" not in i and "key_hash" not in i for i in items)

    resp = gateway.client.delete(f"/api/v1/api-keys/{created['id']}", headers=auth(admin))
    assert resp.status_code == 204
    # revoked: 401 on the very next request
    assert_problem(gateway.client.get("/api/v1/customers", headers=auth(viewer)), 401)
    listing = gateway.client.get("/api/v1/api-keys", headers=auth(admin)).get_json()
    revoked = next(i for i in listing["items"] if i["id"] == created["id"])
    assert revoked["revoked_at"] is not None
    # revoking again changes nothing
    again = gateway.client.delete(f"/api/v1/api-keys/{created['id']}", headers=auth(admin))
    assert again.status_code == 204


def test_key_listing_pages(gateway, admin):
    made = [gateway.create_key(admin, "agent")["id"] for _ in range(4)]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = gateway.client.get(f"/api/v1/api-keys{query}", headers=auth(admin)).get_json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[1:] == made
    assert len(seen) == 5
    bad = gateway.client.get("/api/v1/api-keys?limit=501", headers=auth(admin))
    assert "limit" in assert_problem(bad, 422)["errors"]


def test_the_last_admin_key_cannot_be_revoked(gateway, tenant, admin):
    keys = gateway.client.get("/api/v1/api-keys", headers=auth(admin)).get_json()["items"]
    resp = gateway.client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=auth(admin))
    assert_problem(resp, 409)
    second = gateway.create_key(admin, "admin")
    resp = gateway.client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=auth(admin))
    assert resp.status_code == 204
    assert_problem(gateway.client.get("/api/v1/api-keys", headers=auth(admin)), 401)
    assert gateway.client.get("/api/v1/api-keys", headers=auth(second["key"])).status_code == 200


def test_another_tenants_key_is_404(gateway, admin):
    other = gateway.create_tenant("Other")
    theirs = gateway.create_key(other["admin_key"], "agent")
    resp = gateway.client.delete(f"/api/v1/api-keys/{theirs['id']}", headers=auth(admin))
    assert_problem(resp, 404)
    resp = gateway.client.delete("/api/v1/api-keys/no-such-key", headers=auth(admin))
    assert_problem(resp, 404)
    # untouched, and not listed for us
    assert gateway.client.get("/api/v1/customers", headers=auth(theirs["key"])).status_code == 200
    ours = gateway.client.get("/api/v1/api-keys", headers=auth(admin)).get_json()["items"]
    assert theirs["id"] not in {i["id"] for i in ours}


def test_department_keys(gateway, admin):
    resp = gateway.client.post(
        "/api/v1/api-keys", json={"name": "d", "role": "department"}, headers=auth(admin)
    )
    assert "department" in assert_problem(resp, 422)["errors"]
    resp = gateway.client.post(
        "/api/v1/api-keys",
        json={"name": "a", "role": "agent", "department": "product"},
        headers=auth(admin),
    )
    assert "department" in assert_problem(resp, 422)["errors"]
    resp = gateway.client.post(
        "/api/v1/api-keys",
        json={"name": "d", "role": "department", "department": "Product.Team"},
        headers=auth(admin),
    )
    assert "department" in assert_problem(resp, 422)["errors"]
    created = gateway.create_key(admin, "department", "product")
    assert created["department"] == "product"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "role": "root"}, "role"),
        ({"role": "agent"}, "name"),
        ({"name": "x" * 201, "role": "agent"}, "name"),
        ({"name": "x", "role": "agent", "scope": "all"}, "scope"),
    ],
)
def test_key_validation(gateway, admin, body, field):
    resp = gateway.client.post("/api/v1/api-keys", json=body, headers=auth(admin))
    problem = assert_problem(resp, 422)
    assert field in problem["errors"]


@pytest.mark.parametrize("role", ["manager", "agent", "auditor", "viewer"])
def test_only_admins_manage_keys(gateway, admin, role):
    key = gateway.create_key(admin, role)["key"]
    assert_problem(gateway.client.get("/api/v1/api-keys", headers=auth(key)), 403)
    resp = gateway.client.post(
        "/api/v1/api-keys", json={"name": "x", "role": "admin"}, headers=auth(key)
    )
    assert_problem(resp, 403)


# --------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer rvk_not-a-key"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_missing_or_bad_key_is_401(gateway, tenant, headers):
    resp = gateway.client.get(
        "/api/v1/customers", headers={**headers, "X-Request-ID": "auth-check"}
    )
    assert_problem(resp, 401)
    assert resp.headers["X-Request-ID"] == "auth-check"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive(gateway, admin):
    resp = gateway.client.get("/api/v1/settings", headers={"Authorization": f"bearer {admin}"})
    assert resp.status_code == 200


def test_viewer_cannot_write(gateway, admin):
    viewer = gateway.create_key(admin, "viewer")["key"]
    resp = gateway.client.post("/api/v1/customers", json={"name": "C"}, headers=auth(viewer))
    assert_problem(resp, 403)
    assert gateway.client.get("/api/v1/customers", headers=auth(viewer)).status_code == 200


def test_request_id_echoed_or_made(gateway, admin):
    resp = gateway.client.get("/api/v1/settings", headers=auth(admin, **{"X-Request-ID": "abc"}))
    assert resp.headers["X-Request-ID"] == "abc"
    resp = gateway.client.get("/api/v1/settings", headers=auth(admin))
    assert len(resp.headers["X-Request-ID"]) >= 16
    resp = gateway.client.get(
        "/api/v1/settings", headers=auth(admin, **{"X-Request-ID": "bad id\twith spaces"})
    )
    assert resp.headers["X-Request-ID"] != "bad id\twith spaces"


def test_oversized_body_is_413(make_gateway):
    gw = make_gateway(max_body_bytes=2048)
    admin = gw.create_tenant()["admin_key"]
    big = {"name": "x" * 4096, "role": "agent"}
    resp = gw.client.post(
        "/api/v1/api-keys", json=big, headers=auth(admin, **{"X-Request-ID": "big-1"})
    )
    assert_problem(resp, 413)
    assert resp.headers["X-Request-ID"] == "big-1"
    # the same body is fine under the limit
    gw2 = make_gateway(max_body_bytes=10_000)
    admin2 = gw2.create_tenant()["admin_key"]
    ok = gw2.client.post("/api/v1/api-keys", json=big, headers=auth(admin2))
    assert_problem(ok, 422)  # reached validation (name too long), not 413


def test_operations_endpoints_need_no_key(gateway):
    assert gateway.client.get("/healthz").status_code == 200
    assert gateway.client.get("/readyz").status_code == 200
    # /metrics needs the metrics or the platform token (CONTRACT.md §4.2)
    assert gateway.client.get("/metrics").status_code == 401
    scrape = {"Authorization": f"Bearer {PLATFORM_TOKEN}"}
    assert gateway.client.get("/metrics", headers=scrape).status_code == 200
    assert gateway.client.get("/api/v1/openapi.json").status_code == 200
