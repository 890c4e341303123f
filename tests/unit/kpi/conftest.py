from __future__ import annotations

import pytest

from kpi_service.bootstrap import SPEC
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

TOKEN = "internal-test-token"
METRICS_TOKEN = "metrics-test-token"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


class Client:
    """The KPI API as the gateway calls it, for one tenant."""

    def __init__(self, app, tenant: str, role: str = "viewer"):
        self.http = app.test_client()
        self.tenant = tenant
        self.role = role

    def get(self, path, **params):
        headers = {
            "X-Revisit-Internal-Token": TOKEN,
            "X-Revisit-Tenant": self.tenant,
            "X-Revisit-Role": self.role,
        }
        return self.http.get(path, headers=headers, query_string=params)

    def kpis(self, **params) -> dict:
        response = self.get("/api/v1/kpis", **params)
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def runtime(tmp_path):
    rt = ServiceRuntime(
        SPEC, Settings(data_dir=tmp_path, internal_token=TOKEN, metrics_token=METRICS_TOKEN)
    )
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app, "tenant-a")


@pytest.fixture
def feed(runtime):
    """Apply envelopes through the consumer, as the bus would deliver them."""

    def apply(*envelopes):
        outcomes = [runtime.consumer.apply(envelope) for envelope in envelopes]
        assert "failed" not in outcomes, outcomes
        return outcomes

    return apply
