"""A complaint's customer copy and its serial are read and taken together
(copy_and_serial.py): a customer the copy knows gets the next serial with it, one it does
not know takes no serial until the customer service answered, and an unknown customer takes
none at all; numbers stay gap-free either way, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from complaint_service.copy_and_serial import copy_and_serial
from complaint_service.customers import Copy
from complaint_service.models import counters_table
from tests.support.client import TENANT
from tests.support.complaints import COMPLAINT, ComplaintClient, complaint_runtime
from tests.support.events import envelope


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    with complaint_runtime(
        request, tmp_path, "cust-remote", "west", size_tier="large", grade="A"
    ) as rt:
        rt.consumer.apply(
            envelope(
                "CustomerRegistered",
                {"customer_id": "cust-copy", "region": "east", "size_tier": "small", "grade": "B"},
            )
        )
        yield rt


@pytest.fixture
def client(runtime):
    return ComplaintClient(runtime.create_app())


def _counter(runtime) -> list[tuple]:
    with runtime.db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(counters_table))]


def test_a_known_customer_and_the_next_serial_come_together(runtime):
    with runtime.db.transaction() as session:
        first = copy_and_serial(session, TENANT, "cust-copy", "202611")
        second = copy_and_serial(session, TENANT, "cust-copy", "202611")
        other_month = copy_and_serial(session, TENANT, "cust-copy", "202612")
    assert first == (Copy("east", "small", "B"), 1)
    assert second == (Copy("east", "small", "B"), 2)
    assert other_month == (Copy("east", "small", "B"), 1)
    assert sorted(_counter(runtime)) == [(TENANT, "202611", 2), (TENANT, "202612", 1)]


def test_a_customer_the_copy_does_not_know_takes_no_serial(runtime):
    with runtime.db.transaction() as session:
        assert copy_and_serial(session, TENANT, "cust-remote", "202611") is None
        assert copy_and_serial(session, "tenant-b", "cust-copy", "202611") is None
    assert _counter(runtime) == []


def test_numbers_stay_gap_free_whichever_way_the_customer_is_found(runtime, client):
    from_copy = client.create(customer_id="cust-copy")
    missing = client.post("/api/v1/complaints", {**COMPLAINT, "customer_id": "nobody"})
    assert missing.status_code == 404
    assert missing.json["detail"] == "customer not found"
    from_service = client.create(customer_id="cust-remote")  # then kept in the copy
    again = client.create(customer_id="cust-remote")
    serials = [c["number"][-5:] for c in (from_copy, from_service, again)]
    assert serials == ["00001", "00002", "00003"]
    assert (from_copy["region"], from_service["region"], again["region"]) == (
        "east",
        "west",
        "west",
    )
    assert from_service["severity"] == again["severity"] == "major"  # large, grade A
