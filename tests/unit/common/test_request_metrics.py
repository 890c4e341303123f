"""The app every service builds: the request metrics counted through series looked up
once per (method, route, status)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from revisit_common.webapp import create_app

NAME = "revisit_http_requests_total"


def test_requests_are_counted_per_route_method_and_status():
    app = create_app(
        service="svc-metrics-test",
        title="t",
        blueprints=(),
        internal_token="token",
        max_body_bytes=1024,
    )
    client = app.test_client()
    labels = {"service": "svc-metrics-test", "method": "GET", "route": "/healthz"}

    def count(status: str) -> float:
        value = REGISTRY.get_sample_value(
            "revisit_http_requests_total", {**labels, "status": status}
        )
        return value or 0.0

    before = count("200")
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert count("200") == before + 3
    assert client.get("/metrics").status_code == 401
    missing = {**labels, "route": "/metrics", "status": "401"}
    assert REGISTRY.get_sample_value(NAME, missing) == 1.0
