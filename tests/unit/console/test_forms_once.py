"""A console form sent twice writes once (forms.once(): the form's key goes to the API as
its Idempotency-Key), on SQLite and on PostgreSQL with RabbitMQ."""

from __future__ import annotations

import re

import pytest

from tests.support.console import add_person, csrf_of
from tests.support.customers import ACME

pytestmark = pytest.mark.usefixtures("system_everywhere")
INTAKE = {
    "channel": "phone",
    "severity": "general",
    "category": "delivery",
    "department": "logistics",
    "description": "late twice",
}


def test_the_intake_form_sent_twice_records_one_complaint(tenant_everywhere):
    tenant = tenant_everywhere
    customer = tenant.admin.post("/customers", ACME)
    assert customer.status_code == 201, customer.json
    add_person(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    console.get("/console/complaints")
    form = console.page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    body = {"customer_id": customer.json["id"], **INTAKE, "idempotency_key": key}
    first = console.post("/console/complaints", body, csrf=csrf_of(form))
    console.page = form  # the same form, sent again (a double click, a retry)
    second = console.post("/console/complaints", body, csrf=csrf_of(form))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    listed = tenant.admin.get("/complaints").json["items"]
    assert len(listed) == 1
    console.get("/console/complaints")  # a new form: a new key, a new complaint
    key = re.search(r'name="idempotency_key" value="([^"]+)"', console.page).group(1)
    assert console.post("/console/complaints", {**body, "idempotency_key": key}).status_code == 303
    assert len(tenant.admin.get("/complaints").json["items"]) == 2
