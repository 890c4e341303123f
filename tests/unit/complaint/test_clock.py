"""The complaint use cases read the current instant from the runtime's clock: a complaint
received "now", the overdue filter and the escalation sweep, all at instants the test
chooses (none of it depends on the day the tests run)."""

from __future__ import annotations

from datetime import UTC

import pytest

from complaint_service import jobs, service
from complaint_service.service import Caller
from tests.support.client import TENANT
from tests.support.clock import FakeClock
from tests.support.complaints import COMPLAINT, sh
from tests.support.outbox import envelopes


@pytest.fixture
def clock():
    return FakeClock(sh(9, 30, 16))


def test_a_complaint_received_now_is_received_at_the_callers_clock(runtime, cn_tenant, clock):
    caller = Caller(tenant_id=TENANT, actor="key-agent", role="agent", clock=clock)
    with runtime.db.transaction() as s:
        c = service.create_complaint(
            s, runtime.outbox, caller, {**COMPLAINT, "severity": "major"}, runtime.directory
        )
    assert c.received_at == sh(9, 30, 16)
    assert c.number == "CMP-202609-00001"
    # 5 / 7 / 15 working days over the National Day week (the calendar in the settings)
    assert (c.first_response_by, c.plan_by, c.resolve_by) == (
        sh(10, 8, 11),
        sh(10, 9, 18),
        sh(10, 20, 18),
    )


def test_routes_and_the_sweep_read_the_runtime_clock(runtime, cn_tenant, clock, client):
    complaint = client.create(severity="major")
    assert complaint["number"] == "CMP-202609-00001"
    assert complaint["deadlines"]["first_response_by"] == sh(10, 8, 11).astimezone(UTC).isoformat()
    overdue = "/api/v1/complaints?overdue=true"

    clock.advance(days=7, hours=19)  # 2026-10-08 11:00 in Shanghai: due, not past due
    assert client.get(overdue).json["items"] == []
    jobs.escalation_sweep(runtime)
    assert envelopes(runtime, "ComplaintEscalated") == []

    clock.advance(minutes=1)
    assert [c["id"] for c in client.get(overdue).json["items"]] == [complaint["id"]]
    jobs.escalation_sweep(runtime)
    [event] = envelopes(runtime, "ComplaintEscalated")
    assert event.data["limit"] == "first_response"
    assert event.data["escalated_at"] == sh(10, 8, 11, 1).astimezone(UTC).isoformat()

    r = client.act(complaint["id"], "acknowledge")
    assert r.status_code == 200, r.json
    assert r.json["ledger"][-1]["at"] == sh(10, 8, 11, 1).astimezone(UTC).isoformat()
