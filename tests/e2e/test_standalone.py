"""`make run` on a fresh data folder: serves, keeps data across a restart, through the gateway."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.support.standalone import ADMIN, CUSTOMER, Server, bearer, tenant_with_customer


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "var", env={"REVISIT_ADMIN_TOKEN": ADMIN}).start()
    yield srv
    srv.stop()


def test_serves_health_readiness_metrics_and_openapi(server):
    assert requests.get(server.base + "/healthz", timeout=5).json()["status"] == "ok"
    assert requests.get(server.base + "/readyz", timeout=5).status_code == 200
    assert requests.get(server.base + "/metrics", timeout=5).status_code == 401
    metrics = requests.get(server.base + "/metrics", headers=bearer(ADMIN), timeout=5).text
    assert "revisit_http_requests_total" in metrics
    assert "revisit_outbox_pending" in metrics
    spec = requests.get(server.base + "/api/v1/openapi.json", timeout=5).json()
    assert "/api/v1/customers" in spec["paths"]
    assert "/api/v1/tenants" in spec["paths"]


def test_customer_round_trip_and_restart_keeps_data(tmp_path):
    data = tmp_path / "var"
    srv = Server(data, env={"REVISIT_ADMIN_TOKEN": ADMIN}).start()
    try:
        key, r = tenant_with_customer(srv.base)
        customer = r.json()
        assert customer["size_tier"] == "large"
        assert r.headers["X-Request-ID"]
    finally:
        srv.stop()
    srv = Server(data, port=srv.port, env={"REVISIT_ADMIN_TOKEN": ADMIN}).start()
    try:
        r = requests.get(
            f"{srv.base}/api/v1/customers/{customer['id']}", headers=bearer(key), timeout=5
        )
        assert r.status_code == 200
        assert r.json()["name"] == CUSTOMER["name"]
    finally:
        srv.stop()


def test_prints_generated_token_when_none_given(tmp_path):
    srv = Server(tmp_path / "var", env={"REVISIT_ADMIN_TOKEN": ""}).start()
    try:
        deadline = time.monotonic() + 10
        match = None
        while match is None and time.monotonic() < deadline:
            match = re.search(r"platform token is:\s+(\S+)", srv.output())
            time.sleep(0.1)
        assert match, srv.output()
        token = match.group(1)
        r = requests.post(
            srv.base + "/api/v1/tenants", json={"name": "T"}, headers=bearer(token), timeout=5
        )
        assert r.status_code == 201
        r = requests.post(
            srv.base + "/api/v1/tenants", json={"name": "T"}, headers=bearer("wrong"), timeout=5
        )
        assert r.status_code == 401
    finally:
        srv.stop()
