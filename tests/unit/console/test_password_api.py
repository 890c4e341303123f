"""POST /staff/{id}/password and the people's roles (CONTRACT §4.8), on SQLite and on
PostgreSQL with RabbitMQ: the admin or the person; the person gives their current password;
only an admin makes admins; a password change ends the person's console sessions."""

from __future__ import annotations

import pytest

from tests.support.console import PASSWORD, add_person

pytestmark = pytest.mark.usefixtures("system_everywhere")
NEW = "a new long password"


def person_key(admin, staff_id: str, role: str) -> str:
    answer = admin.post("/api-keys", {"name": staff_id, "role": role, "staff": staff_id})
    assert answer.status_code == 201, answer.json
    return answer.json["key"]


def test_admin_sets_any_persons_password(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    answer = tenant.admin.post("/staff/wang.fang/password", {"password": NEW})
    assert answer.status_code == 204
    console = tenant.console()
    assert console.sign_in(tenant.id, "wang.fang", PASSWORD).status_code == 401
    assert console.sign_in(tenant.id, "wang.fang", NEW).status_code == 303


def test_the_person_sets_their_own_with_their_current_password(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    me = tenant.admin.as_key(person_key(tenant.admin, "wang.fang", "agent"))
    missing = me.post("/staff/wang.fang/password", {"password": NEW})
    assert missing.status_code == 422
    assert missing.json["errors"] == {"current_password": ["does not match the person's password"]}
    wrong = me.post("/staff/wang.fang/password", {"password": NEW, "current_password": "nope"})
    assert wrong.status_code == 422
    body = {"password": NEW, "current_password": PASSWORD}
    assert me.post("/staff/wang.fang/password", body).status_code == 204
    assert tenant.console().sign_in(tenant.id, "wang.fang", NEW).status_code == 303


@pytest.mark.parametrize("role", ["manager", "agent", "viewer", "auditor"])
def test_nobody_else_sets_a_persons_password(tenant_everywhere, role):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    add_person(tenant.admin, "li.ming", role=role)
    other = tenant.admin.as_key(person_key(tenant.admin, "li.ming", role))
    answer = other.post("/staff/wang.fang/password", {"password": NEW})
    assert answer.status_code == 403
    assert answer.content_type == "application/problem+json"
    assert tenant.console().sign_in(tenant.id, "wang.fang").status_code == 303


def test_a_key_of_nobody_sets_no_password(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    key = tenant.admin.post("/api-keys", {"name": "robot", "role": "manager"}).json["key"]
    answer = tenant.admin.as_key(key).post("/staff/wang.fang/password", {"password": NEW})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "wang.fang"}, "password"),
        ({"password": "x" * 201}, "password"),
        ({}, "password"),
        ({"password": 12345678901}, "password"),
        ({"password": NEW, "extra": 1}, "extra"),
    ],
)
def test_a_bad_password_is_a_422_and_changes_nothing(tenant_everywhere, body, field):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    answer = tenant.admin.post("/staff/wang.fang/password", body)
    assert answer.status_code == 422
    assert field in answer.json["errors"]
    assert tenant.console().sign_in(tenant.id, "wang.fang").status_code == 303


@pytest.mark.parametrize("staff_id", ["nobody", "NOT..VALID", "me", "x" * 65])
def test_an_unknown_person_is_a_404(tenant_everywhere, staff_id):
    answer = tenant_everywhere.admin.post(f"/staff/{staff_id}/password", {"password": NEW})
    assert answer.status_code == 404


def test_a_password_change_ends_the_persons_sessions(tenant_everywhere):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    assert console.get("/console/").status_code == 200
    assert tenant.admin.post("/staff/wang.fang/password", {"password": NEW}).status_code == 204
    assert console.get("/console/").status_code == 303


def test_roles_default_to_agent_and_only_admins_make_admins(tenant_everywhere):
    tenant = tenant_everywhere
    created = add_person(tenant.admin, "wang.fang")
    assert created["role"] == "agent" and created["locale"] is None
    add_person(tenant.admin, "boss.li", role="manager")
    manager = tenant.admin.as_key(person_key(tenant.admin, "boss.li", "manager"))
    made = manager.post("/staff", {"id": "a.b", "name": "A B", "role": "admin"})
    assert made.status_code == 403
    auditor = {"id": "a.b", "name": "A B", "role": "auditor"}
    assert manager.post("/staff", auditor).status_code == 201
    assert manager.patch("/staff/wang.fang", {"role": "admin"}).status_code == 403
    assert manager.patch("/staff/wang.fang", {"role": "viewer"}).json["role"] == "viewer"
    assert tenant.admin.patch("/staff/wang.fang", {"role": "admin"}).json["role"] == "admin"
    assert manager.patch("/staff/wang.fang", {"role": "agent"}).status_code == 403
    unknown = tenant.admin.patch("/staff/wang.fang", {"role": "owner"})
    assert unknown.status_code == 422 and "role" in unknown.json["errors"]
    no_department = tenant.admin.post("/staff", {"id": "q.a", "name": "Q", "role": "department"})
    assert no_department.status_code == 422
    assert no_department.json["errors"] == {"department": ["required for the department role"]}
