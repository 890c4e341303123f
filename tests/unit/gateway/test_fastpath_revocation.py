"""Two gateways on one database (the deployed mode's replicas; on SQLite, two apps on one
file): a key revoked, a person who left or a settings change made through one is seen by
the other's forwarded reads on the very next request (the key is looked up on every
request, fastpath.py included; with REVISIT_KEY_CACHE, the change's request drops what every
gateway of the process keeps before it answers)."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from gateway_service import domain
from tests.support.gateway import auth
from tests.support.polling import wait_until


@pytest.fixture(params=["sqlite", "postgresql", "postgresql-key-cache"])
def pair(request, make_gateway, tmp_path):
    database = {}
    if request.param != "sqlite":
        database = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
        }
    if request.param == "postgresql-key-cache":
        database["environment"] = {"REVISIT_KEY_CACHE": "on"}
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


@pytest.fixture
def cached_pair(make_gateway, tmp_path, postgres_url, postgres_schemas):
    """Two gateways with REVISIT_KEY_CACHE on one PostgreSQL schema."""
    database = {
        "database_url": postgres_url,
        "db_schema_prefix": postgres_schemas,
        "environment": {"REVISIT_KEY_CACHE": "on"},
    }
    first = make_gateway(**database, data_dir=tmp_path / "shared")
    second = make_gateway(**database, data_dir=tmp_path / "shared")
    return first, second


def kept(gateway, key: str) -> bool:
    """Whether ``gateway`` now answers ``key`` from the identity it keeps (after a read)."""
    store = gateway.app.extensions["gateway_store"]
    return read(gateway, key)[0] == 200 and store.keys.get(domain.hash_key(key)) is not None


def test_a_kept_key_revoked_through_one_gateway_is_refused_by_the_other_at_once(cached_pair):
    one, other = cached_pair
    admin = one.create_tenant()["admin_key"]
    viewer = one.create_key(admin, "viewer")
    wait_until(lambda: kept(other, viewer["key"]) and kept(other, admin), message="kept")
    revoked = one.client.delete(f"/api/v1/api-keys/{viewer['id']}", headers=auth(admin))
    assert revoked.status_code == 204
    status, body = read(other, viewer["key"])
    assert status == 401
    assert body["detail"] == "invalid or revoked API key"
    assert read(other, admin)[0] == 200


def test_kept_settings_changed_through_one_gateway_are_seen_by_the_other_at_once(cached_pair):
    one, other = cached_pair
    admin = one.create_tenant()["admin_key"]
    wait_until(lambda: kept(other, admin), message="kept")
    assert read(other, admin)[1]["headers"]["x-revisit-settings-version"] == "1"
    changed = one.client.patch(
        "/api/v1/settings", json={"classification": {"grade_b_min": 65}}, headers=auth(admin)
    )
    assert changed.status_code == 200, changed.get_json()
    assert read(other, admin)[1]["headers"]["x-revisit-settings-version"] == "2"


def test_a_forwarded_write_keeps_what_is_kept(cached_pair):
    one, _ = cached_pair
    admin = one.create_tenant()["admin_key"]
    wait_until(lambda: kept(one, admin), message="kept")
    created = one.client.post(
        "/api/v1/customers",
        json={"name": "Bench Trading"},
        headers=auth(admin),
    )
    assert created.status_code == 201, created.get_json()
    store = one.app.extensions["gateway_store"]
    assert store.keys.get(domain.hash_key(admin)) is not None
