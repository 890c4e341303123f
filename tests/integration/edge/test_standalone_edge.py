"""The standalone edge (`make run`) with real sockets: early errors keep the connection
usable, idle keep-alive follows REVISIT_KEEPALIVE_SECONDS, slow clients hold no thread."""

from __future__ import annotations

import importlib
import socket
import time

import pytest
import requests

from revisit_common.config import Settings
from revisit_runner import edge
from tests.support.slow_clients import finish, slow_clients, timed
from tests.support.standalone import Server

ADMIN = "platform-token-for-tests"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("edge") / "var", env={"REVISIT_ADMIN_TOKEN": ADMIN})
    srv.start()
    yield srv
    srv.stop()


def new_tenant(base: str, name: str) -> str:
    r = requests.post(base + "/api/v1/tenants", json={"name": name}, headers=bearer(ADMIN))
    assert r.status_code == 201, r.text
    return r.json()["admin_key"]


def test_keepalive_defaults_hold_idle_connections_at_least_60s(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # gunicorn_conf sets one
    monkeypatch.delenv("REVISIT_KEEPALIVE_SECONDS", raising=False)
    gunicorn_conf = importlib.reload(importlib.import_module("revisit_runner.gunicorn_conf"))
    assert gunicorn_conf.keepalive == 75
    assert Settings().keepalive_seconds == 75
    assert Settings.from_env({}).keepalive_seconds == 75
    assert edge.adjustments(Settings(), threads=8)["channel_timeout"] == 75
    assert Settings.from_env({"REVISIT_KEEPALIVE_SECONDS": "90"}).keepalive_seconds == 90


def post_tenant(session: requests.Session, server, body: bytes) -> requests.Response:
    """POST ``body`` as JSON to the tenants route, as the admin."""
    headers = {**bearer(ADMIN), "Content-Type": "application/json"}
    return session.post(server.base + "/api/v1/tenants", data=body, headers=headers, timeout=10)


def test_413_then_the_next_request_on_the_same_session_works(server):
    session = requests.Session()
    r = post_tenant(session, server, b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 413
    assert "close" not in r.headers.get("Connection", "").lower()
    r = session.get(server.base + "/healthz", timeout=10)
    assert r.status_code == 200


def test_a_body_far_over_the_limit_is_refused_unread_and_the_session_goes_on(server):
    session = requests.Session()
    defaults = Settings()  # the server's limits: the largest body read is the upload's
    limit = edge.read_limit(defaults.max_body_bytes, defaults.max_upload_bytes)
    r = post_tenant(session, server, b"x" * (limit + 1))
    assert r.status_code == 413
    assert r.headers["Connection"].lower() == "close"  # the client opens a new one
    assert session.get(server.base + "/healthz", timeout=10).status_code == 200


def test_401_on_a_post_with_a_body_keeps_the_connection(server):
    session = requests.Session()
    r = session.post(server.base + "/api/v1/customers", json={"name": "x" * 50_000}, timeout=10)
    assert r.status_code == 401
    r = session.get(server.base + "/healthz", timeout=10)
    assert r.status_code == 200


def test_idle_connection_is_closed_after_the_configured_keepalive(tmp_path):
    srv = Server(
        tmp_path / "var", env={"REVISIT_ADMIN_TOKEN": ADMIN, "REVISIT_KEEPALIVE_SECONDS": "2"}
    ).start()
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=15) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200")
            idle_from = time.monotonic()
            rest = b""
            while chunk := sock.recv(4096):  # returns b"" when the server closes
                rest += chunk
            idle = time.monotonic() - idle_from
        assert 1.5 <= idle < 10, idle  # closed by the server: held 2 s, checked every 1 s
    finally:
        srv.stop()


def test_40_slow_clients_leave_healthz_and_other_tenants_under_1s(server):
    key = new_tenant(server.base, "Not slow")
    warm = requests.get(server.base + "/api/v1/customers", headers=bearer(key), timeout=10)
    assert warm.status_code == 200  # a new key's first request is not what is measured
    with slow_clients(server.port, 40) as socks:
        health, health_took = timed("GET", server.base + "/healthz")
        listing, listing_took = timed("GET", server.base + "/api/v1/customers", headers=bearer(key))
        assert health.status_code == 200
        assert listing.status_code == 200
        assert health_took < 1.0, health_took
        assert listing_took < 1.0, listing_took
        # the slow requests were held, not dropped: one finished now is answered
        assert finish(socks[0]).split()[:2] == [b"HTTP/1.1", b"401"]
