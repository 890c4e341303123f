"""Registering a complaint runs on a transaction without a Session (its statements are all
Core ones), except in a request with an Idempotency-Key, which joins the request's
idempotent transaction; on SQLite and PostgreSQL alike: what was written, the serials
taken and the events are the same either way, and a refused complaint leaves nothing."""

from __future__ import annotations

import contextlib

import pytest

from complaint_service.models import Complaint, LedgerEntry
from revisit_common.messaging.outbox import outbox_table
from tests.support.complaints import COMPLAINT, ComplaintClient, complaint_runtime
from tests.support.outbox import events_of
from tests.support.service import count_rows


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    with complaint_runtime(request, tmp_path, "cust-1", "east") as rt:
        yield rt


@pytest.fixture
def opened(runtime, monkeypatch):
    """The kinds of write transaction the service opens, in order."""
    kinds: list[str] = []
    db = runtime.db
    for name in ("transaction", "core_transaction"):
        real = getattr(db, name)

        @contextlib.contextmanager
        def spy(*args, _real=real, _name=name, **kwargs):
            kinds.append(_name)
            with _real(*args, **kwargs) as work:
                yield work

        monkeypatch.setattr(db, name, spy)
    return kinds


@pytest.fixture
def client(runtime):
    return ComplaintClient(runtime.create_app())


def test_a_complaint_is_registered_without_a_session(runtime, client, opened):
    first = client.create()  # its customer asked of the customer service, then copied
    second = client.create(assignee="staff-7")  # its customer read from the copy
    assert opened == ["core_transaction", "core_transaction"]
    assert (first["number"][-5:], second["number"][-5:]) == ("00001", "00002")
    assert client.get(f"/api/v1/complaints/{second['id']}").json == second
    assert [e["action"] for e in second["ledger"]] == ["receive", "assign"]
    raised = events_of(runtime, "ComplaintRaised")
    assert [e["data"]["complaint_id"] for e in raised] == [first["id"], second["id"]]


def test_an_idempotent_request_joins_its_session_and_is_replayed(runtime, client, opened):
    key = {"Idempotency-Key": "complaint-1"}
    first = client.post("/api/v1/complaints", COMPLAINT, headers=key)
    again = client.post("/api/v1/complaints", COMPLAINT, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert "core_transaction" not in opened  # (the request's own transaction: a Session)
    assert count_rows(runtime, Complaint.__table__) == 1
    assert len(events_of(runtime, "ComplaintRaised")) == 1
    assert client.create()["number"][-5:] == "00002"


def test_a_refused_complaint_writes_nothing_and_takes_no_serial(runtime, client, opened):
    client.create()  # the customer's copy made
    unrouted = {key: value for key, value in COMPLAINT.items() if key != "department"}
    refused = client.post("/api/v1/complaints", {**unrouted, "category": "odd"})
    assert refused.status_code == 422  # (refused after the serial was taken: department)
    assert list(refused.json["errors"]) == ["department"]
    assert refused.headers["Content-Type"] == "application/problem+json"
    tables = (Complaint.__table__, LedgerEntry.__table__, outbox_table)
    assert [count_rows(runtime, table) for table in tables] == [1, 1, 1]
    assert client.create()["number"][-5:] == "00002"  # the refused one's serial rolled back
    assert opened == ["core_transaction"] * 3
