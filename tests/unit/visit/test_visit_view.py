"""``POST /visits/{id}/complete`` renders the visit exactly as ``VisitOutSchema`` dumps it,
without marshmallow (visit_view.py): the plain rendering equals the schema's dump for a
visit in every state (planned, overdue, booked, replied, completed bare or with every
answer and issues, audited, cancelled), and the response of the completion is the dump,
byte for byte; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import jsonify

from tests.support.client import Client
from tests.support.clock import FakeClock
from tests.support.customers import FakeCustomerService
from tests.support.events import envelope
from tests.support.service import database_settings, service_runtime
from tests.support.visits import ISSUES, plan, register
from visit_service import service
from visit_service.bootstrap import SPEC
from visit_service.schemas import RATING_KEYS, VisitOutSchema
from visit_service.visit_view import AS_STORED, MAPPINGS, MOMENTS, visit_body, visit_response

NOW = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Friday 6 March 2026, 10:00 in Shanghai
FULL_RECORD = {
    "satisfaction": "dissatisfied",
    "repurchase_intent": False,
    "recommend_score": 0,
    "ratings": {key: 1 + i % 5 for i, key in enumerate(RATING_KEYS)},
    "product_feedback": {"familiarity": "good", "performance": None, "suggestions": "bigger"},
    "service_feedback": "slow to answer",
    "needs": "a spare pump",
    "competitor_info": {"products": ["Pump Z"], "strengths": "cheap", "effect": None},
    "notes": "met the buyer, 客户",
    "completed_at": (NOW - timedelta(hours=2)).isoformat(),
    "issues": [*ISSUES, {**ISSUES[1], "stages": [{"name": "call", "due_date": "2026-03-09"}]}],
}


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path, clock):
    values = database_settings(request)
    peers = {"customer": FakeCustomerService()}
    with service_runtime(SPEC, tmp_path, peers=peers, clock=clock, **values) as rt:
        yield rt


@pytest.fixture
def customer(runtime):
    return register(lambda kind, data, **kw: runtime.consumer.apply(envelope(kind, data, **kw)))


def _post(client, path, body):
    r = client.post(path, body)
    assert r.status_code == 200, r.json
    return r.json


def _shapes(app, client, customer) -> list[str]:
    """Visits of every shape the view renders."""
    planned = plan(client, customer, trigger="p")
    overdue = plan(client, customer, trigger="o", due_date="2026-03-01")
    booked = plan(client, customer, method="on_site", trigger="b")
    _post(client, f"/api/v1/visits/{booked['id']}/book", {"appointment_at": NOW.isoformat()})
    replied = plan(client, customer, method="email", trigger="r")
    _post(client, f"/api/v1/visits/{replied['id']}/reply", {})
    bare = plan(client, customer, trigger="c")
    _post(client, f"/api/v1/visits/{bare['id']}/complete", {"satisfaction": "satisfied"})
    full = plan(client, customer, trigger="f", focus="the seal")
    _post(client, f"/api/v1/visits/{full['id']}/complete", FULL_RECORD)
    audited = plan(client, customer, trigger="a")
    _post(client, f"/api/v1/visits/{audited['id']}/complete", {"satisfaction": "neutral"})
    auditor = Client(app, role="auditor")
    audit = auditor.post(f"/api/v1/visits/{audited['id']}/audit", {"accurate": False})
    assert audit.status_code == 200
    cancelled = plan(client, customer, trigger="x")
    _post(client, f"/api/v1/visits/{cancelled['id']}/cancel", {"reason": "moved away"})
    visits = (planned, overdue, booked, replied, bare, full, audited, cancelled)
    return [visit["id"] for visit in visits]


def test_each_shape_renders_as_the_schema_dumps_it(runtime, app, client, customer):
    schema = VisitOutSchema()
    seen = set()
    ids = _shapes(app, client, customer)
    with app.app_context(), runtime.db.read() as session:
        today = service.tenant_context(session, client.tenant, runtime.clock).today
        for visit_id in ids:
            visit = service.annotate([service.get_visit(session, client.tenant, visit_id)], today)
            expected = schema.dump(visit[0])
            got = visit_body(visit[0])
            assert got == expected
            assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
            seen |= {expected["status"], expected["overdue"], expected["booked"]}
            seen |= {bool(expected["issues"]), expected["audit"] is not None}
            seen |= {expected["ratings"] is not None, expected["replied_at"] is not None}
    assert {"planned", "completed", "cancelled", True, False} <= seen


def test_the_completion_answers_the_schemas_dump_byte_for_byte(runtime, app, client, customer):
    for body in ({"satisfaction": "satisfied"}, FULL_RECORD):
        visit_id = plan(client, customer)["id"]
        done = client.post(f"/api/v1/visits/{visit_id}/complete", body)
        assert done.status_code == 200
        assert done.headers["Content-Type"] == "application/json"
        got = client.get(f"/api/v1/visits/{visit_id}")  # rendered by the schema
        assert got.status_code == 200
        assert done.get_data() == got.get_data()
    with app.app_context(), runtime.db.read() as session:
        visit = service.annotate([service.get_visit(session, client.tenant, visit_id)], NOW.date())
        ours, theirs = visit_response(visit[0]), jsonify(VisitOutSchema().dump(visit[0]))
        assert (ours.status_code, ours.get_data()) == (200, theirs.get_data())
        assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]


def test_the_view_renders_the_fields_the_schema_names():
    fields = {*AS_STORED, *MOMENTS, *MAPPINGS, "booked", "issues", "audit"}
    assert fields == set(VisitOutSchema().dump_fields)
    assert len(fields) == len(AS_STORED) + len(MOMENTS) + len(MAPPINGS) + 3
