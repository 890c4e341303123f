"""Customers of many shapes, and the check that ``GET /customers/{id}`` renders each exactly
as ``CustomerOutSchema`` dumps the ORM's customer (customer_view.py renders it without
marshmallow, from one statement)."""

from __future__ import annotations

import json

from customer_service import service
from customer_service.schemas import CustomerOutSchema

from .customers import ACME

CONTACTS = [
    {"name": "Zhang San", "title": "Buyer", "decision_maker": True, "birthday": "1980-05-02"},
    {"name": "Li Si", "phone": "+86 21 5555 0101", "email": "li.si@example.com"},
    {"name": "Wang Wu", "title": None, "anniversary": "2015-10-01", "decision_maker": False},
]
SHAPES = [
    {**ACME, "contacts": []},
    {**ACME, "contacts": CONTACTS, "annual_purchase_amount": "1234.5", "external_id": "ERP-7"},
    {
        **ACME,
        "name": "Ünïcode 客户",
        "annual_purchase_amount": 0,
        "owner": None,
        "address": "1 Road\nLine 2",
        "legal_representative": "Zhao",
        "business_scope": "pumps",
        "purchase_frequency": "monthly",
        "overdue_days": 120,
        "legal_dispute": True,
        "credit_rating": "poor",
        "contacts": CONTACTS[1:],
    },
]


def check_bodies(client, runtime) -> None:
    """Each of :data:`SHAPES`, registered, reads back as the schema dumps it."""
    schema = CustomerOutSchema()
    for shape in SHAPES:
        created = client.post("/api/v1/customers", shape)
        assert created.status_code == 201, created.json
        customer_id = created.json["id"]
        got = client.get(f"/api/v1/customers/{customer_id}")
        assert got.status_code == 200
        with runtime.db.read() as session:
            entity = service.customer_with_contacts(session, client.tenant, customer_id)
            expected = json.loads(json.dumps(schema.dump(entity)))
        assert got.json == expected
        assert list(got.json) == sorted(expected)  # keys in the order Flask writes them
        assert [c["name"] for c in got.json["contacts"]] == [c["name"] for c in shape["contacts"]]
