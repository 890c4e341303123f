"""Hostile input through the console's forms, on SQLite and on PostgreSQL with RabbitMQ: a
clear 4xx page, never a 500, and nothing half-written."""

from __future__ import annotations

import pytest

from tests.support.console import add_person
from tests.support.customers import ACME

pytestmark = pytest.mark.usefixtures("system_everywhere")


@pytest.fixture
def signed_in(tenant_everywhere):
    add_person(tenant_everywhere.admin, "wang.fang")
    console = tenant_everywhere.console()
    assert console.sign_in(tenant_everywhere.id, "wang.fang").status_code == 303
    return console


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"staff_id": "wang\x00fang"}, 401),
        ({"tenant": "x" * 5000}, 401),
        ({"password": "p" * 5000}, 422),  # over 1000 characters: not even checked
        ({"staff_id": "王芳"}, 401),
        ({"tenant": "' OR 1=1 --"}, 401),
    ],
)
def test_odd_sign_in_fields_are_refused_with_a_page(tenant_everywhere, fields, status):
    tenant = tenant_everywhere
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.get("/console/sign-in")
    body = {"tenant": tenant.id, "staff_id": "wang.fang", "password": "wrong password!"}
    answer = console.post("/console/sign-in", {**body, **fields})
    assert answer.status_code == status
    assert answer.content_type == "text/html; charset=utf-8"


def test_a_nul_in_a_form_is_a_422_page_and_writes_nothing(tenant_everywhere, signed_in):
    customer = tenant_everywhere.admin.post("/customers", ACME).json
    signed_in.get("/console/complaints")
    body = {
        "customer_id": customer["id"],
        "channel": "phone",
        "severity": "general",
        "category": "delivery",
        "department": "logistics",
        "description": "late\x00again",
    }
    answer = signed_in.post("/console/complaints", body)
    assert answer.status_code == 422  # the API's answer, shown on the form
    assert "description" in signed_in.page
    assert answer.content_type == "text/html; charset=utf-8"
    assert tenant_everywhere.admin.get("/complaints").json["items"] == []


def test_a_body_over_the_limit_is_a_413_page(tenant_everywhere, signed_in):
    signed_in.get("/console/complaints")
    answer = signed_in.post("/console/complaints", {"description": "x" * (1024 * 1024 + 10)})
    assert answer.status_code == 413
    assert answer.content_type == "text/html; charset=utf-8"
    assert tenant_everywhere.admin.get("/complaints").json["items"] == []


def test_a_nul_in_the_path_is_refused_before_any_page(signed_in):
    answer = signed_in.get("/console/complaints/%00")
    assert answer.status_code == 400  # the gateway's hostile-input check, as for the API


@pytest.mark.parametrize(
    "path",
    [
        "/console/visits/..%2F..%2Fapi-keys",
        "/console/customers/' OR 1=1",
        "/console/complaints/" + "x" * 3000,
    ],
)
def test_odd_ids_in_urls_are_a_404_page(signed_in, path):
    answer = signed_in.get(path)
    assert answer.status_code == 404
    assert answer.content_type == "text/html; charset=utf-8"
