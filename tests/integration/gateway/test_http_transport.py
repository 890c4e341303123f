"""The gateway in front of a service reached over real HTTP (distributed mode's transport)."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter

import pytest
from flask import g, jsonify, request
from werkzeug.serving import make_server

from gateway_service.bootstrap import SPEC, HttpTransport, create_gateway_app
from gateway_service.proxy import ForwardRequest, ServiceTimeout, ServiceUnavailable
from revisit_common import webapp
from revisit_common.identity import Identity
from revisit_common.runtime import ServiceRuntime
from tests.support.settings import make_settings
from tests.support.settings_owners import owner_transports

PLATFORM = "platform-token"
INTERNAL = "internal-token"
PROBLEM = "application/problem+json"


def backend_app(calls: Counter):
    app = webapp.create_app(
        service="customer",
        title="fake customer",
        blueprints=[],
        internal_token=INTERNAL,
        max_body_bytes=1024 * 1024,
    )

    @app.route("/api/v1/customers/<path:rest>", methods=["GET", "POST", "PATCH", "DELETE"])
    def customers(rest):
        calls[(request.method, rest)] += 1
        if rest == "slow":
            time.sleep(1.0)
        if rest == "flaky" and calls[(request.method, rest)] <= 2:
            return "bad gateway", 502
        if rest == "limited":
            return '{"status": 429}', 429, {"Content-Type": PROBLEM, "Retry-After": "9"}
        return jsonify(
            path=request.path,
            query=request.query_string.decode(),
            body=request.get_data(as_text=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            identity=g.identity.__dict__,
        )

    return app


@pytest.fixture
def backend():
    calls: Counter = Counter()
    server = make_server("127.0.0.1", 0, backend_app(calls), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", calls
    server.shutdown()
    thread.join(5)


@pytest.fixture
def make_gateway(tmp_path):
    runtimes = []

    def make(transport):
        settings = make_settings(
            data_dir=tmp_path / str(len(runtimes)), admin_token=PLATFORM, internal_token=INTERNAL
        )
        runtime = ServiceRuntime(SPEC, settings)
        runtimes.append(runtime)
        owners = owner_transports(INTERNAL)  # the settings sections, checked in process
        client = create_gateway_app(runtime, {"customer": transport}, owners).test_client()
        resp = client.post(
            "/api/v1/tenants",
            json={"name": "Acme"},
            headers={"Authorization": f"Bearer {PLATFORM}"},
        )
        assert resp.status_code == 201
        return client, resp.get_json()

    yield make
    for runtime in runtimes:
        runtime.close()


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def test_forwarding_over_http(backend, make_gateway):
    url, calls = backend
    client, tenant = make_gateway(HttpTransport(url))
    resp = client.post(
        "/api/v1/customers/c%201/notes?a=1&b=%E4%B8%AD",
        data="héllo".encode(),
        content_type="text/plain; charset=utf-8",
        headers=bearer(
            tenant["admin_key"], **{"X-Request-ID": "http-1", "X-Revisit-Tenant": "forged"}
        ),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["X-Request-ID"] == "http-1"
    echo = resp.get_json()
    assert echo["path"] == "/api/v1/customers/c 1/notes"
    assert echo["query"] == "a=1&b=%E4%B8%AD"
    assert echo["body"] == "héllo"
    assert echo["headers"]["content-type"] == "text/plain; charset=utf-8"
    assert echo["headers"]["x-request-id"] == "http-1"
    assert "authorization" not in echo["headers"]
    assert echo["identity"]["tenant_id"] == tenant["id"]
    assert echo["identity"]["role"] == "admin"


def test_response_headers_pass_through(backend, make_gateway):
    url, _ = backend
    client, tenant = make_gateway(HttpTransport(url))
    resp = client.get("/api/v1/customers/limited", headers=bearer(tenant["admin_key"]))
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "9"
    assert resp.content_type == PROBLEM


def test_only_gets_are_retried(backend, make_gateway):
    url, calls = backend
    client, tenant = make_gateway(HttpTransport(url, retries=2, backoff=0))
    resp = client.get("/api/v1/customers/flaky", headers=bearer(tenant["admin_key"]))
    assert resp.status_code == 200
    assert calls[("GET", "flaky")] == 3
    resp = client.post("/api/v1/customers/flaky", json={}, headers=bearer(tenant["admin_key"]))
    assert resp.status_code == 502
    assert calls[("POST", "flaky")] == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_slow_service_is_504(backend, make_gateway, method):
    url, calls = backend
    client, tenant = make_gateway(HttpTransport(url, read_timeout=0.2, retries=1, backoff=0))
    resp = client.open("/api/v1/customers/slow", method=method, headers=bearer(tenant["admin_key"]))
    assert resp.status_code == 504
    assert resp.content_type == PROBLEM
    assert calls[(method, "slow")] == (2 if method == "GET" else 1)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_service_down_is_503(make_gateway, method):
    transport = HttpTransport(f"http://127.0.0.1:{_closed_port()}", retries=1, backoff=0)
    client, tenant = make_gateway(transport)
    resp = client.open(
        "/api/v1/customers/x",
        method=method,
        headers=bearer(tenant["admin_key"], **{"X-Request-ID": "down-1"}),
    )
    assert resp.status_code == 503
    assert resp.content_type == PROBLEM
    assert resp.headers["Retry-After"]
    assert resp.headers["X-Request-ID"] == "down-1"


def test_transport_errors_directly(backend):
    url, calls = backend
    identity = Identity(tenant_id="t1", role="admin", actor="k1").headers(INTERNAL)
    with pytest.raises(ServiceTimeout):
        HttpTransport(url, read_timeout=0.2, retries=0).send(
            ForwardRequest("GET", "/api/v1/customers/slow", headers=identity)
        )
    assert calls[("GET", "slow")] == 1
    with pytest.raises(ServiceUnavailable):
        HttpTransport(f"http://127.0.0.1:{_closed_port()}", retries=0).send(
            ForwardRequest("GET", "/api/v1/customers/x")
        )


def test_openapi_over_http(backend, make_gateway):
    url, _ = backend
    client, _tenant = make_gateway(HttpTransport(url))
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/api-keys" in doc["paths"]
    # the fake backend's smorest spec has no paths of its own, but was fetched and merged
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
