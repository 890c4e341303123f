"""``POST /complaints`` renders the complaint exactly as ``ComplaintSchema`` dumps it, without
marshmallow (complaint_view.py): the plain rendering equals the schema's dump for a
complaint in every status, paused, escalated, reported upward, reopened, assigned; the
response of the POST is the dump of the row as stored; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from flask import jsonify

from complaint_service import service
from complaint_service.bootstrap import SPEC
from complaint_service.complaint_view import (
    AS_STORED,
    INSTANTS,
    LEDGER_FIELDS,
    WORKED_OUT,
    complaint_body,
    complaint_response,
)
from complaint_service.schemas import ComplaintSchema, LedgerEntrySchema
from tests.support.clock import FakeClock
from tests.support.complaints import COMPLAINT, PATHS, drive, sh
from tests.support.customers import FakeCustomerService
from tests.support.service import database_settings, service_runtime

NOW = sh(11, 20, 10)


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path, clock):
    values = database_settings(request)
    customers = FakeCustomerService()
    customers.add("cust-1", "east")
    customers.add("cust-big", "west", size_tier="large", grade="A")
    peers = {"customer": customers}
    with service_runtime(SPEC, tmp_path, peers=peers, clock=clock, **values) as rt:
        yield rt


def _shapes(client) -> list[str]:
    """Complaints of every shape the view must render: each status, a major one reported
    upward, several departments, assigned, one received long ago (overdue, escalated)."""
    ids = []
    for status, actions in PATHS.items():
        created = client.create(assignee="wang.fang" if status == "received" else None)
        drive(client, created["id"], actions)
        ids.append(created["id"])
    major = client.create(customer_id="cust-big")
    drive(client, major["id"], ["acknowledge", "wait_customer"])
    several = client.create(assisting_departments=["sales", "service"])
    ids += [major["id"], several["id"]]
    late = client.create(severity="major", received_at=(NOW - timedelta(days=40)).isoformat())
    drive(client, late["id"], ["acknowledge"])  # the escalations catch up here
    ids.append(late["id"])
    closed = client.create(note="by phone, angry")
    drive(client, closed["id"], PATHS["closed"])
    ids.append(closed["id"])
    return ids


def test_each_shape_renders_as_the_schema_dumps_it(runtime, app, client, clock):
    ids = _shapes(client)
    schema = ComplaintSchema()
    caller = service.Caller(tenant_id=client.tenant, actor="admin-key", role="admin", clock=clock)
    seen = set()
    with app.app_context(), runtime.db.read() as session:
        for complaint_id in ids:
            complaint = service.get_complaint(session, caller, complaint_id)
            for at in (NOW, NOW + timedelta(days=30)):  # not overdue yet / overdue
                clock.at = at
                expected = schema.dump(complaint)
                got = complaint_body(complaint, at)
                assert got == expected
                assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
            seen |= {expected["status"], expected["overdue"], *expected["escalated"]}
            seen |= {expected["reported_upward_reason"], expected["paused_from"]}
    clock.at = NOW
    # the shapes did cover what the view works out
    assert {"waiting_customer", "closed", "reopened", True, False, "resolve"} <= seen
    assert {"several_departments", "major", "acknowledged"} <= seen


def test_the_post_answers_the_dump_of_the_row_stored(client, clock):
    clock.at = NOW.astimezone(UTC)  # (stamps as the row gives them back: in UTC)
    for fields in ({}, {"assignee": "wang.fang"}, {"customer_id": "cust-big", "severity": "major"}):
        created = client.post("/api/v1/complaints", {**COMPLAINT, **fields})
        assert created.status_code == 201
        assert created.headers["Content-Type"] == "application/json"
        got = client.get(f"/api/v1/complaints/{created.json['id']}")  # rendered by the schema
        assert got.status_code == 200
        assert created.get_data() == got.get_data()


def test_the_response_is_the_schemas_byte_for_byte(runtime, app, clock):
    """As created (stamps in the clock's own offset, as before), rendered both ways."""
    caller = service.Caller(tenant_id="tenant-a", actor="key-1", role="agent", clock=clock)
    intake = {**COMPLAINT, "customer_id": "cust-big", "assisting_departments": ["sales"]}
    with runtime.db.transaction() as session:
        complaint = service.create_complaint(
            session, runtime.outbox, caller, intake, runtime.directory
        )
    with app.test_request_context():
        ours = complaint_response(complaint, clock(), 201)
        theirs = jsonify(ComplaintSchema().dump(complaint))
        assert (ours.status_code, ours.get_data()) == (201, theirs.get_data())
        assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]
    assert b"+08:00" in ours.get_data()


def test_the_view_renders_the_fields_the_schemas_name():
    fields = {*AS_STORED, *INSTANTS, *WORKED_OUT, "ledger"}
    assert fields == set(ComplaintSchema().dump_fields)
    assert len(fields) == len(AS_STORED) + len(INSTANTS) + len(WORKED_OUT) + 1
    assert set(LEDGER_FIELDS) == set(LedgerEntrySchema().dump_fields)
