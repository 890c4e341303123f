"""Two gateways on one database (the deployed mode's replicas; on SQLite, two apps on one
file): a key revoked, a person who left or a settings change made through one is seen by
the other's forwarded reads on the very next request (the key is looked up on every
request, fastpath.py included)."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.support.gateway import auth
from tests.support.service import database_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request, make_gateway, tmp_path):
    database = database_settings(request)
    first = make_gateway(**database, data_dir=tmp_path / "shared")
    second = make_gateway(**database, data_dir=tmp_path / "shared")
    return first, second


def read(gateway, key: str) -> tuple[int, dict]:
    """A forwarded read through ``gateway``'s WSGI app: (status, its JSON body)."""
    environ = EnvironBuilder(path="/api/v1/customers/1", headers=auth(key)).get_environ()
    app_iter, status, _ = run_wsgi_app(gateway.app.wsgi_app, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(app_iter))


def test_a_key_revoked_through_one_gateway_is_refused_by_the_other_at_once(pair):
    one, other = pair
    admin = one.create_tenant()["admin_key"]
    viewer = one.create_key(admin, "viewer")
    for _ in range(3):
        assert read(other, viewer["key"])[0] == 200
    revoked = one.client.delete(f"/api/v1/api-keys/{viewer['id']}", headers=auth(admin))
    assert revoked.status_code == 204
    status, body = read(other, viewer["key"])
    assert status == 401
    assert body["detail"] == "invalid or revoked API key"
    assert read(one, viewer["key"])[0] == 401
    assert read(other, admin)[0] == 200


def test_a_person_who_left_and_new_settings_are_seen_by_the_other_at_once(pair):
    one, other = pair
    admin = one.create_tenant()["admin_key"]
    person = {"id": "wang.fang", "name": "Wang Fang"}
    assert one.client.post("/api/v1/staff", json=person, headers=auth(admin)).status_code == 201
    created = one.client.post(
        "/api/v1/api-keys",
        json={"name": "phone", "role": "agent", "staff": "wang.fang"},
        headers=auth(admin),
    )
    key = created.get_json()["key"]
    status, echo = read(other, key)
    assert status == 200
    assert echo["headers"]["x-revisit-actor"] == "wang.fang"
    assert read(other, admin)[1]["headers"]["x-revisit-settings-version"] == "1"
    changed = one.client.patch(
        "/api/v1/settings", json={"classification": {"grade_b_min": 65}}, headers=auth(admin)
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["version"] == 2
    assert read(other, admin)[1]["headers"]["x-revisit-settings-version"] == "2"
    left = one.client.patch("/api/v1/staff/wang.fang", json={"active": False}, headers=auth(admin))
    assert left.status_code == 200
    assert read(other, key)[0] == 401
