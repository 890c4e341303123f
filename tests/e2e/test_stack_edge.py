"""The native stack's gateway (waitress, revisit_runner.edge) holds slow clients: 40 of
them leave /healthz and another tenant's requests under 1 s; a 413 keeps the session."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import requests

from tests.support.client import ADMIN
from tests.support.slow_clients import finish, slow_clients, timed

pytestmark = pytest.mark.services


def test_40_slow_clients_leave_the_gateway_answering_under_1s(stack):
    base = stack.base
    r = requests.post(
        base + "/api/v1/tenants",
        json={"name": "Not slow"},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    key = r.json()["admin_key"]
    auth = {"Authorization": f"Bearer {key}"}
    warm = requests.get(base + "/api/v1/customers", headers=auth, timeout=10)
    assert warm.status_code == 200  # a new key's first request is not what is measured
    with slow_clients(urlparse(base).port, 40) as socks:
        health, health_took = timed("GET", base + "/healthz")
        listing, listing_took = timed("GET", base + "/api/v1/customers", headers=auth)
        assert health.status_code == 200
        assert listing.status_code == 200
        assert health_took < 1.0, health_took
        assert listing_took < 1.0, listing_took
        assert finish(socks[0]).split()[:2] == [b"HTTP/1.1", b"401"]


def test_413_then_the_next_request_on_the_same_session_works(stack):
    session = requests.Session()
    r = session.post(
        stack.base + "/api/v1/tenants",
        data=b"x" * (1024 * 1024 + 1),
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/problem+json"
    assert session.get(stack.base + "/healthz", timeout=10).status_code == 200
