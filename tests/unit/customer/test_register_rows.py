"""Registering a customer writes its row and contacts with Core statements, not the ORM's
flush: what is read back is what the 201 said, the events are the same, a taken external
id is a 409 with nothing written; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from customer_service.bootstrap import SPEC
from customer_service.models import Contact, Customer
from revisit_common.messaging.outbox import outbox_table
from tests.support.client import Client
from tests.support.customers import ACME
from tests.support.outbox import events_of
from tests.support.service import count_rows, database_settings, service_runtime


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    values = database_settings(request)
    with service_runtime(SPEC, tmp_path, **values) as rt:
        yield rt


@pytest.fixture
def client(runtime):
    return Client(runtime.create_app())


def test_what_is_read_back_is_what_the_201_said(runtime, client):
    body = {**ACME, "external_id": "ERP-1", "credit_rating": "fair"}
    created = client.post("/api/v1/customers", body)
    assert created.status_code == 201, created.json
    got = client.get(f"/api/v1/customers/{created.json['id']}")
    assert got.status_code == 200
    assert got.json == created.json
    assert [c["name"] for c in created.json["contacts"]] == ["Zhang San"]
    with runtime.db.engine.connect() as conn:
        row = conn.execute(sa.select(Customer.__table__)).one()
        contact = conn.execute(sa.select(Contact.__table__)).one()
    # columns the request does not give hold what the flush left there
    assert (row.purchase_count, row.overdue_days, row.legal_dispute) == (0, 0, False)
    assert (row.address, row.graded_at is not None) == (None, True)
    assert (contact.customer_id, contact.position) == (created.json["id"], 0)
    kinds = [(e["type"], e["data"]["customer_id"]) for e in events_of(runtime)]
    assert kinds == [
        ("CustomerRegistered", created.json["id"]),
        ("CustomerGraded", created.json["id"]),
        ("CustomerRiskChanged", created.json["id"]),  # a fair credit rating: medium
        ("ContactDatesChanged", created.json["id"]),
    ]


def test_a_registered_customer_takes_purchases(runtime, client):
    customer = client.post("/api/v1/customers", {**ACME, "contacts": []}).json
    assert count_rows(runtime, Contact.__table__) == 0
    purchase = {"amount": "120.00", "product": "Pump X", "purchased_at": "2026-11-20T09:30:00Z"}
    r = client.post(f"/api/v1/customers/{customer['id']}/purchases", purchase)
    assert r.status_code == 201, r.json
    assert events_of(runtime, "PurchaseRecorded")[0]["data"]["first_purchase"] is True


def test_a_taken_external_id_is_409_and_writes_nothing(runtime, client):
    assert client.post("/api/v1/customers", {**ACME, "external_id": "ERP-1"}).status_code == 201
    before = count_rows(runtime, outbox_table)
    r = client.post("/api/v1/customers", {**ACME, "external_id": "ERP-1"})
    assert r.status_code == 409
    assert r.headers["Content-Type"] == "application/problem+json"
    assert (count_rows(runtime, Customer.__table__), count_rows(runtime, Contact.__table__)) == (
        1,
        1,
    )
    assert count_rows(runtime, outbox_table) == before
