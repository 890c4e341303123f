"""The tenant's people (CONTRACT §4.3): POST/GET/PATCH /staff, StaffChanged through the
outbox, and API keys that act as a person (ledgers and the audit log name them)."""

from __future__ import annotations

import pytest

from tests.support.gateway import auth
from tests.support.servers import drop_schemas

WANG = {"id": "wang.fang", "name": "Wang Fang", "email": "wang@example.com", "region": "east"}


def post_staff(gateway, key, body):
    return gateway.client.post("/api/v1/staff", json=body, headers=auth(key))


def add(gateway, key, staff_id, **extra):
    resp = post_staff(gateway, key, {"id": staff_id, "name": staff_id.title(), **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def patch(gateway, key, staff_id, body):
    return gateway.client.patch(f"/api/v1/staff/{staff_id}", json=body, headers=auth(key))


def test_add_read_change_and_leave(gateway, admin):
    created = post_staff(gateway, admin, {**WANG, "department": "service"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["id"] == "wang.fang" and body["active"] is True
    assert body["manager"] is None and body["department"] == "service"
    boss = add(gateway, admin, "li.ming")
    changed = patch(gateway, admin, "wang.fang", {"manager": boss["id"], "phone": "+86 21 1234"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["manager"] == "li.ming"
    got = gateway.client.get("/api/v1/staff/wang.fang", headers=auth(admin)).get_json()
    assert got["phone"] == "+86 21 1234" and got["email"] == "wang@example.com"
    left = patch(gateway, admin, "wang.fang", {"active": False})
    assert left.get_json()["active"] is False
    listed = gateway.client.get("/api/v1/staff", headers=auth(admin)).get_json()
    assert [p["id"] for p in listed["items"]] == ["li.ming", "wang.fang"]
    active = gateway.client.get("/api/v1/staff?active=true", headers=auth(admin)).get_json()
    assert [p["id"] for p in active["items"]] == ["li.ming"]


def test_every_change_publishes_staff_changed(gateway, admin, tenant):
    add(gateway, admin, "wang.fang", email="wang@example.com")
    patch(gateway, admin, "wang.fang", {"active": False})
    patch(gateway, admin, "wang.fang", {"active": False})  # no change: no event
    events = gateway.outbox()
    changed = [e for e in events if e["type"] == "StaffChanged"]
    assert [e["data"]["active"] for e in changed] == [True, False]
    first = changed[0]
    assert first["routing_key"] == "staff.changed"
    assert first["tenantid"] == tenant["id"] and first["subject"] == "wang.fang"
    assert first["data"]["email"] == "wang@example.com"


def test_a_taken_id_is_409(gateway, admin):
    add(gateway, admin, "wang.fang")
    again = post_staff(gateway, admin, {"id": "wang.fang", "name": "Another"})
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"


def test_the_same_id_in_another_tenant_is_another_person(gateway, admin):
    other = gateway.create_tenant("Other")["admin_key"]
    add(gateway, admin, "wang.fang")
    add(gateway, other, "wang.fang")
    assert gateway.client.get("/api/v1/staff/wang.fang", headers=auth(other)).status_code == 200


def test_unknown_manager_and_loops_are_422(gateway, admin):
    unknown = post_staff(gateway, admin, {"id": "a", "name": "A", "manager": "nobody"})
    assert unknown.status_code == 422
    assert list(unknown.get_json()["errors"]) == ["manager"]
    itself = post_staff(gateway, admin, {"id": "a", "name": "A", "manager": "a"})
    assert itself.status_code == 422
    add(gateway, admin, "a")
    add(gateway, admin, "b", manager="a")
    add(gateway, admin, "c", manager="b")
    loop = patch(gateway, admin, "a", {"manager": "c"})
    assert loop.status_code == 422
    assert loop.get_json()["errors"] == {"manager": ["would make a loop of managers"]}
    assert gateway.client.get("/api/v1/staff/a", headers=auth(admin)).get_json()["manager"] is None
    assert patch(gateway, admin, "a", {"manager": "a"}).status_code == 422
    assert patch(gateway, admin, "c", {"manager": None}).status_code == 200
    assert patch(gateway, admin, "a", {"manager": "c"}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"id": "Wang.Fang", "name": "upper case"},
        {"id": "wang fang", "name": "a space"},
        {"id": "", "name": "empty"},
        {"id": "x" * 65, "name": "too long"},
        {"id": "me", "name": "means the caller"},
        {"id": 7, "name": "a number"},
        {"id": "ok", "name": ""},
        {"id": "ok"},
        {"id": "ok", "name": "N", "email": "not-an-email"},
        {"id": "ok", "name": "N", "department": "Has Space"},
        {"id": "ok", "name": "N", "surprise": 1},
        {"id": "ok", "name": "N", "active": False},
    ],
)
def test_bad_people_are_422_and_write_nothing(gateway, admin, body):
    resp = post_staff(gateway, admin, body)
    assert resp.status_code == 422, resp.get_json()
    listed = gateway.client.get("/api/v1/staff", headers=auth(admin)).get_json()
    assert listed["items"] == []
    assert not [e for e in gateway.outbox() if e["type"] == "StaffChanged"]


def test_unknown_person_is_404(gateway, admin):
    for path in ("/api/v1/staff/nobody", "/api/v1/staff/NOT%20AN%20ID"):
        assert gateway.client.get(path, headers=auth(admin)).status_code == 404
    assert patch(gateway, admin, "nobody", {"name": "N"}).status_code == 404


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("admin", 200, 201),
        ("manager", 200, 201),
        ("agent", 200, 403),
        ("auditor", 200, 403),
        ("viewer", 200, 403),
        ("department", 403, 403),
    ],
)
def test_who_may_read_and_change_people(gateway, admin, role, read, write):
    key = gateway.create_key(admin, role, "quality" if role == "department" else None)["key"]
    assert gateway.client.get("/api/v1/staff", headers=auth(key)).status_code == read
    assert post_staff(gateway, key, {"id": f"p.{role}", "name": "P"}).status_code == write


# --------------------------------------------------------------------------- keys of a person


def person_key(gateway, admin, staff_id, role="agent"):
    body = {"name": f"{staff_id}'s key", "role": role, "staff": staff_id}
    resp = gateway.client.post("/api/v1/api-keys", json=body, headers=auth(admin))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_a_key_for_an_unknown_or_departed_person_is_422(gateway, admin):
    body = {"name": "k", "role": "agent", "staff": "nobody"}
    resp = gateway.client.post("/api/v1/api-keys", json=body, headers=auth(admin))
    assert resp.status_code == 422
    assert list(resp.get_json()["errors"]) == ["staff"]
    add(gateway, admin, "gone")
    patch(gateway, admin, "gone", {"active": False})
    body["staff"] = "gone"
    resp = gateway.client.post("/api/v1/api-keys", json=body, headers=auth(admin))
    assert resp.status_code == 422


def test_a_key_acts_as_its_person(gateway, admin, tenant):
    add(gateway, admin, "wang.fang")
    key = person_key(gateway, admin, "wang.fang")
    assert key["staff"] == "wang.fang"
    listed = gateway.client.get("/api/v1/api-keys", headers=auth(admin)).get_json()["items"]
    assert {k["id"]: k["staff"] for k in listed}[key["id"]] == "wang.fang"
    resp = gateway.client.post(
        "/api/v1/customers", json={"name": "Acme Co"}, headers=auth(key["key"])
    )
    assert resp.status_code == 201, resp.get_json()
    headers = resp.get_json()["headers"]
    # the services (their ledgers) see the person, not the key
    assert headers["x-revisit-actor"] == "wang.fang"
    assert headers["x-revisit-staff"] == "wang.fang"
    assert resp.get_json()["identity"]["staff"] == "wang.fang"
    log = gateway.client.get("/api/v1/audit-log?actor=wang.fang", headers=auth(admin)).get_json()
    assert [(e["method"], e["path"]) for e in log["items"]] == [("POST", "/api/v1/customers")]


def test_a_key_of_nobody_sends_no_person(gateway, admin):
    key = gateway.create_key(admin, "agent")
    resp = gateway.client.get("/api/v1/customers", headers=auth(key["key"]))
    headers = resp.get_json()["headers"]
    assert headers["x-revisit-actor"] == key["id"]
    assert "x-revisit-staff" not in headers


def test_keys_of_a_person_who_left_get_401(gateway, admin):
    add(gateway, admin, "wang.fang")
    key = person_key(gateway, admin, "wang.fang")["key"]
    assert gateway.client.get("/api/v1/staff", headers=auth(key)).status_code == 200
    patch(gateway, admin, "wang.fang", {"active": False})
    assert gateway.client.get("/api/v1/staff", headers=auth(key)).status_code == 401
    patch(gateway, admin, "wang.fang", {"active": True})  # back again
    assert gateway.client.get("/api/v1/staff", headers=auth(key)).status_code == 200


def test_agenda_of_a_key_of_nobody_is_422(gateway, admin):
    resp = gateway.client.get("/api/v1/me/agenda", headers=auth(admin))
    assert resp.status_code == 422
    assert resp.headers["Content-Type"] == "application/problem+json"


# --------------------------------------------------------------------------- hostile input

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]


@pytest.fixture(params=DATABASES)
def any_gateway(request, make_gateway, unique_prefix):
    """The gateway on SQLite, and on the real PostgreSQL."""
    if request.param == "sqlite":
        return make_gateway()
    url = request.getfixturevalue("postgres_url")
    request.addfinalizer(lambda: drop_schemas(url, f"{unique_prefix}_"))
    return make_gateway(database_url=url, db_schema_prefix=f"{unique_prefix}_")


HOSTILE = [
    {"id": "wang\x00fang", "name": "NUL in the id"},
    {"id": "ok", "name": "NUL \x00 in the name"},
    {"id": "ok", "name": "N" * 201},
    {"id": "ok", "name": "N", "phone": "1" * 51},
    {"id": "ok", "name": "N", "email": "a@" + "b" * 300 + ".com"},
    {"id": "ok", "name": "N", "region": "r" * 101},
    {"id": "ok", "name": "N", "manager": "x" * 65},
    {"id": "ok", "name": "N", "manager": "'; DROP TABLE staff; --"},
    {"id": ["ok"], "name": "N"},
    {"id": "ok", "name": {"first": "N"}},
]


def test_hostile_people_are_4xx_and_write_nothing(any_gateway):
    admin = any_gateway.create_tenant()["admin_key"]
    for body in HOSTILE:
        resp = post_staff(any_gateway, admin, body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert resp.headers["Content-Type"] == "application/problem+json"
    listed = any_gateway.client.get("/api/v1/staff", headers=auth(admin)).get_json()
    assert listed["items"] == []
    assert not [e for e in any_gateway.outbox() if e["type"] == "StaffChanged"]


def test_conflicts_and_loops_on_each_database(any_gateway):
    admin = any_gateway.create_tenant()["admin_key"]
    add(any_gateway, admin, "a")
    add(any_gateway, admin, "b", manager="a")
    assert post_staff(any_gateway, admin, {"id": "a", "name": "Again"}).status_code == 409
    assert patch(any_gateway, admin, "a", {"manager": "b"}).status_code == 422
    hostile = patch(any_gateway, admin, "a", {"name": "x\x00y", "active": "maybe"})
    assert hostile.status_code == 422
    person = any_gateway.client.get("/api/v1/staff/a", headers=auth(admin)).get_json()
    assert person["manager"] is None and person["name"] == "A"
    key = person_key(any_gateway, admin, "b")
    assert any_gateway.client.get("/api/v1/staff", headers=auth(key["key"])).status_code == 200
    patch(any_gateway, admin, "b", {"active": False})
    assert any_gateway.client.get("/api/v1/staff", headers=auth(key["key"])).status_code == 401
