"""Purchases that plan no visit (not a first purchase, not an A customer's) only update their
customers' copies, read and written as plain rows: the copies end up as the ORM's
note_customer leaves them (newer facts win, an older event changes nothing, a purchase
without an owner clears it), one at a time or in a batch, with a copy the same batch touched
first; nothing is planned or published. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from revisit_common.messaging.outbox import outbox_table
from tests.support.client import TENANT
from tests.support.customers import FakeCustomerService
from tests.support.events import envelope
from tests.support.service import count_rows, database_settings, service_runtime
from visit_service.bootstrap import SPEC
from visit_service.models import CustomerCopy, Visit

from .test_handlers import purchase

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    values = database_settings(request)
    with service_runtime(SPEC, tmp_path, peers={"customer": FakeCustomerService()}, **values) as rt:
        yield rt


def registered(customer_id: str, hours: float, tenant: str = TENANT):
    data = {
        "customer_id": customer_id,
        "name": "Acme",
        "region": "east",
        "owner": "li.wei",
        "grade": "B",
        "size_tier": "large",
    }
    return envelope("CustomerRegistered", data, time=at(hours).isoformat(), tenant=tenant)


def bought(customer_id: str, hours: float, tenant: str = TENANT, **fields):
    data = purchase(customer_id, first=False, **fields)
    for name in [name for name, value in fields.items() if value is None]:
        del data[name]  # (a field the event lacks)
    return envelope("PurchaseRecorded", data, time=at(hours).isoformat(), tenant=tenant)


def copy_of(runtime, customer_id: str) -> tuple:
    with runtime.db.read() as session:
        row = session.execute(
            sa.select(
                CustomerCopy.name,
                CustomerCopy.region,
                CustomerCopy.owner,
                CustomerCopy.grade,
                CustomerCopy.size_tier,
                CustomerCopy.info_at,
                CustomerCopy.grade_at,
            ).where(CustomerCopy.customer_id == customer_id)
        ).one()
    return tuple(row)


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "batch"])
def test_copies_end_as_note_customer_leaves_them(runtime, batch):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for customer_id in (first, second):
        assert runtime.consumer.apply(registered(customer_id, 0)) == "applied"
    outbox_before = count_rows(runtime, outbox_table)
    events = [
        bought(first, 2, owner="wang.fang", region="west", grade="C"),
        bought(first, 1, owner="zhao.min", region="north", grade="B"),  # older: ignored
        bought(second, 3, owner=None, region=None, grade="D"),  # no owner, region; no grade
        bought(first, 4, owner="wang.fang", region="west", grade="C"),  # nothing new but times
    ]
    if batch:
        assert runtime.consumer.apply_batch(events) == ["applied"] * 4
    else:
        assert [runtime.consumer.apply(event) for event in events] == ["applied"] * 4
    assert copy_of(runtime, first) == ("Acme", "west", "wang.fang", "C", "large", at(4), at(4))
    assert copy_of(runtime, second) == ("Acme", "east", None, "B", "large", at(3), at(0))
    assert count_rows(runtime, Visit) == 0
    assert count_rows(runtime, outbox_table) == outbox_before


def test_a_copy_the_batch_changed_first_is_changed_again(runtime):
    customer_id = str(uuid.uuid4())
    events = [
        registered(customer_id, 0),
        bought(customer_id, 1, owner="wang.fang", region="west", grade="C"),
    ]
    assert runtime.consumer.apply_batch(events) == ["applied"] * 2
    assert copy_of(runtime, customer_id) == (
        "Acme",
        "west",
        "wang.fang",
        "C",
        "large",
        at(1),
        at(1),
    )
    assert count_rows(runtime, Visit) == 0


def test_a_batch_of_many_customers_of_two_tenants(runtime):
    tenants = [TENANT] * 18 + ["tenant-b"] * 3  # more than one statement reads (16)
    customers = [str(uuid.uuid4()) for _ in tenants]
    for customer_id, tenant in zip(customers, tenants, strict=True):
        assert runtime.consumer.apply(registered(customer_id, 0, tenant)) == "applied"
    events = [
        bought(customer_id, 1 + i, tenant, owner=f"agent.{i}", region="west", grade="C")
        for i, (customer_id, tenant) in enumerate(zip(customers, tenants, strict=True))
    ]
    assert runtime.consumer.apply_batch(events) == ["applied"] * len(events)
    assert [copy_of(runtime, customer_id) for customer_id in customers] == [
        ("Acme", "west", f"agent.{i}", "C", "large", at(1 + i), at(1 + i))
        for i in range(len(customers))
    ]
