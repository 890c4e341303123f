"""Registering a complaint writes its row and ledger with Core statements, not the ORM's
flush, and reads its customer's copy with one: what is read back is what the 201 said, the
event is the same, an unknown customer is a 404 with nothing written; on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from complaint_service.models import Complaint, CustomerCopy, LedgerEntry
from revisit_common.messaging.outbox import outbox_table
from tests.support.complaints import COMPLAINT, ComplaintClient, complaint_runtime
from tests.support.outbox import events_of
from tests.support.service import count_rows


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    with complaint_runtime(request, tmp_path, "cust-1", "east", size_tier="large", grade="A") as rt:
        yield rt


@pytest.fixture
def client(runtime):
    return ComplaintClient(runtime.create_app())


def test_what_is_read_back_is_what_the_201_said(runtime, client):
    first = client.create(assignee="staff-7")  # the copy is made from the customer service
    second = client.create()  # read from the copy
    for created in (first, second):
        got = client.get(f"/api/v1/complaints/{created['id']}")
        assert got.status_code == 200
        assert got.json == created
    assert [e["action"] for e in first["ledger"]] == ["receive", "assign"]
    assert (first["number"][-5:], second["number"][-5:]) == ("00001", "00002")
    assert count_rows(runtime, CustomerCopy.__table__) == 1
    with runtime.db.engine.connect() as conn:
        row = conn.execute(sa.select(Complaint.__table__).where(Complaint.id == first["id"])).one()
    # columns the request does not give hold what the flush left there
    assert (row.resolution, row.satisfied, row.paused_at, row.round) == (None, None, None, 1)
    raised = events_of(runtime, "ComplaintRaised")
    assert [e["data"]["complaint_id"] for e in raised] == [first["id"], second["id"]]
    assert raised[0]["data"]["assignee"] == "staff-7"


def test_an_unknown_customer_is_404_and_writes_nothing(runtime, client):
    r = client.post("/api/v1/complaints", {**COMPLAINT, "customer_id": "nobody"})
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"
    tables = (Complaint.__table__, LedgerEntry.__table__, CustomerCopy.__table__, outbox_table)
    assert [count_rows(runtime, table) for table in tables] == [0, 0, 0, 0]
