"""``GET /customers/{id}`` renders a customer exactly as ``CustomerOutSchema`` dumps it, read
in one statement (customer_view.py; SQLite here, PostgreSQL in tests/integration)."""

from __future__ import annotations

from customer_service.customer_view import CONTACT_FIELDS, CUSTOMER_FIELDS
from customer_service.schemas import ContactOutSchema, CustomerOutSchema
from tests.support.client import Client
from tests.support.customer_bodies import SHAPES, check_bodies


def test_each_shape_of_customer_reads_back_as_the_schema_dumps_it(client, runtime):
    check_bodies(client, runtime)


def test_the_statement_reads_the_fields_the_schemas_render():
    assert set(CUSTOMER_FIELDS) | {"contacts"} == set(CustomerOutSchema().dump_fields)
    assert set(CONTACT_FIELDS) == set(ContactOutSchema().dump_fields)


def test_an_unknown_or_another_tenants_customer_is_a_404_problem(client, app):
    customer_id = client.post("/api/v1/customers", SHAPES[1]).json["id"]
    for reader, path in (
        (Client(app, "tenant-b"), f"/api/v1/customers/{customer_id}"),
        (client, "/api/v1/customers/no-such-customer"),
    ):
        r = reader.get(path)
        assert r.status_code == 404
        assert r.headers["Content-Type"] == "application/problem+json"
        assert r.json["detail"] == "customer not found"
