"""Use cases at chosen instants: numbering months, pauses with the tenant calendar, the sweep."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from complaint_service import escalation, lifecycle, service
from complaint_service.service import Caller
from tests.support.client import TENANT
from tests.support.complaints import COMPLAINT, sh
from tests.support.outbox import envelopes

CALLER = Caller(tenant_id=TENANT, actor="key-agent", role="agent")


def create(runtime, **fields):
    with runtime.db.transaction() as s:
        return service.create_complaint(
            s, runtime.outbox, CALLER, {**COMPLAINT, **fields}, runtime.directory
        )


def act(runtime, complaint_id, action, at, **kw):
    with runtime.db.transaction() as s:
        complaint = service.get_complaint(s, CALLER, complaint_id)
        return lifecycle.apply_action(
            s, runtime.outbox, complaint, action, at=at, by="key-agent", department="product", **kw
        )


def sweep(runtime, at) -> int:
    with runtime.db.transaction() as s:
        return escalation.escalate_overdue(s, runtime.outbox, at)


def get(runtime, complaint_id):
    with runtime.db.read() as s:
        return service.get_complaint(s, CALLER, complaint_id)


def test_number_takes_the_month_received_in_the_tenant_zone(runtime):
    assert create(runtime, received_at=sh(9, 30, 16)).number == "CMP-202609-00001"
    # 2026-11-30 17:00 UTC is 01:00 on December 1st in Shanghai
    december = create(runtime, received_at=datetime(2026, 11, 30, 17, tzinfo=UTC))
    assert december.number == "CMP-202612-00001"
    assert create(runtime, received_at=sh(9, 1, 9)).number == "CMP-202609-00002"


def test_rolled_back_creation_leaves_no_gap(runtime):
    with pytest.raises(RuntimeError), runtime.db.transaction() as s:
        body = {**COMPLAINT, "received_at": sh(9, 2)}
        service.create_complaint(s, runtime.outbox, CALLER, body, runtime.directory)
        raise RuntimeError("the rest of the use case failed")
    assert create(runtime, received_at=sh(9, 2)).number == "CMP-202609-00001"


def test_deadlines_follow_the_tenant_calendar(runtime, cn_tenant):
    c = create(runtime, severity="major", received_at=sh(9, 30, 16))
    assert (c.first_response_by, c.plan_by, c.resolve_by) == (
        sh(10, 8, 11),
        sh(10, 9, 18),
        sh(10, 20, 18),
    )


def test_pause_over_the_national_day_moves_unmet_limits(runtime, cn_tenant):
    cid = create(runtime, severity="major", received_at=sh(9, 30, 16)).id
    act(runtime, cid, "acknowledge", sh(9, 30, 17))
    act(runtime, cid, "wait_customer", sh(9, 30, 17, 30))
    assert sweep(runtime, sh(10, 11, 12)) == 0  # the plan deadline passed while paused
    c = act(runtime, cid, "resume", sh(10, 12, 10))
    # waited 0.5 h + Oct 8, 9 and the make-up Saturday 10 (8 h each) + 1 h = 25.5 h
    assert c.paused_seconds == 25.5 * 3600
    assert c.status == "acknowledged"
    assert c.first_response_by == sh(10, 8, 11)  # met before the pause: unchanged
    assert c.plan_by == sh(10, 14, 10, 30)
    assert c.resolve_by == sh(10, 26, 10, 30)
    assert sweep(runtime, sh(10, 14, 10, 30)) == 0
    assert sweep(runtime, sh(10, 14, 11)) == 1
    assert sweep(runtime, sh(10, 14, 12)) == 0  # once
    act(runtime, cid, "investigate", sh(10, 14, 11, 10))
    act(runtime, cid, "propose", sh(10, 14, 11, 30))  # late, but escalated already
    [event] = envelopes(runtime, "ComplaintEscalated")
    assert event.data["limit"] == "plan"
    assert event.data["deadline"] == sh(10, 14, 10, 30).astimezone(UTC).isoformat()
    assert event.data["escalated_at"] == sh(10, 14, 11).astimezone(UTC).isoformat()


def test_limit_missed_before_a_pause_escalates_when_pausing(runtime, cn_tenant):
    cid = create(runtime, severity="major", received_at=sh(9, 30, 16)).id
    act(runtime, cid, "wait_customer", sh(10, 8, 12))  # first response was due at 11:00
    assert [e.data["limit"] for e in envelopes(runtime, "ComplaintEscalated")] == ["first_response"]
    c = get(runtime, cid)
    assert [e.action for e in c.ledger] == ["receive", "escalate", "wait_customer"]
    assert c.ledger[1].by == "system"


def test_sweep_escalates_each_missed_limit_once(runtime, cn_tenant):
    major = create(runtime, severity="major", received_at=sh(9, 30, 16)).id
    general = create(runtime, received_at=sh(9, 30, 16)).id
    assert sweep(runtime, sh(10, 8, 11)) == 0
    assert sweep(runtime, sh(10, 8, 11, 1)) == 1  # first response
    assert sweep(runtime, sh(10, 9, 18, 1)) == 1  # plan
    assert sweep(runtime, sh(10, 14, 9)) == 1  # the general one's resolve (Oct 13)
    assert sweep(runtime, sh(10, 21, 9)) == 1  # the major one's resolve (Oct 20)
    assert sweep(runtime, sh(12, 1, 9)) == 0
    escalated = [(e.subject, e.data["limit"]) for e in envelopes(runtime, "ComplaintEscalated")]
    assert escalated == [
        (major, "first_response"),
        (major, "plan"),
        (general, "resolve"),
        (major, "resolve"),
    ]


def test_reopened_round_gets_its_own_resolve_limit_and_escalation(runtime, cn_tenant):
    cid = create(runtime, received_at=sh(9, 30, 16)).id
    for action, at in [
        ("acknowledge", sh(9, 30, 17)),
        ("investigate", sh(10, 8, 9)),
        ("propose", sh(10, 8, 10)),
        ("implement", sh(10, 9, 10)),
    ]:
        act(runtime, cid, action, at)
    act(runtime, cid, "resolve", sh(10, 10, 10), resolution="replaced")
    assert sweep(runtime, sh(10, 30, 9)) == 0  # resolved in time: nothing missed
    c = act(runtime, cid, "reopen", sh(10, 12, 10), note="still leaking")
    assert (c.round, c.resolve_by) == (2, sh(10, 19, 18))
    assert sweep(runtime, sh(10, 19, 18, 1)) == 1
    assert sweep(runtime, sh(10, 20, 9)) == 0
    [reopened] = envelopes(runtime, "ComplaintReopened")
    assert reopened.data["why"] == "still leaking"
