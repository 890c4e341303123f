"""The customer service's hot writes, rendered and recorded without the ORM's machinery:

* ``POST /customers`` and ``POST /customers/{id}/purchases`` answer exactly what
  ``CustomerOutSchema`` / ``PurchaseOutSchema`` dump (customer_view.customer_body,
  purchase_recording.purchase_body), as JSON text, so an int is never a float;
* a purchase's windows (:func:`purchase_sums.record`: read before its sums are added to,
  then the purchase added as the sums count it) are the ones read afterwards, and the
  customer's stored annual amount follows them.

On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from customer_service import purchase_sums, service
from customer_service.bootstrap import SPEC
from customer_service.customer_view import customer_body, customer_of
from customer_service.models import Customer
from customer_service.purchase_recording import purchase_body
from customer_service.schemas import (
    CustomerInSchema,
    CustomerOutSchema,
    PurchaseInSchema,
    PurchaseOutSchema,
)
from revisit_common.caller import Caller
from revisit_common.ids import new_id
from tests.support.client import TENANT, Client
from tests.support.clock import FakeClock
from tests.support.customer_bodies import SHAPES
from tests.support.service import service_runtime
from tests.support.webhooks import DATABASES

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
PURCHASES = [
    {"amount": 1200, "product": "Pump X", "purchased_at": "2026-05-20T09:30:00+08:00"},
    {"amount": "1234.5", "product": "泵 Y", "purchased_at": "2025-06-01T00:00:00Z", "quantity": 5},
    {"amount": 0, "product": "Free", "purchased_at": "2024-01-31T23:59:59.999999-05:00"},
    {"amount": "999999999999.99", "product": "Big", "purchased_at": "2026-06-01T12:04:00+08:00"},
]


def text(value) -> str:
    """JSON text as Flask writes a body (keys sorted, compact, non-ASCII as it is)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture(params=DATABASES)
def runtime(request, tmp_path):
    values = {}
    if request.param == "postgres":
        values = {
            "database_url": request.getfixturevalue("postgres_url"),
            "db_schema_prefix": request.getfixturevalue("postgres_schemas"),
        }
    with service_runtime(SPEC, tmp_path, clock=FakeClock(NOW), **values) as rt:
        yield rt


def test_a_purchase_body_is_the_schemas_dump():
    schema = PurchaseOutSchema()
    for given in PURCHASES:
        data = PurchaseInSchema().load(given)
        purchase = {
            "id": new_id(),
            "tenant_id": TENANT,
            "customer_id": new_id(),
            **data,
            "created_at": NOW + timedelta(microseconds=7),
        }
        assert text(purchase_body(purchase)) == text(schema.dump(purchase))


def test_a_registered_customer_body_is_the_schemas_dump(runtime):
    caller = Caller(tenant_id=TENANT, clock=runtime.clock)
    schema = CustomerOutSchema()
    for shape in SHAPES:
        with runtime.db.transaction() as session:
            data = CustomerInSchema().load(shape)
            entity = service.create_customer(session, runtime.outbox, caller, data)
        assert text(customer_body(customer_of(entity))) == text(schema.dump(entity))


def test_the_responses_of_both_writes_are_the_dumps_of_what_was_written(runtime):
    client = Client(runtime.create_app())
    created = client.post("/api/v1/customers", SHAPES[1])
    assert created.status_code == 201
    with runtime.db.read() as session:
        entity = service.customer_with_contacts(session, TENANT, created.json["id"])
        assert created.get_data(as_text=True) == text(CustomerOutSchema().dump(entity)) + "\n"
    for given in PURCHASES[:3]:
        r = client.post(f"/api/v1/customers/{entity.id}/purchases", given)
        assert r.status_code == 201, r.json
        assert r.content_type == "application/json"
        sent = PurchaseInSchema().load(given)
        expected = {**sent, "id": r.json["id"], "customer_id": entity.id, "created_at": NOW}
        assert r.get_data(as_text=True) == text(PurchaseOutSchema().dump(expected)) + "\n"


def test_the_windows_recorded_with_each_purchase_are_the_ones_read_after_it(runtime):
    caller = Caller(tenant_id=TENANT, clock=runtime.clock)
    with runtime.db.transaction() as session:
        data = CustomerInSchema().load(SHAPES[0])
        customer_id = service.create_customer(session, runtime.outbox, caller, data).id
    rng = random.Random(15)
    today = date(2026, 6, 1)
    edges = [datetime(2026, 6, 1, tzinfo=UTC) - timedelta(days=d) for d in (365, 730, 731)]
    moments = edges + [NOW - timedelta(minutes=rng.randrange(0, 800 * 24 * 60)) for _ in range(40)]
    for at in moments:
        purchase = {
            "id": new_id(),
            "tenant_id": TENANT,
            "customer_id": customer_id,
            "amount": Decimal(rng.randrange(0, 10**8)) / 100,
            "product": "P",
            "quantity": 1,
            "purchased_at": at,
            "created_at": NOW,
        }
        with runtime.db.transaction() as session:
            recorded = purchase_sums.record(session, purchase, today)
            assert recorded == purchase_sums.totals(session, customer_id, today)
            assert [type(value) for value in recorded] == [Decimal, int, Decimal]
    client = Client(runtime.create_app())
    for given in PURCHASES[:3]:
        assert client.post(f"/api/v1/customers/{customer_id}/purchases", given).status_code == 201
        with runtime.db.read() as session:
            stored = session.get(Customer, customer_id).annual_purchase_amount
            last, _, _ = purchase_sums.totals(session, customer_id, today)
        assert stored == last


def test_a_retried_write_gets_the_same_bytes_back(runtime):
    client = Client(runtime.create_app())
    key = {"Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/customers", SHAPES[2], headers=key)
    again = client.post("/api/v1/customers", SHAPES[2], headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    path = f"/api/v1/customers/{first.json['id']}/purchases"
    key = {"Idempotency-Key": "retry-2"}
    bought = client.post(path, PURCHASES[1], headers=key)
    rebought = client.post(path, PURCHASES[1], headers=key)
    assert (bought.status_code, rebought.status_code) == (201, 201)
    assert rebought.headers["Idempotent-Replayed"] == "true"
    assert rebought.get_data() == bought.get_data()
    assert len(client.get(path).json["items"]) == 1
