"""Forwarding to the owning service: path, query, body, identity, stripped headers, errors."""

from __future__ import annotations

import io

import pytest

from gateway_service.proxy import (
    RESOURCE_SERVICES,
    ForwardRequest,
    ForwardResponse,
    InProcessTransport,
    ServiceTimeout,
    ServiceUnavailable,
    resource_of,
)
from tests.support.gateway import INTERNAL_TOKEN, auth, customer_service_app, echo_app

PROBLEM = "application/problem+json"


def test_resource_map():
    owned: dict[str, set[str]] = {}  # the resources of each service
    for resource, service in RESOURCE_SERVICES.items():
        owned.setdefault(service, set()).add(resource)
    assert owned == {
        "customer": {"customers", "marketing-events"},
        "visit": {"visits", "issues", "cases"},
        "complaint": {"complaints"},
        "notify": {"webhooks", "notifications"},
        "survey": {"surveys", "survey-responses"},
        "kpi": {"kpis", "reports"},
    }
    assert resource_of("/api/v1/visits/7/complete") == "visits"
    assert resource_of("/api/v1/kpis") == "kpis"


def test_forwards_path_query_body_and_identity(gateway, tenant, admin):
    agent = gateway.create_key(admin, "agent")
    resp = gateway.client.post(
        "/api/v1/customers/c-1/purchases?x=1&q=%E4%B8%AD+%26&x=2",
        data=b'{"amount": "10.00"}',
        content_type="application/json",
        headers=auth(
            agent["key"],
            **{
                "X-Request-ID": "req-77",
                "Accept-Language": "zh-CN",
                "X-Revisit-Tenant": "someone-else",
                "X-Revisit-Role": "admin",
                "x-revisit-internal-token": "forged",
                "X-Revisit-Department": "sales",
                "X-Revisit-Actor": "mallory",
                "X-Revisit-Anything": "1",
                "Cookie": "session=1",
            },
        ),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.headers["X-Request-ID"] == "req-77"
    echo = resp.get_json()
    assert echo["method"] == "POST"
    assert echo["path"] == "/api/v1/customers/c-1/purchases"
    assert echo["args"] == {"x": ["1", "2"], "q": ["中 &"]}
    assert echo["body"] == '{"amount": "10.00"}'
    assert echo["content_type"] == "application/json"
    headers = echo["headers"]
    assert headers["x-request-id"] == "req-77"
    assert headers["accept-language"] == "zh-CN"
    # the identity the gateway vouches for, and nothing the client claimed
    assert headers["x-revisit-internal-token"] == INTERNAL_TOKEN
    assert headers["x-revisit-tenant"] == tenant["id"]
    assert headers["x-revisit-role"] == "agent"
    assert headers["x-revisit-actor"] == agent["id"]
    assert "x-revisit-department" not in headers
    assert "x-revisit-anything" not in headers
    # the key and cookies stay at the gateway
    assert "authorization" not in headers
    assert "cookie" not in headers
    # the real service plumbing accepted it as this identity
    assert echo["identity"] == {
        "tenant_id": tenant["id"],
        "role": "agent",
        "actor": agent["id"],
        "department": None,
        "settings_version": 1,  # the tenant's, for the services' settings copies
        "staff": None,  # the key acts as nobody
    }


def test_forwarded_to_a_smorest_route_with_validation(gateway, admin):
    ok = gateway.client.post("/api/v1/customers", json={"name": "C1"}, headers=auth(admin))
    assert ok.status_code == 201
    assert ok.get_json()["created"] == {"name": "C1"}
    # the service's own 422 passes through unchanged
    bad = gateway.client.post(
        "/api/v1/customers", json={"name": "C1", "extra": 1}, headers=auth(admin)
    )
    assert bad.status_code == 422
    assert bad.content_type == PROBLEM
    assert "extra" in bad.get_json()["errors"]
    malformed = gateway.client.post(
        "/api/v1/customers", data="{", content_type="application/json", headers=auth(admin)
    )
    assert malformed.status_code == 400
    assert malformed.content_type == PROBLEM


def test_department_identity_is_forwarded(gateway, admin):
    dept = gateway.create_key(admin, "department", "product")
    resp = gateway.client.post(
        "/api/v1/complaints/k-9/transitions",
        json={"action": "acknowledge"},
        headers=auth(dept["key"]),
    )
    assert resp.status_code == 200
    headers = resp.get_json()["headers"]
    assert headers["x-revisit-role"] == "department"
    assert headers["x-revisit-department"] == "product"
    assert gateway.client.get("/api/v1/complaints", headers=auth(dept["key"])).status_code == 200
    assert gateway.client.get("/api/v1/customers", headers=auth(dept["key"])).status_code == 403
    resp = gateway.client.post("/api/v1/complaints", json={}, headers=auth(dept["key"]))
    assert resp.status_code == 403


def test_responses_pass_through(gateway, admin):
    resp = gateway.client.get("/api/v1/customers/limited", headers=auth(admin))
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "7"
    assert resp.content_type == PROBLEM
    assert resp.get_json()["title"] == "Too Many Requests"
    assert resp.headers["X-Request-ID"]
    empty = gateway.client.delete("/api/v1/customers/empty", headers=auth(admin))
    assert empty.status_code == 204
    assert empty.data == b""


def test_survey_responses_are_public_and_carry_no_identity(gateway, tenant):
    resp = gateway.client.post(
        "/api/v1/survey-responses/tok-123",
        json={"answers": {"q1": 5}},
        headers={"X-Revisit-Tenant": tenant["id"], "X-Revisit-Role": "admin"},
    )
    assert resp.status_code == 200
    echo = resp.get_json()
    assert echo["path"] == "/api/v1/survey-responses/tok-123"
    headers = echo["headers"]
    assert headers["x-revisit-internal-token"] == INTERNAL_TOKEN
    assert "x-revisit-tenant" not in headers
    assert "x-revisit-role" not in headers


def test_survey_listing_is_not_public(gateway, tenant):
    assert gateway.client.get("/api/v1/survey-responses").status_code == 401
    assert gateway.client.get("/api/v1/surveys").status_code == 401


def test_unattached_and_unknown_resources_are_404(gateway, admin):
    for path in ("/api/v1/visits", "/api/v1/kpis", "/api/v1/nothing-here/1"):
        resp = gateway.client.get(path, headers=auth(admin, **{"X-Request-ID": "nf"}))
        assert resp.status_code == 404, path
        assert resp.content_type == PROBLEM
        assert resp.headers["X-Request-ID"] == "nf"


def test_unknown_resources_need_a_key_first(gateway):
    assert gateway.client.get("/api/v1/nothing-here").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/complaints/../webhooks",
        "/api/v1/complaints/./x",
        "/api/v1/customers/%2e%2e/api-keys",
    ],
)
def test_dot_segments_are_refused(gateway, admin, path):
    dept = gateway.create_key(admin, "department", "product")["key"]
    resp = gateway.client.get(path, headers=auth(dept))
    assert resp.status_code == 404
    assert resp.content_type == PROBLEM


