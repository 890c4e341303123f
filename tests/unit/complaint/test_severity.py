"""RULES.md 3.4 through the API and the escalation sweep: a complaint touching several
departments is major from intake, and a missed time limit raises a general complaint to
major and reports it upward once. The clock is a FakeClock; the sweep runs at instants the
test chooses (as in test_clock.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from complaint_service import jobs
from tests.support.clock import FakeClock
from tests.support.complaints import sh
from tests.support.outbox import envelopes

WATCH = "/api/v1/complaints/watch"


@pytest.fixture
def clock():
    return FakeClock(sh(11, 2, 10))  # Monday 2 November 2026, 10:00 in Shanghai


def watch_reasons(client) -> dict[str, str]:
    r = client.get(WATCH)
    assert r.status_code == 200, r.json
    return {item["id"]: item["reason"] for item in r.json["items"]}


def past(clock: FakeClock, deadline: str, minutes: int = 1) -> None:
    """Move the clock ``minutes`` past ``deadline`` (an ISO instant)."""
    clock.advance(seconds=(datetime.fromisoformat(deadline) - clock()).total_seconds())
    clock.advance(minutes=minutes)


def test_several_departments_make_it_major_with_major_limits(client, runtime):
    body = client.create(assisting_departments=["logistics"])
    shown = client.get(f"/api/v1/complaints/{body['id']}").json
    for seen in (body, shown):
        assert (seen["severity"], seen["severity_given"]) == ("major", "general")
        assert seen["severity_reason"] == "several_departments"
        assert seen["reported_upward_reason"] == "several_departments"
        assert set(seen["deadlines"]) == {"first_response_by", "plan_by", "resolve_by"}
    [raised] = envelopes(runtime, "ComplaintRaised")
    assert raised.data["severity"] == "major"
    [upward] = envelopes(runtime, "ComplaintReportedUpward")
    assert (upward.data["severity"], upward.data["reason"]) == ("major", "several_departments")
    major = client.get("/api/v1/complaints?severity=major").json["items"]
    assert [c["id"] for c in major] == [body["id"]]


def test_a_given_major_touching_several_departments_keeps_its_reason(client, runtime):
    body = client.create(severity="major", assisting_departments=["logistics"])
    assert (body["severity"], body["severity_reason"]) == ("major", "given")
    assert body["reported_upward_reason"] == "major"
    assert len(envelopes(runtime, "ComplaintReportedUpward")) == 1


def test_one_department_twice_is_not_several(client, runtime):
    body = client.create(assisting_departments=["product"])
    assert (body["severity"], body["severity_reason"]) == ("general", "given")
    assert body["reported_upward_reason"] is None
    assert envelopes(runtime, "ComplaintReportedUpward") == []


def test_the_sweep_raises_a_missed_general_complaint_to_major_and_reports_it_once(
    client, runtime, clock
):
    body = client.create()
    assert (body["severity"], body["reported_upward_reason"]) == ("general", None)
    past(clock, body["deadlines"]["resolve_by"], minutes=0)  # due, not past due
    jobs.escalation_sweep(runtime)
    assert envelopes(runtime, "ComplaintEscalated") == []
    assert watch_reasons(client) == {}

    clock.advance(minutes=1)
    swept_at = clock()
    jobs.escalation_sweep(runtime)
    [escalated] = envelopes(runtime, "ComplaintEscalated")
    assert (escalated.data["limit"], escalated.data["severity"]) == ("resolve", "general")
    shown = client.get(f"/api/v1/complaints/{body['id']}").json
    assert (shown["severity"], shown["severity_given"]) == ("major", "general")
    assert shown["severity_reason"] == "escalated"
    assert shown["deadlines"] == body["deadlines"]  # the limits stay as they were
    assert shown["reported_upward_reason"] == "major"
    assert datetime.fromisoformat(shown["reported_upward_at"]) == swept_at
    [upward] = envelopes(runtime, "ComplaintReportedUpward")
    assert upward.subject == body["id"]
    assert (upward.data["severity"], upward.data["reason"]) == ("major", "major")
    assert datetime.fromisoformat(upward.data["reported_at"]) == swept_at
    assert watch_reasons(client) == {body["id"]: "major"}

    clock.advance(days=3)
    jobs.escalation_sweep(runtime)
    assert len(envelopes(runtime, "ComplaintEscalated")) == 1
    assert len(envelopes(runtime, "ComplaintReportedUpward")) == 1


def test_an_escalated_complaint_reported_upward_already_is_not_reported_again(
    client, runtime, clock
):
    body = client.create(assisting_departments=["logistics"])  # major, reported at intake
    past(clock, body["deadlines"]["first_response_by"])
    jobs.escalation_sweep(runtime)
    [escalated] = envelopes(runtime, "ComplaintEscalated")
    assert escalated.data["limit"] == "first_response"
    shown = client.get(f"/api/v1/complaints/{body['id']}").json
    assert (shown["severity"], shown["severity_reason"]) == ("major", "several_departments")
    assert shown["reported_upward_reason"] == "several_departments"
    assert len(envelopes(runtime, "ComplaintReportedUpward")) == 1


def test_a_step_after_the_missed_limit_raises_and_reports_it(client, runtime, clock):
    body = client.create()
    past(clock, body["deadlines"]["resolve_by"])
    r = client.act(body["id"], "acknowledge")  # no sweep ran: the step catches up
    assert r.status_code == 200, r.json
    assert (r.json["severity"], r.json["severity_reason"]) == ("major", "escalated")
    assert r.json["reported_upward_reason"] == "major"
    assert [e.type for e in envelopes(runtime)] == [
        "ComplaintRaised",
        "ComplaintEscalated",
        "ComplaintReportedUpward",
    ]
    jobs.escalation_sweep(runtime)
    assert len(envelopes(runtime, "ComplaintReportedUpward")) == 1
