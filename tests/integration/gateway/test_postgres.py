"""The gateway on a real PostgreSQL: migrations, keys, settings under concurrent changes."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from gateway_service.bootstrap import SPEC, create_gateway_app
from revisit_common.messaging.outbox import outbox_table
from revisit_common.runtime import ServiceRuntime
from tests.support.settings import make_settings
from tests.support.settings_owners import owner_transports

PLATFORM = "platform-token"


@pytest.fixture
def gateway(postgres_url, postgres_schemas):
    settings = make_settings(
        database_url=postgres_url,
        db_schema_prefix=postgres_schemas,
        admin_token=PLATFORM,
        internal_token="internal",
    )
    runtime = ServiceRuntime(SPEC, settings)
    assert runtime.db.is_postgres
    yield runtime, create_gateway_app(runtime, {}, owner_transports("internal"))
    runtime.close()


def test_tenant_keys_and_settings_on_postgres(gateway):
    runtime, app = gateway
    client = app.test_client()
    resp = client.post(
        "/api/v1/tenants", json={"name": "Acme"}, headers={"Authorization": f"Bearer {PLATFORM}"}
    )
    assert resp.status_code == 201
    admin = {"Authorization": f"Bearer {resp.get_json()['admin_key']}"}
    created = client.post("/api/v1/api-keys", json={"name": "v", "role": "viewer"}, headers=admin)
    assert created.status_code == 201
    viewer = {"Authorization": f"Bearer {created.get_json()['key']}"}
    assert client.get("/api/v1/tenants/current", headers=viewer).status_code == 200
    assert (
        client.delete(f"/api/v1/api-keys/{created.get_json()['id']}", headers=admin).status_code
        == 204
    )
    assert client.get("/api/v1/tenants/current", headers=viewer).status_code == 401
    current = client.get("/api/v1/tenants/current", headers=admin).get_json()
    assert current["created_at"].endswith("+00:00")


def test_concurrent_settings_changes_get_distinct_versions(gateway):
    runtime, app = gateway
    client = app.test_client()
    resp = client.post(
        "/api/v1/tenants", json={"name": "Acme"}, headers={"Authorization": f"Bearer {PLATFORM}"}
    )
    admin = {"Authorization": f"Bearer {resp.get_json()['admin_key']}"}
    statuses: list[int] = []
    values = list(range(81, 89))

    def change(value):
        c = app.test_client()
        r = c.patch(
            "/api/v1/settings", json={"classification": {"grade_a_min": value}}, headers=admin
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=change, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * len(values)
    final = client.get("/api/v1/settings", headers=admin).get_json()
    assert final["version"] == 1 + len(values)
    with runtime.db.engine.connect() as conn:
        bodies = (
            conn.execute(
                sa.select(outbox_table.c.body).where(
                    outbox_table.c.routing_key == "tenant.settings_changed"
                )
            )
            .scalars()
            .all()
        )
    events = [json.loads(b)["data"] for b in bodies]
    assert sorted(e["settings_version"] for e in events) == list(range(2, 2 + len(values)))
    last = max(events, key=lambda e: e["settings_version"])
    assert last["settings"] == final["settings"]
