from __future__ import annotations

import pytest

from customer_service.bootstrap import SPEC
from revisit_common.config import Settings
from revisit_common.runtime import ServiceRuntime

TOKEN = "internal-test-token"


class Client:
    """The customer service's HTTP API as the gateway calls it, for one tenant."""

    def __init__(self, app, tenant: str, role: str = "admin"):
        self.http = app.test_client()
        self.tenant = tenant
        self.role = role

    def headers(self, **extra):
        return {
            "X-Revisit-Internal-Token": TOKEN,
            "X-Revisit-Tenant": self.tenant,
            "X-Revisit-Role": self.role,
            **extra,
        }

    def get(self, path, **kw):
        return self.http.get(path, headers=self.headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(path, json=json, headers=self.headers(), **kw)

    def patch(self, path, json=None, **kw):
        return self.http.patch(path, json=json, headers=self.headers(), **kw)


@pytest.fixture
def runtime(tmp_path):
    rt = ServiceRuntime(SPEC, Settings(data_dir=tmp_path, internal_token=TOKEN))
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app, "tenant-a")