class Failing:
    def __init__(self, exc: Exception):
        self.exc = exc
        self.calls = 0

    def send(self, req: ForwardRequest) -> ForwardResponse:
        self.calls += 1
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "status"),
    [(ServiceUnavailable("refused"), 503), (ServiceTimeout("slow"), 504)],
)
def test_service_down_or_slow(make_gateway, exc, status):
    transport = Failing(exc)
    gw = make_gateway({"kpi": transport})
    admin = gw.create_tenant()["admin_key"]
    resp = gw.client.get("/api/v1/kpis", headers=auth(admin, **{"X-Request-ID": "down"}))
    assert transport.calls == 1
    assert resp.status_code == status
    assert resp.content_type == PROBLEM
    assert resp.headers["X-Request-ID"] == "down"
    if status == 503:
        assert resp.headers["Retry-After"]


def test_oversized_proxied_body_is_413_before_forwarding(make_gateway):
    calls = []
    backend = echo_app("customer")

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return backend(environ, start_response)

    gw = make_gateway({"customer": InProcessTransport(counting)}, max_body_bytes=1024)
    admin = gw.create_tenant()["admin_key"]
    resp = gw.client.post(
        "/api/v1/customers",
        data=b"x" * 2048,
        content_type="application/json",
        headers=auth(admin, **{"X-Request-ID": "too-big"}),
    )
    assert resp.status_code == 413
    assert resp.content_type == PROBLEM
    assert resp.headers["X-Request-ID"] == "too-big"
    # chunked (no Content-Length): read up to the limit, then 413, not a truncated body
    resp = gw.client.post(
        "/api/v1/customers",
        input_stream=io.BytesIO(b"y" * 2048),
        headers=auth(admin, **{"Transfer-Encoding": "chunked"}),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert resp.status_code == 413
    assert resp.content_type == PROBLEM
    assert calls == []
    # a chunked body within the limit is forwarded whole
    resp = gw.client.post(
        "/api/v1/customers",
        input_stream=io.BytesIO(b"z" * 1000),
        content_type="text/plain",
        headers=auth(admin, **{"Transfer-Encoding": "chunked"}),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert resp.status_code == 200
    assert resp.get_json()["body"] == "z" * 1000
    assert calls == ["/api/v1/customers"]


def test_in_process_transport_alone():
    transport = InProcessTransport(customer_service_app())
    resp = transport.send(ForwardRequest("GET", "/api/v1/customers", b"a=1"))
    assert resp.status == 401  # no identity: the service refuses, the transport relays
    assert resp.header("content-type") == PROBLEM
    resp = transport.send(ForwardRequest("GET", "/healthz"))
    assert resp.status == 200
    assert b'"status"' in resp.body
