"""GET /internal/settings: the gateway's current settings of a tenant, for services only
(read your writes: a service whose copy is older than the version the gateway forwarded)."""

from __future__ import annotations

from revisit_common.directory import SETTINGS_PATH
from revisit_common.identity import Identity
from tests.support.gateway import INTERNAL_TOKEN, auth


def test_only_services_with_the_internal_token_read_the_settings(gateway, tenant):
    changed = gateway.client.patch(
        "/api/v1/settings",
        json={"complaints": {"general_resolve_working_days": 3}},
        headers=auth(tenant["admin_key"]),
    )
    assert changed.status_code == 200, changed.get_json()
    service = Identity(tenant_id=tenant["id"], role="viewer", actor="service:complaint")

    read = gateway.client.get(SETTINGS_PATH, headers=service.headers(INTERNAL_TOKEN))
    assert read.status_code == 200
    body = read.get_json()
    assert body["version"] == changed.get_json()["version"]
    assert body["settings"]["complaints"]["general_resolve_working_days"] == 3

    anonymous = gateway.client.get(SETTINGS_PATH)
    assert anonymous.status_code == 401
    assert anonymous.content_type == "application/problem+json"
    forged = gateway.client.get(SETTINGS_PATH, headers=service.headers("not-the-token"))
    assert forged.status_code == 401
    client_key = gateway.client.get(SETTINGS_PATH, headers=auth(tenant["admin_key"]))
    assert client_key.status_code == 401
