"""A fresh gateway per test: SQLite under tmp_path, fake backends attached in process."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from gateway_service.bootstrap import SPEC, InProcessTransport, create_gateway_app
from revisit_common.runtime import ServiceRuntime
from tests.support import pg_templates, sqlite_templates
from tests.support.gateway import (
    INTERNAL_TOKEN,
    PLATFORM_TOKEN,
    auth,
    customer_service_app,
    echo_app,
)
from tests.support.outbox import events_of
from tests.support.service import database_settings
from tests.support.settings import make_settings
from tests.support.settings_owners import owner_transports


class Gateway:
    """The app under test and helpers to make tenants and keys through the API."""

    def __init__(self, app: Flask, runtime: ServiceRuntime):
        self.app = app
        self.runtime = runtime
        self.client = app.test_client()

    def create_tenant(self, name: str = "Acme", **extra) -> dict:
        resp = self.client.post(
            "/api/v1/tenants",
            json={"name": name, **extra},
            headers={"Authorization": f"Bearer {PLATFORM_TOKEN}"},
        )
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def create_key(self, admin_key: str, role: str, department: str | None = None) -> dict:
        body = {"name": f"{role} key", "role": role}
        if department:
            body["department"] = department
        resp = self.client.post("/api/v1/api-keys", json=body, headers=auth(admin_key))
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def outbox(self) -> list[dict]:
        return events_of(self.runtime)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> dict:
    """The settings of a gateway database: SQLite, then PostgreSQL."""
    return database_settings(request)


@pytest.fixture
def make_gateway(tmp_path) -> Callable[..., Gateway]:
    runtimes: list[ServiceRuntime] = []
    stores: list = []

    def make(transports: dict | None = None, owners: dict | None = None, **settings) -> Gateway:
        values = {
            "data_dir": tmp_path / f"gw{len(runtimes)}",
            "admin_token": PLATFORM_TOKEN,
            "internal_token": INTERNAL_TOKEN,
            **settings,
        }
        config = make_settings(**values)
        sqlite_templates.seed(config, [SPEC])  # a copy of the migrated database
        pg_templates.seed(config, [SPEC])
        runtime = ServiceRuntime(SPEC, config)
        runtimes.append(runtime)
        if transports is None:
            transports = {
                "customer": InProcessTransport(customer_service_app()),
                "complaint": InProcessTransport(echo_app("complaint")),
                "survey": InProcessTransport(echo_app("survey")),
            }
        if owners is None:  # the real settings sections, each in a small app of its own
            owners = owner_transports(INTERNAL_TOKEN)
        app = create_gateway_app(runtime, transports, owners)
        stores.append(app.extensions["gateway_store"])
        return Gateway(app, runtime)

    yield make
    for store in stores:
        store.close()  # (its connections, and with REVISIT_KEY_CACHE its listener's)
    for runtime in runtimes:
        runtime.close()


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    return make_gateway()


@pytest.fixture
def tenant(gateway) -> dict:
    return gateway.create_tenant()


@pytest.fixture
def admin(tenant) -> str:
    return tenant["admin_key"]
